//! Errors of building an index.

use std::path::PathBuf;

use votecheck_index::manifest::Warning;

/// Why a build failed. The previous index, if any, is untouched in every case.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read the corpus at {path}: {source}")]
    CorpusUnreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the corpus {0} is not a directory (give the folder that holds the documents)")]
    CorpusNotADirectory(PathBuf),
    #[error("{path} is not valid: {reason}")]
    InvalidSettings { path: PathBuf, reason: String },
    #[error(
        "the corpus {0} has no documents to index (supported: .md, .markdown, .html, .htm, .txt, .pdf, .json, .jsonld)"
    )]
    EmptyCorpus(PathBuf),
    #[error("{} problem(s) in the corpus and --strict is set:\n{}", .0.len(), render_warnings(.0))]
    Strict(Vec<Warning>),
    #[error(
        "refusing to replace {0}: it exists and is not a votecheck index (no manifest.json written by index-builder); choose another --out"
    )]
    OutputNotAnIndex(PathBuf),
    #[error("cannot write the index at {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Model(String),
    #[error("embedding the passages failed: {0}")]
    Embedding(String),
    #[error("indexing failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

fn render_warnings(warnings: &[Warning]) -> String {
    warnings
        .iter()
        .map(|warning| format!("  {warning}"))
        .collect::<Vec<_>>()
        .join("\n")
}
