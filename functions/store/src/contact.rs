//! Sealed contact addresses: how the store keeps the WhatsApp address an alert must be sent to
//! without holding a phone number in clear.
//!
//! Sending an alert needs the subscriber's WhatsApp id (their phone number, or their
//! business-scoped user id), but the store names citizens only by a keyed hash. So the address a
//! subscription is sent to is kept **sealed**: AES-256-GCM under a key derived from the
//! deployment's secret id salt (HMAC-SHA256 of the salt with a label, so the key is never the salt
//! and never equals a citizen or message key), with a fresh random 96-bit nonce per seal. The
//! stored text is `v1.` and the base64url of nonce ‖ ciphertext ‖ tag; it reveals nothing but
//! its length, and opening it needs the salt, which lives in the deployment's secrets (SSM), not
//! in the table. Deleting the subscription (stop, delete-my-data) deletes the address.
//!
//! ```
//! use votecheck_store::contact::{ContactAddress, ContactSealer};
//!
//! let sealer = ContactSealer::from_salt(b"deployment secret salt");
//! let address = ContactAddress::PhoneNumber("34600111222".into());
//! let sealed = sealer.seal(&address).unwrap();
//! assert!(!sealed.as_str().contains("34600111222"));
//! assert_eq!(sealer.open(&sealed).unwrap(), address);
//! assert!(ContactSealer::from_salt(b"another salt").open(&sealed).is_err());
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::StoreError;

/// Separates the sealing key from every other value derived from the salt.
const KEY_LABEL: &[u8] = b"votecheck contact sealing key v1\0";
/// Bound into every seal, so a sealed address cannot pass for any other sealed value.
const ASSOCIATED_DATA: &[u8] = b"votecheck contact v1";
/// The format's version prefix.
const PREFIX: &str = "v1.";

/// Where a WhatsApp message reaches a citizen. `Debug` hides the identifier.
#[derive(Clone, PartialEq, Eq)]
pub enum ContactAddress {
    /// A phone-number WhatsApp id (`wa_id`).
    PhoneNumber(String),
    /// A business-scoped user id.
    BusinessScopedUserId(String),
}

impl std::fmt::Debug for ContactAddress {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContactAddress::PhoneNumber(_) => formatter.write_str("PhoneNumber(<redacted>)"),
            ContactAddress::BusinessScopedUserId(_) => {
                formatter.write_str("BusinessScopedUserId(<redacted>)")
            }
        }
    }
}

/// A sealed [`ContactAddress`], as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SealedContact(String);

impl SealedContact {
    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A sealed contact read back from storage (checked when opened).
    pub fn from_stored(text: impl Into<String>) -> Self {
        SealedContact(text.into())
    }
}

/// Seals and opens contact addresses under the deployment's key.
pub struct ContactSealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for ContactSealer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ContactSealer(<key redacted>)")
    }
}

impl ContactSealer {
    /// The sealer of a deployment: its key is HMAC-SHA256(salt, label).
    pub fn from_salt(salt: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(salt)
            .expect("HMAC accepts keys of any length");
        mac.update(KEY_LABEL);
        let key_bytes = mac.finalize().into_bytes();
        let key = UnboundKey::new(&AES_256_GCM, &key_bytes)
            .expect("HMAC-SHA256 gives the 32 bytes AES-256 needs");
        ContactSealer {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        }
    }

    /// Seals an address (a fresh nonce each time: two seals of one address differ).
    pub fn seal(&self, address: &ContactAddress) -> Result<SealedContact, StoreError> {
        let failed = |what: &str| StoreError::InvalidInput {
            what: "contact address",
            input: String::new(),
            expected: format!("an address that can be sealed ({what})"),
        };
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| failed("no randomness from the system"))?;
        let mut data = match address {
            ContactAddress::PhoneNumber(id) => format!("p:{id}"),
            ContactAddress::BusinessScopedUserId(id) => format!("b:{id}"),
        }
        .into_bytes();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(ASSOCIATED_DATA),
                &mut data,
            )
            .map_err(|_| failed("sealing failed"))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&data);
        Ok(SealedContact(format!(
            "{PREFIX}{}",
            URL_SAFE_NO_PAD.encode(sealed)
        )))
    }

    /// Opens a sealed address; fails on anything this deployment did not seal (another key, a
    /// changed byte, another format), naming nothing of the content.
    pub fn open(&self, sealed: &SealedContact) -> Result<ContactAddress, StoreError> {
        let refused = || StoreError::InvalidInput {
            what: "sealed contact",
            input: String::new(),
            expected: "an address sealed under this deployment's key".to_owned(),
        };
        let bytes = sealed
            .0
            .strip_prefix(PREFIX)
            .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
            .filter(|bytes| bytes.len() > NONCE_LEN)
            .ok_or_else(refused)?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
        let mut data = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(ASSOCIATED_DATA), &mut data)
            .map_err(|_| refused())?;
        let plain = std::str::from_utf8(plain).map_err(|_| refused())?;
        match plain.split_once(':') {
            Some(("p", id)) if !id.is_empty() => Ok(ContactAddress::PhoneNumber(id.to_owned())),
            Some(("b", id)) if !id.is_empty() => {
                Ok(ContactAddress::BusinessScopedUserId(id.to_owned()))
            }
            _ => Err(refused()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_round_trip_differ_each_time_and_hide_the_address() {
        let sealer = ContactSealer::from_salt(b"salt");
        for address in [
            ContactAddress::PhoneNumber("15550101234".into()),
            ContactAddress::BusinessScopedUserId("US.13491208655302741918".into()),
        ] {
            let first = sealer.seal(&address).unwrap();
            let second = sealer.seal(&address).unwrap();
            assert_ne!(first, second, "a fresh nonce each time");
            assert_eq!(sealer.open(&first).unwrap(), address);
            assert_eq!(sealer.open(&second).unwrap(), address);
            for secret in ["15550101234", "13491208655302741918"] {
                assert!(!first.as_str().contains(secret));
            }
            assert!(!format!("{address:?}").contains("1555"));
        }
    }

    #[test]
    fn anything_else_is_refused_without_echoing_it() {
        let sealer = ContactSealer::from_salt(b"salt");
        let sealed = sealer
            .seal(&ContactAddress::PhoneNumber("15550101234".into()))
            .unwrap();
        let mut tampered = sealed.as_str().to_owned();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        for bad in [
            SealedContact::from_stored(tampered),
            SealedContact::from_stored("v1."),
            SealedContact::from_stored("15550101234"),
            SealedContact::from_stored(sealed.as_str().replacen("v1.", "v2.", 1)),
        ] {
            let error = sealer.open(&bad).unwrap_err();
            assert!(!error.to_string().contains("1555"), "{error}");
        }
        assert!(ContactSealer::from_salt(b"other").open(&sealed).is_err());
        assert!(!format!("{sealer:?}").contains("salt"));
    }
}
