//! The engine over the sample corpus: outcomes, languages, citations, neutrality, replies, and
//! bad input that must never panic.

mod common;

use proptest::prelude::*;
use votecheck_engine::reply::MAX_REPLY_CHARS;
use votecheck_engine::{ConversationContext, Engine, Interactive, Outcome};

use common::{ask, corpus_of, engine, engine_over, forwarded, sample_corpus};

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
    // The detector is fully confident this is French; its English function words say otherwise.
    let english = ask(
        "connecticut same day registration - can i just do it at my normal polling place on \
         election day? what hours",
    );
    assert_eq!(english.language, "en", "{}", english.reply.text);
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
    let context = forwarded();
    let answer = engine().answer(
        "Forward to everyone: Riverside County voters can now vote by text message or WhatsApp, just reply with your candidate's name!",
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
fn a_forwarded_rumour_that_names_a_problem_gets_its_fact_check_first() {
    let forwarded_context = forwarded();
    // "voter suppression" is a problem-report phrase; the claim is a checked rumour.
    let rumour = engine().answer(
        "VOTER SUPPRESSION ALERT!! mail ballots are only counted if the race is close, the rest go in the trash. forward to everyone",
        &forwarded_context,
    );
    assert_eq!(rumour.outcome, Outcome::FactCheck, "{}", rumour.reply.text);
    assert_eq!(
        rumour.fact_check.as_ref().unwrap().claim,
        "Mail ballots are only counted if the race is close."
    );
    // A forwarded report that no fact-check addresses still gets the reporting line.
    let report = engine().answer(
        "they turned me away at the lincoln school polling place and the machine is broken, pass it on",
        &forwarded_context,
    );
    assert_eq!(
        report.outcome,
        Outcome::ReportProblem,
        "{}",
        report.reply.text
    );
    assert!(report.reply.text.contains("+1 555-0199"));
    // So does the citizen who types that they want to report: the line first (with the passage
    // on reporting when one answers, see the next test).
    let typed = ask("I want to report voter suppression at my polling place");
    assert!(
        typed
            .reply
            .text
            .starts_with("To report a problem with voting"),
        "{}",
        typed.reply.text
    );
    assert!(typed.reply.text.contains("+1 555-0199"));
}

#[test]
fn a_question_about_reporting_gets_the_line_and_the_passage_that_answers_it() {
    // "threaten" is a problem-report phrase; the message asks what the rules are.
    let answer = ask(
        "what counts as voter intimidation, and what am I supposed to do if someone threatens me while I vote?",
    );
    assert_eq!(answer.outcome, Outcome::Answer, "{}", answer.reply.text);
    assert_eq!(answer.citations[0].source, "en/report-a-problem.md");
    let text = &answer.reply.text;
    let line = text.find("+1 555-0199").expect("the reporting line");
    let quote = text.find("Nobody may threaten").expect("the passage");
    assert!(line < quote, "the line comes first: {text}");
    // A report of a problem happening now still gets the line alone.
    let report = ask("someone is threatening voters outside my polling place right now");
    assert_eq!(
        report.outcome,
        Outcome::ReportProblem,
        "{}",
        report.reply.text
    );
    assert!(report.citations.is_empty());
}

#[test]
fn a_command_is_answered_in_the_citizens_language_first() {
    use votecheck_engine::Intent;
    let context = |previous: Option<&str>| ConversationContext {
        previous_language: previous.map(str::to_string),
        ..ConversationContext::default()
    };
    // "delete my data" is listed in English and in Tagalog: a first message gets the
    // deployment's default language (English here), a Tagalog conversation stays in Tagalog.
    for message in ["delete my data", "Delete my data", "erase my data"] {
        let answer = engine().answer(message, &context(None));
        assert_eq!(answer.intent, Intent::DeleteMyData, "{message}");
        assert_eq!(answer.language, "en", "{message}: {}", answer.reply.text);
        let command = engine().answer_command(message, &context(None)).unwrap();
        assert_eq!(command.language, "en", "{message}");
    }
    assert_eq!(
        engine()
            .answer("delete my data", &context(Some("tl")))
            .language,
        "tl"
    );
    // A phrase only Spanish lists, from a citizen whose conversation is in Spanish.
    assert_eq!(
        engine()
            .answer("borrar mis datos", &context(Some("es")))
            .language,
        "es"
    );
    // A question is not a command.
    assert!(
        engine()
            .answer_command("how do I vote by mail?", &context(None))
            .is_none()
    );
    assert_eq!(
        engine()
            .answer_command("STOP", &context(None))
            .map(|answer| answer.intent),
        Some(Intent::OptOut)
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
    assert!(
        matches!(
            answer.outcome,
            Outcome::NoAnswer | Outcome::Menu | Outcome::Answer
        ),
        "{:?}",
        answer.outcome
    );
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
    let corpus = corpus_of(&[
        (
            "es/registro.md",
            "+++\nlanguage = \"es\"\n+++\n# Registro\n\n## Cómo registrarse para votar\n\nPara registrarse para votar llene la solicitud en línea o en la oficina electoral antes de la fecha límite.\n",
        ),
        (
            "pt/registro.md",
            "+++\nlanguage = \"pt\"\n+++\n# Registro\n\n## Como se registrar para votar\n\nPara se registrar como eleitor, preencha o formulário na internet ou no cartório eleitoral até o prazo final.\n",
        ),
    ]);
    let (_index, engine) = engine_over(corpus.path());
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

#[test]
fn a_tie_in_function_words_goes_to_the_deployments_language() {
    // Tagalog's function words include the English ones Filipinos borrow ("i", "my"), so
    // "I lost my mail ballot" was a tie the detector settled, unsurely, for Tagalog (they are
    // now declared borrowed and cast no vote for Tagalog).
    assert_answered_in("I lost my mail ballot", "en");
    assert_answered_in(
        "nawala ko yung mail ballot ko, paano ako kukuha ng bago?",
        "tl",
    );
}

#[test]
fn the_corpus_does_not_overrule_the_deployments_language_without_evidence() {
    // "can I vote?" has only English function words, which Tagalog borrows; a Tagalog page
    // with the loanword "vote" covered it better than an English page that says "cast a
    // ballot", and the citizen was answered in Tagalog in an English deployment.
    let corpus = corpus_of(&[
        (
            "en/vote.md",
            "+++\nlanguage = \"en\"\n+++\n# Elections\n\n## Who is eligible\n\nCitizens who are \
             18 years old by Election Day and registered in their state may cast a ballot.\n",
        ),
        (
            "tl/vote.md",
            "+++\nlanguage = \"tl\"\n+++\n# Pagboto\n\n## Sino ang maaaring mag-vote\n\nMaaari \
             kang mag-vote kung ikaw ay mamamayan, 18 taong gulang sa araw ng halalan, at \
             nakarehistro sa iyong estado.\n",
        ),
    ]);
    let (_index, engine) = engine_over(corpus.path());
    for question in ["can I vote?", "how to vote"] {
        let answer = engine.answer(question, &ConversationContext::default());
        assert_eq!(answer.language, "en", "{question}: {}", answer.reply.text);
    }
    // A Tagalog function word the deployment's language lacks is evidence: the corpus decides.
    let answer = engine.answer("can i vote sa estado ko?", &ConversationContext::default());
    assert_eq!(answer.language, "tl", "{}", answer.reply.text);
}

/// Asks the sample corpus `question` as a first message and checks the reply's language.
fn assert_answered_in(question: &str, language: &str) {
    let answer = ask(question);
    assert_eq!(
        answer.language, language,
        "{question}: {}",
        answer.reply.text
    );
}

#[test]
fn a_message_of_shared_function_words_is_no_evidence_of_its_language() {
    // "no" is a function word of Spanish and Portuguese alike: a first message of nothing else
    // got the Portuguese menu in an English deployment; now the deployment's language answers
    // it, and a conversation's language keeps it.
    assert_answered_in("no", "en");
    let spanish = ConversationContext {
        previous_language: Some("es".into()),
        ..ConversationContext::default()
    };
    assert_eq!(engine().answer("no", &spanish).language, "es");
    // A Spanish negation is Spanish: "no puedo votar" was a tie the detector gave Portuguese.
    assert_answered_in("no puedo votar", "es");
}

#[test]
fn a_romanised_question_keeps_its_language() {
    // Hindi and Bengali (and Russian, less often) are typed in Latin letters. Their passages, in
    // their own script, cannot cover such a question, so the corpus must not hand it to a
    // language written in Latin letters whose passages share its English loanwords.
    let corpus = corpus_of(&[
        (
            "hi/register.md",
            "+++\nlanguage = \"hi\"\n+++\n# पंजीकरण\n\n## अंतिम तिथि\n\nडाक से पंजीकरण का फ़ॉर्म चुनाव से पहले भेजें।\n",
        ),
        (
            "bn/register.md",
            "+++\nlanguage = \"bn\"\n+++\n# নিবন্ধন\n\n## শেষ তারিখ\n\nডাকে নিবন্ধন ফর্ম নির্বাচনের আগে পাঠান।\n",
        ),
        (
            "fr/register.md",
            "+++\nlanguage = \"fr\"\n+++\n# Registration\n\n## Date limite\n\nLa last date pour la registration par mail est fixée par chaque État.\n",
        ),
        (
            "ru/register.md",
            "+++\nlanguage = \"ru\"\n+++\n# Регистрация\n\n## Последний день\n\nФорму регистрации по почте отправьте до выборов.\n",
        ),
        (
            "pt/register.md",
            "+++\nlanguage = \"pt\"\n+++\n# Registration\n\n## Prazo\n\nO formulário de register por mail e online deve chegar antes do prazo.\n",
        ),
    ]);
    let (_index, engine) = engine_over(corpus.path());
    for (question, language) in [
        (
            "virginia me regester karne ki last date? mail se bhejunga",
            "hi",
        ),
        (
            "ami michigan e thaki, online e vote er jonno register kora jay? kivabe korbo",
            "bn",
        ),
        (
            "2024 me texas me kitne percent logon ne vote diya tha",
            "hi",
        ),
        (
            "nuzhno li brat s soboi kartochku izbiratelya na uchastok?",
            "ru",
        ),
    ] {
        let answer = engine.answer(question, &ConversationContext::default());
        assert_eq!(
            answer.language, language,
            "{question}: {}",
            answer.reply.text
        );
    }
}

#[test]
fn a_romanised_question_finds_its_passage_through_the_lexicon() {
    // Passages in Devanagari or Bengali script share no word with a question typed in Latin
    // letters; the lexicon's romanised forms and loanwords ("last date", "mail", "form") are
    // what let such a question cover the passage that answers it.
    let corpus = corpus_of(&[
        (
            "hi/register.md",
            "+++\nlanguage = \"hi\"\njurisdiction = \"Ohio\"\n+++\n# Ohio में पंजीकरण\n\n\
             ## पंजीकरण की अंतिम तिथि\n\nडाक द्वारा पंजीकरण का फ़ॉर्म मतदान दिवस से 30 दिन \
             पहले पोस्टमार्क होना चाहिए।\n\n## मतदान केंद्र\n\nअपना मतदान केंद्र राज्य की \
             वेबसाइट पर खोजें।\n",
        ),
        (
            "bn/register.md",
            "+++\nlanguage = \"bn\"\njurisdiction = \"Ohio\"\n+++\n# Ohio এ নিবন্ধন\n\n\
             ## নিবন্ধনের শেষ তারিখ\n\nডাকযোগে নিবন্ধন ফর্ম নির্বাচনের ৩০ দিন আগে পোস্টমার্ক \
             করা আবশ্যক।\n\n## ভোটকেন্দ্র\n\nআপনার ভোটকেন্দ্র রাজ্যের ওয়েবসাইটে খুঁজুন।\n",
        ),
    ]);
    let (_index, engine) = engine_over(corpus.path());
    assert_answered_first_from(
        &engine,
        "ohio me mail se registration form ki last date kya hai",
        "hi",
        "अंतिम तिथि",
    );
    assert_answered_first_from(
        &engine,
        "amar ohio te registration korte hobe, mail e form pathale last date kobe?",
        "bn",
        "শেষ তারিখ",
    );
}

/// The question is answered in `language`, first from a section whose heading contains `section`.
fn assert_answered_first_from(
    engine: &votecheck_engine::Engine,
    question: &str,
    language: &str,
    section: &str,
) {
    let answer = engine.answer(question, &ConversationContext::default());
    assert_eq!(answer.language, language, "{question}");
    assert_eq!(
        answer.outcome,
        Outcome::Answer,
        "{question}: {}",
        answer.reply.text
    );
    let first = answer
        .citations
        .first()
        .map(|citation| citation.section.as_str());
    assert!(
        first.is_some_and(|heading| heading.contains(section)),
        "{question}: {first:?}"
    );
}

#[test]
fn spoken_arabic_finds_the_passage_written_in_standard_arabic() {
    // Citizens write Arabic as they speak it ("اقدر اسجل عالنت ولا لازم بنفسي؟"); the documents
    // are in Modern Standard Arabic ("التسجيل عبر الإنترنت", "التسجيل الشخصي"). The lexicon's
    // spoken forms and function words are what let the question cover its passage.
    let corpus = corpus_of(&[(
        "ar/register.md",
        "+++\nlanguage = \"ar\"\njurisdiction = \"Ohio\"\n+++\n# التسجيل للتصويت في Ohio\n\n\
         ## كيفية التسجيل للتصويت\n\nيمكنك التسجيل عبر الإنترنت أو عن طريق البريد أو \
         التسجيل الشخصي في مكتب الانتخابات.\n\n## مكان الاقتراع\n\nابحث عن مركز الاقتراع \
         الخاص بك على موقع الولاية.\n",
    )]);
    let (_index, engine) = engine_over(corpus.path());
    assert_answered_first_from(
        &engine,
        "في اوهايو بقدر اسجل عالنت ولا لازم بنفسي؟",
        "ar",
        "كيفية التسجيل",
    );
}

#[test]
fn keywords_decide_for_writing_the_encoder_reads_poorly() {
    // Vietnamese typed without its marks scores low on the encoder against every passage; the
    // keywords, folded, still find the passage, and then decide alone.
    let corpus = corpus_of(&[(
        "vi/register.md",
        "+++\nlanguage = \"vi\"\njurisdiction = \"Georgia\"\n+++\n# Đăng ký cử tri ở Georgia\n\n\
         ## Kiểm tra đăng ký cử tri\n\nKiểm tra xem mình đã đăng ký cử tri chưa ở đâu? Trên \
         trang web của tiểu bang Georgia.\n\n## Hạn chót đăng ký\n\nHạn chót đăng ký \
         là 29 ngày trước ngày bầu cử.\n",
    )]);
    let (_index, engine) = engine_over(corpus.path());
    for question in [
        "o georgia kiem tra minh da dang ky cu tri chua o dau",
        "georgia han chot dang ky la bao nhieu ngay truoc ngay bau cu",
    ] {
        let answer = engine.answer(question, &ConversationContext::default());
        assert_eq!(answer.language, "vi", "{question}");
        assert_eq!(
            answer.outcome,
            Outcome::Answer,
            "{question}: {}",
            answer.reply.text
        );
    }
}

#[test]
fn a_place_named_in_passing_does_not_hide_the_passages_of_the_citizens_language() {
    // The Japanese documents are Japan's; the question names America only as a comparison.
    let corpus = corpus_of(&[
        (
            "ja/touhyou.md",
            "+++\nlanguage = \"ja\"\njurisdiction = \"日本\"\n+++\n# 投票の手引き\n\n## 期日前投票\n\n選挙の当日に用事がある人は、公示日の翌日から選挙期日の前日まで、期日前投票所で投票できます。\n\n## 代理投票\n\n自分で字を書けない人は、投票所の係員に代わりに書いてもらえます。\n",
        ),
        (
            "en/guide.md",
            "+++\nlanguage = \"en\"\njurisdiction = \"United States\"\n+++\n# Guide\n\n## Registering\n\nRegister to vote before your state's deadline.\n",
        ),
    ]);
    let (_index, engine) = engine_over(corpus.path());
    let (_, trace) = engine.answer_with_trace(
        "アメリカみたいに選挙の日より前に投票できるの？",
        &ConversationContext::default(),
    );
    let best = trace
        .passages
        .first()
        .expect("the Japanese passages are searched");
    assert_eq!(best.source, "ja/touhyou.md", "{:?}", trace.passages);
    assert!(best.section.contains("期日前投票"), "{best:?}");
}

#[test]
fn every_candidate_is_weighed_not_only_the_best_few_by_bm25() {
    // Headings phrased like the question ("Do I have to vote in every race on the ballot?")
    // come first by BM25; the passage about returning a mail ballot, which has "stamp" and
    // "envelope", comes ninth, and only weighing every candidate's coverage finds it.
    let answer = ask("do i have to put a stamp on my ballot envelope??");
    assert_eq!(answer.outcome, Outcome::Answer, "{}", answer.reply.text);
    assert_eq!(answer.citations[0].source, "en/vote-by-mail.md");
    assert!(
        answer.citations[0]
            .section
            .contains("Returning your ballot"),
        "{}",
        answer.citations[0].section
    );
}

/// A corpus of a national guide (the United States) and a page for each of 21 states.
fn national_guide_and_state_pages() -> tempfile::TempDir {
    let corpus = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(corpus.path().join("states")).unwrap();
    std::fs::write(
        corpus.path().join("guide.md"),
        "+++\nlanguage = \"en\"\njurisdiction = \"United States\"\n+++\n# Before Election Day\n\n\
         ## Is your registration up to date?\n\nEvery state lets you check your voter \
         registration online before an election, on its election website. Look again after \
         you move or change your name: a record that is out of date can delay your vote at the \
         polls.\n\n\
         ## Polling place hours\n\nMost polling places open early in the morning and close in \
         the evening; anyone in line at closing time may still vote.\n\n\
         ## Voting by mail\n\nAsk for a mail ballot, fill it in at home, sign the envelope and \
         send it back before the deadline.\n\n\
         ## Accessible voting\n\nEvery polling place has an accessible machine, and you may bring \
         someone to help you mark your choices.\n\n\
         ## Identification\n\nSome states ask for a photo ID at the polls; others accept a \
         bank statement or a utility bill.\n",
    )
    .unwrap();
    // More states than the engine weighs candidates: without the preference their pages, short
    // and phrased like the question, would be all it sees.
    let states = [
        "Alabama",
        "Alaska",
        "Arizona",
        "Arkansas",
        "California",
        "Colorado",
        "Connecticut",
        "Delaware",
        "Florida",
        "Georgia",
        "Hawaii",
        "Idaho",
        "Illinois",
        "Indiana",
        "Iowa",
        "Kansas",
        "Kentucky",
        "Louisiana",
        "Maine",
        "Ohio",
        "Oregon",
    ];
    for state in states {
        std::fs::write(
            corpus
                .path()
                .join(format!("states/{}.md", state.to_lowercase())),
            format!(
                "+++\nlanguage = \"en\"\njurisdiction = \"{state}\"\n+++\n# Registering in \
                 {state}\n\n## Check your voter registration\n\nCheck your voter registration \
                 on the {state} election website.\n\n## Polling places in {state}\n\nCounties \
                 choose the polling places; schools and libraries are common.\n\n## Early \
                 voting in {state}\n\nSome counties open early voting sites two weeks before \
                 Election Day.\n"
            ),
        )
        .unwrap();
    }
    corpus
}

#[test]
fn a_question_that_names_no_place_prefers_what_applies_everywhere() {
    let corpus = national_guide_and_state_pages();
    let (_index, engine) = engine_over(corpus.path());

    let anywhere = engine.answer(
        "how do i check my voter registration",
        &ConversationContext::default(),
    );
    assert_eq!(anywhere.outcome, Outcome::Answer, "{}", anywhere.reply.text);
    assert_eq!(anywhere.citations[0].source, "guide.md");
    // Naming a state still brings that state's page first.
    let in_ohio = engine.answer(
        "how do i check my voter registration in ohio",
        &ConversationContext::default(),
    );
    assert_eq!(in_ohio.citations[0].source, "states/ohio.md");
    // So does naming one of its cities, its postal code as in an address, or typing its name
    // with a slip.
    assert_first_cited(
        &engine,
        &[
            (
                "where are the polling places in portland OR, is it schools?",
                "states/oregon.md",
            ),
            (
                "how do i check my voter registration in chicago",
                "states/illinois.md",
            ),
            ("early voting in boise?", "states/idaho.md"),
            ("polling places in lousiana", "states/louisiana.md"),
            (
                "where are the polling places in honolulu",
                "states/hawaii.md",
            ),
        ],
    );
}

#[test]
fn a_question_naming_several_places_is_answered_for_the_one_it_asks_about() {
    let corpus = national_guide_and_state_pages();
    let (_index, engine) = engine_over(corpus.path());
    assert_first_cited(
        &engine,
        &[
            // The nation named beside a state says where the state is: the state's page answers.
            (
                "I'm a United States citizen living in Ohio, how do I check my voter registration?",
                "states/ohio.md",
            ),
            (
                "i live in cincinnati, ohio, usa. how do i check my voter registration",
                "states/ohio.md",
            ),
            // Of two states, the one the citizen moved to.
            (
                "I just moved from Ohio to Oregon, how do I check my voter registration?",
                "states/oregon.md",
            ),
            (
                "moved from oregon to ohio last month, how do i check my voter registration",
                "states/ohio.md",
            ),
        ],
    );
}

/// Asserts that each question's first citation is from its page.
fn assert_first_cited(engine: &votecheck_engine::Engine, cases: &[(&str, &str)]) {
    for (question, page) in cases {
        let answer = engine.answer(question, &ConversationContext::default());
        assert_eq!(
            answer.citations.first().map(|c| c.source.as_str()),
            Some(*page),
            "{question}: {}",
            answer.reply.text
        );
    }
}

#[test]
fn terms_read_from_the_inverted_index_are_the_passages_own() {
    let index = engine().index();
    let searcher = index.searcher();
    let request = votecheck_index::SearchRequest {
        language: Some("en".to_string()),
        languages: vec!["en".to_string()],
        limit: 12,
        ..votecheck_index::SearchRequest::new("mail ballot envelope signature deadline")
    };
    let query = index.query(&request).unwrap();
    let top = index.top_addresses(&searcher, query.as_ref(), 12).unwrap();
    assert!(top.len() >= 5);
    let addresses: Vec<_> = top.iter().map(|(_, address)| *address).collect();
    let terms = index.language_terms("en", "ballot envelope signature stamp deadline quesadilla");
    let present = index
        .terms_present(&searcher, "en", &addresses, &terms)
        .unwrap();
    let mut seen_present = 0;
    let mut seen_absent = 0;
    for (address, present) in addresses.iter().zip(&present) {
        let passage = index.passage_at(&searcher, *address).unwrap();
        let own: std::collections::HashSet<String> = index
            .language_terms(
                "en",
                &format!("{}\n{}\n{}", passage.title, passage.section, passage.text),
            )
            .into_iter()
            .collect();
        for (term, present) in terms.iter().zip(present) {
            assert_eq!(
                *present,
                own.contains(term),
                "{term} in {} › {}",
                passage.source,
                passage.section
            );
            if *present {
                seen_present += 1;
            } else {
                seen_absent += 1;
            }
        }
    }
    assert!(seen_present > 0 && seen_absent > 0);
    let riverside = index
        .in_jurisdiction(&searcher, &addresses, "riverside county")
        .unwrap();
    assert!(riverside.iter().all(|inside| *inside));
    let elsewhere = index
        .in_jurisdiction(&searcher, &addresses, "Texas")
        .unwrap();
    assert!(elsewhere.iter().all(|inside| !*inside));
}

#[test]
fn an_unsure_detector_does_not_overrule_the_function_words() {
    // Tagalog questions borrow English question words ("how", "i", "my"), so the message had
    // function words of both; English had more, and the detector's unsure guess was Tagalog.
    // (Declared borrowed, those words now cast no vote for Tagalog.)
    assert_answered_in("how do i renew my passport", "en");
    assert_answered_in("paano po ako magparehistro para bumoto", "tl");
}

#[test]
fn an_index_built_with_another_model_is_refused_like_a_schema_mismatch() {
    let (dir, _) = engine_over(&sample_corpus());
    let index = dir.path().join("index");
    let manifest_path = index.join("manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let own_id = votecheck_index::Manifest::read(&index)
        .unwrap()
        .embedding
        .unwrap()
        .model_id;
    std::fs::write(
        &manifest_path,
        manifest.replace(&own_id, "another-model-0000"),
    )
    .unwrap();
    let model = votecheck_encoder::testing::required_model_path();
    let error = Engine::open_with_model(&index, &model)
        .err()
        .expect("refused");
    let message = error.to_string();
    assert!(
        message.contains("another-model-0000") && message.contains(&own_id),
        "{message}"
    );
    assert!(message.contains("rebuild the index"), "{message}");
}

#[test]
fn a_paraphrase_that_shares_no_keyword_with_the_passage_finds_it() {
    // "cost", "send back" and "post office" appear nowhere in the passage, which says "prepaid
    // postage" and "stamp": its similarity to the question brings it first.
    let (_, trace) = engine().answer_with_trace(
        "will it cost me anything to send back my absentee envelope thru the post office",
        &ConversationContext::default(),
    );
    let best = trace.passages.first().expect("a candidate");
    assert_eq!(best.source, "en/vote-by-mail.md", "{:?}", trace.passages);
    assert!(best.section.contains("Returning your ballot"), "{best:?}");
    assert!(trace.best_passage_similarity > 0.8, "{trace:?}");
}

#[test]
fn a_fact_check_whose_claim_is_the_checkers_conclusion_is_shown_as_the_conclusion() {
    // samples/corpus/fact-checks/closing-time.json puts its headline, a denial, in claimReviewed.
    let context = forwarded();
    let answer = engine().answer(
        "Forwarded: if it rains on Election Day all polling places in Riverside County close at noon, go vote in the morning!!",
        &context,
    );
    assert_eq!(answer.outcome, Outcome::FactCheck, "{}", answer.reply.text);
    let fact_check = answer.fact_check.as_ref().unwrap();
    assert_eq!(fact_check.source, "fact-checks/closing-time.json");
    assert_eq!(
        fact_check.claim_form,
        votecheck_engine::claim_form::ClaimForm::Conclusion
    );
    let text = &answer.reply.text;
    assert!(text.contains("The fact-checkers' conclusion:"), "{text}");
    assert!(text.contains("Rating: *False*"), "{text}");
    assert!(
        !text.contains("Claim:") && !text.contains("Verdict:"),
        "{text}"
    );
}
