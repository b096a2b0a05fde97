//! `votecheck-bench`: benchmarks that print figures, never assertions.
//!
//! ```text
//! cargo run --release -p votecheck-bench -- index-build [--corpus DIR] [--runs 3]
//! ```
//!
//! `index-build` builds the index of a corpus (default: `../shared/corpus` when it exists, else
//! `samples/corpus`) and prints documents/s, passages/s, MB/s and the process's peak resident
//! memory, then how often language detection agrees with the languages the documents declare.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};

use votecheck_index::PassageIndex;
use votecheck_index::language::{detect, primary_subtag};
use votecheck_index_builder::{BuildOptions, build_index};

#[derive(Parser)]
#[command(
    name = "votecheck-bench",
    about = "Print votecheck's performance figures"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Index build throughput and peak memory.
    IndexBuild {
        /// Corpus to build (default: ../shared/corpus when present, else samples/corpus).
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Number of builds; the best is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::IndexBuild { corpus, runs } => index_build(corpus, runs.max(1)),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ is inside the workspace")
        .to_path_buf()
}

fn default_corpus() -> PathBuf {
    let shared = workspace_root().join("../shared/corpus");
    if shared.is_dir() {
        shared
    } else {
        workspace_root().join("samples/corpus")
    }
}

/// Peak resident set size of this process, in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{cores} cores, {cpu}")
}

fn index_build(corpus: Option<PathBuf>, runs: usize) -> anyhow::Result<()> {
    let corpus = corpus.unwrap_or_else(default_corpus);
    println!("machine: {}", machine());
    println!("corpus:  {}", corpus.display());
    let work = tempfile::tempdir()?;
    let out = work.path().join("index");
    let mut best = None;
    for run in 1..=runs {
        let report = build_index(&corpus, &out, &BuildOptions::default(), &mut |_| {})
            .with_context(|| format!("building {}", corpus.display()))?;
        let seconds = report.elapsed.as_secs_f64();
        println!("run {run}: {seconds:.2} s");
        if best
            .as_ref()
            .is_none_or(|(best_seconds, _)| seconds < *best_seconds)
        {
            best = Some((seconds, report));
        }
    }
    let (seconds, report) = best.expect("at least one run");
    let counts = &report.manifest.counts;
    let megabytes = counts.bytes as f64 / 1_000_000.0;
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!("| documents | {} |", counts.documents);
    println!("| passages | {} |", counts.passages);
    println!("| corpus size | {megabytes:.2} MB |");
    println!("| best build time | {seconds:.2} s |");
    println!("| documents/s | {:.0} |", counts.documents as f64 / seconds);
    println!("| passages/s | {:.0} |", counts.passages as f64 / seconds);
    println!("| MB/s | {:.2} |", megabytes / seconds);
    if let Some(peak) = peak_rss_mib() {
        println!("| peak RSS (whole process) | {peak:.1} MiB |");
    }
    println!("| warnings | {} |", report.manifest.warnings.len());
    language_agreement(&out)?;
    Ok(())
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
