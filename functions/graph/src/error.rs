//! [`GraphError`]: the one error type of this crate, with [`GraphError::metric_name`] for
//! metrics, [`GraphError::is_retryable`] for the retry loop and
//! [`GraphError::may_have_been_delivered`] for the caller that decides whether a message may be
//! sent again.
//!
//! A failed request either certainly did not reach WhatsApp (the connection was never made, or
//! the Cloud API answered with an error) or may have reached it (the connection was made and
//! then timed out or broke before an answer, or the answer was a success that did not decode).
//! Only the first kind is ever sent again: sending the second kind again could give the citizen
//! the same reply twice.
//!
//! Messages say what failed and what to do; they never contain the access token or the text
//! of the message that was being sent (the Graph error `message` and `details` are Meta's own
//! descriptions of the problem, truncated).

use serde::Deserialize;

/// Graph error code: the recipient is outside the 24-hour customer service window
/// (re-engagement required). Never retried.
pub const CODE_OUTSIDE_WINDOW: i64 = 131047;
/// Graph error code: the access token is invalid or expired. Never retried.
pub const CODE_TOKEN_EXPIRED: i64 = 190;
/// Graph error code: too many messages to the same user (pair rate limit).
pub const CODE_PAIR_RATE_LIMIT: i64 = 131056;
/// Graph error code: Cloud API throughput rate limit reached.
pub const CODE_RATE_LIMIT: i64 = 130429;

/// How much of Meta's error description is kept.
const MAX_DESCRIPTION_CHARS: usize = 300;

/// Everything that can go wrong while talking to the Graph API.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The configuration cannot produce a working client.
    #[error("invalid Graph API configuration: {0}")]
    InvalidConfig(String),

    /// The message would be rejected by the Cloud API, so it was not sent.
    #[error("invalid {field}: {reason}; nothing was sent")]
    InvalidMessage {
        /// Which part of the message is invalid (e.g. `button title`).
        field: &'static str,
        /// What is wrong with it (lengths and counts only, never the content).
        reason: String,
    },

    /// Error 131047: more than 24 hours since the user's last message. Not retried; only a
    /// template message could reach the user.
    #[error(
        "Graph API error 131047: recipient is outside the 24-hour customer service window; \
         re-engagement (template) required, not retried"
    )]
    OutsideWindow {
        /// Meta's trace id, for support requests.
        fbtrace_id: Option<String>,
    },

    /// Error 190: the access token is invalid or expired. Not retried; rotate the token.
    #[error(
        "Graph API error 190: access token invalid or expired (subcode {subcode:?}): {message}; \
         rotate the token in the parameter store"
    )]
    TokenExpired {
        /// `error_subcode` (e.g. 463 expired, 460 password changed).
        subcode: Option<i64>,
        /// Meta's description.
        message: String,
        /// Meta's trace id.
        fbtrace_id: Option<String>,
    },

    /// HTTP 429 or Graph codes 131056 / 130429 after all attempts.
    #[error(
        "Graph API rate limit (HTTP {status}, code {code:?}) after {attempts} attempt(s): {message}"
    )]
    RateLimited {
        /// HTTP status.
        status: u16,
        /// Graph error code, if the body had one.
        code: Option<i64>,
        /// Meta's description.
        message: String,
        /// Attempts made.
        attempts: u32,
    },

    /// Any other Graph API error answer (other 4xx, or 5xx after all attempts).
    #[error("Graph API error (HTTP {status}, code {code:?}, subcode {subcode:?}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Graph error code.
        code: Option<i64>,
        /// Graph error subcode.
        subcode: Option<i64>,
        /// Meta's description (and `error_data.details` when present), truncated.
        message: String,
        /// Meta's trace id.
        fbtrace_id: Option<String>,
    },

    /// The last attempt timed out: while connecting (nothing was sent) or, once connected,
    /// while waiting for the answer (the message may have been delivered).
    #[error(
        "Graph API request timed out after {attempts} attempt(s) {}",
        timeout_phase(*.may_have_been_delivered)
    )]
    Timeout {
        /// Attempts made.
        attempts: u32,
        /// The connection was made before the timeout: the request may have reached WhatsApp.
        may_have_been_delivered: bool,
    },

    /// Transport failure on the last attempt: before the connection was made (DNS, connect,
    /// TLS), or after it (a reset while the request or the answer was on the wire).
    #[error("Graph API unreachable after {attempts} attempt(s): {reason}")]
    Network {
        /// Attempts made.
        attempts: u32,
        /// The transport error, without URL or headers.
        reason: String,
        /// The connection was made before the failure: the request may have reached WhatsApp.
        may_have_been_delivered: bool,
    },

    /// No attempt was started (or no further one) because the caller's deadline was too close:
    /// nothing was sent.
    #[error(
        "Graph API request not attempted: the deadline was too close ({attempts} attempt(s) made)"
    )]
    DeadlineReached {
        /// Attempts made before the deadline stopped the call.
        attempts: u32,
    },

    /// A success status with a body that is not the documented shape. Not retried: the
    /// message may have been sent.
    #[error("unexpected Graph API response (HTTP {status}): {reason}")]
    UnexpectedResponse {
        /// HTTP status.
        status: u16,
        /// What was missing.
        reason: String,
    },
}

impl GraphError {
    /// A stable, low-cardinality name for metrics and alarms.
    pub fn metric_name(&self) -> &'static str {
        match self {
            GraphError::InvalidConfig(_) => "graph_invalid_config",
            GraphError::InvalidMessage { .. } => "graph_invalid_message",
            GraphError::OutsideWindow { .. } => "graph_outside_window",
            GraphError::TokenExpired { .. } => "graph_token_expired",
            GraphError::RateLimited { .. } => "graph_rate_limited",
            GraphError::Api { status, .. } if *status >= 500 => "graph_server_error",
            GraphError::Api { .. } => "graph_client_error",
            GraphError::Timeout { .. } => "graph_timeout",
            GraphError::Network { .. } => "graph_network",
            GraphError::DeadlineReached { .. } => "graph_deadline",
            GraphError::UnexpectedResponse { .. } => "graph_unexpected_response",
        }
    }

    /// Whether the client tries again: failures that sent nothing and may pass (a connection
    /// that could not be made, HTTP 5xx, rate limits). A timeout or a broken connection after
    /// the request went out is not retried, whatever its cause: the message may have been
    /// delivered, and a second request would send it twice.
    pub fn is_retryable(&self) -> bool {
        match self {
            GraphError::RateLimited { .. } => true,
            GraphError::Timeout {
                may_have_been_delivered,
                ..
            }
            | GraphError::Network {
                may_have_been_delivered,
                ..
            } => !may_have_been_delivered,
            GraphError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Whether the message may have reached WhatsApp although the call failed: a timeout or a
    /// broken connection after the request was sent, or a success answer that did not decode.
    /// Such a message must not be sent again.
    pub fn may_have_been_delivered(&self) -> bool {
        match self {
            GraphError::Timeout {
                may_have_been_delivered,
                ..
            }
            | GraphError::Network {
                may_have_been_delivered,
                ..
            } => *may_have_been_delivered,
            GraphError::UnexpectedResponse { .. } => true,
            _ => false,
        }
    }

    /// Whether a later try (a redelivery of the webhook) may succeed where this one failed,
    /// nothing having been delivered: [`GraphError::is_retryable`] failures and a deadline that
    /// came too soon. Refusals (outside the window, an expired token, other 4xx, an invalid
    /// message) would fail the same way again.
    pub fn is_transient(&self) -> bool {
        self.is_retryable() || matches!(self, GraphError::DeadlineReached { .. })
    }

    /// Sets the attempt count on the variants that carry one.
    pub(crate) fn with_attempts(mut self, made: u32) -> Self {
        match &mut self {
            GraphError::RateLimited { attempts, .. }
            | GraphError::Timeout { attempts, .. }
            | GraphError::Network { attempts, .. }
            | GraphError::DeadlineReached { attempts } => *attempts = made,
            _ => {}
        }
        self
    }
}

/// Where a timeout happened, for its message.
fn timeout_phase(may_have_been_delivered: bool) -> &'static str {
    if may_have_been_delivered {
        "waiting for the answer (the message may have been delivered; not sent again)"
    } else {
        "while connecting (nothing was sent)"
    }
}

/// `{"error": {...}}`, the Graph API error envelope.
#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    error_subcode: Option<i64>,
    #[serde(default)]
    fbtrace_id: Option<String>,
    #[serde(default)]
    error_data: Option<ErrorData>,
}

#[derive(Debug, Deserialize)]
struct ErrorData {
    #[serde(default)]
    details: Option<String>,
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_DESCRIPTION_CHARS {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(MAX_DESCRIPTION_CHARS).collect();
        cut.push('…');
        cut
    }
}

/// Classifies a non-success HTTP answer from its status and body.
pub(crate) fn classify_error_response(status: u16, body: &[u8]) -> GraphError {
    let parsed = serde_json::from_slice::<ErrorEnvelope>(body)
        .ok()
        .map(|e| e.error);
    let (code, subcode, fbtrace_id, message) = match parsed {
        Some(error) => {
            let mut message = error.message.unwrap_or_default();
            if let Some(details) = error.error_data.and_then(|data| data.details)
                && !details.is_empty()
            {
                message = format!("{message} ({details})");
            }
            (
                error.code,
                error.error_subcode,
                error.fbtrace_id,
                truncate(&message),
            )
        }
        None => (None, None, None, "no Graph error body".to_owned()),
    };
    match code {
        Some(CODE_OUTSIDE_WINDOW) => GraphError::OutsideWindow { fbtrace_id },
        Some(CODE_TOKEN_EXPIRED) => GraphError::TokenExpired {
            subcode,
            message,
            fbtrace_id,
        },
        Some(CODE_PAIR_RATE_LIMIT | CODE_RATE_LIMIT) => GraphError::RateLimited {
            status,
            code,
            message,
            attempts: 1,
        },
        _ if status == 429 => GraphError::RateLimited {
            status,
            code,
            message,
            attempts: 1,
        },
        _ => GraphError::Api {
            status,
            code,
            subcode,
            message,
            fbtrace_id,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: i64) -> Vec<u8> {
        format!(
            r#"{{"error":{{"message":"m","type":"OAuthException","code":{code},"error_subcode":2494010,
            "fbtrace_id":"Az1","error_data":{{"messaging_product":"whatsapp","details":"d"}}}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn classifies_documented_codes() {
        assert!(matches!(
            classify_error_response(400, &body(131047)),
            GraphError::OutsideWindow { .. }
        ));
        assert!(matches!(
            classify_error_response(401, &body(190)),
            GraphError::TokenExpired { .. }
        ));
        let limited = classify_error_response(400, &body(131056));
        assert_eq!(limited.metric_name(), "graph_rate_limited");
        assert!(limited.is_retryable());
        let limited = classify_error_response(400, &body(130429));
        assert!(limited.is_retryable());
        match classify_error_response(400, &body(100)) {
            GraphError::Api {
                status,
                code,
                subcode,
                message,
                ..
            } => {
                assert_eq!((status, code, subcode), (400, Some(100), Some(2494010)));
                assert_eq!(message, "m (d)");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn status_alone_decides_without_a_body() {
        let error = classify_error_response(503, b"<html>busy</html>");
        assert_eq!(error.metric_name(), "graph_server_error");
        assert!(error.is_retryable());
        assert!(classify_error_response(429, b"").is_retryable());
        let error = classify_error_response(404, b"");
        assert_eq!(error.metric_name(), "graph_client_error");
        assert!(!error.is_retryable());
    }

    #[test]
    fn long_descriptions_are_truncated() {
        let long = "x".repeat(1000);
        let body = format!(r#"{{"error":{{"message":"{long}","code":1}}}}"#);
        match classify_error_response(400, body.as_bytes()) {
            GraphError::Api { message, .. } => assert!(message.chars().count() <= 301),
            other => panic!("unexpected {other:?}"),
        }
    }
}
