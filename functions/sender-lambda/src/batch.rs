//! One invocation's batch of SQS messages: each a [`Job`], delivered by the [`Sender`] or, for a
//! timed alert, expanded into delivery jobs on the queue ([`enqueue_alert`]). A message whose
//! job left recipients for later (throughput, time running out, a store or Graph API outage) or
//! failed as a whole is reported back as a batch item failure: SQS makes it visible again after
//! the visibility timeout and, after the queue's `maxReceiveCount`, moves it to the dead-letter
//! queue. A message that is not a job is reported too, so that it ends in the dead-letter queue
//! for someone to read rather than being dropped.

use std::time::Instant;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use tracing::{info, warn};
use votecheck_alerts::Alert;
use votecheck_alerts::enqueue::enqueue_alert;
use votecheck_alerts::job::Job;
use votecheck_alerts::queue::JobQueue;
use votecheck_alerts::sender::{DeliveryReport, Sender};
use votecheck_store::Store;

/// What one invocation did, for its metrics line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    /// The recipients' fates, summed over the delivery jobs.
    pub recipients: DeliveryReport,
    /// Messages reported back as failed.
    pub jobs_failed: u64,
}

impl BatchCounts {
    /// The counts in the order of [`crate::metrics::METRICS`].
    pub fn metrics(&self) -> [u64; 6] {
        let recipients = &self.recipients;
        [
            recipients.sent,
            recipients.failed,
            recipients.skipped,
            recipients.retry_later,
            recipients.throttled,
            self.jobs_failed,
        ]
    }
}

/// Processes every message of `event`; `queue` takes the delivery jobs of expanded alerts.
pub async fn process(
    event: SqsEvent,
    sender: &Sender,
    store: &dyn Store,
    queue: Option<&dyn JobQueue>,
    deadline: Instant,
) -> (SqsBatchResponse, BatchCounts) {
    let mut response = SqsBatchResponse::default();
    let mut counts = BatchCounts::default();
    for record in event.records {
        let message_id = record.message_id.unwrap_or_default();
        let body = record.body.unwrap_or_default();
        let done = match Job::from_json(body.as_bytes()) {
            Err(problem) => {
                warn!(%problem, "a queue message is not an alert job; leaving it for the dead-letter queue");
                false
            }
            Ok(Job::Deliver(job)) => {
                let report = sender.deliver(&job, Some(deadline)).await;
                info!(
                    alert = %job.alert_id,
                    sent = report.sent,
                    failed = report.failed,
                    skipped = report.skipped,
                    retry_later = report.retry_later,
                    "job delivered"
                );
                counts.recipients += report;
                report.retry_later == 0
            }
            Ok(Job::Expand(expand)) => {
                expand_alert(&expand.file, &expand.alert, store, queue).await
            }
        };
        if !done {
            counts.jobs_failed += 1;
            response.add_failure(message_id);
        }
    }
    (response, counts)
}

/// Enqueues a timed alert's audience. The file was checked by `votecheck alerts send
/// --print-job` against the engine's languages; here its own template languages are the list.
async fn expand_alert(
    file: &str,
    text: &str,
    store: &dyn Store,
    queue: Option<&dyn JobQueue>,
) -> bool {
    let Some(queue) = queue else {
        warn!(
            file,
            "a timed alert arrived but VOTECHECK_ALERT_QUEUE_URL is not set"
        );
        return false;
    };
    let languages = match toml::from_str::<toml::Table>(text) {
        Ok(table) => table
            .get("templates")
            .and_then(|templates| templates.as_table())
            .map(|templates| templates.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let alert = match Alert::parse(file, text, &languages) {
        Ok(alert) => alert,
        Err(problem) => {
            warn!(%problem, "a timed alert's file is invalid");
            return false;
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64);
    match enqueue_alert(&alert, store, queue, now).await {
        Ok(summary) => {
            info!(%summary, "timed alert enqueued");
            true
        }
        Err(problem) => {
            warn!(%problem, alert = %alert.id, "enqueueing a timed alert failed; it resumes on redelivery");
            false
        }
    }
}
