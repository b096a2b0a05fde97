//! Which index `votecheck serve` answers from: an index directory as it is, or a corpus that is
//! built into an index first — only when the index is missing or was built from other files —
//! and, with `--watch`, rebuilt whenever the corpus changes. A failed rebuild leaves the index
//! that is being served untouched (the builder publishes atomically) and says why.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use votecheck_index::Manifest;
use votecheck_index_builder::corpus::corpus_hash;
use votecheck_index_builder::{BuildOptions, BuildProgress, EmbeddingOptions, build_index};

/// Where the index comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexSource {
    /// A built index, served as it is.
    Index(PathBuf),
    /// A corpus, built into `out` when needed; rebuilt on change when `watch` is set.
    Corpus {
        /// The corpus directory.
        corpus: PathBuf,
        /// Where its index is built.
        out: PathBuf,
        /// Whether to rebuild on change.
        watch: bool,
    },
}

impl IndexSource {
    /// The index directory the server opens.
    pub fn index_dir(&self) -> &Path {
        match self {
            IndexSource::Index(dir) => dir,
            IndexSource::Corpus { out, .. } => out,
        }
    }
}

/// Whether the index at `out` was built from `corpus` exactly as it is now, with the encoder
/// model the server answers with ([`votecheck_encoder::locate_model`]).
pub fn is_current(corpus: &Path, out: &Path) -> bool {
    let model_id = votecheck_encoder::ModelFile::open(&votecheck_encoder::locate_model())
        .ok()
        .map(|model| model.header().model_id.clone());
    match (Manifest::read(out), corpus_hash(corpus)) {
        (Ok(manifest), Ok(hash)) => {
            manifest.corpus_hash == hash && manifest.embedding.map(|info| info.model_id) == model_id
        }
        _ => false,
    }
}

/// Builds `corpus` into `out` with passage vectors by the located model, printing progress on
/// stderr, and returns the manifest.
pub fn build(corpus: &Path, out: &Path) -> anyhow::Result<Manifest> {
    let mut files = 0usize;
    let mut done = 0usize;
    let terminal = std::io::stderr().is_terminal();
    let options = BuildOptions {
        embedding: Some(EmbeddingOptions::with_default_cache(
            votecheck_encoder::locate_model(),
        )),
        ..BuildOptions::default()
    };
    let report = build_index(corpus, out, &options, &mut |progress| match progress {
        BuildProgress::Started { files: count } => {
            files = count;
            eprintln!("building the index of {} ({count} files)", corpus.display());
        }
        BuildProgress::FileDone { .. } => {
            done += 1;
            if terminal {
                eprint!("\r  read {done}/{files} files");
                let _ = std::io::stderr().flush();
            }
        }
        BuildProgress::Embedding {
            done: embedded,
            total,
        } => {
            if terminal {
                eprint!("\r  embedded {embedded}/{total} passages");
                let _ = std::io::stderr().flush();
            }
        }
        BuildProgress::Indexing { passages } => {
            let start = if terminal { "\r" } else { "" };
            eprintln!("{start}  read {done}/{files} files; indexing {passages} passages");
        }
    })
    .with_context(|| {
        format!(
            "building the index of {} failed; {} is unchanged",
            corpus.display(),
            out.display()
        )
    })?;
    let manifest = report.manifest;
    for warning in &manifest.warnings {
        eprintln!("  warning: {warning}");
    }
    eprintln!(
        "  built {} passages from {} documents in {:.1} s (corpus version {})",
        manifest.counts.passages,
        manifest.counts.documents,
        report.elapsed.as_secs_f64(),
        manifest.corpus_version()
    );
    Ok(manifest)
}

/// Makes sure the index of `source` exists and is current; returns its directory.
pub fn prepare(source: &IndexSource) -> anyhow::Result<PathBuf> {
    match source {
        IndexSource::Index(dir) => {
            Manifest::read(dir).with_context(|| {
                format!(
                    "{} is not a votecheck index (build one with `index-builder build` or pass --corpus)",
                    dir.display()
                )
            })?;
            Ok(dir.clone())
        }
        IndexSource::Corpus { corpus, out, .. } => {
            if is_current(corpus, out) {
                eprintln!(
                    "the index in {} is up to date with {}",
                    out.display(),
                    corpus.display()
                );
            } else {
                build(corpus, out)?;
            }
            Ok(out.clone())
        }
    }
}

/// Watches `corpus` and calls `rebuilt` with the new manifest after each successful rebuild
/// (changes are gathered for half a second first). Keep the returned watcher alive.
pub fn watch(
    corpus: &Path,
    out: &Path,
    rebuilt: impl Fn(&Manifest) + Send + 'static,
) -> anyhow::Result<Debouncer<RecommendedWatcher>> {
    let (corpus_dir, out_dir) = (corpus.to_path_buf(), out.to_path_buf());
    let mut debouncer = new_debouncer(
        Duration::from_millis(500),
        move |events: DebounceEventResult| {
            let Ok(events) = events else {
                return;
            };
            // Ignore the builder's own writes when the index lives inside the corpus.
            if events.iter().all(|event| event.path.starts_with(&out_dir)) {
                return;
            }
            if is_current(&corpus_dir, &out_dir) {
                return;
            }
            eprintln!("the corpus changed: rebuilding");
            match build(&corpus_dir, &out_dir) {
                Ok(manifest) => rebuilt(&manifest),
                Err(problem) => eprintln!("{problem:#}"),
            }
        },
    )
    .context("starting the corpus watcher")?;
    debouncer
        .watcher()
        .watch(corpus, RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", corpus.display()))?;
    Ok(debouncer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus_with(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("how-to-vote.md"),
            format!("---\ntitle: How to vote\nlanguage: en\n---\n# Voting\n\n{text}\n"),
        )
        .unwrap();
        dir
    }

    #[test]
    fn an_index_is_rebuilt_only_when_its_corpus_changed() {
        let corpus = corpus_with("Polling places open at seven in the morning.");
        let out = tempfile::tempdir().unwrap();
        let index = out.path().join("index");
        let source = IndexSource::Corpus {
            corpus: corpus.path().to_path_buf(),
            out: index.clone(),
            watch: false,
        };
        assert!(!is_current(corpus.path(), &index));
        prepare(&source).unwrap();
        assert!(is_current(corpus.path(), &index));
        std::fs::write(
            corpus.path().join("how-to-vote.md"),
            "---\ntitle: How to vote\nlanguage: en\n---\n# Voting\n\nPolls open at eight.\n",
        )
        .unwrap();
        assert!(!is_current(corpus.path(), &index));
        prepare(&source).unwrap();
        assert!(is_current(corpus.path(), &index));
    }

    #[test]
    fn a_directory_that_is_not_an_index_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let problem = prepare(&IndexSource::Index(dir.path().to_path_buf())).unwrap_err();
        let message = format!("{problem:#}");
        assert!(message.contains("is not a votecheck index"), "{message}");
        assert!(message.contains(&dir.path().display().to_string()));
    }

    #[test]
    fn a_corpus_with_no_documents_fails_with_its_name() {
        let corpus = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let problem = prepare(&IndexSource::Corpus {
            corpus: corpus.path().to_path_buf(),
            out: out.path().join("index"),
            watch: false,
        })
        .unwrap_err();
        assert!(format!("{problem:#}").contains(&corpus.path().display().to_string()));
    }
}
