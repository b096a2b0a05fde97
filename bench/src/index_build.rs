//! `index-build`: index build throughput (documents/s, passages/s, MB/s) and peak memory over a
//! corpus, best of several builds, then how often language detection agrees with the languages
//! the documents declare.

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
    }
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
