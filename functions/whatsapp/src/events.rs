//! From a webhook body to plain events: what the conversation handler acts on.
//!
//! [`parse_events`] reads a raw body (already signature-checked) and walks every `entry[]`,
//! `changes[]`, `messages[]` and `statuses[]`, producing one [`InboundEvent`] per message and per
//! status, in payload order:
//!
//! - [`InboundEvent::Message`]: an [`InboundMessage`] with its id, [`Sender`] (phone `wa_id`
//!   and/or business-scoped `user_id`, merged from the message and its `contacts[]` entry), the
//!   business number that received it, forwarding flags, the message it replies to, and a
//!   [`MessageContent`] per type. Types this crate does not model (`contacts`, `order`, future
//!   ones), and known types whose content is missing, become [`MessageContent::Unknown`]: never
//!   an error.
//! - [`InboundEvent::Status`]: a [`DeliveryStatus`] of one of our messages, with the error code
//!   of a failed delivery (`131047`: outside the 24-hour window).
//!
//! Changes of other fields (`account_update`, template updates...) and bodies that are not
//! WhatsApp webhooks give no events; [`parse_webhook`] also reports them, and the items it had to
//! skip, for logging. Only invalid JSON is an error ([`PayloadError`], `400`).
//!
//! **Privacy.** A citizen's number, user id, name, message text and location never appear in
//! `Debug` output of these types (it ends up in logs): they print as `<redacted>`. Read the
//! fields themselves when the value is needed (hashing the sender key, answering the text).
//!
//! ```
//! use votecheck_whatsapp::{parse_events, InboundEvent, MessageContent};
//!
//! let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"200000000000001",
//!   "changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
//!   "metadata":{"display_phone_number":"15550100001","phone_number_id":"109000000000001"},
//!   "contacts":[{"profile":{"name":"Test Citizen"},"wa_id":"15550101234"}],
//!   "messages":[{"from":"15550101234","id":"wamid.TEST1","timestamp":"1767225600",
//!   "type":"text","text":{"body":"When is election day?"}}]}}]}]}"#;
//!
//! let events = parse_events(body)?;
//! let InboundEvent::Message(message) = &events[0] else { unreachable!() };
//! assert_eq!(message.sender.key(), Some("15550101234"));
//! assert_eq!(message.content, MessageContent::Text("When is election day?".into()));
//! let logged = format!("{message:?}");
//! assert!(!logged.contains("15550101234") && !logged.contains("election day"));
//! # Ok::<(), votecheck_whatsapp::PayloadError>(())
//! ```

use std::fmt;

use crate::payload::{self, MESSAGES_FIELD, PayloadError, Webhook};
use crate::personal::Personal;

/// One thing that happened, from one webhook.
#[derive(Debug, Clone, PartialEq)]
pub enum InboundEvent {
    /// A citizen sent a message.
    Message(InboundMessage),
    /// One of our messages was sent, delivered, read, or failed.
    Status(DeliveryStatus),
}

/// Who a message came from or went to: a phone-number WhatsApp id, a business-scoped user id
/// (BSUID), or both. `Debug` redacts both.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Sender {
    /// The WhatsApp id (phone number, digits only), when WhatsApp shares it.
    pub wa_id: Option<String>,
    /// The business-scoped user id (`US.13491208655302741918`), when present.
    pub user_id: Option<String>,
}

impl Sender {
    /// The stable id to key this citizen by (to hash, never to log): the business-scoped user id
    /// when present, else the phone-number WhatsApp id; `None` when there is neither.
    pub fn key(&self) -> Option<&str> {
        self.user_id.as_deref().or(self.wa_id.as_deref())
    }

    /// Whether neither id is known.
    pub fn is_empty(&self) -> bool {
        self.wa_id.is_none() && self.user_id.is_none()
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Sender")
            .field("wa_id", &redacted(&self.wa_id))
            .field("user_id", &redacted(&self.user_id))
            .finish()
    }
}

/// A message from a citizen. `Debug` redacts the sender, profile name and personal content.
#[derive(Clone, PartialEq)]
pub struct InboundMessage {
    /// The message id (`wamid.…`): the key to deduplicate redeliveries and to reply to.
    pub message_id: String,
    /// Who sent it.
    pub sender: Sender,
    /// Their WhatsApp profile name, when given. Personal data: never log it.
    pub profile_name: Option<String>,
    /// The id of the business phone number that received it (replies go out from it).
    pub phone_number_id: Option<String>,
    /// When it was sent, Unix seconds (0 when the payload had no readable timestamp).
    pub timestamp: i64,
    /// Whether it was forwarded (`context.forwarded` or `context.frequently_forwarded`).
    pub forwarded: bool,
    /// The message it replies to, such as the bot message whose button was tapped.
    pub context_message_id: Option<String>,
    /// What it says.
    pub content: MessageContent,
}

impl fmt::Debug for InboundMessage {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("InboundMessage")
            .field("message_id", &self.message_id)
            .field("sender", &self.sender)
            .field("profile_name", &redacted(&self.profile_name))
            .field("phone_number_id", &self.phone_number_id)
            .field("timestamp", &self.timestamp)
            .field("forwarded", &self.forwarded)
            .field("context_message_id", &self.context_message_id)
            .field("content", &self.content)
            .finish()
    }
}

/// What a message says, by type. `Debug` redacts text and locations.
#[derive(Clone, PartialEq)]
pub enum MessageContent {
    /// `text`: what the citizen wrote.
    Text(String),
    /// `interactive` / `button_reply`: one of our reply buttons was tapped.
    ButtonReply {
        /// Our button id.
        id: String,
        /// Our button title (empty when absent).
        title: String,
    },
    /// `interactive` / `list_reply`: one of our list rows was chosen.
    ListReply {
        /// Our row id.
        id: String,
        /// Our row title (empty when absent).
        title: String,
    },
    /// `button`: a template quick-reply button was tapped.
    QuickReplyButton {
        /// The payload the template gave the button (empty when absent).
        payload: String,
        /// The button's text (empty when absent).
        text: String,
    },
    /// `image`, `audio`, `video`, `document`, `sticker`.
    Media {
        /// Which kind.
        kind: MediaKind,
    },
    /// `location`.
    Location {
        /// Latitude, degrees.
        latitude: f64,
        /// Longitude, degrees.
        longitude: f64,
        /// The place's name, for a chosen place.
        name: Option<String>,
        /// The place's address, for a chosen place.
        address: Option<String>,
    },
    /// `reaction`: an emoji on one of our messages; `emoji` is `None` when it was removed.
    Reaction {
        /// The emoji, `None` for a removed reaction.
        emoji: Option<String>,
        /// The message reacted to.
        message_id: String,
    },
    /// `system`: the citizen's number or user id changed.
    System(SystemChange),
    /// `unsupported`: WhatsApp could not deliver the content to the Cloud API (polls, edits...).
    Unsupported,
    /// A type this crate does not model, or a known type whose content is missing: ignore and
    /// log `type_name` (sanitised: ASCII letters, digits, `_`, `.`, `-`; at most 64 characters).
    Unknown {
        /// The message `type` (`interactive.nfm_reply` for an unmodelled interactive reply).
        type_name: String,
    },
}

impl MessageContent {
    /// A short, log-safe name of the content type: `text`, `interactive.button_reply`,
    /// `interactive.list_reply`, `button`, `image`..., `location`, `reaction`,
    /// `system.<type>`, `unsupported`, or the unknown type's name.
    pub fn type_name(&self) -> &str {
        match self {
            MessageContent::Text(_) => "text",
            MessageContent::ButtonReply { .. } => "interactive.button_reply",
            MessageContent::ListReply { .. } => "interactive.list_reply",
            MessageContent::QuickReplyButton { .. } => "button",
            MessageContent::Media { kind } => kind.as_str(),
            MessageContent::Location { .. } => "location",
            MessageContent::Reaction { .. } => "reaction",
            MessageContent::System(SystemChange::NumberChanged { .. }) => "system.number_changed",
            MessageContent::System(SystemChange::Other(_)) => "system",
            MessageContent::Unsupported => "unsupported",
            MessageContent::Unknown { type_name } => type_name,
        }
    }
}

impl fmt::Debug for MessageContent {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageContent::Text(_) => formatter.debug_tuple("Text").field(&REDACTED).finish(),
            MessageContent::ButtonReply { id, title } => formatter
                .debug_struct("ButtonReply")
                .field("id", id)
                .field("title", title)
                .finish(),
            MessageContent::ListReply { id, title } => formatter
                .debug_struct("ListReply")
                .field("id", id)
                .field("title", title)
                .finish(),
            MessageContent::QuickReplyButton { payload, text } => formatter
                .debug_struct("QuickReplyButton")
                .field("payload", payload)
                .field("text", text)
                .finish(),
            MessageContent::Media { kind } => {
                formatter.debug_struct("Media").field("kind", kind).finish()
            }
            MessageContent::Location { name, address, .. } => formatter
                .debug_struct("Location")
                .field("latitude", &REDACTED)
                .field("longitude", &REDACTED)
                .field("name", &redacted(name))
                .field("address", &redacted(address))
                .finish(),
            MessageContent::Reaction { emoji, message_id } => formatter
                .debug_struct("Reaction")
                .field("emoji", emoji)
                .field("message_id", message_id)
                .finish(),
            MessageContent::System(change) => {
                formatter.debug_tuple("System").field(change).finish()
            }
            MessageContent::Unsupported => formatter.write_str("Unsupported"),
            MessageContent::Unknown { type_name } => formatter
                .debug_struct("Unknown")
                .field("type_name", type_name)
                .finish(),
        }
    }
}

/// The kind of a media message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `image`.
    Image,
    /// `audio`, including voice notes.
    Audio,
    /// `video`.
    Video,
    /// `document`.
    Document,
    /// `sticker`.
    Sticker,
}

impl MediaKind {
    /// The message type: `image`, `audio`, `video`, `document` or `sticker`.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }
}

/// A `system` message. `Debug` redacts the ids.
#[derive(Debug, Clone, PartialEq)]
pub enum SystemChange {
    /// The citizen's identity changed: `user_changed_number` (a new phone number, so a new
    /// `wa_id`) or `user_changed_user_id` (a new business-scoped user id). Move their
    /// preferences from `old.key()` to `new.key()`.
    NumberChanged {
        /// The identity the message came from.
        old: Sender,
        /// The new identity. For `user_changed_user_id` the phone number is unchanged, so `wa_id`
        /// is carried over from `old` when the notification does not repeat it.
        new: Sender,
    },
    /// Another system notification, or a change without a usable new id: the (sanitised)
    /// system `type`, such as `customer_identity_changed`.
    Other(String),
}

/// The delivery status of one of our messages. `Debug` redacts the recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryStatus {
    /// The id of our message.
    pub message_id: String,
    /// Who it was sent to.
    pub recipient: Sender,
    /// What happened to it.
    pub status: StatusKind,
    /// When, Unix seconds (0 when the payload had no readable timestamp).
    pub timestamp: i64,
    /// The first error's code, for failed deliveries (`131047`, `131026`...).
    pub error_code: Option<i64>,
    /// The first error's title.
    pub error_title: Option<String>,
}

/// What happened to one of our messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatusKind {
    /// Accepted by WhatsApp.
    Sent,
    /// Delivered to the phone.
    Delivered,
    /// Read by the citizen.
    Read,
    /// A voice message was played.
    Played,
    /// Not delivered; see the error code.
    Failed,
    /// Deleted.
    Deleted,
    /// A status this crate does not know (sanitised), such as a future one.
    Other(String),
}

impl StatusKind {
    fn parse(status: &str) -> Self {
        match status.trim().to_ascii_lowercase().as_str() {
            "sent" => StatusKind::Sent,
            "delivered" => StatusKind::Delivered,
            "read" => StatusKind::Read,
            "played" => StatusKind::Played,
            "failed" => StatusKind::Failed,
            "deleted" => StatusKind::Deleted,
            _ => StatusKind::Other(sanitize(status)),
        }
    }

    /// The status as Meta names it: `sent`, `delivered`, `read`, `played`, `failed`, `deleted`,
    /// or the unknown status.
    pub fn as_str(&self) -> &str {
        match self {
            StatusKind::Sent => "sent",
            StatusKind::Delivered => "delivered",
            StatusKind::Read => "read",
            StatusKind::Played => "played",
            StatusKind::Failed => "failed",
            StatusKind::Deleted => "deleted",
            StatusKind::Other(status) => status,
        }
    }
}

/// Everything [`parse_webhook`] found: the events, and what it left out, for logs and metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedWebhook {
    /// The events, in payload order.
    pub events: Vec<InboundEvent>,
    /// Items that could not become events (no id, no sender).
    pub skipped: Vec<SkippedItem>,
    /// The (sanitised) `field` of each change that is not `messages`, such as `account_update`.
    pub ignored_fields: Vec<String>,
    /// The (sanitised) `object` when the body is not a WhatsApp webhook (`<none>` when absent).
    pub ignored_object: Option<String>,
    /// Errors reported at the level of a change value (not of one message).
    pub errors: Vec<ReportedError>,
}

/// An item of a webhook that could not become an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkippedItem {
    /// A message without an `id`: it cannot be deduplicated or replied to.
    MessageWithoutId,
    /// A message with no sender id at all (no `from`, no user id, no matching contact).
    MessageWithoutSender,
    /// A status without an `id`.
    StatusWithoutId,
}

/// An error the webhook reported about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedError {
    /// The error code.
    pub code: Option<i64>,
    /// The error title.
    pub title: Option<String>,
}

/// Parses a raw webhook body into events; see the [module](self) docs.
pub fn parse_events(raw_body: &[u8]) -> Result<Vec<InboundEvent>, PayloadError> {
    parse_webhook(raw_body).map(|parsed| parsed.events)
}

/// Like [`parse_events`], also reporting ignored changes, skipped items and reported errors.
pub fn parse_webhook(raw_body: &[u8]) -> Result<ParsedWebhook, PayloadError> {
    Ok(events_of(Webhook::from_json(raw_body)?))
}

/// Turns an already-read [`Webhook`] into events.
pub fn events_of(webhook: Webhook) -> ParsedWebhook {
    let mut parsed = ParsedWebhook::default();
    if !webhook.is_whatsapp() {
        parsed.ignored_object = Some(
            webhook
                .object
                .as_deref()
                .map_or_else(|| "<none>".to_owned(), sanitize),
        );
        return parsed;
    }
    for entry in webhook.entry {
        for change in entry.changes {
            if change.field.as_deref() != Some(MESSAGES_FIELD) {
                parsed.ignored_fields.push(
                    change
                        .field
                        .as_deref()
                        .map_or_else(|| "<none>".to_owned(), sanitize),
                );
                continue;
            }
            let Some(value) = change.value else { continue };
            read_change(value, &mut parsed);
        }
    }
    parsed
}

fn read_change(value: payload::ChangeValue, parsed: &mut ParsedWebhook) {
    let phone_number_id = value
        .metadata
        .as_ref()
        .and_then(|metadata| metadata.phone_number_id.clone());
    let contacts = &value.contacts;
    let single_message = value.messages.len() == 1;
    for message in value.messages {
        match inbound_message(message, contacts, single_message, &phone_number_id) {
            Ok(message) => parsed.events.push(InboundEvent::Message(message)),
            Err(skipped) => parsed.skipped.push(skipped),
        }
    }
    for status in value.statuses {
        match delivery_status(status, contacts) {
            Ok(status) => parsed.events.push(InboundEvent::Status(status)),
            Err(skipped) => parsed.skipped.push(skipped),
        }
    }
    parsed
        .errors
        .extend(value.errors.into_iter().map(|error| ReportedError {
            code: error.code,
            title: error.title,
        }));
}

fn inbound_message(
    message: payload::Message,
    contacts: &[payload::Contact],
    single_message: bool,
    phone_number_id: &Option<String>,
) -> Result<InboundMessage, SkippedItem> {
    let message_id = message
        .id
        .clone()
        .filter(|id| !id.is_empty())
        .ok_or(SkippedItem::MessageWithoutId)?;
    let (sender, contact) = message_sender(&message, contacts, single_message);
    if sender.is_empty() {
        return Err(SkippedItem::MessageWithoutSender);
    }
    let profile_name = contact
        .and_then(|contact| contact.profile.as_ref())
        .and_then(|profile| profile.name.as_ref())
        .map(|name| name.expose().clone());
    let context = message.context.as_ref();
    let forwarded =
        context.is_some_and(|context| context.forwarded || context.frequently_forwarded);
    let context_message_id = context.and_then(|context| context.id.clone());
    Ok(InboundMessage {
        message_id,
        profile_name,
        phone_number_id: phone_number_id.clone(),
        timestamp: unix_seconds(message.timestamp.as_deref()),
        forwarded,
        context_message_id,
        content: content(&message, &sender),
        sender,
    })
}

/// The sender of a message, merged from the message's own fields and its `contacts[]` entry
/// (matched by `wa_id` or user id; the only contact when the message names no sender).
fn message_sender<'a>(
    message: &payload::Message,
    contacts: &'a [payload::Contact],
    single_message: bool,
) -> (Sender, Option<&'a payload::Contact>) {
    let (wa_id, user_id) = classify(
        exposed(&message.from),
        exposed(&message.from_user_id).or_else(|| exposed(&message.user_id)),
    );
    let contact = contacts
        .iter()
        .find(|contact| {
            (wa_id.is_some() && exposed(&contact.wa_id) == wa_id)
                || (user_id.is_some() && exposed(&contact.user_id) == user_id)
        })
        .or_else(|| {
            let anonymous = wa_id.is_none() && user_id.is_none();
            (anonymous && single_message && contacts.len() == 1).then(|| &contacts[0])
        });
    let (contact_wa_id, contact_user_id) = match contact {
        Some(contact) => classify(exposed(&contact.wa_id), exposed(&contact.user_id)),
        None => (None, None),
    };
    let sender = Sender {
        wa_id: wa_id.or(contact_wa_id),
        user_id: user_id.or(contact_user_id),
    };
    (sender, contact)
}

fn content(message: &payload::Message, sender: &Sender) -> MessageContent {
    let kind = message.kind.as_deref().unwrap_or_default();
    let unknown = || MessageContent::Unknown {
        type_name: sanitize(kind),
    };
    match kind {
        "text" => message
            .text
            .as_ref()
            .and_then(|text| text.body.as_ref())
            .map_or_else(unknown, |body| MessageContent::Text(body.expose().clone())),
        "interactive" => interactive(message.interactive.as_ref()),
        "button" => match &message.button {
            Some(payload::Button { payload, text }) if payload.is_some() || text.is_some() => {
                MessageContent::QuickReplyButton {
                    payload: payload.clone().unwrap_or_default(),
                    text: text.clone().unwrap_or_default(),
                }
            }
            _ => unknown(),
        },
        "image" => MessageContent::Media {
            kind: MediaKind::Image,
        },
        "audio" => MessageContent::Media {
            kind: MediaKind::Audio,
        },
        "video" => MessageContent::Media {
            kind: MediaKind::Video,
        },
        "document" => MessageContent::Media {
            kind: MediaKind::Document,
        },
        "sticker" => MessageContent::Media {
            kind: MediaKind::Sticker,
        },
        "location" => match &message.location {
            Some(payload::Location {
                latitude: Some(latitude),
                longitude: Some(longitude),
                name,
                address,
            }) => MessageContent::Location {
                latitude: *latitude.expose(),
                longitude: *longitude.expose(),
                name: name.as_ref().map(|name| name.expose().clone()),
                address: address.as_ref().map(|address| address.expose().clone()),
            },
            _ => unknown(),
        },
        "reaction" => match &message.reaction {
            Some(payload::Reaction {
                message_id: Some(message_id),
                emoji,
            }) => MessageContent::Reaction {
                emoji: emoji.clone().filter(|emoji| !emoji.is_empty()),
                message_id: message_id.clone(),
            },
            _ => unknown(),
        },
        "system" => MessageContent::System(system_change(message.system.as_ref(), sender)),
        "unsupported" => MessageContent::Unsupported,
        _ => unknown(),
    }
}

fn interactive(interactive: Option<&payload::Interactive>) -> MessageContent {
    let Some(interactive) = interactive else {
        return MessageContent::Unknown {
            type_name: "interactive".to_owned(),
        };
    };
    let button_id = interactive
        .button_reply
        .as_ref()
        .and_then(|reply| reply.id.clone());
    let list_id = interactive
        .list_reply
        .as_ref()
        .and_then(|reply| reply.id.clone());
    match (interactive.kind.as_deref(), button_id, list_id) {
        (Some("button_reply") | None, Some(id), _) => MessageContent::ButtonReply {
            id,
            title: interactive
                .button_reply
                .as_ref()
                .and_then(|reply| reply.title.clone())
                .unwrap_or_default(),
        },
        (Some("list_reply") | None, _, Some(id)) => MessageContent::ListReply {
            id,
            title: interactive
                .list_reply
                .as_ref()
                .and_then(|reply| reply.title.clone())
                .unwrap_or_default(),
        },
        (subtype, _, _) => MessageContent::Unknown {
            type_name: match subtype {
                Some(subtype) => sanitize(&format!("interactive.{subtype}")),
                None => "interactive".to_owned(),
            },
        },
    }
}

fn system_change(system: Option<&payload::System>, old: &Sender) -> SystemChange {
    let Some(system) = system else {
        return SystemChange::Other("<none>".to_owned());
    };
    let kind = system.kind.as_deref().unwrap_or_default();
    let new_wa_id = exposed(&system.wa_id).or_else(|| exposed(&system.new_wa_id));
    let new_user_id = exposed(&system.user_id);
    let new = match kind {
        "user_changed_number" | "customer_changed_number" => {
            let (wa_id, user_id) = classify(new_wa_id, new_user_id);
            Sender { wa_id, user_id }
        }
        "user_changed_user_id" => {
            let (wa_id, user_id) = classify(new_wa_id, new_user_id);
            Sender {
                wa_id: wa_id.or_else(|| old.wa_id.clone()),
                user_id,
            }
        }
        _ => return SystemChange::Other(sanitize(kind)),
    };
    if new.key().is_none() || new.key() == old.key() {
        return SystemChange::Other(sanitize(kind));
    }
    SystemChange::NumberChanged {
        old: old.clone(),
        new,
    }
}

fn delivery_status(
    status: payload::Status,
    contacts: &[payload::Contact],
) -> Result<DeliveryStatus, SkippedItem> {
    let message_id = status
        .id
        .clone()
        .filter(|id| !id.is_empty())
        .ok_or(SkippedItem::StatusWithoutId)?;
    let group = status.recipient_type.as_deref() == Some("group");
    let (wa_id, user_id) = if group {
        classify(
            exposed(&status.recipient_participant_id),
            exposed(&status.recipient_participant_user_id),
        )
    } else {
        classify(
            exposed(&status.recipient_id),
            exposed(&status.recipient_user_id),
        )
    };
    let contact = contacts.iter().find(|contact| {
        (wa_id.is_some() && exposed(&contact.wa_id) == wa_id)
            || (user_id.is_some() && exposed(&contact.user_id) == user_id)
    });
    let (contact_wa_id, contact_user_id) = match contact {
        Some(contact) => classify(exposed(&contact.wa_id), exposed(&contact.user_id)),
        None => (None, None),
    };
    let first_error = status.errors.first();
    Ok(DeliveryStatus {
        message_id,
        recipient: Sender {
            wa_id: wa_id.or(contact_wa_id),
            user_id: user_id.or(contact_user_id),
        },
        status: StatusKind::parse(status.status.as_deref().unwrap_or_default()),
        timestamp: unix_seconds(status.timestamp.as_deref()),
        error_code: first_error.and_then(|error| error.code),
        error_title: first_error.and_then(|error| error.title.clone()),
    })
}

/// Sorts a (phone id, user id) pair: empty values are dropped, and a business-scoped user id
/// found where a phone number was expected (two letters, then a dot: phone-number WhatsApp ids
/// are digits only) moves to the user id slot, or is dropped when that slot is already filled.
fn classify(wa_id: Option<String>, user_id: Option<String>) -> (Option<String>, Option<String>) {
    let wa_id = wa_id.filter(|id| !id.is_empty());
    let user_id = user_id.filter(|id| !id.is_empty());
    match (wa_id, user_id) {
        (Some(id), user_id) if looks_like_user_id(&id) => (None, user_id.or(Some(id))),
        pair => pair,
    }
}

fn looks_like_user_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    bytes.len() > 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1].is_ascii_alphabetic()
        && bytes[2] == b'.'
}

fn exposed(value: &Option<Personal>) -> Option<String> {
    value.as_ref().map(|value| value.expose().trim().to_owned())
}

fn unix_seconds(timestamp: Option<&str>) -> i64 {
    timestamp
        .and_then(|timestamp| timestamp.trim().parse::<i64>().ok())
        .unwrap_or(0)
}

/// Makes a payload-provided name safe to log: ASCII letters, digits, `_`, `.` and `-` only, at
/// most 64 characters; `<none>` when nothing is left.
fn sanitize(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '_' | '.' | '-')
        })
        .take(64)
        .collect();
    if clean.is_empty() {
        "<none>".to_owned()
    } else {
        clean
    }
}

const REDACTED: Redacted = Redacted;

/// Prints `<redacted>`.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("<redacted>")
    }
}

/// `Some(<redacted>)` or `None`: whether a personal value is present, never what it is.
fn redacted(value: &Option<String>) -> Option<Redacted> {
    value.as_ref().map(|_| Redacted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhook_with(value: &str) -> Vec<u8> {
        format!(
            r#"{{"object":"whatsapp_business_account","entry":[{{"id":"200000000000001",
            "changes":[{{"field":"messages","value":{value}}}]}}]}}"#
        )
        .into_bytes()
    }

    fn only_message(value: &str) -> InboundMessage {
        let events = parse_events(&webhook_with(value)).unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        match events.into_iter().next() {
            Some(InboundEvent::Message(message)) => message,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    fn content_of(message: &str) -> MessageContent {
        let value = format!(
            r#"{{"messages":[{{"from":"15550101234","id":"wamid.T","timestamp":"1","type":{message}}}]}}"#
        );
        only_message(&value).content
    }

    #[test]
    fn sender_key_prefers_the_user_id() {
        let both = Sender {
            wa_id: Some("15550101234".into()),
            user_id: Some("US.1".into()),
        };
        assert_eq!(both.key(), Some("US.1"));
        let phone = Sender {
            wa_id: Some("15550101234".into()),
            user_id: None,
        };
        assert_eq!(phone.key(), Some("15550101234"));
        assert_eq!(Sender::default().key(), None);
        assert!(Sender::default().is_empty());
    }

    #[test]
    fn the_contact_supplies_the_user_id_and_profile_name() {
        let message = only_message(
            r#"{"contacts":[{"profile":{"name":"Other"},"wa_id":"15550109999"},
                {"profile":{"name":"Test Citizen"},"wa_id":"15550101234","user_id":"US.42"}],
               "messages":[{"from":"15550101234","id":"wamid.T","timestamp":"5","type":"text","text":{"body":"hi"}}]}"#,
        );
        assert_eq!(
            message.sender,
            Sender {
                wa_id: Some("15550101234".into()),
                user_id: Some("US.42".into())
            }
        );
        assert_eq!(message.profile_name.as_deref(), Some("Test Citizen"));
        assert_eq!(message.timestamp, 5);
        assert_eq!(message.phone_number_id, None);
    }

    #[test]
    fn message_level_user_ids_are_accepted_under_either_name() {
        for field in ["from_user_id", "user_id"] {
            let message = only_message(&format!(
                r#"{{"messages":[{{"{field}":"US.7","id":"wamid.T","type":"text","text":{{"body":"hi"}}}}]}}"#
            ));
            assert_eq!(message.sender.user_id.as_deref(), Some("US.7"));
            assert_eq!(message.sender.wa_id, None);
            assert_eq!(message.timestamp, 0);
        }
    }

    #[test]
    fn a_user_id_in_the_from_field_is_recognised() {
        let message = only_message(
            r#"{"messages":[{"from":"BR.1502576394655843","id":"wamid.T","type":"text","text":{"body":"hi"}}]}"#,
        );
        assert_eq!(
            message.sender,
            Sender {
                wa_id: None,
                user_id: Some("BR.1502576394655843".into())
            }
        );
        let both = only_message(
            r#"{"messages":[{"from":"BR.1","from_user_id":"BR.2","id":"wamid.T","type":"text","text":{"body":"hi"}}]}"#,
        );
        assert_eq!(
            both.sender,
            Sender {
                wa_id: None,
                user_id: Some("BR.2".into())
            }
        );
    }

    #[test]
    fn messages_without_id_or_sender_are_skipped_and_reported() {
        let parsed = parse_webhook(&webhook_with(
            r#"{"contacts":[{"wa_id":"15550101234"},{"wa_id":"15550104321"}],
                "messages":[{"from":"15550101234","type":"text","text":{"body":"no id"}},
                {"id":"","from":"15550101234","type":"text"},
                {"id":"wamid.NOSENDER","type":"text","text":{"body":"who?"}},
                {"id":"wamid.OK","from":"15550101234","type":"text","text":{"body":"fine"}}],
                "statuses":[{"status":"sent"}]}"#,
        ))
        .unwrap();
        assert_eq!(parsed.events.len(), 1);
        assert_eq!(
            parsed.skipped,
            vec![
                SkippedItem::MessageWithoutId,
                SkippedItem::MessageWithoutId,
                SkippedItem::MessageWithoutSender,
                SkippedItem::StatusWithoutId
            ]
        );
    }

    #[test]
    fn content_per_type() {
        assert_eq!(
            content_of(r#""text","text":{"body":"hola"}"#),
            MessageContent::Text("hola".into())
        );
        assert_eq!(
            content_of(r#""text""#),
            MessageContent::Unknown {
                type_name: "text".into()
            }
        );
        assert_eq!(
            content_of(
                r#""interactive","interactive":{"type":"button_reply","button_reply":{"id":"feedback.yes","title":"Yes"}}"#
            ),
            MessageContent::ButtonReply {
                id: "feedback.yes".into(),
                title: "Yes".into()
            }
        );
        assert_eq!(
            content_of(
                r#""interactive","interactive":{"type":"list_reply","list_reply":{"id":"topic.1","title":"Dates","description":"d"}}"#
            ),
            MessageContent::ListReply {
                id: "topic.1".into(),
                title: "Dates".into()
            }
        );
        assert_eq!(
            content_of(r#""interactive","interactive":{"type":"nfm_reply","nfm_reply":{}}"#),
            MessageContent::Unknown {
                type_name: "interactive.nfm_reply".into()
            }
        );
        assert_eq!(
            content_of(r#""interactive""#),
            MessageContent::Unknown {
                type_name: "interactive".into()
            }
        );
        assert_eq!(
            content_of(r#""button","button":{"payload":"menu"}"#),
            MessageContent::QuickReplyButton {
                payload: "menu".into(),
                text: String::new()
            }
        );
        assert_eq!(
            content_of(r#""sticker","sticker":{"id":"1","animated":true}"#),
            MessageContent::Media {
                kind: MediaKind::Sticker
            }
        );
        assert_eq!(
            content_of(r#""location","location":{"latitude":"40.4","longitude":-3.7}"#),
            MessageContent::Location {
                latitude: 40.4,
                longitude: -3.7,
                name: None,
                address: None
            }
        );
        assert_eq!(
            content_of(r#""location","location":{"latitude":40.4}"#),
            MessageContent::Unknown {
                type_name: "location".into()
            }
        );
        assert_eq!(
            content_of(r#""reaction","reaction":{"message_id":"wamid.OUT","emoji":""}"#),
            MessageContent::Reaction {
                emoji: None,
                message_id: "wamid.OUT".into()
            }
        );
        assert_eq!(
            content_of(r#""unsupported","errors":[{"code":131051}]"#),
            MessageContent::Unsupported
        );
        assert_eq!(
            content_of(r#""hologram 3D!\n","hologram":{}"#),
            MessageContent::Unknown {
                type_name: "hologram3D".into()
            }
        );
        assert_eq!(
            content_of(r#"42"#),
            MessageContent::Unknown {
                type_name: "42".into()
            }
        );
        assert_eq!(
            content_of(r#"null"#),
            MessageContent::Unknown {
                type_name: "<none>".into()
            }
        );
    }

    #[test]
    fn system_changes_map_old_and_new_identities() {
        let number = content_of(
            r#""system","system":{"body":"User A changed from 15550101234 to 15550109876","wa_id":"15550109876","type":"user_changed_number"}"#,
        );
        assert_eq!(
            number,
            MessageContent::System(SystemChange::NumberChanged {
                old: Sender {
                    wa_id: Some("15550101234".into()),
                    user_id: None
                },
                new: Sender {
                    wa_id: Some("15550109876".into()),
                    user_id: None
                },
            })
        );
        let user_id = content_of(
            r#""system","system":{"body":"changed","user_id":"US.2","type":"user_changed_user_id"}"#,
        );
        assert_eq!(
            user_id,
            MessageContent::System(SystemChange::NumberChanged {
                old: Sender {
                    wa_id: Some("15550101234".into()),
                    user_id: None
                },
                new: Sender {
                    wa_id: Some("15550101234".into()),
                    user_id: Some("US.2".into())
                },
            })
        );
        assert_eq!(
            content_of(r#""system","system":{"body":"x","type":"customer_identity_changed"}"#),
            MessageContent::System(SystemChange::Other("customer_identity_changed".into()))
        );
        assert_eq!(
            content_of(r#""system","system":{"type":"user_changed_number"}"#),
            MessageContent::System(SystemChange::Other("user_changed_number".into()))
        );
        assert_eq!(
            content_of(r#""system""#),
            MessageContent::System(SystemChange::Other("<none>".into()))
        );
    }

    #[test]
    fn statuses_read_recipient_kind_and_first_error() {
        let events = parse_events(&webhook_with(
            r#"{"statuses":[{"id":"wamid.OUT1","status":"failed","timestamp":"9","recipient_id":"15550101234",
               "errors":[{"code":131047,"title":"Re-engagement message"},{"code":1}]},
               {"id":"wamid.OUT2","status":"READ","recipient_id":"15550101234","recipient_user_id":"US.9"},
               {"id":"wamid.OUT3","status":"bounced?","recipient_type":"group","recipient_id":"group-1",
                "recipient_participant_id":"15550104321"}]}"#,
        ))
        .unwrap();
        let statuses: Vec<_> = events
            .into_iter()
            .map(|event| match event {
                InboundEvent::Status(status) => status,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(statuses[0].status, StatusKind::Failed);
        assert_eq!(statuses[0].timestamp, 9);
        assert_eq!(statuses[0].error_code, Some(131047));
        assert_eq!(
            statuses[0].error_title.as_deref(),
            Some("Re-engagement message")
        );
        assert_eq!(statuses[1].status, StatusKind::Read);
        assert_eq!(statuses[1].recipient.key(), Some("US.9"));
        assert_eq!(statuses[2].status, StatusKind::Other("bounced".into()));
        assert_eq!(statuses[2].status.as_str(), "bounced");
        assert_eq!(statuses[2].recipient.wa_id.as_deref(), Some("15550104321"));
    }

    #[test]
    fn other_fields_and_objects_are_reported_not_parsed() {
        let parsed = parse_webhook(
            br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
                {"field":"account_update","value":{"event":"ACCOUNT_RESTRICTION",
                 "messages":[{"id":"wamid.X","from":"15550101234","type":"text","text":{"body":"no"}}]}},
                {"value":{}},
                {"field":"messages","value":{"errors":[{"code":131000,"title":"Something went wrong"}]}}]}]}"#,
        )
        .unwrap();
        assert!(parsed.events.is_empty());
        assert_eq!(parsed.ignored_fields, vec!["account_update", "<none>"]);
        assert_eq!(
            parsed.errors,
            vec![ReportedError {
                code: Some(131000),
                title: Some("Something went wrong".into())
            }]
        );
        let other = parse_webhook(br#"{"object":"page","entry":[]}"#).unwrap();
        assert_eq!(other.ignored_object.as_deref(), Some("page"));
        assert!(parse_events(b"{}").unwrap().is_empty());
        assert!(parse_events(b"[1,2]").unwrap().is_empty());
        assert!(parse_events(b"{").is_err());
    }

    #[test]
    fn debug_output_redacts_personal_data() {
        let message = InboundMessage {
            message_id: "wamid.T".into(),
            sender: Sender {
                wa_id: Some("15550101234".into()),
                user_id: Some("US.1000000000000000001".into()),
            },
            profile_name: Some("Test Citizen".into()),
            phone_number_id: Some("109000000000001".into()),
            timestamp: 1,
            forwarded: true,
            context_message_id: None,
            content: MessageContent::Text("my secret question".into()),
        };
        let location = MessageContent::Location {
            latitude: 40.416775,
            longitude: -3.703790,
            name: Some("Home Street".into()),
            address: Some("1 Private Road".into()),
        };
        let status = DeliveryStatus {
            message_id: "wamid.OUT".into(),
            recipient: message.sender.clone(),
            status: StatusKind::Failed,
            timestamp: 1,
            error_code: Some(131047),
            error_title: None,
        };
        let change = MessageContent::System(SystemChange::NumberChanged {
            old: message.sender.clone(),
            new: Sender {
                wa_id: Some("15550109876".into()),
                user_id: None,
            },
        });
        let debug = format!(
            "{message:?} {message:#?} {location:?} {status:?} {change:?} {:?}",
            InboundEvent::Message(message.clone())
        );
        for secret in [
            "15550101234",
            "US.1000000000000000001",
            "Test Citizen",
            "my secret question",
            "40.41",
            "3.70",
            "Home Street",
            "Private Road",
            "15550109876",
        ] {
            assert!(!debug.contains(secret), "{secret} leaked: {debug}");
        }
        for visible in [
            "wamid.T",
            "109000000000001",
            "131047",
            "forwarded: true",
            "<redacted>",
        ] {
            assert!(debug.contains(visible), "{visible} missing: {debug}");
        }
    }

    #[test]
    fn type_names_are_log_safe() {
        assert_eq!(MessageContent::Text("x".into()).type_name(), "text");
        assert_eq!(
            MessageContent::Media {
                kind: MediaKind::Document
            }
            .type_name(),
            "document"
        );
        assert_eq!(sanitize(&"a b\u{1F600}c\n".repeat(40)).len(), 64);
        assert_eq!(sanitize("   "), "<none>");
    }
}
