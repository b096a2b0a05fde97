//! Where replies go in local mode. [`LocalSender`] captures every reply in the [`Outbox`] (the
//! console shows them); replies to console citizens never leave the machine, and replies to real
//! WhatsApp users go through the Graph API only when a token is configured — otherwise they are
//! a dry run, labelled as such.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use serde::Serialize;
use votecheck_graph::{GraphError, Recipient};
use votecheck_webhook::{GraphSender, OutboundContent, OutgoingMessage, ReplySender, SendFailure};

/// Citizens the console simulates have WhatsApp ids starting with this; no real id does (real
/// ids are digits or `CC.digits` business-scoped ids).
pub const CONSOLE_CITIZEN_PREFIX: &str = "console-";

/// Message ids of console messages start with this.
pub const CONSOLE_MESSAGE_PREFIX: &str = "wamid.console.";

/// How many replies the outbox keeps.
pub const KEPT_REPLIES: usize = 500;

/// A reply as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    /// Increases by one per reply (the console asks for entries after the last it saw).
    pub seq: u64,
    /// Who it went to: a console citizen's id, or a masked WhatsApp id (last 4 characters).
    pub to: String,
    /// Whether the recipient is a citizen simulated by the console.
    pub console: bool,
    /// The key of the citizen's message this replies to (the keyed hash: a WhatsApp message id
    /// carries the sender's number, so the console never sees one).
    pub reply_to: Option<String>,
    /// Captured instead of sent (no Graph token configured, or a console citizen).
    pub dry_run: bool,
    /// Why sending failed, when it did.
    pub error: Option<String>,
    /// What was sent (serialised with its `type`: text, buttons, list, template).
    pub content: OutboundContent,
}

/// The id of a recipient.
fn recipient_id(recipient: &Recipient) -> &str {
    match recipient {
        Recipient::PhoneNumber(id) | Recipient::BusinessScopedUserId(id) => id,
    }
}

/// Whether a recipient is a citizen the console simulates.
pub fn is_console_citizen(recipient: &Recipient) -> bool {
    recipient_id(recipient).starts_with(CONSOLE_CITIZEN_PREFIX)
}

/// How a recipient is shown: console ids in full, real ids masked to their last 4 characters.
pub fn shown_recipient(recipient: &Recipient) -> String {
    let id = recipient_id(recipient);
    if id.starts_with(CONSOLE_CITIZEN_PREFIX) {
        return id.to_string();
    }
    let tail: String = id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

/// The most recent replies.
#[derive(Debug, Default)]
pub struct Outbox {
    next_seq: AtomicU64,
    entries: Mutex<VecDeque<OutboxEntry>>,
}

impl Outbox {
    /// Adds a reply and returns its sequence number.
    pub fn push(&self, message: &OutgoingMessage, dry_run: bool, error: Option<String>) -> u64 {
        let seq = self.next_seq.fetch_add(1, Ordering::SeqCst) + 1;
        let entry = OutboxEntry {
            seq,
            to: shown_recipient(&message.to),
            console: is_console_citizen(&message.to),
            reply_to: message
                .reply_to
                .as_ref()
                .map(|reply_to| reply_to.key.to_string()),
            dry_run,
            error,
            content: message.content.clone(),
        };
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() == KEPT_REPLIES {
                entries.pop_front();
            }
            entries.push_back(entry);
        }
        seq
    }

    /// The last sequence number handed out (0 before the first reply).
    pub fn last_seq(&self) -> u64 {
        self.next_seq.load(Ordering::SeqCst)
    }

    /// The kept replies with a sequence number above `after`, oldest first.
    pub fn after(&self, after: u64) -> Vec<OutboxEntry> {
        self.entries
            .lock()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|entry| entry.seq > after)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The local server's [`ReplySender`].
pub struct LocalSender {
    outbox: std::sync::Arc<Outbox>,
    graph: Option<GraphSender>,
}

impl LocalSender {
    /// Captures everything (`graph: None`) or sends real citizens' replies through the Graph API.
    pub fn new(outbox: std::sync::Arc<Outbox>, graph: Option<GraphSender>) -> Self {
        LocalSender { outbox, graph }
    }

    /// Whether replies to real citizens are captured instead of sent.
    pub fn is_dry_run(&self) -> bool {
        self.graph.is_none()
    }
}

#[async_trait]
impl ReplySender for LocalSender {
    async fn mark_read(&self, message_id: &str) -> Result<(), SendFailure> {
        self.mark_read_by(message_id, None).await
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<String, SendFailure> {
        self.send_by(message, None).await
    }

    async fn mark_read_until(
        &self,
        message_id: &str,
        deadline: Instant,
    ) -> Result<(), SendFailure> {
        self.mark_read_by(message_id, Some(deadline)).await
    }

    async fn send_until(
        &self,
        message: &OutgoingMessage,
        deadline: Instant,
    ) -> Result<String, SendFailure> {
        self.send_by(message, Some(deadline)).await
    }
}

impl LocalSender {
    async fn mark_read_by(
        &self,
        message_id: &str,
        deadline: Option<Instant>,
    ) -> Result<(), SendFailure> {
        match &self.graph {
            Some(graph) if !message_id.starts_with(CONSOLE_MESSAGE_PREFIX) => match deadline {
                Some(deadline) => graph.mark_read_until(message_id, deadline).await,
                None => graph.mark_read(message_id).await,
            },
            _ => Ok(()),
        }
    }

    async fn send_by(
        &self,
        message: &OutgoingMessage,
        deadline: Option<Instant>,
    ) -> Result<String, SendFailure> {
        match &self.graph {
            Some(graph) if !is_console_citizen(&message.to) => {
                let sent = match deadline {
                    Some(deadline) => graph.send_until(message, deadline).await,
                    None => graph.send(message).await,
                };
                match sent {
                    Ok(id) => {
                        self.outbox.push(message, false, None);
                        Ok(id)
                    }
                    Err(failure) => {
                        self.outbox.push(message, false, Some(failure.to_string()));
                        Err(failure)
                    }
                }
            }
            _ => {
                // A dry run refuses what the Cloud API would refuse, and shows it.
                if let Err(problem) = message.content.check() {
                    let failure = SendFailure::from(GraphError::from(problem));
                    self.outbox.push(message, true, Some(failure.to_string()));
                    return Err(failure);
                }
                let seq = self.outbox.push(message, true, None);
                Ok(format!("wamid.DRYRUN.{seq}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_to(id: &str, body: &str) -> OutgoingMessage {
        OutgoingMessage {
            to: Recipient::PhoneNumber(id.to_string()),
            reply_to: Some(votecheck_webhook::ReplyTo {
                message_id: "wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUY3".to_string(),
                key: votecheck_store::MessageKey::derive(b"salt", "wamid.1"),
            }),
            content: OutboundContent::Text {
                body: body.to_string(),
            },
        }
    }

    #[tokio::test]
    async fn without_a_token_every_reply_is_a_labelled_dry_run() {
        let outbox = std::sync::Arc::new(Outbox::default());
        let sender = LocalSender::new(outbox.clone(), None);
        let id = sender.send(&text_to("15551234567", "hello")).await.unwrap();
        assert_eq!(id, "wamid.DRYRUN.1");
        let entries = outbox.after(0);
        assert_eq!(entries.len(), 1);
        assert!(entries[0].dry_run);
        assert_eq!(entries[0].to, "…4567", "real ids are masked");
        assert_eq!(
            entries[0].reply_to.as_deref(),
            Some(votecheck_store::MessageKey::derive(b"salt", "wamid.1").as_str()),
            "the console sees the message's key, never its id"
        );
        assert!(!entries[0].console);
    }

    #[test]
    fn console_citizens_are_shown_in_full_and_the_outbox_pages_by_sequence() {
        let outbox = Outbox::default();
        outbox.push(&text_to("console-ab12", "one"), true, None);
        outbox.push(&text_to("console-ab12", "two"), true, None);
        assert_eq!(outbox.last_seq(), 2);
        let later = outbox.after(1);
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].to, "console-ab12");
        assert!(later[0].console);
        assert_eq!(
            later[0].content,
            OutboundContent::Text {
                body: "two".to_string()
            }
        );
    }

    #[tokio::test]
    async fn a_dry_run_refuses_what_whatsapp_would_refuse_and_shows_it() {
        let outbox = std::sync::Arc::new(Outbox::default());
        let sender = LocalSender::new(outbox.clone(), None);
        let mut message = text_to("console-ab12", "ok");
        message.content = OutboundContent::Buttons {
            body: "Helpful?".to_string(),
            buttons: vec![votecheck_outbound::Button::new(
                "a",
                "a title far over twenty",
            )],
        };
        let failure = sender.send(&message).await.unwrap_err();
        assert_eq!(failure.metric, "graph_invalid_message");
        let shown = outbox.after(0);
        assert!(
            shown[0].error.as_deref().unwrap().contains("button title"),
            "{shown:?}"
        );
        assert!(sender.send(&text_to("console-ab12", "ok")).await.is_ok());
    }

    #[test]
    fn the_outbox_keeps_only_the_most_recent_replies() {
        let outbox = Outbox::default();
        for _ in 0..KEPT_REPLIES + 5 {
            outbox.push(&text_to("console-x", "again"), true, None);
        }
        let kept = outbox.after(0);
        assert_eq!(kept.len(), KEPT_REPLIES);
        assert_eq!(kept[0].seq, 6);
    }
}
