//! The engine's data compiled ahead of time, so that a cold start only decodes it.
//!
//! The intent phrases (`data/intents/`), the lexicon (`data/lexicon/`), the other names of
//! jurisdictions (`data/jurisdictions.toml`) and the message catalogue (`data/messages/`) are
//! written as TOML for people; the engine needs them parsed, normalised and cut into units by the
//! language analyzers, which took most of a Lambda cold start (16 ms of 24–32). [`compile`] does that work and [`encode`] stores the
//! result as one postcard file, `data/compiled/engine-data.postcard`, committed next to its
//! sources and compiled into the binary; [`EngineData::bundled`] decodes it.
//!
//! The compiled file records a fingerprint of the TOML it came from. When the sources were edited
//! since (a developer tuning the lexicon), the fingerprints differ and the engine compiles the
//! sources instead, so it never runs on stale data; the test
//! `bundled_data_is_compiled_from_the_data_files` fails until the file is written again with
//! `VOTECHECK_UPDATE_ENGINE_DATA=1 cargo test -p votecheck-engine bundled_data`.

use serde::{Deserialize, Serialize};

use crate::EngineError;
use crate::catalogue::{Catalogue, LANGUAGE_NAMES, MESSAGE_FILES};
use crate::intent::{self, CompiledIntents, INTENT_FILES};
use crate::jurisdiction::{self, CompiledJurisdiction, JURISDICTIONS_FILE};
use crate::lexicon::{self, CompiledLanguage, LEXICON_FILES};

/// Where the compiled data lives, relative to the crate.
pub const COMPILED_PATH: &str = "data/compiled/engine-data.postcard";

/// The compiled data as committed.
const BUNDLED: &[u8] = include_bytes!("../data/compiled/engine-data.postcard");

/// The fingerprint of the data files compiled into this binary, computed by the compiler.
const SOURCES_FINGERPRINT: u64 = sources_fingerprint();

/// Everything [`compile`] produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineData {
    /// The fingerprint of the data files this was compiled from.
    pub sources_fingerprint: u64,
    /// The intent phrases.
    pub intents: CompiledIntents,
    /// The lexicon, per language.
    pub lexicon: Vec<CompiledLanguage>,
    /// The jurisdiction names.
    pub jurisdictions: Vec<CompiledJurisdiction>,
    /// The reply messages.
    pub catalogue: Catalogue,
}

impl EngineData {
    /// The compiled data bundled with the engine, or, when the data files changed since it was
    /// written, the data files compiled now.
    pub fn bundled() -> Result<Self, EngineError> {
        match decode(BUNDLED) {
            Ok(data) if data.sources_fingerprint == SOURCES_FINGERPRINT => Ok(data),
            _ => compile(),
        }
    }
}

/// Parses and normalises every data file.
pub fn compile() -> Result<EngineData, EngineError> {
    Ok(EngineData {
        sources_fingerprint: SOURCES_FINGERPRINT,
        intents: intent::compile()?,
        lexicon: lexicon::compile()?,
        jurisdictions: jurisdiction::compile()?,
        catalogue: Catalogue::compile()?,
    })
}

/// The bytes of `data/compiled/engine-data.postcard` for `data`.
pub fn encode(data: &EngineData) -> Vec<u8> {
    postcard::to_stdvec(data).expect("engine data is plain strings, numbers and lists")
}

/// Decodes compiled data.
pub fn decode(bytes: &[u8]) -> Result<EngineData, EngineError> {
    postcard::from_bytes(bytes).map_err(|error| EngineError::Data {
        file: COMPILED_PATH.to_string(),
        reason: error.to_string(),
    })
}

/// FNV-1a over every data file's language and text, in order.
const fn sources_fingerprint() -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let single: &[(&str, &str)] = &[
        ("jurisdictions", JURISDICTIONS_FILE),
        ("language-names", LANGUAGE_NAMES),
    ];
    let lists: [&[(&str, &str)]; 4] = [INTENT_FILES, LEXICON_FILES, MESSAGE_FILES, single];
    let mut list = 0;
    while list < lists.len() {
        let files = lists[list];
        let mut file = 0;
        while file < files.len() {
            hash = fnv1a(hash, files[file].0.as_bytes());
            hash = fnv1a(hash, files[file].1.as_bytes());
            file += 1;
        }
        list += 1;
    }
    hash
}

const fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut index = 0;
    while index < bytes.len() {
        hash ^= bytes[index] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        index += 1;
    }
    // A separator, so that ("ab", "c") and ("a", "bc") differ.
    hash ^= 0xff;
    hash.wrapping_mul(0x0100_0000_01b3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_data_is_compiled_from_the_data_files() {
        let compiled = encode(&compile().unwrap());
        if compiled == BUNDLED {
            return;
        }
        if std::env::var_os("VOTECHECK_UPDATE_ENGINE_DATA").is_some() {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMPILED_PATH);
            std::fs::write(&path, &compiled).unwrap();
            eprintln!("wrote {}", path.display());
            return;
        }
        panic!(
            "{COMPILED_PATH} is out of date with the data files (or the code that normalises \
             them): run `VOTECHECK_UPDATE_ENGINE_DATA=1 cargo test -p votecheck-engine \
             bundled_data` and commit the file"
        );
    }

    #[test]
    fn damaged_data_is_an_error_naming_the_file() {
        let mut bytes = encode(&compile().unwrap());
        bytes.truncate(bytes.len() / 2);
        let error = decode(&bytes).unwrap_err().to_string();
        assert!(error.contains(COMPILED_PATH), "{error}");
    }

    #[test]
    fn the_fingerprint_follows_every_byte_of_the_sources() {
        assert_ne!(fnv1a(0, b"ab"), fnv1a(0, b"ac"));
        assert_ne!(fnv1a(fnv1a(0, b"ab"), b"c"), fnv1a(fnv1a(0, b"a"), b"bc"));
    }
}
