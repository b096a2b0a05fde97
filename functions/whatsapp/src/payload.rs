//! The webhook payload as Meta sends it: lenient serde types, one per JSON object.
//!
//! ```text
//! { "object": "whatsapp_business_account",
//!   "entry": [ { "id": WABA id,
//!                "changes": [ { "field": "messages",
//!                               "value": { "messaging_product", "metadata", "contacts": [..],
//!                                          "messages": [..], "statuses": [..], "errors": [..] } } ] } ] }
//! ```
//!
//! These types mirror the documented shapes closely and are **lenient**: unknown fields are
//! ignored, every field is optional, and a field of an unexpected shape is read as absent (see
//! `lenient.rs`) instead of failing the whole payload, because Meta redelivers a webhook it
//! believes failed for days, and adds fields and message types without notice. Only invalid JSON
//! is an error ([`PayloadError`], `400`); valid JSON that is not a WhatsApp webhook (`{}`, `[]`,
//! another `object`) reads as a [`Webhook`] with nothing in it.
//!
//! Business-scoped user ids (BSUIDs, such as `US.13491208655302741918`) arrive next to, or
//! instead of, phone numbers: `contacts[].user_id`, `messages[].from_user_id`,
//! `statuses[].recipient_user_id`, `system.user_id`; each is read, as is a `user_id` on the
//! message itself.
//!
//! Personal data (numbers, user ids, names, text, coordinates) is held as [`Personal`], so the
//! derived `Debug` of every type here redacts it. Most callers want the flat
//! [`events`](crate::events) built from these types rather than the types themselves.
//!
//! ```
//! use votecheck_whatsapp::payload::Webhook;
//!
//! let webhook = Webhook::from_json(br#"{"object":"whatsapp_business_account","entry":[{"id":"1",
//!     "changes":[{"field":"messages","value":{"messages":[{"from":"15550101234","id":"wamid.A",
//!     "timestamp":"1767225600","type":"text","text":{"body":"hello"}}]}}]}]}"#)?;
//! let message = &webhook.entry[0].changes[0].value.as_ref().unwrap().messages[0];
//! assert_eq!(message.kind.as_deref(), Some("text"));
//! assert!(!format!("{message:?}").contains("15550101234"));
//! # Ok::<(), votecheck_whatsapp::PayloadError>(())
//! ```

use serde::Deserialize;
use serde_json::Value;

use crate::lenient;
use crate::personal::Personal;

/// The `object` of every WhatsApp Business Platform webhook.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";
/// The `field` of the changes that carry messages and statuses.
pub const MESSAGES_FIELD: &str = "messages";

/// Why a webhook body could not be read. The only case is invalid JSON: `400`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// The body is not JSON (or not UTF-8, or nested too deeply).
    #[error(
        "the webhook body is not valid JSON ({reason}, at line {line}, column {column}); nothing was processed"
    )]
    InvalidJson {
        /// The parser's message (syntax only, never the body).
        reason: String,
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
    },
}

impl PayloadError {
    /// The HTTP status to answer: `400`.
    pub fn status(&self) -> u16 {
        400
    }
}

/// A whole webhook body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Webhook {
    /// `whatsapp_business_account` for WhatsApp webhooks.
    #[serde(default, deserialize_with = "lenient::text")]
    pub object: Option<String>,
    /// One entry per WhatsApp Business Account.
    #[serde(default, deserialize_with = "lenient::list")]
    pub entry: Vec<Entry>,
}

impl Webhook {
    /// Reads a raw webhook body. Invalid JSON is an error; any valid JSON reads (a body that is
    /// not a JSON object gives an empty webhook).
    pub fn from_json(raw_body: &[u8]) -> Result<Self, PayloadError> {
        let value: Value =
            serde_json::from_slice(raw_body).map_err(|error| PayloadError::InvalidJson {
                reason: syntax_reason(&error),
                line: error.line(),
                column: error.column(),
            })?;
        Ok(Webhook::deserialize(value).unwrap_or_default())
    }

    /// Whether this is a WhatsApp Business Platform webhook (`object` is [`WHATSAPP_OBJECT`]).
    pub fn is_whatsapp(&self) -> bool {
        self.object.as_deref() == Some(WHATSAPP_OBJECT)
    }
}

/// serde_json's message without its " at line L column C" suffix (given separately). Syntax
/// errors name the problem (`EOF while parsing a value`, `expected ',' or '}'`), never the input.
fn syntax_reason(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(position) => message[..position].to_owned(),
        None => message,
    }
}

/// One WhatsApp Business Account's changes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account id.
    #[serde(default, deserialize_with = "lenient::text")]
    pub id: Option<String>,
    /// The changes, one per subscribed field.
    #[serde(default, deserialize_with = "lenient::list")]
    pub changes: Vec<Change>,
}

/// One change notification: `messages`, `account_update`, `message_template_status_update`...
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Change {
    /// The subscribed field this change is about; only [`MESSAGES_FIELD`] carries messages.
    #[serde(default, deserialize_with = "lenient::text")]
    pub field: Option<String>,
    /// The content, read as a messages value (other fields' contents read as empty).
    #[serde(default, deserialize_with = "lenient::value")]
    pub value: Option<ChangeValue>,
}

/// The `value` of a `messages` change.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChangeValue {
    /// `whatsapp`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub messaging_product: Option<String>,
    /// The business phone number that received the messages or sent the message of a status.
    #[serde(default, deserialize_with = "lenient::value")]
    pub metadata: Option<Metadata>,
    /// The senders of `messages` (absent for system messages and failed statuses).
    #[serde(default, deserialize_with = "lenient::list")]
    pub contacts: Vec<Contact>,
    /// Incoming messages.
    #[serde(default, deserialize_with = "lenient::list")]
    pub messages: Vec<Message>,
    /// Delivery statuses of messages we sent.
    #[serde(default, deserialize_with = "lenient::list")]
    pub statuses: Vec<Status>,
    /// Errors about the webhook itself (not about one message).
    #[serde(default, deserialize_with = "lenient::list")]
    pub errors: Vec<ErrorDetail>,
}

/// The business phone number of a change.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    /// The number as displayed (the business's, not personal data).
    #[serde(default, deserialize_with = "lenient::text")]
    pub display_phone_number: Option<String>,
    /// Its Graph API id: where replies are sent from.
    #[serde(default, deserialize_with = "lenient::text")]
    pub phone_number_id: Option<String>,
}

/// A WhatsApp user who sent one of the `messages`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Contact {
    /// Their profile.
    #[serde(default, deserialize_with = "lenient::value")]
    pub profile: Option<Profile>,
    /// Their WhatsApp id (phone number), absent for some users with a username.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub wa_id: Option<Personal>,
    /// Their business-scoped user id (BSUID).
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub user_id: Option<Personal>,
    /// Their parent BSUID, when the business has enabled them.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub parent_user_id: Option<Personal>,
}

/// A user's profile.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Profile {
    /// Their display name.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub name: Option<Personal>,
    /// Their username, when they have one.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub username: Option<Personal>,
}

/// An incoming message. `kind` (`type`) says which of the content fields is set.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Message {
    /// The sender's WhatsApp id (phone number); may be absent for users with a username.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub from: Option<Personal>,
    /// The sender's business-scoped user id.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub from_user_id: Option<Personal>,
    /// The sender's parent BSUID.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub from_parent_user_id: Option<Personal>,
    /// A business-scoped user id given on the message itself (accepted for tolerance).
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub user_id: Option<Personal>,
    /// The message id (`wamid.…`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub id: Option<String>,
    /// Unix seconds, as a string.
    #[serde(default, deserialize_with = "lenient::text")]
    pub timestamp: Option<String>,
    /// The message type: `text`, `interactive`, `button`, `image`, ..., or a future one.
    #[serde(rename = "type", default, deserialize_with = "lenient::text")]
    pub kind: Option<String>,
    /// Reply and forwarding information.
    #[serde(default, deserialize_with = "lenient::value")]
    pub context: Option<Context>,
    /// `type: text`.
    #[serde(default, deserialize_with = "lenient::value")]
    pub text: Option<Text>,
    /// `type: interactive`: a reply button or list row was tapped.
    #[serde(default, deserialize_with = "lenient::value")]
    pub interactive: Option<Interactive>,
    /// `type: button`: a template quick-reply button was tapped.
    #[serde(default, deserialize_with = "lenient::value")]
    pub button: Option<Button>,
    /// `type: image`.
    #[serde(default, deserialize_with = "lenient::value")]
    pub image: Option<Media>,
    /// `type: audio` (voice notes too).
    #[serde(default, deserialize_with = "lenient::value")]
    pub audio: Option<Media>,
    /// `type: video`.
    #[serde(default, deserialize_with = "lenient::value")]
    pub video: Option<Media>,
    /// `type: document`.
    #[serde(default, deserialize_with = "lenient::value")]
    pub document: Option<Media>,
    /// `type: sticker`.
    #[serde(default, deserialize_with = "lenient::value")]
    pub sticker: Option<Media>,
    /// `type: location`.
    #[serde(default, deserialize_with = "lenient::value")]
    pub location: Option<Location>,
    /// `type: reaction`.
    #[serde(default, deserialize_with = "lenient::value")]
    pub reaction: Option<Reaction>,
    /// `type: system`: the user's number or user id changed.
    #[serde(default, deserialize_with = "lenient::value")]
    pub system: Option<System>,
    /// `type: unsupported`: what WhatsApp could not deliver, when it says.
    #[serde(default, deserialize_with = "lenient::value")]
    pub unsupported: Option<Unsupported>,
    /// Why the message is `unsupported` (code `131051`...).
    #[serde(default, deserialize_with = "lenient::list")]
    pub errors: Vec<ErrorDetail>,
}

/// Reply and forwarding information of a message.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Context {
    /// Who sent the message replied to (usually our business number).
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub from: Option<Personal>,
    /// The id of the message replied to, such as the bot message whose button was tapped.
    #[serde(default, deserialize_with = "lenient::text")]
    pub id: Option<String>,
    /// The message was forwarded.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub forwarded: bool,
    /// The message was forwarded many times (more than 5 hops).
    #[serde(default, deserialize_with = "lenient::flag")]
    pub frequently_forwarded: bool,
}

/// A text message's content.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Text {
    /// What the citizen wrote.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub body: Option<Personal>,
}

/// An interactive reply: which of our buttons or list rows was tapped.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Interactive {
    /// `button_reply`, `list_reply`, or another (flows send `nfm_reply`).
    #[serde(rename = "type", default, deserialize_with = "lenient::text")]
    pub kind: Option<String>,
    /// The reply button tapped.
    #[serde(default, deserialize_with = "lenient::value")]
    pub button_reply: Option<ButtonReply>,
    /// The list row chosen.
    #[serde(default, deserialize_with = "lenient::value")]
    pub list_reply: Option<ListReply>,
}

/// A tapped reply button: the id and title we gave it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ButtonReply {
    /// Our button id.
    #[serde(default, deserialize_with = "lenient::text")]
    pub id: Option<String>,
    /// Our button title.
    #[serde(default, deserialize_with = "lenient::text")]
    pub title: Option<String>,
}

/// A chosen list row: the id, title and description we gave it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListReply {
    /// Our row id.
    #[serde(default, deserialize_with = "lenient::text")]
    pub id: Option<String>,
    /// Our row title.
    #[serde(default, deserialize_with = "lenient::text")]
    pub title: Option<String>,
    /// Our row description.
    #[serde(default, deserialize_with = "lenient::text")]
    pub description: Option<String>,
}

/// A tapped template quick-reply button.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Button {
    /// The payload the template defined for the button.
    #[serde(default, deserialize_with = "lenient::text")]
    pub payload: Option<String>,
    /// The button's text.
    #[serde(default, deserialize_with = "lenient::text")]
    pub text: Option<String>,
}

/// An image, audio, video, document or sticker.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Media {
    /// The media id, to download it through the Graph API.
    #[serde(default, deserialize_with = "lenient::text")]
    pub id: Option<String>,
    /// Its MIME type.
    #[serde(default, deserialize_with = "lenient::text")]
    pub mime_type: Option<String>,
    /// Its SHA-256, base64.
    #[serde(default, deserialize_with = "lenient::text")]
    pub sha256: Option<String>,
    /// The caption the citizen wrote (images, videos, documents).
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub caption: Option<Personal>,
    /// The document's file name.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub filename: Option<Personal>,
    /// An audio recorded as a voice note.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub voice: bool,
    /// An animated sticker.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub animated: bool,
}

/// A shared location.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Location {
    /// Latitude, degrees.
    #[serde(default, deserialize_with = "lenient::personal_number")]
    pub latitude: Option<Personal<f64>>,
    /// Longitude, degrees.
    #[serde(default, deserialize_with = "lenient::personal_number")]
    pub longitude: Option<Personal<f64>>,
    /// The place's name, for a chosen place.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub name: Option<Personal>,
    /// The place's address, for a chosen place.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub address: Option<Personal>,
}

/// A reaction to one of our messages; an empty or absent emoji removes it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Reaction {
    /// The message reacted to.
    #[serde(default, deserialize_with = "lenient::text")]
    pub message_id: Option<String>,
    /// The emoji.
    #[serde(default, deserialize_with = "lenient::text")]
    pub emoji: Option<String>,
}

/// A system notification: the user's phone number or business-scoped user id changed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct System {
    /// `user_changed_number`, `user_changed_user_id`, `customer_identity_changed`...
    #[serde(rename = "type", default, deserialize_with = "lenient::text")]
    pub kind: Option<String>,
    /// A human-readable sentence with names and numbers in it.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub body: Option<Personal>,
    /// The new WhatsApp id (`user_changed_number`).
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub wa_id: Option<Personal>,
    /// The new WhatsApp id, in older API versions.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub new_wa_id: Option<Personal>,
    /// The user concerned, in older API versions.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub customer: Option<Personal>,
    /// The new business-scoped user id (`user_changed_user_id`).
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub user_id: Option<Personal>,
    /// The new parent BSUID.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub parent_user_id: Option<Personal>,
}

/// What an `unsupported` message was, when WhatsApp says.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Unsupported {
    /// The original type (`poll`, `edit`...).
    #[serde(rename = "type", default, deserialize_with = "lenient::text")]
    pub kind: Option<String>,
}

/// The delivery status of a message we sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    /// The id of our message (`wamid.…`).
    #[serde(default, deserialize_with = "lenient::text")]
    pub id: Option<String>,
    /// `sent`, `delivered`, `read`, `failed`, `deleted`, `played`...
    #[serde(default, deserialize_with = "lenient::text")]
    pub status: Option<String>,
    /// Unix seconds, as a string.
    #[serde(default, deserialize_with = "lenient::text")]
    pub timestamp: Option<String>,
    /// The recipient's WhatsApp id (phone number), or a group id for group messages.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub recipient_id: Option<Personal>,
    /// The recipient's business-scoped user id.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub recipient_user_id: Option<Personal>,
    /// The recipient's parent BSUID.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub recipient_parent_user_id: Option<Personal>,
    /// `individual` or `group`.
    #[serde(default, deserialize_with = "lenient::text")]
    pub recipient_type: Option<String>,
    /// For group messages: the participant's WhatsApp id.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub recipient_participant_id: Option<Personal>,
    /// For group messages: the participant's business-scoped user id.
    #[serde(default, deserialize_with = "lenient::personal_text")]
    pub recipient_participant_user_id: Option<Personal>,
    /// Why a `failed` message failed.
    #[serde(default, deserialize_with = "lenient::list")]
    pub errors: Vec<ErrorDetail>,
}

/// A Cloud API error, in a status, an `unsupported` message or a change value.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorDetail {
    /// The error code (`131047`: outside the 24-hour window; `131051`: unsupported type...).
    #[serde(default, deserialize_with = "lenient::integer")]
    pub code: Option<i64>,
    /// A short title.
    #[serde(default, deserialize_with = "lenient::text")]
    pub title: Option<String>,
    /// A message, often the title again.
    #[serde(default, deserialize_with = "lenient::text")]
    pub message: Option<String>,
    /// More detail.
    #[serde(default, deserialize_with = "lenient::value")]
    pub error_data: Option<ErrorData>,
}

/// More detail about an error.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ErrorData {
    /// A sentence explaining the error.
    #[serde(default, deserialize_with = "lenient::text")]
    pub details: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_json_is_an_error_with_a_position_but_no_content() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"object\":",
            b"not json at all",
            b"{\"a\":\"secret text\"",
            b"{\"a\":1,}",
            b"\xff\xfe",
        ] {
            let error = Webhook::from_json(bad).unwrap_err();
            assert_eq!(error.status(), 400);
            let message = error.to_string();
            assert!(message.contains("not valid JSON"), "{message}");
            assert!(!message.contains("secret text"), "{message}");
        }
        let PayloadError::InvalidJson { line, column, .. } =
            Webhook::from_json(b"{\n  \"a\": tru }").unwrap_err();
        assert_eq!((line, column), (2, 11));
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(Webhook::from_json(deep.as_bytes()).is_err());
    }

    #[test]
    fn valid_json_that_is_not_a_webhook_reads_as_empty() {
        for other in [
            &b"{}"[..],
            b"[]",
            b"null",
            b"42",
            b"\"text\"",
            b"{\"object\":\"page\",\"entry\":[]}",
            b"{\"entry\":\"not a list\"}",
            b"{\"object\":5,\"entry\":[1,2,{\"changes\":{}}]}",
        ] {
            let webhook = Webhook::from_json(other).unwrap();
            assert!(!webhook.is_whatsapp());
            assert!(webhook.entry.iter().all(|entry| entry.changes.is_empty()));
        }
    }

    #[test]
    fn documented_fields_are_read_and_unknown_ones_ignored() {
        let webhook = Webhook::from_json(
            br#"{"object":"whatsapp_business_account","future":true,"entry":[{"id":"200000000000001",
            "changes":[{"field":"messages","value":{"messaging_product":"whatsapp",
            "metadata":{"display_phone_number":"15550100001","phone_number_id":"109000000000001"},
            "contacts":[{"profile":{"name":"Test Citizen"},"wa_id":"15550101234","user_id":"US.1000000000000000001"}],
            "messages":[{"from":"15550101234","from_user_id":"US.1000000000000000001","id":"wamid.TEST",
            "timestamp":1767225600,"type":"text","text":{"body":"hola","new":1},
            "context":{"forwarded":true,"id":"wamid.PREV"}}],
            "statuses":[{"id":"wamid.OUT","status":"failed","timestamp":"1767225601",
            "recipient_id":"15550101234","errors":[{"code":131047,"title":"Re-engagement message",
            "error_data":{"details":"More than 24 hours"}}]}]}}]}]}"#,
        )
        .unwrap();
        assert!(webhook.is_whatsapp());
        let change = &webhook.entry[0].changes[0];
        assert_eq!(change.field.as_deref(), Some(MESSAGES_FIELD));
        let value = change.value.as_ref().unwrap();
        assert_eq!(
            value.metadata.as_ref().unwrap().phone_number_id.as_deref(),
            Some("109000000000001")
        );
        let contact = &value.contacts[0];
        assert_eq!(
            contact
                .profile
                .as_ref()
                .unwrap()
                .name
                .as_ref()
                .unwrap()
                .expose(),
            "Test Citizen"
        );
        let message = &value.messages[0];
        assert_eq!(message.timestamp.as_deref(), Some("1767225600"));
        assert_eq!(
            message
                .text
                .as_ref()
                .unwrap()
                .body
                .as_ref()
                .unwrap()
                .expose(),
            "hola"
        );
        let context = message.context.as_ref().unwrap();
        assert!(context.forwarded && !context.frequently_forwarded);
        assert_eq!(context.id.as_deref(), Some("wamid.PREV"));
        let status = &value.statuses[0];
        assert_eq!(status.errors[0].code, Some(131047));
        assert_eq!(
            status.errors[0]
                .error_data
                .as_ref()
                .unwrap()
                .details
                .as_deref(),
            Some("More than 24 hours")
        );
        let debug = format!("{webhook:?}");
        for personal in [
            "15550101234",
            "US.1000000000000000001",
            "Test Citizen",
            "hola",
        ] {
            assert!(!debug.contains(personal), "{personal} leaked into {debug}");
        }
    }
}
