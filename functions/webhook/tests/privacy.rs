//! Privacy and identity through the real handler, on both store backends (embedded SQLite and
//! DynamoDB on `moto_server`): no phone number in anything stored or shown, even inside a
//! message id; one identity per citizen whatever ids WhatsApp sends; commands before the rate
//! limit; and an honest answer to "delete my data".

mod common;

use common::*;
use votecheck_webhook::OutboundContent;

const NUMBER: &str = "34600111222";
const USER: &str = "US.1000000000000000002";

/// The id of the first feedback button among the replies.
fn feedback_button(setup: &Setup) -> String {
    setup
        .sender
        .sent()
        .iter()
        .find_map(|message| match &message.content {
            OutboundContent::Buttons { buttons, .. } => Some(buttons[0].id.clone()),
            _ => None,
        })
        .expect("an answer with feedback buttons")
}

#[tokio::test(flavor = "multi_thread")]
async fn no_stored_record_or_shown_reply_holds_the_senders_number() {
    for kind in BACKENDS {
        let setup = Setup::new(kind).await;
        let who = both(NUMBER, USER);
        setup
            .post(&text(&wamid(NUMBER, 1), who, "How do I vote by mail?"))
            .await;
        let yes = feedback_button(&setup);
        setup
            .post(&button(&wamid(NUMBER, 2), who, &yes, "Yes"))
            .await;
        setup.post(&delivery_failed(&wamid(NUMBER, 900), who)).await;
        setup
            .post(&text(
                &wamid(NUMBER, 3),
                phone(NUMBER),
                "Mi número es +34 600 111 222, ¿dónde voto?",
            ))
            .await;
        setup.post(&image(&wamid(NUMBER, 4), who)).await;
        setup.post(&text(&wamid(NUMBER, 5), who, "STOP")).await;
        setup.post(&text(&wamid(NUMBER, 6), who, "START")).await;
        // A redelivery is still recognised by its key.
        assert_eq!(
            setup.post(&text(&wamid(NUMBER, 6), who, "START")).await,
            vec!["duplicate"]
        );
        // Subscribing to alerts keeps the address alerts go to, sealed.
        setup.post(&text(&wamid(NUMBER, 7), who, "alerts")).await;
        assert_eq!(
            setup
                .post(&list_reply(
                    &wamid(NUMBER, 8),
                    who,
                    "subscribe:rumours",
                    "False rumours"
                ))
                .await,
            vec!["subscribed"]
        );
        let audience = setup
            .store
            .audience_page(
                &votecheck_store::AudienceQuery {
                    topic: votecheck_store::Topic::Rumours,
                    language: "en".to_owned(),
                    jurisdiction: None,
                },
                None,
                10,
                NOW,
            )
            .await
            .unwrap();
        assert_eq!(audience.members.len(), 1, "{kind:?}");
        assert!(audience.members[0].contact.is_some());

        let stored = setup.dump().await;
        assert!(!stored.is_empty());
        assert_no_number(&stored, NUMBER, &format!("the {kind:?} store"));
        let feedback = setup
            .store
            .feedback_between(NOW - 10, NOW + 10, NOW)
            .await
            .unwrap();
        assert_eq!(feedback.len(), 1, "{kind:?}: the tap found its query");
        // What leaves the process as ids (button ids, the quoted message's key) and what a log or
        // the console could show (`Debug`) hold no number either; only the Graph API's
        // `context.message_id` carries the raw id.
        for message in setup.sender.sent() {
            if let Some(reply_to) = &message.reply_to {
                assert!(reply_to.message_id.starts_with("wamid."));
            }
            let mut shown = format!("{message:?}");
            if let OutboundContent::Buttons { buttons, .. } = &message.content {
                for button in buttons {
                    shown.push_str(&button.id);
                }
            }
            assert_no_number(&shown, NUMBER, "a reply");
        }
    }
}

/// Log lines written while a test runs on this thread.
#[derive(Clone, Default)]
struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLog {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
    type Writer = CapturedLog;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn an_overlong_message_id_dedupes_and_is_never_logged() {
    for kind in BACKENDS {
        let setup = Setup::new(kind).await;
        let log = CapturedLog::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(log.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        // Over the 512 bytes a stored id may have, and carrying the number.
        let id = format!("{}{}", wamid(NUMBER, 7), "A".repeat(600));
        let message = text(&id, phone(NUMBER), "How do I vote by mail?");
        assert_eq!(setup.post(&message).await, vec!["answer"], "{kind:?}");
        assert_eq!(setup.post(&message).await, vec!["duplicate"], "{kind:?}");
        let quoting = setup
            .sender
            .sent()
            .iter()
            .filter(|message| message.reply_to.is_some())
            .count();
        assert_eq!(quoting, 1, "{kind:?}: answered once");
        let logged = log.text();
        assert!(logged.contains("duplicate delivery ignored"), "{logged}");
        assert!(
            !logged.contains("AAAAAAAAAA"),
            "{kind:?}: the id is logged:\n{logged}"
        );
        assert_no_number(&logged, NUMBER, "the log");
    }
}

// One identity per citizen (issue 16, point 4), on both backends.

const NEW_NUMBER: &str = "34600999888";

#[tokio::test(flavor = "multi_thread")]
async fn a_stop_by_number_holds_when_the_bsuid_appears() {
    for kind in BACKENDS {
        let setup = Setup::new(kind).await;
        setup
            .post(&text("wamid.S1", phone(NUMBER), "How do I vote by mail?"))
            .await;
        assert_eq!(
            setup.post(&text("wamid.S2", phone(NUMBER), "STOP")).await,
            vec!["opt_out"]
        );
        let sent = setup.sent_count();
        for (id, who) in [("wamid.S3", both(NUMBER, USER)), ("wamid.S4", bsuid(USER))] {
            assert_eq!(
                setup.post(&text(id, who, "How do I vote by mail?")).await,
                vec!["opted_out"],
                "{kind:?} {who:?}"
            );
        }
        assert_eq!(setup.sent_count(), sent, "{kind:?}: nothing sent");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_my_data_by_bsuid_removes_what_was_kept_under_the_number() {
    for kind in BACKENDS {
        let setup = Setup::new(kind).await;
        setup
            .post(&text("wamid.D1", phone(NUMBER), "How do I vote by mail?"))
            .await;
        setup.post(&text("wamid.D2", phone(NUMBER), "STOP")).await;
        setup
            .post(&delivery_failed("wamid.BOT.D", phone(NUMBER)))
            .await;
        // WhatsApp sends both ids once: from then on either names the same citizen.
        setup
            .post(&text("wamid.D3", both(NUMBER, USER), "hello"))
            .await;
        setup
            .post(&text("wamid.D4", bsuid(USER), "delete my data"))
            .await;
        // Two queries (the question and "STOP"), the preferences, the delivery failure and the
        // links of both ids.
        assert_eq!(
            setup.last_reply(),
            "Done: I deleted everything I had stored about you (6 records).",
            "{kind:?}"
        );
        let queries = setup
            .store
            .queries_between(NOW - 10, NOW + 10, NOW)
            .await
            .unwrap();
        assert!(queries.is_empty(), "{kind:?}: {queries:?}");
        for id in [NUMBER, USER] {
            let key = votecheck_store::CitizenKey::derive(SALT, id);
            assert_eq!(setup.store.preferences(&key, NOW).await.unwrap(), None);
            assert_eq!(setup.store.identity(&key, NOW).await.unwrap(), None);
        }
        // The opt-out went with the rest: the number is answered again.
        assert_eq!(
            setup
                .post(&text("wamid.D5", phone(NUMBER), "How do I vote by mail?"))
                .await,
            vec!["answer"],
            "{kind:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_limit_follows_the_citizen_across_ids() {
    for kind in BACKENDS {
        let setup = Setup::new(kind).await;
        let limit = votecheck_store::StoreConfig::default()
            .rate_limit
            .max_messages;
        for index in 0..limit {
            setup
                .post(&text(&format!("wamid.R{index}"), phone(NUMBER), "thanks"))
                .await;
        }
        assert_eq!(
            setup
                .post(&text("wamid.R.both", both(NUMBER, USER), "thanks"))
                .await,
            vec!["rate_limited"],
            "{kind:?}: the BSUID does not reset the limit"
        );
        assert_eq!(
            setup
                .post(&text("wamid.R.user", bsuid(USER), "thanks"))
                .await,
            vec!["rate_limited"],
            "{kind:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_opt_out_survives_a_number_change() {
    for kind in BACKENDS {
        // Known by number only, then with the BSUID too.
        for with_bsuid in [false, true] {
            let setup = Setup::new(kind).await;
            let old = if with_bsuid {
                both(NUMBER, USER)
            } else {
                phone(NUMBER)
            };
            let new = if with_bsuid {
                both(NEW_NUMBER, USER)
            } else {
                phone(NEW_NUMBER)
            };
            setup.post(&text("wamid.N1", old, "STOP")).await;
            setup
                .post(&number_changed("wamid.N2", old, NEW_NUMBER))
                .await;
            let sent = setup.sent_count();
            assert_eq!(
                setup
                    .post(&text("wamid.N3", new, "How do I vote by mail?"))
                    .await,
                vec!["opted_out"],
                "{kind:?} with BSUID {with_bsuid}"
            );
            assert_eq!(
                setup
                    .post(&text("wamid.N4", phone(NEW_NUMBER), "How do I vote?"))
                    .await,
                vec!["opted_out"],
                "{kind:?} with BSUID {with_bsuid}"
            );
            assert_eq!(setup.sent_count(), sent);
            // Whoever gets the old number next is someone else.
            assert_eq!(
                setup
                    .post(&text("wamid.N5", phone(NUMBER), "How do I vote by mail?"))
                    .await,
                vec!["answer"],
                "{kind:?} with BSUID {with_bsuid}"
            );
        }
    }
}

// Commands before the rate limit, and silence for those who opted out (point 6).

#[tokio::test(flavor = "multi_thread")]
async fn stop_and_delete_my_data_are_applied_over_the_rate_limit() {
    for kind in BACKENDS {
        let setup = Setup::new(kind).await;
        let limit = votecheck_store::StoreConfig::default()
            .rate_limit
            .max_messages;
        for index in 0..=limit {
            setup
                .post(&text(&format!("wamid.L{index}"), phone(NUMBER), "thanks"))
                .await;
        }
        assert_eq!(
            setup
                .post(&text("wamid.L.stop", phone(NUMBER), "STOP"))
                .await,
            vec!["opt_out"],
            "{kind:?}"
        );
        assert!(
            setup.last_reply().contains("START"),
            "{}",
            setup.last_reply()
        );
        setup.advance(3_600);
        assert_eq!(
            setup
                .post(&text("wamid.L.after", phone(NUMBER), "How do I vote?"))
                .await,
            vec!["opted_out"],
            "{kind:?}: the opt-out was saved"
        );

        let other = phone(NEW_NUMBER);
        for index in 0..=limit {
            setup
                .post(&text(&format!("wamid.M{index}"), other, "thanks"))
                .await;
        }
        setup
            .post(&text("wamid.M.delete", other, "delete my data"))
            .await;
        assert!(
            setup.last_reply().starts_with("Done: I deleted everything"),
            "{kind:?}: {}",
            setup.last_reply()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_but_the_opt_in_confirmation_reaches_a_citizen_who_opted_out() {
    for kind in BACKENDS {
        let setup = Setup::new(kind).await;
        setup
            .post(&text("wamid.Q1", phone(NUMBER), "How do I vote by mail?"))
            .await;
        let yes = feedback_button(&setup);
        setup.post(&text("wamid.Q2", phone(NUMBER), "STOP")).await;
        let sent = setup.sent_count();
        let read = setup.sender.read().len();
        let limit = votecheck_store::StoreConfig::default()
            .rate_limit
            .max_messages;
        for index in 0..limit + 2 {
            setup
                .post(&text(
                    &format!("wamid.Q.flood{index}"),
                    phone(NUMBER),
                    "hello?",
                ))
                .await;
        }
        setup.advance(3_600);
        setup
            .post(&button("wamid.Q3", phone(NUMBER), &yes, "Yes"))
            .await;
        setup.post(&image("wamid.Q4", phone(NUMBER))).await;
        setup.post(&text("wamid.Q5", phone(NUMBER), "STOP")).await;
        assert_eq!(
            setup.sent_count(),
            sent,
            "{kind:?}: {:?}",
            setup.sender.sent().last()
        );
        assert_eq!(
            setup.sender.read().len(),
            read,
            "{kind:?}: no read receipt either"
        );
        setup.post(&text("wamid.Q6", phone(NUMBER), "START")).await;
        assert_eq!(setup.sent_count(), sent + 1, "{kind:?}");
        assert!(
            setup.last_reply().starts_with("Welcome back"),
            "{}",
            setup.last_reply()
        );
    }
}
