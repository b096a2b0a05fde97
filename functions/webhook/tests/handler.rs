//! The conversation handler with the embedded SQLite store, the sample index and a capturing
//! sender: the webhook contract, the per-message steps, commands, and a store that fails.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use votecheck_engine::Engine;
use votecheck_index_builder::{BuildOptions, build_index};
use votecheck_store::contact::{ContactAddress, ContactSealer};
use votecheck_store::outage::{Outage, OutageStore};
use votecheck_store::{
    CitizenKey, Claim, MessageKey, SqliteStore, Store, StoreConfig, Subscription, Topic,
};
use votecheck_webhook::{
    CapturingSender, Handler, MessageOutcome, Method, OutboundContent, Secrets, WebhookRequest,
};
use votecheck_whatsapp::signature_header;

const APP_SECRET: &[u8] = b"test app secret";
const VERIFY_TOKEN: &str = "test verify token";
const NOW: i64 = 1_790_000_000;

/// Build options that embed the passages with the real model (semantic retrieval on).
fn hybrid() -> BuildOptions {
    BuildOptions::embedding_with(votecheck_encoder::testing::required_model_path())
}

fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<(tempfile::TempDir, Arc<Engine>)> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/corpus");
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("index");
            build_index(&corpus, &out, &hybrid(), &mut |_| {}).unwrap();
            let engine = Arc::new(Engine::open(&out).unwrap());
            (dir, engine)
        })
        .1
        .clone()
}

fn secrets() -> Secrets {
    Secrets {
        app_secret: APP_SECRET.to_vec(),
        verify_token: VERIFY_TOKEN.to_string(),
        id_salt: b"test salt".to_vec(),
    }
}

struct Setup {
    handler: Handler,
    store: Arc<SqliteStore>,
    sender: Arc<CapturingSender>,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig::default();
    let store =
        Arc::new(SqliteStore::open(dir.path().join("store.sqlite3"), config.clone()).unwrap());
    let sender = Arc::new(CapturingSender::default());
    let handler = Handler::new(engine(), store.clone(), sender.clone(), secrets(), config)
        .with_clock(Arc::new(|| NOW));
    Setup {
        handler,
        store,
        sender,
        _dir: dir,
    }
}

impl Setup {
    /// Handles a text message from `from` and returns what became of it.
    async fn text(&self, id: &str, from: &str, text: &str) -> Vec<MessageOutcome> {
        let body = signed(&text_webhook(id, from, text, false));
        self.handler.handle_with_outcomes(&body).await.1
    }

    /// The text of the last message sent.
    fn last_reply(&self) -> String {
        self.sender
            .sent()
            .last()
            .unwrap()
            .content
            .body()
            .unwrap()
            .to_string()
    }
}

/// The outcomes of one message that got a reply of this kind.
fn answered(outcome: &str) -> Vec<MessageOutcome> {
    vec![MessageOutcome::Answered {
        outcome: outcome.into(),
    }]
}

fn signed(body: &[u8]) -> WebhookRequest {
    WebhookRequest {
        method: Method::Post,
        query: String::new(),
        signature: Some(signature_header(APP_SECRET, body).unwrap()),
        body: body.to_vec(),
        body_is_base64: false,
    }
}

/// A text message webhook from `from` with id `id`.
fn text_webhook(id: &str, from: &str, text: &str, forwarded: bool) -> Vec<u8> {
    let context = if forwarded {
        r#","context":{"forwarded":true}"#
    } else {
        ""
    };
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550100001","phone_number_id":"109000000000001"}},"contacts":[{{"profile":{{"name":"T"}},"wa_id":"{from}"}}],"messages":[{{"from":"{from}","id":"{id}","timestamp":"{NOW}","type":"text","text":{{"body":{}}}{context}}}]}}}}]}}]}}"#,
        serde_json::to_string(text).unwrap()
    )
    .into_bytes()
}

fn interactive_webhook(id: &str, from: &str, reply: &str) -> Vec<u8> {
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"phone_number_id":"109000000000001"}},"messages":[{{"from":"{from}","id":"{id}","timestamp":"{NOW}","type":"interactive","interactive":{reply}}}]}}}}]}}]}}"#
    )
    .into_bytes()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../samples/webhooks")
            .join(name),
    )
    .unwrap()
}

#[tokio::test]
async fn the_subscription_handshake_checks_the_token() {
    let setup = setup();
    let request = |token: &str| WebhookRequest {
        method: Method::Get,
        query: format!("hub.mode=subscribe&hub.verify_token={token}&hub.challenge=12345"),
        signature: None,
        body: Vec::new(),
        body_is_base64: false,
    };
    let accepted = setup
        .handler
        .handle(&request("test%20verify%20token"))
        .await;
    assert_eq!((accepted.status, accepted.body.as_str()), (200, "12345"));
    assert_eq!(setup.handler.handle(&request("wrong")).await.status, 403);
}

#[tokio::test]
async fn forged_oversized_and_malformed_webhooks_are_refused_and_touch_nothing() {
    let setup = setup();
    let body = text_webhook("wamid.FORGED", "15550109999", "where do I vote?", false);
    let mut forged = signed(&body);
    forged.signature = Some(signature_header(b"another secret", &body).unwrap());
    assert_eq!(setup.handler.handle(&forged).await.status, 401);
    let mut unsigned = signed(&body);
    unsigned.signature = None;
    assert_eq!(setup.handler.handle(&unsigned).await.status, 401);
    let huge = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(setup.handler.handle(&signed(&huge)).await.status, 413);
    let mut bad_base64 = signed(b"%%%not base64%%%");
    bad_base64.body_is_base64 = true;
    assert_eq!(setup.handler.handle(&bad_base64).await.status, 400);
    assert_eq!(
        setup.handler.handle(&signed(b"{not json")).await.status,
        400
    );
    assert!(setup.sender.sent().is_empty());
    // The forged message id was never claimed.
    assert_eq!(
        setup
            .store
            .claim_message("wamid.FORGED", NOW)
            .await
            .unwrap(),
        Claim::Claimed
    );
}

#[tokio::test]
async fn a_question_is_answered_as_a_contextual_reply_with_feedback_and_recorded() {
    let setup = setup();
    let body = fixture("message_text.json");
    let (response, outcomes) = setup.handler.handle_with_outcomes(&signed(&body)).await;
    assert_eq!(response.status, 200);
    assert_eq!(outcomes, answered("answer"));
    let sent = setup.sender.sent();
    assert_eq!(sent.len(), 1);
    let key = MessageKey::derive(b"test salt", "wamid.TEST.TEXT.0001");
    let reply_to = sent[0].reply_to.as_ref().unwrap();
    assert_eq!(
        reply_to.message_id, "wamid.TEST.TEXT.0001",
        "quoted in WhatsApp"
    );
    assert_eq!(reply_to.key, key);
    let OutboundContent::Buttons { body, buttons } = &sent[0].content else {
        panic!("an answer offers feedback buttons: {:?}", sent[0].content);
    };
    assert!(
        body.contains("> ") && body.contains("https://"),
        "quotes and cites: {body}"
    );
    assert!(
        buttons.len() <= 3
            && buttons
                .iter()
                .all(|button| button.title.chars().count() <= 20)
    );
    assert_eq!(
        buttons[0].id,
        format!("feedback:yes:{key}"),
        "the key, never the id"
    );
    assert_eq!(setup.sender.read(), vec!["wamid.TEST.TEXT.0001"]);
    let records = setup
        .store
        .queries_between(NOW - 10, NOW + 10, NOW)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].query_id, key.as_str());
    assert_eq!(records[0].outcome, "answer");
    assert!(!records[0].passage_ids.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redelivered_message_is_answered_once_even_concurrently() {
    let setup = Arc::new(setup());
    let body = text_webhook("wamid.DUP", "15550102222", "how do I vote by mail?", false);
    for _ in 0..5 {
        setup.handler.handle(&signed(&body)).await;
    }
    let mut tasks = Vec::new();
    let concurrent = text_webhook("wamid.DUP2", "15550102222", "how do I vote by mail?", false);
    for _ in 0..5 {
        let setup = setup.clone();
        let request = signed(&concurrent);
        tasks.push(tokio::spawn(async move {
            setup.handler.handle(&request).await.status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let replied_to: std::collections::BTreeSet<String> = setup
        .sender
        .sent()
        .iter()
        .filter_map(|message| {
            message
                .reply_to
                .as_ref()
                .map(|reply_to| reply_to.key.to_string())
        })
        .collect();
    assert_eq!(
        setup.sender.read().len(),
        2,
        "each message id is processed once"
    );
    assert_eq!(replied_to.len(), 2, "one reply per message id");
}

#[tokio::test]
async fn every_message_type_gets_a_sensible_reaction() {
    for (fixture_name, expect_reply) in [
        ("message_image.json", true),
        ("message_audio.json", true),
        ("message_location.json", true),
        ("message_reaction.json", false),
        ("message_unsupported.json", false),
        ("message_unknown_future_type.json", false),
        ("message_interactive_list_reply.json", true),
        ("message_button_quick_reply.json", true),
        ("message_from_bsuid_only_user.json", true),
        ("status_failed.json", false),
        ("status_read.json", false),
        ("change_account_update.json", false),
    ] {
        let setup = setup();
        let response = setup.handler.handle(&signed(&fixture(fixture_name))).await;
        assert_eq!(response.status, 200, "{fixture_name}");
        assert_eq!(
            !setup.sender.sent().is_empty(),
            expect_reply,
            "{fixture_name}: {:?}",
            setup.sender.sent()
        );
    }
}

#[tokio::test]
async fn a_forwarded_rumour_gets_the_fact_check_and_is_marked() {
    let setup = setup();
    let body = text_webhook(
        "wamid.FWD",
        "15550103333",
        "Forward to everyone: Riverside County voters can now vote by text message or WhatsApp, just reply with your candidate's name!",
        true,
    );
    let (_, outcomes) = setup.handler.handle_with_outcomes(&signed(&body)).await;
    assert_eq!(outcomes, answered("fact_check"));
    let records = setup
        .store
        .queries_between(NOW - 10, NOW + 10, NOW)
        .await
        .unwrap();
    assert!(records[0].forwarded);
    assert!(records[0].fact_check_id.is_some());
}

#[tokio::test]
async fn one_number_cannot_flood_the_bot() {
    let setup = setup();
    let limit = StoreConfig::default().rate_limit.max_messages as usize;
    let mut outcomes = Vec::new();
    for index in 0..limit + 3 {
        let body = text_webhook(
            &format!("wamid.FLOOD.{index}"),
            "15550104444",
            "thanks",
            false,
        );
        outcomes.extend(setup.handler.handle_with_outcomes(&signed(&body)).await.1);
    }
    assert_eq!(
        outcomes[limit],
        MessageOutcome::RateLimited { notified: true }
    );
    assert_eq!(
        outcomes[limit + 1],
        MessageOutcome::RateLimited { notified: false }
    );
    assert_eq!(
        setup.sender.sent().len(),
        limit + 1,
        "answers plus one notice, then silence"
    );
}

#[tokio::test]
async fn opt_out_opt_in_and_delete_my_data() {
    let setup = setup();
    let from = "15550105555";
    let ask = |id: &str, text: &str| signed(&text_webhook(id, from, text, false));
    setup
        .handler
        .handle(&ask("wamid.O1", "where do I vote?"))
        .await;
    setup.handler.handle(&ask("wamid.O2", "STOP")).await;
    let outcomes = setup.text("wamid.O3", from, "how do I vote by mail?").await;
    assert_eq!(outcomes, vec![MessageOutcome::OptedOut]);
    let outcomes = setup.text("wamid.O4", from, "START").await;
    assert_eq!(outcomes, answered("opt_out"));
    let outcomes = setup.text("wamid.O5", from, "how do I vote by mail?").await;
    assert_eq!(outcomes, answered("answer"));

    let outcomes = setup.text("wamid.O6", from, "delete my data").await;
    assert_eq!(outcomes, answered("opt_out"));
    let confirmation = setup.last_reply();
    assert!(
        confirmation.chars().any(|c| c.is_ascii_digit() && c != '0'),
        "the count is confirmed: {confirmation}"
    );
    let citizen = CitizenKey::derive(b"test salt", from);
    let left: Vec<_> = setup
        .store
        .queries_between(NOW - 10, NOW + 10, NOW)
        .await
        .unwrap()
        .into_iter()
        .filter(|record| record.citizen == citizen)
        .collect();
    assert!(left.is_empty(), "no query of that citizen is left");
}

#[tokio::test]
async fn a_stop_request_in_own_words_is_offered_and_only_a_tap_acts_on_it() {
    let setup = setup();
    let from = "15550105558";
    let citizen = CitizenKey::derive(b"test salt", from);
    let outcomes = setup
        .text(
            "wamid.C1",
            from,
            "i never signed up for this, leave me alone",
        )
        .await;
    assert_eq!(outcomes, answered("command_offer"));
    let buttons = match &setup.sender.sent().last().unwrap().content {
        OutboundContent::Buttons { buttons, .. } => buttons.clone(),
        other => panic!("no buttons: {other:?}"),
    };
    assert_eq!(
        buttons.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["confirm:stop", "confirm:delete"]
    );
    // Offered, not acted on: the citizen still gets answers.
    let outcomes = setup.text("wamid.C2", from, "how do I vote by mail?").await;
    assert_eq!(outcomes, answered("answer"));

    let tap = |id: &str, button: &votecheck_outbound::Button| {
        signed(&interactive_webhook(
            id,
            from,
            &format!(
                r#"{{"type":"button_reply","button_reply":{{"id":"{}","title":"{}"}}}}"#,
                button.id, button.title
            ),
        ))
    };
    let (_, outcomes) = setup
        .handler
        .handle_with_outcomes(&tap("wamid.C3", &buttons[0]))
        .await;
    assert_eq!(outcomes, answered("opt_out"));
    let outcomes = setup.text("wamid.C4", from, "how do I vote by mail?").await;
    assert_eq!(outcomes, vec![MessageOutcome::OptedOut]);

    let (_, outcomes) = setup
        .handler
        .handle_with_outcomes(&tap("wamid.C5", &buttons[1]))
        .await;
    assert_eq!(outcomes, answered("opt_out"));
    let reply = setup.last_reply();
    assert!(reply.starts_with("Done: I deleted everything"), "{reply}");
    let left = setup
        .store
        .queries_between(NOW - 10, NOW + 10, NOW)
        .await
        .unwrap()
        .into_iter()
        .filter(|record| record.citizen == citizen)
        .count();
    assert_eq!(left, 0, "no query of that citizen is left");
}

#[tokio::test]
async fn stop_ends_every_alert_subscription_and_only_that_citizens() {
    let setup = setup();
    let from = "15550105556";
    let other = CitizenKey::derive(b"test salt", "15550105557");
    let citizen = CitizenKey::derive(b"test salt", from);
    let subscription = |who: &CitizenKey, topic: Topic| Subscription {
        citizen: who.clone(),
        topic,
        language: "en".to_owned(),
        jurisdiction: None,
        contact: None,
        at: NOW,
        expires_at: NOW + 86_400,
    };
    for (who, topic) in [
        (&citizen, Topic::Deadlines),
        (&citizen, Topic::Rumours),
        (&other, Topic::Rumours),
    ] {
        setup
            .store
            .subscribe(&subscription(who, topic))
            .await
            .unwrap();
    }
    setup.text("wamid.S1", from, "where do I vote?").await;
    assert_eq!(
        setup
            .store
            .subscriptions(&citizen, NOW)
            .await
            .unwrap()
            .len(),
        2
    );
    let outcomes = setup.text("wamid.S2", from, "STOP").await;
    assert_eq!(outcomes, answered("opt_out"));
    assert!(
        setup
            .store
            .subscriptions(&citizen, NOW)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        setup.store.subscriptions(&other, NOW).await.unwrap().len(),
        1
    );
    // Opting in again does not bring them back.
    setup.text("wamid.S3", from, "START").await;
    assert!(
        setup
            .store
            .subscriptions(&citizen, NOW)
            .await
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_engines_alert_topics_are_the_stores() {
    let store: Vec<&str> = Topic::ALL.iter().map(|topic| topic.as_str()).collect();
    assert_eq!(votecheck_engine::reply::ALERT_TOPICS.to_vec(), store);
}

#[tokio::test]
async fn a_citizen_subscribes_to_alerts_from_the_alerts_menu() {
    let setup = setup();
    let from = "15550107777";
    let citizen = CitizenKey::derive(b"test salt", from);
    let outcomes = setup.text("wamid.A1", from, "alerts").await;
    assert_eq!(outcomes, answered("menu"));
    let menu = setup.sender.sent().last().unwrap().content.clone();
    let OutboundContent::List { rows, body, .. } = menu else {
        panic!("the alerts menu is a list: {menu:?}");
    };
    let ids: Vec<&str> = rows.iter().map(|row| row.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "subscribe:deadlines",
            "subscribe:election_day",
            "subscribe:polling_place",
            "subscribe:rumours"
        ]
    );
    assert!(
        body.contains("STOP"),
        "how to stop is said up front: {body}"
    );
    assert!(
        setup
            .store
            .subscriptions(&citizen, NOW)
            .await
            .unwrap()
            .is_empty()
    );

    let tap = |id: &str, row: &str| {
        signed(&interactive_webhook(
            id,
            from,
            &format!(
                r#"{{"type":"list_reply","list_reply":{{"id":"{row}","title":"Election day"}}}}"#
            ),
        ))
    };
    let (_, outcomes) = setup
        .handler
        .handle_with_outcomes(&tap("wamid.A2", "subscribe:election_day"))
        .await;
    assert_eq!(outcomes, answered("subscribed"));
    let subscriptions = setup.store.subscriptions(&citizen, NOW).await.unwrap();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(subscriptions[0].topic, Topic::ElectionDay);
    assert_eq!(subscriptions[0].language, "en");
    assert_eq!(subscriptions[0].jurisdiction, None);
    // The address alerts go to is kept sealed, and the deployment's key opens it.
    let sealed = subscriptions[0].contact.as_ref().unwrap();
    assert!(!sealed.as_str().contains(from));
    assert_eq!(
        ContactSealer::from_salt(b"test salt").open(sealed).unwrap(),
        ContactAddress::PhoneNumber(from.to_owned())
    );
    let confirmation = setup
        .sender
        .sent()
        .last()
        .and_then(|message| message.content.body().map(str::to_owned))
        .unwrap();
    assert!(
        confirmation.contains("Election day") && confirmation.contains("STOP"),
        "{confirmation}"
    );
    // A forged topic subscribes nothing, and says it could not be saved.
    let (_, outcomes) = setup
        .handler
        .handle_with_outcomes(&tap("wamid.A3", "subscribe:lottery"))
        .await;
    assert_eq!(outcomes, answered("subscribe_failed"));
    assert_eq!(
        setup
            .store
            .subscriptions(&citizen, NOW)
            .await
            .unwrap()
            .len(),
        1
    );
    // Asked for one jurisdiction's alerts, the rows carry it and so does the subscription.
    setup
        .text("wamid.A5", from, "send me alerts for riverside county")
        .await;
    let menu = setup.sender.sent().last().unwrap().content.clone();
    let OutboundContent::List { rows, .. } = menu else {
        panic!("the alerts menu is a list: {menu:?}");
    };
    let row = rows[0].id.clone();
    assert!(row.starts_with("subscribe:deadlines:"), "{row}");
    let (_, outcomes) = setup
        .handler
        .handle_with_outcomes(&tap("wamid.A6", &row))
        .await;
    assert_eq!(outcomes, answered("subscribed"));
    let deadlines = setup
        .store
        .subscriptions(&citizen, NOW)
        .await
        .unwrap()
        .into_iter()
        .find(|subscription| subscription.topic == Topic::Deadlines)
        .unwrap();
    let named = deadlines.jurisdiction.clone().unwrap();
    assert!(row.ends_with(&named), "{row} / {named}");
    assert!(
        setup
            .sender
            .sent()
            .last()
            .and_then(|message| message.content.body().map(str::to_owned))
            .unwrap()
            .contains(&named)
    );
    // A forged jurisdiction the store refuses subscribes nothing.
    let (_, outcomes) = setup
        .handler
        .handle_with_outcomes(&tap("wamid.A7", "subscribe:rumours:a#b"))
        .await;
    assert_eq!(outcomes, answered("subscribe_failed"));
    // Delete-my-data takes the subscription with everything else.
    setup.text("wamid.A4", from, "delete my data").await;
    assert!(
        setup
            .store
            .subscriptions(&citizen, NOW)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn feedback_buttons_and_menu_rows_are_handled() {
    let setup = setup();
    let from = "15550106666";
    setup
        .handler
        .handle(&signed(&text_webhook(
            "wamid.F1",
            from,
            "how do I vote by mail?",
            false,
        )))
        .await;
    let query = MessageKey::derive(b"test salt", "wamid.F1");
    let feedback = interactive_webhook(
        "wamid.F2",
        from,
        &format!(
            r#"{{"type":"button_reply","button_reply":{{"id":"feedback:no:{query}","title":"No"}}}}"#
        ),
    );
    let (_, outcomes) = setup.handler.handle_with_outcomes(&signed(&feedback)).await;
    assert_eq!(outcomes, answered("feedback"));
    let stored = setup
        .store
        .feedback_between(NOW - 10, NOW + 10, NOW)
        .await
        .unwrap();
    assert_eq!(
        (stored[0].query_id.as_str(), stored[0].helpful),
        (query.as_str(), false)
    );

    let menu = interactive_webhook(
        "wamid.F3",
        from,
        r#"{"type":"list_reply","list_reply":{"id":"topic:mail","title":"Vote by mail"}}"#,
    );
    let (_, outcomes) = setup.handler.handle_with_outcomes(&signed(&menu)).await;
    assert_eq!(outcomes, answered("answer"));
    let hello = signed(&text_webhook("wamid.F4", from, "hola", false));
    setup.handler.handle(&hello).await;
    assert!(matches!(
        setup.sender.sent().last().unwrap().content,
        OutboundContent::List { .. }
    ));
}

#[tokio::test]
async fn delete_my_data_with_the_store_down_says_nothing_was_deleted() {
    let sender = Arc::new(CapturingSender::default());
    let handler = Handler::new(
        engine(),
        Arc::new(OutageStore::new(Outage::Refuses)),
        sender.clone(),
        secrets(),
        StoreConfig::default(),
    );
    let body = text_webhook("wamid.DEL.DOWN", "15550107777", "delete my data", false);
    handler.handle(&signed(&body)).await;
    let replies = sender.sent();
    assert_eq!(replies.len(), 1);
    let reply = replies[0].content.body().unwrap();
    assert!(
        !reply.contains("{count}") && !reply.contains("deleted everything"),
        "{reply}"
    );
    assert!(
        reply.contains("could not delete") && reply.contains("again"),
        "{reply}"
    );
}

#[tokio::test]
async fn delete_my_data_says_how_many_records_went_in_english() {
    let setup = setup();
    let from = "15550108888";
    let ask = |id: &str, text: &str| signed(&text_webhook(id, from, text, false));
    setup
        .handler
        .handle(&ask("wamid.DC1", "how do I vote by mail?"))
        .await;
    setup
        .handler
        .handle(&ask("wamid.DC2", "delete my data"))
        .await;
    let reply = setup.last_reply();
    // The question, the preferences and the citizen's own identity link.
    assert_eq!(
        reply,
        "Done: I deleted everything I had stored about you (3 records)."
    );
}

#[tokio::test]
async fn the_citizen_still_gets_an_answer_when_the_store_is_unreachable() {
    let sender = Arc::new(CapturingSender::default());
    let handler = Handler::new(
        engine(),
        Arc::new(OutageStore::new(Outage::Refuses)),
        sender.clone(),
        secrets(),
        StoreConfig::default(),
    );
    let response = handler.handle(&signed(&fixture("message_text.json"))).await;
    assert_eq!(response.status, 200);
    assert_eq!(sender.sent().len(), 1);
}

#[tokio::test]
async fn a_changed_number_keeps_the_citizens_preferences() {
    let setup = setup();
    // The fixture's citizen (15550101234) asks in Spanish, then changes number to 15550109876.
    let spanish = text_webhook(
        "wamid.NC1",
        "15550101234",
        "¿Dónde voto el día de la elección?",
        false,
    );
    setup.handler.handle(&signed(&spanish)).await;
    let old = CitizenKey::derive(b"test salt", "15550101234");
    let new = CitizenKey::derive(b"test salt", "15550109876");
    assert_eq!(
        setup
            .store
            .preferences(&old, NOW)
            .await
            .unwrap()
            .unwrap()
            .language
            .as_deref(),
        Some("es")
    );
    let response = setup
        .handler
        .handle(&signed(&fixture("message_system_user_changed_number.json")))
        .await;
    assert_eq!(response.status, 200);
    let moved = setup.store.preferences(&new, NOW).await.unwrap();
    assert_eq!(
        moved
            .and_then(|preferences| preferences.language)
            .as_deref(),
        Some("es")
    );
}

#[tokio::test]
async fn after_a_change_of_number_alerts_go_to_the_new_number() {
    let setup = setup();
    // The fixture's citizen (15550101234) subscribes, then changes number to 15550109876.
    setup.text("wamid.NC10", "15550101234", "alerts").await;
    let tap = interactive_webhook(
        "wamid.NC11",
        "15550101234",
        r#"{"type":"list_reply","list_reply":{"id":"subscribe:deadlines","title":"Deadlines"}}"#,
    );
    let (_, outcomes) = setup.handler.handle_with_outcomes(&signed(&tap)).await;
    assert_eq!(outcomes, answered("subscribed"));
    setup
        .handler
        .handle(&signed(&fixture("message_system_user_changed_number.json")))
        .await;
    let new = CitizenKey::derive(b"test salt", "15550109876");
    let subscriptions = setup.store.subscriptions(&new, NOW).await.unwrap();
    assert_eq!(
        subscriptions.len(),
        1,
        "the subscription moved with the citizen"
    );
    let sealer = ContactSealer::from_salt(b"test salt");
    assert_eq!(
        sealer
            .open(subscriptions[0].contact.as_ref().unwrap())
            .unwrap(),
        ContactAddress::PhoneNumber("15550109876".to_owned()),
        "never the number given up"
    );
}

#[tokio::test]
async fn an_unchecked_rumour_offers_a_follow_up_and_the_tap_records_it() {
    let setup = setup();
    let body = text_webhook(
        "wamid.UNCHECKED",
        "15550104444",
        "Forward this to everyone: the county will close every polling station at noon because of a secret order!",
        true,
    );
    let (_, outcomes) = setup.handler.handle_with_outcomes(&signed(&body)).await;
    assert_eq!(outcomes, answered("no_answer"));
    let sent = setup.sender.sent();
    let button = sent
        .iter()
        .find_map(|message| match &message.content {
            OutboundContent::Buttons { buttons, .. } => Some(buttons[0].clone()),
            _ => None,
        })
        .expect("the follow-up button under the reply");
    assert!(button.id.starts_with("follow:"), "{button:?}");
    assert!(
        !sent.iter().any(|message| matches!(&message.content,
            OutboundContent::Buttons { buttons, .. } if buttons.iter().any(|b| b.id.starts_with("feedback:")))),
        "no 'was this helpful?' under a reply that answered nothing"
    );

    let tap = format!(
        r#"{{"type":"button_reply","button_reply":{{"id":"{}","title":"{}"}}}}"#,
        button.id, button.title
    );
    let (_, outcomes) = setup
        .handler
        .handle_with_outcomes(&signed(&interactive_webhook(
            "wamid.TAP",
            "15550104444",
            &tap,
        )))
        .await;
    assert_eq!(outcomes, answered("follow_up"));
    let pending = setup.store.pending_follow_ups(None, 10, NOW).await.unwrap();
    assert_eq!(pending.follow_ups.len(), 1);
    assert!(pending.follow_ups[0].question.contains("secret order"));
    assert_eq!(pending.follow_ups[0].language, "en");
    assert!(pending.follow_ups[0].contact.is_some());

    // A forged or foreign button follows nothing, and says so.
    let forged = r#"{"type":"button_reply","button_reply":{"id":"follow:0000000000000000000000000000000000000000000000000000000000000000","title":"x"}}"#;
    let (_, outcomes) = setup
        .handler
        .handle_with_outcomes(&signed(&interactive_webhook(
            "wamid.FORGED",
            "15550104444",
            forged,
        )))
        .await;
    assert_eq!(outcomes, answered("follow_up_gone"));
    assert_eq!(
        setup
            .store
            .pending_follow_ups(None, 10, NOW)
            .await
            .unwrap()
            .follow_ups
            .len(),
        1
    );
}

#[tokio::test]
async fn the_topic_menu_ends_with_a_row_that_opens_the_alerts_menu() {
    let setup = setup();
    setup.text("wamid.MENU", "15550105555", "hi").await;
    let rows = setup
        .sender
        .sent()
        .iter()
        .find_map(|message| match &message.content {
            OutboundContent::List { rows, .. } => Some(rows.clone()),
            _ => None,
        })
        .expect("the topic menu");
    let last = rows.last().unwrap();
    assert_eq!(last.id, "alerts", "{rows:?}");
    let tap = format!(
        r#"{{"type":"list_reply","list_reply":{{"id":"{}","title":"{}"}}}}"#,
        last.id, last.title
    );
    let (_, outcomes) = setup
        .handler
        .handle_with_outcomes(&signed(&interactive_webhook(
            "wamid.ROW",
            "15550105555",
            &tap,
        )))
        .await;
    assert_eq!(outcomes, answered("menu"));
    let alerts_rows = match &setup.sender.sent().last().unwrap().content {
        OutboundContent::List { rows, .. } => rows.clone(),
        other => panic!("the alerts menu: {other:?}"),
    };
    assert!(
        alerts_rows
            .iter()
            .any(|row| row.id == "subscribe:deadlines"),
        "{alerts_rows:?}"
    );
}

#[tokio::test]
async fn a_tap_opens_the_24_hour_window_as_a_typed_message_does() {
    let setup = setup();
    let from = "15550106666";
    let citizen = CitizenKey::derive(b"test salt", from);
    let tap =
        r#"{"type":"list_reply","list_reply":{"id":"subscribe:deadlines","title":"Deadlines"}}"#;
    let (_, outcomes) = setup
        .handler
        .handle_with_outcomes(&signed(&interactive_webhook("wamid.ROW1", from, tap)))
        .await;
    assert_eq!(outcomes, answered("subscribed"));
    let preferences = setup
        .store
        .preferences(&citizen, NOW)
        .await
        .unwrap()
        .expect("preferences saved by the tap");
    assert_eq!(preferences.last_seen, Some(NOW));
    assert!(!preferences.opted_out);
}
