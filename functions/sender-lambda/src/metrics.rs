//! CloudWatch Embedded Metric Format for the sender: one JSON line per invocation on standard
//! output, counting what happened to the recipients of the invocation's jobs. The infrastructure
//! templates' alarms watch these names, with the dimension `function` (the function's name):
//!
//! | metric | counts |
//! |---|---|
//! | `alert_sent` | messages the Cloud API accepted |
//! | `alert_failed` | messages refused for good (an error code other than a throughput limit) |
//! | `alert_skipped` | recipients not sent to: opted out since the alert was enqueued, or already sent by an earlier delivery of the job |
//! | `alert_retry_later` | recipients left for SQS to redeliver (throughput limits after the back-off, time running out) |
//! | `alert_throttled` | throughput (130429) and pair-rate (131056) answers the sender backed off from |
//! | `alert_jobs_failed` | jobs reported back to SQS as failed (redelivered, then the dead-letter queue) |

use serde_json::{Map, Value, json};

/// The metrics namespace (the webhook's).
pub const NAMESPACE: &str = "votecheck";

/// The dimension every metric carries: the function's name.
pub const FUNCTION_DIMENSION: &str = "function";

/// The metric names, in the order above.
pub const METRICS: [&str; 6] = [
    "alert_sent",
    "alert_failed",
    "alert_skipped",
    "alert_retry_later",
    "alert_throttled",
    "alert_jobs_failed",
];

/// The EMF line for one invocation of the function named `function`: `counts` in the order of
/// [`METRICS`].
pub fn emf_line(function: &str, counts: [u64; 6], timestamp_ms: i64) -> String {
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[FUNCTION_DIMENSION]],
                "Metrics": METRICS.iter().map(|name| json!({"Name": name, "Unit": "Count"})).collect::<Vec<_>>(),
            }],
        }),
    );
    line.insert(FUNCTION_DIMENSION.into(), Value::from(function));
    for (name, count) in METRICS.iter().zip(counts) {
        line.insert((*name).into(), Value::from(count));
    }
    Value::Object(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_count_is_a_declared_metric() {
        let line: Value = serde_json::from_str(&emf_line("sender", [3, 1, 0, 2, 1, 0], 5)).unwrap();
        assert_eq!(line["alert_sent"], 3);
        assert_eq!(line["alert_retry_later"], 2);
        assert_eq!(line["function"], "sender");
        let declared = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(declared, METRICS.len());
    }
}
