//! The `X-Hub-Signature-256` check: proof that a `POST` really comes from Meta.
//!
//! Meta signs every webhook with `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of the
//! **exact raw body bytes** under the Meta app secret. [`verify_signature`] recomputes it over the
//! bytes as received (after base64 decoding by [`decode_body`](crate::decode_body) when the
//! platform encoded them; never over re-serialised JSON) and compares in constant time through
//! `hmac`'s `verify_slice`. Any error means: answer `401` and touch no state.
//!
//! [`signature_header`] produces the header value, for tests and local tools that play Meta.
//!
//! ```
//! use votecheck_whatsapp::{signature_header, verify_signature, SignatureError};
//!
//! let secret = b"meta app secret";
//! let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
//! let header = signature_header(secret, body)?;
//! assert!(header.starts_with("sha256="));
//! assert_eq!(verify_signature(secret, Some(&header), body), Ok(()));
//! assert_eq!(verify_signature(secret, None, body), Err(SignatureError::Missing));
//! assert_eq!(verify_signature(b"another secret", Some(&header), body), Err(SignatureError::Mismatch));
//! # Ok::<(), SignatureError>(())
//! ```

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header Meta signs webhooks with (HTTP header names are case-insensitive; some platforms,
/// such as Lambda Function URLs, deliver them in lower case).
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

const PREFIX: &str = "sha256=";
const DIGEST_BYTES: usize = 32;

/// Why a webhook signature was not accepted. Every variant means `401`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The deployment's app secret is empty, so no signature can be trusted.
    #[error(
        "cannot check the webhook signature: the app secret is empty (set WHATSAPP_APP_SECRET, or the SSM parameter, to the Meta app secret)"
    )]
    NoSecret,
    /// The request has no (or an empty) `X-Hub-Signature-256` header.
    #[error(
        "the webhook request has no X-Hub-Signature-256 header: it was not signed by Meta, or a proxy dropped the header"
    )]
    Missing,
    /// The header is not `sha256=` followed by 64 hex digits.
    #[error(
        "the X-Hub-Signature-256 header is malformed ({problem}); expected `sha256=` followed by 64 hex digits"
    )]
    Malformed {
        /// What is wrong with it (never the value itself).
        problem: MalformedSignature,
    },
    /// The signature is well formed but is not the HMAC of this body under the app secret.
    #[error(
        "the X-Hub-Signature-256 header does not match the body: the request is forged, the app secret (WHATSAPP_APP_SECRET) is not this Meta app's, or the body was altered (re-encoded) before the check"
    )]
    Mismatch,
}

impl SignatureError {
    /// The HTTP status to answer: always `401`.
    pub fn status(&self) -> u16 {
        401
    }
}

/// What is malformed in an `X-Hub-Signature-256` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedSignature {
    /// It does not start with `sha256=`.
    #[error("it does not start with `sha256=`")]
    MissingPrefix,
    /// The digest after `sha256=` is not 64 characters long.
    #[error("the digest is {found} bytes long instead of 64")]
    WrongLength {
        /// The length found, in bytes.
        found: usize,
    },
    /// The digest has characters that are not hex digits.
    #[error("the digest has characters that are not hex digits")]
    NotHex,
}

/// Checks `X-Hub-Signature-256` (`header`, `None` when absent) against the raw body bytes.
///
/// The `sha256=` prefix is matched case-insensitively, the hex digest in either case, and
/// surrounding whitespace is ignored. Never panics, whatever the input.
pub fn verify_signature(
    app_secret: &[u8],
    header: Option<&str>,
    raw_body: &[u8],
) -> Result<(), SignatureError> {
    let mut mac = keyed_mac(app_secret)?;
    let header = header
        .map(str::trim)
        .filter(|header| !header.is_empty())
        .ok_or(SignatureError::Missing)?;
    let expected = parse_header(header)?;
    mac.update(raw_body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The `X-Hub-Signature-256` value Meta would send for `raw_body`: `sha256=<lower-case hex>`.
///
/// Fails only with [`SignatureError::NoSecret`] when the secret is empty.
pub fn signature_header(app_secret: &[u8], raw_body: &[u8]) -> Result<String, SignatureError> {
    let mut mac = keyed_mac(app_secret)?;
    mac.update(raw_body);
    Ok(format!(
        "{PREFIX}{}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

fn keyed_mac(app_secret: &[u8]) -> Result<Hmac<Sha256>, SignatureError> {
    if app_secret.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    // HMAC accepts keys of any length, so this never fails; the error maps to the closest variant
    // rather than a panic.
    <Hmac<Sha256> as KeyInit>::new_from_slice(app_secret).map_err(|_| SignatureError::NoSecret)
}

fn parse_header(header: &str) -> Result<[u8; DIGEST_BYTES], SignatureError> {
    let malformed = |problem| SignatureError::Malformed { problem };
    let digest = match (header.get(..PREFIX.len()), header.get(PREFIX.len()..)) {
        (Some(prefix), Some(digest)) if prefix.eq_ignore_ascii_case(PREFIX) => digest,
        _ => return Err(malformed(MalformedSignature::MissingPrefix)),
    };
    if digest.len() != DIGEST_BYTES * 2 {
        return Err(malformed(MalformedSignature::WrongLength {
            found: digest.len(),
        }));
    }
    let mut bytes = [0_u8; DIGEST_BYTES];
    hex::decode_to_slice(digest, &mut bytes).map_err(|_| malformed(MalformedSignature::NotHex))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"meta app secret";
    const BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;

    #[test]
    fn matches_the_rfc_4231_test_vector() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        let header = signature_header(b"Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            header,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            verify_signature(b"Jefe", Some(&header), b"what do ya want for nothing?"),
            Ok(())
        );
    }

    #[test]
    fn a_correct_signature_verifies_in_any_case_and_with_whitespace() {
        let header = signature_header(SECRET, BODY).unwrap();
        assert_eq!(verify_signature(SECRET, Some(&header), BODY), Ok(()));
        let upper = format!("SHA256={}", header[7..].to_ascii_uppercase());
        assert_eq!(verify_signature(SECRET, Some(&upper), BODY), Ok(()));
        let padded = format!("  {header}\t");
        assert_eq!(verify_signature(SECRET, Some(&padded), BODY), Ok(()));
    }

    #[test]
    fn missing_and_empty_headers_are_missing() {
        assert_eq!(
            verify_signature(SECRET, None, BODY),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(SECRET, Some(""), BODY),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify_signature(SECRET, Some("  "), BODY),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        let header = signature_header(SECRET, BODY).unwrap();
        let digest = &header[7..];
        let check = |value: &str| verify_signature(SECRET, Some(value), BODY);
        let malformed = |problem| Err(SignatureError::Malformed { problem });
        assert_eq!(check(digest), malformed(MalformedSignature::MissingPrefix));
        assert_eq!(
            check(&format!("sha1={digest}")),
            malformed(MalformedSignature::MissingPrefix)
        );
        assert_eq!(check("sha25"), malformed(MalformedSignature::MissingPrefix));
        assert_eq!(
            check("shaé=00"),
            malformed(MalformedSignature::MissingPrefix)
        );
        assert_eq!(
            check(&format!("sha256={}", &digest[..63])),
            malformed(MalformedSignature::WrongLength { found: 63 })
        );
        assert_eq!(
            check(&format!("sha256={digest}00")),
            malformed(MalformedSignature::WrongLength { found: 66 })
        );
        assert_eq!(
            check(&format!("sha256=zz{}", &digest[2..])),
            malformed(MalformedSignature::NotHex)
        );
        assert_eq!(
            check(&format!("sha256={}é", &digest[..62])),
            malformed(MalformedSignature::NotHex)
        );
    }

    #[test]
    fn a_different_body_or_secret_is_a_mismatch() {
        let header = signature_header(SECRET, BODY).unwrap();
        assert_eq!(
            verify_signature(SECRET, Some(&header), b"{}"),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b"other", Some(&header), BODY),
            Err(SignatureError::Mismatch)
        );
        let zeros = format!("sha256={}", "0".repeat(64));
        assert_eq!(
            verify_signature(SECRET, Some(&zeros), BODY),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn an_empty_secret_is_refused_both_ways() {
        assert_eq!(signature_header(b"", BODY), Err(SignatureError::NoSecret));
        let header = signature_header(SECRET, BODY).unwrap();
        assert_eq!(
            verify_signature(b"", Some(&header), BODY),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn every_error_is_a_401_with_an_actionable_message() {
        for error in [
            SignatureError::NoSecret,
            SignatureError::Missing,
            SignatureError::Malformed {
                problem: MalformedSignature::NotHex,
            },
            SignatureError::Mismatch,
        ] {
            assert_eq!(error.status(), 401);
            assert!(
                error.to_string().contains("X-Hub-Signature-256")
                    || error.to_string().contains("WHATSAPP_APP_SECRET")
            );
        }
    }
}
