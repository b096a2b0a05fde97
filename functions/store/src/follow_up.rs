//! Follow-ups: a citizen who forwarded a rumour that no fact-check addressed tapped "tell me if
//! checked", and asked to be sent the verdict if one is published. A [`FollowUp`] is a
//! subscription to that one query: who (their key, their sealed address), what they sent (the
//! redacted question, as the query record keeps it), in which language, until when. After a
//! corpus update, `votecheck alerts follow-ups` matches the pending ones against the new
//! fact-checks and completes each at most once ([`Store::complete_follow_up`](crate::Store)).

use serde::{Deserialize, Serialize};

use crate::contact::SealedContact;
use crate::{CitizenKey, StoreError};

/// One citizen's request to hear about one query's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    /// Who, as a keyed hash.
    pub citizen: CitizenKey,
    /// The query: the message key of the rumour they sent.
    pub query_id: String,
    /// What they sent, redacted (as the query record keeps it).
    pub question: String,
    /// The language to answer in (BCP 47 primary subtag).
    pub language: String,
    /// Where the verdict reaches them, sealed.
    pub contact: Option<SealedContact>,
    /// When they asked, Unix seconds.
    pub at: i64,
    /// When the request lapses, Unix seconds.
    pub expires_at: i64,
}

/// One page of pending follow-ups, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FollowUpPage {
    /// At most the asked-for number, each once across the pages.
    pub follow_ups: Vec<FollowUp>,
    /// The cursor of the next page (opaque); `None` on the last page.
    pub next: Option<String>,
}

/// Checks a follow-up before it is written.
pub(crate) fn validate_follow_up(follow_up: &FollowUp) -> Result<(), StoreError> {
    let valid_id = !follow_up.query_id.is_empty()
        && follow_up.query_id.len() <= 128
        && !follow_up.query_id.contains('#')
        && !follow_up.query_id.chars().any(char::is_control);
    if !valid_id {
        return Err(StoreError::InvalidInput {
            what: "follow-up query id",
            input: follow_up.query_id.chars().take(40).collect(),
            expected: "a message key".to_owned(),
        });
    }
    if follow_up.question.chars().count() > 4_096 {
        return Err(StoreError::InvalidInput {
            what: "follow-up question",
            input: follow_up.question.chars().take(40).collect(),
            expected: "at most 4,096 characters".to_owned(),
        });
    }
    if !(0..=crate::store::MAX_TIME).contains(&follow_up.at) || follow_up.expires_at <= follow_up.at
    {
        return Err(StoreError::InvalidInput {
            what: "follow-up time",
            input: format!("{} to {}", follow_up.at, follow_up.expires_at),
            expected: "Unix seconds, with the expiry after the request".to_owned(),
        });
    }
    Ok(())
}
