//! The alert items of [`DynamoStore`]: runs, per-recipient send state, message links and funnel
//! counters (layout in `docs/data-model.md`, "Alerts on their way out").
//!
//! - a run is `ALERT#<id>` / `RUN`, listed by start time in the index partition `ALERT_RUNS`;
//! - a recipient's send state is `CITIZEN#<key>` / `SEND#<alert id>`, in the citizen's partition,
//!   so delete-my-data takes it with the rest (and the message link it names);
//! - an accepted message is linked to its alert and recipient by `OUTBOUND#<message key>` /
//!   `ALERT`, for the statuses that follow;
//! - the funnel is counted in 16 items `ALERT#<id>` / `COUNT#<shard>` (the recipient's shard),
//!   so that a fan-out at 1,000 messages a second spreads its counter writes instead of
//!   updating one item a thousand times a second.
//!
//! A state change and its counters are one transaction, conditional on the state read: a
//! status is counted once, however many times WhatsApp reports it and however many senders race.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

use super::items::{Item, citizen_partition, key, number, string};
use super::{DynamoStore, Kind, claim_outcome, condition_failed, from_sdk, store_error};
use crate::sends::{
    AlertFunnel, AlertRun, DeliveryStage, SendOutcome, SendState, advance, validate_alert_id,
    validate_run,
};
use crate::table::{EXPIRES_AT, REPORT_INDEX, REPORT_PARTITION_KEY, REPORT_SORT_KEY};
use crate::{CitizenKey, Claim, MessageKey, StoreError, Topic};

/// The sort key of a recipient's send state, in their partition.
pub(crate) const SEND_PREFIX: &str = "SEND#";
/// The index partition that lists runs by start time.
const RUNS_PARTITION: &str = "ALERT_RUNS";
/// Counter items per alert.
const COUNTER_SHARDS: u32 = 16;
/// How many times a status is re-read and re-applied when another writer moved the state first.
const STATUS_ATTEMPTS: u32 = 4;

fn alert_partition(alert_id: &str) -> String {
    format!("ALERT#{alert_id}")
}

/// The link item of an accepted message.
pub(crate) fn outbound_key(message: &str) -> Item {
    key(format!("OUTBOUND#{message}"), "ALERT".to_owned())
}

fn send_key(alert_id: &str, citizen: &CitizenKey) -> Item {
    key(
        citizen_partition(citizen),
        format!("{SEND_PREFIX}{alert_id}"),
    )
}

/// The counter item a recipient's counts go to: by the first hex digit of their key.
fn counter_key(alert_id: &str, citizen: &CitizenKey) -> Item {
    let shard = super::items::audience_shard(citizen) % COUNTER_SHARDS;
    key(alert_partition(alert_id), format!("COUNT#{shard:x}"))
}

/// A counter's attribute name (`c_accepted`, `c_failed:131026`).
fn counter_attribute(name: &str) -> String {
    format!("c_{name}")
}

fn run_item(run: &AlertRun) -> Result<Item, StoreError> {
    let progress =
        serde_json::to_string(&run.progress).map_err(|error| StoreError::InvalidInput {
            what: "alert run progress",
            input: run.alert_id.clone(),
            expected: format!("serializable progress ({error})"),
        })?;
    let mut item = key(alert_partition(&run.alert_id), "RUN".to_owned());
    item.extend([
        ("kind".to_owned(), string("alert_run")),
        (REPORT_PARTITION_KEY.to_owned(), string(RUNS_PARTITION)),
        (
            REPORT_SORT_KEY.to_owned(),
            string(format!("{:010}#{}", run.started_at, run.alert_id)),
        ),
        ("alert_id".to_owned(), string(&run.alert_id)),
        ("topic".to_owned(), string(run.topic.as_str())),
        ("started_at".to_owned(), number(run.started_at)),
        ("enqueued".to_owned(), number(run.enqueued)),
        ("progress".to_owned(), string(progress)),
    ]);
    if let Some(finished_at) = run.finished_at {
        item.insert("finished_at".to_owned(), number(finished_at));
    }
    Ok(item)
}

/// One move of a recipient's send state.
struct StateChange<'a> {
    alert_id: &'a str,
    citizen: &'a CitizenKey,
    from: SendState,
    to: SendState,
    counters: &'a [String],
    /// The link of an accepted message to its alert.
    link: Option<Item>,
    at: i64,
}

impl DynamoStore {
    fn read_run(&self, item: &Item, operation: &'static str) -> Result<AlertRun, StoreError> {
        let reader = self.reader(item, operation);
        let topic = reader.string("topic")?;
        let progress = reader.string("progress")?;
        Ok(AlertRun {
            alert_id: reader.string("alert_id")?,
            topic: Topic::parse(&topic).ok_or_else(|| {
                store_error(
                    Kind::Invalid,
                    operation,
                    self.table(),
                    format!("unknown topic `{topic}`"),
                )
            })?,
            started_at: reader.number("started_at")?,
            finished_at: reader.optional_number("finished_at")?,
            enqueued: reader.number("enqueued")?,
            progress: serde_json::from_str(&progress).map_err(|error| {
                store_error(Kind::Invalid, operation, self.table(), error.to_string())
            })?,
        })
    }

    pub(super) async fn start_run(&self, run: &AlertRun) -> Result<Option<AlertRun>, StoreError> {
        let operation = "start_alert_run";
        validate_run(run)?;
        let result = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(run_item(run)?))
            .condition_expression("attribute_not_exists(#partition)")
            .expression_attribute_names("#partition", crate::table::PARTITION_KEY)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(error) if condition_failed(&error) => {
                let item = self
                    .get(
                        operation,
                        key(alert_partition(&run.alert_id), "RUN".to_owned()),
                    )
                    .await?
                    .ok_or_else(|| {
                        store_error(
                            Kind::Invalid,
                            operation,
                            self.table(),
                            "the run was there, then gone".to_owned(),
                        )
                    })?;
                self.read_run(&item, operation).map(Some)
            }
            Err(error) => Err(from_sdk(operation, self.table(), error)),
        }
    }

    pub(super) async fn save_run(&self, run: &AlertRun) -> Result<(), StoreError> {
        validate_run(run)?;
        self.put("save_alert_run", run_item(run)?).await
    }

    pub(super) async fn claim_recipient(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
        now: i64,
    ) -> Result<Claim, StoreError> {
        validate_alert_id(alert_id)?;
        let mut item = send_key(alert_id, citizen);
        item.extend([
            ("kind".to_owned(), string("alert_send")),
            ("alert_id".to_owned(), string(alert_id)),
            ("state".to_owned(), string(SendState::Claimed.as_str())),
            ("at".to_owned(), number(now)),
            (EXPIRES_AT.to_owned(), number(self.config.expires_at(now))),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#partition) OR #expires_at <= :now")
            .expression_attribute_names("#partition", crate::table::PARTITION_KEY)
            .expression_attribute_names("#expires_at", EXPIRES_AT)
            .expression_attribute_values(":now", number(now))
            .send()
            .await;
        claim_outcome("claim_send", self.table(), result)
    }

    pub(super) async fn release_recipient(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
    ) -> Result<(), StoreError> {
        validate_alert_id(alert_id)?;
        let result = self
            .client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(send_key(alert_id, citizen)))
            .condition_expression("#state = :claimed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":claimed", string(SendState::Claimed.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Not claimed (any more): nothing to release.
            Err(error) if condition_failed(&error) => Ok(()),
            Err(error) => Err(from_sdk("release_send", self.table(), error)),
        }
    }

    /// One transaction: the send state moves from `change.from` to `change.to` (only if it
    /// still is `from`), the counters go up, and the message link is written. `Ok(false)`: the
    /// state was no longer `from`.
    async fn move_state(
        &self,
        operation: &'static str,
        change: StateChange<'_>,
    ) -> Result<bool, StoreError> {
        let StateChange {
            alert_id,
            citizen,
            from,
            to,
            counters,
            link: extra,
            at,
        } = change;
        let invalid = |error: aws_sdk_dynamodb::error::BuildError| {
            store_error(Kind::Invalid, operation, self.table(), error.to_string())
        };
        let mut state_update = Update::builder()
            .table_name(self.table())
            .set_key(Some(send_key(alert_id, citizen)))
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":from", string(from.as_str()))
            .expression_attribute_values(":to", string(to.as_str()))
            .expression_attribute_values(":at", number(at));
        let mut set = vec!["#state = :to", "#at = :at"];
        if let Some(code) = to.code() {
            set.push("#code = :code");
            state_update = state_update
                .expression_attribute_names("#code", "code")
                .expression_attribute_values(":code", number(code));
        }
        if let Some(link) = &extra
            && let Some(AttributeValue::S(partition)) = link.get(crate::table::PARTITION_KEY)
        {
            set.push("#message = :message");
            state_update = state_update
                .expression_attribute_names("#message", "message")
                .expression_attribute_values(
                    ":message",
                    string(partition.trim_start_matches("OUTBOUND#")),
                );
        }
        let state_update = state_update
            .update_expression(format!("SET {}", set.join(", ")))
            .build()
            .map_err(invalid)?;
        let mut counter_update = Update::builder()
            .table_name(self.table())
            .set_key(Some(counter_key(alert_id, citizen)))
            .expression_attribute_names("#kind", "kind")
            .expression_attribute_values(":kind", string("alert_count"))
            .expression_attribute_values(":one", number(1));
        let mut adds = Vec::new();
        for (index, name) in counters.iter().enumerate() {
            adds.push(format!("#c{index} :one"));
            counter_update = counter_update
                .expression_attribute_names(format!("#c{index}"), counter_attribute(name));
        }
        let mut request = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(state_update).build());
        if !adds.is_empty() {
            let counter_update = counter_update
                .update_expression(format!("SET #kind = :kind ADD {}", adds.join(", ")))
                .build()
                .map_err(invalid)?;
            request =
                request.transact_items(TransactWriteItem::builder().update(counter_update).build());
        }
        if let Some(link) = extra {
            request = request.transact_items(
                TransactWriteItem::builder()
                    .put(
                        Put::builder()
                            .table_name(self.table())
                            .set_item(Some(link))
                            .build()
                            .map_err(invalid)?,
                    )
                    .build(),
            );
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error)
                if error.as_service_error().is_some_and(|service| {
                    matches!(
                        service,
                        TransactWriteItemsError::TransactionCanceledException(canceled)
                            if canceled.cancellation_reasons().iter().any(|reason| {
                                reason.code() == Some("ConditionalCheckFailed")
                            })
                    )
                }) =>
            {
                Ok(false)
            }
            Err(error) => Err(from_sdk(operation, self.table(), error)),
        }
    }

    pub(super) async fn record_recipient(
        &self,
        alert_id: &str,
        citizen: &CitizenKey,
        outcome: &SendOutcome,
        at: i64,
    ) -> Result<(), StoreError> {
        validate_alert_id(alert_id)?;
        let (state, counter) = outcome.state();
        let link = match outcome {
            SendOutcome::Accepted { message } => {
                let mut link = outbound_key(message.as_str());
                link.extend([
                    ("kind".to_owned(), string("alert_message")),
                    ("alert_id".to_owned(), string(alert_id)),
                    ("citizen".to_owned(), string(citizen.as_str())),
                    (EXPIRES_AT.to_owned(), number(self.config.expires_at(at))),
                ]);
                Some(link)
            }
            _ => None,
        };
        // A second record of the same send finds the state moved and counts nothing.
        self.move_state(
            "record_send",
            StateChange {
                alert_id,
                citizen,
                from: SendState::Claimed,
                to: state,
                counters: &[counter],
                link,
                at,
            },
        )
        .await
        .map(|_| ())
    }

    pub(super) async fn record_message_status(
        &self,
        message: &MessageKey,
        stage: DeliveryStage,
        at: i64,
    ) -> Result<Option<String>, StoreError> {
        let operation = "record_status";
        let Some(link) = self.get(operation, outbound_key(message.as_str())).await? else {
            return Ok(None);
        };
        let reader = self.reader(&link, operation);
        let alert_id = reader.string("alert_id")?;
        let citizen = reader.citizen("citizen")?;
        for _ in 0..STATUS_ATTEMPTS {
            let Some(item) = self.get(operation, send_key(&alert_id, &citizen)).await? else {
                // Deleted with the citizen's data: nothing to count.
                return Ok(None);
            };
            let reader = self.reader(&item, operation);
            let name = reader.string("state")?;
            let current =
                SendState::parse(&name, reader.optional_number("code")?).ok_or_else(|| {
                    store_error(
                        Kind::Invalid,
                        operation,
                        self.table(),
                        format!("unknown send state `{name}`"),
                    )
                })?;
            let Some((next, counters)) = advance(current, stage) else {
                return Ok(Some(alert_id));
            };
            if self
                .move_state(
                    operation,
                    StateChange {
                        alert_id: &alert_id,
                        citizen: &citizen,
                        from: current,
                        to: next,
                        counters: &counters,
                        link: None,
                        at,
                    },
                )
                .await?
            {
                return Ok(Some(alert_id));
            }
        }
        Err(store_error(
            Kind::Throttled,
            operation,
            self.table(),
            format!("the send state kept changing under {STATUS_ATTEMPTS} attempts"),
        ))
    }

    pub(super) async fn funnels_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<AlertFunnel>, StoreError> {
        let operation = "alert_funnels_between";
        let mut runs = Vec::new();
        let mut start_key = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(self.table())
                .index_name(REPORT_INDEX)
                .key_condition_expression("#partition = :partition AND #sort BETWEEN :from AND :to")
                .expression_attribute_names("#partition", REPORT_PARTITION_KEY)
                .expression_attribute_names("#sort", REPORT_SORT_KEY)
                .expression_attribute_values(":partition", string(RUNS_PARTITION))
                .expression_attribute_values(":from", string(format!("{from:010}")))
                // Every key of a run started before `to` sorts below `<to>` (`#` < digits).
                .expression_attribute_values(
                    ":to",
                    string(format!("{:010}", to.saturating_sub(1).max(0)) + "#\u{10FFFF}"),
                )
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|error| from_sdk(operation, self.table(), error))?;
            for item in output.items.unwrap_or_default() {
                runs.push(self.read_run(&item, operation)?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start_key = Some(key),
                _ => break,
            }
        }
        let mut funnels = Vec::with_capacity(runs.len());
        for run in runs {
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            let output = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("#partition = :partition AND begins_with(#sort, :prefix)")
                .expression_attribute_names("#partition", crate::table::PARTITION_KEY)
                .expression_attribute_names("#sort", crate::table::SORT_KEY)
                .expression_attribute_values(":partition", string(alert_partition(&run.alert_id)))
                .expression_attribute_values(":prefix", string("COUNT#"))
                .consistent_read(true)
                .send()
                .await
                .map_err(|error| from_sdk(operation, self.table(), error))?;
            // At most 16 small items: one page.
            for item in output.items.unwrap_or_default() {
                for (attribute, value) in item {
                    if let (Some(name), AttributeValue::N(count)) =
                        (attribute.strip_prefix("c_"), value)
                    {
                        *counts.entry(name.to_owned()).or_default() +=
                            count.parse::<u64>().unwrap_or(0);
                    }
                }
            }
            funnels.push(AlertFunnel::from_counts(&run, counts));
        }
        Ok(funnels)
    }
}
