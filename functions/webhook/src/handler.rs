//! [`Handler::handle`]: one webhook request in, one response out, as plain steps — GET: the
//! subscription handshake; POST: body limit (413), signature over the raw bytes (401), payload
//! (400), then every message and status in order. Once the signature is valid and the payload
//! parsed the answer is 200, whatever happened to each message (WhatsApp would redeliver for
//! days otherwise); failures are logged and counted.
//!
//! Per message: claim its id (a duplicate stops here) → rate limit (one polite notice, then
//! silence) → mark as read with the typing indicator → answer → reply as a contextual reply →
//! record the query. A store that cannot be reached does not stop the citizen getting an answer.

use std::sync::Arc;

use tracing::{debug, error, info, warn};
use votecheck_engine::reply::{FEEDBACK_NO, FEEDBACK_YES};
use votecheck_engine::{Answer, ConversationContext, Engine, Intent, Interactive, Outcome};
use votecheck_graph::Recipient;
use votecheck_store::{
    CitizenKey, Claim, DeliveryFailure, Feedback, Preferences, QueryRecord, Store, StoreConfig,
};
use votecheck_whatsapp::{
    InboundEvent, InboundMessage, MAX_BODY_BYTES, MessageContent, Sender, StatusKind, SystemChange,
    decode_body, parse_events, verify_signature, verify_subscription,
};

use crate::sender::{OutgoingContent, OutgoingMessage, ReplySender};

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
    /// The reply could not be sent.
    Failed {
        /// The failure's metric name.
        metric: String,
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
}

/// Sees every answer the handler decides, with the message id it answers. The local preview
/// console uses one to show the reasoning beside the reply; the Lambda sets none.
pub trait AnswerObserver: Send + Sync {
    /// Called once per answered message, before the reply is sent.
    fn answered(&self, message_id: &str, answer: &Answer);
}

/// The conversation handler, built once per process and shared.
pub struct Handler {
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    sender: Arc<dyn ReplySender>,
    secrets: Secrets,
    store_config: StoreConfig,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    observer: Option<Arc<dyn AnswerObserver>>,
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
        Handler {
            engine,
            store,
            sender,
            secrets,
            store_config,
            clock: Arc::new(system_clock),
            observer: None,
        }
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

    /// Handles one request and returns what happened to each message.
    pub async fn handle_with_outcomes(
        &self,
        request: &WebhookRequest,
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
            Method::Post => self.handle_post(request).await,
            Method::Other => (WebhookResponse::new(405, "method not allowed"), Vec::new()),
        }
    }

    async fn handle_post(
        &self,
        request: &WebhookRequest,
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
                    outcomes.push(self.process_message(&message).await)
                }
                InboundEvent::Status(status) => {
                    if status.status == StatusKind::Failed {
                        self.record_delivery_failure(&status).await;
                    }
                }
            }
        }
        (WebhookResponse::new(200, "ok"), outcomes)
    }

    fn citizen(&self, sender: &Sender) -> Option<CitizenKey> {
        sender
            .key()
            .map(|id| CitizenKey::derive(&self.secrets.id_salt, id))
    }

    async fn record_delivery_failure(&self, status: &votecheck_whatsapp::DeliveryStatus) {
        let Some(citizen) = self.citizen(&status.recipient) else {
            return;
        };
        let failure = DeliveryFailure {
            message_id: status.message_id.clone(),
            citizen,
            error_code: status.error_code.unwrap_or(0),
            at: (self.clock)(),
        };
        warn!(
            error_code = failure.error_code,
            "a reply could not be delivered"
        );
        if let Err(problem) = self.store.record_delivery_failure(&failure).await {
            error!(%problem, "recording a delivery failure failed");
        }
    }

    async fn process_message(&self, message: &InboundMessage) -> MessageOutcome {
        let now = (self.clock)();
        let kind = message.content.type_name().to_string();
        let Some(citizen) = self.citizen(&message.sender) else {
            return MessageOutcome::Ignored { kind };
        };
        // 1. Claim: exactly once per message id. An unreachable store must not silence the bot.
        match self.store.claim_message(&message.message_id, now).await {
            Ok(Claim::Duplicate) => {
                info!(kind, "duplicate delivery ignored");
                return MessageOutcome::Duplicate;
            }
            Ok(Claim::Claimed) => {}
            Err(problem) => error!(%problem, "claiming the message failed; answering anyway"),
        }
        let recipient = match (&message.sender.wa_id, &message.sender.user_id) {
            (Some(wa_id), _) => Recipient::PhoneNumber(wa_id.clone()),
            (None, Some(user_id)) => Recipient::BusinessScopedUserId(user_id.clone()),
            (None, None) => return MessageOutcome::Ignored { kind },
        };
        let preferences = match self.store.preferences(&citizen, now).await {
            Ok(preferences) => preferences,
            Err(problem) => {
                error!(%problem, "reading preferences failed");
                None
            }
        };
        let language = preferences
            .as_ref()
            .and_then(|preferences| preferences.language.clone())
            .unwrap_or_else(|| self.engine.default_language().to_string());

        // 2. Rate limit: one notice when the limit is first passed, then silence.
        let limit = self.store_config.rate_limit;
        match self
            .store
            .count_message(&citizen, now, limit.window_seconds)
            .await
        {
            Ok(count) if !limit.allows(count) => {
                let notified = count == limit.max_messages + 1;
                if notified {
                    self.notice(&recipient, &message.message_id, &language, "rate_limited")
                        .await;
                }
                info!(notified, "rate limited");
                return MessageOutcome::RateLimited { notified };
            }
            Ok(_) => {}
            Err(problem) => error!(%problem, "rate limit check failed; answering anyway"),
        }

        // 3. What the message asks.
        let question = match &message.content {
            MessageContent::Text(text) => text.clone(),
            MessageContent::QuickReplyButton { payload, text } => {
                if text.is_empty() {
                    payload.clone()
                } else {
                    text.clone()
                }
            }
            MessageContent::ListReply { id, title } => match id.strip_prefix("topic:") {
                Some(topic) => self
                    .engine
                    .topic_question(topic)
                    .unwrap_or_else(|| title.clone()),
                None => title.clone(),
            },
            MessageContent::ButtonReply { id, .. } if id.starts_with("feedback:") => {
                return self
                    .feedback(message, &citizen, id, &recipient, &language, now)
                    .await;
            }
            MessageContent::ButtonReply { title, .. } => title.clone(),
            MessageContent::Media { .. } | MessageContent::Location { .. } => {
                let key = if matches!(message.content, MessageContent::Location { .. }) {
                    "location_unsupported"
                } else {
                    "media_unsupported"
                };
                if !preferences
                    .as_ref()
                    .is_some_and(|preferences| preferences.opted_out)
                {
                    self.notice(&recipient, &message.message_id, &language, key)
                        .await;
                }
                info!(kind, "media is not understood yet");
                return MessageOutcome::Ignored { kind };
            }
            MessageContent::System(SystemChange::NumberChanged { new, .. }) => {
                if let Some(new_citizen) = self.citizen(new)
                    && let Err(problem) = self.store.move_citizen(&citizen, &new_citizen).await
                {
                    error!(%problem, "moving a citizen's preferences failed");
                }
                return MessageOutcome::Ignored { kind };
            }
            _ => {
                info!(kind, "message type ignored");
                return MessageOutcome::Ignored { kind };
            }
        };

        // 4. Answer.
        let context = ConversationContext {
            preferred_language: None,
            previous_language: preferences
                .as_ref()
                .and_then(|preferences| preferences.language.clone()),
            forwarded: message.forwarded,
        };
        let mut answer = self.engine.answer(&question, &context);
        let opted_out = preferences
            .as_ref()
            .is_some_and(|preferences| preferences.opted_out);
        if opted_out && !matches!(answer.intent, Intent::OptIn | Intent::DeleteMyData) {
            info!("opted out: not answered");
            return MessageOutcome::OptedOut;
        }
        let _ = self.sender.mark_read(&message.message_id).await;
        self.apply_command(&citizen, &mut answer, now).await;
        if let Some(observer) = &self.observer {
            observer.answered(&message.message_id, &answer);
        }

        // 5. Reply, then record.
        let prompt = self
            .engine
            .renderer(&answer.language)
            .plain("feedback_question", &[])
            .text;
        let mut sent = Ok(());
        for (index, content) in outgoing_contents(&answer, &message.message_id, &prompt)
            .into_iter()
            .enumerate()
        {
            // The first message quotes the citizen's; a follow-up (buttons) does not.
            let reply_to = (index == 0).then_some(message.message_id.as_str());
            sent = self.send(&recipient, reply_to, content).await;
            if sent.is_err() {
                // No follow-up (buttons) after a failed reply.
                break;
            }
        }
        if !matches!(answer.intent, Intent::DeleteMyData) {
            self.record(message, &citizen, &question, &answer, now)
                .await;
            let updated = Preferences {
                language: Some(answer.language.clone()),
                opted_out: matches!(answer.intent, Intent::OptOut)
                    || (opted_out && !matches!(answer.intent, Intent::OptIn)),
                last_seen: Some(now),
            };
            if let Err(problem) = self.store.save_preferences(&citizen, &updated).await {
                error!(%problem, "saving preferences failed");
            }
        }
        info!(
            outcome = answer.outcome.as_str(),
            language = %answer.language,
            engine_us = answer.timings.total_us,
            corpus_version = self.engine.index().manifest().corpus_version(),
            forwarded = message.forwarded,
            "message answered"
        );
        match sent {
            Ok(()) => MessageOutcome::Answered {
                outcome: answer.outcome.as_str().to_string(),
            },
            Err(metric) => MessageOutcome::Failed {
                metric: metric.to_string(),
            },
        }
    }

    /// Delete-my-data takes effect before the confirmation (with the count) is sent; opt-out and
    /// opt-in are saved with the preferences after the reply.
    async fn apply_command(&self, citizen: &CitizenKey, answer: &mut Answer, now: i64) {
        if answer.intent != Intent::DeleteMyData {
            return;
        }
        match self.store.delete_citizen(citizen).await {
            Ok(count) => {
                answer.reply.text = self
                    .engine
                    .renderer(&answer.language)
                    .plain("delete_confirm", &[("count", &count.to_string())])
                    .text;
                info!(deleted = count, at = now, "citizen data deleted on request");
            }
            Err(problem) => error!(%problem, "deleting a citizen's data failed"),
        }
    }

    async fn feedback(
        &self,
        message: &InboundMessage,
        citizen: &CitizenKey,
        button_id: &str,
        recipient: &Recipient,
        language: &str,
        now: i64,
    ) -> MessageOutcome {
        let helpful = button_id.starts_with(FEEDBACK_YES);
        let query_id = button_id
            .strip_prefix(if helpful { FEEDBACK_YES } else { FEEDBACK_NO })
            .and_then(|rest| rest.strip_prefix(':'))
            .unwrap_or_default()
            .to_string();
        let feedback = Feedback {
            query_id,
            citizen: citizen.clone(),
            helpful,
            at: now,
        };
        if let Err(problem) = self.store.record_feedback(&feedback).await {
            error!(%problem, "recording feedback failed");
        }
        self.notice(recipient, &message.message_id, language, "feedback_thanks")
            .await;
        MessageOutcome::Answered {
            outcome: "feedback".to_string(),
        }
    }

    async fn record(
        &self,
        message: &InboundMessage,
        citizen: &CitizenKey,
        question: &str,
        answer: &Answer,
        now: i64,
    ) {
        let record = QueryRecord {
            query_id: message.message_id.clone(),
            at: now,
            citizen: citizen.clone(),
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
            forwarded: message.forwarded,
            expires_at: self.store_config.expires_at(now),
        };
        if let Err(problem) = self.store.record_query(&record).await {
            error!(%problem, "recording the query failed");
        }
    }

    /// Sends a canned text from the catalogue as a reply to `message_id` (a failure is logged and
    /// counted inside [`Handler::send`]).
    async fn notice(&self, to: &Recipient, message_id: &str, language: &str, key: &str) {
        let body = self.engine.renderer(language).plain(key, &[]).text;
        let _ = self
            .send(to, Some(message_id), OutgoingContent::Text { body })
            .await;
    }

    /// Sends a reply; a failure is logged with its metric name and returned as that name.
    async fn send(
        &self,
        to: &Recipient,
        reply_to: Option<&str>,
        content: OutgoingContent,
    ) -> Result<(), &'static str> {
        let message = OutgoingMessage {
            to: to.clone(),
            reply_to: reply_to.map(str::to_string),
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
                Err(failure.metric)
            }
        }
    }
}

/// WhatsApp's limit for the body of an interactive (buttons or list) message; plain text allows
/// 4,096 characters.
pub const MAX_INTERACTIVE_BODY_CHARS: usize = 1024;

/// The WhatsApp messages for an answer: one message with buttons or a list when the answer has
/// them and its text fits an interactive body; otherwise the text, then the buttons or list
/// under a short `prompt` ("Was this answer helpful?"). Feedback button ids carry the query id
/// (the citizen's message id) so the tap finds the record.
pub fn outgoing_contents(answer: &Answer, query_id: &str, prompt: &str) -> Vec<OutgoingContent> {
    let text = answer.reply.text.clone();
    let interactive = |body: String| match &answer.reply.interactive {
        Some(Interactive::Buttons { buttons }) if answer.outcome != Outcome::NoAnswer => {
            Some(OutgoingContent::Buttons {
                body,
                buttons: buttons
                    .iter()
                    .map(|button| (format!("{}:{query_id}", button.id), button.title.clone()))
                    .collect(),
            })
        }
        Some(Interactive::List {
            button,
            section_title,
            rows,
        }) => Some(OutgoingContent::List {
            body,
            button: button.clone(),
            section_title: section_title.clone(),
            rows: rows
                .iter()
                .map(|row| (row.id.clone(), row.title.clone(), row.description.clone()))
                .collect(),
        }),
        _ => None,
    };
    if text.chars().count() <= MAX_INTERACTIVE_BODY_CHARS
        && let Some(single) = interactive(text.clone())
    {
        return vec![single];
    }
    let mut contents = vec![OutgoingContent::Text { body: text }];
    contents.extend(interactive(prompt.to_string()));
    contents
}
