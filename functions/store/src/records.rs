//! The plain values the store keeps: [`QueryRecord`], [`Preferences`], [`Feedback`],
//! [`DeliveryFailure`], [`IdentityLink`], and the outcome of a message claim, [`Claim`].
//!
//! Times are Unix seconds (UTC) given by the caller; the store never reads the clock.

use serde::{Deserialize, Serialize};

use crate::CitizenKey;

/// The outcome of [`crate::Store::claim_message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// This caller is the first to claim the message: process it.
    Claimed,
    /// The message was claimed before (a WhatsApp redelivery, or a concurrent delivery): skip it.
    Duplicate,
}

/// One answered (or unanswered) question, as the query log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRecord {
    /// Unique id of this query (the handler's choice, e.g. derived from the WhatsApp message id).
    pub query_id: String,
    /// When the question arrived, Unix seconds.
    pub at: i64,
    /// Who asked, as a keyed hash.
    pub citizen: CitizenKey,
    /// The language the question was answered in (BCP 47, e.g. `es`).
    pub language: String,
    /// What the engine took the message for (`question`, `greeting`, `partisan`...).
    pub intent: String,
    /// What the bot did (`answer`, `fact_check`, `no_answer`, `neutral_refusal`, `menu`...).
    pub outcome: String,
    /// The question with personal data replaced by placeholders (see [`crate::redact`]). The store
    /// redacts it again on write, so an unredacted question is never stored.
    pub question_redacted: String,
    /// Ids of the passages the reply cited, best first.
    pub passage_ids: Vec<String>,
    /// Retrieval scores of `passage_ids`, same order.
    pub scores: Vec<f32>,
    /// The fact-check (ClaimReview) the reply used, if any.
    pub fact_check_id: Option<String>,
    /// Version of the corpus the index was built from.
    pub corpus_version: String,
    /// Time from receipt to reply, in milliseconds.
    pub latency_ms: u32,
    /// Whether WhatsApp marked the message as forwarded (a rumour signal).
    pub forwarded: bool,
    /// When the record stops existing, Unix seconds: usually
    /// [`StoreConfig::expires_at`](crate::StoreConfig::expires_at)`(at)`. Readers ignore the
    /// record from then on; DynamoDB's TTL deletes it later.
    pub expires_at: i64,
}

/// A citizen's preferences.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    /// The language the citizen chose, if they chose one.
    pub language: Option<String>,
    /// The citizen asked not to receive messages.
    pub opted_out: bool,
    /// When the citizen last wrote, Unix seconds: WhatsApp allows free-form replies only within
    /// 24 hours of it.
    pub last_seen: Option<i64>,
}

/// A citizen's verdict on one reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// The [`QueryRecord::query_id`] the feedback is about.
    pub query_id: String,
    /// Who gave it (the same citizen who asked).
    pub citizen: CitizenKey,
    /// Helpful (`true`) or not helpful (`false`).
    pub helpful: bool,
    /// When, Unix seconds.
    pub at: i64,
}

/// A reply that WhatsApp reported as undelivered (a `failed` status webhook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFailure {
    /// The id of the outbound message that failed.
    pub message_id: String,
    /// To whom it was sent.
    pub citizen: CitizenKey,
    /// The Graph API error code (e.g. 131047, outside the 24-hour window).
    pub error_code: i64,
    /// When the failure was reported, Unix seconds.
    pub at: i64,
}

/// Which citizen one of their WhatsApp ids belongs to (see [`crate::Store::link_identity`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityLink {
    /// The citizen's key: where their preferences, queries and counters are.
    pub citizen: CitizenKey,
    /// When the link stops existing, Unix seconds; never while the citizen has opted out.
    pub expires_at: Option<i64>,
}
