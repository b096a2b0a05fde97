//! The sender function's configuration, read from environment variables and validated at
//! start-up with a clear message per missing or invalid value. The store's, the Graph API's and
//! the send rate's settings are read by their own types ([`StoreConfig::from_lookup`],
//! [`GraphConfig::from_lookup`], [`SenderSettings::from_lookup`]). The names are part of the
//! interface (`docs/deploy.md`):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `VOTECHECK_TABLE_NAME` | (required) | the DynamoDB table (subscriptions, send state) |
//! | `WHATSAPP_PHONE_NUMBER_ID` | (required) | the business number alerts come from |
//! | `VOTECHECK_GRAPH_BASE_URL` | `https://graph.facebook.com` | the Graph API (`https://`, or `http://` to a loopback address) |
//! | `VOTECHECK_GRAPH_VERSION` | `v25.0` | the Graph API version |
//! | `VOTECHECK_SEND_RATE` | 80 | messages per second for the business number |
//! | `VOTECHECK_SENDER_CONCURRENCY` | 2 | sender instances sharing that rate (= the function's reserved concurrency) |
//! | `VOTECHECK_ALERT_QUEUE_URL` | (none) | the alert queue, where a timed alert's delivery jobs go when its schedule fires |
//! | `VOTECHECK_SSM_PREFIX` | (none) | read the secrets from SSM Parameter Store under this prefix |
//! | `WHATSAPP_ACCESS_TOKEN`, `VOTECHECK_ID_SALT` | (none) | the secrets themselves, when there is no SSM prefix (local use, tests) |
//! | `VOTECHECK_RETENTION_DAYS` | 90 | how long send state is kept |
//!
//! The DynamoDB endpoint follows the AWS SDK's own `AWS_ENDPOINT_URL_DYNAMODB` /
//! `AWS_ENDPOINT_URL`; the log level follows `RUST_LOG` (default `info`).

use votecheck_alerts::settings::SenderSettings;
use votecheck_graph::GraphConfig;
use votecheck_store::StoreConfig;

/// The access token's name under `VOTECHECK_SSM_PREFIX` (the webhook's, shared).
pub const SSM_ACCESS_TOKEN: &str = "whatsapp-access-token";
/// The salt of citizen keys under the SSM prefix: it also derives the key that opens the sealed
/// addresses of subscribers.
pub const SSM_ID_SALT: &str = "id-salt";

/// Where the secrets come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// SSM Parameter Store SecureStrings under this prefix (`/votecheck/prod`).
    Ssm {
        /// The parameter path prefix.
        prefix: String,
    },
    /// Plain environment variables (local use and tests).
    Environment,
}

/// The sender function's configuration.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// The store: `VOTECHECK_TABLE_NAME`, `VOTECHECK_RETENTION_DAYS`.
    pub store: StoreConfig,
    /// The Graph API; the access token is set once the secrets are loaded.
    pub graph: GraphConfig,
    /// The send rate.
    pub sending: SenderSettings,
    /// The alert queue (`VOTECHECK_ALERT_QUEUE_URL`), for timed alerts.
    pub queue_url: Option<String>,
    /// Where the secrets come from (`VOTECHECK_SSM_PREFIX`).
    pub secrets: SecretSource,
}

impl SenderConfig {
    /// Reads the configuration through `lookup` (the process environment in production).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let store = StoreConfig::from_lookup(&lookup, None).unwrap_or_else(|found| {
            problems.extend(found);
            StoreConfig::default()
        });
        let graph = GraphConfig::from_lookup(&lookup).unwrap_or_else(|found| {
            problems.extend(found);
            GraphConfig::new("", "")
        });
        let sending = SenderSettings::from_lookup(&lookup).unwrap_or_else(|found| {
            problems.extend(found);
            SenderSettings::default()
        });
        let secrets = match get("VOTECHECK_SSM_PREFIX") {
            Some(prefix) => SecretSource::Ssm {
                prefix: prefix.trim_end_matches('/').to_string(),
            },
            None => {
                for name in ["WHATSAPP_ACCESS_TOKEN", "VOTECHECK_ID_SALT"] {
                    if get(name).is_none() {
                        problems.push(format!("{name} is not set, and neither is VOTECHECK_SSM_PREFIX (set the prefix under which the secrets are stored in SSM Parameter Store)"));
                    }
                }
                SecretSource::Environment
            }
        };
        let queue_url = get("VOTECHECK_ALERT_QUEUE_URL");
        if let Some(url) = &queue_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            problems.push(format!(
                "VOTECHECK_ALERT_QUEUE_URL must be the queue's URL (https://sqs.<region>.amazonaws.com/<account>/<name>), not `{url}`"
            ));
        }
        if problems.is_empty() {
            Ok(SenderConfig {
                store,
                graph,
                sending,
                queue_url,
                secrets,
            })
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<SenderConfig, Vec<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SenderConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn reads_defaults_and_ssm_prefix() {
        let config = config(&[
            ("VOTECHECK_TABLE_NAME", "votecheck"),
            ("WHATSAPP_PHONE_NUMBER_ID", "123"),
            ("VOTECHECK_SSM_PREFIX", "/votecheck/prod/"),
            ("VOTECHECK_SEND_RATE", "250"),
        ])
        .unwrap();
        assert_eq!(config.sending.rate, 250);
        assert_eq!(config.sending.concurrency, 2);
        assert_eq!(
            config.secrets,
            SecretSource::Ssm {
                prefix: "/votecheck/prod".into()
            }
        );
        assert_eq!(config.store, StoreConfig::for_table("votecheck"));
    }

    #[test]
    fn names_every_problem() {
        let problems = config(&[("VOTECHECK_SENDER_CONCURRENCY", "0")])
            .unwrap_err()
            .join("\n");
        for name in [
            "VOTECHECK_TABLE_NAME",
            "WHATSAPP_PHONE_NUMBER_ID",
            "WHATSAPP_ACCESS_TOKEN",
            "VOTECHECK_ID_SALT",
            "VOTECHECK_SENDER_CONCURRENCY",
        ] {
            assert!(problems.contains(name), "{name} missing from {problems}");
        }
    }
}
