//! # votecheck-outbound: what votecheck sends on WhatsApp
//!
//! One message type for everything that leaves for a citizen, so that the engine's reply, the
//! conversation handler, the Graph API client and the local console agree on its shape and on
//! WhatsApp's limits:
//!
//! - [`limits`]: WhatsApp's documented limits (characters, counts), declared once;
//! - [`content`]: [`OutboundContent`] (text, reply buttons, list, template) and its check
//!   against the limits;
//! - [`button_id`]: the ids of the buttons and list rows votecheck sends, which come back in
//!   the webhook when the citizen taps them ([`ButtonId`]);
//! - [`window`]: the 24-hour customer-service window: free-form inside, a template outside.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod button_id;
pub mod content;
pub mod limits;
pub mod window;

pub use button_id::{ButtonId, ConfirmedCommand};
pub use content::{Button, LimitError, ListRow, OutboundContent, Template};
