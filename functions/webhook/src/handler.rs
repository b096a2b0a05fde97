//! [`Handler::handle`]: one webhook request in, one response out, as plain steps — GET: the
//! subscription handshake; POST: body limit (413), signature over the raw bytes (401), payload
//! (400), then every message and status in order. Once the signature is valid and the payload
//! parsed the answer is 200, whatever happened to each message (WhatsApp would redeliver for
//! days otherwise); failures are logged and counted.
//!
//! Per message: claim its key (a duplicate stops here) → who: one identity whatever ids the
//! payload carries ([`crate::identity`]; a change of number is applied here) → commands (opt-out,
//! opt-in, delete my data: typed as a command phrase, or a tap on a button of the engine's
//! "stop or delete?" offer) are applied and confirmed whatever the rate limit → rate limit (one
//! polite notice, then silence) → nothing more for a citizen who opted out → feedback, media, or
//! mark as read with the typing indicator → answer → reply as a contextual reply → record the
//! query. A store that cannot be reached does not stop the citizen getting an answer, but
//! delete-my-data never claims a deletion that failed. WhatsApp message ids carry the sender's
//! number: only their keys ([`MessageKey`]) are stored, logged or shown.
//!
//! Time and delivery: every request has a deadline ([`Handler::handle_by`]; the Lambda passes
//! its invocation's deadline less a margin), and its store and Graph calls end by it
//! ([`crate::deadline`]). A reply is sent at most once per message (by its key): a send that
//! may have reached WhatsApp is never repeated. When a message's reply certainly did not go out and a
//! later try may succeed (Graph 5xx or rate limit after the retries, no connection, no time
//! left), its claim is released and the webhook is answered 503, so that WhatsApp redelivers it
//! and the redelivery answers it; messages of the same webhook that were answered keep their
//! claims and are not answered twice. See `docs/deploy.md` ("Delivery semantics").

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{debug, error, info, warn};
use votecheck_engine::{Answer, ConversationContext, Engine, Intent, Interactive, Outcome};
use votecheck_graph::Recipient;
use votecheck_index::language::primary_subtag;
use votecheck_outbound::limits::MAX_INTERACTIVE_BODY;
use votecheck_outbound::{Button, ButtonId, OutboundContent};
use votecheck_store::contact::{ContactAddress, ContactSealer, SealedContact};
use votecheck_store::{
    CitizenKey, Claim, DAY_SECONDS, DeliveryFailure, DeliveryStage, Feedback, MessageKey,
    Preferences, QueryRecord, Store, StoreConfig, Subscription, Topic,
};
use votecheck_whatsapp::{
    InboundEvent, InboundMessage, MAX_BODY_BYTES, MessageContent, Sender, StatusKind, SystemChange,
    decode_body, parse_events, verify_signature, verify_subscription,
};

use crate::deadline::{
    DEFAULT_STORE_CALL_TIMEOUT, DEFAULT_TIME_BUDGET, DeadlineSender, DeadlineStore,
};
use crate::identity::{self, Identity};
use crate::recent::RecentMessages;
use crate::sender::{OutgoingMessage, ReplySender, ReplyTo, SendFailure, SendFailureKind};

/// The least time a message needs before the deadline to be taken on: answering takes
/// milliseconds, but the reply needs a Graph API attempt. A message reached later is left to
/// WhatsApp's redelivery.
pub const MIN_MESSAGE_TIME: Duration = Duration::from_secs(2);

/// The HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET` (the subscription handshake).
    Get,
    /// `POST` (events).
    Post,
    /// Anything else (answered 405).
    Other,
}

/// A webhook request as the Lambda Function URL or the local server received it.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    /// The HTTP method.
    pub method: Method,
    /// The raw query string (without `?`).
    pub query: String,
    /// The `X-Hub-Signature-256` header.
    pub signature: Option<String>,
    /// The body exactly as received (base64 text when `body_is_base64`).
    pub body: Vec<u8>,
    /// Whether `body` is base64 (Lambda Function URLs encode binary bodies).
    pub body_is_base64: bool,
}

/// The response to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body (the challenge for a handshake).
    pub body: String,
}

impl WebhookResponse {
    fn new(status: u16, body: impl Into<String>) -> Self {
        WebhookResponse {
            status,
            body: body.into(),
        }
    }
}

/// The secrets the handler needs (from SSM in the Lambda, from the environment locally).
#[derive(Clone)]
pub struct Secrets {
    /// The Meta app secret that signs webhooks.
    pub app_secret: Vec<u8>,
    /// The token Meta sends in the subscription handshake.
    pub verify_token: String,
    /// The salt of citizen keys.
    pub id_salt: Vec<u8>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Secrets(<redacted>)")
    }
}

/// What happened to one inbound message (for logs, metrics and tests; no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Already processed (a redelivery).
    Duplicate,
    /// Over the rate limit: the notice was sent (`true`) or the message was dropped.
    RateLimited {
        /// Whether the notice was sent.
        notified: bool,
    },
    /// The citizen opted out and this was not an opt-in: not answered.
    OptedOut,
    /// Nothing to answer (reaction, unknown type, number change...).
    Ignored {
        /// What kind of event it was.
        kind: String,
    },
    /// Answered with this outcome.
    Answered {
        /// The engine's outcome.
        outcome: String,
    },
    /// The reply could not be sent. With `retry_by_redelivery` nothing was delivered and a later
    /// try may succeed: the claim was released and the webhook answered 503, so that WhatsApp
    /// redelivers the message.
    Failed {
        /// The failure's metric name.
        metric: String,
        /// Whether WhatsApp should deliver the message again.
        retry_by_redelivery: bool,
    },
}

impl MessageOutcome {
    /// A short name of what happened: the engine's outcome for an answered message
    /// (`answer`, `no_answer`...), otherwise `duplicate`, `rate_limited`, `opted_out`, `ignored`
    /// or `send_failed`.
    pub fn label(&self) -> &str {
        match self {
            MessageOutcome::Duplicate => "duplicate",
            MessageOutcome::RateLimited { .. } => "rate_limited",
            MessageOutcome::OptedOut => "opted_out",
            MessageOutcome::Ignored { .. } => "ignored",
            MessageOutcome::Answered { outcome } => outcome,
            MessageOutcome::Failed { .. } => "send_failed",
        }
    }

    /// Whether the message should be delivered again: its reply certainly did not go out and a
    /// later try may succeed.
    pub fn wants_redelivery(&self) -> bool {
        matches!(
            self,
            MessageOutcome::Failed {
                retry_by_redelivery: true,
                ..
            }
        )
    }
}

/// Sees every answer the handler decides, with the key of the message it answers (never the raw
/// message id). The local preview console uses one to show the reasoning beside the reply; the
/// Lambda sets none.
pub trait AnswerObserver: Send + Sync {
    /// Called once per answered message, before the reply is sent.
    fn answered(&self, message: &MessageKey, answer: &Answer);
}

/// The conversation handler, built once per process and shared.
#[derive(Clone)]
pub struct Handler {
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    sender: Arc<dyn ReplySender>,
    secrets: Secrets,
    store_config: StoreConfig,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    observer: Option<Arc<dyn AnswerObserver>>,
    /// How long a request may take when the caller gives no deadline.
    time_budget: Duration,
    /// How long one store call may take within a request.
    store_call_timeout: Duration,
    /// The message ids this process took on (the dedupe when the store is unavailable).
    recent: Arc<RecentMessages>,
    /// Seals the addresses of citizens who subscribe to alerts (key derived from the id salt).
    sealer: Arc<ContactSealer>,
}

/// The row of the alerts menu a citizen chose.
#[derive(Clone, Copy)]
struct Chosen<'a> {
    topic: &'a str,
    jurisdiction: Option<&'a str>,
}

/// How long an alert subscription lasts at most, in days: a citizen who subscribed for one
/// election is not kept for the next one unless they subscribe again.
pub const SUBSCRIPTION_DAYS: i64 = 365;

/// Where alerts reach the citizen who wrote from `recipient`.
fn contact_address(recipient: &Recipient) -> ContactAddress {
    match recipient {
        Recipient::PhoneNumber(id) => ContactAddress::PhoneNumber(id.clone()),
        Recipient::BusinessScopedUserId(id) => ContactAddress::BusinessScopedUserId(id.clone()),
    }
}

/// Seconds since 1970, from the system clock.
pub fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

impl Handler {
    /// A handler over shared resources.
    pub fn new(
        engine: Arc<Engine>,
        store: Arc<dyn Store>,
        sender: Arc<dyn ReplySender>,
        secrets: Secrets,
        store_config: StoreConfig,
    ) -> Self {
        let sealer = Arc::new(ContactSealer::from_salt(&secrets.id_salt));
        Handler {
            engine,
            store,
            sender,
            secrets,
            store_config,
            clock: Arc::new(system_clock),
            observer: None,
            time_budget: DEFAULT_TIME_BUDGET,
            store_call_timeout: DEFAULT_STORE_CALL_TIMEOUT,
            recent: Arc::new(RecentMessages::default()),
            sealer,
        }
    }

    /// Replaces how long a request may take when [`Handler::handle`] or
    /// [`Handler::handle_with_outcomes`] is called without a deadline (default
    /// [`DEFAULT_TIME_BUDGET`]).
    pub fn with_time_budget(mut self, budget: Duration) -> Self {
        self.time_budget = budget;
        self
    }

    /// Replaces the time budget and the store-call timeout at once.
    pub fn with_settings(self, settings: crate::HandlerSettings) -> Self {
        self.with_time_budget(settings.time_budget)
            .with_store_call_timeout(settings.store_call_timeout)
    }

    /// Replaces how long one store call may take within a request (default
    /// [`DEFAULT_STORE_CALL_TIMEOUT`]).
    pub fn with_store_call_timeout(mut self, timeout: Duration) -> Self {
        self.store_call_timeout = timeout;
        self
    }

    /// Adds an observer of every answer (the local preview console).
    pub fn with_observer(mut self, observer: Arc<dyn AnswerObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The engine this handler answers with.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Fn() -> i64 + Send + Sync>) -> Self {
        self.clock = clock;
        self
    }

    /// Handles one request.
    pub async fn handle(&self, request: &WebhookRequest) -> WebhookResponse {
        self.handle_with_outcomes(request).await.0
    }

    /// Handles one request within the handler's time budget and returns what happened to each
    /// message.
    pub async fn handle_with_outcomes(
        &self,
        request: &WebhookRequest,
    ) -> (WebhookResponse, Vec<MessageOutcome>) {
        self.handle_by(request, Instant::now() + self.time_budget)
            .await
    }

    /// Handles one request so that it ends by `deadline`: every store and Graph API call ends by
    /// it, a store that times out or is unreachable is not called again in this request, and a
    /// message reached less than [`MIN_MESSAGE_TIME`] before it is left to WhatsApp's
    /// redelivery (503).
    pub async fn handle_by(
        &self,
        request: &WebhookRequest,
        deadline: Instant,
    ) -> (WebhookResponse, Vec<MessageOutcome>) {
        let scoped = Handler {
            store: Arc::new(DeadlineStore::new(
                self.store.clone(),
                deadline,
                self.store_call_timeout,
            )),
            sender: Arc::new(DeadlineSender::new(self.sender.clone(), deadline)),
            ..self.clone()
        };
        scoped.handle_scoped(request, deadline).await
    }

    async fn handle_scoped(
        &self,
        request: &WebhookRequest,
        deadline: Instant,
    ) -> (WebhookResponse, Vec<MessageOutcome>) {
        match request.method {
            Method::Get => {
                let outcome = verify_subscription(&request.query, &self.secrets.verify_token);
                info!(
                    accepted = outcome.is_accepted(),
                    "webhook subscription handshake"
                );
                (
                    WebhookResponse::new(outcome.status(), outcome.body()),
                    Vec::new(),
                )
            }
            Method::Post => self.handle_post(request, deadline).await,
            Method::Other => (WebhookResponse::new(405, "method not allowed"), Vec::new()),
        }
    }

    async fn handle_post(
        &self,
        request: &WebhookRequest,
        deadline: Instant,
    ) -> (WebhookResponse, Vec<MessageOutcome>) {
        let body = match decode_body(&request.body, request.body_is_base64, MAX_BODY_BYTES) {
            Ok(body) => body,
            Err(problem) => {
                warn!(%problem, "webhook body rejected");
                return (
                    WebhookResponse::new(problem.status(), problem.to_string()),
                    Vec::new(),
                );
            }
        };
        if let Err(problem) = verify_signature(
            &self.secrets.app_secret,
            request.signature.as_deref(),
            &body,
        ) {
            warn!(%problem, "webhook signature rejected");
            return (WebhookResponse::new(401, "invalid signature"), Vec::new());
        }
        let events = match parse_events(&body) {
            Ok(events) => events,
            Err(problem) => {
                warn!(%problem, "webhook payload rejected");
                return (WebhookResponse::new(400, "invalid payload"), Vec::new());
            }
        };
        let mut outcomes = Vec::new();
        for event in events {
            match event {
                InboundEvent::Message(message) => {
                    outcomes.push(self.take_on_message(&message, deadline).await)
                }
                InboundEvent::Status(status) => {
                    let of_an_alert = self.record_alert_status(&status).await;
                    if !of_an_alert && status.status == StatusKind::Failed {
                        self.record_delivery_failure(&status).await;
                    }
                }
            }
        }
        if outcomes.iter().any(MessageOutcome::wants_redelivery) {
            warn!(
                messages = outcomes.len(),
                "a reply could not be sent: answering 503 so that WhatsApp redelivers"
            );
            return (
                WebhookResponse::new(503, "a reply could not be sent; redeliver"),
                outcomes,
            );
        }
        (WebhookResponse::new(200, "ok"), outcomes)
    }

    /// One message of a webhook, at most once: left to redelivery when the deadline is too
    /// close; a duplicate when this process already took it on; otherwise processed, and
    /// released again (claim and memory) when its reply could not go out but may later.
    async fn take_on_message(&self, message: &InboundMessage, deadline: Instant) -> MessageOutcome {
        if deadline.saturating_duration_since(Instant::now()) < MIN_MESSAGE_TIME {
            warn!("too close to the deadline: the message is left to the redelivery");
            return MessageOutcome::Failed {
                metric: "deadline_reached".to_string(),
                retry_by_redelivery: true,
            };
        }
        let key = self.message_key(&message.message_id);
        if !self.recent.take(key.as_str()) {
            info!("duplicate delivery ignored (already taken on by this process)");
            return MessageOutcome::Duplicate;
        }
        let outcome = self.process_message(message).await;
        if outcome.wants_redelivery() {
            self.recent.forget(key.as_str());
            if let Err(problem) = self.store.release_message(key.as_str()).await {
                error!(%problem, "releasing the claim failed: a redelivery will be taken for a duplicate");
            }
        }
        outcome
    }

    /// The citizen a sender is: one identity whatever ids the payload carries (see
    /// [`crate::identity`]).
    async fn identify(&self, sender: &Sender, now: i64) -> Option<Identity> {
        let ids = identity::ids_of(&self.secrets.id_salt, sender);
        identity::resolve(
            self.store.as_ref(),
            &ids,
            now,
            self.store_config.expires_at(now),
        )
        .await
    }

    /// The key under which a message is stored and shown: its id carries the sender's number.
    fn message_key(&self, message_id: &str) -> MessageKey {
        MessageKey::derive(&self.secrets.id_salt, message_id)
    }

    /// Attributes a status to the alert whose message it reports (its funnel in the report);
    /// returns whether the message was an alert's. A reply's status is not (`false`).
    async fn record_alert_status(&self, status: &votecheck_whatsapp::DeliveryStatus) -> bool {
        let stage = match status.status {
            StatusKind::Sent => DeliveryStage::Sent,
            StatusKind::Delivered => DeliveryStage::Delivered,
            StatusKind::Read => DeliveryStage::Read,
            StatusKind::Failed => DeliveryStage::Failed(status.error_code.unwrap_or(0)),
            _ => return false,
        };
        let message = self.message_key(&status.message_id);
        match self
            .store
            .record_status(&message, stage, (self.clock)())
            .await
        {
            Ok(Some(alert)) => {
                debug!(%alert, ?stage, "alert status recorded");
                true
            }
            Ok(None) => false,
            Err(problem) => {
                error!(%problem, "recording a delivery status failed");
                false
            }
        }
    }

    async fn record_delivery_failure(&self, status: &votecheck_whatsapp::DeliveryStatus) {
        let now = (self.clock)();
        let Some(identity) = self.identify(&status.recipient, now).await else {
            return;
        };
        let failure = DeliveryFailure {
            message_id: self.message_key(&status.message_id).to_string(),
            citizen: identity.citizen,
            error_code: status.error_code.unwrap_or(0),
            at: now,
        };
        warn!(
            error_code = failure.error_code,
            "a reply could not be delivered"
        );
        if let Err(problem) = self.store.record_delivery_failure(&failure).await {
            error!(%problem, "recording a delivery failure failed");
        }
    }

    /// One inbound message, as a list of steps: claim, who, commands, rate limit, opt-out,
    /// then feedback, media or a question.
    async fn process_message(&self, message: &InboundMessage) -> MessageOutcome {
        let now = (self.clock)();
        let kind = message.content.type_name().to_string();
        let Some(recipient) = recipient_of(&message.sender) else {
            return MessageOutcome::Ignored { kind };
        };
        // 1. Claim: exactly once per message id, by its key (any id, however long, dedupes). An
        // unreachable store must not silence the bot.
        let reply_to = ReplyTo {
            message_id: message.message_id.clone(),
            key: self.message_key(&message.message_id),
        };
        match self.store.claim_message(reply_to.key.as_str(), now).await {
            Ok(Claim::Duplicate) => {
                info!(kind, "duplicate delivery ignored");
                return MessageOutcome::Duplicate;
            }
            Ok(Claim::Claimed) => {}
            Err(problem) => error!(%problem, "claiming the message failed; answering anyway"),
        }

        // 2. Who: one identity per citizen. A change of number is applied whatever the limit.
        let Some(identity) = self.identify(&message.sender, now).await else {
            return MessageOutcome::Ignored { kind };
        };
        if let MessageContent::System(SystemChange::NumberChanged { old, new }) = &message.content {
            let new = Sender {
                wa_id: new.wa_id.clone().or_else(|| old.wa_id.clone()),
                user_id: new.user_id.clone().or_else(|| old.user_id.clone()),
            };
            let salt = &self.secrets.id_salt;
            identity::change_ids(
                self.store.as_ref(),
                &identity,
                &identity::ids_of(salt, old),
                &identity::ids_of(salt, &new),
                now,
            )
            .await;
            self.reseal_contacts(&new, now).await;
            return MessageOutcome::Ignored { kind };
        }
        let (preferences, preferences_read) =
            match self.store.preferences(&identity.citizen, now).await {
                Ok(preferences) => (preferences.unwrap_or_default(), true),
                Err(problem) => {
                    error!(%problem, "reading preferences failed");
                    (Preferences::default(), false)
                }
            };
        let language = preferences
            .language
            .clone()
            .unwrap_or_else(|| self.engine.default_language().to_string());
        let context = ConversationContext {
            preferred_language: None,
            previous_language: preferences.language.clone(),
            forwarded: message.forwarded,
        };
        let question = self.question_of(&message.content);

        // 3. Commands (opt-out, opt-in, delete my data) are recognised before the rate limit,
        // which counts them but never drops them: typed as a command phrase, or confirmed with a
        // button of the engine's "stop or delete?" offer.
        let command = match &message.content {
            MessageContent::ButtonReply { id, .. } => match ButtonId::parse(id) {
                ButtonId::Confirm(confirmed) => {
                    Some(self.engine.confirmed_command(confirmed, &language))
                }
                _ => None,
            },
            _ => None,
        }
        .or_else(|| {
            question
                .as_deref()
                .and_then(|question| self.engine.answer_command(question, &context))
        });
        let over_limit = self.over_rate_limit(&identity.citizen, now).await;
        if let Some(answer) = command {
            let question = question.unwrap_or_default();
            let turn = Turn {
                message,
                reply_to: &reply_to,
                recipient: &recipient,
                identity: &identity,
                question: &question,
                now,
            };
            return self.command(&turn, answer, preferences.opted_out).await;
        }

        // 4. Rate limit: one notice when the limit is first passed, then silence.
        if let Some(first) = over_limit {
            let notified = first && !preferences.opted_out;
            if notified {
                self.notice(&recipient, &reply_to, &language, "rate_limited")
                    .await;
            }
            info!(notified, "rate limited");
            return MessageOutcome::RateLimited { notified };
        }

        // 5. Nothing but the opt-in confirmation goes to a citizen who opted out.
        if preferences.opted_out {
            info!(kind, "opted out: not answered");
            return MessageOutcome::OptedOut;
        }

        // 6. Feedback, media, or a question. Any message opens WhatsApp's 24-hour window: a
        // question's time is saved with its answer below, every other message's here (only
        // over preferences read, never over a default that would lose them).
        if question.is_none() && preferences_read {
            let seen = Preferences {
                last_seen: Some(now),
                ..preferences.clone()
            };
            if let Err(problem) = self.store.save_preferences(&identity.citizen, &seen).await {
                error!(%problem, "saving the time of the last message failed");
            }
        }
        match &message.content {
            MessageContent::ButtonReply { id, .. } if ButtonId::is_feedback(id) => {
                return self
                    .feedback(&reply_to, &identity.citizen, id, &recipient, &language, now)
                    .await;
            }
            MessageContent::ButtonReply { id, .. } => {
                if let ButtonId::FollowUp { query } = ButtonId::parse(id) {
                    return self
                        .follow_up(
                            &reply_to,
                            &identity.citizen,
                            query.as_deref(),
                            &recipient,
                            &language,
                            now,
                        )
                        .await;
                }
            }
            MessageContent::ListReply { id, .. } => {
                if let ButtonId::Subscribe {
                    topic,
                    jurisdiction,
                } = ButtonId::parse(id)
                {
                    let chosen = Chosen {
                        topic: &topic,
                        jurisdiction: jurisdiction.as_deref(),
                    };
                    return self
                        .subscribe(
                            &reply_to,
                            &identity.citizen,
                            chosen,
                            &recipient,
                            &language,
                            now,
                        )
                        .await;
                }
            }
            MessageContent::Media { .. } | MessageContent::Location { .. } => {
                let key = if matches!(message.content, MessageContent::Location { .. }) {
                    "location_unsupported"
                } else {
                    "media_unsupported"
                };
                self.notice(&recipient, &reply_to, &language, key).await;
                info!(kind, "media is not understood yet");
                return MessageOutcome::Ignored { kind };
            }
            _ => {}
        }
        let Some(question) = question else {
            info!(kind, "message type ignored");
            return MessageOutcome::Ignored { kind };
        };
        let alerts_row = matches!(&message.content,
            MessageContent::ListReply { id, .. } if ButtonId::parse(id) == ButtonId::AlertsMenu);
        let answer = if alerts_row {
            self.engine.alerts_menu(&language)
        } else {
            self.engine.answer(&question, &context)
        };
        let _ = self.sender.mark_read(&message.message_id).await;
        let turn = Turn {
            message,
            reply_to: &reply_to,
            recipient: &recipient,
            identity: &identity,
            question: &question,
            now,
        };
        let sent = self.reply(&turn, &answer).await;
        self.record(&turn, &answer).await;
        self.save_preferences(&turn, &answer, false).await;
        outcome_of(&answer, sent)
    }

    /// The question a message asks, when it asks one: its text, a quick-reply or reply button's
    /// title, a menu row's topic question. `None` for feedback taps, media and the rest.
    fn question_of(&self, content: &MessageContent) -> Option<String> {
        match content {
            MessageContent::Text(text) => Some(text.clone()),
            MessageContent::QuickReplyButton { payload, text } => Some(if text.is_empty() {
                payload.clone()
            } else {
                text.clone()
            }),
            MessageContent::ListReply { id, title } => match ButtonId::parse(id) {
                ButtonId::Subscribe { .. } => None,
                ButtonId::Topic(topic) => Some(
                    self.engine
                        .topic_question(&topic)
                        .unwrap_or_else(|| title.clone()),
                ),
                _ => Some(title.clone()),
            },
            MessageContent::ButtonReply { id, .. }
                if ButtonId::is_feedback(id)
                    || matches!(ButtonId::parse(id), ButtonId::FollowUp { .. }) =>
            {
                None
            }
            MessageContent::ButtonReply { title, .. } => Some(title.clone()),
            _ => None,
        }
    }

    /// Counts the message; `Some(first)` when it is over the limit (`first`: the first message
    /// over it, which gets the notice). A store that fails lets the message through.
    async fn over_rate_limit(&self, citizen: &CitizenKey, now: i64) -> Option<bool> {
        let limit = self.store_config.rate_limit;
        match self
            .store
            .count_message(citizen, now, limit.window_seconds)
            .await
        {
            Ok(count) if !limit.allows(count) => Some(count == limit.max_messages + 1),
            Ok(_) => None,
            Err(problem) => {
                error!(%problem, "rate limit check failed; answering anyway");
                None
            }
        }
    }

    /// Applies a command, over the rate limit too, then confirms it. Delete-my-data deletes
    /// first (subscriptions included) and says how many records went, or that nothing could be
    /// deleted; opt-out (which also ends every alert subscription) and opt-in are saved before
    /// the confirmation. A repeated "stop" from a citizen who opted out
    /// gets no reply: nothing but the opt-in confirmation goes to them.
    async fn command(
        &self,
        turn: &Turn<'_>,
        mut answer: Answer,
        opted_out: bool,
    ) -> MessageOutcome {
        let renderer = self.engine.renderer(&answer.language);
        match answer.intent {
            Intent::DeleteMyData => {
                answer.reply.text = match self.store.delete_citizen(&turn.identity.citizen).await {
                    Ok(count) => {
                        info!(deleted = count, "citizen data deleted on request");
                        renderer
                            .plain("delete_confirm", &[("count", &count.to_string())])
                            .text
                    }
                    Err(problem) => {
                        error!(%problem, "deleting a citizen's data failed; they were told to try again");
                        renderer.plain("delete_failed", &[]).text
                    }
                };
            }
            Intent::OptOut => {
                self.record(turn, &answer).await;
                self.save_preferences(turn, &answer, true).await;
                // "Stop" ends every alert subscription too: an opt-in later does not bring them
                // back (the citizen subscribes again, topic by topic).
                match self.store.unsubscribe_all(&turn.identity.citizen).await {
                    Ok(0) => {}
                    Ok(ended) => info!(ended, "subscriptions ended by an opt-out"),
                    Err(problem) => error!(%problem, "ending subscriptions on an opt-out failed"),
                }
                if opted_out {
                    info!("opted out again: not answered");
                    return MessageOutcome::OptedOut;
                }
            }
            _ => {
                self.record(turn, &answer).await;
                self.save_preferences(turn, &answer, false).await;
            }
        }
        let _ = self.sender.mark_read(&turn.message.message_id).await;
        let sent = self.reply(turn, &answer).await;
        outcome_of(&answer, sent)
    }

    /// Sends the answer (the first message quoting the citizen's, then any buttons).
    async fn reply(&self, turn: &Turn<'_>, answer: &Answer) -> Result<(), (&'static str, bool)> {
        if let Some(observer) = &self.observer {
            observer.answered(&turn.reply_to.key, answer);
        }
        // The line above buttons sent apart from a long text: the feedback question, or for the
        // follow-up of an unchecked rumour the button's own words.
        let prompt_key = if answer.fact_check.is_none() && answer.outcome == Outcome::NoAnswer {
            "follow_up_button"
        } else {
            "feedback_question"
        };
        let prompt = self
            .engine
            .renderer(&answer.language)
            .plain(prompt_key, &[])
            .text;
        let mut sent = Ok(());
        for (index, content) in outgoing_contents(answer, &turn.reply_to.key, &prompt)
            .into_iter()
            .enumerate()
        {
            // The first message quotes the citizen's; a follow-up (buttons) does not.
            let quoted = (index == 0).then_some(turn.reply_to);
            sent = self
                .send(turn.recipient, quoted, content)
                .await
                .map_err(|failure| {
                    // Only the answer itself is worth a redelivery; a lost follow-up is not.
                    let retry_by_redelivery =
                        index == 0 && failure.kind == SendFailureKind::Transient;
                    (failure.metric, retry_by_redelivery)
                });
            if sent.is_err() {
                // No follow-up (buttons) after a failed reply.
                break;
            }
        }
        info!(
            outcome = answer.outcome.as_str(),
            language = %answer.language,
            engine_us = answer.timings.total_us,
            corpus_version = self.engine.index().manifest().corpus_version(),
            forwarded = turn.message.forwarded,
            "message answered"
        );
        sent
    }

    /// Saves the citizen's language, opt-out and last message time, and keeps their identity
    /// links as long as the preferences.
    async fn save_preferences(&self, turn: &Turn<'_>, answer: &Answer, opted_out: bool) {
        let updated = Preferences {
            language: Some(answer.language.clone()),
            opted_out,
            last_seen: Some(turn.now),
        };
        if let Err(problem) = self
            .store
            .save_preferences(&turn.identity.citizen, &updated)
            .await
        {
            error!(%problem, "saving preferences failed");
        }
        let links_expire_at = (!opted_out).then(|| self.store_config.expires_at(turn.now));
        identity::refresh(self.store.as_ref(), turn.identity, links_expire_at).await;
    }

    async fn feedback(
        &self,
        reply_to: &ReplyTo,
        citizen: &CitizenKey,
        button_id: &str,
        recipient: &Recipient,
        language: &str,
        now: i64,
    ) -> MessageOutcome {
        // The button id carries the key of the answered message (see `outgoing_contents`);
        // anything else (an old button, a forged id) records nothing.
        let (helpful, query) = match ButtonId::parse(button_id) {
            ButtonId::Feedback { helpful, query } => {
                (helpful, query.as_deref().and_then(MessageKey::parse))
            }
            _ => (false, None),
        };
        match query {
            Some(query) => {
                let feedback = Feedback {
                    query_id: query.to_string(),
                    citizen: citizen.clone(),
                    helpful,
                    at: now,
                };
                if let Err(problem) = self.store.record_feedback(&feedback).await {
                    error!(%problem, "recording feedback failed");
                }
            }
            None => info!("feedback on an unknown query ignored"),
        }
        self.notice(recipient, reply_to, language, "feedback_thanks")
            .await;
        MessageOutcome::Answered {
            outcome: "feedback".to_string(),
        }
    }

    /// After a change of number, the citizen's subscriptions are sealed again with the new
    /// address (where replies now go): alerts must not go to the number they gave up, which may
    /// be someone else's now.
    async fn reseal_contacts(&self, new: &Sender, now: i64) {
        let Some(identity) = self.identify(new, now).await else {
            return;
        };
        let Some(recipient) = recipient_of(new) else {
            return;
        };
        let subscriptions = match self.store.subscriptions(&identity.citizen, now).await {
            Ok(subscriptions) => subscriptions,
            Err(problem) => {
                error!(%problem, "reading subscriptions after a number change failed");
                return;
            }
        };
        for mut subscription in subscriptions {
            subscription.contact = self.seal_contact(&recipient);
            if let Err(problem) = self.store.subscribe(&subscription).await {
                error!(%problem, "updating a subscription's contact failed");
            }
        }
    }

    /// The sealed address of `recipient`, or `None` (logged) when sealing failed.
    fn seal_contact(&self, recipient: &Recipient) -> Option<SealedContact> {
        self.sealer
            .seal(&contact_address(recipient))
            .map_err(|problem| error!(%problem, "sealing a contact failed"))
            .ok()
    }

    /// "Tell me if checked" under a reply to an unchecked rumour: the citizen asks to be sent the
    /// verdict if a fact-check of that message is published. Only their own query, recorded and
    /// without a fact-check, can be followed (an old or forged button follows nothing and says
    /// so); the request keeps the question as recorded (redacted) and lapses with the records.
    async fn follow_up(
        &self,
        reply_to: &ReplyTo,
        citizen: &CitizenKey,
        query: Option<&str>,
        recipient: &Recipient,
        language: &str,
        now: i64,
    ) -> MessageOutcome {
        let renderer = self.engine.renderer(language);
        let record = match query.and_then(MessageKey::parse) {
            Some(key) => match self.store.query(citizen, key.as_str(), now).await {
                Ok(record) => record.filter(|record| record.fact_check_id.is_none()),
                Err(problem) => {
                    error!(%problem, "reading the followed query failed");
                    None
                }
            },
            None => None,
        };
        let saved = match record {
            Some(record) => {
                let follow_up = votecheck_store::FollowUp {
                    citizen: citizen.clone(),
                    query_id: record.query_id.clone(),
                    question: record.question_redacted.clone(),
                    language: primary_subtag(&record.language),
                    contact: self.seal_contact(recipient),
                    at: now,
                    expires_at: record.expires_at.max(now + 1),
                };
                match self.store.request_follow_up(&follow_up).await {
                    Ok(()) => {
                        info!("follow-up requested");
                        true
                    }
                    Err(problem) => {
                        error!(%problem, "saving a follow-up failed; the citizen was told");
                        false
                    }
                }
            }
            None => false,
        };
        let key = if saved {
            "follow_up_saved"
        } else {
            "follow_up_gone"
        };
        let reply = renderer.plain(key, &[]);
        let _ = self
            .send(
                recipient,
                Some(reply_to),
                OutboundContent::Text { body: reply.text },
            )
            .await;
        MessageOutcome::Answered {
            outcome: if saved { "follow_up" } else { "follow_up_gone" }.to_string(),
        }
    }

    /// A row of the alerts menu: the citizen subscribes to that topic, in their language, for
    /// the row's jurisdiction (none: only alerts to everyone reach them), for
    /// [`SUBSCRIPTION_DAYS`] at most, and is told so, with how to stop. An unknown topic or a
    /// jurisdiction the store refuses (an old or forged row) subscribes nothing.
    async fn subscribe(
        &self,
        reply_to: &ReplyTo,
        citizen: &CitizenKey,
        chosen: Chosen<'_>,
        recipient: &Recipient,
        language: &str,
        now: i64,
    ) -> MessageOutcome {
        let renderer = self.engine.renderer(language);
        let topic = chosen.topic;
        let saved = match Topic::parse(topic) {
            Some(parsed) => {
                let subscription = Subscription {
                    citizen: citizen.clone(),
                    topic: parsed,
                    language: primary_subtag(language),
                    jurisdiction: chosen.jurisdiction.map(str::to_owned),
                    contact: self.seal_contact(recipient),
                    at: now,
                    expires_at: now.saturating_add(SUBSCRIPTION_DAYS * DAY_SECONDS),
                };
                match self.store.subscribe(&subscription).await {
                    Ok(()) => {
                        info!(topic = parsed.as_str(), "subscribed to alerts");
                        true
                    }
                    Err(problem) => {
                        error!(%problem, "saving a subscription failed; the citizen was told");
                        false
                    }
                }
            }
            None => {
                info!("an unknown alert topic was chosen; nothing subscribed");
                false
            }
        };
        let reply = if saved {
            renderer.alerts_subscribed(topic, chosen.jurisdiction)
        } else {
            renderer.plain("alerts_failed", &[])
        };
        let _ = self
            .send(
                recipient,
                Some(reply_to),
                OutboundContent::Text { body: reply.text },
            )
            .await;
        MessageOutcome::Answered {
            outcome: if saved {
                "subscribed"
            } else {
                "subscribe_failed"
            }
            .to_string(),
        }
    }

    async fn record(&self, turn: &Turn<'_>, answer: &Answer) {
        let now = turn.now;
        let question = turn.question;
        let record = QueryRecord {
            query_id: turn.reply_to.key.to_string(),
            at: now,
            citizen: turn.identity.citizen.clone(),
            language: answer.language.clone(),
            intent: answer.intent.as_str().to_string(),
            outcome: answer.outcome.as_str().to_string(),
            question_redacted: votecheck_store::redact(question),
            passage_ids: answer
                .citations
                .iter()
                .map(|citation| citation.passage_id.clone())
                .collect(),
            scores: answer
                .citations
                .iter()
                .map(|citation| citation.score)
                .collect(),
            fact_check_id: answer
                .fact_check
                .as_ref()
                .map(|fact_check| fact_check.passage_id.clone()),
            corpus_version: self.engine.index().manifest().corpus_version().to_string(),
            latency_ms: (answer.timings.total_us / 1000) as u32,
            forwarded: turn.message.forwarded,
            expires_at: self.store_config.expires_at(now),
        };
        if let Err(problem) = self.store.record_query(&record).await {
            error!(%problem, "recording the query failed");
        }
    }

    /// Sends a canned text from the catalogue as a reply to the citizen's message (a failure is
    /// logged and counted inside [`Handler::send`]).
    async fn notice(&self, to: &Recipient, reply_to: &ReplyTo, language: &str, key: &str) {
        let body = self.engine.renderer(language).plain(key, &[]).text;
        let _ = self
            .send(to, Some(reply_to), OutboundContent::Text { body })
            .await;
    }

    /// Sends a reply; a failure is logged with its metric name and returned.
    async fn send(
        &self,
        to: &Recipient,
        reply_to: Option<&ReplyTo>,
        content: OutboundContent,
    ) -> Result<(), SendFailure> {
        let message = OutgoingMessage {
            to: to.clone(),
            reply_to: reply_to.cloned(),
            content,
        };
        match self.sender.send(&message).await {
            Ok(_) => Ok(()),
            Err(failure) => {
                if failure.metric == "graph_token_expired" {
                    error!(
                        metric = failure.metric,
                        "the WhatsApp access token has expired"
                    );
                } else {
                    error!(metric = failure.metric, reason = %failure.reason, "sending a reply failed");
                }
                debug!("reply not sent");
                Err(failure)
            }
        }
    }
}

/// One message being handled: what the steps after the claim share.
struct Turn<'a> {
    message: &'a InboundMessage,
    reply_to: &'a ReplyTo,
    recipient: &'a Recipient,
    identity: &'a Identity,
    question: &'a str,
    now: i64,
}

/// Where replies to a sender go: their number when WhatsApp shares it, else their
/// business-scoped user id.
fn recipient_of(sender: &Sender) -> Option<Recipient> {
    match (&sender.wa_id, &sender.user_id) {
        (Some(wa_id), _) => Some(Recipient::PhoneNumber(wa_id.clone())),
        (None, Some(user_id)) => Some(Recipient::BusinessScopedUserId(user_id.clone())),
        (None, None) => None,
    }
}

/// What happened to an answered message; a failed reply carries its metric and whether a
/// redelivery may succeed.
fn outcome_of(answer: &Answer, sent: Result<(), (&'static str, bool)>) -> MessageOutcome {
    match sent {
        Ok(()) => MessageOutcome::Answered {
            outcome: answer.outcome.as_str().to_string(),
        },
        Err((metric, retry_by_redelivery)) => MessageOutcome::Failed {
            metric: metric.to_string(),
            retry_by_redelivery,
        },
    }
}

/// The WhatsApp messages for an answer: one message with buttons or a list when the answer has
/// them and its text fits an interactive body; otherwise the text, then the buttons or list
/// under a short `prompt` ("Was this answer helpful?"). Feedback button ids carry the query's key
/// (the keyed hash of the citizen's message id, never the id) so the tap finds the record.
pub fn outgoing_contents(
    answer: &Answer,
    query: &MessageKey,
    prompt: &str,
) -> Vec<OutboundContent> {
    let text = answer.reply.text.clone();
    let interactive = |body: String| match &answer.reply.interactive {
        // No "was this helpful?" under a reply that answered nothing (the follow-up button of an
        // unchecked rumour stays).
        Some(Interactive::Buttons { buttons })
            if answer.outcome == Outcome::NoAnswer
                && buttons
                    .iter()
                    .any(|button| ButtonId::is_feedback(&button.id)) =>
        {
            None
        }
        Some(interactive) => Some(match interactive.with_body(body) {
            OutboundContent::Buttons { body, buttons } => OutboundContent::Buttons {
                body,
                buttons: buttons
                    .into_iter()
                    .map(|button| Button {
                        id: ButtonId::parse(&button.id)
                            .for_query(query.to_string())
                            .to_string(),
                        title: button.title,
                    })
                    .collect(),
            },
            other => other,
        }),
        None => None,
    };
    if text.chars().count() <= MAX_INTERACTIVE_BODY
        && let Some(single) = interactive(text.clone())
    {
        return vec![single];
    }
    let mut contents = vec![OutboundContent::Text { body: text }];
    contents.extend(interactive(prompt.to_string()));
    contents
}
