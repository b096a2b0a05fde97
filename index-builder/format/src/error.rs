//! Errors of opening and reading an index.

use std::path::PathBuf;

/// Why an index could not be opened or searched.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(
        "cannot read the index manifest {path}: {source} (is this a votecheck index directory? build one with `index-builder build <CORPUS> --out <DIR>`)"
    )]
    ManifestUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the index manifest {path} is not valid: {source}")]
    ManifestInvalid {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "the index in {dir} was built with schema version {found}, but this program reads version {expected}: rebuild the index with this version's `index-builder`"
    )]
    SchemaVersionMismatch {
        dir: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("cannot open the index in {dir}: {source}")]
    Open {
        dir: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error(
        "the passage vectors of the index in {dir} are not valid: {reason} (rebuild the index)"
    )]
    Vectors { dir: PathBuf, reason: String },
    #[error("search failed: {0}")]
    Search(#[from] tantivy::TantivyError),
}
