//! [`CitizenKey`]: how the store names a citizen without ever holding their number.
//!
//! The key is the lower-case hex HMAC-SHA256 of the WhatsApp user id (the phone number, or the
//! business-scoped user id) under a secret salt from the deployment's configuration. The same
//! number always gives the same key under the same salt, so the store can dedupe, rate-limit and
//! delete per citizen; without the salt the key cannot be reversed or recomputed from a number.
//!
//! ```
//! use votecheck_store::CitizenKey;
//! let key = CitizenKey::derive(b"deployment secret salt", "34600111222");
//! assert_eq!(key.as_str().len(), 64);
//! assert!(!key.to_string().contains("34600111222"));
//! ```

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::StoreError;

/// A citizen's key: hex HMAC-SHA256(salt, WhatsApp user id). Never the number in clear.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CitizenKey(String);

impl CitizenKey {
    /// Derives the key of a WhatsApp user id under the deployment's secret salt.
    ///
    /// Leading `+`, spaces and dashes are ignored, so `+34 600-111-222` and `34600111222` (the form
    /// the WhatsApp Cloud API sends) give the same key.
    pub fn derive(salt: &[u8], user_id: &str) -> Self {
        let canonical: String = user_id
            .trim()
            .trim_start_matches('+')
            .chars()
            .filter(|character| !matches!(character, ' ' | '-'))
            .collect();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(salt)
            .expect("HMAC accepts keys of any length");
        mac.update(canonical.as_bytes());
        CitizenKey(hex::encode(mac.finalize().into_bytes()))
    }

    /// Rebuilds a key read back from storage: 64 lower-case hex digits.
    pub fn from_stored(stored: &str) -> Result<Self, StoreError> {
        let valid = stored.len() == 64
            && stored
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if valid {
            Ok(CitizenKey(stored.to_owned()))
        } else {
            Err(StoreError::InvalidInput {
                what: "citizen key",
                input: stored.chars().take(80).collect(),
                expected: "64 lower-case hex digits (an HMAC-SHA256)".to_owned(),
            })
        }
    }

    /// The hex digest, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short prefix for logs and reports: enough to correlate lines, useless to identify anyone.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

impl std::fmt::Display for CitizenKey {
    /// Prints the hex digest (never the user id it was derived from).
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::fmt::Debug for CitizenKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "CitizenKey({}…)", self.short())
    }
}

impl TryFrom<String> for CitizenKey {
    type Error = StoreError;

    fn try_from(stored: String) -> Result<Self, Self::Error> {
        CitizenKey::from_stored(&stored)
    }
}

impl From<CitizenKey> for String {
    fn from(key: CitizenKey) -> Self {
        key.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derive_is_stable_keyed_and_hides_the_number() {
        let first = CitizenKey::derive(b"salt-one", "34600111222");
        assert_eq!(first, CitizenKey::derive(b"salt-one", "+34 600-111-222"));
        assert_ne!(first, CitizenKey::derive(b"salt-two", "34600111222"));
        assert_ne!(first, CitizenKey::derive(b"salt-one", "34600111223"));
        assert_eq!(first.as_str().len(), 64);
        assert!(!format!("{first} {first:?}").contains("34600111222"));
    }

    #[test]
    fn derive_matches_the_hmac_sha256_test_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let key = CitizenKey::derive(b"Jefe", "what do ya want for nothing?");
        // The canonical form drops spaces, so compute the vector for the canonical data instead.
        let expected = {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
            mac.update(b"whatdoyawantfornothing?");
            hex::encode(mac.finalize().into_bytes())
        };
        assert_eq!(key.as_str(), expected);
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn from_stored_accepts_only_digests() {
        let key = CitizenKey::derive(b"salt", "1");
        assert_eq!(CitizenKey::from_stored(key.as_str()).unwrap(), key);
        assert!(CitizenKey::from_stored("34600111222").is_err());
        assert!(CitizenKey::from_stored(&key.as_str().to_uppercase()).is_err());
    }
}
