//! The sender: delivers one [`DeliveryJob`] to its recipients, the same code in the sender
//! Lambda function and in `votecheck serve`. For each recipient, in this order:
//!
//! 1. **claim** the recipient for the alert in the store ([`Store::claim_send`]): a recipient
//!    already claimed (an SQS redelivery, a second `alerts send`) is skipped, so nobody gets an
//!    alert twice;
//! 2. check they are **still subscribed** to the alert's topic: a citizen who said "stop" or
//!    deleted their data after the alert was enqueued is skipped and counted as such;
//! 3. open their sealed address, and choose the message by WhatsApp's **24-hour rule**
//!    ([`votecheck_outbound::window::choose`]): the free-form text inside their window when the
//!    alert has one, the template otherwise;
//! 4. wait for the **limiter** ([`Limiter`]), then send; record the outcome once
//!    ([`Store::record_send`]).
//!
//! A throughput answer (130429, 131056) after the Graph client's own retries pauses the
//! instance ([`Limiter::throttled`]) and releases the claim, and so does any failure that sent
//! nothing and may pass later (5xx, no connection, an expired token, no time left): those
//! recipients are left for SQS to redeliver the job ([`DeliveryReport::retry_later`]). A
//! failure whose fate is unknown (a timeout after the request went out) keeps the claim: at most
//! once, never twice. A refusal for good is recorded with its code.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::future::{BoxFuture, FutureExt};
use futures_util::{StreamExt, stream};
use tracing::warn;
use votecheck_graph::{GraphClient, GraphError, Recipient, SentMessage};
use votecheck_outbound::OutboundContent;
use votecheck_outbound::window::choose;
use votecheck_store::contact::{ContactAddress, ContactSealer};
use votecheck_store::{Claim, MessageKey, SendOutcome, Store};

use crate::job::{DeliveryJob, JobRecipient};
use crate::limiter::Limiter;
use crate::settings::SenderSettings;

/// How many sends of one instance may wait for the Cloud API at once: enough to keep 1,000
/// messages a second going at 60 ms per request.
pub const IN_FLIGHT: usize = 64;

/// Recipients whose send would start with less than this left before the deadline are left
/// for the redelivery.
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(3);

/// Sends one message: the Graph API in production, a recording channel in the local preview and
/// tests.
#[async_trait]
pub trait AlertChannel: Send + Sync {
    /// Sends `content` to `to`.
    async fn send(
        &self,
        to: &Recipient,
        content: &OutboundContent,
    ) -> Result<SentMessage, GraphError>;
}

#[async_trait]
impl AlertChannel for GraphClient {
    async fn send(
        &self,
        to: &Recipient,
        content: &OutboundContent,
    ) -> Result<SentMessage, GraphError> {
        self.send_content(to, content, None).await
    }
}

/// What happened to a job's recipients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Accepted by the Cloud API.
    pub sent: u64,
    /// Refused for good, or of unknown fate (never sent again).
    pub failed: u64,
    /// Not sent: no longer subscribed, or already claimed by an earlier delivery.
    pub skipped: u64,
    /// Left for a redelivery of the job.
    pub retry_later: u64,
    /// Throughput answers the instance paused for.
    pub throttled: u64,
}

impl std::ops::AddAssign for DeliveryReport {
    fn add_assign(&mut self, other: DeliveryReport) {
        self.sent += other.sent;
        self.failed += other.failed;
        self.skipped += other.skipped;
        self.retry_later += other.retry_later;
        self.throttled += other.throttled;
    }
}

impl DeliveryReport {
    fn one(field: fn(&mut DeliveryReport) -> &mut u64) -> DeliveryReport {
        let mut report = DeliveryReport::default();
        *field(&mut report) += 1;
        report
    }
}

/// Delivers jobs.
pub struct Sender {
    store: Arc<dyn Store>,
    channel: Arc<dyn AlertChannel>,
    sealer: ContactSealer,
    salt: Vec<u8>,
    limiter: Limiter,
    clock: fn() -> i64,
}

impl Sender {
    /// A sender through `channel`, at this instance's share of `settings`' rate; `salt` is the
    /// deployment's id salt (it opens the sealed addresses and names accepted messages).
    pub fn new(
        store: Arc<dyn Store>,
        channel: Arc<dyn AlertChannel>,
        salt: &[u8],
        settings: &SenderSettings,
    ) -> Self {
        Sender {
            store,
            channel,
            sealer: ContactSealer::from_salt(salt),
            salt: salt.to_vec(),
            limiter: Limiter::per_second(settings.per_instance_rate()),
            clock: unix_now,
        }
    }

    /// The same sender with no rate limit (benchmarks).
    pub fn unlimited(mut self) -> Self {
        self.limiter = Limiter::per_second(0.0);
        self
    }

    /// The same sender reading time from `clock` (tests).
    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// Delivers `job`, at most [`IN_FLIGHT`] sends at once, starting none past `deadline`
    /// (less [`DEADLINE_MARGIN`]). Never fails as a whole: each recipient's fate is in the
    /// report, and `retry_later > 0` means the job should be redelivered.
    pub async fn deliver(&self, job: &DeliveryJob, deadline: Option<Instant>) -> DeliveryReport {
        let mut report = DeliveryReport::default();
        // Boxed as `Send` futures: without the box, the compiler cannot prove the stream `Send`
        // for callers inside web handlers (a known limit of its higher-ranked lifetimes).
        let sends: Vec<BoxFuture<'_, DeliveryReport>> = job
            .recipients
            .iter()
            .map(|recipient| self.deliver_one(job, recipient, deadline).boxed())
            .collect();
        let mut outcomes = stream::iter(sends).buffer_unordered(IN_FLIGHT);
        while let Some(outcome) = outcomes.next().await {
            report += outcome;
        }
        report
    }

    async fn deliver_one(
        &self,
        job: &DeliveryJob,
        recipient: &JobRecipient,
        deadline: Option<Instant>,
    ) -> DeliveryReport {
        let out_of_time = || {
            deadline.is_some_and(|deadline| {
                deadline.saturating_duration_since(Instant::now()) < DEADLINE_MARGIN
            })
        };
        if out_of_time() {
            return DeliveryReport::one(|report| &mut report.retry_later);
        }
        let store = self.store.as_ref();
        let citizen = &recipient.citizen;
        let now = (self.clock)();
        match store.claim_send(&job.alert_id, citizen, now).await {
            Ok(Claim::Claimed) => {}
            Ok(Claim::Duplicate) => return DeliveryReport::one(|report| &mut report.skipped),
            Err(problem) => {
                warn!(%problem, alert = %job.alert_id, "claiming a recipient failed; left for a redelivery");
                return DeliveryReport::one(|report| &mut report.retry_later);
            }
        }
        // Anything that fails before the send releases the claim for the redelivery.
        let release = || async {
            if let Err(problem) = store.release_send(&job.alert_id, citizen).await {
                warn!(%problem, alert = %job.alert_id, "releasing a claim failed");
            }
            DeliveryReport::one(|report| &mut report.retry_later)
        };
        let subscribed = match store.subscriptions(citizen, now).await {
            Ok(subscriptions) => subscriptions
                .iter()
                .any(|subscription| subscription.topic == job.topic),
            Err(problem) => {
                warn!(%problem, alert = %job.alert_id, "reading a subscription failed");
                return release().await;
            }
        };
        if !subscribed {
            return self
                .record(job, recipient, SendOutcome::Skipped, now)
                .await
                .unwrap_or_else(|| DeliveryReport::one(|report| &mut report.skipped));
        }
        let address = match self.sealer.open(&recipient.contact) {
            Ok(address) => address,
            Err(problem) => {
                warn!(%problem, alert = %job.alert_id, "a sealed address does not open under this deployment's salt");
                return self
                    .record(job, recipient, SendOutcome::Failed { code: 0 }, now)
                    .await
                    .unwrap_or_else(|| DeliveryReport::one(|report| &mut report.failed));
            }
        };
        let last_seen = match store.preferences(citizen, now).await {
            Ok(preferences) => preferences.and_then(|preferences| preferences.last_seen),
            Err(problem) => {
                warn!(%problem, alert = %job.alert_id, "reading preferences failed");
                return release().await;
            }
        };
        let content = match &job.free_form {
            Some(text) => choose(
                OutboundContent::Text { body: text.clone() },
                job.template.clone(),
                last_seen,
                now,
            ),
            None => OutboundContent::Template(job.template.clone()),
        };
        self.limiter.ready().await;
        if out_of_time() {
            return release().await;
        }
        let to = match address {
            ContactAddress::PhoneNumber(number) => Recipient::PhoneNumber(number),
            ContactAddress::BusinessScopedUserId(id) => Recipient::BusinessScopedUserId(id),
        };
        match self.channel.send(&to, &content).await {
            Ok(sent) => {
                self.limiter.succeeded();
                let message = MessageKey::derive(&self.salt, &sent.message_id);
                self.record(
                    job,
                    recipient,
                    SendOutcome::Accepted { message },
                    (self.clock)(),
                )
                .await
                .unwrap_or_else(|| DeliveryReport::one(|report| &mut report.sent))
            }
            Err(problem @ GraphError::RateLimited { .. }) => {
                let pause = self.limiter.throttled();
                warn!(%problem, pause_ms = pause.as_millis() as u64, "throttled by WhatsApp; pausing");
                let mut report = release().await;
                report.throttled += 1;
                report
            }
            Err(problem)
                if problem.is_transient() || matches!(problem, GraphError::TokenExpired { .. }) =>
            {
                warn!(%problem, alert = %job.alert_id, "sending failed; left for a redelivery");
                release().await
            }
            Err(problem) if problem.may_have_been_delivered() => {
                // The claim stays: the message may be on the phone already.
                warn!(%problem, alert = %job.alert_id, "the send's fate is unknown; not sent again");
                DeliveryReport::one(|report| &mut report.failed)
            }
            Err(problem) => {
                warn!(%problem, alert = %job.alert_id, "WhatsApp refused an alert");
                self.record(
                    job,
                    recipient,
                    SendOutcome::Failed {
                        code: error_code(&problem),
                    },
                    (self.clock)(),
                )
                .await
                .unwrap_or_else(|| DeliveryReport::one(|report| &mut report.failed))
            }
        }
    }

    /// Records an outcome; `None` when recorded (the caller's report stands), else the report of
    /// a recipient whose outcome could not be written (counted as sent or failed all the same:
    /// the claim stays, so it is never sent again).
    async fn record(
        &self,
        job: &DeliveryJob,
        recipient: &JobRecipient,
        outcome: SendOutcome,
        at: i64,
    ) -> Option<DeliveryReport> {
        match self
            .store
            .record_send(&job.alert_id, &recipient.citizen, &outcome, at)
            .await
        {
            Ok(()) => None,
            Err(problem) => {
                warn!(%problem, alert = %job.alert_id, "recording a send failed; the funnel misses it");
                Some(match outcome {
                    SendOutcome::Accepted { .. } => DeliveryReport::one(|report| &mut report.sent),
                    SendOutcome::Skipped => DeliveryReport::one(|report| &mut report.skipped),
                    SendOutcome::Failed { .. } => DeliveryReport::one(|report| &mut report.failed),
                })
            }
        }
    }
}

/// WhatsApp's error code of a refusal (0 when it gave none).
fn error_code(error: &GraphError) -> i64 {
    match error {
        GraphError::OutsideWindow { .. } => 131047,
        GraphError::TokenExpired { .. } => 190,
        GraphError::RateLimited { code, .. } | GraphError::Api { code, .. } => code.unwrap_or(0),
        _ => 0,
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}
