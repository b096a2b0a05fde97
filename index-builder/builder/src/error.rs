//! Errors of building an index.

use std::path::PathBuf;

use votecheck_index::manifest::Warning;

/// Why a build failed. The previous index, if any, is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read the corpus at {path}: {source}")]
    /// The corpus (or a file in it) cannot be read.
    CorpusUnreadable {
        /// The file or directory.
        path: PathBuf,
        #[source]
        /// Why.
        source: std::io::Error,
    },
    #[error("the corpus {0} is not a directory (give the folder that holds the documents)")]
    /// The corpus path is not a directory.
    CorpusNotADirectory(PathBuf),
    #[error("{path} is not valid: {reason}")]
    /// `corpus.toml` is not valid.
    InvalidSettings {
        /// The settings file.
        path: PathBuf,
        /// What is wrong in it.
        reason: String,
    },
    #[error(
        "the corpus {0} has no documents to index (supported: .md, .markdown, .html, .htm, .txt, .pdf, .json, .jsonld)"
    )]
    /// No document could be indexed.
    EmptyCorpus(PathBuf),
    #[error("{} problem(s) in the corpus and --strict is set:\n{}", .0.len(), render_warnings(.0))]
    /// `--strict` is set and the corpus has problems (all of them).
    Strict(Vec<Warning>),
    #[error(
        "refusing to replace {0}: it exists and is not a votecheck index (no manifest.json written by index-builder); choose another --out"
    )]
    /// `--out` holds something that is not a votecheck index.
    OutputNotAnIndex(PathBuf),
    #[error("cannot write the index at {path}: {source}")]
    /// Writing the index failed.
    Write {
        /// The file or directory being written.
        path: PathBuf,
        #[source]
        /// Why.
        source: std::io::Error,
    },
    #[error("{0}")]
    /// The encoder model cannot be opened.
    Model(String),
    #[error("embedding the passages failed: {0}")]
    /// The encoder failed on the passages.
    Embedding(String),
    #[error("indexing failed: {0}")]
    /// tantivy failed to write the index.
    Index(#[from] tantivy::TantivyError),
}

fn render_warnings(warnings: &[Warning]) -> String {
    warnings
        .iter()
        .map(|warning| format!("  {warning}"))
        .collect::<Vec<_>>()
        .join("\n")
}
