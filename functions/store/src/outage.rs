//! [`OutageStore`]: a store that is down, for testing how callers degrade. Every call either
//! fails at once as an unreachable DynamoDB does ([`Outage::Refuses`]) or never returns, as a
//! black-holed endpoint does ([`Outage::NeverAnswers`]); it counts the calls it was given.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use votecheck_store::Store;
//! use votecheck_store::outage::{Outage, OutageStore};
//!
//! let store = OutageStore::new(Outage::Refuses);
//! assert!(store.claim_message("wamid.A", 1).await.is_err());
//! assert_eq!(store.calls(), 1);
//! # }
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;

use crate::follow_up::{FollowUp, FollowUpPage};
use crate::sends::{AlertFunnel, AlertRun, DeliveryStage, SendOutcome};
use crate::subscription::{AudiencePage, AudienceQuery, Subscription, Topic};
use crate::{
    CitizenKey, Claim, DeliveryFailure, Feedback, IdentityLink, MessageKey, Preferences,
    QueryRecord, Store, StoreError,
};

/// How an [`OutageStore`] is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Every call fails at once with [`StoreError::Unavailable`].
    Refuses,
    /// No call ever returns.
    NeverAnswers,
}

/// A store whose every call meets the same [`Outage`].
#[derive(Debug)]
pub struct OutageStore {
    outage: Outage,
    calls: AtomicUsize,
}

impl OutageStore {
    /// A store that is down in the given way.
    pub fn new(outage: Outage) -> Self {
        OutageStore {
            outage,
            calls: AtomicUsize::new(0),
        }
    }

    /// How many calls were made to it.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    async fn fail<T>(&self, operation: &'static str) -> Result<T, StoreError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.outage {
            Outage::Refuses => Err(StoreError::Unavailable {
                operation,
                table: self.describe(),
                message: "connection refused".to_string(),
            }),
            Outage::NeverAnswers => std::future::pending().await,
        }
    }
}

#[async_trait]
impl Store for OutageStore {
    async fn claim_message(&self, _: &str, _: i64) -> Result<Claim, StoreError> {
        self.fail("claim_message").await
    }

    async fn release_message(&self, _: &str) -> Result<(), StoreError> {
        self.fail("release_message").await
    }

    async fn record_query(&self, _: &QueryRecord) -> Result<(), StoreError> {
        self.fail("record_query").await
    }

    async fn query(
        &self,
        _: &CitizenKey,
        _: &str,
        _: i64,
    ) -> Result<Option<QueryRecord>, StoreError> {
        self.fail("query").await
    }

    async fn preferences(&self, _: &CitizenKey, _: i64) -> Result<Option<Preferences>, StoreError> {
        self.fail("preferences").await
    }

    async fn save_preferences(&self, _: &CitizenKey, _: &Preferences) -> Result<(), StoreError> {
        self.fail("save_preferences").await
    }

    async fn move_citizen(&self, _: &CitizenKey, _: &CitizenKey) -> Result<(), StoreError> {
        self.fail("move_citizen").await
    }

    async fn record_feedback(&self, _: &Feedback) -> Result<(), StoreError> {
        self.fail("record_feedback").await
    }

    async fn count_message(&self, _: &CitizenKey, _: i64, _: i64) -> Result<u64, StoreError> {
        self.fail("count_message").await
    }

    async fn delete_citizen(&self, _: &CitizenKey) -> Result<u64, StoreError> {
        self.fail("delete_citizen").await
    }

    async fn link_identity(
        &self,
        _: &CitizenKey,
        _: &CitizenKey,
        _: Option<i64>,
    ) -> Result<(), StoreError> {
        self.fail("link_identity").await
    }

    async fn identity(&self, _: &CitizenKey, _: i64) -> Result<Option<IdentityLink>, StoreError> {
        self.fail("identity").await
    }

    async fn unlink_identity(&self, _: &CitizenKey) -> Result<(), StoreError> {
        self.fail("unlink_identity").await
    }

    async fn subscribe(&self, _: &Subscription) -> Result<(), StoreError> {
        self.fail("subscribe").await
    }

    async fn unsubscribe(&self, _: &CitizenKey, _: Topic) -> Result<bool, StoreError> {
        self.fail("unsubscribe").await
    }

    async fn unsubscribe_all(&self, _: &CitizenKey) -> Result<u64, StoreError> {
        self.fail("unsubscribe_all").await
    }

    async fn subscriptions(&self, _: &CitizenKey, _: i64) -> Result<Vec<Subscription>, StoreError> {
        self.fail("subscriptions").await
    }

    async fn audience_page(
        &self,
        _: &AudienceQuery,
        _: Option<&str>,
        _: u32,
        _: i64,
    ) -> Result<AudiencePage, StoreError> {
        self.fail("audience_page").await
    }

    async fn start_alert_run(&self, _: &AlertRun) -> Result<Option<AlertRun>, StoreError> {
        self.fail("start_alert_run").await
    }

    async fn save_alert_run(&self, _: &AlertRun) -> Result<(), StoreError> {
        self.fail("save_alert_run").await
    }

    async fn claim_send(&self, _: &str, _: &CitizenKey, _: i64) -> Result<Claim, StoreError> {
        self.fail("claim_send").await
    }

    async fn release_send(&self, _: &str, _: &CitizenKey) -> Result<(), StoreError> {
        self.fail("release_send").await
    }

    async fn record_send(
        &self,
        _: &str,
        _: &CitizenKey,
        _: &SendOutcome,
        _: i64,
    ) -> Result<(), StoreError> {
        self.fail("record_send").await
    }

    async fn record_status(
        &self,
        _: &MessageKey,
        _: DeliveryStage,
        _: i64,
    ) -> Result<Option<String>, StoreError> {
        self.fail("record_status").await
    }

    async fn alert_funnels_between(&self, _: i64, _: i64) -> Result<Vec<AlertFunnel>, StoreError> {
        self.fail("alert_funnels_between").await
    }

    async fn request_follow_up(&self, _: &FollowUp) -> Result<(), StoreError> {
        self.fail("request_follow_up").await
    }

    async fn pending_follow_ups(
        &self,
        _: Option<&str>,
        _: u32,
        _: i64,
    ) -> Result<FollowUpPage, StoreError> {
        self.fail("pending_follow_ups").await
    }

    async fn complete_follow_up(
        &self,
        _: &CitizenKey,
        _: &str,
        _: &str,
        _: i64,
    ) -> Result<Claim, StoreError> {
        self.fail("complete_follow_up").await
    }

    async fn record_delivery_failure(&self, _: &DeliveryFailure) -> Result<(), StoreError> {
        self.fail("record_delivery_failure").await
    }

    async fn queries_between(
        &self,
        _: i64,
        _: i64,
        _: i64,
    ) -> Result<Vec<QueryRecord>, StoreError> {
        self.fail("queries_between").await
    }

    async fn feedback_between(&self, _: i64, _: i64, _: i64) -> Result<Vec<Feedback>, StoreError> {
        self.fail("feedback_between").await
    }

    fn describe(&self) -> String {
        match self.outage {
            Outage::Refuses => "a store that refuses every call".to_string(),
            Outage::NeverAnswers => "a store that never answers".to_string(),
        }
    }
}
