//! Opt-in subscriptions to alerts: [`Subscription`] (a citizen, a [`Topic`], their language and
//! jurisdiction) and the audience an alert is sent to, read in pages ([`AudienceQuery`],
//! [`AudiencePage`]) so that a million subscribers are never one scan.
//!
//! A subscription holds no phone number in clear: the citizen is their keyed hash, as everywhere
//! in the store, and the address alerts go to is sealed ([`crate::contact`]). One citizen has at most one subscription per topic; subscribing again replaces it (a
//! new language or jurisdiction).
//!
//! ```
//! use votecheck_store::subscription::Topic;
//!
//! assert_eq!(Topic::parse("election_day"), Some(Topic::ElectionDay));
//! assert_eq!(Topic::ElectionDay.as_str(), "election_day");
//! assert_eq!(Topic::parse("weather"), None);
//! ```

use serde::{Deserialize, Serialize};

use crate::contact::SealedContact;
use crate::{CitizenKey, StoreError};

/// What an alert is about, and what a citizen subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Registration and other deadlines.
    Deadlines,
    /// Election-day notices.
    ElectionDay,
    /// A polling place moved or changed its hours.
    PollingPlace,
    /// A false rumour is circulating, with its fact-check.
    Rumours,
}

impl Topic {
    /// Every topic, in the order menus list them.
    pub const ALL: [Topic; 4] = [
        Topic::Deadlines,
        Topic::ElectionDay,
        Topic::PollingPlace,
        Topic::Rumours,
    ];

    /// The topic's name in files, keys and button ids.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Deadlines => "deadlines",
            Topic::ElectionDay => "election_day",
            Topic::PollingPlace => "polling_place",
            Topic::Rumours => "rumours",
        }
    }

    /// The topic named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|topic| topic.as_str() == name)
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// One citizen's subscription to one topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Who, as a keyed hash.
    pub citizen: CitizenKey,
    /// To what.
    pub topic: Topic,
    /// The language alerts reach them in (BCP 47 primary subtag, e.g. `pt`).
    pub language: String,
    /// The jurisdiction they want alerts for, as the deployment names it (`Riverside County`);
    /// `None`: only alerts for everyone.
    pub jurisdiction: Option<String>,
    /// Where alerts reach them, sealed ([`crate::contact`]); `None` when it was not known.
    pub contact: Option<SealedContact>,
    /// When they subscribed, Unix seconds.
    pub at: i64,
    /// When the subscription ends by itself, Unix seconds (readers treat it as gone from then).
    pub expires_at: i64,
}

/// Who an alert goes to: the subscribers of `topic` in `language`, all of them or those of one
/// jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceQuery {
    /// The alert's topic.
    pub topic: Topic,
    /// The language (one query per language the alert has a template for).
    pub language: String,
    /// `Some`: only subscribers of this jurisdiction; `None`: every subscriber of the topic in
    /// the language, whatever their jurisdiction.
    pub jurisdiction: Option<String>,
}

/// One subscriber in an audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceMember {
    /// Who, as a keyed hash.
    pub citizen: CitizenKey,
    /// Their jurisdiction, as they subscribed.
    pub jurisdiction: Option<String>,
    /// Where alerts reach them, sealed: the sender opens it, nothing else needs to.
    pub contact: Option<SealedContact>,
}

/// One page of an audience, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AudiencePage {
    /// At most the asked-for number of subscribers, each once across all pages.
    pub members: Vec<AudienceMember>,
    /// The cursor of the next page (opaque); `None` on the last page.
    pub next: Option<String>,
}

/// The most subscribers one page may ask for.
pub const MAX_PAGE_SIZE: u32 = 1_000;

/// The longest jurisdiction id the store accepts.
const MAX_JURISDICTION_CHARS: usize = 100;

/// Checks a subscription before it is written.
pub(crate) fn validate_subscription(subscription: &Subscription) -> Result<(), StoreError> {
    validate_language(&subscription.language)?;
    if let Some(jurisdiction) = &subscription.jurisdiction {
        validate_jurisdiction(jurisdiction)?;
    }
    if !(0..=crate::store::MAX_TIME).contains(&subscription.at)
        || subscription.expires_at <= subscription.at
    {
        return Err(StoreError::InvalidInput {
            what: "subscription time",
            input: format!("{} to {}", subscription.at, subscription.expires_at),
            expected: "Unix seconds, with the expiry after the start".to_owned(),
        });
    }
    Ok(())
}

/// Checks an audience query and a page size.
pub(crate) fn validate_audience_query(query: &AudienceQuery, limit: u32) -> Result<(), StoreError> {
    validate_language(&query.language)?;
    if let Some(jurisdiction) = &query.jurisdiction {
        validate_jurisdiction(jurisdiction)?;
    }
    if limit == 0 || limit > MAX_PAGE_SIZE {
        return Err(StoreError::InvalidInput {
            what: "audience page size",
            input: limit.to_string(),
            expected: format!("1 to {MAX_PAGE_SIZE}"),
        });
    }
    Ok(())
}

/// `es`, `pt-BR`: letters, digits and `-`, at most 35 characters (BCP 47's longest tags).
fn validate_language(language: &str) -> Result<(), StoreError> {
    let valid = (2..=35).contains(&language.len())
        && language
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    if valid {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            what: "subscription language",
            input: language.chars().take(40).collect(),
            expected: "a BCP 47 language tag such as es or pt-BR".to_owned(),
        })
    }
}

/// Checks a jurisdiction as the deployment names it (`Riverside County`): not blank, at most 100
/// characters, no control characters and no `#`, which separates key parts. Alert files are
/// checked by the same rule.
pub fn validate_jurisdiction(jurisdiction: &str) -> Result<(), StoreError> {
    let valid = !jurisdiction.trim().is_empty()
        && jurisdiction.chars().count() <= MAX_JURISDICTION_CHARS
        && !jurisdiction
            .chars()
            .any(|character| character == '#' || character.is_control());
    if valid {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            what: "jurisdiction",
            input: jurisdiction.chars().take(40).collect(),
            expected: format!(
                "a name of 1 to {MAX_JURISDICTION_CHARS} characters without '#' or control characters"
            ),
        })
    }
}
