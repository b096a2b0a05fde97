//! The Lambda's configuration, read from environment variables and validated at start-up with a
//! clear message per missing or invalid value. The names are part of the interface (README and
//! `docs/deploy.md`):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `VOTECHECK_INDEX_DIR` | `index/` next to the executable | the bundled index |
//! | `VOTECHECK_MODEL` | `model/multilingual-e5-small-q4.vce` next to the executable | the sentence encoder's model (read when the index has passage vectors) |
//! | `VOTECHECK_TABLE_NAME` | (required) | the DynamoDB table |
//! | `WHATSAPP_PHONE_NUMBER_ID` | (required) | the business number that replies |
//! | `VOTECHECK_GRAPH_BASE_URL` | `https://graph.facebook.com` | the Graph API (`https://`, or `http://` to a loopback address) |
//! | `VOTECHECK_GRAPH_VERSION` | `v25.0` | the Graph API version |
//! | `VOTECHECK_SSM_PREFIX` | (none) | read the secrets from SSM Parameter Store under this prefix |
//! | `WHATSAPP_ACCESS_TOKEN`, `WHATSAPP_APP_SECRET`, `WHATSAPP_VERIFY_TOKEN`, `VOTECHECK_ID_SALT` | (none) | the secrets themselves, when there is no SSM prefix (local use, tests) |
//! | `VOTECHECK_RETENTION_DAYS` | 90 | how long query records are kept |
//! | `VOTECHECK_RATE_LIMIT` | `20/600` | messages per window (seconds) per citizen |
//! | `CANDLE_NUM_THREADS` | the CPUs | threads of the sentence encoder (read by candle; the templates set 1) |
//!
//! The DynamoDB endpoint follows the AWS SDK's own `AWS_ENDPOINT_URL_DYNAMODB` /
//! `AWS_ENDPOINT_URL`; the log level follows `RUST_LOG` (default `info`).

use std::path::{Path, PathBuf};

use votecheck_store::{RateLimit, StoreConfig};

/// The names of the secrets under `VOTECHECK_SSM_PREFIX`.
pub const SSM_ACCESS_TOKEN: &str = "whatsapp-access-token";
/// The Meta app secret, under the SSM prefix.
pub const SSM_APP_SECRET: &str = "whatsapp-app-secret";
/// The webhook verify token, under the SSM prefix.
pub const SSM_VERIFY_TOKEN: &str = "whatsapp-verify-token";
/// The salt of citizen keys, under the SSM prefix.
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

/// The Lambda's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaConfig {
    /// `VOTECHECK_INDEX_DIR`.
    pub index_dir: PathBuf,
    /// `VOTECHECK_MODEL`.
    pub model: PathBuf,
    /// `VOTECHECK_TABLE_NAME`.
    pub table_name: String,
    /// `WHATSAPP_PHONE_NUMBER_ID`.
    pub phone_number_id: String,
    /// `VOTECHECK_GRAPH_BASE_URL`.
    pub graph_base_url: String,
    /// `VOTECHECK_GRAPH_VERSION`.
    pub graph_version: String,
    /// Where the secrets come from (`VOTECHECK_SSM_PREFIX`).
    pub secrets: SecretSource,
    /// `VOTECHECK_RETENTION_DAYS`.
    pub retention_days: u32,
    /// `VOTECHECK_RATE_LIMIT`: messages per window.
    pub rate_limit_messages: u64,
    /// `VOTECHECK_RATE_LIMIT`: the window, in seconds.
    pub rate_limit_window_seconds: i64,
}

impl LambdaConfig {
    /// Reads the configuration through `lookup` (the process environment in production).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let mut required = |name: &str, what: &str| {
            get(name).unwrap_or_else(|| {
                problems.push(format!("{name} is not set: {what}"));
                String::new()
            })
        };
        let table_name = required(
            "VOTECHECK_TABLE_NAME",
            "the DynamoDB table that stores conversations",
        );
        let phone_number_id = required(
            "WHATSAPP_PHONE_NUMBER_ID",
            "the WhatsApp phone number id that sends replies",
        );
        let index_dir = get("VOTECHECK_INDEX_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::env::current_exe()
                    .ok()
                    .and_then(|exe| exe.parent().map(|dir| dir.join("index")))
                    .unwrap_or_else(|| PathBuf::from("index"))
            });
        let model = get("VOTECHECK_MODEL")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::env::current_exe()
                    .ok()
                    .and_then(|exe| exe.parent().map(Path::to_path_buf))
                    .unwrap_or_default()
                    .join("model")
                    .join(votecheck_encoder::MODEL_FILE_NAME)
            });
        if let Some(threads) = get("CANDLE_NUM_THREADS")
            && threads
                .parse::<usize>()
                .map_or(true, |threads| threads == 0)
        {
            problems.push(format!(
                "CANDLE_NUM_THREADS must be a positive whole number of threads, not `{threads}`"
            ));
        }
        let graph_base_url = get("VOTECHECK_GRAPH_BASE_URL")
            .unwrap_or_else(|| "https://graph.facebook.com".to_string());
        if let Err(problem) = votecheck_graph::config::check_base_url(&graph_base_url) {
            problems.push(format!("VOTECHECK_GRAPH_BASE_URL {problem}"));
        }
        let graph_version = get("VOTECHECK_GRAPH_VERSION").unwrap_or_else(|| "v25.0".to_string());
        let secrets = match get("VOTECHECK_SSM_PREFIX") {
            Some(prefix) => SecretSource::Ssm {
                prefix: prefix.trim_end_matches('/').to_string(),
            },
            None => {
                for name in [
                    "WHATSAPP_ACCESS_TOKEN",
                    "WHATSAPP_APP_SECRET",
                    "WHATSAPP_VERIFY_TOKEN",
                    "VOTECHECK_ID_SALT",
                ] {
                    if get(name).is_none() {
                        problems.push(format!("{name} is not set, and neither is VOTECHECK_SSM_PREFIX (set the prefix under which the secrets are stored in SSM Parameter Store)"));
                    }
                }
                SecretSource::Environment
            }
        };
        let retention_days = match get("VOTECHECK_RETENTION_DAYS") {
            None => 90,
            Some(value) => value.parse().unwrap_or_else(|_| {
                problems.push(format!(
                    "VOTECHECK_RETENTION_DAYS must be a whole number of days, not `{value}`"
                ));
                90
            }),
        };
        let (rate_limit_messages, rate_limit_window_seconds) = match get("VOTECHECK_RATE_LIMIT") {
            None => (20, 600),
            Some(value) => match parse_rate_limit(&value) {
                Some(limit) => limit,
                None => {
                    problems.push(format!("VOTECHECK_RATE_LIMIT must look like `20/600` (messages per seconds, at least 1 of each), not `{value}`"));
                    (20, 600)
                }
            },
        };
        // The store checks its own settings too (table name, retention, rate limit): a value it
        // would refuse must stop the start, not silence the bot at the first message.
        let store_config = store_config(
            &table_name,
            retention_days,
            rate_limit_messages,
            rate_limit_window_seconds,
        );
        if !table_name.is_empty()
            && let Err(problem) = store_config.validate()
        {
            problems.push(format!(
                "the store's settings (VOTECHECK_TABLE_NAME, VOTECHECK_RETENTION_DAYS, VOTECHECK_RATE_LIMIT) are refused: {problem}"
            ));
        }
        if problems.is_empty() {
            Ok(LambdaConfig {
                index_dir,
                model,
                table_name,
                phone_number_id,
                graph_base_url,
                graph_version,
                secrets,
                retention_days,
                rate_limit_messages,
                rate_limit_window_seconds,
            })
        } else {
            Err(problems)
        }
    }
}

impl LambdaConfig {
    /// The store's configuration: the table, the retention and the rate limit.
    pub fn store_config(&self) -> StoreConfig {
        store_config(
            &self.table_name,
            self.retention_days,
            self.rate_limit_messages,
            self.rate_limit_window_seconds,
        )
    }
}

fn store_config(
    table_name: &str,
    retention_days: u32,
    rate_limit_messages: u64,
    rate_limit_window_seconds: i64,
) -> StoreConfig {
    StoreConfig {
        table_name: table_name.to_string(),
        retention_days,
        rate_limit: RateLimit {
            window_seconds: rate_limit_window_seconds,
            max_messages: rate_limit_messages,
        },
        ..StoreConfig::default()
    }
}

/// Parses `VOTECHECK_RATE_LIMIT`: `messages/seconds`, such as `20/600`, both at least 1 (`0/600`
/// would drop every message).
pub fn parse_rate_limit(value: &str) -> Option<(u64, i64)> {
    let (count, window) = value.split_once('/')?;
    let (count, window) = (count.trim().parse().ok()?, window.trim().parse().ok()?);
    (count > 0 && window > 0).then_some((count, window))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<LambdaConfig, Vec<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LambdaConfig::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn reads_defaults_and_ssm_prefix() {
        let config = config(&[
            ("VOTECHECK_TABLE_NAME", "votecheck"),
            ("WHATSAPP_PHONE_NUMBER_ID", "123"),
            ("VOTECHECK_SSM_PREFIX", "/votecheck/prod/"),
        ])
        .unwrap();
        assert_eq!(config.graph_base_url, "https://graph.facebook.com");
        assert_eq!(config.graph_version, "v25.0");
        assert_eq!(
            config.secrets,
            SecretSource::Ssm {
                prefix: "/votecheck/prod".into()
            }
        );
        assert_eq!(
            (config.rate_limit_messages, config.rate_limit_window_seconds),
            (20, 600)
        );
        assert_eq!(config.retention_days, 90);
    }

    #[test]
    fn names_every_problem() {
        let problems = config(&[
            ("VOTECHECK_RATE_LIMIT", "lots"),
            ("VOTECHECK_GRAPH_BASE_URL", "graph"),
        ])
        .unwrap_err();
        let all = problems.join("\n");
        for name in [
            "VOTECHECK_TABLE_NAME",
            "WHATSAPP_PHONE_NUMBER_ID",
            "WHATSAPP_APP_SECRET",
            "VOTECHECK_RATE_LIMIT",
            "VOTECHECK_GRAPH_BASE_URL",
        ] {
            assert!(all.contains(name), "{name} missing from {all}");
        }
    }

    #[test]
    fn settings_that_would_silence_the_bot_are_refused_at_start_up() {
        let base = [
            ("VOTECHECK_TABLE_NAME", "votecheck"),
            ("WHATSAPP_PHONE_NUMBER_ID", "123"),
            ("VOTECHECK_SSM_PREFIX", "/votecheck/prod"),
        ];
        let with = |name: &'static str, value: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push((name, value));
            config(&pairs)
        };
        for (name, value) in [
            ("VOTECHECK_RATE_LIMIT", "0/600"),
            ("VOTECHECK_RATE_LIMIT", "20/0"),
            ("VOTECHECK_RATE_LIMIT", "-1/600"),
            ("VOTECHECK_RETENTION_DAYS", "0"),
            ("VOTECHECK_TABLE_NAME", "a b"),
        ] {
            let problems = with(name, value)
                .err()
                .unwrap_or_else(|| panic!("{name}={value} was accepted"))
                .join("\n");
            assert!(problems.contains(name), "{name}={value}: {problems}");
        }
        let config = with("VOTECHECK_RATE_LIMIT", "1/1").unwrap();
        config.store_config().validate().unwrap();
        assert_eq!(config.store_config().rate_limit.max_messages, 1);
    }

    #[test]
    fn the_graph_api_is_reached_over_https_only_except_on_loopback() {
        let base = [
            ("VOTECHECK_TABLE_NAME", "votecheck"),
            ("WHATSAPP_PHONE_NUMBER_ID", "123"),
            ("VOTECHECK_SSM_PREFIX", "/votecheck/prod"),
        ];
        let with_url = |url: &'static str| {
            let mut pairs = base.to_vec();
            pairs.push(("VOTECHECK_GRAPH_BASE_URL", url));
            config(&pairs)
        };
        let problems = with_url("http://graph.facebook.com")
            .unwrap_err()
            .join("\n");
        assert!(
            problems.contains("VOTECHECK_GRAPH_BASE_URL") && problems.contains("https://"),
            "{problems}"
        );
        assert!(with_url("https://graph.facebook.com").is_ok());
        assert!(with_url("http://127.0.0.1:9000").is_ok());
    }
}
