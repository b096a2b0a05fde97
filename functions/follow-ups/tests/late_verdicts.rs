//! Late verdicts end to end on the sample corpus: a rumour no fact-check addressed gets one in a
//! corpus update; the follow-ups of the citizens who asked are matched by the new index's engine
//! and each verdict is sent once (template outside the 24-hour window, the engine's reply inside
//! it); a citizen who said "stop", or asked about something else, gets nothing; a dry run
//! changes nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use votecheck_alerts::recording::RecordingChannel;
use votecheck_engine::Engine;
use votecheck_follow_ups::{Mode, TEMPLATE, fact_check_for, run_follow_ups};
use votecheck_graph::Recipient;
use votecheck_index_builder::{BuildOptions, build_index};
use votecheck_outbound::OutboundContent;
use votecheck_store::contact::{ContactAddress, ContactSealer};
use votecheck_store::{
    CitizenKey, DAY_SECONDS, FollowUp, Preferences, SqliteStore, Store, StoreConfig,
};

const SALT: &[u8] = b"late verdicts salt";
const NOW: i64 = 1_793_534_400;
const RUMOUR: &str =
    "Forward to all your contacts: ballots marked with a pencil are thrown away and never counted!";

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn engine_over(corpus: &Path, out: &Path) -> Engine {
    let options = BuildOptions::embedding_with(votecheck_encoder::testing::required_model_path());
    build_index(corpus, out, &options, &mut |_| {}).unwrap();
    Engine::open(out).unwrap()
}

fn follow_up(store_number: &str, query: &str, question: &str) -> FollowUp {
    let sealer = ContactSealer::from_salt(SALT);
    FollowUp {
        citizen: CitizenKey::derive(SALT, store_number),
        query_id: query.to_owned(),
        question: question.to_owned(),
        language: "en".to_owned(),
        contact: Some(
            sealer
                .seal(&ContactAddress::PhoneNumber(store_number.to_owned()))
                .unwrap(),
        ),
        at: NOW - DAY_SECONDS,
        expires_at: NOW + 30 * DAY_SECONDS,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_verdict_reaches_exactly_the_citizens_who_asked_once() {
    let work = tempfile::tempdir().unwrap();
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/corpus");
    let corpus = work.path().join("corpus");
    copy_tree(&sample, &corpus);
    let old = engine_over(&corpus, &work.path().join("old"));
    std::fs::copy(
        sample.join("../fact-checks-later/pencil-ballots.json"),
        corpus.join("fact-checks/pencil-ballots.json"),
    )
    .unwrap();
    let new = engine_over(&corpus, &work.path().join("new"));

    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(work.path().join("store.sqlite3"), StoreConfig::default()).unwrap(),
    );
    let asked = follow_up("15550108001", "q-asked", RUMOUR);
    assert!(
        fact_check_for(&old, &asked).is_none(),
        "the rumour is unchecked in the first corpus"
    );
    // Asked in their window (wrote an hour ago): the engine's own reply goes.
    let recent = follow_up("15550108002", "q-recent", RUMOUR);
    store
        .save_preferences(
            &recent.citizen,
            &Preferences {
                language: Some("en".into()),
                opted_out: false,
                last_seen: Some(NOW - 3_600),
            },
        )
        .await
        .unwrap();
    let stopped = follow_up("15550108003", "q-stopped", RUMOUR);
    let other = follow_up(
        "15550108004",
        "q-other",
        "Forward this: the bridge on Route 9 will be closed for repairs all of next month!",
    );
    for follow_up in [&asked, &recent, &stopped, &other] {
        store.request_follow_up(follow_up).await.unwrap();
    }
    store.unsubscribe_all(&stopped.citizen).await.unwrap();

    let channel = RecordingChannel::new();
    let plan = run_follow_ups(&new, store.as_ref(), &channel, SALT, Mode::DryRun, NOW)
        .await
        .unwrap();
    assert_eq!(
        (plan.pending, plan.matches.len(), plan.sent),
        (3, 2, 0),
        "{plan}"
    );
    assert_eq!(channel.count(), 0, "a dry run sends nothing");

    let sent = run_follow_ups(&new, store.as_ref(), &channel, SALT, Mode::Send, NOW)
        .await
        .unwrap();
    assert_eq!(
        (sent.matches.len(), sent.sent, sent.failed),
        (2, 2, 0),
        "{sent}"
    );
    let messages = channel.sent();
    let to = |number: &str| {
        messages
            .iter()
            .find(|message| matches!(&message.to, Recipient::PhoneNumber(to) if to == number))
            .map(|message| message.content.clone())
    };
    match to("15550108001").expect("the citizen who asked") {
        OutboundContent::Template(template) => {
            assert_eq!(template.name, TEMPLATE);
            assert_eq!(template.language, "en");
            assert_eq!(template.body_parameters[1], "False");
            assert!(template.body_parameters[2].contains("pencil-ballots-are-counted"));
        }
        other => panic!("outside the window, the template: {other:?}"),
    }
    match to("15550108002").expect("the citizen inside their window") {
        OutboundContent::Text { body } => assert!(body.contains("pencil"), "{body}"),
        other => panic!("inside the window, the reply: {other:?}"),
    }
    assert!(to("15550108003").is_none(), "said stop");
    assert!(to("15550108004").is_none(), "asked about something else");

    let again = run_follow_ups(&new, store.as_ref(), &channel, SALT, Mode::Send, NOW + 60)
        .await
        .unwrap();
    assert_eq!((again.pending, again.sent), (1, 0), "{again}");
    assert_eq!(channel.count(), 2, "each verdict once");
}
