//! # votecheck-webhook: the conversation handler
//!
//! One function decides what happens to one inbound WhatsApp webhook: [`Handler::handle`]. The
//! Lambda bootstrap and the local server both call it, so there is no second code path for
//! local use. It verifies, parses, deduplicates, rate-limits, answers with the
//! [`votecheck_engine::Engine`], replies through a [`ReplySender`] (the Graph API in production,
//! a capturing dry run locally and in tests) and records the query in the
//! [`votecheck_store::Store`].
//!
//! - [`handler`]: the request and per-message steps;
//! - [`sender`]: how replies leave (Graph API or dry run);
//! - [`deadline`]: the store and sender of one request, bounded by its deadline;
//! - [`recent`]: the message ids this process took on (dedupe when the store is unavailable);
//! - [`identity`]: one citizen across phone number and business-scoped user id.
//!
//! The Lambda function that serves it (`votecheck-webhook-lambda`) is a separate package, so
//! this library links neither the Lambda runtime nor the SSM client into `votecheck serve`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod deadline;
pub mod handler;
pub mod identity;
pub mod recent;
pub mod sender;

pub use deadline::HandlerSettings;
pub use handler::{
    AnswerObserver, Handler, MessageOutcome, Method, Secrets, WebhookRequest, WebhookResponse,
};
pub use sender::{
    CapturingSender, GraphSender, OutgoingMessage, ReplySender, ReplyTo, SendFailure,
    SendFailureKind,
};
pub use votecheck_outbound::OutboundContent;
