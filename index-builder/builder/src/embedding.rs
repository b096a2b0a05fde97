//! Embedding every passage at build time, with a cache so that a rebuild embeds only what changed.
//!
//! [`embed_passages`] gives one vector per passage, in passage order, from the sentence encoder
//! (`votecheck-encoder`): a passage is embedded as its section path and text (the section path
//! starts with the document's title), a fact-check as its claim and headline, which is what a
//! forwarded rumour resembles. Vectors are looked up first in an [`EmbeddingCache`], keyed by
//! the model's identity and the exact text; only the misses run through the encoder, in batches.
//!
//! The cache is a directory (`<cache>/<model id>/<2 hex digits>/<SHA-256 of the text>`, each
//! file the vector's `f32` values). Entries are written to a temporary file and renamed into
//! place, so concurrent builds (tests run in parallel) never read a partial entry; a damaged
//! entry is treated as a miss.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use votecheck_encoder::{Encoder, Role};
use votecheck_index::{Passage, PassageKind};

use crate::error::BuildError;

/// How much of a fact-check's review text is embedded with its claim and headline.
pub const REVIEW_CHARS: usize = 300;

/// Passages embedded per forward pass (more uses more memory for little gain).
pub const BATCH: usize = 16;

/// How a build embeds its passages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingOptions {
    /// The encoder's model file (`models/multilingual-e5-small-q4.vce`).
    pub model: PathBuf,
    /// Where vectors are cached between builds; `None`: no cache.
    pub cache: Option<PathBuf>,
}

impl EmbeddingOptions {
    /// The model at `model`, cached in [`default_cache_dir`].
    pub fn with_default_cache(model: PathBuf) -> Self {
        EmbeddingOptions {
            model,
            cache: default_cache_dir(),
        }
    }
}

/// The cache directory: `VOTECHECK_EMBEDDING_CACHE`, else `$XDG_CACHE_HOME/votecheck/embeddings`,
/// else `$HOME/.cache/votecheck/embeddings`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let variable = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    variable("VOTECHECK_EMBEDDING_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            variable("XDG_CACHE_HOME").map(|dir| PathBuf::from(dir).join("votecheck/embeddings"))
        })
        .or_else(|| {
            variable("HOME").map(|dir| PathBuf::from(dir).join(".cache/votecheck/embeddings"))
        })
}

/// The text of a passage that the encoder embeds.
pub fn embedding_text(passage: &Passage) -> String {
    match (&passage.kind, &passage.claim_review) {
        (PassageKind::FactCheck, Some(review)) => {
            let mut text = review.claim.clone();
            if let Some(headline) = review
                .headline
                .as_ref()
                .filter(|headline| **headline != review.claim)
            {
                text.push('\n');
                text.push_str(headline);
            }
            // The start of the review restates the rumour in other words than the claim.
            let review_start: String = passage.text.chars().take(REVIEW_CHARS).collect();
            if !review_start.is_empty() {
                text.push('\n');
                text.push_str(&review_start);
            }
            text
        }
        _ => format!("{}\n{}", passage.section, passage.text),
    }
}

/// Vectors kept between builds.
#[derive(Debug, Clone)]
pub struct EmbeddingCache {
    dir: PathBuf,
    dimensions: usize,
}

impl EmbeddingCache {
    /// The cache of one model under `root`.
    pub fn new(root: &Path, model_id: &str, dimensions: usize) -> Self {
        EmbeddingCache {
            dir: root.join(model_id),
            dimensions,
        }
    }

    fn path(&self, text: &str) -> PathBuf {
        let key = hex::encode(Sha256::digest(format!("passage\0{text}").as_bytes()));
        self.dir.join(&key[..2]).join(key)
    }

    /// The cached vector of a text, if any.
    pub fn get(&self, text: &str) -> Option<Vec<f32>> {
        let bytes = std::fs::read(self.path(text)).ok()?;
        if bytes.len() != self.dimensions * 4 {
            return None;
        }
        Some(
            bytes
                .chunks_exact(4)
                .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
                .collect(),
        )
    }

    /// Stores a vector (a failure to write only costs a later rebuild some time, so it is
    /// reported and otherwise ignored).
    pub fn put(&self, text: &str, vector: &[f32]) -> std::io::Result<()> {
        let path = self.path(text);
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir)?;
        let bytes: Vec<u8> = vector
            .iter()
            .flat_map(|value| value.to_le_bytes())
            .collect();
        let mut staging = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut staging, &bytes)?;
        staging.persist(&path).map_err(|error| error.error)?;
        Ok(())
    }
}

/// What embedding did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmbeddingReport {
    /// Passages whose vector came from the cache.
    pub cached: usize,
    /// Passages run through the encoder.
    pub embedded: usize,
    /// Cache entries that could not be written.
    pub cache_errors: usize,
}

/// One vector per passage, in order. `progress(done, total)` after each batch of misses.
pub fn embed_passages(
    encoder: &Encoder,
    cache: Option<&EmbeddingCache>,
    passages: &[Passage],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(Vec<Vec<f32>>, EmbeddingReport), BuildError> {
    let texts: Vec<String> = passages.iter().map(embedding_text).collect();
    let mut vectors: Vec<Option<Vec<f32>>> = texts
        .iter()
        .map(|text| cache.and_then(|cache| cache.get(text)))
        .collect();
    let missing: Vec<usize> = (0..texts.len())
        .filter(|at| vectors[*at].is_none())
        .collect();
    let mut report = EmbeddingReport {
        cached: texts.len() - missing.len(),
        ..EmbeddingReport::default()
    };
    for batch in missing.chunks(BATCH) {
        let batch_texts: Vec<&str> = batch.iter().map(|at| texts[*at].as_str()).collect();
        let embeddings = encoder
            .embed_batch(Role::Passage, &batch_texts)
            .map_err(|error| BuildError::Embedding(error.to_string()))?;
        for (at, embedding) in batch.iter().zip(embeddings) {
            let values = embedding.into_vec();
            if let Some(cache) = cache
                && cache.put(&texts[*at], &values).is_err()
            {
                report.cache_errors += 1;
            }
            vectors[*at] = Some(values);
        }
        report.embedded += batch.len();
        progress(report.embedded, missing.len());
    }
    Ok((
        vectors.into_iter().map(Option::unwrap_or_default).collect(),
        report,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use votecheck_index::ClaimReview;

    fn passage(kind: PassageKind, claim: Option<(&str, Option<&str>)>) -> Passage {
        Passage {
            passage_id: "p".into(),
            kind,
            source: "a.md".into(),
            section: "Guide › Mail ballots".into(),
            title: "Guide".into(),
            url: None,
            language: "en".into(),
            jurisdiction: None,
            authority: None,
            document_kind: None,
            published: None,
            updated: None,
            position: 0,
            text: "Sign the envelope.".into(),
            claim_review: claim.map(|(claim, headline)| ClaimReview {
                claim: claim.into(),
                headline: headline.map(str::to_string),
                ..ClaimReview::default()
            }),
        }
    }

    #[test]
    fn passages_embed_their_section_path_and_text_fact_checks_their_claim_headline_and_review_start()
     {
        assert_eq!(
            embedding_text(&passage(PassageKind::Passage, None)),
            "Guide › Mail ballots\nSign the envelope."
        );
        let check = passage(
            PassageKind::FactCheck,
            Some(("You can vote by text", Some("No, you cannot vote by text"))),
        );
        assert_eq!(
            embedding_text(&check),
            "You can vote by text\nNo, you cannot vote by text\nSign the envelope."
        );
        let same = passage(
            PassageKind::FactCheck,
            Some(("You can vote by text", Some("You can vote by text"))),
        );
        assert_eq!(
            embedding_text(&same),
            "You can vote by text\nSign the envelope."
        );
        let mut long = check.clone();
        long.text = "é".repeat(REVIEW_CHARS + 50);
        assert!(embedding_text(&long).ends_with(&"é".repeat(REVIEW_CHARS)));
        assert!(!embedding_text(&long).contains(&"é".repeat(REVIEW_CHARS + 1)));
    }

    #[test]
    fn the_cache_returns_what_was_put_per_model_and_ignores_damaged_entries() {
        let root = tempfile::tempdir().unwrap();
        let cache = EmbeddingCache::new(root.path(), "model-a", 3);
        assert_eq!(cache.get("text"), None);
        cache.put("text", &[0.5, -1.0, 2.0]).unwrap();
        assert_eq!(cache.get("text"), Some(vec![0.5, -1.0, 2.0]));
        assert_eq!(
            EmbeddingCache::new(root.path(), "model-b", 3).get("text"),
            None
        );
        std::fs::write(cache.path("text"), [1, 2, 3]).unwrap();
        assert_eq!(cache.get("text"), None);
    }
}
