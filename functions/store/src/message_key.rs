//! [`MessageKey`]: how the store names a WhatsApp message without holding its id.
//!
//! A WhatsApp message id (`wamid.HBgL…`) is base64 of a structure that contains the sender's
//! phone number: `wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUY3` decodes to bytes holding
//! `34600111222`. So a raw id is personal data, like the number itself. Everything that is
//! stored or shown (the dedupe claim, the query and feedback records, feedback button ids,
//! delivery failures, the local console) carries the message's key instead: the lower-case hex
//! HMAC-SHA256 of the id under the same secret salt as [`CitizenKey`](crate::CitizenKey), with a
//! label so that a message key can never equal a citizen key. The raw id stays in the process
//! that received it, only to quote the message in the reply and to mark it as read.
//!
//! The key is a fixed 64 characters whatever the id's length, so any id dedupes and no id is
//! ever echoed in an error or a log line.
//!
//! ```
//! use votecheck_store::MessageKey;
//! let key = MessageKey::derive(b"deployment secret salt", "wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUY3");
//! assert_eq!(key.as_str().len(), 64);
//! assert!(!key.as_str().contains("HBgL"));
//! assert!(MessageKey::parse(key.as_str()).is_some());
//! assert!(MessageKey::parse("wamid.HBgL").is_none());
//! ```

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Separates message keys from citizen keys derived under the same salt.
const LABEL: &[u8] = b"votecheck message id\0";

/// A message's key: hex HMAC-SHA256(salt, label ‖ WhatsApp message id). Never the id in clear.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageKey(String);

impl MessageKey {
    /// Derives the key of a WhatsApp message id under the deployment's secret salt. Any string
    /// gives a key, however long or strange: validation happens on the key, never on the id.
    pub fn derive(salt: &[u8], message_id: &str) -> Self {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(salt)
            .expect("HMAC accepts keys of any length");
        mac.update(LABEL);
        mac.update(message_id.as_bytes());
        MessageKey(hex::encode(mac.finalize().into_bytes()))
    }

    /// Reads a key back (from a feedback button id, from storage): 64 lower-case hex digits, or
    /// `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = text.len() == 64
            && text
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        valid.then(|| MessageKey(text.to_owned()))
    }

    /// The hex digest, as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for MessageKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::fmt::Debug for MessageKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "MessageKey({}…)", &self.0[..12])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CitizenKey;

    #[test]
    fn derive_is_stable_keyed_and_distinct_from_citizen_keys() {
        let id = "wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUY3";
        let key = MessageKey::derive(b"salt", id);
        assert_eq!(key, MessageKey::derive(b"salt", id));
        assert_ne!(key, MessageKey::derive(b"other salt", id));
        assert_ne!(key.as_str(), CitizenKey::derive(b"salt", id).as_str());
        assert!(!format!("{key} {key:?}").contains("HBgL"));
    }

    #[test]
    fn any_id_gives_a_valid_key() {
        for id in ["", "x", &"w".repeat(10_000), "wamid.\u{0}\n"] {
            let key = MessageKey::derive(b"salt", id);
            assert_eq!(MessageKey::parse(key.as_str()), Some(key));
        }
        assert_eq!(MessageKey::parse(&"A".repeat(64)), None);
    }
}
