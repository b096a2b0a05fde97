//! The `GET` subscription handshake: Meta proves the webhook URL is ours before sending events.
//!
//! When a webhook URL is registered, Meta calls it with
//! `?hub.mode=subscribe&hub.verify_token=<token>&hub.challenge=<challenge>`. The endpoint must
//! answer `200` with the challenge as the raw body when the token is the one configured for the
//! deployment (`WHATSAPP_VERIFY_TOKEN`), and `403` otherwise.
//!
//! [`verify_subscription`] takes the raw query string (URL-decoded here, with
//! [`form_urlencoded`]); [`SubscriptionQuery::from_pairs`] takes parameters a framework already
//! decoded. Both give a [`VerificationOutcome`] that knows its HTTP status and body. The token
//! comparison is constant-time (over SHA-256 digests, so not even the length leaks), and an empty
//! configured token refuses every request rather than accepting an empty one.
//!
//! ```
//! use votecheck_whatsapp::{verify_subscription, VerificationOutcome};
//!
//! let outcome = verify_subscription(
//!     "hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=1158201444",
//!     "s3cret",
//! );
//! assert_eq!(outcome.status(), 200);
//! assert_eq!(outcome.body(), "1158201444");
//!
//! let forged = verify_subscription("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1", "s3cret");
//! assert_eq!(forged.status(), 403);
//! assert!(matches!(forged, VerificationOutcome::Reject { .. }));
//! ```

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The query parameter that carries the mode; must be [`SUBSCRIBE_MODE`].
pub const MODE_PARAMETER: &str = "hub.mode";
/// The query parameter that carries the verify token.
pub const VERIFY_TOKEN_PARAMETER: &str = "hub.verify_token";
/// The query parameter that carries the challenge to echo back.
pub const CHALLENGE_PARAMETER: &str = "hub.challenge";
/// The only mode Meta sends.
pub const SUBSCRIBE_MODE: &str = "subscribe";

/// The three `hub.*` parameters of a subscription request, URL-decoded. The first occurrence of
/// each wins; other parameters are ignored.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SubscriptionQuery {
    /// `hub.mode`.
    pub mode: Option<String>,
    /// `hub.verify_token` (redacted in `Debug`).
    pub verify_token: Option<String>,
    /// `hub.challenge`.
    pub challenge: Option<String>,
}

impl SubscriptionQuery {
    /// Parses a raw query string (with or without the leading `?`), URL-decoding it
    /// (`%XX` escapes and `+` for space). Never fails: missing parameters stay `None`.
    pub fn parse(raw_query: &str) -> Self {
        let raw_query = raw_query.strip_prefix('?').unwrap_or(raw_query);
        Self::from_pairs(form_urlencoded::parse(raw_query.as_bytes()))
    }

    /// Builds the query from already-decoded `(name, value)` pairs, such as a framework's
    /// query-string map.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut query = SubscriptionQuery::default();
        for (name, value) in pairs {
            let slot = match name.as_ref() {
                MODE_PARAMETER => &mut query.mode,
                VERIFY_TOKEN_PARAMETER => &mut query.verify_token,
                CHALLENGE_PARAMETER => &mut query.challenge,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.as_ref().to_owned());
            }
        }
        query
    }

    /// Decides the handshake against the deployment's verify token.
    pub fn verify(&self, expected_token: &str) -> VerificationOutcome {
        match self.check(expected_token) {
            Ok(challenge) => VerificationOutcome::Accept {
                challenge: challenge.to_owned(),
            },
            Err(reason) => VerificationOutcome::Reject { reason },
        }
    }

    fn check(&self, expected_token: &str) -> Result<&str, RejectReason> {
        if expected_token.is_empty() {
            return Err(RejectReason::NotConfigured);
        }
        match self.mode.as_deref() {
            None | Some("") => return Err(RejectReason::MissingMode),
            Some(SUBSCRIBE_MODE) => {}
            Some(_) => return Err(RejectReason::WrongMode),
        }
        let token = match self.verify_token.as_deref() {
            None | Some("") => return Err(RejectReason::MissingToken),
            Some(token) => token,
        };
        let challenge = match self.challenge.as_deref() {
            None | Some("") => return Err(RejectReason::MissingChallenge),
            Some(challenge) => challenge,
        };
        if tokens_match(token, expected_token) {
            Ok(challenge)
        } else {
            Err(RejectReason::TokenMismatch)
        }
    }
}

impl fmt::Debug for SubscriptionQuery {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SubscriptionQuery")
            .field("mode", &self.mode)
            .field(
                "verify_token",
                &self.verify_token.as_ref().map(|_| "<redacted>"),
            )
            .field("challenge", &self.challenge)
            .finish()
    }
}

/// Decides the subscription handshake for a raw query string; see the [module](self) docs.
pub fn verify_subscription(raw_query: &str, expected_token: &str) -> VerificationOutcome {
    SubscriptionQuery::parse(raw_query).verify(expected_token)
}

/// What to answer to a subscription request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationOutcome {
    /// The token matches: answer `200` with the challenge as the raw body (`text/plain`).
    Accept {
        /// The `hub.challenge` value, URL-decoded, to send back unchanged.
        challenge: String,
    },
    /// Anything else: answer `403` with an empty body; log the reason.
    Reject {
        /// Why, for the log (never includes the token).
        reason: RejectReason,
    },
}

impl VerificationOutcome {
    /// The HTTP status to answer: `200` or `403`.
    pub fn status(&self) -> u16 {
        match self {
            VerificationOutcome::Accept { .. } => 200,
            VerificationOutcome::Reject { .. } => 403,
        }
    }

    /// The response body: the challenge when accepted, empty otherwise.
    pub fn body(&self) -> &str {
        match self {
            VerificationOutcome::Accept { challenge } => challenge,
            VerificationOutcome::Reject { .. } => "",
        }
    }

    /// Whether the handshake succeeded.
    pub fn is_accepted(&self) -> bool {
        matches!(self, VerificationOutcome::Accept { .. })
    }
}

/// Why a subscription request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The deployment has no verify token, so no request can be trusted.
    #[error(
        "subscription refused: no verify token is configured (set WHATSAPP_VERIFY_TOKEN, or the SSM parameter, to the token entered in the Meta app dashboard)"
    )]
    NotConfigured,
    /// `hub.mode` is absent or empty.
    #[error("subscription refused: the query has no `hub.mode` parameter")]
    MissingMode,
    /// `hub.mode` is not `subscribe`.
    #[error("subscription refused: `hub.mode` is not `subscribe`")]
    WrongMode,
    /// `hub.verify_token` is absent or empty.
    #[error("subscription refused: the query has no `hub.verify_token` parameter")]
    MissingToken,
    /// `hub.challenge` is absent or empty.
    #[error("subscription refused: the query has no `hub.challenge` parameter")]
    MissingChallenge,
    /// `hub.verify_token` is not the configured token.
    #[error(
        "subscription refused: `hub.verify_token` does not match the configured verify token (check WHATSAPP_VERIFY_TOKEN against the Meta app dashboard)"
    )]
    TokenMismatch,
}

/// Constant-time token equality. Comparing SHA-256 digests keeps the time independent of where
/// the tokens differ and of their lengths.
fn tokens_match(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.as_slice().ct_eq(expected.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "s3cret token";

    fn reason(query: &str, expected: &str) -> Option<RejectReason> {
        match verify_subscription(query, expected) {
            VerificationOutcome::Accept { .. } => None,
            VerificationOutcome::Reject { reason } => Some(reason),
        }
    }

    #[test]
    fn a_matching_token_returns_the_decoded_challenge() {
        let outcome = verify_subscription(
            "?hub.mode=subscribe&hub.verify_token=s3cret+token&hub.challenge=abc%20123%26x",
            TOKEN,
        );
        assert_eq!(
            outcome,
            VerificationOutcome::Accept {
                challenge: "abc 123&x".to_owned()
            }
        );
        assert_eq!(outcome.status(), 200);
        assert_eq!(outcome.body(), "abc 123&x");
        assert!(outcome.is_accepted());
    }

    #[test]
    fn percent_encoded_tokens_are_decoded_before_comparison() {
        let outcome = verify_subscription(
            "hub.challenge=42&hub.verify_token=s3cret%20token&hub.mode=subscribe&other=1",
            TOKEN,
        );
        assert_eq!(outcome.body(), "42");
    }

    #[test]
    fn every_missing_or_wrong_parameter_is_rejected_with_its_reason() {
        use RejectReason::*;
        let full = "hub.mode=subscribe&hub.verify_token=s3cret+token&hub.challenge=1";
        assert_eq!(reason(full, TOKEN), None);
        assert_eq!(reason(full, ""), Some(NotConfigured));
        assert_eq!(reason("", TOKEN), Some(MissingMode));
        assert_eq!(
            reason("hub.verify_token=s3cret+token&hub.challenge=1", TOKEN),
            Some(MissingMode)
        );
        assert_eq!(
            reason(
                "hub.mode=unsubscribe&hub.verify_token=s3cret+token&hub.challenge=1",
                TOKEN
            ),
            Some(WrongMode)
        );
        assert_eq!(
            reason("hub.mode=subscribe&hub.challenge=1", TOKEN),
            Some(MissingToken)
        );
        assert_eq!(
            reason(
                "hub.mode=subscribe&hub.verify_token=&hub.challenge=1",
                TOKEN
            ),
            Some(MissingToken)
        );
        assert_eq!(
            reason("hub.mode=subscribe&hub.verify_token=s3cret+token", TOKEN),
            Some(MissingChallenge)
        );
        assert_eq!(
            reason(
                "hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=1",
                TOKEN
            ),
            Some(TokenMismatch)
        );
        assert_eq!(
            reason(
                "hub.mode=subscribe&hub.verify_token=s3cret+token+&hub.challenge=1",
                TOKEN
            ),
            Some(TokenMismatch)
        );
        let rejected = verify_subscription("", TOKEN);
        assert_eq!(rejected.status(), 403);
        assert_eq!(rejected.body(), "");
    }

    #[test]
    fn the_first_occurrence_of_a_parameter_wins() {
        let outcome = verify_subscription(
            "hub.mode=subscribe&hub.verify_token=wrong&hub.verify_token=s3cret+token&hub.challenge=1",
            TOKEN,
        );
        assert_eq!(
            outcome,
            VerificationOutcome::Reject {
                reason: RejectReason::TokenMismatch
            }
        );
    }

    #[test]
    fn decoded_pairs_from_a_framework_are_accepted() {
        let pairs = [
            ("hub.mode", "subscribe"),
            ("hub.verify_token", TOKEN),
            ("hub.challenge", "987"),
        ];
        let outcome = SubscriptionQuery::from_pairs(pairs).verify(TOKEN);
        assert_eq!(outcome.body(), "987");
    }

    #[test]
    fn debug_and_messages_never_show_the_token() {
        let query =
            SubscriptionQuery::parse("hub.mode=subscribe&hub.verify_token=hunter2&hub.challenge=1");
        assert!(!format!("{query:?}").contains("hunter2"));
        let outcome = query.verify(TOKEN);
        assert!(!format!("{outcome:?}").contains("hunter2"));
        if let VerificationOutcome::Reject { reason } = outcome {
            assert!(!reason.to_string().contains("hunter2"));
            assert!(reason.to_string().contains("WHATSAPP_VERIFY_TOKEN"));
        } else {
            panic!("a wrong token must be rejected");
        }
    }
}
