//! Building an index from a corpus: read every document, cut it into passages, write the tantivy
//! index and `manifest.json` into a staging directory, and publish it only when all went well.
//!
//! Builds are reproducible: the same corpus (and `SOURCE_DATE_EPOCH`) gives the same bytes in
//! every file of the index, segment file names included (see `canonicalize_segment_id`), so a
//! deployment package can be rebuilt and compared byte for byte.
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
use crate::embedding::{EmbeddingCache, EmbeddingOptions, EmbeddingReport, embed_passages};
use crate::error::BuildError;
use crate::formats::{self, Format};
use crate::publish::{StagingDirectory, check_destination};
use votecheck_encoder::Encoder;
use votecheck_index::analysis::register_analyzers;
use votecheck_index::language::detect;
use votecheck_index::manifest::{
    BuilderInfo, Counts, DOCUMENTS_FILE, DocumentRecord, LanguageOrigin, MANIFEST_FILE, Warning,
};
use votecheck_index::vectors::{EmbeddingInfo, VECTORS_FILE, encode_vectors};
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
    /// Embed every passage with this model (semantic retrieval); `None`: a lexical-only index.
    pub embedding: Option<EmbeddingOptions>,
    /// How long one file may take to parse before it is reported and skipped; `None`:
    /// [`formats::DEFAULT_TIME_BUDGET`].
    pub time_budget_per_file: Option<Duration>,
}

impl BuildOptions {
    /// Default options that embed every passage with the model at `model`, cached in
    /// [`crate::embedding::default_cache_dir`].
    pub fn embedding_with(model: std::path::PathBuf) -> Self {
        BuildOptions {
            embedding: Some(EmbeddingOptions::with_default_cache(model)),
            ..BuildOptions::default()
        }
    }
}

/// Progress of a build, for a progress bar.
#[derive(Debug, Clone)]
pub enum BuildProgress<'a> {
    /// The corpus has this many files.
    Started {
        /// How many files the corpus has.
        files: usize,
    },
    /// One file was read.
    FileDone {
        /// The file's source path.
        source: &'a str,
    },
    /// Passages embedded so far (the ones not in the cache).
    Embedding {
        /// Passages embedded so far.
        done: usize,
        /// Passages to embed.
        total: usize,
    },
    /// Writing the index.
    Indexing {
        /// How many passages go into the index.
        passages: usize,
    },
}

/// The outcome of a successful build.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The manifest written into the index.
    pub manifest: Manifest,
    /// The document records written into the index (`documents.json`).
    pub documents: Vec<DocumentRecord>,
    /// What embedding did (`None` for a lexical-only index).
    pub embedding: Option<EmbeddingReport>,
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
    let listing = list_documents(corpus)?;
    let files = listing.files;
    if files.is_empty() {
        return Err(BuildError::EmptyCorpus(corpus.to_path_buf()));
    }
    progress(BuildProgress::Started { files: files.len() });

    let mut hasher = CorpusHasher::default();
    if let Some(bytes) = &settings_bytes {
        hasher.add(crate::corpus::SETTINGS_FILE, bytes);
    }
    let mut collected = Collected {
        warnings: listing.warnings,
        ..Collected::default()
    };
    let time_budget = options
        .time_budget_per_file
        .unwrap_or(formats::DEFAULT_TIME_BUDGET);
    for file in &files {
        match read_bounded(&file.path) {
            Ok(bytes) => {
                hasher.add(&file.source, &bytes);
                collected.add_file(&file.source, bytes, &settings, options.limits, time_budget);
            }
            Err(reason) => collected.warn(&file.source, format!("{reason}; skipped")),
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

    let embedded = match &options.embedding {
        Some(embedding) => Some(embed(embedding, &collected.passages, progress)?),
        None => None,
    };
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
        jurisdictions: Manifest::jurisdictions_of(&collected.documents),
        warnings: collected.warnings,
        embedding: embedded.as_ref().map(|embedded| embedded.info.clone()),
    };
    let documents = collected.documents;
    let staging = StagingDirectory::create(out)?;
    write_index(staging.path(), &collected.passages)?;
    if let Some(embedded) = &embedded {
        let vectors_path = staging.path().join(VECTORS_FILE);
        std::fs::write(&vectors_path, &embedded.bytes).map_err(|source| BuildError::Write {
            path: vectors_path,
            source,
        })?;
    }
    let manifest_json = serde_json::to_vec_pretty(&manifest).expect("a manifest always serialises");
    let manifest_path = staging.path().join(MANIFEST_FILE);
    std::fs::write(&manifest_path, manifest_json).map_err(|source| BuildError::Write {
        path: manifest_path,
        source,
    })?;
    let documents_json =
        serde_json::to_vec_pretty(&documents).expect("document records always serialise");
    let documents_path = staging.path().join(DOCUMENTS_FILE);
    std::fs::write(&documents_path, documents_json).map_err(|source| BuildError::Write {
        path: documents_path,
        source,
    })?;
    staging.publish(out)?;
    Ok(BuildReport {
        manifest,
        documents,
        embedding: embedded.map(|embedded| embedded.report),
        elapsed: started.elapsed(),
    })
}

/// Reads a corpus file of at most [`formats::MAX_FILE_BYTES`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|error| format!("cannot be read: {error}"))?;
    let mut bytes = Vec::new();
    file.take(formats::MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| format!("cannot be read: {error}"))?;
    if bytes.len() as u64 > formats::MAX_FILE_BYTES {
        return Err(format!(
            "is larger than {} MiB, the limit for one file",
            formats::MAX_FILE_BYTES >> 20
        ));
    }
    Ok(bytes)
}

/// The vectors file of a build, and what went into it.
struct Embedded {
    info: EmbeddingInfo,
    bytes: Vec<u8>,
    report: EmbeddingReport,
}

fn embed(
    options: &EmbeddingOptions,
    passages: &[Passage],
    progress: &mut dyn FnMut(BuildProgress<'_>),
) -> Result<Embedded, BuildError> {
    let encoder =
        Encoder::open(&options.model).map_err(|error| BuildError::Model(error.to_string()))?;
    let dimensions = encoder.dimensions();
    let cache = options
        .cache
        .as_ref()
        .map(|root| EmbeddingCache::new(root, encoder.model_id(), dimensions));
    let (vectors, report) =
        embed_passages(&encoder, cache.as_ref(), passages, &mut |done, total| {
            progress(BuildProgress::Embedding { done, total })
        })?;
    Ok(Embedded {
        info: EmbeddingInfo {
            model_id: encoder.model_id().to_string(),
            dimensions,
            rows: vectors.len(),
        },
        bytes: encode_vectors(dimensions, &vectors),
        report,
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
    write_index_with_budget(dir, passages, memory_budget(passages)).map(|_| ())
}

/// The indexing heap: 64 MiB, or more for a large corpus, so that a corpus normally fits in one
/// segment (the heap is filled as needed, not reserved up front).
fn memory_budget(passages: &[Passage]) -> usize {
    let text: usize = passages
        .iter()
        .map(|passage| passage.text.len() + passage.title.len() + passage.section.len())
        .sum();
    text.saturating_mul(16).clamp(64 << 20, 1 << 30)
}

/// Writes the passages as a tantivy index with exactly one segment, byte for byte the same for
/// the same passages:
///
/// - one indexing thread and no background merges, so documents keep their order;
/// - should the heap fill up and the writer cut several segments, they are merged into one in
///   document order (tantivy keeps segments in a hash map, so its own order is random);
/// - the segment gets an id derived from its content ([`canonicalize_segment_id`]) instead of
///   tantivy's random one.
///
/// Returns how many segments the writer cut before the merge.
fn write_index_with_budget(
    dir: &Path,
    passages: &[Passage],
    memory_budget: usize,
) -> Result<usize, BuildError> {
    let schema = IndexSchema::new();
    let mut index = Index::create_in_dir(dir, schema.schema.clone())?;
    let tokenizers = TokenizerManager::default();
    register_analyzers(&tokenizers);
    index.set_tokenizers(tokenizers);
    let mut writer = index.writer_with_num_threads::<tantivy::TantivyDocument>(1, memory_budget)?;
    writer.set_merge_policy(Box::new(tantivy::merge_policy::NoMergePolicy));
    for passage in passages {
        writer.add_document(schema.to_document(passage))?;
    }
    writer.commit()?;
    let segments = segments_in_document_order(&index, &schema, passages)?;
    if segments.len() > 1 {
        writer.merge(&segments).wait()?;
    }
    writer.garbage_collect_files().wait()?;
    writer.wait_merging_threads()?;
    drop(index);
    canonicalize_segment_id(dir)?;
    Ok(segments.len())
}

/// The index's segments, ordered by the position of their first passage in `passages`.
fn segments_in_document_order(
    index: &Index,
    schema: &IndexSchema,
    passages: &[Passage],
) -> Result<Vec<tantivy::index::SegmentId>, BuildError> {
    use tantivy::schema::Value;
    let positions: std::collections::HashMap<&str, usize> = passages
        .iter()
        .enumerate()
        .map(|(position, passage)| (passage.passage_id.as_str(), position))
        .collect();
    let reader = index.reader()?;
    let searcher = reader.searcher();
    let mut segments = Vec::new();
    for segment in searcher.segment_readers() {
        let store = segment
            .get_store_reader(1)
            .map_err(tantivy::TantivyError::from)?;
        let first: tantivy::TantivyDocument = store.get(0)?;
        let passage_id = first
            .get_first(schema.passage_id)
            .and_then(|value| value.as_str())
            .unwrap_or_default();
        let position = positions.get(passage_id).copied().unwrap_or(usize::MAX);
        segments.push((position, segment.segment_id()));
    }
    segments.sort();
    Ok(segments.into_iter().map(|(_, id)| id).collect())
}

/// Renames the index's only segment after its content and rewrites `meta.json` to match.
///
/// tantivy names a segment by a random UUID: its files are `<uuid>.<component>` and `meta.json`
/// lists the UUID. The files themselves do not contain the id, so the same passages give the
/// same bytes under a different name each time. The new id is the first 128 bits of a SHA-256
/// over the segment's files (component name, length, bytes, in component order): the same
/// content, the same name. `.managed.json` (the files tantivy manages, in hash-set order) is
/// rewritten sorted, the writer's empty lock files are removed, and every file is made readable
/// by all (tantivy writes `meta.json` owner-only; Lambda needs world-readable files).
fn canonicalize_segment_id(dir: &Path) -> Result<(), BuildError> {
    use sha2::{Digest, Sha256};
    let fail = |path: &Path, message: String| BuildError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(message),
    };
    let meta_path = dir.join("meta.json");
    let meta_text = std::fs::read_to_string(&meta_path).map_err(|source| BuildError::Write {
        path: meta_path.clone(),
        source,
    })?;
    let meta: serde_json::Value = serde_json::from_str(&meta_text)
        .map_err(|error| fail(&meta_path, format!("unreadable meta.json: {error}")))?;
    let segments = meta["segments"].as_array().cloned().unwrap_or_default();
    let [segment] = segments.as_slice() else {
        return Err(fail(
            &meta_path,
            format!("expected one segment, found {}", segments.len()),
        ));
    };
    let old_hyphenated = segment["segment_id"]
        .as_str()
        .ok_or_else(|| fail(&meta_path, "a segment without segment_id".to_string()))?
        .to_string();
    let old_id = old_hyphenated.replace('-', "");
    let prefix = format!("{old_id}.");
    let mut components: Vec<String> = std::fs::read_dir(dir)
        .map_err(|source| BuildError::Write {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter_map(|name| name.strip_prefix(&prefix).map(str::to_string))
        .collect();
    components.sort();
    let mut hasher = Sha256::new();
    for component in &components {
        let path = dir.join(format!("{prefix}{component}"));
        let bytes = std::fs::read(&path).map_err(|source| BuildError::Write {
            path: path.clone(),
            source,
        })?;
        hasher.update(component.as_bytes());
        hasher.update([0]);
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    let new_id = hex::encode(&hasher.finalize()[..16]);
    let new_hyphenated = format!(
        "{}-{}-{}-{}-{}",
        &new_id[..8],
        &new_id[8..12],
        &new_id[12..16],
        &new_id[16..20],
        &new_id[20..]
    );
    let mut managed = vec!["meta.json".to_string()];
    for component in &components {
        let from = dir.join(format!("{prefix}{component}"));
        let name = format!("{new_id}.{component}");
        let to = dir.join(&name);
        std::fs::rename(&from, &to).map_err(|source| BuildError::Write { path: to, source })?;
        managed.push(name);
    }
    managed.sort();
    if meta_text.matches(&old_hyphenated).count() != 1 {
        return Err(fail(
            &meta_path,
            format!("the segment id {old_hyphenated} is not exactly once in meta.json"),
        ));
    }
    let write = |path: std::path::PathBuf, bytes: Vec<u8>| {
        std::fs::write(&path, bytes).map_err(|source| BuildError::Write { path, source })
    };
    write(
        meta_path.clone(),
        meta_text
            .replace(&old_hyphenated, &new_hyphenated)
            .into_bytes(),
    )?;
    write(
        dir.join(".managed.json"),
        serde_json::to_vec(&managed).expect("a list of names serialises"),
    )?;
    for lock in [".tantivy-meta.lock", ".tantivy-writer.lock"] {
        let path = dir.join(lock);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|source| BuildError::Write { path, source })?;
        }
    }
    #[cfg(unix)]
    for entry in std::fs::read_dir(dir)
        .map_err(|source| BuildError::Write {
            path: dir.to_path_buf(),
            source,
        })?
        .flatten()
    {
        use std::os::unix::fs::PermissionsExt;
        let path = entry.path();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
            .map_err(|source| BuildError::Write { path, source })?;
    }
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

    /// Keeps an address only when it is an `http`/`https` URL; warns about any other.
    fn web_url(&mut self, source: &str, field: &str, address: Option<String>) -> Option<String> {
        let address = address?;
        if crate::web_url::is_web_url(&address) {
            return Some(address);
        }
        self.warn(
            source,
            format!(
                "{field} {} is not an http(s) address; dropped",
                crate::web_url::quoted(&address)
            ),
        );
        None
    }

    fn add_file(
        &mut self,
        source: &str,
        bytes: Vec<u8>,
        settings: &DeploymentSettings,
        limits: ChunkLimits,
        time_budget: Duration,
    ) {
        self.bytes += bytes.len() as u64;
        let Some(format) = Format::of(source) else {
            self.warn(
                source,
                "unknown file type (supported: .md, .markdown, .html, .htm, .txt, .pdf, .json, .jsonld); skipped".to_string(),
            );
            return;
        };
        let byte_count = bytes.len() as u64;
        let parsed = match formats::parse_within_budget(format, bytes.into(), time_budget) {
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
            bytes: byte_count,
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
        let mut metadata = with_defaults(document.metadata, settings);
        metadata.source_url = self.web_url(source, "source_url", metadata.source_url);
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
        for (position, mut item) in items.into_iter().enumerate() {
            let review = &mut item.review;
            review.url = self.web_url(source, "url", review.url.take());
            review.checked_by_url =
                self.web_url(source, "author.url", review.checked_by_url.take());
            review.appearances = std::mem::take(&mut review.appearances)
                .into_iter()
                .filter_map(|address| self.web_url(source, "appearance url", Some(address)))
                .collect();
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

    /// Every file of a directory with its bytes; `built_at` blanked in the manifest (the build
    /// time is the clock's unless `SOURCE_DATE_EPOCH` is set, and tests must not set variables).
    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let name = entry.file_name().into_string().unwrap();
                let mut bytes = std::fs::read(entry.path()).unwrap();
                if name == MANIFEST_FILE {
                    let mut manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    manifest["built_at"] = serde_json::Value::Null;
                    bytes = serde_json::to_vec(&manifest).unwrap();
                }
                (name, bytes)
            })
            .collect()
    }

    /// The one segment's id in `meta.json`, without hyphens.
    fn segment_id(dir: &Path) -> String {
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
        let segments = meta["segments"].as_array().unwrap();
        assert_eq!(segments.len(), 1, "one segment: {meta}");
        segments[0]["segment_id"].as_str().unwrap().replace('-', "")
    }

    #[test]
    fn the_same_corpus_gives_a_byte_identical_index_that_opens_and_searches() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/corpus");
        let root = tempfile::tempdir().unwrap();
        let (first, second) = (root.path().join("first"), root.path().join("second"));
        for out in [&first, &second] {
            build_index(&corpus, out, &BuildOptions::default(), &mut |_| {}).unwrap();
        }
        let first_files = files(&first);
        assert_eq!(
            first_files,
            files(&second),
            "two builds of one corpus differ"
        );
        let id = segment_id(&first);
        let mut names: Vec<&str> = first_files.keys().map(String::as_str).collect();
        names.retain(|name| !name.starts_with(&id));
        assert_eq!(
            names,
            [
                ".managed.json",
                "documents.json",
                "manifest.json",
                "meta.json"
            ],
            "segment files are named after the id in meta.json, no lock files remain"
        );
        let index = votecheck_index::PassageIndex::open(&first).unwrap();
        let hits = index
            .search(
                &votecheck_index::SearchRequest::new("How do I vote by mail?")
                    .language("en")
                    .limit(3),
            )
            .unwrap();
        assert_eq!(hits[0].passage.source, "en/vote-by-mail.md");
    }

    fn synthetic_passage(number: usize) -> Passage {
        let words: Vec<String> = (0..120)
            .map(|word| {
                format!(
                    "w{}x{}",
                    (number * 7919 + word * 104_729) % 50_000,
                    word % 13
                )
            })
            .collect();
        Passage {
            passage_id: format!("synthetic.md#p{number}"),
            kind: PassageKind::Passage,
            source: format!("synthetic-{}.md", number / 100),
            section: format!("Section {number}"),
            title: "Synthetic".to_string(),
            url: None,
            language: "en".to_string(),
            jurisdiction: None,
            authority: None,
            document_kind: None,
            published: None,
            updated: None,
            position: (number % 100) as u64,
            text: words.join(" "),
            claim_review: None,
        }
    }

    #[test]
    fn several_segments_are_merged_in_document_order_into_one_canonical_segment() {
        // The smallest heap tantivy accepts, and enough distinct words to fill it several times.
        let passages: Vec<Passage> = (0..600).map(synthetic_passage).collect();
        let root = tempfile::tempdir().unwrap();
        let (first, second) = (root.path().join("first"), root.path().join("second"));
        for out in [&first, &second] {
            std::fs::create_dir(out).unwrap();
            let cut = write_index_with_budget(out, &passages, 15_000_000).unwrap();
            assert!(
                cut > 1,
                "the writer cut {cut} segment(s): the merge is not exercised"
            );
            std::fs::write(out.join(MANIFEST_FILE), b"{}").unwrap();
        }
        assert_eq!(files(&first), files(&second));
        segment_id(&first);
        let schema = IndexSchema::new();
        let index = Index::open_in_dir(&first).unwrap();
        let searcher = index.reader().unwrap().searcher();
        let store = searcher.segment_readers()[0].get_store_reader(1).unwrap();
        for number in [0, 299, 599] {
            let document: tantivy::TantivyDocument = store.get(number as u32).unwrap();
            assert_eq!(
                schema.to_passage(&document).passage_id,
                passages[number].passage_id
            );
        }
    }

    /// Hostile files of every kind next to a good one, generated (not committed).
    fn hostile_corpus(root: &Path) {
        let write = |name: &str, bytes: Vec<u8>| std::fs::write(root.join(name), bytes).unwrap();
        write(
            "good.md",
            b"---\nlanguage: en\n---\n# Voting\n\nPolls open at seven in the morning.\n".to_vec(),
        );
        write(
            "deep.html",
            format!(
                "<html lang=\"en\"><body><p>x</p>{}y{}</body></html>",
                "<span>".repeat(10_000),
                "</span>".repeat(10_000)
            )
            .into_bytes(),
        );
        write(
            "deep-front-matter.md",
            format!(
                "---\ntitle: {}{}\n---\n# Deep\n\nText.\n",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
            .into_bytes(),
        );
        let content: Vec<u8> = b"BT /F1 12 Tf (x) Tj ET\n"
            .iter()
            .copied()
            .cycle()
            .take(80 << 20)
            .collect();
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, &content).unwrap();
        drop(content);
        let bomb = crate::formats::pdf::tests::pdf_with_content_stream(
            "/Filter /FlateDecode",
            &encoder.finish().unwrap(),
        );
        write("bomb.pdf", bomb);
    }

    #[test]
    fn hostile_files_are_reported_by_path_and_skipped_and_fail_a_strict_build() {
        let corpus = tempfile::tempdir().unwrap();
        hostile_corpus(corpus.path());
        let out = tempfile::tempdir().unwrap();
        let (corpus_path, out_path) = (corpus.path().to_path_buf(), out.path().join("index"));
        // A 2 MiB stack, as tokio gives `votecheck serve`'s blocking threads.
        let build = move |strict: bool| {
            let (corpus_path, out_path) = (corpus_path.clone(), out_path.clone());
            std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || {
                    let options = BuildOptions {
                        strict,
                        ..BuildOptions::default()
                    };
                    build_index(&corpus_path, &out_path, &options, &mut |_| {})
                })
                .unwrap()
                .join()
                .unwrap()
        };
        let report = build(false).unwrap();
        assert_eq!(report.manifest.counts.documents, 1);
        let warned: Vec<&str> = report
            .manifest
            .warnings
            .iter()
            .map(|warning| warning.source.as_str())
            .collect();
        assert_eq!(warned, ["bomb.pdf", "deep-front-matter.md", "deep.html"]);
        let BuildError::Strict(warnings) = build(true).unwrap_err() else {
            panic!("a strict build fails on hostile files");
        };
        assert_eq!(warnings.len(), 3);
    }

    #[test]
    fn addresses_that_are_not_http_are_dropped_with_a_warning() {
        let corpus = tempfile::tempdir().unwrap();
        std::fs::write(
            corpus.path().join("vote.md"),
            "---\nlanguage: en\nsource_url: \"javascript:alert(document.cookie)\"\n---\n# Voting\n\nPolls open at seven in the morning.\n",
        )
        .unwrap();
        std::fs::write(
            corpus.path().join("page.html"),
            "<html lang=\"en\"><head><link rel=\"canonical\" href=\"httpx://evil.example/\"></head><body><p>Ballots are counted in public.</p></body></html>",
        )
        .unwrap();
        std::fs::write(
            corpus.path().join("checks.json"),
            r#"{"@type":"ClaimReview","claimReviewed":"Ballots can be cast by text message","inLanguage":"en",
                "url":"data:text/html,<script>alert(1)</script>",
                "author":{"@type":"Organization","name":"Desk","url":"file:///etc/passwd"},
                "itemReviewed":{"@type":"Claim","appearance":[{"url":"vbscript:msgbox"},{"url":"https://social.example/1"}]},
                "reviewRating":{"@type":"Rating","alternateName":"False"}}"#,
        )
        .unwrap();
        let out = tempfile::tempdir().unwrap();
        let index_dir = out.path().join("index");
        let report = build_index(
            corpus.path(),
            &index_dir,
            &BuildOptions::default(),
            &mut |_| {},
        )
        .unwrap();
        let dropped: Vec<String> = report
            .manifest
            .warnings
            .iter()
            .filter(|warning| warning.message.contains("not an http(s) address"))
            .map(ToString::to_string)
            .collect();
        assert_eq!(dropped.len(), 5, "{dropped:#?}");
        let schema = IndexSchema::new();
        let index = Index::open_in_dir(&index_dir).unwrap();
        let searcher = index.reader().unwrap().searcher();
        let segment = &searcher.segment_readers()[0];
        let store = segment.get_store_reader(1).unwrap();
        for number in 0..segment.num_docs() {
            let document: tantivy::TantivyDocument = store.get(number).unwrap();
            let passage = schema.to_passage(&document);
            let addresses = passage
                .url
                .iter()
                .chain(passage.claim_review.iter().flat_map(|review| {
                    review
                        .url
                        .iter()
                        .chain(&review.checked_by_url)
                        .chain(&review.appearances)
                }));
            for address in addresses {
                assert!(
                    address.starts_with("https://"),
                    "{address} kept in {}",
                    passage.source
                );
            }
        }
    }

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
