//! # votecheck-store: the conversation store
//!
//! Everything votecheck remembers between two messages, behind one object-safe trait, [`Store`],
//! so the conversation handler holds an `Arc<dyn Store>` and never names a backend:
//!
//! - **message claims**: WhatsApp delivers webhooks at least once (and retries for up to 7
//!   days); [`Store::claim_message`] lets exactly one delivery of a message id through;
//! - **the query log**: one [`QueryRecord`] per question, with the question [`redact`]ed, kept
//!   for [`StoreConfig::retention_days`] (90 by default) and then ignored by readers and deleted
//!   by DynamoDB's TTL;
//! - **preferences** (language, opt-out, last seen), **feedback**, **delivery failures**;
//! - **rate limiting**: a fixed-window counter per citizen ([`Store::count_message`]);
//! - **delete my data**: [`Store::delete_citizen`] removes a citizen's records and says how many.
//!
//! Citizens are named by [`CitizenKey`], an HMAC-SHA256 of their WhatsApp id under a secret salt:
//! never the number. Messages are named by [`MessageKey`], the same for the WhatsApp message id
//! (which carries the sender's number): never the raw id. Times are explicit parameters (Unix seconds): the store never reads the clock.
//!
//! Two implementations that pass one shared test suite:
//!
//! - [`DynamoStore`] (module [`dynamo`]): DynamoDB, single-table design
//!   ([`table_definition`], `docs/data-model.md`), client with short timeouts and bounded retries
//!   ([`dynamo_client`]); [`admin::init_table`] creates the table;
//! - `SqliteStore` (module `sqlite`, cargo feature `sqlite`, off by default): an embedded SQLite
//!   file for local use, so nothing local needs AWS. The Lambda leaves the feature off and does not
//!   link SQLite.
//!
//! [`report`] turns a period's records into the `votecheck report` figures.
//!
//! ```no_run
//! // With the `sqlite` feature.
//! # async fn example() -> Result<(), votecheck_store::StoreError> {
//! use std::sync::Arc;
//! use votecheck_store::{CitizenKey, Claim, SqliteStore, Store, StoreConfig};
//!
//! let config = StoreConfig::default();
//! let store: Arc<dyn Store> = Arc::new(SqliteStore::open("target/local.sqlite3", config.clone())?);
//! let now = 1_767_225_600;
//! if store.claim_message("wamid.ABC", now).await? == Claim::Claimed {
//!     let citizen = CitizenKey::derive(b"secret salt from configuration", "34600111222");
//!     let count = store.count_message(&citizen, now, config.rate_limit.window_seconds).await?;
//!     assert!(config.rate_limit.allows(count));
//! }
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
pub mod citizen;
pub mod config;
pub mod contact;
pub mod dynamo;
pub mod error;
pub mod follow_up;
pub mod message_key;
pub mod outage;
pub mod records;
pub mod redact;
pub mod report;
pub mod sends;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod store;
pub mod subscription;
pub mod table;
pub mod time;

pub use citizen::CitizenKey;
pub use config::{DAY_SECONDS, RateLimit, StoreConfig};
pub use dynamo::DynamoStore;
pub use dynamo::client::{ClientSettings, dynamo_client};
pub use error::StoreError;
pub use follow_up::{FollowUp, FollowUpPage};
pub use message_key::MessageKey;
pub use records::{Claim, DeliveryFailure, Feedback, IdentityLink, Preferences, QueryRecord};
pub use redact::redact;
pub use sends::{AlertFunnel, AlertRun, DeliveryStage, SendOutcome, SendState};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use store::Store;
pub use subscription::{AudienceMember, AudiencePage, AudienceQuery, Subscription, Topic};
pub use table::{TableDefinition, table_definition};
