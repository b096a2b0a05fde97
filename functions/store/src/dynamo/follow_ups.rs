//! The follow-up items of [`DynamoStore`]: `CITIZEN#<key>` / `FOLLOWUP#<query key>`, in the
//! citizen's partition (so "stop" and delete-my-data find them), and, while pending, in the
//! index partitions `FOLLOWUPS#<shard>` (16, by the first hex digit of the citizen key), which
//! `votecheck alerts follow-ups` reads in pages. Completing one removes its index keys in the
//! same conditional update that records the fact-check, so it is completed once and leaves the
//! index.

use super::items::{Item, audience_shard, citizen_partition, key, number, string};
use super::{DynamoStore, claim_outcome};
use crate::contact::SealedContact;
use crate::follow_up::{FollowUp, FollowUpPage, validate_follow_up};
use crate::subscription::MAX_PAGE_SIZE;
use crate::table::{EXPIRES_AT, PARTITION_KEY, REPORT_PARTITION_KEY, REPORT_SORT_KEY};
use crate::{CitizenKey, Claim, StoreError};

/// The sort key prefix of follow-ups in a citizen's partition.
pub(crate) const FOLLOW_UP_PREFIX: &str = "FOLLOWUP#";

fn pending_partition(shard: u32) -> String {
    format!("FOLLOWUPS#{shard:x}")
}

fn follow_up_item(follow_up: &FollowUp) -> Item {
    let mut item = key(
        citizen_partition(&follow_up.citizen),
        format!("{FOLLOW_UP_PREFIX}{}", follow_up.query_id),
    );
    item.extend([
        ("kind".to_owned(), string("follow_up")),
        (
            REPORT_PARTITION_KEY.to_owned(),
            string(pending_partition(audience_shard(&follow_up.citizen))),
        ),
        (
            REPORT_SORT_KEY.to_owned(),
            string(format!("{}#{}", follow_up.citizen, follow_up.query_id)),
        ),
        ("citizen".to_owned(), string(follow_up.citizen.as_str())),
        ("query_id".to_owned(), string(&follow_up.query_id)),
        ("question".to_owned(), string(&follow_up.question)),
        ("language".to_owned(), string(&follow_up.language)),
        ("at".to_owned(), number(follow_up.at)),
        (EXPIRES_AT.to_owned(), number(follow_up.expires_at)),
    ]);
    if let Some(contact) = &follow_up.contact {
        item.insert("contact".to_owned(), string(contact.as_str()));
    }
    item
}

impl DynamoStore {
    pub(super) async fn put_follow_up(&self, follow_up: &FollowUp) -> Result<(), StoreError> {
        validate_follow_up(follow_up)?;
        self.put("request_follow_up", follow_up_item(follow_up))
            .await
    }

    pub(super) async fn read_pending_follow_ups(
        &self,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<FollowUpPage, StoreError> {
        let operation = "pending_follow_ups";
        if limit == 0 || limit > MAX_PAGE_SIZE {
            return Err(StoreError::InvalidInput {
                what: "follow-up page size",
                input: limit.to_string(),
                expected: format!("1 to {MAX_PAGE_SIZE}"),
            });
        }
        let (items, next) = self
            .read_sharded_page(operation, &pending_partition, None, cursor, limit, now)
            .await?;
        let follow_ups = items
            .iter()
            .map(|item| {
                let reader = self.reader(item, operation);
                Ok(FollowUp {
                    citizen: reader.citizen("citizen")?,
                    query_id: reader.string("query_id")?,
                    question: reader.string("question")?,
                    language: reader.string("language")?,
                    contact: reader
                        .optional_string("contact")?
                        .map(SealedContact::from_stored),
                    at: reader.number("at")?,
                    expires_at: reader.number(EXPIRES_AT)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(FollowUpPage { follow_ups, next })
    }

    pub(super) async fn complete_pending_follow_up(
        &self,
        citizen: &CitizenKey,
        query_id: &str,
        fact_check_id: &str,
        now: i64,
    ) -> Result<Claim, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(
                citizen_partition(citizen),
                format!("{FOLLOW_UP_PREFIX}{query_id}"),
            )))
            .condition_expression(
                "attribute_exists(#partition) AND attribute_exists(#index) AND #expires_at > :now",
            )
            .update_expression(
                "SET #done_at = :now, #fact_check = :fact_check REMOVE #index, #index_sort",
            )
            .expression_attribute_names("#partition", PARTITION_KEY)
            .expression_attribute_names("#index", REPORT_PARTITION_KEY)
            .expression_attribute_names("#index_sort", REPORT_SORT_KEY)
            .expression_attribute_names("#expires_at", EXPIRES_AT)
            .expression_attribute_names("#done_at", "done_at")
            .expression_attribute_names("#fact_check", "fact_check_id")
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":fact_check", string(fact_check_id))
            .send()
            .await;
        claim_outcome("complete_follow_up", self.table(), result)
    }
}
