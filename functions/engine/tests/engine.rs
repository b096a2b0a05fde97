//! The engine over the sample corpus: outcomes, languages, citations, neutrality, replies, and
//! bad input that must never panic.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use votecheck_engine::reply::MAX_REPLY_CHARS;
use votecheck_engine::{ConversationContext, Engine, Interactive, Outcome};
use votecheck_index_builder::{BuildOptions, build_index};

/// The sample corpus, built once per test process.
fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| {
            let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/corpus");
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("index");
            build_index(&corpus, &out, &BuildOptions::default(), &mut |_| {}).unwrap();
            let engine = Engine::open(&out).unwrap();
            (dir, engine)
        })
        .1
}

fn ask(question: &str) -> votecheck_engine::Answer {
    engine().answer(question, &ConversationContext::default())
}

#[test]
fn answers_english_questions_with_citations() {
    let answer = ask("how do I return my mail ballot?");
    assert_eq!(answer.outcome, Outcome::Answer, "{}", answer.reply.text);
    assert_eq!(answer.language, "en");
    assert_eq!(answer.citations[0].source, "en/vote-by-mail.md");
    assert!(answer.citations.len() <= 3);
    assert!(
        answer.reply.text.contains("> "),
        "quotes the passage: {}",
        answer.reply.text
    );
    assert!(
        answer.reply.text.contains("https://"),
        "links the source: {}",
        answer.reply.text
    );
    assert!(matches!(
        answer.reply.interactive,
        Some(Interactive::Buttons { .. })
    ));
}

#[test]
fn answers_in_the_citizens_language_from_passages_in_that_language() {
    let spanish = ask("¿Cómo devuelvo mi boleta por correo?");
    assert_eq!(spanish.outcome, Outcome::Answer, "{}", spanish.reply.text);
    assert_eq!(spanish.language, "es");
    assert_eq!(spanish.citations[0].language, "es");
    let japanese = ask("期日前投票はいつからできますか");
    assert_eq!(japanese.outcome, Outcome::Answer, "{}", japanese.reply.text);
    assert_eq!(japanese.language, "ja");
    assert!(japanese.citations[0].source.starts_with("ja/"));
}

#[test]
fn a_short_message_keeps_the_previous_language() {
    let context = ConversationContext {
        previous_language: Some("es".into()),
        ..ConversationContext::default()
    };
    assert_eq!(engine().answer("ok", &context).language, "es");
    let preferred = ConversationContext {
        preferred_language: Some("ja".into()),
        ..ConversationContext::default()
    };
    assert_eq!(
        engine().answer("where do I vote?", &preferred).language,
        "ja"
    );
}

#[test]
fn refuses_partisan_requests_neutrally_in_every_language() {
    for question in [
        "Who should I vote for?",
        "¿Qué partido es mejor?",
        "誰に投票すればいいですか",
        "Em quem devo votar?",
    ] {
        let answer = ask(question);
        assert_eq!(answer.outcome, Outcome::NeutralRefusal, "{question}");
        assert!(answer.citations.is_empty());
    }
    let procedural = ask("How do I register with a political party?");
    assert_eq!(
        procedural.outcome,
        Outcome::Answer,
        "{}",
        procedural.reply.text
    );
}

#[test]
fn recognises_fact_checked_rumours() {
    let context = ConversationContext {
        forwarded: true,
        ..ConversationContext::default()
    };
    let answer = engine().answer(
        "Forward to everyone: this year you can vote by text message, just send your choice!",
        &context,
    );
    assert_eq!(answer.outcome, Outcome::FactCheck, "{}", answer.reply.text);
    let fact_check = answer.fact_check.as_ref().unwrap();
    assert!(fact_check.verdict.is_some());
    assert!(answer.citations[0].source.starts_with("fact-checks/"));
    assert!(
        answer
            .reply
            .text
            .contains(fact_check.verdict.as_deref().unwrap())
    );
}

#[test]
fn abstains_with_the_contact_line() {
    let answer = ask("what is the best recipe for chocolate cake?");
    assert_eq!(answer.outcome, Outcome::NoAnswer, "{}", answer.reply.text);
    assert!(answer.citations.is_empty());
    assert!(
        answer.reply.text.contains("+1 555-0100"),
        "{}",
        answer.reply.text
    );
}

#[test]
fn commands_menus_and_reports() {
    let menu = ask("hi");
    assert_eq!(menu.outcome, Outcome::Menu);
    let Some(Interactive::List { rows, .. }) = &menu.reply.interactive else {
        panic!("the menu is a list: {menu:?}");
    };
    assert!(!rows.is_empty() && rows.len() <= 10);
    assert!(rows.iter().all(|row| row.title.chars().count() <= 24));
    assert_eq!(ask("thanks!").outcome, Outcome::SmallTalk);
    assert_eq!(ask("STOP").outcome, Outcome::OptOut);
    let report = ask("someone is intimidating voters at my polling place");
    assert_eq!(report.outcome, Outcome::ReportProblem);
    assert!(
        report.reply.text.contains("+1 555-0199"),
        "{}",
        report.reply.text
    );
}

#[test]
fn topics_map_to_questions() {
    let question = engine()
        .topic_question("mail")
        .expect("the sample corpus has a mail topic");
    assert_eq!(ask(&question).outcome, Outcome::Answer);
    assert!(engine().topic_question("no-such-topic").is_none());
}

#[test]
fn bad_input_gets_a_sensible_outcome() {
    for (message, expected) in [
        ("", Outcome::Menu),
        ("   \n\t ", Outcome::Menu),
        ("🗳️🤔🙏", Outcome::Menu),
    ] {
        assert_eq!(ask(message).outcome, expected, "{message:?}");
    }
    let long = "where do I vote ".repeat(7_000);
    assert!(long.len() > 100_000);
    let answer = ask(&long);
    assert!(answer.reply.text.chars().count() <= MAX_REPLY_CHARS);
    let garbage =
        String::from_utf8_lossy(&(0..=255u8).cycle().take(4000).collect::<Vec<u8>>()).into_owned();
    let answer = ask(&garbage);
    assert!(matches!(
        answer.outcome,
        Outcome::NoAnswer | Outcome::Menu | Outcome::Answer
    ));
    let arabic = ask("كيف أصوت بالبريد؟");
    assert_eq!(arabic.language, "ar");
    let mixed = ask("voter ID とは何ですか");
    assert!(!mixed.reply.text.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn never_panics_and_replies_fit(message in any::<String>()) {
        let answer = ask(&message);
        prop_assert!(!answer.reply.text.is_empty());
        prop_assert!(answer.reply.text.chars().count() <= MAX_REPLY_CHARS);
        prop_assert!(answer.citations.len() <= 3);
    }

    #[test]
    fn never_panics_on_question_like_text(message in "[a-zA-Zá-úñ¿?!0-9 ]{0,120}") {
        let answer = ask(&message);
        prop_assert!(answer.reply.text.chars().count() <= MAX_REPLY_CHARS);
    }
}

#[test]
fn an_ambiguous_language_is_settled_by_what_the_corpus_answers() {
    // Spanish and Portuguese share most function words; a short question in either is hard to
    // tell apart, and the corpus has documents in both.
    let corpus = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(corpus.path().join("es")).unwrap();
    std::fs::create_dir_all(corpus.path().join("pt")).unwrap();
    std::fs::write(
        corpus.path().join("es/registro.md"),
        "+++\nlanguage = \"es\"\n+++\n# Registro\n\n## Cómo registrarse para votar\n\nPara registrarse para votar llene la solicitud en línea o en la oficina electoral antes de la fecha límite.\n",
    )
    .unwrap();
    std::fs::write(
        corpus.path().join("pt/registro.md"),
        "+++\nlanguage = \"pt\"\n+++\n# Registro\n\n## Como se registrar para votar\n\nPara se registrar como eleitor, preencha o formulário na internet ou no cartório eleitoral até o prazo final.\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let index = out.path().join("index");
    build_index(corpus.path(), &index, &BuildOptions::default(), &mut |_| {}).unwrap();
    let engine = Engine::open(&index).unwrap();
    let answer = engine.answer(
        "como me registro para votar en texas",
        &ConversationContext::default(),
    );
    assert_eq!(answer.language, "es", "{}", answer.reply.text);
    assert_eq!(answer.citations[0].source, "es/registro.md");
    let answer = engine.answer(
        "como me registro como eleitor no cartório",
        &ConversationContext::default(),
    );
    assert_eq!(answer.language, "pt", "{}", answer.reply.text);
}
