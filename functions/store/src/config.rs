//! [`StoreConfig`]: retention, claim lifetime, rate limit and table name, with documented defaults.
//!
//! | setting | default | why |
//! |---|---|---|
//! | `table_name` | `votecheck` | the DynamoDB table (ignored by the SQLite store) |
//! | `retention_days` | 90 | long enough to see a campaign's trends, short enough to hold little |
//! | `claim_retention_days` | 8 | WhatsApp retries a webhook for up to 7 days; one day of margin |
//! | `rate_limit.window_seconds` | 600 | ten minutes: a fixed window, counted per citizen |
//! | `rate_limit.max_messages` | 20 | a person asking in earnest sends a few messages a minute at most; a script sends hundreds |
//!
//! [`StoreConfig::from_lookup`] reads them from the environment variables every deployment uses
//! (the Lambda functions and `votecheck serve` alike): `VOTECHECK_TABLE_NAME`,
//! `VOTECHECK_RETENTION_DAYS` and `VOTECHECK_RATE_LIMIT` (`messages/seconds`, such as `20/600`).

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Seconds in one day.
pub const DAY_SECONDS: i64 = 86_400;

/// How the store keeps data, for both backends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreConfig {
    /// The DynamoDB table name.
    pub table_name: String,
    /// How long query records, feedback, delivery failures and preferences are kept, in days.
    pub retention_days: u32,
    /// How long a message claim is remembered, in days (must exceed WhatsApp's 7 days of retries).
    pub claim_retention_days: u32,
    /// The per-citizen rate limit.
    pub rate_limit: RateLimit,
}

/// A fixed-window rate limit: at most `max_messages` per citizen in each `window_seconds` window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// The window length in seconds; windows start at multiples of it (Unix time).
    pub window_seconds: i64,
    /// The most messages one citizen may send in one window.
    pub max_messages: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            table_name: "votecheck".to_owned(),
            retention_days: 90,
            claim_retention_days: 8,
            rate_limit: RateLimit::default(),
        }
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            window_seconds: 600,
            max_messages: 20,
        }
    }
}

impl RateLimit {
    /// Parses `messages/seconds`, such as `20/600`, both at least 1 (`0/600` would drop every
    /// message).
    ///
    /// ```
    /// use votecheck_store::RateLimit;
    ///
    /// assert_eq!(RateLimit::parse("20/600"), Some(RateLimit::default()));
    /// assert_eq!(RateLimit::parse("0/600"), None);
    /// ```
    pub fn parse(value: &str) -> Option<RateLimit> {
        let (count, window) = value.split_once('/')?;
        let (max_messages, window_seconds) =
            (count.trim().parse().ok()?, window.trim().parse().ok()?);
        (max_messages > 0 && window_seconds > 0).then_some(RateLimit {
            window_seconds,
            max_messages,
        })
    }

    /// Whether a message whose [`crate::Store::count_message`] returned `count` may be answered.
    pub fn allows(&self, count: u64) -> bool {
        count <= self.max_messages
    }
}

impl StoreConfig {
    /// A configuration for this table with every other setting at its default.
    pub fn for_table(table_name: impl Into<String>) -> Self {
        StoreConfig {
            table_name: table_name.into(),
            ..StoreConfig::default()
        }
    }

    /// Reads the settings from environment variables through `lookup` (the process environment
    /// in production): `VOTECHECK_TABLE_NAME` (required when `default_table` is `None`, as in the
    /// Lambda functions), `VOTECHECK_RETENTION_DAYS` and `VOTECHECK_RATE_LIMIT`, each defaulting
    /// to [`StoreConfig::default`]. Every problem is named, with the variable, and the settings
    /// are [validated](StoreConfig::validate): a value the store would refuse stops the start
    /// instead of silencing the bot at the first message.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        default_table: Option<&str>,
    ) -> Result<Self, Vec<String>> {
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let defaults = StoreConfig::default();
        let mut problems = Vec::new();
        let table_name = match (get("VOTECHECK_TABLE_NAME"), default_table) {
            (Some(name), _) => name,
            (None, Some(name)) => name.to_owned(),
            (None, None) => {
                problems.push(
                    "VOTECHECK_TABLE_NAME is not set: the DynamoDB table that stores conversations"
                        .to_owned(),
                );
                String::new()
            }
        };
        let retention_days = match get("VOTECHECK_RETENTION_DAYS") {
            None => defaults.retention_days,
            Some(value) => value.parse().unwrap_or_else(|_| {
                problems.push(format!(
                    "VOTECHECK_RETENTION_DAYS must be a whole number of days, not `{value}`"
                ));
                defaults.retention_days
            }),
        };
        let rate_limit = match get("VOTECHECK_RATE_LIMIT") {
            None => defaults.rate_limit,
            Some(value) => RateLimit::parse(&value).unwrap_or_else(|| {
                problems.push(format!(
                    "VOTECHECK_RATE_LIMIT must look like `20/600` (messages per seconds, at least 1 of each), not `{value}`"
                ));
                defaults.rate_limit
            }),
        };
        let config = StoreConfig {
            table_name,
            retention_days,
            rate_limit,
            ..defaults
        };
        if problems.is_empty()
            && let Err(problem) = config.validate()
        {
            problems.push(format!(
                "the store's settings (VOTECHECK_TABLE_NAME, VOTECHECK_RETENTION_DAYS, VOTECHECK_RATE_LIMIT) are refused: {problem}"
            ));
        }
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// The retention in seconds.
    pub fn retention_seconds(&self) -> i64 {
        i64::from(self.retention_days) * DAY_SECONDS
    }

    /// When a record made at `at` expires under this retention.
    pub fn expires_at(&self, at: i64) -> i64 {
        at.saturating_add(self.retention_seconds())
    }

    /// When a claim made at `now` expires.
    pub fn claim_expires_at(&self, now: i64) -> i64 {
        now.saturating_add(i64::from(self.claim_retention_days) * DAY_SECONDS)
    }

    /// Checks the settings, with a message per invalid value.
    pub fn validate(&self) -> Result<(), StoreError> {
        let table_name_valid = (3..=255).contains(&self.table_name.len())
            && self
                .table_name
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'));
        if !table_name_valid {
            return Err(StoreError::InvalidInput {
                what: "table name",
                input: self.table_name.clone(),
                expected: "3 to 255 characters among a-z, A-Z, 0-9, '_', '-' and '.'".to_owned(),
            });
        }
        if self.retention_days == 0 {
            return Err(StoreError::InvalidInput {
                what: "retention in days",
                input: "0".to_owned(),
                expected: "at least 1".to_owned(),
            });
        }
        if self.claim_retention_days < 8 {
            return Err(StoreError::InvalidInput {
                what: "claim retention in days",
                input: self.claim_retention_days.to_string(),
                expected: "at least 8 (WhatsApp redelivers for up to 7 days)".to_owned(),
            });
        }
        if self.rate_limit.window_seconds <= 0 || self.rate_limit.max_messages == 0 {
            return Err(StoreError::InvalidInput {
                what: "rate limit",
                input: format!(
                    "{} messages per {} seconds",
                    self.rate_limit.max_messages, self.rate_limit.window_seconds
                ),
                expected: "at least 1 message per window of at least 1 second".to_owned(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented_values() {
        let config = StoreConfig::default();
        config.validate().unwrap();
        assert_eq!(config.retention_days, 90);
        assert_eq!(config.expires_at(0), 90 * DAY_SECONDS);
        assert!(config.rate_limit.allows(20));
        assert!(!config.rate_limit.allows(21));
    }

    fn from_pairs(
        pairs: &[(&str, &str)],
        default_table: Option<&str>,
    ) -> Result<StoreConfig, Vec<String>> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        StoreConfig::from_lookup(
            |name| {
                pairs
                    .iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.clone())
            },
            default_table,
        )
    }

    #[test]
    fn reads_the_environment_with_the_defaults_written_once() {
        let config = from_pairs(&[], Some("local")).unwrap();
        assert_eq!(
            config,
            StoreConfig {
                table_name: "local".into(),
                ..StoreConfig::default()
            }
        );
        let config = from_pairs(
            &[
                ("VOTECHECK_TABLE_NAME", "votecheck-prod"),
                ("VOTECHECK_RETENTION_DAYS", "30"),
                ("VOTECHECK_RATE_LIMIT", " 5 / 60 "),
            ],
            None,
        )
        .unwrap();
        assert_eq!(config.table_name, "votecheck-prod");
        assert_eq!(config.retention_days, 30);
        assert_eq!(
            config.rate_limit,
            RateLimit {
                max_messages: 5,
                window_seconds: 60
            }
        );
    }

    #[test]
    fn every_refused_variable_is_named() {
        let problems = from_pairs(&[("VOTECHECK_RATE_LIMIT", "lots")], None)
            .unwrap_err()
            .join("\n");
        assert!(problems.contains("VOTECHECK_TABLE_NAME"), "{problems}");
        assert!(problems.contains("VOTECHECK_RATE_LIMIT"), "{problems}");
        for (name, value) in [
            ("VOTECHECK_RATE_LIMIT", "0/600"),
            ("VOTECHECK_RATE_LIMIT", "20/0"),
            ("VOTECHECK_RATE_LIMIT", "-1/600"),
            ("VOTECHECK_RETENTION_DAYS", "0"),
            ("VOTECHECK_RETENTION_DAYS", "ninety"),
            ("VOTECHECK_TABLE_NAME", "a b"),
        ] {
            let problems = from_pairs(&[(name, value)], Some("local"))
                .err()
                .unwrap_or_else(|| panic!("{name}={value} was accepted"))
                .join("\n");
            assert!(problems.contains(name), "{name}={value}: {problems}");
        }
    }

    #[test]
    fn invalid_settings_are_named() {
        let error = StoreConfig::for_table("a b").validate().unwrap_err();
        assert!(error.to_string().contains("table name"), "{error}");
        let config = StoreConfig {
            claim_retention_days: 7,
            ..StoreConfig::default()
        };
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("7 days")
        );
    }
}
