//! [`DynamoStore`]: the store in DynamoDB, for the Lambda.
//!
//! One table ([`crate::table_definition`]), single-table design: a citizen's records share the
//! partition `CITIZEN#<key>` (so delete-my-data is one strongly consistent Query), message claims
//! live in `MESSAGE#<id>`, and the report index `GSI1` holds queries and feedback by UTC day (so a
//! report Queries one partition per day instead of scanning). The item layout is in [`items`] and
//! `docs/data-model.md`; building the client (timeouts, retries, TLS) in [`client`].
//!
//! ```no_run
//! # async fn example() -> Result<(), votecheck_store::StoreError> {
//! use votecheck_store::{ClientSettings, DynamoStore, StoreConfig, dynamo_client};
//! let client = dynamo_client(&ClientSettings::default()).await;
//! let store = DynamoStore::new(client, StoreConfig::for_table("votecheck"));
//! # Ok(())
//! # }
//! ```

mod audience;
pub mod client;
mod errors;
mod follow_ups;
pub mod items;
mod sends;

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, ReturnValue, TransactWriteItem, WriteRequest,
};

use crate::follow_up::{FollowUp, FollowUpPage};
use crate::sends::{AlertFunnel, AlertRun, DeliveryStage, SendOutcome};
use crate::store::{
    merge_moved_preferences, preferences_expire_at, validate_delivery_failure, validate_feedback,
    validate_message_id, validate_query_record, validate_window,
};
use crate::subscription::{
    AudiencePage, AudienceQuery, Subscription, Topic, validate_audience_query,
    validate_subscription,
};
use crate::table::{
    EXPIRES_AT, PARTITION_KEY, REPORT_INDEX, REPORT_PARTITION_KEY, REPORT_SORT_KEY, SORT_KEY,
};
use crate::time::{day_start, window_start};
use crate::{
    CitizenKey, Claim, DAY_SECONDS, DeliveryFailure, Feedback, IdentityLink, MessageKey,
    Preferences, QueryRecord, Store, StoreConfig, StoreError, redact,
};
pub(crate) use errors::{Kind, claim_outcome, condition_failed, from_sdk, store_error};
use items::{
    ALIAS_PREFIX, CLAIM_SORT_KEY, DELIVERY_PREFIX, FEEDBACK_PREFIX, IDENTITY_SORT_KEY, Item,
    PREFERENCES_SORT_KEY, QUERY_PREFIX, RATE_PREFIX, Reader, SUBSCRIPTION_PREFIX,
    citizen_partition, feedback_item, key, message_partition, number, preferences_item, query_item,
    report_partition, report_sort_bound, string, subscription_item,
};

/// The table key (`PK`, `SK`) of an item read whole.
fn key_of(item: Item) -> Item {
    item.into_iter()
        .filter(|(name, _)| name == PARTITION_KEY || name == SORT_KEY)
        .collect()
}

/// The longest report range, in days: a guard against a typo Querying thousands of partitions.
const MAX_REPORT_DAYS: i64 = 3_660;

/// How many times delete-my-data resubmits deletes that DynamoDB left unprocessed.
const MAX_BATCH_RETRIES: u32 = 6;

/// The store in a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    config: StoreConfig,
}

impl DynamoStore {
    /// A store in the table `config.table_name`, through `client` (see
    /// [`dynamo_client`](client::dynamo_client)). Does not check that the table exists.
    pub fn new(client: Client, config: StoreConfig) -> Self {
        DynamoStore { client, config }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The configuration this store writes with.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    fn table(&self) -> &str {
        &self.config.table_name
    }

    fn reader<'a>(&'a self, item: &'a Item, operation: &'static str) -> Reader<'a> {
        Reader {
            item,
            operation,
            table: self.table(),
        }
    }

    async fn get(&self, operation: &'static str, key: Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(self.table())
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| from_sdk(operation, self.table(), error))?;
        Ok(output.item)
    }

    /// Reads one item, treating an item past its expiry as absent (TTL deletion is lazy).
    async fn get_live(
        &self,
        operation: &'static str,
        key: Item,
        now: i64,
    ) -> Result<Option<Item>, StoreError> {
        let Some(item) = self.get(operation, key).await? else {
            return Ok(None);
        };
        if self.reader(&item, operation).expired(now)? {
            return Ok(None);
        }
        Ok(Some(item))
    }

    async fn put(&self, operation: &'static str, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|error| from_sdk(operation, self.table(), error))?;
        Ok(())
    }

    /// The citizen's subscription items (expired ones included), read consistently.
    async fn subscription_items(
        &self,
        operation: &'static str,
        citizen: &CitizenKey,
    ) -> Result<Vec<Item>, StoreError> {
        self.prefixed_items(operation, citizen, SUBSCRIPTION_PREFIX)
            .await
    }

    /// The citizen's items whose sort key starts with `prefix` (expired ones included), read
    /// consistently.
    async fn prefixed_items(
        &self,
        operation: &'static str,
        citizen: &CitizenKey,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("#partition = :partition AND begins_with(#sort, :prefix)")
                .expression_attribute_names("#partition", PARTITION_KEY)
                .expression_attribute_names("#sort", SORT_KEY)
                .expression_attribute_values(":partition", string(citizen_partition(citizen)))
                .expression_attribute_values(":prefix", string(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|error| from_sdk(operation, self.table(), error))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Every item of one report index partition with `from <= at < to`, unexpired at `now`.
    async fn report_partition_items(
        &self,
        operation: &'static str,
        partition: String,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(self.table())
                .index_name(REPORT_INDEX)
                .key_condition_expression("#partition = :partition AND #sort BETWEEN :from AND :to")
                .filter_expression("#expires_at > :now")
                .expression_attribute_names("#partition", REPORT_PARTITION_KEY)
                .expression_attribute_names("#sort", REPORT_SORT_KEY)
                .expression_attribute_names("#expires_at", EXPIRES_AT)
                .expression_attribute_values(":partition", string(partition.clone()))
                // Sort keys are `<at:010>#<id>`: `<from:010>` sorts before every key at `from`,
                // `<to:010>` after every key before `to` and before every key at `to`.
                .expression_attribute_values(":from", string(report_sort_bound(from)))
                .expression_attribute_values(":to", string(report_sort_bound(to)))
                .expression_attribute_values(":now", number(now))
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|error| from_sdk(operation, self.table(), error))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => return Ok(items),
            }
        }
    }

    /// Every report index item of a kind (`QUERY#`, `FEEDBACK#`) with `from <= at < to`: one Query
    /// per UTC day.
    async fn report_items(
        &self,
        operation: &'static str,
        prefix: &str,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<Item>, StoreError> {
        if from >= to {
            return Ok(Vec::new());
        }
        let from = from.max(0);
        let to = to.min(crate::store::MAX_TIME + 1);
        let days = (day_start(to - 1) - day_start(from)) / DAY_SECONDS + 1;
        if days > MAX_REPORT_DAYS {
            return Err(StoreError::InvalidInput {
                what: "report range",
                input: format!("{days} days"),
                expected: format!("at most {MAX_REPORT_DAYS} days"),
            });
        }
        let mut items = Vec::new();
        let mut day = day_start(from);
        while day < to {
            let partition = report_partition(prefix, day);
            items.extend(
                self.report_partition_items(operation, partition, from, to, now)
                    .await?,
            );
            day += DAY_SECONDS;
        }
        Ok(items)
    }

    /// Deletes keys in batches of 25, resubmitting unprocessed ones with a short backoff.
    /// The keys delete-my-data removes from one citizen partition (everything but rate
    /// counters), the ids linked to it (its `ALIAS#` items), and how many records that is (a link
    /// counts once, from the id's side).
    async fn deletable_keys(
        &self,
        operation: &'static str,
        citizen: &CitizenKey,
    ) -> Result<(Vec<Item>, Vec<CitizenKey>, u64), StoreError> {
        let mut keys = Vec::new();
        let mut aliases = Vec::new();
        let mut counted = 0;
        let mut start_key = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("#partition = :partition")
                .projection_expression("#partition, #sort, #message")
                .expression_attribute_names("#partition", PARTITION_KEY)
                .expression_attribute_names("#sort", SORT_KEY)
                .expression_attribute_names("#message", "message")
                .expression_attribute_values(":partition", string(citizen_partition(citizen)))
                .consistent_read(true)
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|error| from_sdk(operation, self.table(), error))?;
            for item in output.items.unwrap_or_default() {
                let sort = self.reader(&item, operation).string(SORT_KEY)?;
                // Rate counters stay until their window ends (see `Store::delete_citizen`).
                if sort.starts_with(RATE_PREFIX) {
                    continue;
                }
                if let Some(alias) = sort.strip_prefix(ALIAS_PREFIX) {
                    aliases.push(CitizenKey::from_stored(alias)?);
                } else {
                    // An alert message's link to this citizen goes with its send state.
                    if sort.starts_with(sends::SEND_PREFIX)
                        && let Some(message) =
                            self.reader(&item, operation).optional_string("message")?
                    {
                        keys.push(sends::outbound_key(&message));
                    }
                    counted += 1;
                }
                keys.push(HashMap::from([
                    (PARTITION_KEY.to_owned(), string(citizen_partition(citizen))),
                    (SORT_KEY.to_owned(), AttributeValue::S(sort)),
                ]));
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => break,
            }
        }
        Ok((keys, aliases, counted))
    }

    async fn delete_keys(
        &self,
        operation: &'static str,
        keys: Vec<Item>,
    ) -> Result<(), StoreError> {
        for chunk in keys.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|key| -> Result<WriteRequest, StoreError> {
                    Ok(WriteRequest::builder()
                        .delete_request(
                            DeleteRequest::builder()
                                .set_key(Some(key.clone()))
                                .build()
                                .map_err(|error| {
                                    store_error(
                                        Kind::Invalid,
                                        operation,
                                        self.table(),
                                        error.to_string(),
                                    )
                                })?,
                        )
                        .build())
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut attempt = 0;
            while !requests.is_empty() {
                if attempt > MAX_BATCH_RETRIES {
                    return Err(store_error(
                        Kind::Throttled,
                        operation,
                        self.table(),
                        format!(
                            "{} deletes still unprocessed after {MAX_BATCH_RETRIES} retries",
                            requests.len()
                        ),
                    ));
                }
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(50 << attempt.min(5))).await;
                }
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(self.table(), requests)
                    .send()
                    .await
                    .map_err(|error| from_sdk(operation, self.table(), error))?;
                requests = output
                    .unprocessed_items
                    .and_then(|mut unprocessed| unprocessed.remove(self.table()))
                    .unwrap_or_default();
                attempt += 1;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn claim_message(&self, message_id: &str, now: i64) -> Result<Claim, StoreError> {
        validate_message_id(message_id)?;
        let mut item = key(message_partition(message_id), CLAIM_SORT_KEY.to_owned());
        item.extend([
            ("kind".to_owned(), string("claim")),
            ("claimed_at".to_owned(), number(now)),
            (
                EXPIRES_AT.to_owned(),
                number(self.config.claim_expires_at(now)),
            ),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            // A live claim blocks; an expired one (TTL not yet applied) is taken over.
            .condition_expression("attribute_not_exists(#partition) OR #expires_at <= :now")
            .expression_attribute_names("#partition", PARTITION_KEY)
            .expression_attribute_names("#expires_at", EXPIRES_AT)
            .expression_attribute_values(":now", number(now))
            .send()
            .await;
        claim_outcome("claim_message", self.table(), result)
    }

    async fn release_message(&self, message_id: &str) -> Result<(), StoreError> {
        validate_message_id(message_id)?;
        self.client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(
                message_partition(message_id),
                CLAIM_SORT_KEY.to_owned(),
            )))
            .send()
            .await
            .map_err(|error| from_sdk("release_message", self.table(), error))?;
        Ok(())
    }

    async fn record_query(&self, record: &QueryRecord) -> Result<(), StoreError> {
        validate_query_record(record)?;
        let record = QueryRecord {
            question_redacted: redact(&record.question_redacted),
            ..record.clone()
        };
        self.put("record_query", query_item(&record)).await
    }

    async fn query(
        &self,
        citizen: &CitizenKey,
        query_id: &str,
        now: i64,
    ) -> Result<Option<QueryRecord>, StoreError> {
        let operation = "query";
        let sort_key = format!("{QUERY_PREFIX}{query_id}");
        let Some(item) = self
            .get_live(operation, key(citizen_partition(citizen), sort_key), now)
            .await?
        else {
            return Ok(None);
        };
        self.reader(&item, operation).query_record().map(Some)
    }

    async fn preferences(
        &self,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Option<Preferences>, StoreError> {
        let operation = "preferences";
        let sort_key = PREFERENCES_SORT_KEY.to_owned();
        let Some(item) = self
            .get_live(operation, key(citizen_partition(citizen), sort_key), now)
            .await?
        else {
            return Ok(None);
        };
        self.reader(&item, operation).preferences().map(Some)
    }

    async fn save_preferences(
        &self,
        citizen: &CitizenKey,
        preferences: &Preferences,
    ) -> Result<(), StoreError> {
        let expires_at = preferences_expire_at(preferences, &self.config);
        self.put(
            "save_preferences",
            preferences_item(citizen, preferences, expires_at),
        )
        .await
    }

    async fn move_citizen(&self, from: &CitizenKey, to: &CitizenKey) -> Result<(), StoreError> {
        let operation = "move_citizen";
        if from == to {
            return Ok(());
        }
        // Subscriptions move first, each written under the new key before it leaves the old one
        // (never lost; a failure between the two leaves it in both, and "stop" by the new key
        // then misses only the old copy until it expires). The moving one wins a topic both have.
        for item in self.subscription_items(operation, from).await? {
            let mut subscription = self.reader(&item, operation).subscription()?;
            subscription.citizen = to.clone();
            self.put(operation, subscription_item(&subscription))
                .await?;
            self.delete_keys(operation, vec![key_of(item)]).await?;
        }
        let from_key = key(citizen_partition(from), PREFERENCES_SORT_KEY.to_owned());
        let Some(item) = self.get(operation, from_key.clone()).await? else {
            return Ok(());
        };
        let moving = self.reader(&item, operation).preferences()?;
        let existing = match self
            .get(
                operation,
                key(citizen_partition(to), PREFERENCES_SORT_KEY.to_owned()),
            )
            .await?
        {
            Some(item) => Some(self.reader(&item, operation).preferences()?),
            None => None,
        };
        let merged = merge_moved_preferences(moving, existing);
        let expires_at = preferences_expire_at(&merged, &self.config);
        let invalid = |error: aws_sdk_dynamodb::error::BuildError| {
            store_error(Kind::Invalid, operation, self.table(), error.to_string())
        };
        // One transaction: the preferences are never in both places, nor in neither.
        self.client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        aws_sdk_dynamodb::types::Put::builder()
                            .table_name(self.table())
                            .set_item(Some(preferences_item(to, &merged, expires_at)))
                            .build()
                            .map_err(invalid)?,
                    )
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .delete(
                        aws_sdk_dynamodb::types::Delete::builder()
                            .table_name(self.table())
                            .set_key(Some(from_key))
                            .build()
                            .map_err(invalid)?,
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|error| from_sdk(operation, self.table(), error))?;
        Ok(())
    }

    async fn record_feedback(&self, feedback: &Feedback) -> Result<(), StoreError> {
        validate_feedback(feedback)?;
        self.put(
            "record_feedback",
            feedback_item(feedback, self.config.expires_at(feedback.at)),
        )
        .await
    }

    async fn count_message(
        &self,
        citizen: &CitizenKey,
        now: i64,
        window_seconds: i64,
    ) -> Result<u64, StoreError> {
        let operation = "count_message";
        validate_window(now, window_seconds)?;
        let start = window_start(now, window_seconds);
        let output = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(
                citizen_partition(citizen),
                format!("{RATE_PREFIX}{start:010}"),
            )))
            .update_expression("ADD #count :one SET #expires_at = :expires_at, #kind = :kind")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#expires_at", EXPIRES_AT)
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":expires_at", number(start + window_seconds))
            .expression_attribute_values(":kind", string("rate"))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|error| from_sdk(operation, self.table(), error))?;
        let attributes = output.attributes.unwrap_or_default();
        self.reader(&attributes, operation).number("count")
    }

    async fn delete_citizen(&self, citizen: &CitizenKey) -> Result<u64, StoreError> {
        let operation = "delete_citizen";
        let (mut keys, aliases, mut deleted) = self.deletable_keys(operation, citizen).await?;
        for alias in aliases {
            // Only an id still linked to this citizen: a number the citizen gave up may be
            // someone else's now.
            let linked = self
                .get(
                    operation,
                    key(citizen_partition(&alias), IDENTITY_SORT_KEY.to_owned()),
                )
                .await?
                .map(|item| self.reader(&item, operation).citizen("citizen"))
                .transpose()?;
            if linked.as_ref().is_none_or(|linked| linked == citizen) {
                let (more, _, counted) = self.deletable_keys(operation, &alias).await?;
                keys.extend(more);
                deleted += counted;
            }
        }
        self.delete_keys(operation, keys).await?;
        Ok(deleted)
    }

    async fn link_identity(
        &self,
        id: &CitizenKey,
        citizen: &CitizenKey,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let with_expiry = |mut item: Item| {
            if let Some(expires_at) = expires_at {
                item.insert(EXPIRES_AT.to_owned(), number(expires_at));
            }
            item
        };
        let mut forward = key(citizen_partition(id), IDENTITY_SORT_KEY.to_owned());
        forward.extend([
            ("kind".to_owned(), string("identity")),
            ("citizen".to_owned(), string(citizen.as_str())),
        ]);
        self.put("link_identity", with_expiry(forward)).await?;
        if id != citizen {
            let mut reverse = key(
                citizen_partition(citizen),
                format!("{ALIAS_PREFIX}{}", id.as_str()),
            );
            reverse.insert("kind".to_owned(), string("alias"));
            self.put("link_identity", with_expiry(reverse)).await?;
        }
        Ok(())
    }

    async fn identity(
        &self,
        id: &CitizenKey,
        now: i64,
    ) -> Result<Option<IdentityLink>, StoreError> {
        let operation = "identity";
        let sort_key = IDENTITY_SORT_KEY.to_owned();
        let Some(item) = self
            .get_live(operation, key(citizen_partition(id), sort_key), now)
            .await?
        else {
            return Ok(None);
        };
        let reader = self.reader(&item, operation);
        Ok(Some(IdentityLink {
            citizen: reader.citizen("citizen")?,
            expires_at: reader.optional_number(EXPIRES_AT)?,
        }))
    }

    async fn unlink_identity(&self, id: &CitizenKey) -> Result<(), StoreError> {
        let operation = "unlink_identity";
        let forward = key(citizen_partition(id), IDENTITY_SORT_KEY.to_owned());
        let Some(item) = self.get(operation, forward.clone()).await? else {
            return Ok(());
        };
        let citizen = self.reader(&item, operation).citizen("citizen")?;
        let mut keys = vec![forward];
        if &citizen != id {
            keys.push(key(
                citizen_partition(&citizen),
                format!("{ALIAS_PREFIX}{}", id.as_str()),
            ));
        }
        self.delete_keys(operation, keys).await
    }

    async fn record_delivery_failure(&self, failure: &DeliveryFailure) -> Result<(), StoreError> {
        validate_delivery_failure(failure)?;
        let mut item = key(
            citizen_partition(&failure.citizen),
            format!("{DELIVERY_PREFIX}{}", failure.message_id),
        );
        item.extend([
            ("kind".to_owned(), string("delivery_failure")),
            ("message_id".to_owned(), string(&failure.message_id)),
            ("citizen".to_owned(), string(failure.citizen.as_str())),
            ("error_code".to_owned(), number(failure.error_code)),
            ("at".to_owned(), number(failure.at)),
            (
                EXPIRES_AT.to_owned(),
                number(self.config.expires_at(failure.at)),
            ),
        ]);
        self.put("record_delivery_failure", item).await
    }

    async fn subscribe(&self, subscription: &Subscription) -> Result<(), StoreError> {
        validate_subscription(subscription)?;
        self.put("subscribe", subscription_item(subscription)).await
    }

    async fn unsubscribe(&self, citizen: &CitizenKey, topic: Topic) -> Result<bool, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(
                citizen_partition(citizen),
                format!("{SUBSCRIPTION_PREFIX}{topic}"),
            )))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|error| from_sdk("unsubscribe", self.table(), error))?;
        Ok(output.attributes.is_some_and(|old| !old.is_empty()))
    }

    async fn unsubscribe_all(&self, citizen: &CitizenKey) -> Result<u64, StoreError> {
        let operation = "unsubscribe_all";
        // Every topic subscription, and every pending follow-up: "stop" ends them all.
        let mut items = self.subscription_items(operation, citizen).await?;
        items.extend(
            self.prefixed_items(operation, citizen, follow_ups::FOLLOW_UP_PREFIX)
                .await?,
        );
        let keys: Vec<Item> = items.into_iter().map(key_of).collect();
        let count = keys.len() as u64;
        self.delete_keys(operation, keys).await?;
        Ok(count)
    }

    async fn subscriptions(
        &self,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Vec<Subscription>, StoreError> {
        let operation = "subscriptions";
        let mut subscriptions = Vec::new();
        for item in self.subscription_items(operation, citizen).await? {
            let reader = self.reader(&item, operation);
            if !reader.expired(now)? {
                subscriptions.push(reader.subscription()?);
            }
        }
        subscriptions.sort_by_key(|subscription| subscription.topic);
        Ok(subscriptions)
    }

    async fn audience_page(
        &self,
        query: &AudienceQuery,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<AudiencePage, StoreError> {
        validate_audience_query(query, limit)?;
        self.read_audience_page(query, cursor, limit, now).await
    }

    async fn queries_between(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<QueryRecord>, StoreError> {
        let operation = "queries_between";
        let items = self
            .report_items(operation, QUERY_PREFIX, from, to, now)
            .await?;
        let mut records = Vec::with_capacity(items.len());
        for item in &items {
            let reader = self.reader(item, operation);
            if !reader.expired(now)? {
                records.push(reader.query_record()?);
            }
        }
        records.sort_by(|left, right| (left.at, &left.query_id).cmp(&(right.at, &right.query_id)));
        Ok(records)
    }

    async fn feedback_between(
        &self,
        from: i64,
        to: i64,
        now: i64,
    ) -> Result<Vec<Feedback>, StoreError> {
        let operation = "feedback_between";
        let items = self
            .report_items(operation, FEEDBACK_PREFIX, from, to, now)
            .await?;
        let mut feedback = Vec::with_capacity(items.len());
        for item in &items {
            let reader = self.reader(item, operation);
            if !reader.expired(now)? {
                feedback.push(reader.feedback()?);
            }
        }
        feedback.sort_by(|left, right| (left.at, &left.query_id).cmp(&(right.at, &right.query_id)));
        Ok(feedback)
    }

    async fn start_alert_run(&self, run: &AlertRun) -> Result<Option<AlertRun>, StoreError> {
        self.start_run(run).await
    }

    async fn save_alert_run(&self, run: &AlertRun) -> Result<(), StoreError> {
        self.save_run(run).await
    }

    async fn claim_send(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Claim, StoreError> {
        self.claim_recipient(alert_id, citizen, now).await
    }

    async fn release_send(&self, alert_id: &str, citizen: &CitizenKey) -> Result<(), StoreError> {
        self.release_recipient(alert_id, citizen).await
    }

    async fn record_send(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
        outcome: &SendOutcome,
        at: i64,
    ) -> Result<(), StoreError> {
        self.record_recipient(alert_id, citizen, outcome, at).await
    }

    async fn record_status(
        &self,
        message: &MessageKey,
        stage: DeliveryStage,
        at: i64,
    ) -> Result<Option<String>, StoreError> {
        self.record_message_status(message, stage, at).await
    }

    async fn alert_funnels_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<AlertFunnel>, StoreError> {
        self.funnels_between(from, to).await
    }

    async fn request_follow_up(&self, follow_up: &FollowUp) -> Result<(), StoreError> {
        self.put_follow_up(follow_up).await
    }

    async fn pending_follow_ups(
        &self,
        cursor: Option<&str>,
        limit: u32,
        now: i64,
    ) -> Result<FollowUpPage, StoreError> {
        self.read_pending_follow_ups(cursor, limit, now).await
    }

    async fn complete_follow_up(
        &self,
        citizen: &CitizenKey,
        query_id: &str,
        fact_check_id: &str,
        now: i64,
    ) -> Result<Claim, StoreError> {
        self.complete_pending_follow_up(citizen, query_id, fact_check_id, now)
            .await
    }

    fn describe(&self) -> String {
        format!("dynamodb table {}", self.table())
    }
}
