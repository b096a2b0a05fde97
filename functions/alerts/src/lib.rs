//! # votecheck-alerts: planned, opt-in information to subscribed citizens
//!
//! An election authority writes an alert as a small TOML file (`docs/alerts.md`, examples in
//! `samples/alerts/`): what it is about (a [`votecheck_store::Topic`]), who should get it
//! (jurisdictions; languages follow its templates), and per language the WhatsApp message
//! template to send with its parameters. Only subscribed citizens are ever in an audience.
//!
//! - [`file`]: reading and checking an alert file ([`Alert::parse`]), every problem named with
//!   its field;
//! - [`templates`]: the alert's templates against the business account's, as the Cloud API
//!   lists them (exists in that language, approved, takes that many parameters);
//! - [`plan`]: what sending it would do ([`plan::plan`]): the audience per language, read in
//!   pages from the store, the rendered preview, and the estimated cost from the prices the file
//!   gives;
//! - [`enqueue`]: `votecheck alerts send`, the audience in [`job`]s on a [`queue`] (SQS, or in
//!   process), idempotent through the store's run of the alert;
//! - [`sender`]: the jobs to phones, each recipient at most once, still subscribed, within
//!   WhatsApp's 24-hour rule, at the business number's throughput ([`limiter`],
//!   [`settings`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod enqueue;
pub mod file;
pub mod job;
pub mod limiter;
pub mod plan;
pub mod queue;
pub mod recording;
pub mod sender;
pub mod settings;
pub mod templates;

pub use file::{Alert, AlertError, AlertTemplate, Prices};
pub use plan::{LanguagePlan, Plan};
