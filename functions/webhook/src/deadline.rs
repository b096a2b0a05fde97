//! Keeping one webhook within its time: [`DeadlineStore`] and [`DeadlineSender`] wrap the
//! process's store and reply sender for one request, so that every call ends by the request's
//! deadline (in the Lambda, the invocation's deadline less [`LAMBDA_DEADLINE_MARGIN`]; in
//! `votecheck serve`, a configured budget).
//!
//! The store is not needed to answer, so it gets little patience: each call may take at most
//! the store-call timeout ([`DEFAULT_STORE_CALL_TIMEOUT`]), and the first call that times out or
//! finds the store unreachable marks it unavailable for the rest of the request, so every later
//! call fails at once instead of waiting again. With DynamoDB black-holed a webhook therefore
//! spends one short attempt on the store, then answers without it.
//!
//! ```
//! use std::time::Duration;
//! use votecheck_webhook::deadline::{DEFAULT_STORE_CALL_TIMEOUT, DEFAULT_TIME_BUDGET};
//!
//! assert!(DEFAULT_STORE_CALL_TIMEOUT < DEFAULT_TIME_BUDGET);
//! assert!(DEFAULT_TIME_BUDGET < Duration::from_secs(30)); // the templates' function timeout
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tracing::warn;
use votecheck_store::{
    AlertFunnel, AlertRun, AudiencePage, AudienceQuery, CitizenKey, Claim, DeliveryFailure,
    DeliveryStage, Feedback, FollowUp, FollowUpPage, IdentityLink, MessageKey, Preferences,
    QueryRecord, SendOutcome, Store, StoreError, Subscription, Topic,
};

use crate::sender::{OutgoingMessage, ReplySender, SendFailure};

/// How long one webhook may take when no deadline is given (`votecheck serve` without
/// `VOTECHECK_WEBHOOK_BUDGET_SECONDS`, tests): the Lambda's 30 s timeout less its margin.
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(25);

/// What the Lambda keeps of its invocation's deadline for itself: handing the response to the
/// Runtime API and writing the metrics line take milliseconds, but a busy 0.29 vCPU is slow.
pub const LAMBDA_DEADLINE_MARGIN: Duration = Duration::from_secs(3);

/// The longest one store call may take within a webhook (one DynamoDB attempt, with a cold TLS
/// handshake, takes well under it).
pub const DEFAULT_STORE_CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a request and its store calls may take: the handler's settings, read by
/// [`HandlerSettings::from_lookup`] wherever a handler is built from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandlerSettings {
    /// How long one webhook may take when the caller gives no deadline
    /// (`VOTECHECK_WEBHOOK_BUDGET_SECONDS`, 3 to 900; default [`DEFAULT_TIME_BUDGET`]). The
    /// Lambda function passes its invocation's deadline instead.
    pub time_budget: Duration,
    /// How long one store call may take within a webhook ([`DEFAULT_STORE_CALL_TIMEOUT`]).
    pub store_call_timeout: Duration,
}

impl Default for HandlerSettings {
    fn default() -> Self {
        HandlerSettings {
            time_budget: DEFAULT_TIME_BUDGET,
            store_call_timeout: DEFAULT_STORE_CALL_TIMEOUT,
        }
    }
}

impl HandlerSettings {
    /// Reads `VOTECHECK_WEBHOOK_BUDGET_SECONDS` through `lookup`, with the problem named.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let mut settings = HandlerSettings::default();
        if let Some(value) = lookup("VOTECHECK_WEBHOOK_BUDGET_SECONDS")
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
        {
            match value
                .parse::<u64>()
                .ok()
                .filter(|seconds| (3..=900).contains(seconds))
            {
                Some(seconds) => settings.time_budget = Duration::from_secs(seconds),
                None => {
                    return Err(vec![format!(
                        "VOTECHECK_WEBHOOK_BUDGET_SECONDS must be a whole number of seconds from 3 to 900, not `{value}`"
                    )]);
                }
            }
        }
        Ok(settings)
    }
}

/// The store, for one request: each call ends by the deadline and by the store-call timeout, and
/// after the first sign that the store is unavailable no further call is made.
pub struct DeadlineStore {
    inner: Arc<dyn Store>,
    deadline: Instant,
    call_timeout: Duration,
    unavailable: AtomicBool,
}

impl DeadlineStore {
    /// Wraps `inner` for one request that must end by `deadline`.
    pub fn new(inner: Arc<dyn Store>, deadline: Instant, call_timeout: Duration) -> Self {
        DeadlineStore {
            inner,
            deadline,
            call_timeout,
            unavailable: AtomicBool::new(false),
        }
    }

    /// Whether a call found the store unavailable during this request.
    pub fn found_unavailable(&self) -> bool {
        self.unavailable.load(Ordering::Relaxed)
    }

    fn skipped(&self, operation: &'static str, why: &str) -> StoreError {
        StoreError::Unavailable {
            operation,
            table: self.inner.describe(),
            message: why.to_string(),
        }
    }

    /// Runs one store call within the limits; marks the store unavailable when it times out or
    /// fails for a reason that a second call in the same request would meet again.
    async fn call<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        if self.found_unavailable() {
            return Err(self.skipped(
                operation,
                "not tried: the store failed earlier in this webhook",
            ));
        }
        let now = Instant::now();
        let limit = self.deadline.min(now + self.call_timeout);
        if limit <= now {
            return Err(self.skipped(operation, "not tried: the webhook's deadline has passed"));
        }
        match tokio::time::timeout_at(limit.into(), call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(problem)) => {
                if marks_unavailable(&problem) {
                    self.mark_unavailable(operation);
                }
                Err(problem)
            }
            Err(_) => {
                self.mark_unavailable(operation);
                Err(self.skipped(
                    operation,
                    &format!(
                        "no answer within {} ms (the store-call timeout or the webhook's deadline)",
                        limit.saturating_duration_since(now).as_millis()
                    ),
                ))
            }
        }
    }

    fn mark_unavailable(&self, operation: &'static str) {
        if !self.unavailable.swap(true, Ordering::Relaxed) {
            warn!(
                operation,
                "the store is unavailable: answering this webhook without it"
            );
        }
    }
}

/// Failures that a second call within the same second would meet again.
fn marks_unavailable(problem: &StoreError) -> bool {
    matches!(
        problem,
        StoreError::Unavailable { .. }
            | StoreError::Throttled { .. }
            | StoreError::MissingTable { .. }
            | StoreError::Denied { .. }
    )
}

#[async_trait]
impl Store for DeadlineStore {
    async fn claim_message(&self, message_id: &str, now: i64) -> Result<Claim, StoreError> {
        self.call("claim_message", self.inner.claim_message(message_id, now))
            .await
    }

    async fn release_message(&self, message_id: &str) -> Result<(), StoreError> {
        self.call("release_message", self.inner.release_message(message_id))
            .await
    }

    async fn record_query(&self, record: &QueryRecord) -> Result<(), StoreError> {
        self.call("record_query", self.inner.record_query(record))
            .await
    }

    async fn query(
        &self,
        citizen: &CitizenKey,
        query_id: &str,
        now: i64,
    ) -> Result<Option<QueryRecord>, StoreError> {
        self.call("query", self.inner.query(citizen, query_id, now))
            .await
    }

    async fn preferences(
        &self,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Option<Preferences>, StoreError> {
        self.call("preferences", self.inner.preferences(citizen, now))
            .await
    }

    async fn save_preferences(
        &self,
        citizen: &CitizenKey,
        preferences: &Preferences,
    ) -> Result<(), StoreError> {
        self.call(
            "save_preferences",
            self.inner.save_preferences(citizen, preferences),
        )
        .await
    }

    async fn move_citizen(&self, from: &CitizenKey, to: &CitizenKey) -> Result<(), StoreError> {
        self.call("move_citizen", self.inner.move_citizen(from, to))
            .await
    }

    async fn record_feedback(&self, feedback: &Feedback) -> Result<(), StoreError> {
        self.call("record_feedback", self.inner.record_feedback(feedback))
            .await
    }

    async fn count_message(
        &self,
        citizen: &CitizenKey,
        now: i64,
        window_seconds: i64,
    ) -> Result<u64, StoreError> {
        self.call(
            "count_message",
            self.inner.count_message(citizen, now, window_seconds),
        )
        .await
    }

    async fn delete_citizen(&self, citizen: &CitizenKey) -> Result<u64, StoreError> {
        self.call("delete_citizen", self.inner.delete_citizen(citizen))
            .await
    }

    async fn link_identity(
        &self,
        id: &CitizenKey,
        citizen: &CitizenKey,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        self.call(
            "link_identity",
            self.inner.link_identity(id, citizen, expires_at),
        )
        .await
    }

    async fn identity(
        &self,
        id: &CitizenKey,
        now: i64,
    ) -> Result<Option<IdentityLink>, StoreError> {
        self.call("identity", self.inner.identity(id, now)).await
    }

    async fn unlink_identity(&self, id: &CitizenKey) -> Result<(), StoreError> {
        self.call("unlink_identity", self.inner.unlink_identity(id))
            .await
    }

    async fn subscribe(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.call("subscribe", self.inner.subscribe(subscription))
            .await
    }

    async fn unsubscribe(&self, citizen: &CitizenKey, topic: Topic) -> Result<bool, StoreError> {
        self.call("unsubscribe", self.inner.unsubscribe(citizen, topic))
            .await
    }

    async fn unsubscribe_all(&self, citizen: &CitizenKey) -> Result<u64, StoreError> {
        self.call("unsubscribe_all", self.inner.unsubscribe_all(citizen))
            .await
    }

    async fn subscriptions(
        &self,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Vec<Subscription>, StoreError> {
        self.call("subscriptions", self.inner.subscriptions(citizen, now))
            .await
    }

    async fn audience_page(
        &self,
        query: &AudienceQuery,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<AudiencePage, StoreError> {
        self.call(
            "audience_page",
            self.inner.audience_page(query, cursor, limit, now),
        )
        .await
    }

    async fn start_alert_run(&self, run: &AlertRun) -> Result<Option<AlertRun>, StoreError> {
        self.call("start_alert_run", self.inner.start_alert_run(run))
            .await
    }

    async fn save_alert_run(&self, run: &AlertRun) -> Result<(), StoreError> {
        self.call("save_alert_run", self.inner.save_alert_run(run))
            .await
    }

    async fn claim_send(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Claim, StoreError> {
        self.call("claim_send", self.inner.claim_send(alert_id, citizen, now))
            .await
    }

    async fn release_send(&self, alert_id: &str, citizen: &CitizenKey) -> Result<(), StoreError> {
        self.call("release_send", self.inner.release_send(alert_id, citizen))
            .await
    }

    async fn record_send(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
        outcome: &SendOutcome,
        at: i64,
    ) -> Result<(), StoreError> {
        self.call(
            "record_send",
            self.inner.record_send(alert_id, citizen, outcome, at),
        )
        .await
    }

    async fn record_status(
        &self,
        message: &MessageKey,
        stage: DeliveryStage,
        at: i64,
    ) -> Result<Option<String>, StoreError> {
        self.call(
            "record_status",
            self.inner.record_status(message, stage, at),
        )
        .await
    }

    async fn alert_funnels_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<AlertFunnel>, StoreError> {
        self.call(
            "alert_funnels_between",
            self.inner.alert_funnels_between(from, to),
        )
        .await
    }

    async fn request_follow_up(&self, follow_up: &FollowUp) -> Result<(), StoreError> {
        self.call("request_follow_up", self.inner.request_follow_up(follow_up))
            .await
    }

    async fn pending_follow_ups(
        &self,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<FollowUpPage, StoreError> {
        self.call(
            "pending_follow_ups",
            self.inner.pending_follow_ups(cursor, limit, now),
        )
        .await
    }

    async fn complete_follow_up(
        &self,
        citizen: &CitizenKey,
        query_id: &str,
        fact_check_id: &str,
        now: i64,
    ) -> Result<Claim, StoreError> {
        self.call(
            "complete_follow_up",
            self.inner
                .complete_follow_up(citizen, query_id, fact_check_id, now),
        )
        .await
    }

    async fn record_delivery_failure(&self, failure: &DeliveryFailure) -> Result<(), StoreError> {
        self.call(
            "record_delivery_failure",
            self.inner.record_delivery_failure(failure),
        )
        .await
    }

    async fn queries_between(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<QueryRecord>, StoreError> {
        self.call("queries_between", self.inner.queries_between(from, to, now))
            .await
    }

    async fn feedback_between(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<Feedback>, StoreError> {
        self.call(
            "feedback_between",
            self.inner.feedback_between(from, to, now),
        )
        .await
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// The reply sender, for one request: every read receipt and reply ends by the deadline.
pub struct DeadlineSender {
    inner: Arc<dyn ReplySender>,
    deadline: Instant,
}

impl DeadlineSender {
    /// Wraps `inner` for one request that must end by `deadline`.
    pub fn new(inner: Arc<dyn ReplySender>, deadline: Instant) -> Self {
        DeadlineSender { inner, deadline }
    }
}

#[async_trait]
impl ReplySender for DeadlineSender {
    async fn mark_read(&self, message_id: &str) -> Result<(), SendFailure> {
        self.inner.mark_read_until(message_id, self.deadline).await
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<String, SendFailure> {
        self.inner.send_until(message, self.deadline).await
    }

    async fn mark_read_until(
        &self,
        message_id: &str,
        deadline: Instant,
    ) -> Result<(), SendFailure> {
        self.inner
            .mark_read_until(message_id, deadline.min(self.deadline))
            .await
    }

    async fn send_until(
        &self,
        message: &OutgoingMessage,
        deadline: Instant,
    ) -> Result<String, SendFailure> {
        self.inner
            .send_until(message, deadline.min(self.deadline))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use votecheck_store::outage::{Outage, OutageStore};

    #[test]
    fn the_time_budget_is_read_from_the_environment_within_its_bounds() {
        let read = |value: Option<&str>| {
            HandlerSettings::from_lookup(|name| {
                (name == "VOTECHECK_WEBHOOK_BUDGET_SECONDS")
                    .then(|| value.map(str::to_owned))
                    .flatten()
            })
        };
        assert_eq!(read(None).unwrap(), HandlerSettings::default());
        assert_eq!(
            read(Some("10")).unwrap().time_budget,
            Duration::from_secs(10)
        );
        for bad in ["2", "901", "ten", "-5"] {
            let problems = read(Some(bad)).unwrap_err().join("\n");
            assert!(
                problems.contains("VOTECHECK_WEBHOOK_BUDGET_SECONDS"),
                "{bad}: {problems}"
            );
        }
    }

    #[tokio::test]
    async fn a_store_that_never_answers_costs_one_short_call_per_request() {
        let inner = Arc::new(OutageStore::new(Outage::NeverAnswers));
        let started = Instant::now();
        let store = DeadlineStore::new(
            inner.clone(),
            Instant::now() + Duration::from_secs(25),
            Duration::from_millis(300),
        );
        let citizen = CitizenKey::derive(b"salt", "15550101234");
        assert!(store.claim_message("wamid.A", 1).await.is_err());
        assert!(store.preferences(&citizen, 1).await.is_err());
        assert!(store.count_message(&citizen, 1, 600).await.is_err());
        assert!(store.release_message("wamid.A").await.is_err());
        assert!(store.found_unavailable());
        assert_eq!(inner.calls(), 1, "one call, then none");
        // Four calls of 300 ms each would be 1.2 s; one is 0.3 s. Bound generously.
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn no_store_call_outlives_the_deadline() {
        let inner = Arc::new(OutageStore::new(Outage::NeverAnswers));
        let started = Instant::now();
        let store = DeadlineStore::new(
            inner.clone(),
            Instant::now() + Duration::from_millis(200),
            Duration::from_secs(60),
        );
        assert!(store.claim_message("wamid.A", 1).await.is_err());
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(inner.calls(), 1);
    }
}
