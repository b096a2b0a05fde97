//! The Lambda's configuration, read from environment variables and validated at start-up with a
//! clear message per missing or invalid value. The store's and the Graph API's settings are read
//! by their own types ([`StoreConfig::from_lookup`], [`GraphConfig::from_lookup`]), which
//! `votecheck serve` uses too, so each default is written once. The names are part of the interface (README and
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

use votecheck_graph::GraphConfig;
use votecheck_store::StoreConfig;

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
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    /// `VOTECHECK_INDEX_DIR`.
    pub index_dir: PathBuf,
    /// `VOTECHECK_MODEL`.
    pub model: PathBuf,
    /// The store: `VOTECHECK_TABLE_NAME`, `VOTECHECK_RETENTION_DAYS`, `VOTECHECK_RATE_LIMIT`.
    pub store: StoreConfig,
    /// The Graph API: `WHATSAPP_PHONE_NUMBER_ID`, `VOTECHECK_GRAPH_BASE_URL`,
    /// `VOTECHECK_GRAPH_VERSION`; the access token is set once the secrets are loaded.
    pub graph: GraphConfig,
    /// Where the secrets come from (`VOTECHECK_SSM_PREFIX`).
    pub secrets: SecretSource,
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
        let store = StoreConfig::from_lookup(&lookup, None).unwrap_or_else(|found| {
            problems.extend(found);
            StoreConfig::default()
        });
        let graph = GraphConfig::from_lookup(&lookup).unwrap_or_else(|found| {
            problems.extend(found);
            GraphConfig::new("", "")
        });
        let index_dir = get("VOTECHECK_INDEX_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| next_to_the_executable().join("index"));
        let model = get("VOTECHECK_MODEL")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                next_to_the_executable()
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
        if problems.is_empty() {
            Ok(LambdaConfig {
                index_dir,
                model,
                store,
                graph,
                secrets,
            })
        } else {
            Err(problems)
        }
    }
}

/// The directory of the running executable (the function's package), or the working directory.
fn next_to_the_executable() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default()
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
        assert_eq!(
            config.graph.base_url,
            votecheck_graph::config::DEFAULT_BASE_URL
        );
        assert_eq!(
            config.graph.version,
            votecheck_graph::config::DEFAULT_VERSION
        );
        assert_eq!(config.graph.phone_number_id, "123");
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
        config.store.validate().unwrap();
        assert_eq!(config.store.rate_limit.max_messages, 1);
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
