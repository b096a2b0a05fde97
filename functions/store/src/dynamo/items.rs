//! The DynamoDB item layout: keys of each record kind and the record ⇄ item conversions.
//!
//! | record | `PK` | `SK` | `GSI1PK` | `GSI1SK` | TTL |
//! |---|---|---|---|---|---|
//! | message claim | `MESSAGE#<message id>` | `CLAIM` | | | claim retention |
//! | query | `CITIZEN#<key>` | `QUERY#<query id>` | `QUERY#<yyyy-mm-dd>` | `<at:010>#<query id>` | retention |
//! | feedback | `CITIZEN#<key>` | `FEEDBACK#<query id>` | `FEEDBACK#<yyyy-mm-dd>` | `<at:010>#<query id>` | retention |
//! | preferences | `CITIZEN#<key>` | `PREFERENCES` | | | retention after last seen, none when opted out |
//! | rate counter | `CITIZEN#<key>` | `RATE#<window start:010>` | | | end of the window |
//! | delivery failure | `CITIZEN#<key>` | `DELIVERY#<message id>` | | | retention |
//! | subscription | `CITIZEN#<key>` | `SUBSCRIPTION#<topic>` | `AUDIENCE#<topic>#<language>#<shard>` | `<jurisdiction>#<key>` | its own expiry |
//!
//! An audience is spread over [`AUDIENCE_SHARDS`] index partitions per topic and language (the
//! shard is the citizen key's first hex digit), so that no single index partition takes every
//! subscription write of an election, and a sender can read shards in parallel. A subscriber
//! without a jurisdiction has the empty one (`#<key>`); a jurisdiction's subscribers are the
//! sort keys that begin with `<jurisdiction>#`.
//!
//! Every item also has `kind` (`claim`, `query`...), so a console reader knows what it looks at.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::contact::SealedContact;
use crate::subscription::{AudienceMember, Subscription, Topic};
use crate::table::{EXPIRES_AT, PARTITION_KEY, REPORT_PARTITION_KEY, REPORT_SORT_KEY, SORT_KEY};
use crate::time::utc_day;
use crate::{CitizenKey, Feedback, Preferences, QueryRecord, StoreError};

/// A DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

pub(crate) const CLAIM_SORT_KEY: &str = "CLAIM";
pub(crate) const PREFERENCES_SORT_KEY: &str = "PREFERENCES";
pub(crate) const QUERY_PREFIX: &str = "QUERY#";
pub(crate) const FEEDBACK_PREFIX: &str = "FEEDBACK#";
pub(crate) const RATE_PREFIX: &str = "RATE#";
pub(crate) const DELIVERY_PREFIX: &str = "DELIVERY#";
/// The link of an id to its citizen, in the id's partition.
pub(crate) const IDENTITY_SORT_KEY: &str = "IDENTITY";
/// The same link seen from the citizen's partition, so that delete-my-data finds every id.
pub(crate) const ALIAS_PREFIX: &str = "ALIAS#";
pub(crate) const SUBSCRIPTION_PREFIX: &str = "SUBSCRIPTION#";
/// Index partitions per audience (topic and language): one per first hex digit of the key.
pub(crate) const AUDIENCE_SHARDS: u32 = 16;

/// The audience index partition of a topic, a language and a shard.
pub(crate) fn audience_partition(topic: Topic, language: &str, shard: u32) -> String {
    format!("AUDIENCE#{topic}#{language}#{shard:x}")
}

/// The shard of a citizen: the first hex digit of their key (uniform: the key is a MAC).
pub(crate) fn audience_shard(citizen: &CitizenKey) -> u32 {
    citizen
        .as_str()
        .chars()
        .next()
        .and_then(|digit| digit.to_digit(16))
        .unwrap_or(0)
}

/// The sort key bound of a jurisdiction's subscribers (`None`: every subscriber).
pub(crate) fn audience_sort_prefix(jurisdiction: Option<&str>) -> String {
    format!("{}#", jurisdiction.unwrap_or_default())
}

pub(crate) fn subscription_item(subscription: &Subscription) -> Item {
    let mut item = key(
        citizen_partition(&subscription.citizen),
        format!("{SUBSCRIPTION_PREFIX}{}", subscription.topic),
    );
    item.extend([
        ("kind".to_owned(), string("subscription")),
        (
            REPORT_PARTITION_KEY.to_owned(),
            string(audience_partition(
                subscription.topic,
                &subscription.language,
                audience_shard(&subscription.citizen),
            )),
        ),
        (
            REPORT_SORT_KEY.to_owned(),
            string(format!(
                "{}{}",
                audience_sort_prefix(subscription.jurisdiction.as_deref()),
                subscription.citizen
            )),
        ),
        ("citizen".to_owned(), string(subscription.citizen.as_str())),
        ("topic".to_owned(), string(subscription.topic.as_str())),
        ("language".to_owned(), string(&subscription.language)),
        ("at".to_owned(), number(subscription.at)),
        (EXPIRES_AT.to_owned(), number(subscription.expires_at)),
    ]);
    if let Some(jurisdiction) = &subscription.jurisdiction {
        item.insert("jurisdiction".to_owned(), string(jurisdiction));
    }
    if let Some(contact) = &subscription.contact {
        item.insert("contact".to_owned(), string(contact.as_str()));
    }
    item
}

pub(crate) fn message_partition(message_id: &str) -> String {
    format!("MESSAGE#{message_id}")
}

pub(crate) fn citizen_partition(citizen: &CitizenKey) -> String {
    format!("CITIZEN#{citizen}")
}

/// The report index partition of a kind (`QUERY#`, `FEEDBACK#`) on the day of `at`.
pub(crate) fn report_partition(prefix: &str, at: i64) -> String {
    format!("{prefix}{}", utc_day(at))
}

/// The report index sort key: sorts by time, then id.
pub(crate) fn report_sort_key(at: i64, id: &str) -> String {
    format!("{at:010}#{id}")
}

/// The sort key bound for a time: every key of a record at `at` sorts after it, every key of a
/// record before `at` sorts before it.
pub(crate) fn report_sort_bound(at: i64) -> String {
    format!("{at:010}")
}

pub(crate) fn key(partition: String, sort: String) -> Item {
    HashMap::from([
        (PARTITION_KEY.to_owned(), AttributeValue::S(partition)),
        (SORT_KEY.to_owned(), AttributeValue::S(sort)),
    ])
}

pub(crate) fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn query_item(record: &QueryRecord) -> Item {
    let mut item = key(
        citizen_partition(&record.citizen),
        format!("{QUERY_PREFIX}{}", record.query_id),
    );
    item.extend([
        ("kind".to_owned(), string("query")),
        (
            REPORT_PARTITION_KEY.to_owned(),
            string(report_partition(QUERY_PREFIX, record.at)),
        ),
        (
            REPORT_SORT_KEY.to_owned(),
            string(report_sort_key(record.at, &record.query_id)),
        ),
        ("query_id".to_owned(), string(&record.query_id)),
        ("at".to_owned(), number(record.at)),
        ("citizen".to_owned(), string(record.citizen.as_str())),
        ("language".to_owned(), string(&record.language)),
        ("intent".to_owned(), string(&record.intent)),
        ("outcome".to_owned(), string(&record.outcome)),
        ("question".to_owned(), string(&record.question_redacted)),
        (
            "passage_ids".to_owned(),
            AttributeValue::L(record.passage_ids.iter().map(string).collect()),
        ),
        (
            "scores".to_owned(),
            AttributeValue::L(record.scores.iter().map(number).collect()),
        ),
        ("corpus_version".to_owned(), string(&record.corpus_version)),
        ("latency_ms".to_owned(), number(record.latency_ms)),
        (
            "forwarded".to_owned(),
            AttributeValue::Bool(record.forwarded),
        ),
        (EXPIRES_AT.to_owned(), number(record.expires_at)),
    ]);
    if let Some(fact_check_id) = &record.fact_check_id {
        item.insert("fact_check_id".to_owned(), string(fact_check_id));
    }
    item
}

pub(crate) fn feedback_item(feedback: &Feedback, expires_at: i64) -> Item {
    let mut item = key(
        citizen_partition(&feedback.citizen),
        format!("{FEEDBACK_PREFIX}{}", feedback.query_id),
    );
    item.extend([
        ("kind".to_owned(), string("feedback")),
        (
            REPORT_PARTITION_KEY.to_owned(),
            string(report_partition(FEEDBACK_PREFIX, feedback.at)),
        ),
        (
            REPORT_SORT_KEY.to_owned(),
            string(report_sort_key(feedback.at, &feedback.query_id)),
        ),
        ("query_id".to_owned(), string(&feedback.query_id)),
        ("citizen".to_owned(), string(feedback.citizen.as_str())),
        ("helpful".to_owned(), AttributeValue::Bool(feedback.helpful)),
        ("at".to_owned(), number(feedback.at)),
        (EXPIRES_AT.to_owned(), number(expires_at)),
    ]);
    item
}

pub(crate) fn preferences_item(
    citizen: &CitizenKey,
    preferences: &Preferences,
    expires_at: Option<i64>,
) -> Item {
    let mut item = key(citizen_partition(citizen), PREFERENCES_SORT_KEY.to_owned());
    item.insert("kind".to_owned(), string("preferences"));
    item.insert(
        "opted_out".to_owned(),
        AttributeValue::Bool(preferences.opted_out),
    );
    if let Some(language) = &preferences.language {
        item.insert("language".to_owned(), string(language));
    }
    if let Some(last_seen) = preferences.last_seen {
        item.insert("last_seen".to_owned(), number(last_seen));
    }
    if let Some(expires_at) = expires_at {
        item.insert(EXPIRES_AT.to_owned(), number(expires_at));
    }
    item
}

/// Reads typed attributes out of an item, naming the item and attribute on failure.
pub(crate) struct Reader<'a> {
    pub(crate) item: &'a Item,
    pub(crate) operation: &'static str,
    pub(crate) table: &'a str,
}

impl Reader<'_> {
    fn corrupt(&self, attribute: &str, problem: &str) -> StoreError {
        let where_ = match (
            self.item.get(PARTITION_KEY).and_then(|v| v.as_s().ok()),
            self.item.get(SORT_KEY).and_then(|v| v.as_s().ok()),
        ) {
            // Partition keys name a citizen by key only, never by number: safe to print.
            (Some(partition), Some(sort)) => format!("item {partition} / {sort}"),
            _ => "an item".to_owned(),
        };
        StoreError::Corrupt {
            operation: self.operation,
            table: self.table.to_owned(),
            message: format!("{where_}: attribute {attribute} {problem}"),
        }
    }

    pub(crate) fn string(&self, attribute: &str) -> Result<String, StoreError> {
        self.optional_string(attribute)?
            .ok_or_else(|| self.corrupt(attribute, "is missing"))
    }

    pub(crate) fn optional_string(&self, attribute: &str) -> Result<Option<String>, StoreError> {
        match self.item.get(attribute) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(value)) => Ok(Some(value.clone())),
            Some(_) => Err(self.corrupt(attribute, "is not a string")),
        }
    }

    pub(crate) fn number<T: std::str::FromStr>(&self, attribute: &str) -> Result<T, StoreError> {
        self.optional_number(attribute)?
            .ok_or_else(|| self.corrupt(attribute, "is missing"))
    }

    pub(crate) fn optional_number<T: std::str::FromStr>(
        &self,
        attribute: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.item.get(attribute) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(value)) => value
                .parse()
                .map(Some)
                .map_err(|_| self.corrupt(attribute, "is not a number of the expected type")),
            Some(_) => Err(self.corrupt(attribute, "is not a number")),
        }
    }

    pub(crate) fn boolean(&self, attribute: &str) -> Result<bool, StoreError> {
        match self.item.get(attribute) {
            Some(AttributeValue::Bool(value)) => Ok(*value),
            None => Err(self.corrupt(attribute, "is missing")),
            Some(_) => Err(self.corrupt(attribute, "is not a boolean")),
        }
    }

    pub(crate) fn citizen(&self, attribute: &str) -> Result<CitizenKey, StoreError> {
        CitizenKey::from_stored(&self.string(attribute)?)
            .map_err(|_| self.corrupt(attribute, "is not a citizen key"))
    }

    fn list(&self, attribute: &str) -> Result<&[AttributeValue], StoreError> {
        match self.item.get(attribute) {
            Some(AttributeValue::L(values)) => Ok(values),
            None => Ok(&[]),
            Some(_) => Err(self.corrupt(attribute, "is not a list")),
        }
    }

    pub(crate) fn strings(&self, attribute: &str) -> Result<Vec<String>, StoreError> {
        self.list(attribute)?
            .iter()
            .map(|value| match value {
                AttributeValue::S(value) => Ok(value.clone()),
                _ => Err(self.corrupt(attribute, "holds a non-string")),
            })
            .collect()
    }

    pub(crate) fn numbers<T: std::str::FromStr>(
        &self,
        attribute: &str,
    ) -> Result<Vec<T>, StoreError> {
        self.list(attribute)?
            .iter()
            .map(|value| match value {
                AttributeValue::N(value) => value
                    .parse()
                    .map_err(|_| self.corrupt(attribute, "holds a number of the wrong type")),
                _ => Err(self.corrupt(attribute, "holds a non-number")),
            })
            .collect()
    }

    /// Whether the item has expired at `now` (an item without `expires_at` never does).
    pub(crate) fn expired(&self, now: i64) -> Result<bool, StoreError> {
        Ok(self
            .optional_number::<i64>(EXPIRES_AT)?
            .is_some_and(|expires_at| expires_at <= now))
    }

    pub(crate) fn query_record(&self) -> Result<QueryRecord, StoreError> {
        Ok(QueryRecord {
            query_id: self.string("query_id")?,
            at: self.number("at")?,
            citizen: self.citizen("citizen")?,
            language: self.string("language")?,
            intent: self.string("intent")?,
            outcome: self.string("outcome")?,
            question_redacted: self.string("question")?,
            passage_ids: self.strings("passage_ids")?,
            scores: self.numbers("scores")?,
            fact_check_id: self.optional_string("fact_check_id")?,
            corpus_version: self.string("corpus_version")?,
            latency_ms: self.number("latency_ms")?,
            forwarded: self.boolean("forwarded")?,
            expires_at: self.number(EXPIRES_AT)?,
        })
    }

    pub(crate) fn feedback(&self) -> Result<Feedback, StoreError> {
        Ok(Feedback {
            query_id: self.string("query_id")?,
            citizen: self.citizen("citizen")?,
            helpful: self.boolean("helpful")?,
            at: self.number("at")?,
        })
    }

    pub(crate) fn subscription(&self) -> Result<Subscription, StoreError> {
        let topic = self.string("topic")?;
        Ok(Subscription {
            citizen: self.citizen("citizen")?,
            topic: Topic::parse(&topic)
                .ok_or_else(|| self.corrupt("topic", "is not a known topic"))?,
            language: self.string("language")?,
            jurisdiction: self.optional_string("jurisdiction")?,
            contact: self
                .optional_string("contact")?
                .map(SealedContact::from_stored),
            at: self.number("at")?,
            expires_at: self.number(EXPIRES_AT)?,
        })
    }

    pub(crate) fn audience_member(&self) -> Result<AudienceMember, StoreError> {
        Ok(AudienceMember {
            citizen: self.citizen("citizen")?,
            jurisdiction: self.optional_string("jurisdiction")?,
            contact: self
                .optional_string("contact")?
                .map(SealedContact::from_stored),
        })
    }

    pub(crate) fn preferences(&self) -> Result<Preferences, StoreError> {
        Ok(Preferences {
            language: self.optional_string("language")?,
            opted_out: self.boolean("opted_out")?,
            last_seen: self.optional_number("last_seen")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_keys_sort_by_time_and_bounds_split_exactly() {
        assert_eq!(report_partition(QUERY_PREFIX, 0), "QUERY#1970-01-01");
        let earlier = report_sort_key(99, "zzz");
        let at_bound = report_sort_key(100, "");
        let later = report_sort_key(100, "a");
        assert!(earlier < report_sort_bound(100));
        assert!(report_sort_bound(100) < at_bound);
        assert!(report_sort_bound(100) < later);
        assert!(later < report_sort_bound(101));
    }

    #[test]
    fn a_subscription_item_round_trips_and_lands_in_its_shard() {
        let citizen = CitizenKey::derive(b"salt", "15550101234");
        let subscription = Subscription {
            citizen: citizen.clone(),
            topic: Topic::ElectionDay,
            language: "pt".into(),
            jurisdiction: Some("Riverside County".into()),
            contact: Some(SealedContact::from_stored("v1.abc")),
            at: 100,
            expires_at: 200,
        };
        let item = subscription_item(&subscription);
        let reader = Reader {
            item: &item,
            operation: "test",
            table: "t",
        };
        assert_eq!(reader.subscription().unwrap(), subscription);
        let shard = audience_shard(&citizen);
        assert!(shard < AUDIENCE_SHARDS);
        assert_eq!(
            reader.string(REPORT_PARTITION_KEY).unwrap(),
            format!("AUDIENCE#election_day#pt#{shard:x}")
        );
        assert!(
            reader
                .string(REPORT_SORT_KEY)
                .unwrap()
                .starts_with(&audience_sort_prefix(Some("Riverside County")))
        );
        assert_eq!(audience_sort_prefix(None), "#");
    }

    #[test]
    fn a_query_item_round_trips() {
        let record = QueryRecord {
            query_id: "q1".to_owned(),
            at: 1_767_225_600,
            citizen: CitizenKey::derive(b"salt", "34600111222"),
            language: "es".to_owned(),
            intent: "question".to_owned(),
            outcome: "answer".to_owned(),
            question_redacted: "¿dónde voto?".to_owned(),
            passage_ids: vec!["p1".to_owned(), "p2".to_owned()],
            scores: vec![12.5, 0.1],
            fact_check_id: None,
            corpus_version: "2026-01-01".to_owned(),
            latency_ms: 230,
            forwarded: true,
            expires_at: 1_775_001_600,
        };
        let item = query_item(&record);
        assert_eq!(item["GSI1PK"].as_s().unwrap(), "QUERY#2026-01-01");
        let reader = Reader {
            item: &item,
            operation: "test",
            table: "t",
        };
        assert_eq!(reader.query_record().unwrap(), record);
    }
}
