//! # votecheck-whatsapp: the WhatsApp Cloud API webhook contract
//!
//! Everything between "an HTTP request arrived at the webhook URL" and "here are the citizen
//! messages and delivery statuses it carries", as pure functions over plain values: no HTTP
//! server, no Lambda, no Graph API client. The webhook function calls them in this order:
//!
//! | step | function | refuses with |
//! |---|---|---|
//! | `GET` handshake | [`verify_subscription`] → [`VerificationOutcome`] | `403` |
//! | body decoding | [`decode_body`] (base64, [`MAX_BODY_BYTES`]) | [`BodyError`]: `413`, `400` |
//! | signature check | [`verify_signature`] (`X-Hub-Signature-256`) | [`SignatureError`]: `401` |
//! | parsing | [`parse_events`] → [`InboundEvent`]s | [`PayloadError`]: `400` |
//!
//! Each error type has a `status()` with the HTTP status to answer. Once the signature is valid
//! and the body parsed, the function answers `200` whatever happens to each event (Meta would
//! otherwise redeliver for days).
//!
//! Modules:
//!
//! - [`verification`]: the `hub.mode` / `hub.verify_token` / `hub.challenge` handshake;
//! - [`signature`]: HMAC-SHA256 over the exact raw bytes, constant-time;
//! - [`body`]: base64 and size limits, without panicking APIs;
//! - [`payload`]: lenient serde types mirroring Meta's JSON;
//! - [`events`]: the flat events the conversation handler acts on;
//! - [`personal`]: [`Personal`], the wrapper that keeps personal data out of `Debug` output.
//!
//! Nothing here panics on outside input, and no `Debug` output contains a citizen's phone
//! number, user id, name, message text or location.
//!
//! ```
//! use votecheck_whatsapp::{
//!     decode_body, parse_events, signature_header, verify_signature, InboundEvent, MessageContent,
//!     MAX_BODY_BYTES,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app_secret = b"meta app secret";
//! let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{
//!   "field":"messages","value":{"messaging_product":"whatsapp",
//!   "metadata":{"display_phone_number":"15550100001","phone_number_id":"109000000000001"},
//!   "messages":[{"from":"15550101234","id":"wamid.TEST1","timestamp":"1767225600",
//!   "type":"interactive","context":{"from":"15550100001","id":"wamid.BOTREPLY"},
//!   "interactive":{"type":"button_reply","button_reply":{"id":"feedback.helpful","title":"Helpful"}}}]}}]}]}"#;
//! let header = signature_header(app_secret, body)?; // what Meta sends
//!
//! let raw = decode_body(body, false, MAX_BODY_BYTES)?;
//! verify_signature(app_secret, Some(&header), &raw)?;
//! for event in parse_events(&raw)? {
//!     if let InboundEvent::Message(message) = event {
//!         assert_eq!(message.context_message_id.as_deref(), Some("wamid.BOTREPLY"));
//!         assert!(matches!(message.content, MessageContent::ButtonReply { ref id, .. } if id == "feedback.helpful"));
//!     }
//! }
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod body;
pub mod events;
mod lenient;
pub mod payload;
pub mod personal;
pub mod signature;
pub mod verification;

pub use body::{BodyError, MAX_BODY_BYTES, decode_body};
pub use events::{
    DeliveryStatus, InboundEvent, InboundMessage, MediaKind, MessageContent, ParsedWebhook,
    ReportedError, Sender, SkippedItem, StatusKind, SystemChange, parse_events, parse_webhook,
};
pub use payload::PayloadError;
pub use personal::Personal;
pub use signature::{
    MalformedSignature, SIGNATURE_HEADER, SignatureError, signature_header, verify_signature,
};
pub use verification::{RejectReason, SubscriptionQuery, VerificationOutcome, verify_subscription};
