//! Privacy and identity through the real handler, on both store backends (embedded SQLite and
//! DynamoDB on `moto_server`): no phone number in anything stored or shown, even inside a
//! message id; one identity per citizen whatever ids WhatsApp sends; commands before the rate
//! limit; and an honest answer to "delete my data".

mod common;

use common::*;
use votecheck_webhook::OutgoingContent;

const NUMBER: &str = "34600111222";
const USER: &str = "US.1000000000000000002";

/// The id of the first feedback button among the replies.
fn feedback_button(setup: &Setup) -> String {
    setup
        .sender
        .sent()
        .iter()
        .find_map(|message| match &message.content {
            OutgoingContent::Buttons { buttons, .. } => Some(buttons[0].0.clone()),
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
            if let OutgoingContent::Buttons { buttons, .. } = &message.content {
                for (id, _) in buttons {
                    shown.push_str(id);
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
