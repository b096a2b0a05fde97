//! Operating the DynamoDB table: [`init_table`], behind `votecheck store init --table NAME`.
//!
//! Creates the table from [`crate::table_definition`] (the same definition the infrastructure
//! template mirrors) and turns its TTL on, against whatever endpoint the client is configured for
//! (real AWS, moto_server, DynamoDB Local). Idempotent: an existing table or an enabled TTL is
//! reported, not an error; a table whose keys differ from the definition is an error, since the
//! store could not use it.
//!
//! ```no_run
//! # async fn example() -> Result<(), votecheck_store::StoreError> {
//! use votecheck_store::{ClientSettings, admin::init_table, dynamo_client};
//! let client = dynamo_client(&ClientSettings::default()).await;
//! let report = init_table(&client, "votecheck").await?;
//! println!("{report}");
//! # Ok(())
//! # }
//! ```

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{TableStatus, TimeToLiveSpecification, TimeToLiveStatus};
use serde::Serialize;

use crate::dynamo::{Kind, from_sdk, store_error};
use crate::table::{EXPIRES_AT, table_definition};
use crate::{StoreConfig, StoreError};

/// How long to wait for a new table to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// What [`init_table`] found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitReport {
    /// The table name.
    pub table: String,
    /// The table was created now (`false`: it existed already).
    pub created: bool,
    /// TTL was turned on now (`false`: it was on already).
    pub ttl_enabled_now: bool,
    /// The TTL attribute.
    pub ttl_attribute: String,
}

impl std::fmt::Display for InitReport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.created {
            write!(
                formatter,
                "created table {} (on-demand capacity, report index GSI1)",
                self.table
            )?;
        } else {
            write!(formatter, "table {} already exists", self.table)?;
        }
        if self.ttl_enabled_now {
            write!(formatter, "; enabled TTL on {}", self.ttl_attribute)
        } else {
            write!(formatter, "; TTL on {} already enabled", self.ttl_attribute)
        }
    }
}

/// Creates the votecheck table named `table_name` and enables its TTL, each only if needed.
pub async fn init_table(client: &Client, table_name: &str) -> Result<InitReport, StoreError> {
    StoreConfig::for_table(table_name).validate()?;
    let definition = table_definition(table_name);

    let existing = match client.describe_table().table_name(table_name).send().await {
        Ok(output) => output.table,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|service| service.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(error) => return Err(from_sdk("describe_table", table_name, error)),
    };
    let created = match existing {
        Some(table) => {
            check_keys(&table, table_name)?;
            false
        }
        None => {
            let request = definition.create_table_request(client)?;
            match request.send().await {
                Ok(_) => true,
                // Another `init` created it between our describe and create.
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|service| service.is_resource_in_use_exception()) =>
                {
                    false
                }
                Err(error) => return Err(from_sdk("create_table", table_name, error)),
            }
        }
    };
    wait_until_active(client, table_name).await?;

    let ttl = client
        .describe_time_to_live()
        .table_name(table_name)
        .send()
        .await
        .map_err(|error| from_sdk("describe_time_to_live", table_name, error))?;
    let (status, attribute) = ttl
        .time_to_live_description()
        .map(|description| {
            (
                description.time_to_live_status().cloned(),
                description.attribute_name().map(str::to_owned),
            )
        })
        .unwrap_or_default();
    let ttl_on = matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    );
    let ttl_enabled_now = if ttl_on {
        if attribute.as_deref() != Some(EXPIRES_AT) {
            return Err(store_error(
                Kind::Invalid,
                "describe_time_to_live",
                table_name,
                format!(
                    "TTL is enabled on attribute {:?}, but votecheck writes expiry times to {EXPIRES_AT:?}; disable it, wait an hour, then run init again",
                    attribute.unwrap_or_default()
                ),
            ));
        }
        false
    } else {
        client
            .update_time_to_live()
            .table_name(table_name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(EXPIRES_AT)
                    .enabled(true)
                    .build()
                    .map_err(|error| {
                        store_error(
                            Kind::Invalid,
                            "update_time_to_live",
                            table_name,
                            error.to_string(),
                        )
                    })?,
            )
            .send()
            .await
            .map_err(|error| from_sdk("update_time_to_live", table_name, error))?;
        true
    };

    Ok(InitReport {
        table: table_name.to_owned(),
        created,
        ttl_enabled_now,
        ttl_attribute: EXPIRES_AT.to_owned(),
    })
}

/// Checks that an existing table has the definition's primary key and report index.
fn check_keys(
    table: &aws_sdk_dynamodb::types::TableDescription,
    table_name: &str,
) -> Result<(), StoreError> {
    let definition = table_definition(table_name);
    let keys = |schema: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Vec<(String, String)> {
        schema
            .iter()
            .map(|element| {
                (
                    element.attribute_name().to_owned(),
                    element.key_type().as_str().to_owned(),
                )
            })
            .collect()
    };
    let expected_keys: Vec<(String, String)> = definition
        .key_schema
        .iter()
        .map(|element| (element.attribute_name.clone(), element.key_type.clone()))
        .collect();
    let mismatch = |what: String| {
        store_error(
            Kind::Invalid,
            "describe_table",
            table_name,
            format!(
                "the existing table is not a votecheck table: {what}; use another name or delete it"
            ),
        )
    };
    if keys(table.key_schema()) != expected_keys {
        return Err(mismatch(format!(
            "its key is {:?}, expected {expected_keys:?}",
            keys(table.key_schema())
        )));
    }
    for index in &definition.global_secondary_indexes {
        let found = table
            .global_secondary_indexes()
            .iter()
            .find(|existing| existing.index_name() == Some(index.index_name.as_str()));
        let expected: Vec<(String, String)> = index
            .key_schema
            .iter()
            .map(|element| (element.attribute_name.clone(), element.key_type.clone()))
            .collect();
        match found {
            Some(found) if keys(found.key_schema()) == expected => {}
            Some(_) => {
                return Err(mismatch(format!(
                    "its index {} has other keys",
                    index.index_name
                )));
            }
            None => {
                return Err(mismatch(format!("it has no index {}", index.index_name)));
            }
        }
    }
    Ok(())
}

async fn wait_until_active(client: &Client, table_name: &str) -> Result<(), StoreError> {
    let started = Instant::now();
    loop {
        let output = client
            .describe_table()
            .table_name(table_name)
            .send()
            .await
            .map_err(|error| from_sdk("describe_table", table_name, error))?;
        let status = output
            .table()
            .and_then(|table| table.table_status())
            .cloned();
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        if started.elapsed() > ACTIVE_TIMEOUT {
            return Err(store_error(
                Kind::Unavailable,
                "describe_table",
                table_name,
                format!(
                    "the table is still {status:?} after {} seconds",
                    ACTIVE_TIMEOUT.as_secs()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
