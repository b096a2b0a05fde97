//! The learned judgement in the engine, over the sample corpus with the real encoder: messages
//! written for this test (in none of the training files) in several languages. Partisan requests
//! get the neutral refusal with no citation and no fact-check; procedural questions that mention
//! parties are answered; a question with a partisan one attached is answered and the partisan part
//! declined; a rumour nobody checked is said to be unchecked, with the reporting channel.

mod common;

use votecheck_engine::{ConversationContext, Intent, Interactive, Outcome};
use votecheck_outbound::{ButtonId, ConfirmedCommand};

use common::{ask, corpus_of, engine, engine_over, forwarded};

#[test]
fn the_engine_uses_the_bundled_judgement_with_its_encoder() {
    assert!(engine().judgement_model().is_some());
}

#[test]
fn partisan_requests_are_refused_without_citation_in_every_language_tried() {
    for question in [
        "honestly which party would be best for the economy this time",
        "¿cuál candidato a gobernador es más honesto?",
        "quem vc acha q vai ganhar pra presidente esse ano",
        "次の選挙でどの政党を応援すべきですか",
        "कौन सी पार्टी सबसे अच्छी है, किसे वोट दूं",
    ] {
        let answer = ask(question);
        assert_eq!(
            answer.outcome,
            Outcome::NeutralRefusal,
            "{question}: {}",
            answer.reply.text
        );
        assert!(answer.citations.is_empty() && answer.fact_check.is_none());
    }
}

/// The shortest questions a citizen sends ("where do I vote?") were greeted with the menu or
/// refused as partisan in most languages, since every longer training question had a place
/// or a detail in it; after training on short questions, some were still greeted or taken for
/// small talk at probabilities of 0.27 to 0.37, below even odds. These come from
/// `samples/eval/short-questions.jsonl`, which training never reads.
#[test]
fn short_questions_are_searched_not_greeted_or_refused() {
    for question in [
        "where do I vote?",
        "how do I vote?",
        "who can vote?",
        "do I need ID?",
        "¿dónde voto?",
        "¿quién puede votar?",
    ] {
        let answer = ask(question);
        assert_eq!(
            answer.outcome,
            Outcome::Answer,
            "{question}: {}",
            answer.reply.text
        );
        assert!(!answer.citations.is_empty(), "{question}");
    }
    for question in [
        "кто может голосовать?",
        "कौन वोट दे सकता है?",
        "أين أصوت؟",
        "can I vote?",
        "quem pode votar?",
        "comment voter ?",
        "谁可以投票？",
    ] {
        let answer = ask(question);
        assert_eq!(
            answer.intent,
            Intent::Question,
            "{question}: {:?} {}",
            answer.outcome,
            answer.reply.text
        );
    }
}

#[test]
fn procedural_questions_that_mention_parties_are_answered() {
    for question in [
        "im registered as a democrat but want to vote in the republican primary how do i switch",
        "can i wear my candidate's campaign t-shirt when i go to vote",
    ] {
        let answer = ask(question);
        assert_ne!(
            answer.outcome,
            Outcome::NeutralRefusal,
            "{question}: {}",
            answer.reply.text
        );
        assert!(!answer.declined_partisan, "{question}");
    }
}

#[test]
fn a_procedural_question_with_a_partisan_one_attached_gets_both_parts_handled() {
    let answer = ask(
        "where do i drop off my mail ballot in riverside county, and which candidate for sheriff is better?",
    );
    assert_eq!(answer.outcome, Outcome::Answer, "{}", answer.reply.text);
    assert!(answer.declined_partisan);
    let declined = engine()
        .catalogue()
        .message("en", "partisan_part_declined")
        .to_string();
    assert!(
        answer.reply.text.starts_with(&declined),
        "{}",
        answer.reply.text
    );
    assert_eq!(answer.citations[0].source, "en/vote-by-mail.md");
}

#[test]
fn an_unchecked_forwarded_rumour_is_said_to_be_unchecked_with_the_report_channel() {
    let context = forwarded();
    let answer = engine().answer(
        "URGENT share with everyone!!! ballot boxes in the north of the county will be painted green and votes in them wont count 😱😱",
        &context,
    );
    assert_eq!(answer.outcome, Outcome::NoAnswer, "{}", answer.reply.text);
    let unchecked = engine()
        .catalogue()
        .message("en", "rumour_unchecked")
        .to_string();
    assert!(
        answer.reply.text.starts_with(&unchecked),
        "{}",
        answer.reply.text
    );
    assert!(
        answer.reply.text.contains("+1 555-0199"),
        "offers the reporting channel: {}",
        answer.reply.text
    );
}

#[test]
fn a_mixed_message_is_answered_as_its_procedural_question_alone_would_be() {
    // The partisan question first or last, with a long partisan part or trailing words of it.
    for (mixed, procedural) in [
        (
            "which party is better for working people? and what do i need to bring to vote",
            "what do i need to bring to vote",
        ),
        (
            "when does early voting start? also honestly who do you think is the better candidate for mayor, the incumbent or the challenger, tell me straight",
            "when does early voting start?",
        ),
        (
            "¿qué partido es mejor para la economía? y otra cosa, ¿qué identificación necesito para votar?",
            "¿qué identificación necesito para votar?",
        ),
    ] {
        let answer = ask(mixed);
        let alone = ask(procedural);
        assert_eq!(
            answer.outcome,
            Outcome::Answer,
            "{mixed}: {}",
            answer.reply.text
        );
        assert!(answer.declined_partisan, "{mixed}");
        assert!(!alone.declined_partisan, "{procedural}");
        // The passage quoted is the one the procedural question gets alone.
        assert_eq!(
            answer.citations[0].source, alone.citations[0].source,
            "{mixed}"
        );
    }
}

#[test]
fn a_stop_or_delete_request_in_own_words_is_offered_with_buttons_and_not_acted_on() {
    for question in [
        "i never signed up for this, leave me alone",
        "nunca pedi pra receber isso, me deixa em paz",
        "もうこういうの送らなくていいです、いりません",
        "ya estuvo, no quiero saber nada de ustedes, bórrenme",
    ] {
        assert!(
            engine()
                .answer_command(question, &ConversationContext::default())
                .is_none(),
            "{question}: a command phrase matched; this test is about words no phrase has"
        );
        let answer = ask(question);
        assert_eq!(
            answer.outcome,
            Outcome::CommandOffer,
            "{question}: {}",
            answer.reply.text
        );
        assert!(answer.citations.is_empty() && answer.fact_check.is_none());
        let Some(Interactive::Buttons { buttons }) = &answer.reply.interactive else {
            panic!("{question}: no buttons");
        };
        let confirms: Vec<ButtonId> = buttons.iter().map(|b| ButtonId::parse(&b.id)).collect();
        assert_eq!(
            confirms,
            [
                ButtonId::Confirm(ConfirmedCommand::Stop),
                ButtonId::Confirm(ConfirmedCommand::Delete)
            ],
            "{question}"
        );
    }
}

/// Asserts that a message gets the official reporting line, with no citation and no fact-check.
fn assert_gets_the_reporting_line(question: &str) {
    let answer = ask(question);
    assert_eq!(
        answer.outcome,
        Outcome::ReportProblem,
        "{question}: {}",
        answer.reply.text
    );
    assert!(answer.citations.is_empty() && answer.fact_check.is_none());
}

#[test]
fn a_problem_at_the_polls_told_in_own_words_gets_the_official_line() {
    let phrases = votecheck_engine::intent::IntentClassifier::load().unwrap();
    for (question, language) in [
        (
            "we've been standing outside the school since 7 and they still haven't opened the doors, a lady said the machines don't work",
            "en",
        ),
        (
            "the poll worker at table 3 keeps telling old people which box to tick, is that allowed??",
            "en",
        ),
        (
            "cheguei na minha seção 8h e tá tudo trancado, ninguém sabe de nada, e agora?",
            "pt",
        ),
    ] {
        assert!(
            phrases.classify(question, language).is_none(),
            "{question}: a phrase matched; this test is about words no phrase has"
        );
        assert_gets_the_reporting_line(question);
    }
}

#[test]
fn a_problem_report_that_tells_whom_voters_were_told_to_vote_for_gets_the_official_line() {
    let phrases = votecheck_engine::intent::IntentClassifier::load().unwrap();
    for (question, language) in [
        (
            "a poll worker is telling old people who to vote for, pointing at the ballot",
            "en",
        ),
        (
            "someone outside the polling place is handing out flyers saying who to vote for",
            "en",
        ),
        (
            "un señor en la fila les dice a todos por quién votar, ¿a quién aviso?",
            "es",
        ),
    ] {
        assert_eq!(
            phrases
                .classify(question, language)
                .map(|found| found.intent),
            Some(votecheck_engine::Intent::Partisan),
            "{question}: this test is about a report with a partisan phrase in it"
        );
        assert_gets_the_reporting_line(question);
    }
}

#[test]
fn a_long_message_is_never_offered_the_stop_or_delete_buttons() {
    let long = "i never signed up for this, leave me alone. ".repeat(6);
    assert!(long.chars().count() > votecheck_engine::judgement::SHORT_MESSAGE_MAX_CHARS);
    let answer = ask(long.trim());
    assert_ne!(
        answer.outcome,
        Outcome::CommandOffer,
        "{}",
        answer.reply.text
    );
}

#[test]
fn questions_about_cancelling_removing_or_problems_are_not_taken_for_actions() {
    for question in [
        "how do i stop getting mail ballots for my son who moved out",
        "can i cancel my mail ballot request",
        "what can i do if my name is not on the list on election day",
    ] {
        let answer = ask(question);
        assert!(
            !matches!(
                answer.outcome,
                Outcome::CommandOffer | Outcome::ReportProblem
            ),
            "{question}: {:?} {}",
            answer.outcome,
            answer.reply.text
        );
    }
}

#[test]
fn a_confirmed_command_is_answered_like_the_command_in_words() {
    let context = ConversationContext {
        previous_language: Some("es".into()),
        ..ConversationContext::default()
    };
    for (command, typed) in [
        (ConfirmedCommand::Stop, "STOP"),
        (ConfirmedCommand::Delete, "borrar mis datos"),
    ] {
        let confirmed = engine().confirmed_command(command, "es");
        let in_words = engine().answer_command(typed, &context).unwrap();
        assert_eq!(confirmed.outcome, Outcome::OptOut);
        assert_eq!(confirmed.intent, in_words.intent, "{typed}");
        assert_eq!(confirmed.reply.text, in_words.reply.text, "{typed}");
    }
}

/// A fact-checker's explainer on how voting works, in Portuguese (written for this test).
const PORTUGUESE_EXPLAINER: &str = r#"{
  "@context": "https://schema.org",
  "@type": "ClaimReview",
  "claimReviewed": "Eleição: veja como votar e o que é proibido na cabine de votação",
  "reviewRating": {"@type": "Rating", "alternateName": "Falso"},
  "url": "https://checagem.example/como-votar",
  "datePublished": "2026-10-01",
  "author": {"@type": "Organization", "name": "Checagem Exemplo"},
  "inLanguage": "pt",
  "reviewBody": "Mensagens dizem que quem levar o celular para a cabine de votação tem o voto anulado. É falso. Para votar, o eleitor vai à sua seção com um documento com foto, confirma o voto na urna e pode guardar o celular com o mesário."
}"#;

/// A fact-check in another language than the message is found by the encoder alone, with no
/// keyword in common: enough for a rumour, not for a question the judgement found no claim in.
/// ("¿cómo voto?" was told "Verdict: False" with a Portuguese explainer on voting.)
#[test]
fn a_question_is_not_given_a_fact_check_in_another_language() {
    let corpus = corpus_of(&[
        (
            "es/votar.md",
            "+++\nlanguage = \"es\"\n+++\n# Votar\n\n## Registro de votantes\n\nPara registrarse llene la solicitud en la oficina electoral del condado antes de la fecha límite.\n",
        ),
        ("fact-checks/como-votar.json", PORTUGUESE_EXPLAINER),
    ]);
    let (_index, engine) = engine_over(corpus.path());
    for question in ["¿cómo voto?", "¿cómo se vota?"] {
        let answer = engine.answer(question, &ConversationContext::default());
        assert_eq!(answer.language, "es", "{question}");
        assert!(
            answer.fact_check.is_none(),
            "{question}: {}",
            answer.reply.text
        );
    }
    // The same fact-check still reaches a Spanish rumour about it.
    let rumour = engine.answer(
        "Reenviado: si llevas el celular a la cabina de votación te anulan el voto!! compartan",
        &forwarded(),
    );
    assert_eq!(rumour.outcome, Outcome::FactCheck, "{}", rumour.reply.text);
}

/// A fact-check in another language was ranked by its similarity alone, while one in the
/// message's language also got a share for its BM25 score: the sample corpus checks voting by
/// text message in English only, and a Spanish rumour about it ("Riverside", "WhatsApp" in
/// common) was given the Spanish check about petitions, less similar but first by BM25.
#[test]
fn a_rumour_gets_its_fact_check_in_another_language_over_a_nearer_worded_one() {
    let answer = ask(
        "me dijeron que en Riverside se puede votar mandando un WhatsApp con el nombre del \
         candidato, es cierto?",
    );
    assert_eq!(answer.outcome, Outcome::FactCheck, "{}", answer.reply.text);
    let fact_check = answer.fact_check.expect("a fact-check");
    assert_eq!(fact_check.source, "fact-checks/text-message-voting.json");
    assert_eq!(answer.language, "es");
}
