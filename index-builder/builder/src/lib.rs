//! # votecheck-index-builder
//!
//! Turns an election authority's documents into a votecheck index (see `docs/corpus-format.md`
//! for the corpus format). The pipeline, one module per step:
//!
//! - [`corpus`]: list the documents of a corpus in a stable order, read `corpus.toml`, hash it;
//! - [`formats`]: parse each file by extension (Markdown with front matter, HTML, text, PDF,
//!   ClaimReview JSON) into a [`document::ProseDocument`] or fact-checks;
//! - [`chunking`]: cut sections into passages and give them stable ids;
//! - [`embedding`]: embed every passage with the sentence encoder, through a cache;
//! - [`build`]: write the tantivy index, the passage vectors and `manifest.json` into a staging
//!   directory;
//! - [`publish`]: swap the staged index in only when the build succeeded;
//! - [`web_url`]: which addresses from the corpus may reach citizens (`http`/`https` only).
//!
//! The index format itself (schema, analyzers, manifest, reader) lives in `votecheck-index`, which
//! the Lambda links without any of the parsers here.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod build;
pub mod chunking;
pub mod corpus;
pub mod document;
pub mod embedding;
pub mod error;
pub mod formats;
pub mod front_matter;
pub mod publish;
pub mod web_url;

pub use build::{BuildOptions, BuildProgress, BuildReport, build_index};
pub use embedding::{EmbeddingOptions, default_cache_dir};
pub use error::BuildError;
