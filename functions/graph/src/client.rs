//! [`GraphClient`]: one reused HTTP client that POSTs message bodies to the messages endpoint,
//! with a per-attempt timeout, bounded, jittered exponential backoff and an optional deadline
//! ([`GraphClient::until`]).
//!
//! Retried (nothing was delivered): connections that could not be made, HTTP 5xx, HTTP 429 and
//! Graph codes 131056 / 130429. Not retried: a timeout or a broken connection after the request
//! went out (the message may have been delivered: a retry could send it twice), 131047
//! ([`GraphError::OutsideWindow`]), 190 ([`GraphError::TokenExpired`]), other 4xx, invalid
//! messages (refused before any request), and malformed success answers. With a deadline, no
//! attempt starts less than [`MIN_ATTEMPT_TIME`] before it and no attempt runs past it.
//!
//! Redirects are never followed (a 3xx is an error: following it would POST the message and the
//! token to another address), and the base URL must be `https://` except to a loopback address
//! ([`crate::config::check_base_url`]).
//!
//! TLS is rustls with the `ring` crypto provider (shared with the AWS SDK); no OpenSSL.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::Value;

use crate::error::classify_error_response;
use votecheck_outbound::OutboundContent;

use crate::message::{self, Recipient};
use crate::{GraphConfig, GraphError};

/// A message accepted by the Cloud API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMessage {
    /// The `wamid.…` id from `messages[0].id`, echoed later in status webhooks.
    pub message_id: String,
}

#[derive(Deserialize)]
struct SendResponse {
    #[serde(default)]
    messages: Vec<SentMessageId>,
}

#[derive(Deserialize)]
struct SentMessageId {
    id: String,
}

/// One request to the Graph API.
#[derive(Clone, Copy)]
enum Call<'a> {
    /// A POST of this JSON body to the messages endpoint.
    Post(&'a [u8]),
    /// A GET of this URL.
    Get(&'a str),
}

/// The least time left before a deadline for an attempt to start: less would most likely end in
/// a timeout that leaves the citizen not knowing whether the message went.
pub const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(500);

/// The Cloud API client. Build it once at start-up and share it (`&GraphClient` or `Arc`);
/// [`GraphClient::until`] makes a cheap copy whose calls end by a deadline.
#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    url: String,
    config: GraphConfig,
    deadline: Option<Instant>,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("url", &self.url)
            .field("config", &self.config)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// Installs rustls' `ring` provider as the process default unless one is already installed
/// (by the AWS SDK or an earlier client); reqwest's `rustls-no-provider` feature needs one.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An `Err` means another thread installed one first, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// A rustls configuration trusting exactly the Mozilla root certificates compiled into the
/// binary (`webpki-root-certs`): reading and parsing the system's certificate files took 3 ms of
/// every cold start, and the Graph API's certificate chains to one of these roots.
fn compiled_in_roots_tls() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

impl GraphClient {
    /// Validates the configuration and builds the HTTP client.
    pub fn new(config: GraphConfig) -> Result<Self, GraphError> {
        if config.phone_number_id.trim().is_empty() || config.phone_number_id.contains('/') {
            return Err(GraphError::InvalidConfig(
                "phone_number_id must be a non-empty id without '/'".into(),
            ));
        }
        if config.access_token.trim().is_empty() {
            return Err(GraphError::InvalidConfig("access_token is empty".into()));
        }
        if config.version.trim_matches('/').is_empty() {
            return Err(GraphError::InvalidConfig(
                "version is empty (e.g. v25.0)".into(),
            ));
        }
        crate::config::check_base_url(&config.base_url)
            .map_err(|problem| GraphError::InvalidConfig(format!("base_url {problem}")))?;
        if config.max_attempts == 0 {
            return Err(GraphError::InvalidConfig(
                "max_attempts must be at least 1".into(),
            ));
        }
        if config.timeout.is_zero() {
            return Err(GraphError::InvalidConfig("timeout must be positive".into()));
        }
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", config.access_token))
            .map_err(|_| {
                GraphError::InvalidConfig(
                    "access_token contains characters not allowed in an HTTP header".into(),
                )
            })?;
        authorization.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, authorization);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));

        ensure_crypto_provider();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(compiled_in_roots_tls())
            .default_headers(headers)
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("votecheck-graph/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                GraphError::InvalidConfig(format!("cannot build the HTTP client: {error}"))
            })?;
        let url = config.messages_url();
        Ok(GraphClient {
            http,
            url,
            config,
            deadline: None,
        })
    }

    /// A copy of this client (sharing its connections) whose calls end by `deadline`: no attempt
    /// starts later than [`MIN_ATTEMPT_TIME`] before it, none runs past it, and no backoff sleeps
    /// into it. A call that could not start returns [`GraphError::DeadlineReached`].
    pub fn until(&self, deadline: Instant) -> GraphClient {
        GraphClient {
            deadline: Some(deadline),
            ..self.clone()
        }
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &GraphConfig {
        &self.config
    }

    /// Sends one message (text, reply buttons, list or template), as a contextual reply to
    /// `reply_to` when given. A message over WhatsApp's limits is refused before any request.
    pub async fn send_content(
        &self,
        to: &Recipient,
        content: &OutboundContent,
        reply_to: Option<&str>,
    ) -> Result<SentMessage, GraphError> {
        let request = message::content_body(to, content, reply_to)?;
        self.send(&request).await
    }

    /// Sends a text message, as a contextual reply to `reply_to` when given.
    pub async fn send_text(
        &self,
        to: &Recipient,
        body: &str,
        reply_to: Option<&str>,
    ) -> Result<SentMessage, GraphError> {
        let content = OutboundContent::Text { body: body.into() };
        self.send_content(to, &content, reply_to).await
    }

    /// Marks an inbound message read, with a typing indicator when asked.
    pub async fn mark_read(
        &self,
        message_id: &str,
        typing_indicator: bool,
    ) -> Result<(), GraphError> {
        let request = message::mark_read_body(message_id, typing_indicator)?;
        self.post_with_retries(&request).await.map(|_| ())
    }

    async fn send(&self, request: &Value) -> Result<SentMessage, GraphError> {
        let (status, body) = self.post_with_retries(request).await?;
        let parsed: SendResponse =
            serde_json::from_slice(&body).map_err(|_| GraphError::UnexpectedResponse {
                status,
                reason: "body is not the documented send-message JSON".into(),
            })?;
        parsed
            .messages
            .into_iter()
            .next()
            .map(|sent| SentMessage {
                message_id: sent.id,
            })
            .ok_or_else(|| GraphError::UnexpectedResponse {
                status,
                reason: "no messages[0].id in the answer".into(),
            })
    }

    /// The time one attempt may take from now: the configured timeout, cut to the deadline;
    /// `None` when the deadline leaves less than [`MIN_ATTEMPT_TIME`].
    fn attempt_time(&self) -> Option<Duration> {
        match self.deadline {
            None => Some(self.config.timeout),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                (left >= MIN_ATTEMPT_TIME).then(|| left.min(self.config.timeout))
            }
        }
    }

    /// POSTs `request`, retrying the failures that sent nothing; returns the success status and
    /// body.
    async fn post_with_retries(&self, request: &Value) -> Result<(u16, Vec<u8>), GraphError> {
        let payload = serde_json::to_vec(request).map_err(|error| GraphError::InvalidMessage {
            field: "request",
            reason: format!("cannot be serialized: {error}"),
        })?;
        self.call_with_retries(Call::Post(&payload)).await
    }

    /// Lists the business account's message templates named `name`, in every language
    /// (`GET /{version}/{business_account_id}/message_templates`), with their status and body
    /// text. Needs [`GraphConfig::business_account_id`]. Retried like a send (a read is safe to
    /// repeat).
    pub async fn message_templates(
        &self,
        name: &str,
    ) -> Result<Vec<crate::templates::MessageTemplate>, GraphError> {
        let url = crate::templates::templates_url(&self.config, name)?;
        let (status, body) = self.call_with_retries(Call::Get(&url)).await?;
        crate::templates::parse_templates(status, &body, name)
    }

    /// Makes one call, retrying the failures that sent nothing; returns the success status and
    /// body.
    async fn call_with_retries(&self, call: Call<'_>) -> Result<(u16, Vec<u8>), GraphError> {
        let mut attempt = 1;
        let Some(mut attempt_time) = self.attempt_time() else {
            return Err(GraphError::DeadlineReached { attempts: 0 });
        };
        loop {
            match self.call_once(call, attempt_time).await {
                Ok(success) => return Ok(success),
                Err(error) if error.is_retryable() && attempt < self.config.max_attempts => {
                    let delay = backoff_delay(&self.config, attempt);
                    let next = self.deadline.map_or(Some(self.config.timeout), |deadline| {
                        let left = deadline.saturating_duration_since(Instant::now());
                        (left >= delay + MIN_ATTEMPT_TIME)
                            .then(|| (left - delay).min(self.config.timeout))
                    });
                    let Some(next) = next else {
                        // No time for another attempt: the last failure stands.
                        return Err(error.with_attempts(attempt));
                    };
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                    attempt_time = next;
                }
                Err(error) => return Err(error.with_attempts(attempt)),
            }
        }
    }

    async fn call_once(
        &self,
        call: Call<'_>,
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>), GraphError> {
        let request = match call {
            Call::Post(payload) => self.http.post(&self.url).body(payload.to_vec()),
            Call::Get(url) => self.http.get(url),
        };
        let response = request
            .timeout(timeout)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        // The answer has started: the request was delivered, whatever happens to the body.
        let body = response
            .bytes()
            .await
            .map_err(|error| match transport_error(error) {
                GraphError::Timeout { attempts, .. } => GraphError::Timeout {
                    attempts,
                    may_have_been_delivered: true,
                },
                GraphError::Network {
                    attempts, reason, ..
                } => GraphError::Network {
                    attempts,
                    reason,
                    may_have_been_delivered: true,
                },
                other => other,
            })?;
        if (200..300).contains(&status) {
            Ok((status, body.to_vec()))
        } else {
            Err(classify_error_response(status, &body))
        }
    }
}

/// Maps a reqwest error to a log-safe [`GraphError`] (no URL: it carries no secret, but the
/// reason stays short and stable). A failure to connect sent nothing; any later failure may
/// have let the request through.
fn transport_error(error: reqwest::Error) -> GraphError {
    let may_have_been_delivered = !error.is_connect();
    if error.is_timeout() {
        return GraphError::Timeout {
            attempts: 1,
            may_have_been_delivered,
        };
    }
    let error = error.without_url();
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    GraphError::Network {
        attempts: 1,
        reason,
        may_have_been_delivered,
    }
}

/// The delay before attempt `attempt + 1`: half of `base × 2^(attempt-1)` (capped at the
/// maximum) plus a random share of the other half ("equal jitter").
pub(crate) fn backoff_delay(config: &GraphConfig, attempt: u32) -> Duration {
    let exponent = attempt.saturating_sub(1).min(16);
    let ceiling = config
        .backoff_base
        .saturating_mul(1 << exponent)
        .min(config.backoff_max);
    let half = ceiling / 2;
    let jitter_nanos = fastrand::u64(0..=half.as_nanos().min(u128::from(u64::MAX)) as u64);
    half + Duration::from_nanos(jitter_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let config = GraphConfig::new("1", "t")
            .with_backoff(Duration::from_millis(100), Duration::from_millis(300));
        for _ in 0..50 {
            let first = backoff_delay(&config, 1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let second = backoff_delay(&config, 2);
            assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200));
            let tenth = backoff_delay(&config, 10);
            assert!(tenth >= Duration::from_millis(150) && tenth <= Duration::from_millis(300));
        }
    }

    #[test]
    fn new_refuses_bad_configuration_without_echoing_the_token() {
        let bad = GraphConfig::new("1", "secret\ntoken");
        let error = GraphClient::new(bad).unwrap_err();
        assert!(!error.to_string().contains("secret"));
        assert!(GraphClient::new(GraphConfig::new("", "t")).is_err());
        assert!(GraphClient::new(GraphConfig::new("1", "t").with_max_attempts(0)).is_err());
        assert!(GraphClient::new(GraphConfig::new("1", "t").with_base_url("ftp://x")).is_err());
    }
}
