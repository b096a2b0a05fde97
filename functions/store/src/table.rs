//! The DynamoDB table definition: one source of truth for `votecheck store init`, the tests and
//! the infrastructure template.
//!
//! [`table_definition`] returns the table's keys, index, billing mode and TTL in the shape of
//! CloudFormation's `AWS::DynamoDB::Table` properties. `functions/store/table-definition.json` is
//! the same definition as a file (without `TableName`, which the template sets), for the SAM
//! template to mirror; a test proves the two agree. The item layout is documented in
//! `docs/data-model.md`.
//!
//! ```
//! let definition = votecheck_store::table_definition("votecheck");
//! assert_eq!(definition.billing_mode, "PAY_PER_REQUEST");
//! assert_eq!(definition.time_to_live_specification.attribute_name, "expires_at");
//! ```

use aws_sdk_dynamodb::types as dynamo;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// The partition key attribute.
pub const PARTITION_KEY: &str = "PK";
/// The sort key attribute.
pub const SORT_KEY: &str = "SK";
/// The report index.
pub const REPORT_INDEX: &str = "GSI1";
/// The report index's partition key attribute: `QUERY#<yyyy-mm-dd>` or `FEEDBACK#<yyyy-mm-dd>`.
pub const REPORT_PARTITION_KEY: &str = "GSI1PK";
/// The report index's sort key attribute: `<at, 10 digits>#<query id>`.
pub const REPORT_SORT_KEY: &str = "GSI1SK";
/// The TTL attribute (Unix seconds).
pub const EXPIRES_AT: &str = "expires_at";
/// The file form of the definition, embedded for the agreement test and for tools.
pub const TABLE_DEFINITION_JSON: &str = include_str!("../table-definition.json");

/// A DynamoDB table definition, in CloudFormation's property names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TableDefinition {
    /// The table name (absent in the file form: the template names the table).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_name: Option<String>,
    /// `PAY_PER_REQUEST`: on-demand capacity.
    pub billing_mode: String,
    /// The typed key attributes.
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// The table's primary key.
    pub key_schema: Vec<KeySchemaElement>,
    /// The secondary indexes.
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    /// The TTL attribute.
    pub time_to_live_specification: TimeToLiveSpecification,
}

/// One key attribute and its type (`S`, `N` or `B`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AttributeDefinition {
    /// The attribute.
    pub attribute_name: String,
    /// Its type.
    pub attribute_type: String,
}

/// One element of a key: the attribute and `HASH` or `RANGE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct KeySchemaElement {
    /// The attribute.
    pub attribute_name: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct GlobalSecondaryIndex {
    /// The index's name.
    pub index_name: String,
    /// Its key.
    pub key_schema: Vec<KeySchemaElement>,
    /// The attributes it holds.
    pub projection: Projection,
}

/// Which attributes an index holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Projection {
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: String,
}

/// The TTL setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TimeToLiveSpecification {
    /// The attribute holding the expiry time (epoch seconds).
    pub attribute_name: String,
    /// Whether TTL is on.
    pub enabled: bool,
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition {
        attribute_name: name.to_owned(),
        attribute_type: "S".to_owned(),
    }
}

fn key(name: &str, key_type: &str) -> KeySchemaElement {
    KeySchemaElement {
        attribute_name: name.to_owned(),
        key_type: key_type.to_owned(),
    }
}

/// The votecheck table, named `table_name`.
pub fn table_definition(table_name: &str) -> TableDefinition {
    TableDefinition {
        table_name: Some(table_name.to_owned()),
        billing_mode: "PAY_PER_REQUEST".to_owned(),
        attribute_definitions: vec![
            string_attribute(PARTITION_KEY),
            string_attribute(SORT_KEY),
            string_attribute(REPORT_PARTITION_KEY),
            string_attribute(REPORT_SORT_KEY),
        ],
        key_schema: vec![key(PARTITION_KEY, "HASH"), key(SORT_KEY, "RANGE")],
        global_secondary_indexes: vec![GlobalSecondaryIndex {
            index_name: REPORT_INDEX.to_owned(),
            key_schema: vec![
                key(REPORT_PARTITION_KEY, "HASH"),
                key(REPORT_SORT_KEY, "RANGE"),
            ],
            projection: Projection {
                projection_type: "ALL".to_owned(),
            },
        }],
        time_to_live_specification: TimeToLiveSpecification {
            attribute_name: EXPIRES_AT.to_owned(),
            enabled: true,
        },
    }
}

impl TableDefinition {
    /// The file form: this definition without its name, as pretty JSON.
    pub fn to_template_json(&self) -> String {
        let unnamed = TableDefinition {
            table_name: None,
            ..self.clone()
        };
        serde_json::to_string_pretty(&unnamed).expect("the definition serialises")
    }

    /// Fills a `CreateTable` request with this definition (everything but the TTL, which DynamoDB
    /// sets with a separate `UpdateTimeToLive` call).
    pub fn create_table_request(
        &self,
        client: &aws_sdk_dynamodb::Client,
    ) -> Result<
        aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder,
        StoreError,
    > {
        let table = self.table_name.clone().unwrap_or_default();
        let invalid = |message: String| StoreError::Invalid {
            operation: "create_table",
            table: table.clone(),
            message,
        };
        let mut request = client
            .create_table()
            .table_name(&table)
            .billing_mode(dynamo::BillingMode::from(self.billing_mode.as_str()));
        for attribute in &self.attribute_definitions {
            request = request.attribute_definitions(
                dynamo::AttributeDefinition::builder()
                    .attribute_name(&attribute.attribute_name)
                    .attribute_type(dynamo::ScalarAttributeType::from(
                        attribute.attribute_type.as_str(),
                    ))
                    .build()
                    .map_err(|error| invalid(error.to_string()))?,
            );
        }
        for element in &self.key_schema {
            request = request.key_schema(sdk_key(element).map_err(invalid)?);
        }
        for index in &self.global_secondary_indexes {
            let mut builder = dynamo::GlobalSecondaryIndex::builder()
                .index_name(&index.index_name)
                .projection(
                    dynamo::Projection::builder()
                        .projection_type(dynamo::ProjectionType::from(
                            index.projection.projection_type.as_str(),
                        ))
                        .build(),
                );
            for element in &index.key_schema {
                builder = builder.key_schema(sdk_key(element).map_err(invalid)?);
            }
            request = request.global_secondary_indexes(
                builder
                    .build()
                    .map_err(|error| invalid(error.to_string()))?,
            );
        }
        Ok(request)
    }
}

fn sdk_key(element: &KeySchemaElement) -> Result<dynamo::KeySchemaElement, String> {
    dynamo::KeySchemaElement::builder()
        .attribute_name(&element.attribute_name)
        .key_type(dynamo::KeyType::from(element.key_type.as_str()))
        .build()
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_and_the_template_fragment_agree() {
        let from_file: TableDefinition = serde_json::from_str(TABLE_DEFINITION_JSON)
            .expect("functions/store/table-definition.json is a table definition");
        let from_code = table_definition("votecheck");
        assert_eq!(
            TableDefinition {
                table_name: Some("votecheck".to_owned()),
                ..from_file
            },
            from_code,
            "functions/store/table-definition.json and table_definition() differ; the code's form is:\n{}",
            from_code.to_template_json()
        );
    }

    #[test]
    fn every_key_attribute_is_defined_once() {
        let definition = table_definition("votecheck");
        let defined: Vec<&str> = definition
            .attribute_definitions
            .iter()
            .map(|attribute| attribute.attribute_name.as_str())
            .collect();
        let mut used: Vec<&str> = definition
            .key_schema
            .iter()
            .chain(
                definition
                    .global_secondary_indexes
                    .iter()
                    .flat_map(|index| &index.key_schema),
            )
            .map(|element| element.attribute_name.as_str())
            .collect();
        used.sort_unstable();
        let mut defined_sorted = defined.clone();
        defined_sorted.sort_unstable();
        assert_eq!(
            used, defined_sorted,
            "DynamoDB rejects unused or missing attribute definitions"
        );
    }
}
