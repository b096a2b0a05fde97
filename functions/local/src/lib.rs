//! # votecheck-local: the local server behind `votecheck serve`
//!
//! Runs the real conversation handler ([`votecheck_webhook::Handler`], the same one the Lambda
//! calls) on a laptop, with the embedded SQLite store and no AWS account, and puts a preview
//! console in front of it so an election office can see exactly what the bot will say.
//!
//! - [`server`]: options, routes, binding, clean shutdown;
//! - [`index_source`]: which index to serve, building it from a corpus when needed and
//!   rebuilding it when the corpus changes;
//! - [`live`]: the engine and handler in use, swapped atomically after a rebuild;
//! - [`console`]: the JSON API of the preview console (ask as a simulated citizen);
//! - [`alerts`]: alert files sent from the console through the production code, with an
//!   in-process queue and a dry-run channel;
//! - [`simulate`]: the signed WhatsApp webhook a console message becomes;
//! - [`outbox`]: where replies go (captured as a dry run, or sent through the Graph API);
//! - [`traces`]: the engine's reasoning for recent answers, shown beside the reply;
//! - [`report_page`]: the report view with its inline SVG chart;
//! - [`metrics`]: `/metrics` in the Prometheus text format;
//! - [`assets`]: the console page, its style and script, embedded in the binary.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alerts;
pub mod assets;
pub mod console;
pub mod index_source;
pub mod live;
pub mod metrics;
pub mod outbox;
pub mod report_page;
pub mod server;
pub mod simulate;
pub mod traces;

pub use server::{ServeOptions, serve};
