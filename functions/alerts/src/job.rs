//! The jobs on the alert queue: what `votecheck alerts send` enqueues and the sender consumes,
//! as JSON (one SQS message each, well under its size limit).
//!
//! - [`DeliveryJob`]: up to [`MAX_RECIPIENTS`] recipients of one alert in one language, each as
//!   their citizen key and their sealed address (the queue never holds a phone number in
//!   clear), with the template to send and the free-form text allowed inside a citizen's
//!   24-hour window;
//! - [`ExpandJob`]: an alert file to enqueue later, put on the queue by a timed schedule; the
//!   sender expands it into delivery jobs exactly as `votecheck alerts send` would.
//!
//! ```
//! use votecheck_alerts::job::Job;
//!
//! let job = Job::from_json(br#"{"kind":"expand","file":"deadline.toml","alert":"id = 'x'"}"#).unwrap();
//! assert!(matches!(job, Job::Expand(_)));
//! assert!(Job::from_json(b"{}").is_err());
//! ```

use serde::{Deserialize, Serialize};
use votecheck_outbound::Template;
use votecheck_store::contact::SealedContact;
use votecheck_store::{CitizenKey, Topic};

/// The most recipients in one delivery job: about 20 KB of JSON, and 1.25 s of sending at the
/// default 80 messages a second.
pub const MAX_RECIPIENTS: usize = 100;

/// One message on the alert queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Send to these recipients.
    Deliver(DeliveryJob),
    /// Enqueue this alert's audience (a timed alert, put on the queue by its schedule).
    Expand(ExpandJob),
}

/// Recipients of one alert in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    /// The alert's id: with the citizen, what makes a send happen once.
    pub alert_id: String,
    /// The alert's topic: a recipient no longer subscribed to it is skipped.
    pub topic: Topic,
    /// The recipients' language.
    pub language: String,
    /// The template sent outside a citizen's 24-hour window.
    pub template: Template,
    /// The text sent instead inside the window, when the alert file gives the template's body.
    pub free_form: Option<String>,
    /// When the job was enqueued, Unix seconds.
    pub enqueued_at: i64,
    /// Who.
    pub recipients: Vec<JobRecipient>,
}

/// One recipient of a delivery job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecipient {
    /// The citizen's key.
    pub citizen: CitizenKey,
    /// Where the alert reaches them, sealed; only the sender opens it.
    pub contact: SealedContact,
}

/// An alert file to expand when its time comes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpandJob {
    /// The file's name, for messages.
    pub file: String,
    /// The file's text (TOML), checked again when it is expanded.
    pub alert: String,
}

impl Job {
    /// The job as a queue message.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("jobs serialize: strings, numbers and lists only")
    }

    /// Reads a queue message back.
    pub fn from_json(body: &[u8]) -> Result<Job, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_delivery_job_round_trips_and_fits_a_queue_message() {
        let recipients = (0..MAX_RECIPIENTS)
            .map(|index| JobRecipient {
                citizen: CitizenKey::derive(b"salt", &format!("3460000{index:04}")),
                contact: SealedContact::from_stored(format!("v1.{}", "A".repeat(60))),
            })
            .collect();
        let job = Job::Deliver(DeliveryJob {
            alert_id: "registration-deadline".into(),
            topic: Topic::Deadlines,
            language: "es".into(),
            template: Template {
                name: "registration_deadline".into(),
                language: "es_MX".into(),
                body_parameters: vec!["19 de octubre".into()],
            },
            free_form: Some("Regístrate antes del 19 de octubre.".into()),
            enqueued_at: 1_790_000_000,
            recipients,
        });
        let json = job.to_json();
        assert!(json.len() < 64 * 1024, "{} bytes", json.len());
        assert!(!json.contains("3460000"), "no number in clear");
        assert_eq!(Job::from_json(json.as_bytes()).unwrap(), job);
    }
}
