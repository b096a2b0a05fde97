//! `index-build`: index build throughput (documents/s, passages/s, MB/s) and peak memory over a
//! corpus, best of several builds, then how often language detection agrees with the languages
//! the documents declare; and the build with passage vectors: from scratch (an empty embedding
//! cache) and again after one document changed, by the release `index-builder` on every core.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use votecheck_index::PassageIndex;
use votecheck_index::language::{detect, primary_subtag};
use votecheck_index_builder::{BuildOptions, build_index};

use crate::common::{corpus_label, peak_rss_mib, reset_peak_rss};

/// What one `index-build` run found.
#[derive(Debug, Clone)]
pub struct IndexBuildFigures {
    pub corpus: PathBuf,
    pub documents: u64,
    pub passages: u64,
    pub megabytes: f64,
    pub best_seconds: f64,
    pub runs: usize,
    pub warnings: usize,
    /// Peak resident memory of the benchmark process while building.
    pub peak_rss_mib: Option<f64>,
    /// The build with passage vectors, when measured.
    pub embedded: Option<EmbeddedBuild>,
}

/// Building with passage vectors, by the `index-builder` binary.
#[derive(Debug, Clone)]
pub struct EmbeddedBuild {
    /// Seconds from scratch (empty embedding cache).
    pub scratch_seconds: f64,
    /// Peak resident memory of that build.
    pub scratch_peak_rss_mib: Option<f64>,
    /// Seconds after one document changed (the rest from the cache).
    pub one_change_seconds: f64,
}

impl IndexBuildFigures {
    pub fn documents_per_second(&self) -> f64 {
        self.documents as f64 / self.best_seconds
    }

    pub fn passages_per_second(&self) -> f64 {
        self.passages as f64 / self.best_seconds
    }

    pub fn megabytes_per_second(&self) -> f64 {
        self.megabytes / self.best_seconds
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "corpus": corpus_label(&self.corpus),
            "documents": self.documents,
            "passages": self.passages,
            "megabytes": self.megabytes,
            "runs": self.runs,
            "best_seconds": self.best_seconds,
            "documents_per_second": self.documents_per_second(),
            "passages_per_second": self.passages_per_second(),
            "megabytes_per_second": self.megabytes_per_second(),
            "peak_rss_mib": self.peak_rss_mib,
            "warnings": self.warnings,
            "with_vectors": self.embedded.as_ref().map(|embedded| json!({
                "scratch_seconds": embedded.scratch_seconds,
                "scratch_peak_rss_mib": embedded.scratch_peak_rss_mib,
                "passages_per_second": self.passages as f64 / embedded.scratch_seconds,
                "one_change_seconds": embedded.one_change_seconds,
            })),
        })
    }

    pub fn print(&self) {
        println!();
        println!("| figure | value |");
        println!("|---|---|");
        println!("| documents | {} |", self.documents);
        println!("| passages | {} |", self.passages);
        println!("| corpus size | {:.2} MB |", self.megabytes);
        println!("| best build time | {:.2} s |", self.best_seconds);
        println!("| documents/s | {:.0} |", self.documents_per_second());
        println!("| passages/s | {:.0} |", self.passages_per_second());
        println!("| MB/s | {:.2} |", self.megabytes_per_second());
        if let Some(peak) = self.peak_rss_mib {
            println!("| peak RSS (whole process) | {peak:.1} MiB |");
        }
        println!("| warnings | {} |", self.warnings);
        if let Some(embedded) = &self.embedded {
            println!(
                "| with vectors, from scratch | {:.0} s ({:.1} passages/s) |",
                embedded.scratch_seconds,
                self.passages as f64 / embedded.scratch_seconds
            );
            if let Some(peak) = embedded.scratch_peak_rss_mib {
                println!("| with vectors, peak RSS of index-builder | {peak:.1} MiB |");
            }
            println!(
                "| with vectors, after one document changed | {:.1} s |",
                embedded.one_change_seconds
            );
        }
    }
}

/// Builds `corpus` with passage vectors by the release `index-builder`: from scratch into an
/// empty cache, then again after appending a sentence to its first Markdown document.
pub fn measure_embedded(corpus: &Path) -> anyhow::Result<EmbeddedBuild> {
    let work = tempfile::tempdir()?;
    let copy = work.path().join("corpus");
    copy_tree(corpus, &copy)?;
    let cache = work.path().join("cache");
    let builder = crate::common::build_directory()?.join("index-builder");
    let build = |out: &Path| -> anyhow::Result<(f64, Option<f64>)> {
        let started = std::time::Instant::now();
        let mut child = std::process::Command::new(&builder)
            .args([
                "build".as_ref(),
                copy.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
                "--quiet".as_ref(),
            ])
            .env("VOTECHECK_EMBEDDING_CACHE", &cache)
            .env_remove("CANDLE_NUM_THREADS")
            .env_remove("RAYON_NUM_THREADS")
            .spawn()
            .with_context(|| format!("running {}", builder.display()))?;
        let mut peak = None;
        loop {
            if let Some(status) = child.try_wait()? {
                anyhow::ensure!(
                    status.success(),
                    "index-builder failed on {}",
                    copy.display()
                );
                break;
            }
            peak = crate::common::process_peak_rss_mib(child.id()).or(peak);
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Ok((started.elapsed().as_secs_f64(), peak))
    };
    let out = work.path().join("index");
    let (scratch_seconds, scratch_peak_rss_mib) = build(&out)?;
    println!("index build with vectors, from scratch: {scratch_seconds:.1} s");
    let document = first_markdown(&copy).context("a Markdown document to change")?;
    let mut text = std::fs::read_to_string(&document)?;
    text.push_str("\n\nThis sentence was added to measure a rebuild after one change.\n");
    std::fs::write(&document, text)?;
    let (one_change_seconds, _) = build(&out)?;
    println!("index build with vectors, after one document changed: {one_change_seconds:.1} s");
    Ok(EmbeddedBuild {
        scratch_seconds,
        scratch_peak_rss_mib,
        one_change_seconds,
    })
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn first_markdown(dir: &Path) -> Option<PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if let Some(found) = first_markdown(&path) {
                return Some(found);
            }
        } else if path.extension().is_some_and(|extension| extension == "md")
            && path.file_name().is_some_and(|name| name != "README.md")
        {
            return Some(path);
        }
    }
    None
}

/// Builds the index of `corpus` `runs` times into a temporary directory and keeps the best run.
/// With `language_check`, also prints how detection compares with the declared languages.
pub fn measure(
    corpus: &Path,
    runs: usize,
    language_check: bool,
) -> anyhow::Result<IndexBuildFigures> {
    reset_peak_rss();
    let work = tempfile::tempdir()?;
    let out = work.path().join("index");
    let mut best = None;
    for run in 1..=runs {
        let report = build_index(corpus, &out, &BuildOptions::default(), &mut |_| {})
            .with_context(|| format!("building {}", corpus.display()))?;
        let seconds = report.elapsed.as_secs_f64();
        println!("index build {run}: {seconds:.2} s");
        if best
            .as_ref()
            .is_none_or(|(best_seconds, _)| seconds < *best_seconds)
        {
            best = Some((seconds, report));
        }
    }
    let peak = peak_rss_mib();
    let (seconds, report) = best.context("at least one run")?;
    let counts = &report.manifest.counts;
    let figures = IndexBuildFigures {
        corpus: corpus.to_path_buf(),
        documents: counts.documents,
        passages: counts.passages,
        megabytes: counts.bytes as f64 / 1_000_000.0,
        best_seconds: seconds,
        runs,
        warnings: report.manifest.warnings.len(),
        peak_rss_mib: peak,
        embedded: None,
    };
    if language_check {
        figures.print();
        language_agreement(&out)?;
    }
    Ok(figures)
}

/// For every document, compares its declared language with what detection finds in its text.
fn language_agreement(index_dir: &Path) -> anyhow::Result<()> {
    let index = PassageIndex::open(index_dir)?;
    let mut texts: BTreeMap<String, (String, String)> = BTreeMap::new();
    for passage in index.all_passages()? {
        let entry = texts
            .entry(passage.source.clone())
            .or_insert_with(|| (passage.language.clone(), String::new()));
        if entry.1.len() < 4000 {
            entry.1.push_str(&passage.text);
            entry.1.push('\n');
        }
    }
    let mut per_language: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for (declared, text) in texts.values() {
        let declared_base = primary_subtag(declared);
        let row = per_language.entry(declared.clone()).or_default();
        row.0 += 1;
        match detect(text) {
            Some(found) if found.tag == declared_base => row.1 += 1,
            Some(_) => {}
            None => row.2 += 1,
        }
    }
    println!();
    println!("language detection vs declared language (per document):");
    println!("| declared | documents | detected the same | undetectable |");
    println!("|---|---|---|---|");
    for (language, (documents, same, undetectable)) in per_language {
        println!("| {language} | {documents} | {same} | {undetectable} |");
    }
    Ok(())
}
