//! Errors of opening and reading an index.

use std::path::PathBuf;

/// Why an index could not be opened or searched.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(
        "cannot read the index manifest {path}: {source} (is this a votecheck index directory? build one with `index-builder build <CORPUS> --out <DIR>`)"
    )]
    /// `manifest.json` cannot be read.
    ManifestUnreadable {
        /// The manifest file.
        path: PathBuf,
        #[source]
        /// Why.
        source: std::io::Error,
    },
    #[error("the index manifest {path} is not valid: {source}")]
    /// `manifest.json` does not parse.
    ManifestInvalid {
        /// The manifest file.
        path: PathBuf,
        #[source]
        /// Where and why it does not parse.
        source: serde_json::Error,
    },
    #[error(
        "the index in {dir} was built with schema version {found}, but this program reads version {expected}: rebuild the index with this version's `index-builder`"
    )]
    /// The index was built with another schema version.
    SchemaVersionMismatch {
        /// The index directory.
        dir: PathBuf,
        /// The version in its manifest.
        found: u32,
        /// The version this reader needs.
        expected: u32,
    },
    #[error("cannot open the index in {dir}: {source}")]
    /// tantivy cannot open the index.
    Open {
        /// The index directory.
        dir: PathBuf,
        #[source]
        /// Why.
        source: tantivy::TantivyError,
    },
    #[error(
        "the passage vectors of the index in {dir} are not valid: {reason} (rebuild the index)"
    )]
    /// The passage vectors are missing or do not match the index.
    Vectors {
        /// The index directory.
        dir: PathBuf,
        /// What is wrong.
        reason: String,
    },
    #[error("search failed: {0}")]
    /// A search failed inside tantivy.
    Search(#[from] tantivy::TantivyError),
}
