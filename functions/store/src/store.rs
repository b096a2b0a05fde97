//! The [`Store`] trait: everything the conversation handler and the report need from storage.
//!
//! Two implementations behave the same (one shared test suite runs against both):
//! [`DynamoStore`](crate::DynamoStore) in the Lambda and `SqliteStore` (feature `sqlite`)
//! locally. The trait is object safe, so the handler holds an `Arc<dyn Store>` and never names
//! a backend.
//!
//! Every time is an explicit parameter (Unix seconds, UTC): the store never reads the clock, so
//! callers and tests control time. Records carry an expiry; readers treat a record whose
//! `expires_at <= now` as absent, because DynamoDB's TTL deletes lazily (up to days later) and
//! local emulators and SQLite never delete on their own.

use async_trait::async_trait;

use crate::follow_up::{FollowUp, FollowUpPage};
use crate::sends::{AlertFunnel, AlertRun, DeliveryStage, SendOutcome};
use crate::subscription::{AudiencePage, AudienceQuery, Subscription, Topic};
use crate::{
    CitizenKey, Claim, DeliveryFailure, Feedback, IdentityLink, MessageKey, Preferences,
    QueryRecord, StoreError,
};

/// The conversation store.
///
/// ```no_run
/// # async fn example(store: std::sync::Arc<dyn votecheck_store::Store>) -> Result<(), votecheck_store::StoreError> {
/// use votecheck_store::Claim;
/// let now = 1_767_225_600;
/// if store.claim_message("wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQTdGRkE", now).await? == Claim::Duplicate {
///     return Ok(()); // WhatsApp redelivered a message we already handled
/// }
/// # Ok(())
/// # }
/// ```
#[async_trait]
pub trait Store: Send + Sync {
    /// Claims an inbound WhatsApp message id: [`Claim::Claimed`] exactly once per id, however many
    /// deliveries race; [`Claim::Duplicate`] for every other delivery, concurrent or days later
    /// (claims are remembered for [`StoreConfig::claim_retention_days`](crate::StoreConfig)).
    async fn claim_message(&self, message_id: &str, now: i64) -> Result<Claim, StoreError>;

    /// Forgets a claim, so that a redelivery of the message is processed again. For a failure
    /// before anything was sent to the citizen.
    async fn release_message(&self, message_id: &str) -> Result<(), StoreError>;

    /// Records one query. The question is redacted again on write. A record with the same citizen
    /// and `query_id` is replaced.
    async fn record_query(&self, record: &QueryRecord) -> Result<(), StoreError>;

    /// Reads one of this citizen's queries back, unless it has expired. Scoped by citizen: a
    /// query is only readable together with the key of the citizen who asked it (feedback buttons
    /// come from that same citizen).
    async fn query(
        &self,
        citizen: &CitizenKey,
        query_id: &str,
        now: i64,
    ) -> Result<Option<QueryRecord>, StoreError>;

    /// The citizen's preferences, unless none were saved or they have expired.
    async fn preferences(
        &self,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Option<Preferences>, StoreError>;

    /// Saves (replaces) the citizen's preferences. They expire
    /// [`StoreConfig::retention_days`](crate::StoreConfig) after `last_seen`, except an opt-out,
    /// which is kept until the citizen opts back in or deletes their data.
    async fn save_preferences(
        &self,
        citizen: &CitizenKey,
        preferences: &Preferences,
    ) -> Result<(), StoreError>;

    /// The citizen changed their WhatsApp number: their preferences move to the new key (merged
    /// with any the new key has: the old language wins, an opt-out from either side is kept, the
    /// later `last_seen` is kept) and leave the old one, and so do their alert subscriptions (the
    /// moving one wins a topic both keys have). Past queries stay under the old key until
    /// they expire. Nothing to move is not an error.
    async fn move_citizen(&self, from: &CitizenKey, to: &CitizenKey) -> Result<(), StoreError>;

    /// Records (replaces) the citizen's feedback on one of their queries.
    async fn record_feedback(&self, feedback: &Feedback) -> Result<(), StoreError>;

    /// Counts one message in the citizen's current fixed window of `window_seconds` (windows start
    /// at multiples of it) and returns the count in that window including this message. Atomic:
    /// concurrent calls each get a distinct count.
    async fn count_message(
        &self,
        citizen: &CitizenKey,
        now: i64,
        window_seconds: i64,
    ) -> Result<u64, StoreError>;

    /// Deletes every query, feedback, preference and delivery-failure record of this citizen,
    /// every link of an id to them ([`Store::link_identity`]) and whatever is still stored under
    /// the keys of those ids, and returns how many records went (a link counts as one). Rate-limit
    /// counters are not touched: they hold nothing but a count, expire at the end of their window
    /// (minutes), and deleting them would let a flood reset its own limit.
    async fn delete_citizen(&self, citizen: &CitizenKey) -> Result<u64, StoreError>;

    /// Links one of a citizen's WhatsApp ids to the citizen: `id` is the key of a phone number or
    /// of a business-scoped user id ([`CitizenKey::derive`]), `citizen` the key their records are
    /// kept under. A message that carries only that id is then the same citizen (one identity per
    /// citizen: `docs/data-model.md`). Replaces an earlier link of the id. The link expires at
    /// `expires_at`, never when `None` (a citizen who opted out).
    async fn link_identity(
        &self,
        id: &CitizenKey,
        citizen: &CitizenKey,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError>;

    /// The link of an id, unless it has none or it expired.
    async fn identity(&self, id: &CitizenKey, now: i64)
    -> Result<Option<IdentityLink>, StoreError>;

    /// Removes the link of an id (a phone number the citizen gave up), so that whoever writes
    /// from it next is someone else. No link is not an error.
    async fn unlink_identity(&self, id: &CitizenKey) -> Result<(), StoreError>;

    /// Records that a reply could not be delivered.
    async fn record_delivery_failure(&self, failure: &DeliveryFailure) -> Result<(), StoreError>;

    /// Every unexpired query with `from <= at < to`, ordered by time then id.
    async fn queries_between(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<QueryRecord>, StoreError>;

    /// Every unexpired feedback with `from <= at < to`, ordered by time then query id.
    async fn feedback_between(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<Feedback>, StoreError>;

    /// Saves a subscription, replacing the citizen's earlier one to the same topic (a new
    /// language or jurisdiction). Delete-my-data deletes it with the rest of the citizen's
    /// records.
    async fn subscribe(&self, subscription: &Subscription) -> Result<(), StoreError>;

    /// Ends the citizen's subscription to `topic`; returns whether there was one.
    async fn unsubscribe(&self, citizen: &CitizenKey, topic: Topic) -> Result<bool, StoreError>;

    /// Ends every subscription of the citizen, pending follow-ups included ("stop"); returns
    /// how many there were.
    async fn unsubscribe_all(&self, citizen: &CitizenKey) -> Result<u64, StoreError>;

    /// The citizen's unexpired subscriptions, by topic.
    async fn subscriptions(
        &self,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Vec<Subscription>, StoreError>;

    /// One page of at most `limit` (1 to [`MAX_PAGE_SIZE`](crate::subscription::MAX_PAGE_SIZE))
    /// unexpired subscribers matching `query`, from `cursor` (`None`: the first page; then the
    /// previous page's `next`). Each subscriber appears once across the pages of one audience;
    /// a page may hold fewer than `limit` while more follow. Reads an index, never the table.
    async fn audience_page(
        &self,
        query: &AudienceQuery,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<AudiencePage, StoreError>;

    /// Starts the run of an alert: saves `run` unless one with its id exists, and returns the
    /// existing one then (`None`: this call created it). How `votecheck alerts send` stays
    /// idempotent.
    async fn start_alert_run(&self, run: &AlertRun) -> Result<Option<AlertRun>, StoreError>;

    /// Saves (replaces) a run's progress.
    async fn save_alert_run(&self, run: &AlertRun) -> Result<(), StoreError>;

    /// Claims one recipient of one alert before the sender calls the Cloud API:
    /// [`Claim::Claimed`] exactly once per alert and citizen, however many deliveries of the job
    /// race; [`Claim::Duplicate`] for every other. The claim is kept for
    /// [`StoreConfig::retention_days`](crate::StoreConfig).
    async fn claim_send(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Claim, StoreError>;

    /// Forgets a claim whose message certainly did not go (the Cloud API refused it for
    /// throughput), so that a redelivery of the job sends it.
    async fn release_send(&self, alert_id: &str, citizen: &CitizenKey) -> Result<(), StoreError>;

    /// Records what happened to a claimed recipient, and counts it in the alert's funnel once.
    /// An accepted message is linked to the alert so that its statuses are attributed
    /// ([`Store::record_status`]).
    async fn record_send(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
        outcome: &SendOutcome,
        at: i64,
    ) -> Result<(), StoreError>;

    /// Attributes a delivery status to the alert whose message it reports, moving the
    /// recipient's state and the funnel by [`advance`](crate::sends::advance) (a status that
    /// changes nothing counts nothing); returns the alert's id, or `None` when the message was
    /// not an alert's (a reply) or its recipient's data was deleted.
    async fn record_status(
        &self,
        message: &MessageKey,
        stage: DeliveryStage,
        at: i64,
    ) -> Result<Option<String>, StoreError>;

    /// The funnels of the alerts whose runs started with `from <= started_at < to`, by start.
    async fn alert_funnels_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<AlertFunnel>, StoreError>;

    /// Saves a citizen's request to hear about one query's verdict (replacing an earlier one for
    /// the same query), pending until completed. "Stop" and delete-my-data end it.
    async fn request_follow_up(&self, follow_up: &FollowUp) -> Result<(), StoreError>;

    /// One page of at most `limit` (1 to [`MAX_PAGE_SIZE`](crate::subscription::MAX_PAGE_SIZE))
    /// pending, unexpired follow-ups, from `cursor`. Reads an index, never the table.
    async fn pending_follow_ups(
        &self,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<FollowUpPage, StoreError>;

    /// Completes a pending follow-up with the fact-check found for it: [`Claim::Claimed`]
    /// exactly once (send the verdict then), [`Claim::Duplicate`] when it was completed
    /// already, ended or never asked for.
    async fn complete_follow_up(
        &self,
        citizen: &CitizenKey,
        query_id: &str,
        fact_check_id: &str,
        now: i64,
    ) -> Result<Claim, StoreError>;

    /// What this store is, for logs: `dynamodb table votecheck`, `sqlite /path/to/file`.
    fn describe(&self) -> String;
}

/// Checks a message id before it becomes a key.
pub(crate) fn validate_message_id(message_id: &str) -> Result<(), StoreError> {
    validate_id("message id", message_id)
}

/// Checks a query record before it is written.
pub(crate) fn validate_query_record(record: &QueryRecord) -> Result<(), StoreError> {
    validate_id("query id", &record.query_id)?;
    validate_time("query time", record.at)?;
    if let Some(score) = record.scores.iter().find(|score| !score.is_finite()) {
        return Err(StoreError::InvalidInput {
            what: "retrieval score",
            input: score.to_string(),
            expected: "a finite number".to_owned(),
        });
    }
    Ok(())
}

/// Checks a feedback before it is written.
pub(crate) fn validate_feedback(feedback: &Feedback) -> Result<(), StoreError> {
    validate_id("query id", &feedback.query_id)?;
    validate_time("feedback time", feedback.at)
}

/// Checks a delivery failure before it is written.
pub(crate) fn validate_delivery_failure(failure: &DeliveryFailure) -> Result<(), StoreError> {
    validate_id("message id", &failure.message_id)?;
    validate_time("delivery failure time", failure.at)
}

/// Checks a rate-limit window.
pub(crate) fn validate_window(now: i64, window_seconds: i64) -> Result<(), StoreError> {
    validate_time("time", now)?;
    if window_seconds <= 0 {
        return Err(StoreError::InvalidInput {
            what: "rate-limit window",
            input: window_seconds.to_string(),
            expected: "a positive number of seconds".to_owned(),
        });
    }
    Ok(())
}

/// The latest time the store accepts: keys hold times as 10 digits.
pub(crate) const MAX_TIME: i64 = 9_999_999_999;

fn validate_time(what: &'static str, at: i64) -> Result<(), StoreError> {
    if (0..=MAX_TIME).contains(&at) {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            what,
            input: at.to_string(),
            expected: format!("Unix seconds between 0 and {MAX_TIME}"),
        })
    }
}

fn validate_id(what: &'static str, id: &str) -> Result<(), StoreError> {
    if !id.is_empty() && id.len() <= 512 && !id.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            what,
            input: id.chars().take(80).collect(),
            expected: "1 to 512 bytes without control characters".to_owned(),
        })
    }
}

/// Merges preferences for [`Store::move_citizen`]: the moving citizen's language wins, an opt-out
/// from either side is kept, the later `last_seen` is kept.
pub(crate) fn merge_moved_preferences(
    moving: Preferences,
    existing: Option<Preferences>,
) -> Preferences {
    match existing {
        None => moving,
        Some(existing) => Preferences {
            language: moving.language.or(existing.language),
            opted_out: moving.opted_out || existing.opted_out,
            last_seen: moving.last_seen.max(existing.last_seen),
        },
    }
}

/// When saved preferences expire: `retention` after `last_seen`; never for an opt-out, or without
/// a `last_seen`.
pub(crate) fn preferences_expire_at(
    preferences: &Preferences,
    config: &crate::StoreConfig,
) -> Option<i64> {
    if preferences.opted_out {
        None
    } else {
        preferences
            .last_seen
            .map(|last_seen| config.expires_at(last_seen))
    }
}
