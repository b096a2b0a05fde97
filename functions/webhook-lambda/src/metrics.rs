//! CloudWatch Embedded Metric Format: one JSON line per invocation on standard output, which
//! CloudWatch Logs turns into metrics without any API call. Counts by outcome (answer,
//! fact_check, no_answer...), duplicates, rate-limited messages, failures by cause
//! (`graph_outside_window`, `graph_token_expired`...), and the invocation's latency. The alarms
//! of the infrastructure templates watch these names, with the dimension `function` (the Lambda
//! function's name), so two deployments in one account and region keep apart.

use std::collections::BTreeMap;

use votecheck_webhook::MessageOutcome;

/// The metrics namespace.
pub const NAMESPACE: &str = "votecheck";

/// The dimension every metric carries: the function's name.
pub const FUNCTION_DIMENSION: &str = "function";

/// The metric name an outcome is counted under.
pub fn metric_name(outcome: &MessageOutcome) -> String {
    match outcome {
        MessageOutcome::Answered { outcome } => format!("outcome_{outcome}"),
        MessageOutcome::Failed { metric, .. } => metric.clone(),
        other => other.label().to_string(),
    }
}

/// The EMF line for one invocation of the function named `function`.
pub fn emf_line(
    function: &str,
    outcomes: &[MessageOutcome],
    status: u16,
    latency_ms: f64,
    timestamp_ms: i64,
) -> String {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for outcome in outcomes {
        *counts.entry(metric_name(outcome)).or_default() += 1;
    }
    if status >= 400 {
        *counts.entry(format!("rejected_{status}")).or_default() += 1;
    }
    let mut metrics = vec![serde_json::json!({"Name": "WebhookLatency", "Unit": "Milliseconds"})];
    let mut document = serde_json::Map::new();
    for (name, count) in &counts {
        metrics.push(serde_json::json!({"Name": name, "Unit": "Count"}));
        document.insert(name.clone(), serde_json::json!(count));
    }
    document.insert("WebhookLatency".to_string(), serde_json::json!(latency_ms));
    document.insert(FUNCTION_DIMENSION.to_string(), serde_json::json!(function));
    document.insert(
        "_aws".to_string(),
        serde_json::json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[FUNCTION_DIMENSION]],
                "Metrics": metrics,
            }],
        }),
    );
    serde_json::Value::Object(document).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_outcomes_and_failures() {
        let outcomes = vec![
            MessageOutcome::Answered {
                outcome: "answer".into(),
            },
            MessageOutcome::Answered {
                outcome: "answer".into(),
            },
            MessageOutcome::Failed {
                metric: "graph_token_expired".into(),
                retry_by_redelivery: false,
            },
            MessageOutcome::Duplicate,
        ];
        let line: serde_json::Value =
            serde_json::from_str(&emf_line("votecheck-prod", &outcomes, 200, 12.5, 1_000)).unwrap();
        assert_eq!(line["outcome_answer"], 2);
        assert_eq!(line["graph_token_expired"], 1);
        assert_eq!(line["duplicate"], 1);
        assert_eq!(line["WebhookLatency"], 12.5);
        let declared: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|metric| metric["Name"].as_str().unwrap())
            .collect();
        assert!(declared.contains(&"outcome_answer") && declared.contains(&"WebhookLatency"));
        assert_eq!(line["function"], "votecheck-prod");
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["function"]])
        );
        let rejected: serde_json::Value =
            serde_json::from_str(&emf_line("votecheck-prod", &[], 401, 1.0, 1)).unwrap();
        assert_eq!(rejected["rejected_401"], 1);
    }
}
