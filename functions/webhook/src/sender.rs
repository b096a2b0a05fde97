//! Sending replies: the [`ReplySender`] trait the handler talks to, its Graph API implementation
//! ([`GraphSender`]) and a dry-run one that captures what would have been sent
//! ([`CapturingSender`], for the local preview and for tests, which refuses what WhatsApp would
//! refuse). What a reply contains is votecheck's one outbound-message type,
//! [`votecheck_outbound::OutboundContent`].
//!
//! A [`SendFailure`] says, by its [`SendFailureKind`], whether the reply certainly did not reach
//! WhatsApp and a later try may succeed (the handler then lets WhatsApp redeliver the message),
//! may have reached it (never sent again), or was refused for good.

use std::sync::Mutex;
use std::time::Instant;

use async_trait::async_trait;
use votecheck_graph::{GraphClient, GraphError, Recipient};
use votecheck_outbound::OutboundContent;
use votecheck_store::MessageKey;

/// The citizen's message a reply quotes.
#[derive(Clone, PartialEq, Eq)]
pub struct ReplyTo {
    /// The WhatsApp message id, only for the Graph API's `context.message_id`: it carries the
    /// sender's phone number, so it is never stored, logged or shown (`Debug` leaves it out).
    pub message_id: String,
    /// Its keyed hash, for anything stored or shown (the local console's outbox).
    pub key: MessageKey,
}

impl std::fmt::Debug for ReplyTo {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ReplyTo")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// One reply to one citizen.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    /// The citizen.
    pub to: Recipient,
    /// The citizen's message this replies to (shown as a quote in WhatsApp).
    pub reply_to: Option<ReplyTo>,
    /// What the reply contains.
    pub content: OutboundContent,
}

/// What a failed send means for the message it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailureKind {
    /// Certainly not delivered, and a later try may succeed (a 5xx or a rate limit after the
    /// retries, no connection, no time left before the deadline): a redelivery of the webhook
    /// should answer the message.
    Transient,
    /// The request went out and its fate is unknown (a timeout or a broken connection while
    /// waiting for the answer): the citizen may have the reply, so it is never sent again.
    MaybeDelivered,
    /// Refused for good (outside the 24-hour window, an expired token, an invalid message, other
    /// 4xx): trying again would fail the same way.
    Refused,
}

/// Why a reply could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sending failed ({metric}): {reason}")]
pub struct SendFailure {
    /// Metric name for counting failures (`graph_outside_window`, `graph_token_expired`...).
    pub metric: &'static str,
    /// What went wrong, without personal data.
    pub reason: String,
    /// Whether the reply may have arrived, and whether trying later may help.
    pub kind: SendFailureKind,
}

impl From<GraphError> for SendFailure {
    fn from(error: GraphError) -> Self {
        let kind = if error.may_have_been_delivered() {
            SendFailureKind::MaybeDelivered
        } else if error.is_transient() {
            SendFailureKind::Transient
        } else {
            SendFailureKind::Refused
        };
        SendFailure {
            metric: error.metric_name(),
            reason: error.to_string(),
            kind,
        }
    }
}

/// Sends replies and read receipts.
#[async_trait]
pub trait ReplySender: Send + Sync {
    /// Marks a citizen's message as read and shows the typing indicator.
    async fn mark_read(&self, message_id: &str) -> Result<(), SendFailure>;
    /// Sends a reply; returns the WhatsApp message id of the reply.
    async fn send(&self, message: &OutgoingMessage) -> Result<String, SendFailure>;

    /// [`ReplySender::mark_read`], over by `deadline`. Senders that do no I/O need not
    /// override it.
    async fn mark_read_until(
        &self,
        message_id: &str,
        deadline: Instant,
    ) -> Result<(), SendFailure> {
        let _ = deadline;
        self.mark_read(message_id).await
    }

    /// [`ReplySender::send`], over by `deadline`: a sender that cannot start in time fails
    /// with [`SendFailureKind::Transient`]. Senders that do no I/O need not override it.
    async fn send_until(
        &self,
        message: &OutgoingMessage,
        deadline: Instant,
    ) -> Result<String, SendFailure> {
        let _ = deadline;
        self.send(message).await
    }
}

/// Sends through the WhatsApp Cloud API.
pub struct GraphSender {
    client: GraphClient,
}

impl GraphSender {
    /// A sender over a Graph client (build the client once per process).
    pub fn new(client: GraphClient) -> Self {
        GraphSender { client }
    }
}

#[async_trait]
impl ReplySender for GraphSender {
    async fn mark_read(&self, message_id: &str) -> Result<(), SendFailure> {
        Ok(self.client.mark_read(message_id, true).await?)
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<String, SendFailure> {
        send_through(&self.client, message).await
    }

    async fn mark_read_until(
        &self,
        message_id: &str,
        deadline: Instant,
    ) -> Result<(), SendFailure> {
        Ok(self
            .client
            .until(deadline)
            .mark_read(message_id, true)
            .await?)
    }

    async fn send_until(
        &self,
        message: &OutgoingMessage,
        deadline: Instant,
    ) -> Result<String, SendFailure> {
        send_through(&self.client.until(deadline), message).await
    }
}

/// Sends one reply through `client`.
async fn send_through(
    client: &GraphClient,
    message: &OutgoingMessage,
) -> Result<String, SendFailure> {
    let reply_to = message
        .reply_to
        .as_ref()
        .map(|reply_to| reply_to.message_id.as_str());
    let sent = client
        .send_content(&message.to, &message.content, reply_to)
        .await?;
    Ok(sent.message_id)
}

/// A dry-run sender: records every reply and read receipt instead of sending it.
#[derive(Debug, Default)]
pub struct CapturingSender {
    sent: Mutex<Vec<OutgoingMessage>>,
    read: Mutex<Vec<String>>,
}

impl CapturingSender {
    /// The replies captured so far.
    pub fn sent(&self) -> Vec<OutgoingMessage> {
        self.sent
            .lock()
            .map(|sent| sent.clone())
            .unwrap_or_default()
    }

    /// The message ids marked as read so far.
    pub fn read(&self) -> Vec<String> {
        self.read
            .lock()
            .map(|read| read.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl ReplySender for CapturingSender {
    async fn mark_read(&self, message_id: &str) -> Result<(), SendFailure> {
        if let Ok(mut read) = self.read.lock() {
            read.push(message_id.to_string());
        }
        Ok(())
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<String, SendFailure> {
        // What the Cloud API would refuse is refused here too, so a dry run shows it.
        message.content.check().map_err(GraphError::from)?;
        let mut sent = self.sent.lock().map_err(|_| SendFailure {
            metric: "dry_run",
            reason: "the capture lock is poisoned".to_string(),
            kind: SendFailureKind::Refused,
        })?;
        sent.push(message.clone());
        Ok(format!("wamid.DRYRUN.{}", sent.len()))
    }
}
