//! Request body decoding: from what the platform hands over to the exact bytes Meta signed.
//!
//! Lambda Function URLs (API Gateway payload v2) pass the body as a string with an
//! `isBase64Encoded` flag. [`decode_body`] turns it into the raw bytes that the signature check
//! and the parser need, with a size limit ([`MAX_BODY_BYTES`], 1 MiB, checked before decoding
//! and again after) and without any API that panics on bad input: base64 goes through the
//! `base64` crate's fallible `decode`.
//!
//! | error | HTTP status |
//! |---|---|
//! | [`BodyError::TooLarge`] | `413` |
//! | [`BodyError::InvalidBase64`] | `400` |
//!
//! ```
//! use votecheck_whatsapp::{decode_body, BodyError, MAX_BODY_BYTES};
//!
//! assert_eq!(decode_body("e30=", true, MAX_BODY_BYTES)?, b"{}");
//! assert_eq!(decode_body("{}", false, MAX_BODY_BYTES)?, b"{}");
//! assert_eq!(decode_body("e30", true, 1).unwrap_err().status(), 413);
//! assert_eq!(decode_body("not base64!", true, MAX_BODY_BYTES).unwrap_err().status(), 400);
//! # Ok::<(), BodyError>(())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;

/// The largest webhook body accepted, decoded: 1 MiB. Meta's webhooks are a few kilobytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Why a request body was refused before it reached the signature check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is over the limit (`413`).
    #[error(
        "the request body is too large: {size} bytes{encoded} where at most {limit} bytes are accepted"
    )]
    TooLarge {
        /// The size seen, in bytes (of the encoded text when the check happened before decoding).
        size: usize,
        /// The limit, in decoded bytes.
        limit: usize,
        /// `" (base64-encoded)"` when `size` is the encoded size, empty otherwise.
        encoded: &'static str,
    },
    /// The platform said the body is base64 but it is not (`400`).
    #[error("the request body is flagged as base64 but does not decode: {reason}")]
    InvalidBase64 {
        /// The decoder's message (a byte offset and value, never the body).
        reason: String,
    },
}

impl BodyError {
    /// The HTTP status to answer: `413` or `400`.
    pub fn status(&self) -> u16 {
        match self {
            BodyError::TooLarge { .. } => 413,
            BodyError::InvalidBase64 { .. } => 400,
        }
    }
}

/// Returns the raw body bytes, base64-decoding them first when `is_base64_encoded`, or an error
/// when the body is over `max_bytes` or is not valid base64. Padding (`=`) is optional; the
/// standard alphabet is expected. Never panics.
pub fn decode_body(
    body: impl AsRef<[u8]>,
    is_base64_encoded: bool,
    max_bytes: usize,
) -> Result<Vec<u8>, BodyError> {
    let body = body.as_ref();
    if !is_base64_encoded {
        if body.len() > max_bytes {
            return Err(BodyError::TooLarge {
                size: body.len(),
                limit: max_bytes,
                encoded: "",
            });
        }
        return Ok(body.to_vec());
    }
    if body.len() > max_encoded_len(max_bytes) {
        return Err(BodyError::TooLarge {
            size: body.len(),
            limit: max_bytes,
            encoded: " (base64-encoded)",
        });
    }
    let decoded =
        STANDARD_PAD_INDIFFERENT
            .decode(body)
            .map_err(|error| BodyError::InvalidBase64 {
                reason: error.to_string(),
            })?;
    if decoded.len() > max_bytes {
        return Err(BodyError::TooLarge {
            size: decoded.len(),
            limit: max_bytes,
            encoded: "",
        });
    }
    Ok(decoded)
}

/// The longest base64 text (padded) whose decoding can fit in `max_bytes`.
fn max_encoded_len(max_bytes: usize) -> usize {
    max_bytes.div_ceil(3).saturating_mul(4)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    #[test]
    fn plain_bodies_are_returned_unchanged() {
        let body = r#"{"object":"whatsapp_business_account"}"#;
        assert_eq!(
            decode_body(body, false, MAX_BODY_BYTES).unwrap(),
            body.as_bytes()
        );
        assert_eq!(decode_body("", false, 0).unwrap(), b"");
        // Not base64-flagged: base64-looking text stays as it is.
        assert_eq!(decode_body("e30=", false, 10).unwrap(), b"e30=");
    }

    #[test]
    fn base64_bodies_are_decoded_with_or_without_padding() {
        let raw = "{\"é\":[1,2,3]}\n".as_bytes();
        let encoded = STANDARD.encode(raw);
        assert_eq!(decode_body(&encoded, true, MAX_BODY_BYTES).unwrap(), raw);
        let unpadded = encoded.trim_end_matches('=');
        assert_eq!(decode_body(unpadded, true, MAX_BODY_BYTES).unwrap(), raw);
        assert_eq!(decode_body("", true, 0).unwrap(), b"");
    }

    #[test]
    fn invalid_base64_is_a_400_that_does_not_echo_the_body() {
        for bad in [
            "not base64!",
            "e30=e30=",
            "e",
            "e30=\n",
            "é",
            "c2VjcmV0IHRleHQ*",
        ] {
            let error = decode_body(bad, true, MAX_BODY_BYTES).unwrap_err();
            assert!(matches!(error, BodyError::InvalidBase64 { .. }), "{bad:?}");
            assert_eq!(error.status(), 400);
            if bad.len() > 4 {
                assert!(!error.to_string().contains(bad), "{error}");
            }
        }
    }

    #[test]
    fn the_limit_applies_to_plain_bodies() {
        assert!(decode_body(vec![b'x'; 10], false, 10).is_ok());
        let error = decode_body(vec![b'x'; 11], false, 10).unwrap_err();
        assert_eq!(
            error,
            BodyError::TooLarge {
                size: 11,
                limit: 10,
                encoded: ""
            }
        );
        assert_eq!(error.status(), 413);
    }

    #[test]
    fn the_limit_applies_to_decoded_size_exactly() {
        for limit in 0..20 {
            for size in 0..25 {
                let encoded = STANDARD.encode(vec![7_u8; size]);
                let result = decode_body(&encoded, true, limit);
                if size <= limit {
                    assert_eq!(result.unwrap().len(), size, "size {size}, limit {limit}");
                } else {
                    assert_eq!(
                        result.unwrap_err().status(),
                        413,
                        "size {size}, limit {limit}"
                    );
                }
            }
        }
    }

    #[test]
    fn oversized_base64_is_refused_before_decoding() {
        let huge = "A".repeat(max_encoded_len(MAX_BODY_BYTES) + 4);
        assert_eq!(
            decode_body(&huge, true, MAX_BODY_BYTES),
            Err(BodyError::TooLarge {
                size: huge.len(),
                limit: MAX_BODY_BYTES,
                encoded: " (base64-encoded)"
            })
        );
        // Even when it is not valid base64: size is checked first.
        let junk = "!".repeat(max_encoded_len(16) + 1);
        assert_eq!(decode_body(&junk, true, 16).unwrap_err().status(), 413);
    }

    #[test]
    fn an_enormous_limit_does_not_overflow() {
        assert_eq!(max_encoded_len(usize::MAX), usize::MAX);
        assert_eq!(decode_body("e30=", true, usize::MAX).unwrap(), b"{}");
    }
}
