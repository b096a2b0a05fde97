//! [`SenderSettings`]: how fast alerts go out, read once by [`SenderSettings::from_lookup`] from
//! the environment variables the sender function and `votecheck serve` share:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `VOTECHECK_SEND_RATE` | 80 | messages per second for the whole business number (WhatsApp's throughput tier: 80 by default, up to 1,000 on request) |
//! | `VOTECHECK_SENDER_CONCURRENCY` | 2 | how many sender instances share that rate: the sender function's reserved concurrency and its queue trigger's maximum concurrency, set from the same template parameter |
//!
//! Each instance sends at `rate / concurrency` ([`SenderSettings::per_instance_rate`]). The
//! shared budget is split by the function's reserved concurrency rather than counted in the
//! store: a store-side counter would cost a conditional write per message (doubling the writes
//! of a fan-out) and add a round trip to each send, while reserved concurrency caps the number
//! of instances for free. The price is that an idle instance's share is not lent to a busy one,
//! so the number can run below its tier, never above it.
//!
//! ```
//! use votecheck_alerts::settings::SenderSettings;
//!
//! let settings = SenderSettings::from_lookup(|name| match name {
//!     "VOTECHECK_SEND_RATE" => Some("250".into()),
//!     _ => None,
//! })
//! .unwrap();
//! assert_eq!(settings.per_instance_rate(), 125.0);
//! assert!(SenderSettings::from_lookup(|_| Some("0".into())).is_err());
//! ```

/// WhatsApp's default throughput for a business number, messages per second.
pub const DEFAULT_SEND_RATE: u32 = 80;

/// How many sender instances share the rate by default (the least maximum concurrency an SQS
/// trigger accepts).
pub const DEFAULT_SENDER_CONCURRENCY: u32 = 2;

/// The highest rate accepted: WhatsApp's highest standard tier.
pub const MAX_SEND_RATE: u32 = 1_000;

/// How fast alerts go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderSettings {
    /// Messages per second for the whole business number (`VOTECHECK_SEND_RATE`); 0: no limit
    /// (benchmarks only: never accepted from the environment).
    pub rate: u32,
    /// How many instances share it (`VOTECHECK_SENDER_CONCURRENCY`).
    pub concurrency: u32,
}

impl Default for SenderSettings {
    fn default() -> Self {
        SenderSettings {
            rate: DEFAULT_SEND_RATE,
            concurrency: DEFAULT_SENDER_CONCURRENCY,
        }
    }
}

impl SenderSettings {
    /// Reads the settings through `lookup` (the process environment in production); each
    /// problem is one message naming the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let defaults = SenderSettings::default();
        let mut problems = Vec::new();
        let mut read = |name: &str, default: u32, max: u32, meaning: &str| -> u32 {
            let Some(value) = lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
            else {
                return default;
            };
            match value.parse::<u32>() {
                Ok(number) if (1..=max).contains(&number) => number,
                _ => {
                    problems.push(format!(
                        "{name} must be a whole number from 1 to {max} ({meaning}), not `{value}`"
                    ));
                    default
                }
            }
        };
        let rate = read(
            "VOTECHECK_SEND_RATE",
            defaults.rate,
            MAX_SEND_RATE,
            "messages per second for the business number",
        );
        let concurrency = read(
            "VOTECHECK_SENDER_CONCURRENCY",
            defaults.concurrency,
            MAX_SEND_RATE,
            "sender instances sharing that rate",
        );
        if problems.is_empty() {
            Ok(SenderSettings { rate, concurrency })
        } else {
            Err(problems)
        }
    }

    /// The messages per second one instance may send; 0 means no limit.
    pub fn per_instance_rate(&self) -> f64 {
        f64::from(self.rate) / f64::from(self.concurrency.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_every_problem_named() {
        assert_eq!(
            SenderSettings::from_lookup(|_| None).unwrap(),
            SenderSettings::default()
        );
        assert_eq!(SenderSettings::default().per_instance_rate(), 40.0);
        let problems = SenderSettings::from_lookup(|name| match name {
            "VOTECHECK_SEND_RATE" => Some("fast".into()),
            "VOTECHECK_SENDER_CONCURRENCY" => Some("-1".into()),
            _ => None,
        })
        .unwrap_err()
        .join("\n");
        assert!(problems.contains("VOTECHECK_SEND_RATE"), "{problems}");
        assert!(
            problems.contains("VOTECHECK_SENDER_CONCURRENCY"),
            "{problems}"
        );
        let too_fast = SenderSettings::from_lookup(|name| {
            (name == "VOTECHECK_SEND_RATE").then(|| "5000".into())
        });
        assert!(too_fast.is_err());
    }
}
