//! Building an index from a corpus: read every document, cut it into passages, write the tantivy
//! index and `manifest.json` into a staging directory, and publish it only when all went well.
//!
//! ```no_run
//! use votecheck_index_builder::{BuildOptions, build_index};
//! let report = build_index("samples/corpus".as_ref(), "target/sample-index".as_ref(), &BuildOptions::default(), &mut |_| {})?;
//! println!("{} passages", report.manifest.counts.passages);
//! # Ok::<(), votecheck_index_builder::BuildError>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use tantivy::Index;
use tantivy::tokenizer::TokenizerManager;

use crate::chunking::{ChunkLimits, chunk_sections, passage_id};
use crate::corpus::{CorpusHasher, list_documents, read_settings};
use crate::document::{ClaimReviewItem, DocumentMetadata, ParsedFile, ProseDocument};
use crate::error::BuildError;
use crate::formats::{self, Format};
use crate::publish::{StagingDirectory, check_destination};
use votecheck_index::analysis::register_analyzers;
use votecheck_index::language::detect;
use votecheck_index::manifest::{
    BuilderInfo, Counts, DocumentRecord, LanguageOrigin, MANIFEST_FILE, Warning,
};
use votecheck_index::{
    DeploymentSettings, IndexSchema, Manifest, Passage, PassageKind, SCHEMA_VERSION,
};

/// How to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Fail on any warning instead of skipping the file.
    pub strict: bool,
    /// Passage size limits.
    pub limits: ChunkLimits,
}

/// Progress of a build, for a progress bar.
#[derive(Debug, Clone)]
pub enum BuildProgress<'a> {
    /// The corpus has this many files.
    Started { files: usize },
    /// One file was read.
    FileDone { source: &'a str },
    /// Writing the index.
    Indexing { passages: usize },
}

/// The outcome of a successful build.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The manifest written into the index.
    pub manifest: Manifest,
    /// Wall time of the build.
    pub elapsed: Duration,
}

/// Builds the index of `corpus` and publishes it at `out`.
pub fn build_index(
    corpus: &Path,
    out: &Path,
    options: &BuildOptions,
    progress: &mut dyn FnMut(BuildProgress<'_>),
) -> Result<BuildReport, BuildError> {
    let started = Instant::now();
    check_destination(out)?;
    let (settings, settings_bytes) = read_settings(corpus)?;
    let files = list_documents(corpus)?;
    if files.is_empty() {
        return Err(BuildError::EmptyCorpus(corpus.to_path_buf()));
    }
    progress(BuildProgress::Started { files: files.len() });

    let mut hasher = CorpusHasher::default();
    if let Some(bytes) = &settings_bytes {
        hasher.add(crate::corpus::SETTINGS_FILE, bytes);
    }
    let mut collected = Collected::default();
    for file in &files {
        match std::fs::read(&file.path) {
            Ok(bytes) => {
                hasher.add(&file.source, &bytes);
                collected.add_file(&file.source, &bytes, &settings, options.limits);
            }
            Err(error) => collected.warn(&file.source, format!("cannot be read: {error}")),
        }
        progress(BuildProgress::FileDone {
            source: &file.source,
        });
    }
    if options.strict && !collected.warnings.is_empty() {
        return Err(BuildError::Strict(collected.warnings));
    }
    if collected.passages.is_empty() {
        return Err(BuildError::EmptyCorpus(corpus.to_path_buf()));
    }

    progress(BuildProgress::Indexing {
        passages: collected.passages.len(),
    });
    let manifest = Manifest {
        schema_version: SCHEMA_VERSION,
        builder: BuilderInfo {
            name: env!("CARGO_PKG_NAME").to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        },
        built_at: build_time(),
        corpus_hash: hasher.finish(),
        counts: collected.counts(),
        settings,
        documents: collected.documents,
        warnings: collected.warnings,
    };
    let staging = StagingDirectory::create(out)?;
    write_index(staging.path(), &collected.passages)?;
    let manifest_json = serde_json::to_vec_pretty(&manifest).expect("a manifest always serialises");
    let manifest_path = staging.path().join(MANIFEST_FILE);
    std::fs::write(&manifest_path, manifest_json).map_err(|source| BuildError::Write {
        path: manifest_path,
        source,
    })?;
    staging.publish(out)?;
    Ok(BuildReport {
        manifest,
        elapsed: started.elapsed(),
    })
}

/// The build time: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now; to the second.
fn build_time() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|value| value.trim().parse::<i64>().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_second());
    jiff::Timestamp::from_second(seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string()
}

fn write_index(dir: &Path, passages: &[Passage]) -> Result<(), BuildError> {
    let schema = IndexSchema::new();
    let mut index = Index::create_in_dir(dir, schema.schema.clone())?;
    let tokenizers = TokenizerManager::default();
    register_analyzers(&tokenizers);
    index.set_tokenizers(tokenizers);
    // One indexing thread keeps document order, and so the index, the same from run to run.
    let mut writer =
        index.writer_with_num_threads::<tantivy::TantivyDocument>(1, 64 * 1024 * 1024)?;
    for passage in passages {
        writer.add_document(schema.to_document(passage))?;
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    Ok(())
}

/// Everything gathered from the corpus files.
#[derive(Default)]
struct Collected {
    passages: Vec<Passage>,
    documents: Vec<DocumentRecord>,
    warnings: Vec<Warning>,
    bytes: u64,
}

impl Collected {
    fn warn(&mut self, source: &str, message: String) {
        self.warnings.push(Warning {
            source: source.to_string(),
            message,
        });
    }

    fn add_file(
        &mut self,
        source: &str,
        bytes: &[u8],
        settings: &DeploymentSettings,
        limits: ChunkLimits,
    ) {
        self.bytes += bytes.len() as u64;
        let Some(format) = Format::of(source) else {
            self.warn(
                source,
                "unknown file type (supported: .md, .markdown, .html, .htm, .txt, .pdf, .json, .jsonld); skipped".to_string(),
            );
            return;
        };
        let parsed = match formats::parse(format, bytes) {
            Ok(parsed) => parsed,
            Err(reason) => {
                self.warn(source, format!("{reason}; skipped"));
                return;
            }
        };
        for warning in parsed.warnings {
            self.warn(source, warning);
        }
        let before = self.passages.len();
        let (title, language, origin, kind) = match parsed.file {
            ParsedFile::Prose(document) => self.add_prose(source, document, settings, limits),
            ParsedFile::FactChecks(items) => self.add_fact_checks(source, items, settings),
        };
        let jurisdiction = self.passages[before..]
            .first()
            .and_then(|passage| passage.jurisdiction.clone());
        let passages = (self.passages.len() - before) as u64;
        if passages == 0 {
            self.warn(source, "has no text to index; skipped".to_string());
            return;
        }
        self.documents.push(DocumentRecord {
            source: source.to_string(),
            title,
            language,
            language_origin: origin,
            kind,
            jurisdiction,
            passages,
            bytes: bytes.len() as u64,
        });
    }

    fn add_prose(
        &mut self,
        source: &str,
        document: ProseDocument,
        settings: &DeploymentSettings,
        limits: ChunkLimits,
    ) -> (String, String, LanguageOrigin, Option<String>) {
        let title = document
            .metadata
            .title
            .clone()
            .or_else(|| document.first_level_one_heading().map(str::to_string))
            .unwrap_or_else(|| title_from_file_name(source));
        let sample = format!("{title}\n{}", document.sample_text(4000));
        let (language, origin) = self.resolve_language(
            source,
            document.metadata.language.clone(),
            &sample,
            settings,
        );
        let metadata = with_defaults(document.metadata, settings);
        for (position, chunk) in chunk_sections(&title, &document.sections, limits)
            .into_iter()
            .enumerate()
        {
            let url = metadata
                .source_url
                .as_ref()
                .map(|base| match &chunk.anchor {
                    Some(anchor) => format!("{}#{anchor}", base.split('#').next().unwrap_or(base)),
                    None => base.clone(),
                });
            self.passages.push(Passage {
                passage_id: passage_id(source, &chunk.section, chunk.index_in_section),
                kind: PassageKind::Passage,
                source: source.to_string(),
                section: chunk.section,
                title: title.clone(),
                url,
                language: language.clone(),
                jurisdiction: metadata.jurisdiction.clone(),
                authority: metadata.authority.clone(),
                document_kind: metadata.kind.clone(),
                published: metadata.published.clone(),
                updated: metadata.updated.clone(),
                position: position as u64,
                text: chunk.text,
                claim_review: None,
            });
        }
        (title, language, origin, metadata.kind)
    }

    fn add_fact_checks(
        &mut self,
        source: &str,
        items: Vec<ClaimReviewItem>,
        settings: &DeploymentSettings,
    ) -> (String, String, LanguageOrigin, Option<String>) {
        let mut first_language = None;
        let mut title = None;
        for (position, item) in items.into_iter().enumerate() {
            let heading = item
                .review
                .headline
                .clone()
                .unwrap_or_else(|| shorten(&item.review.claim, 120));
            let sample = format!("{}\n{}", item.review.claim, item.body);
            let (language, origin) =
                self.resolve_language(source, item.language.clone(), &sample, settings);
            first_language.get_or_insert((language.clone(), origin));
            title.get_or_insert_with(|| heading.clone());
            let section = heading.clone();
            let text = if item.body.trim().is_empty() {
                item.review.claim.clone()
            } else {
                item.body.clone()
            };
            self.passages.push(Passage {
                passage_id: passage_id(source, &section, position),
                kind: PassageKind::FactCheck,
                source: source.to_string(),
                section,
                title: heading,
                url: item.review.url.clone(),
                language,
                jurisdiction: settings.defaults.jurisdiction.clone(),
                authority: item
                    .review
                    .checked_by
                    .clone()
                    .or_else(|| settings.defaults.authority.clone()),
                document_kind: Some("fact_check".to_string()),
                published: item.review.date_published.clone(),
                updated: None,
                position: position as u64,
                text,
                claim_review: Some(item.review),
            });
        }
        let (language, origin) =
            first_language.unwrap_or(("und".to_string(), LanguageOrigin::CorpusDefault));
        (
            title.unwrap_or_else(|| title_from_file_name(source)),
            language,
            origin,
            Some("fact_check".to_string()),
        )
    }

    /// Declared language, else detected, else the corpus default (see `docs/corpus-format.md`).
    fn resolve_language(
        &mut self,
        source: &str,
        declared: Option<String>,
        sample: &str,
        settings: &DeploymentSettings,
    ) -> (String, LanguageOrigin) {
        if let Some(language) = declared {
            return (language, LanguageOrigin::Declared);
        }
        let detection = detect(sample);
        let default = settings.defaults.language.clone();
        match (detection, default) {
            (Some(found), _) if found.reliable => (found.tag, LanguageOrigin::Detected),
            (_, Some(default)) => (default, LanguageOrigin::CorpusDefault),
            (Some(found), None) => {
                self.warn(
                    source,
                    format!(
                        "language detected as `{}` with low confidence ({:.2}); declare `language` to be sure",
                        found.tag, found.confidence
                    ),
                );
                (found.tag, LanguageOrigin::Detected)
            }
            (None, None) => {
                self.warn(
                    source,
                    "no language declared or detectable; indexed as `und`".to_string(),
                );
                ("und".to_string(), LanguageOrigin::CorpusDefault)
            }
        }
    }

    fn counts(&self) -> Counts {
        let mut counts = Counts {
            documents: self.documents.len() as u64,
            passages: self.passages.len() as u64,
            bytes: self.bytes,
            ..Counts::default()
        };
        for passage in &self.passages {
            *counts
                .passages_by_language
                .entry(passage.language.clone())
                .or_default() += 1;
            if passage.kind == PassageKind::FactCheck {
                counts.fact_checks += 1;
            }
        }
        let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
        for document in &self.documents {
            *counts
                .documents_by_language
                .entry(document.language.clone())
                .or_default() += 1;
            let kind = document
                .kind
                .clone()
                .unwrap_or_else(|| "unspecified".to_string());
            *by_kind.entry(kind).or_default() += 1;
        }
        counts.documents_by_kind = by_kind;
        counts
    }
}

fn with_defaults(
    mut metadata: DocumentMetadata,
    settings: &DeploymentSettings,
) -> DocumentMetadata {
    if metadata.jurisdiction.is_none() {
        metadata.jurisdiction = settings.defaults.jurisdiction.clone();
    }
    if metadata.authority.is_none() {
        metadata.authority = settings.defaults.authority.clone();
    }
    metadata
}

/// `notices/2026-polling-place-changes.txt` gives "2026 polling place changes".
fn title_from_file_name(source: &str) -> String {
    let name = source.rsplit('/').next().unwrap_or(source);
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let words = stem.replace(['-', '_'], " ");
    let mut characters = words.trim().chars();
    match characters.next() {
        Some(first) => first.to_uppercase().chain(characters).collect(),
        None => name.to_string(),
    }
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut: String = text.chars().take(max_chars).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_from_file_names() {
        assert_eq!(
            title_from_file_name("notices/2026-polling-place-changes.txt"),
            "2026 polling place changes"
        );
        assert_eq!(title_from_file_name("vote_by_mail.md"), "Vote by mail");
    }

    #[test]
    fn shortens_at_word_boundaries() {
        assert_eq!(shorten("one two three", 9), "one two…");
        assert_eq!(shorten("short", 9), "short");
    }
}
