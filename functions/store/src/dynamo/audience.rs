//! Reading an alert's audience (and the pending follow-ups) from DynamoDB in pages: the index
//! partitions of one topic and language (one per shard, see [`super::items`]), in shard order,
//! each read with `Query` (never `Scan`), optionally narrowed to one jurisdiction with
//! `begins_with` on the sort key.
//!
//! The page cursor says where to go on: the shard, and DynamoDB's `LastEvaluatedKey` in it when
//! the shard was left half-read. It is base64 of a small JSON object, opaque to callers, and
//! checked on the way back in (a cursor that does not decode, names a shard out of range, or
//! carries anything but the index's four key attributes is refused, not sent to DynamoDB).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::items::{
    AUDIENCE_SHARDS, Item, audience_partition, audience_sort_prefix, number, string,
};
use super::{DynamoStore, from_sdk};
use crate::StoreError;
use crate::subscription::{AudiencePage, AudienceQuery};
use crate::table::{
    EXPIRES_AT, PARTITION_KEY, REPORT_INDEX, REPORT_PARTITION_KEY, REPORT_SORT_KEY, SORT_KEY,
};

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    /// The shard to read.
    shard: u32,
    /// The last key read in it, when it was left half-read.
    after: Option<BTreeMap<String, String>>,
}

impl Cursor {
    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("a cursor of strings and a number serialises");
        URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(text: &str) -> Result<Cursor, StoreError> {
        let refused = || StoreError::InvalidInput {
            what: "page cursor",
            input: text.chars().take(80).collect(),
            expected: "the `next` of a page of this store".to_owned(),
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| refused())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| refused())?;
        let key_names = [
            PARTITION_KEY,
            SORT_KEY,
            REPORT_PARTITION_KEY,
            REPORT_SORT_KEY,
        ];
        let valid_key = cursor.after.as_ref().is_none_or(|after| {
            after.len() == key_names.len() && key_names.iter().all(|name| after.contains_key(*name))
        });
        if cursor.shard >= AUDIENCE_SHARDS || !valid_key {
            return Err(refused());
        }
        Ok(cursor)
    }

    fn start_key(&self) -> Option<Item> {
        self.after.as_ref().map(|after| {
            after
                .iter()
                .map(|(name, value)| (name.clone(), string(value.clone())))
                .collect()
        })
    }
}

/// The key attributes of a `LastEvaluatedKey`, as strings (every key attribute of the table and
/// its index is a string).
fn key_strings(key: &HashMap<String, AttributeValue>) -> Option<BTreeMap<String, String>> {
    key.iter()
        .map(|(name, value)| match value {
            AttributeValue::S(value) => Some((name.clone(), value.clone())),
            _ => None,
        })
        .collect()
}

impl DynamoStore {
    /// See [`crate::Store::audience_page`].
    pub(crate) async fn read_audience_page(
        &self,
        query: &AudienceQuery,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<AudiencePage, StoreError> {
        let operation = "audience_page";
        let sort_prefix = query
            .jurisdiction
            .as_deref()
            .map(|jurisdiction| audience_sort_prefix(Some(jurisdiction)));
        let (items, next) = self
            .read_sharded_page(
                operation,
                &|shard| audience_partition(query.topic, &query.language, shard),
                sort_prefix.as_deref(),
                cursor,
                limit,
                now,
            )
            .await?;
        let members = items
            .iter()
            .map(|item| self.reader(item, operation).audience_member())
            .collect::<Result<_, _>>()?;
        Ok(AudiencePage { members, next })
    }

    /// One page of at most `limit` unexpired items of a sharded index partition
    /// (`partition(shard)` for the 16 shards in turn, optionally only sort keys starting with
    /// `sort_prefix`), and the cursor of the next page. Audiences and pending follow-ups are
    /// read this way.
    pub(crate) async fn read_sharded_page(
        &self,
        operation: &'static str,
        partition: &(dyn Fn(u32) -> String + Sync),
        sort_prefix: Option<&str>,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let mut cursor = match cursor {
            Some(text) => Cursor::decode(text)?,
            None => Cursor {
                shard: 0,
                after: None,
            },
        };
        let mut items = Vec::new();
        loop {
            let wanted = limit as usize - items.len();
            let mut request = self
                .client
                .query()
                .table_name(self.table())
                .index_name(REPORT_INDEX)
                .filter_expression("#expires_at > :now")
                .expression_attribute_names("#partition", REPORT_PARTITION_KEY)
                .expression_attribute_names("#expires_at", EXPIRES_AT)
                .expression_attribute_values(":partition", string(partition(cursor.shard)))
                .expression_attribute_values(":now", number(now))
                .limit(i32::try_from(wanted).unwrap_or(i32::MAX))
                .set_exclusive_start_key(cursor.start_key());
            request = match sort_prefix {
                Some(prefix) => request
                    .key_condition_expression(
                        "#partition = :partition AND begins_with(#sort, :prefix)",
                    )
                    .expression_attribute_names("#sort", REPORT_SORT_KEY)
                    .expression_attribute_values(":prefix", string(prefix)),
                None => request.key_condition_expression("#partition = :partition"),
            };
            let output = request
                .send()
                .await
                .map_err(|error| from_sdk(operation, self.table(), error))?;
            items.extend(output.items.unwrap_or_default());
            cursor = match output.last_evaluated_key.filter(|key| !key.is_empty()) {
                Some(key) => Cursor {
                    shard: cursor.shard,
                    after: Some(key_strings(&key).ok_or_else(|| StoreError::Corrupt {
                        operation,
                        table: self.table().to_owned(),
                        message: "a LastEvaluatedKey holds a non-string key".to_owned(),
                    })?),
                },
                None if cursor.shard + 1 < AUDIENCE_SHARDS => Cursor {
                    shard: cursor.shard + 1,
                    after: None,
                },
                None => return Ok((items, None)),
            };
            if items.len() >= limit as usize {
                return Ok((items, Some(cursor.encode())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_a_forged_one_is_refused() {
        let cursor = Cursor {
            shard: 7,
            after: Some(BTreeMap::from([
                (PARTITION_KEY.to_owned(), "CITIZEN#ab".to_owned()),
                (SORT_KEY.to_owned(), "SUBSCRIPTION#rumours".to_owned()),
                (
                    REPORT_PARTITION_KEY.to_owned(),
                    "AUDIENCE#rumours#pt#7".to_owned(),
                ),
                (REPORT_SORT_KEY.to_owned(), "#ab".to_owned()),
            ])),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        let out_of_range = Cursor {
            shard: AUDIENCE_SHARDS,
            after: None,
        };
        let other_key = Cursor {
            shard: 1,
            after: Some(BTreeMap::from([("kind".to_owned(), "x".to_owned())])),
        };
        for forged in [
            "not base64!".to_owned(),
            URL_SAFE_NO_PAD.encode(b"{}"),
            out_of_range.encode(),
            other_key.encode(),
        ] {
            let error = Cursor::decode(&forged).unwrap_err();
            assert!(error.to_string().contains("page cursor"), "{error}");
        }
    }
}
