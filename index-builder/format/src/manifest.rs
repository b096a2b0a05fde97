//! `manifest.json`: what an index was built from and how. Written by the builder inside the index
//! directory, read by every reader before it opens the index. The record of every indexed
//! document is in `documents.json` next to it ([`read_documents`]): readers that serve questions
//! never need it, and parsing it took a millisecond of every cold start for 1,600 documents.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::IndexError;
use crate::settings::DeploymentSettings;

/// Version of the schema, the analyzers and the index directory's layout. A reader refuses an
/// index built with another version. 2: the document records moved to `documents.json`. 3:
/// passage vectors (`vectors.bin`) and the model that made them (`embedding`). 4: Latin letters
/// without a Unicode decomposition (`đ`, `ł`, `ø`) are folded like accented ones.
pub const SCHEMA_VERSION: u32 = 4;

/// File name of the manifest inside the index directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// File name of the document records inside the index directory.
pub const DOCUMENTS_FILE: &str = "documents.json";

/// The manifest of one index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`SCHEMA_VERSION`] of the builder that wrote the index.
    pub schema_version: u32,
    /// The tool that built the index.
    pub builder: BuilderInfo,
    /// When the index was built (RFC 3339, UTC; `SOURCE_DATE_EPOCH` when set).
    pub built_at: String,
    /// SHA-256 over the corpus files in path order (see `docs/corpus-format.md`).
    pub corpus_hash: String,
    /// Settings from `corpus.toml`.
    pub settings: DeploymentSettings,
    /// Totals.
    pub counts: Counts,
    /// The distinct jurisdictions of the indexed documents, sorted.
    pub jurisdictions: Vec<String>,
    /// Files that were skipped or indexed with a problem.
    pub warnings: Vec<Warning>,
    /// The model that embedded the passages into `vectors.bin`; `None` for a lexical-only index.
    pub embedding: Option<crate::vectors::EmbeddingInfo>,
}

impl Manifest {
    /// The distinct jurisdictions of these documents, sorted (what [`Manifest::jurisdictions`]
    /// holds).
    pub fn jurisdictions_of(documents: &[DocumentRecord]) -> Vec<String> {
        let mut jurisdictions: Vec<String> = documents
            .iter()
            .filter_map(|document| document.jurisdiction.clone())
            .collect();
        jurisdictions.sort();
        jurisdictions.dedup();
        jurisdictions
    }

    /// The distinct languages of the indexed documents, sorted.
    pub fn languages(&self) -> Vec<String> {
        self.counts.documents_by_language.keys().cloned().collect()
    }

    /// Short corpus version shown in logs and reports: the first 12 hex digits of the hash.
    pub fn corpus_version(&self) -> &str {
        &self.corpus_hash[..self.corpus_hash.len().min(12)]
    }

    /// Reads `manifest.json` from an index directory.
    pub fn read(index_dir: &Path) -> Result<Manifest, IndexError> {
        let path = index_dir.join(MANIFEST_FILE);
        let bytes = std::fs::read(&path).map_err(|source| IndexError::ManifestUnreadable {
            path: path.clone(),
            source,
        })?;
        let manifest = serde_json::from_slice::<Manifest>(&bytes);
        // An index of another version may lack this version's fields: its version, read on its
        // own when the whole manifest does not parse, decides the error.
        #[derive(Deserialize)]
        struct Versioned {
            schema_version: u32,
        }
        let found = match &manifest {
            Ok(manifest) => manifest.schema_version,
            Err(_) => serde_json::from_slice::<Versioned>(&bytes)
                .map_or(SCHEMA_VERSION, |versioned| versioned.schema_version),
        };
        if found != SCHEMA_VERSION {
            return Err(IndexError::SchemaVersionMismatch {
                dir: index_dir.to_path_buf(),
                found,
                expected: SCHEMA_VERSION,
            });
        }
        manifest.map_err(|source| IndexError::ManifestInvalid { path, source })
    }
}

/// Reads `documents.json` from an index directory: one record per indexed document, in source
/// order.
pub fn read_documents(index_dir: &Path) -> Result<Vec<DocumentRecord>, IndexError> {
    let path = index_dir.join(DOCUMENTS_FILE);
    let bytes = std::fs::read(&path).map_err(|source| IndexError::ManifestUnreadable {
        path: path.clone(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| IndexError::ManifestInvalid { path, source })
}

/// Name and version of the builder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuilderInfo {
    /// The builder's crate name (`votecheck-index-builder`).
    pub name: String,
    /// Its version.
    pub version: String,
}

/// Totals over the corpus.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Documents indexed (a ClaimReview file counts once).
    pub documents: u64,
    /// Passages indexed, fact-checks included.
    pub passages: u64,
    /// Fact-check passages.
    pub fact_checks: u64,
    /// Passages per language tag.
    pub passages_by_language: BTreeMap<String, u64>,
    /// Documents per language tag.
    pub documents_by_language: BTreeMap<String, u64>,
    /// Documents per kind (`guide`, `faq`, `law`, `notice`, `fact_check`, `unspecified`).
    pub documents_by_kind: BTreeMap<String, u64>,
    /// Corpus bytes read.
    pub bytes: u64,
}

/// How a document's language was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LanguageOrigin {
    /// Declared by the document (front matter, `<html lang>`, `inLanguage`).
    Declared,
    /// Detected from the text.
    Detected,
    /// Taken from `corpus.toml` because detection found nothing.
    CorpusDefault,
}

/// One indexed document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// The document's source path.
    pub source: String,
    /// Its title.
    pub title: String,
    /// Its language (BCP 47).
    pub language: String,
    /// Where the language came from.
    pub language_origin: LanguageOrigin,
    /// `kind` from the front matter, lower case.
    pub kind: Option<String>,
    /// The jurisdiction the document applies to (its own or the corpus default).
    #[serde(default)]
    pub jurisdiction: Option<String>,
    /// How many passages it gave.
    pub passages: u64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// A problem with one corpus file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The file's source path.
    pub source: String,
    /// What is wrong, in words.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.message)
    }
}
