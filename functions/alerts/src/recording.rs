//! [`RecordingChannel`]: an [`AlertChannel`] that sends nothing and keeps what it would have
//! sent, for the local preview (`votecheck serve` shows it in the console), tests and the
//! fan-out benchmark's dry runs. It refuses what the Cloud API would refuse (a message over
//! WhatsApp's limits) and can be told to fail the next sends the way the Cloud API fails.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use votecheck_graph::{GraphError, Recipient, SentMessage};
use votecheck_outbound::OutboundContent;

use crate::sender::AlertChannel;

/// One message the channel took.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedAlert {
    /// To whom.
    pub to: Recipient,
    /// What.
    pub content: OutboundContent,
    /// The message id it answered with (`wamid.ALERT.<n>`).
    pub message_id: String,
}

/// Keeps what it is given to send.
#[derive(Default)]
pub struct RecordingChannel {
    sent: Mutex<Vec<RecordedAlert>>,
    failures: Mutex<VecDeque<fn() -> GraphError>>,
    counter: AtomicU64,
    keep: bool,
}

impl RecordingChannel {
    /// A channel that keeps every message.
    pub fn new() -> Self {
        RecordingChannel {
            keep: true,
            ..RecordingChannel::default()
        }
    }

    /// A channel that only counts (benchmarks: a million kept messages would measure memory,
    /// not the sender).
    pub fn counting() -> Self {
        RecordingChannel::default()
    }

    /// The next `count` sends fail with `failure()`.
    pub fn fail_next(&self, count: usize, failure: fn() -> GraphError) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.extend(std::iter::repeat_n(failure, count));
    }

    /// Every message taken so far, in order.
    pub fn sent(&self) -> Vec<RecordedAlert> {
        self.sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// How many messages were taken.
    pub fn count(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl AlertChannel for RecordingChannel {
    async fn send(
        &self,
        to: &Recipient,
        content: &OutboundContent,
    ) -> Result<SentMessage, GraphError> {
        content
            .check()
            .map_err(|problem| GraphError::InvalidMessage {
                field: problem.field,
                reason: problem.reason,
            })?;
        let failure = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop_front();
        if let Some(failure) = failure {
            return Err(failure());
        }
        let number = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let message_id = format!("wamid.ALERT.{number}");
        if self.keep {
            self.sent
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(RecordedAlert {
                    to: to.clone(),
                    content: content.clone(),
                    message_id: message_id.clone(),
                });
        }
        Ok(SentMessage { message_id })
    }
}
