//! Alerts on their way out: the run of one alert ([`AlertRun`], how far `votecheck alerts send`
//! got through its audience), the send state of each recipient (claimed before the Cloud API is
//! called, so that a redelivered job never sends twice), and the funnel of an alert
//! ([`AlertFunnel`]: accepted, sent, delivered, read, failed by code), counted as delivery
//! statuses come back on the webhook.
//!
//! One rule moves a recipient's state, whatever the store ([`advance`]): stages only go forward
//! (a late `delivered` after `read` changes nothing), a stage skipped over is counted too (a
//! `read` with no `delivered` before it counts both: WhatsApp does not promise every status),
//! and a failure is counted once, by its code.
//!
//! ```
//! use votecheck_store::sends::{DeliveryStage, SendState, advance};
//!
//! let (state, counted) = advance(SendState::Accepted, DeliveryStage::Read).unwrap();
//! assert_eq!(state, SendState::Read);
//! assert_eq!(counted, ["sent", "delivered", "read"]);
//! assert!(advance(SendState::Read, DeliveryStage::Delivered).is_none());
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{StoreError, Topic};

/// One alert's run: created by the first `votecheck alerts send`, updated as pages of its
/// audience are enqueued, finished when every audience was read. A second send of a finished
/// run enqueues nothing; one of an unfinished run resumes where it stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRun {
    /// The alert's id, from its file.
    pub alert_id: String,
    /// Its topic.
    pub topic: Topic,
    /// When the first send started, Unix seconds.
    pub started_at: i64,
    /// When every audience had been enqueued; `None` while some remain.
    pub finished_at: Option<i64>,
    /// Recipients enqueued so far.
    pub enqueued: u64,
    /// Per audience (the alert's language), where reading stopped: absent, not started;
    /// `Some(cursor)`, the next page; `None`, read to the end.
    pub progress: BTreeMap<String, Option<String>>,
}

/// Where one recipient of one alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SendState {
    /// A sender took the recipient and is about to call the Cloud API (or was, when it stopped:
    /// the message may have gone, so it is never sent again).
    Claimed,
    /// The Cloud API accepted the message.
    Accepted,
    /// WhatsApp reported it sent.
    Sent,
    /// Delivered to the phone.
    Delivered,
    /// Read.
    Read,
    /// Refused or undeliverable, with WhatsApp's error code (0 when none was given).
    Failed(i64),
    /// Not sent: the citizen had opted out since the alert was enqueued.
    Skipped,
}

impl SendState {
    /// The state's name in storage (`failed` without its code).
    pub fn as_str(self) -> &'static str {
        match self {
            SendState::Claimed => "claimed",
            SendState::Accepted => "accepted",
            SendState::Sent => "sent",
            SendState::Delivered => "delivered",
            SendState::Read => "read",
            SendState::Failed(_) => "failed",
            SendState::Skipped => "skipped",
        }
    }

    /// Reads a stored state back (`code` for `failed`).
    pub fn parse(name: &str, code: Option<i64>) -> Option<SendState> {
        Some(match name {
            "claimed" => SendState::Claimed,
            "accepted" => SendState::Accepted,
            "sent" => SendState::Sent,
            "delivered" => SendState::Delivered,
            "read" => SendState::Read,
            "failed" => SendState::Failed(code.unwrap_or(0)),
            "skipped" => SendState::Skipped,
            _ => return None,
        })
    }

    /// The error code of a failed state.
    pub fn code(self) -> Option<i64> {
        match self {
            SendState::Failed(code) => Some(code),
            _ => None,
        }
    }

    /// The delivery stages' order; `None` for states that statuses do not move.
    fn rank(self) -> Option<u8> {
        match self {
            SendState::Accepted => Some(0),
            SendState::Sent => Some(1),
            SendState::Delivered => Some(2),
            SendState::Read => Some(3),
            _ => None,
        }
    }
}

/// What the sender did with one claimed recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The Cloud API accepted the message; its key, to attribute the statuses that follow.
    Accepted {
        /// The keyed hash of the `wamid` the Cloud API returned.
        message: crate::MessageKey,
    },
    /// Refused for good, with WhatsApp's error code (0 when none).
    Failed {
        /// The error code.
        code: i64,
    },
    /// Not sent: opted out since the alert was enqueued.
    Skipped,
}

impl SendOutcome {
    /// The state it leaves the recipient in, and the funnel counter it adds to.
    pub fn state(&self) -> (SendState, String) {
        match self {
            SendOutcome::Accepted { .. } => (SendState::Accepted, "accepted".to_owned()),
            SendOutcome::Failed { code } => (SendState::Failed(*code), failed_counter(*code)),
            SendOutcome::Skipped => (SendState::Skipped, "skipped".to_owned()),
        }
    }
}

/// A delivery status of a message, as the webhook reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStage {
    /// Sent.
    Sent,
    /// Delivered.
    Delivered,
    /// Read.
    Read,
    /// Failed, with WhatsApp's error code (0 when none).
    Failed(i64),
}

/// The funnel counter of failures with `code`.
pub fn failed_counter(code: i64) -> String {
    format!("failed:{code}")
}

/// Moves a recipient from `current` by a delivery status: the new state and the funnel counters
/// to add one to, or `None` when the status changes nothing (a stage already passed, a status
/// for a message that was never accepted, a second failure).
pub fn advance(current: SendState, stage: DeliveryStage) -> Option<(SendState, Vec<String>)> {
    let current_rank = current.rank()?;
    match stage {
        DeliveryStage::Failed(code) => Some((SendState::Failed(code), vec![failed_counter(code)])),
        DeliveryStage::Sent | DeliveryStage::Delivered | DeliveryStage::Read => {
            let (target, target_rank) = match stage {
                DeliveryStage::Sent => (SendState::Sent, 1),
                DeliveryStage::Delivered => (SendState::Delivered, 2),
                _ => (SendState::Read, 3),
            };
            (target_rank > current_rank).then(|| {
                let counted = ["sent", "delivered", "read"]
                    [usize::from(current_rank)..usize::from(target_rank)]
                    .iter()
                    .map(|name| (*name).to_owned())
                    .collect();
                (target, counted)
            })
        }
    }
}

/// One alert's funnel: its run, and how many recipients reached each stage.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlertFunnel {
    /// The alert's id.
    pub alert_id: String,
    /// Its topic, when its run is known.
    pub topic: Option<Topic>,
    /// When its first send started.
    pub started_at: i64,
    /// Whether every audience was enqueued.
    pub finished: bool,
    /// Recipients enqueued.
    pub enqueued: u64,
    /// Not sent: opted out since.
    pub skipped: u64,
    /// Accepted by the Cloud API.
    pub accepted: u64,
    /// Reported sent.
    pub sent: u64,
    /// Reported delivered.
    pub delivered: u64,
    /// Reported read.
    pub read: u64,
    /// Refused or undeliverable, by WhatsApp's error code.
    pub failed: BTreeMap<i64, u64>,
}

impl AlertFunnel {
    /// A funnel from a run and its counters (`accepted`, `failed:131026`...); unknown counter
    /// names are ignored.
    pub fn from_counts(run: &AlertRun, counts: impl IntoIterator<Item = (String, u64)>) -> Self {
        let mut funnel = AlertFunnel {
            alert_id: run.alert_id.clone(),
            topic: Some(run.topic),
            started_at: run.started_at,
            finished: run.finished_at.is_some(),
            enqueued: run.enqueued,
            ..AlertFunnel::default()
        };
        for (name, count) in counts {
            match name.as_str() {
                "skipped" => funnel.skipped += count,
                "accepted" => funnel.accepted += count,
                "sent" => funnel.sent += count,
                "delivered" => funnel.delivered += count,
                "read" => funnel.read += count,
                other => {
                    if let Some(code) = other
                        .strip_prefix("failed:")
                        .and_then(|code| code.parse().ok())
                    {
                        *funnel.failed.entry(code).or_default() += count;
                    }
                }
            }
        }
        funnel
    }

    /// Every failure, whatever its code.
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }
}

/// Checks an alert id before it becomes a key: 1 to 128 characters of letters, digits, `-`, `_`
/// and `.` (the alert file's own rule is stricter).
pub fn validate_alert_id(alert_id: &str) -> Result<(), StoreError> {
    let valid = (1..=128).contains(&alert_id.len())
        && alert_id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            what: "alert id",
            input: alert_id.chars().take(40).collect(),
            expected: "1 to 128 letters, digits, '-', '_' or '.'".to_owned(),
        })
    }
}

/// Checks a run before it is written.
pub(crate) fn validate_run(run: &AlertRun) -> Result<(), StoreError> {
    validate_alert_id(&run.alert_id)?;
    if !(0..=crate::store::MAX_TIME).contains(&run.started_at) {
        return Err(StoreError::InvalidInput {
            what: "alert run start",
            input: run.started_at.to_string(),
            expected: "Unix seconds".to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_only_go_forward_and_skipped_stages_count() {
        assert_eq!(
            advance(SendState::Accepted, DeliveryStage::Sent),
            Some((SendState::Sent, vec!["sent".to_owned()]))
        );
        assert_eq!(
            advance(SendState::Sent, DeliveryStage::Read),
            Some((
                SendState::Read,
                vec!["delivered".to_owned(), "read".to_owned()]
            ))
        );
        assert_eq!(advance(SendState::Delivered, DeliveryStage::Sent), None);
        assert_eq!(advance(SendState::Read, DeliveryStage::Read), None);
        assert_eq!(
            advance(SendState::Delivered, DeliveryStage::Failed(131026)),
            Some((SendState::Failed(131026), vec!["failed:131026".to_owned()]))
        );
        for settled in [SendState::Failed(1), SendState::Skipped, SendState::Claimed] {
            assert_eq!(advance(settled, DeliveryStage::Read), None, "{settled:?}");
            assert_eq!(advance(settled, DeliveryStage::Failed(2)), None);
        }
    }

    #[test]
    fn states_and_funnels_read_back() {
        for state in [
            SendState::Claimed,
            SendState::Accepted,
            SendState::Sent,
            SendState::Delivered,
            SendState::Read,
            SendState::Failed(131049),
            SendState::Skipped,
        ] {
            assert_eq!(SendState::parse(state.as_str(), state.code()), Some(state));
        }
        let run = AlertRun {
            alert_id: "a".into(),
            topic: Topic::Deadlines,
            started_at: 5,
            finished_at: Some(6),
            enqueued: 9,
            progress: BTreeMap::new(),
        };
        let funnel = AlertFunnel::from_counts(
            &run,
            [
                ("accepted".to_owned(), 7),
                ("read".to_owned(), 2),
                ("failed:131026".to_owned(), 1),
                ("failed:131026".to_owned(), 2),
                ("nonsense".to_owned(), 4),
            ],
        );
        assert_eq!((funnel.enqueued, funnel.accepted, funnel.read), (9, 7, 2));
        assert_eq!(funnel.failed_total(), 3);
        assert!(funnel.finished);
        assert!(validate_alert_id("registration-deadline.2026").is_ok());
        assert!(validate_alert_id("a#b").is_err());
        assert!(validate_alert_id("").is_err());
    }
}
