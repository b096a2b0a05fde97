//! `votecheck alerts send`: reads an alert's audience in pages and enqueues one
//! [`DeliveryJob`] per [`MAX_RECIPIENTS`] subscribers ([`enqueue_alert`]). Idempotent through the
//! store's run of the alert: a finished run enqueues nothing again, an interrupted one resumes
//! at the page after the last one it saved. The page enqueued just before an interruption may be
//! enqueued twice; the sender's per-recipient claims make that send nothing twice.

use votecheck_store::{AlertRun, AudienceQuery, Store, StoreError};

use crate::file::Alert;
use crate::job::{DeliveryJob, Job, JobRecipient, MAX_RECIPIENTS};
use crate::queue::{JobQueue, QueueError};

/// Subscribers read per page: ten jobs.
const PAGE: u32 = (MAX_RECIPIENTS * 10) as u32;

/// Why an alert could not be (fully) enqueued. What was enqueued stays, and sending again
/// resumes.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What one `alerts send` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnqueueSummary {
    /// The alert's id.
    pub alert_id: String,
    /// The alert had been sent completely before: nothing was enqueued.
    pub already_sent: bool,
    /// An interrupted earlier send was resumed.
    pub resumed: bool,
    /// Recipients enqueued by this call.
    pub recipients: u64,
    /// Jobs enqueued by this call.
    pub jobs: u64,
    /// Subscribers left out because the store has no address for them (they subscribed before
    /// addresses were kept; they are reached again when they next write).
    pub without_address: u64,
}

impl std::fmt::Display for EnqueueSummary {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.already_sent {
            return write!(
                formatter,
                "alert {} was sent before: nothing new to enqueue",
                self.alert_id
            );
        }
        write!(
            formatter,
            "alert {}: {} recipient(s) in {} job(s) enqueued{}",
            self.alert_id,
            self.recipients,
            self.jobs,
            if self.resumed {
                " (resumed an interrupted send)"
            } else {
                ""
            }
        )?;
        if self.without_address > 0 {
            write!(
                formatter,
                "; {} subscriber(s) without a stored address left out",
                self.without_address
            )?;
        }
        Ok(())
    }
}

/// The key of one audience (a language, one jurisdiction or all) in a run's progress.
fn progress_key(language: &str, jurisdiction: Option<&str>) -> String {
    format!("{language}/{}", jurisdiction.unwrap_or("*"))
}

/// Enqueues `alert`'s audience as of `now` on `queue`.
pub async fn enqueue_alert(
    alert: &Alert,
    store: &dyn Store,
    queue: &dyn JobQueue,
    now: i64,
) -> Result<EnqueueSummary, EnqueueError> {
    let mut summary = EnqueueSummary {
        alert_id: alert.id.clone(),
        ..EnqueueSummary::default()
    };
    let fresh = AlertRun {
        alert_id: alert.id.clone(),
        topic: alert.topic,
        started_at: now,
        finished_at: None,
        enqueued: 0,
        progress: Default::default(),
    };
    let mut run = match store.start_alert_run(&fresh).await? {
        None => fresh,
        Some(existing) if existing.finished_at.is_some() => {
            summary.already_sent = true;
            return Ok(summary);
        }
        Some(existing) => {
            summary.resumed = true;
            existing
        }
    };
    let scopes: Vec<Option<String>> = if alert.jurisdictions.is_empty() {
        vec![None]
    } else {
        alert.jurisdictions.iter().cloned().map(Some).collect()
    };
    for (language, template) in &alert.templates {
        for jurisdiction in &scopes {
            let key = progress_key(language, jurisdiction.as_deref());
            let mut cursor = match run.progress.get(&key) {
                Some(None) => continue,
                Some(Some(cursor)) => Some(cursor.clone()),
                None => None,
            };
            let query = AudienceQuery {
                topic: alert.topic,
                language: language.clone(),
                jurisdiction: jurisdiction.clone(),
            };
            loop {
                let page = store
                    .audience_page(&query, cursor.as_deref(), PAGE, now)
                    .await?;
                let mut recipients = Vec::with_capacity(page.members.len());
                for member in page.members {
                    match member.contact {
                        Some(contact) => recipients.push(JobRecipient {
                            citizen: member.citizen,
                            contact,
                        }),
                        None => summary.without_address += 1,
                    }
                }
                let jobs: Vec<Job> = recipients
                    .chunks(MAX_RECIPIENTS)
                    .map(|chunk| {
                        Job::Deliver(DeliveryJob {
                            alert_id: alert.id.clone(),
                            topic: alert.topic,
                            language: language.clone(),
                            template: template.template.clone(),
                            free_form: template.free_form(),
                            enqueued_at: now,
                            recipients: chunk.to_vec(),
                        })
                    })
                    .collect();
                if !jobs.is_empty() {
                    queue.enqueue(&jobs).await?;
                }
                summary.jobs += jobs.len() as u64;
                summary.recipients += recipients.len() as u64;
                run.enqueued += recipients.len() as u64;
                run.progress.insert(key.clone(), page.next.clone());
                store.save_alert_run(&run).await?;
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
    }
    run.finished_at = Some(now);
    store.save_alert_run(&run).await?;
    Ok(summary)
}
