//! Where jobs go: the [`JobQueue`] trait, with the SQS queue of a deployment ([`SqsQueue`]) and
//! an in-process one for `votecheck serve` and tests ([`LocalQueue`]).

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::job::Job;

/// Why jobs could not be enqueued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("enqueueing alert jobs on {queue} failed: {message}")]
pub struct QueueError {
    /// The queue, as [`JobQueue::describe`] names it.
    pub queue: String,
    /// What went wrong.
    pub message: String,
}

/// A queue of alert jobs.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Enqueues every job, or fails naming the problem (jobs enqueued before the failure stay:
    /// the sender's per-recipient claims make enqueueing again harmless).
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), QueueError>;

    /// The queue, for messages: `sqs https://…/votecheck-alerts`, `in-process`.
    fn describe(&self) -> String;
}

/// An in-process queue: jobs wait in memory until taken.
#[derive(Debug, Default)]
pub struct LocalQueue {
    jobs: Mutex<VecDeque<Job>>,
}

impl LocalQueue {
    /// An empty queue.
    pub fn new() -> Self {
        LocalQueue::default()
    }

    /// Takes every waiting job, oldest first.
    pub fn take_all(&self) -> Vec<Job> {
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .drain(..)
            .collect()
    }

    /// How many jobs wait.
    pub fn len(&self) -> usize {
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }

    /// Whether no job waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl JobQueue for LocalQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), QueueError> {
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(jobs.iter().cloned());
        Ok(())
    }

    fn describe(&self) -> String {
        "in-process".to_owned()
    }
}

/// The deployment's SQS queue (`QueueUrl` output of the templates).
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

/// The most messages one `SendMessageBatch` takes.
const SQS_BATCH: usize = 10;

impl SqsQueue {
    /// The queue at `url`, through `client`.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> QueueError {
        QueueError {
            queue: self.describe(),
            message: message.into(),
        }
    }
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), QueueError> {
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        for chunk in jobs.chunks(SQS_BATCH) {
            let mut entries = chunk
                .iter()
                .enumerate()
                .map(|(index, job)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(job.to_json())
                        .build()
                        .map_err(|problem| self.error(problem.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            // Entries SQS could not take this time (throttling) are sent again, a few times.
            for attempt in 0..5u32 {
                if entries.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
                }
                let output = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.url)
                    .set_entries(Some(entries.clone()))
                    .send()
                    .await
                    .map_err(|problem| {
                        self.error(aws_sdk_sqs::error::DisplayErrorContext(problem).to_string())
                    })?;
                let failed: Vec<_> = output.failed().to_vec();
                if let Some(refused) = failed.iter().find(|failure| failure.sender_fault()) {
                    return Err(self.error(format!(
                        "SQS refused a job: {} {}",
                        refused.code(),
                        refused.message().unwrap_or_default()
                    )));
                }
                entries.retain(|entry| failed.iter().any(|failure| failure.id() == entry.id()));
            }
            if !entries.is_empty() {
                return Err(self.error(format!(
                    "{} job(s) still not taken after 5 attempts",
                    entries.len()
                )));
            }
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("sqs {}", self.url)
    }
}
