//! `/metrics`: what the local server did, in the OpenMetrics text format that Prometheus scrapes
//! (served as `application/openmetrics-text`): messages by outcome, requests by endpoint and
//! status, and a request-latency histogram per endpoint.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use votecheck_webhook::MessageOutcome;

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// Latency buckets: 0.1 ms doubling to ≈1.6 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

/// The server's counters.
pub struct Metrics {
    registry: Registry,
    messages: Family<Labels, Counter>,
    requests: Family<Labels, Counter>,
    latency: HistogramFamily,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let messages = Family::<Labels, Counter>::default();
        let requests = Family::<Labels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "votecheck_messages",
            "Inbound WhatsApp messages by what happened to them",
            messages.clone(),
        );
        registry.register(
            "votecheck_requests",
            "HTTP requests by endpoint and status",
            requests.clone(),
        );
        registry.register(
            "votecheck_request_duration_seconds",
            "Time to handle a webhook or console request",
            latency.clone(),
        );
        Metrics {
            registry,
            messages,
            requests,
            latency,
        }
    }
}

impl Metrics {
    /// Counts one handled request and what happened to its messages.
    pub fn record(&self, endpoint: &str, status: u16, seconds: f64, outcomes: &[MessageOutcome]) {
        self.requests
            .get_or_create(&vec![
                ("endpoint".to_string(), endpoint.to_string()),
                ("status".to_string(), status.to_string()),
            ])
            .inc();
        self.latency
            .get_or_create(&vec![("endpoint".to_string(), endpoint.to_string())])
            .observe(seconds);
        for outcome in outcomes {
            self.messages
                .get_or_create(&vec![("outcome".to_string(), outcome.label().to_string())])
                .inc();
        }
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text = "# EOF\n".to_string();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_requests_and_latency_appear_in_the_exposition() {
        let metrics = Metrics::default();
        metrics.record(
            "webhook",
            200,
            0.002,
            &[
                MessageOutcome::Answered {
                    outcome: "answer".to_string(),
                },
                MessageOutcome::Duplicate,
            ],
        );
        metrics.record("webhook", 401, 0.0001, &[]);
        let text = metrics.render();
        assert!(
            text.contains(r#"votecheck_messages_total{outcome="answer"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"votecheck_messages_total{outcome="duplicate"} 1"#));
        assert!(text.contains(r#"votecheck_requests_total{endpoint="webhook",status="401"} 1"#));
        assert!(text.contains(r#"votecheck_request_duration_seconds_count{endpoint="webhook"} 2"#));
        assert!(text.ends_with("# EOF\n"));
    }
}
