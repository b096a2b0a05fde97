//! [`GraphConfig`]: where the Graph API lives, which business phone number sends, the access
//! token, and the timeout / retry budget.
//!
//! [`GraphConfig::from_lookup`] reads it from the environment variables every deployment uses
//! (the Lambda functions and `votecheck serve`): `WHATSAPP_PHONE_NUMBER_ID`,
//! `VOTECHECK_GRAPH_BASE_URL`, `VOTECHECK_GRAPH_VERSION` and, where it is not loaded from a
//! secret store, `WHATSAPP_ACCESS_TOKEN`.
//!
//! The access token is the one secret here: the hand-written `Debug` implementation prints
//! `access_token: "<redacted>"` so a config can be logged safely.
//!
//! ```
//! use std::time::Duration;
//! use votecheck_graph::GraphConfig;
//!
//! let config = GraphConfig::new("109000000000001", "EAAG-secret").with_timeout(Duration::from_secs(2));
//! assert_eq!(config.version, "v25.0");
//! assert!(!format!("{config:?}").contains("EAAG-secret"));
//! ```

use std::fmt;
use std::time::Duration;

/// The default Graph API host.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// The default Graph API version.
pub const DEFAULT_VERSION: &str = "v25.0";
/// The default per-attempt timeout (connect + request + response).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// The default number of attempts per call (first try included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// The default base delay of the exponential backoff.
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(200);
/// The default upper bound of one backoff delay.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Configuration of a [`crate::GraphClient`].
#[derive(Clone)]
pub struct GraphConfig {
    /// Scheme and host, without a trailing path, e.g. `https://graph.facebook.com`.
    pub base_url: String,
    /// Graph API version path segment, e.g. `v25.0`.
    pub version: String,
    /// The WhatsApp business phone number id that sends the messages.
    pub phone_number_id: String,
    /// The WhatsApp Business Account id whose message templates are read
    /// (`WHATSAPP_BUSINESS_ACCOUNT_ID`); only checking templates needs it.
    pub business_account_id: Option<String>,
    /// System-user access token, sent as `Authorization: Bearer …`. Never printed.
    pub access_token: String,
    /// Timeout of one HTTP attempt.
    pub timeout: Duration,
    /// Attempts per call, the first one included (at least 1).
    pub max_attempts: u32,
    /// Base of the exponential backoff between attempts: attempt `n` waits around
    /// `backoff_base × 2^(n-1)`, with jitter, at most [`GraphConfig::backoff_max`].
    pub backoff_base: Duration,
    /// Upper bound of one backoff delay.
    pub backoff_max: Duration,
}

impl GraphConfig {
    /// A configuration with the defaults for everything but the phone number id and token.
    pub fn new(phone_number_id: impl Into<String>, access_token: impl Into<String>) -> Self {
        GraphConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            version: DEFAULT_VERSION.to_owned(),
            phone_number_id: phone_number_id.into(),
            business_account_id: None,
            access_token: access_token.into(),
            timeout: DEFAULT_TIMEOUT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            backoff_base: DEFAULT_BACKOFF_BASE,
            backoff_max: DEFAULT_BACKOFF_MAX,
        }
    }

    /// Reads the configuration from environment variables through `lookup` (the process
    /// environment in production): `WHATSAPP_PHONE_NUMBER_ID` (required),
    /// `VOTECHECK_GRAPH_BASE_URL` (default [`DEFAULT_BASE_URL`], checked by [`check_base_url`]),
    /// `VOTECHECK_GRAPH_VERSION` (default [`DEFAULT_VERSION`]), `WHATSAPP_BUSINESS_ACCOUNT_ID`
    /// (optional: for reading message templates) and `WHATSAPP_ACCESS_TOKEN`
    /// (empty when unset: a Lambda function loads it from SSM and sets it with
    /// [`GraphConfig::with_access_token`]; a client refuses an empty token). Every problem is
    /// named, with the variable.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Vec<String>> {
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let mut problems = Vec::new();
        let phone_number_id = get("WHATSAPP_PHONE_NUMBER_ID").unwrap_or_else(|| {
            problems.push(
                "WHATSAPP_PHONE_NUMBER_ID is not set: the WhatsApp phone number id that sends replies"
                    .to_owned(),
            );
            String::new()
        });
        let mut config = GraphConfig::new(
            phone_number_id,
            get("WHATSAPP_ACCESS_TOKEN").unwrap_or_default(),
        );
        if let Some(base_url) = get("VOTECHECK_GRAPH_BASE_URL") {
            config.base_url = base_url;
        }
        if let Err(problem) = check_base_url(&config.base_url) {
            problems.push(format!("VOTECHECK_GRAPH_BASE_URL {problem}"));
        }
        if let Some(version) = get("VOTECHECK_GRAPH_VERSION") {
            config.version = version;
        }
        config.business_account_id = get("WHATSAPP_BUSINESS_ACCOUNT_ID");
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(problems)
        }
    }

    /// Replaces the access token (loaded from a secret store after the rest of the settings).
    pub fn with_access_token(mut self, access_token: impl Into<String>) -> Self {
        self.access_token = access_token.into();
        self
    }

    /// Replaces the base URL (a local test server, a proxy).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Replaces the Graph API version.
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Replaces the per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces the number of attempts per call.
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Replaces the backoff base and maximum.
    pub fn with_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_max = max;
        self
    }

    /// The messages endpoint: `{base}/{version}/{phone_number_id}/messages`.
    pub fn messages_url(&self) -> String {
        format!(
            "{}/{}/{}/messages",
            self.base_url.trim_end_matches('/'),
            self.version.trim_matches('/'),
            self.phone_number_id
        )
    }
}

/// Checks a Graph API base URL: `https://` (the token must never travel in clear), or `http://`
/// to a loopback address (`127.0.0.1`, `[::1]`, `localhost`: a test server on the same
/// machine). The reason names the rule, never more than the URL itself.
///
/// ```
/// use votecheck_graph::config::check_base_url;
///
/// assert!(check_base_url("https://graph.facebook.com").is_ok());
/// assert!(check_base_url("http://127.0.0.1:8080").is_ok());
/// assert!(check_base_url("http://graph.facebook.com").is_err());
/// ```
pub fn check_base_url(base_url: &str) -> Result<(), String> {
    let url = reqwest::Url::parse(base_url)
        .map_err(|problem| format!("{base_url:?} is not a URL ({problem})"))?;
    let host = url.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback());
    match url.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!(
            "{base_url:?} is plain http: the access token would travel in clear; use https:// (http:// is allowed only to a loopback address, for tests)"
        )),
        _ => Err(format!(
            "{base_url:?} must start with https:// (or http:// to a loopback address, for tests)"
        )),
    }
}

impl fmt::Debug for GraphConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphConfig")
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .field("phone_number_id", &self.phone_number_id)
            .field("business_account_id", &self.business_account_id)
            .field("access_token", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_url_joins_the_parts_once() {
        let config = GraphConfig::new("123", "t").with_base_url("http://127.0.0.1:9/");
        assert_eq!(
            config.messages_url(),
            "http://127.0.0.1:9/v25.0/123/messages"
        );
    }

    #[test]
    fn only_https_or_loopback_http_base_urls_pass() {
        for good in [
            "https://graph.facebook.com",
            "https://graph.facebook.com/",
            "http://127.0.0.1:9",
            "http://127.1.2.3:9",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(check_base_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://graph.facebook.com",
            "http://10.0.0.1:8080",
            "http://127.0.0.1.example.com",
            "ftp://graph.facebook.com",
            "graph.facebook.com",
            "",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_the_environment_with_the_defaults_written_once() {
        let lookup = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value.to_string())
            }
        };
        let config =
            GraphConfig::from_lookup(lookup(&[("WHATSAPP_PHONE_NUMBER_ID", "123")])).unwrap();
        assert_eq!(
            (config.base_url.as_str(), config.version.as_str()),
            (DEFAULT_BASE_URL, DEFAULT_VERSION)
        );
        assert_eq!(config.access_token, "");
        let config = GraphConfig::from_lookup(lookup(&[
            ("WHATSAPP_PHONE_NUMBER_ID", "123"),
            ("WHATSAPP_ACCESS_TOKEN", "EAAG"),
            ("VOTECHECK_GRAPH_BASE_URL", "http://127.0.0.1:9"),
            ("VOTECHECK_GRAPH_VERSION", "v26.0"),
        ]))
        .unwrap();
        assert_eq!(
            config.messages_url(),
            "http://127.0.0.1:9/v26.0/123/messages"
        );
        assert_eq!(config.access_token, "EAAG");
        let problems = GraphConfig::from_lookup(lookup(&[(
            "VOTECHECK_GRAPH_BASE_URL",
            "http://graph.facebook.com",
        )]))
        .unwrap_err()
        .join("\n");
        assert!(problems.contains("WHATSAPP_PHONE_NUMBER_ID"), "{problems}");
        assert!(problems.contains("VOTECHECK_GRAPH_BASE_URL"), "{problems}");
    }

    #[test]
    fn debug_redacts_the_token() {
        let config = GraphConfig::new("123", "EAAG-very-secret");
        let debug = format!("{config:?}");
        assert!(!debug.contains("EAAG-very-secret"));
        assert!(debug.contains("<redacted>"));
    }
}
