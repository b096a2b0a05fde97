//! `answer`: the engine's answer latency and quality over every question of an eval file, next
//! to two plain BM25 peers (SQLite FTS5 and bm25s, run by `bench/peers/run.sh` over the same
//! passages and cases in the same run).
//!
//! The index of the corpus is built first in the same process; every question is answered
//! `rounds` times (question in, reply rendered) and the latency percentiles are over all answers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use votecheck_engine::eval::{parse_cases, percentile, run};
use votecheck_index::PassageIndex;
use votecheck_index_builder::{BuildOptions, build_index};

use crate::common::{corpus_label, peak_rss_mib, reset_peak_rss, workspace_root};

/// Figures of one system for one language: (cases, hit@1, hit@3).
type LanguageFigures = BTreeMap<String, (u64, f64, f64)>;

/// One retrieval system's figures over the eval file.
#[derive(Debug, Clone)]
pub struct SystemFigures {
    pub name: String,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub hit_at_1: f64,
    pub hit_at_3: f64,
    pub by_language: LanguageFigures,
}

impl SystemFigures {
    fn to_json(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "latency_us": {"p50": self.p50_us, "p99": self.p99_us, "max": self.max_us},
            "hit_at_1": self.hit_at_1,
            "hit_at_3": self.hit_at_3,
            "by_language": self.by_language.iter().map(|(language, (cases, hit1, hit3))| {
                (language.clone(), json!({"cases": cases, "hit_at_1": hit1, "hit_at_3": hit3}))
            }).collect::<serde_json::Map<_, _>>(),
        })
    }
}

/// What one `answer` run found.
#[derive(Debug, Clone)]
pub struct AnswerFigures {
    pub corpus: PathBuf,
    pub cases_path: PathBuf,
    pub passages: u64,
    pub questions: usize,
    pub rounds: usize,
    pub retrieval_cases: usize,
    pub outcome_accuracy: f64,
    pub mrr: f64,
    pub peak_rss_after_open_mib: Option<f64>,
    pub peak_rss_mib: Option<f64>,
    /// Of the rumours that have a fact-check, the share whose fact-check votecheck shows first.
    pub fact_check_hit_at_1: Option<f64>,
    /// votecheck first, then the peers.
    pub systems: Vec<SystemFigures>,
}

impl AnswerFigures {
    pub fn votecheck(&self) -> &SystemFigures {
        &self.systems[0]
    }

    pub fn peers(&self) -> &[SystemFigures] {
        &self.systems[1..]
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "corpus": corpus_label(&self.corpus),
            "cases": self.cases_path.strip_prefix(workspace_root()).unwrap_or(&self.cases_path).display().to_string(),
            "passages": self.passages,
            "questions": self.questions,
            "rounds": self.rounds,
            "retrieval_cases": self.retrieval_cases,
            "outcome_accuracy": self.outcome_accuracy,
            "mrr": self.mrr,
            "peak_rss_after_open_mib": self.peak_rss_after_open_mib,
            "peak_rss_mib": self.peak_rss_mib,
            "fact_check_hit_at_1": self.fact_check_hit_at_1,
            "systems": self.systems.iter().map(SystemFigures::to_json).collect::<Vec<_>>(),
        })
    }

    pub fn print(&self) {
        let ours = self.votecheck();
        println!();
        println!("| figure | value |");
        println!("|---|---|");
        println!(
            "| answers timed | {} ({} questions x {} rounds) |",
            self.questions * self.rounds,
            self.questions,
            self.rounds
        );
        println!("| answer latency p50 | {:.0} us |", ours.p50_us);
        println!("| answer latency p99 | {:.0} us |", ours.p99_us);
        println!("| answer latency max | {:.0} us |", ours.max_us);
        if let (Some(open), Some(peak)) = (self.peak_rss_after_open_mib, self.peak_rss_mib) {
            println!("| peak RSS after opening the index | {open:.1} MiB |");
            println!("| peak RSS after answering | {peak:.1} MiB |");
        }
        println!(
            "| outcome accuracy | {:.1}% |",
            self.outcome_accuracy * 100.0
        );
        let languages: std::collections::BTreeSet<&String> = self
            .systems
            .iter()
            .flat_map(|system| system.by_language.keys())
            .collect();
        println!();
        print!("| language | cases |");
        for system in &self.systems {
            print!(" {0} hit@1 | {0} hit@3 |", system.name);
        }
        println!();
        print!("|---|---|");
        for _ in &self.systems {
            print!("---|---|");
        }
        println!();
        for language in languages {
            let cases = ours.by_language.get(language).map_or(0, |row| row.0);
            print!("| {language} | {cases} |");
            for system in &self.systems {
                match system.by_language.get(language) {
                    Some((_, hit1, hit3)) => {
                        print!(" {:.0}% | {:.0}% |", hit1 * 100.0, hit3 * 100.0)
                    }
                    None => print!(" - | - |"),
                }
            }
            println!();
        }
        print!("| all | {} |", self.retrieval_cases);
        for system in &self.systems {
            print!(
                " {:.1}% | {:.1}% |",
                system.hit_at_1 * 100.0,
                system.hit_at_3 * 100.0
            );
        }
        println!();
        for system in &self.systems {
            println!(
                "latency p50/p99 (us) {}: {:.0}/{:.0}",
                system.name, system.p50_us, system.p99_us
            );
        }
        println!(
            "votecheck overall: hit@1 {:.1}%, hit@3 {:.1}%, MRR {:.3}",
            ours.hit_at_1 * 100.0,
            ours.hit_at_3 * 100.0,
            self.mrr
        );
        if let Some(fact_check) = self.fact_check_hit_at_1 {
            println!("votecheck fact-check hit@1: {:.1}%", fact_check * 100.0);
        }
    }
}

/// Builds the index of `corpus` (with passage vectors, and once more without them: votecheck
/// before semantic retrieval), answers every case of `cases_path` `rounds` times with both, runs
/// the encoder alone as a dense retriever over every passage (top three by cosine similarity)
/// and, with `peers`, the BM25 peers over the same passages and cases.
pub fn measure(
    corpus: &Path,
    cases_path: &Path,
    rounds: usize,
    peers: bool,
) -> anyhow::Result<AnswerFigures> {
    reset_peak_rss();
    let work = tempfile::tempdir()?;
    let index_dir = work.path().join("index");
    let build = build_index(
        corpus,
        &index_dir,
        &BuildOptions::embedding_with(votecheck_encoder::locate_model()),
        &mut |_| {},
    )
    .with_context(|| format!("building {}", corpus.display()))?;
    let lexical_dir = work.path().join("lexical-index");
    build_index(corpus, &lexical_dir, &BuildOptions::default(), &mut |_| {})
        .with_context(|| format!("building {} without vectors", corpus.display()))?;
    let cases = parse_cases(&std::fs::read_to_string(cases_path)?)
        .map_err(|error| anyhow::anyhow!("{}: {error}", cases_path.display()))?;
    let engine = votecheck_engine::Engine::open(&index_dir)?;
    let peak_rss_after_open_mib = peak_rss_mib();
    let mut latencies = Vec::new();
    let mut report = None;
    for _ in 0..rounds {
        let round = run(&engine, &cases, 3);
        latencies.extend(round.results.iter().map(|result| result.latency_us));
        report = Some(round);
    }
    let peak_rss_mib = peak_rss_mib();
    let report = report.context("at least one round")?;
    latencies.sort_unstable();

    let mut ours: LanguageFigures = BTreeMap::new();
    for (tag, figures) in &report.by_tag {
        if let (Some(hit1), Some(hit3)) = (figures.hit_at_1, figures.hit_at_3) {
            ours.insert(tag.clone(), (figures.retrieval_cases as u64, hit1, hit3));
        }
    }
    // Only the languages (a case's first tag), not the other tags.
    let languages: std::collections::BTreeSet<String> = cases
        .iter()
        .filter(|case| case.is_retrieval())
        .filter_map(|case| case.tags.first().cloned())
        .collect();
    ours.retain(|tag, _| languages.contains(tag));
    let rumours: Vec<_> = report
        .results
        .iter()
        .filter(|result| result.expected_outcome == votecheck_engine::Outcome::FactCheck)
        .collect();
    let fact_check_hit_at_1 = (!rumours.is_empty()).then(|| {
        rumours
            .iter()
            .filter(|result| result.hit_rank == Some(1))
            .count() as f64
            / rumours.len() as f64
    });
    let mut systems = vec![SystemFigures {
        name: "votecheck".to_string(),
        p50_us: percentile(&latencies, 0.50) as f64,
        p99_us: percentile(&latencies, 0.99) as f64,
        max_us: latencies.last().copied().unwrap_or(0) as f64,
        hit_at_1: report.hit_at_1,
        hit_at_3: report.hit_at_3,
        by_language: ours,
    }];
    let lexical = votecheck_engine::Engine::open(&lexical_dir)?;
    systems.push(engine_system(
        "votecheck, no vectors",
        &lexical,
        &cases,
        &languages,
    ));
    systems.push(dense_only(&engine, &cases, &languages)?);
    if peers {
        let export = work.path().join("passages.jsonl");
        export_passages(&index_dir, &export)?;
        systems.extend(run_peers(&export, cases_path, &languages)?);
    }
    Ok(AnswerFigures {
        corpus: corpus.to_path_buf(),
        cases_path: cases_path.to_path_buf(),
        passages: build.manifest.counts.passages,
        questions: cases.len(),
        rounds,
        retrieval_cases: report.retrieval_cases,
        outcome_accuracy: report.outcome_accuracy,
        mrr: report.mrr,
        peak_rss_after_open_mib,
        peak_rss_mib,
        fact_check_hit_at_1,
        systems,
    })
}

/// An engine's figures over the cases, answered once.
fn engine_system(
    name: &str,
    engine: &votecheck_engine::Engine,
    cases: &[votecheck_engine::eval::EvalCase],
    languages: &std::collections::BTreeSet<String>,
) -> SystemFigures {
    let report = run(engine, cases, 3);
    let mut latencies: Vec<u64> = report
        .results
        .iter()
        .map(|result| result.latency_us)
        .collect();
    latencies.sort_unstable();
    let by_language = report
        .by_tag
        .iter()
        .filter(|(tag, _)| languages.contains(*tag))
        .filter_map(|(tag, figures)| {
            Some((
                tag.clone(),
                (
                    figures.retrieval_cases as u64,
                    figures.hit_at_1?,
                    figures.hit_at_3?,
                ),
            ))
        })
        .collect();
    SystemFigures {
        name: name.to_string(),
        p50_us: percentile(&latencies, 0.50) as f64,
        p99_us: percentile(&latencies, 0.99) as f64,
        max_us: latencies.last().copied().unwrap_or(0) as f64,
        hit_at_1: report.hit_at_1,
        hit_at_3: report.hit_at_3,
        by_language,
    }
}

/// The encoder alone as a plain dense retriever: every passage of the index (fact-checks
/// included, any language), the three nearest to the question by cosine similarity, no
/// keywords, no abstention — what the encoder brings before votecheck fuses it.
fn dense_only(
    engine: &votecheck_engine::Engine,
    cases: &[votecheck_engine::eval::EvalCase],
    languages: &std::collections::BTreeSet<String>,
) -> anyhow::Result<SystemFigures> {
    let encoder = engine.encoder().context("the index has no vectors")?;
    let index = engine.index();
    let searcher = index.searcher();
    let everything = tantivy::query::AllQuery;
    let mut latencies = Vec::new();
    let mut by_language: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let (mut total, mut hits_1, mut hits_3) = (0u64, 0u64, 0u64);
    for case in cases.iter().filter(|case| case.is_retrieval()) {
        let started = std::time::Instant::now();
        let question = encoder.embed(votecheck_encoder::Role::Query, &case.question)?;
        let nearest = index.nearest(&searcher, question.as_slice(), &everything, 3)?;
        latencies.push(started.elapsed().as_micros() as u64);
        let mut rank = None;
        for (at, (_, address)) in nearest.iter().enumerate() {
            let passage = index.passage_at(&searcher, *address)?;
            if case.accepts(&passage.source, &passage.section) {
                rank = Some(at + 1);
                break;
            }
        }
        let row = by_language
            .entry(case.tags.first().cloned().unwrap_or_default())
            .or_default();
        row.0 += 1;
        total += 1;
        if rank == Some(1) {
            row.1 += 1;
            hits_1 += 1;
        }
        if rank.is_some() {
            row.2 += 1;
            hits_3 += 1;
        }
    }
    latencies.sort_unstable();
    let share = |hits: u64, of: u64| {
        if of == 0 {
            0.0
        } else {
            hits as f64 / of as f64
        }
    };
    Ok(SystemFigures {
        name: "dense only".to_string(),
        p50_us: percentile(&latencies, 0.50) as f64,
        p99_us: percentile(&latencies, 0.99) as f64,
        max_us: latencies.last().copied().unwrap_or(0) as f64,
        hit_at_1: share(hits_1, total),
        hit_at_3: share(hits_3, total),
        by_language: by_language
            .into_iter()
            .filter(|(language, _)| languages.contains(language))
            .map(|(language, (cases, hit1, hit3))| {
                (language, (cases, share(hit1, cases), share(hit3, cases)))
            })
            .collect(),
    })
}

/// Runs `bench/peers/run.sh` and reads its JSON.
fn run_peers(
    passages: &Path,
    cases_path: &Path,
    languages: &std::collections::BTreeSet<String>,
) -> anyhow::Result<Vec<SystemFigures>> {
    let output = std::process::Command::new("bash")
        .arg(workspace_root().join("bench/peers/run.sh"))
        .args([
            "--passages".as_ref(),
            passages.as_os_str(),
            "--cases".as_ref(),
            cases_path.as_os_str(),
            "--json".as_ref(),
        ])
        .output()
        .context("running bench/peers/run.sh")?;
    anyhow::ensure!(
        output.status.success(),
        "the BM25 peers failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let mut systems = Vec::new();
    for (name, system) in value["systems"].as_object().into_iter().flatten() {
        let mut figures = LanguageFigures::new();
        for (tag, row) in system["by_tag"].as_object().into_iter().flatten() {
            if !languages.contains(tag) {
                continue;
            }
            figures.insert(
                tag.clone(),
                (
                    row["cases"].as_u64().unwrap_or(0),
                    row["hit_at_1"].as_f64().unwrap_or(0.0),
                    row["hit_at_3"].as_f64().unwrap_or(0.0),
                ),
            );
        }
        let latency = |key: &str| system["latency_us"][key].as_f64().unwrap_or(0.0);
        systems.push(SystemFigures {
            name: name.clone(),
            p50_us: latency("p50"),
            p99_us: latency("p99"),
            max_us: latency("max"),
            hit_at_1: system["hit_at_1"].as_f64().unwrap_or(0.0),
            hit_at_3: system["hit_at_3"].as_f64().unwrap_or(0.0),
            by_language: figures,
        });
    }
    Ok(systems)
}

fn export_passages(index_dir: &Path, out: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let index = PassageIndex::open(index_dir)?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    for passage in index.all_passages()? {
        let line = passage.export_json();
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(())
}
