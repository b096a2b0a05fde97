//! # votecheck-graph: the WhatsApp Cloud API client that sends votecheck's replies
//!
//! The Lambda builds one [`GraphClient`] at start-up and uses it for every reply:
//!
//! | call | Cloud API message |
//! |---|---|
//! | [`GraphClient::send_content`] with [`OutboundContent`]`::Text` ([`GraphClient::send_text`]) | `type: text` (`preview_url` when the body has a link) |
//! | … `::Buttons` | `type: interactive`, `interactive.type: button` (1–3 reply buttons) |
//! | … `::List` | `type: interactive`, `interactive.type: list` (1–10 rows) |
//! | … `::Template` | `type: template` (name, language, body parameters) |
//! | [`GraphClient::mark_read`] | `status: read`, optional `typing_indicator` |
//! | [`GraphClient::message_templates`] | `GET /{business_account_id}/message_templates`: a template's languages, status and body |
//!
//! The sends `POST {base}/{version}/{phone_number_id}/messages`; all calls go with
//! `Authorization: Bearer <token>`, a per-attempt timeout and bounded retries with jittered
//! exponential backoff on network errors, timeouts, 5xx and rate limits (HTTP 429, Graph codes
//! 131056 / 130429). Error 131047 (outside the 24-hour window) becomes
//! [`GraphError::OutsideWindow`] and error 190 [`GraphError::TokenExpired`]; neither is retried.
//! [`GraphError::metric_name`] names each failure for metrics.
//!
//! Messages that break WhatsApp's limits (declared once in [`votecheck_outbound::limits`]:
//! lengths, button and row counts, template names and parameters) are refused with
//! [`GraphError::InvalidMessage`] before any request. Neither `Debug` output nor error
//! messages contain the access token, the recipient or the message text.
//!
//! Modules: [`config`] ([`GraphConfig`]), [`message`] (request bodies), [`client`]
//! ([`GraphClient`], retries), [`error`] ([`GraphError`]).
//!
//! ```no_run
//! use votecheck_graph::{GraphClient, GraphConfig, GraphError, OutboundContent, Recipient};
//! use votecheck_outbound::Button;
//!
//! # async fn reply() -> Result<(), GraphError> {
//! let client = GraphClient::new(GraphConfig::new("109000000000001", "EAAG..."))?;
//! let citizen = Recipient::PhoneNumber("15550001111".into());
//! client.mark_read("wamid.IN", true).await?;
//! let menu = OutboundContent::Buttons {
//!     body: "Ask me about voting.".into(),
//!     buttons: vec![Button::new("topic:register", "Registering")],
//! };
//! let sent = client.send_content(&citizen, &menu, Some("wamid.IN")).await?;
//! println!("sent {}", sent.message_id);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod message;
pub mod templates;

pub use client::{GraphClient, SentMessage};
pub use config::GraphConfig;
pub use error::GraphError;
pub use message::Recipient;
pub use templates::MessageTemplate;
pub use votecheck_outbound::OutboundContent;
