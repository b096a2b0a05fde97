//! [`StoreConfig`]: retention, claim lifetime, rate limit and table name, with documented defaults.
//!
//! | setting | default | why |
//! |---|---|---|
//! | `table_name` | `votecheck` | the DynamoDB table (ignored by the SQLite store) |
//! | `retention_days` | 90 | long enough to see a campaign's trends, short enough to hold little |
//! | `claim_retention_days` | 8 | WhatsApp retries a webhook for up to 7 days; one day of margin |
//! | `rate_limit.window_seconds` | 600 | ten minutes: a fixed window, counted per citizen |
//! | `rate_limit.max_messages` | 20 | a person asking in earnest sends a few messages a minute at most; a script sends hundreds |

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
