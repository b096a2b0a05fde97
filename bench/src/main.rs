//! `votecheck-bench`: benchmarks that print figures, never assertions.
//!
//! ```text
//! cargo run --release -p votecheck-bench -- index-build [--corpus DIR] [--runs 3]
//! cargo run --release -p votecheck-bench -- answer [--corpus DIR --cases FILE] [--rounds 5] [--no-peers]
//! ```
//!
//! `index-build` builds the index of a corpus (default: `../shared/corpus` when it exists, else
//! `samples/corpus`) and prints documents/s, passages/s, MB/s and the process's peak resident
//! memory, then how often language detection agrees with the languages the documents declare.
//!
//! `cold-start` builds the release `bootstrap` and a hello-world `lambda_runtime` function
//! (`hello-lambda`, same profile), then starts each as a process against a local Lambda Runtime
//! API `--runs` times and times process start to the first answered event (a webhook
//! verification request, which needs no network), and prints the medians, their ratio, the
//! binary sizes and the bootstrap's peak resident memory.
//!
//! `answer` builds the index of a corpus, answers every question of an eval file `--rounds`
//! times (question in, reply rendered) and prints the latency percentiles over all answers and
//! the peak memory, then hit@1 and hit@3 per language next to two plain BM25 peers (SQLite FTS5
//! and bm25s, run by `bench/peers/run.sh` over the same passages and cases in the same run).

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
    /// Answer latency and quality per language, next to plain BM25 peers.
    Answer {
        /// Corpus (default: ../shared/corpus when present, else samples/corpus).
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Eval cases (default: the eval file that matches the corpus).
        #[arg(long)]
        cases: Option<PathBuf>,
        /// How many times every question is answered.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Skip the Python peers.
        #[arg(long)]
        no_peers: bool,
    },
    /// Cold start of the Lambda `bootstrap` against a hello-world `lambda_runtime` function.
    ColdStart {
        /// Corpus whose index is bundled (default: ../shared/corpus when present, else samples/corpus).
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Starts per function.
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
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
        Command::ColdStart { corpus, runs } => cold_start(corpus, runs.max(1)),
        Command::Answer {
            corpus,
            cases,
            rounds,
            no_peers,
        } => answer(corpus, cases, rounds.max(1), !no_peers),
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

fn default_cases(corpus: &Path) -> PathBuf {
    let file = if corpus.ends_with("samples/corpus") {
        "sample-corpus.jsonl"
    } else {
        "shared-corpus.jsonl"
    };
    workspace_root().join("samples/eval").join(file)
}

/// Figures of one system for one language: (cases, hit@1, hit@3).
type LanguageFigures = BTreeMap<String, (u64, f64, f64)>;

fn answer(
    corpus: Option<PathBuf>,
    cases: Option<PathBuf>,
    rounds: usize,
    peers: bool,
) -> anyhow::Result<()> {
    use votecheck_engine::eval::{parse_cases, percentile, run};
    let corpus = corpus.unwrap_or_else(default_corpus);
    let cases_path = cases.unwrap_or_else(|| default_cases(&corpus));
    println!("machine: {}", machine());
    println!("corpus:  {}", corpus.display());
    println!("cases:   {}", cases_path.display());
    let work = tempfile::tempdir()?;
    let index_dir = work.path().join("index");
    build_index(&corpus, &index_dir, &BuildOptions::default(), &mut |_| {})
        .with_context(|| format!("building {}", corpus.display()))?;
    let cases = parse_cases(&std::fs::read_to_string(&cases_path)?)
        .map_err(|error| anyhow::anyhow!("{}: {error}", cases_path.display()))?;
    let engine = votecheck_engine::Engine::open(&index_dir)?;
    let rss_after_open = peak_rss_mib();
    let mut latencies = Vec::new();
    let mut report = None;
    for _ in 0..rounds {
        let round = run(&engine, &cases, 3);
        latencies.extend(round.results.iter().map(|result| result.latency_us));
        report = Some(round);
    }
    let report = report.expect("at least one round");
    latencies.sort_unstable();
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| answers timed | {} ({} questions x {rounds} rounds) |",
        latencies.len(),
        cases.len()
    );
    println!(
        "| answer latency p50 | {} us |",
        percentile(&latencies, 0.50)
    );
    println!(
        "| answer latency p99 | {} us |",
        percentile(&latencies, 0.99)
    );
    println!(
        "| answer latency max | {} us |",
        latencies.last().copied().unwrap_or(0)
    );
    if let (Some(open), Some(peak)) = (rss_after_open, peak_rss_mib()) {
        println!("| peak RSS after opening the index | {open:.1} MiB |");
        println!("| peak RSS after answering | {peak:.1} MiB |");
    }
    println!(
        "| outcome accuracy | {:.1}% |",
        report.outcome_accuracy * 100.0
    );

    let mut ours: LanguageFigures = BTreeMap::new();
    for (tag, figures) in &report.by_tag {
        if let (Some(hit1), Some(hit3)) = (figures.hit_at_1, figures.hit_at_3) {
            ours.insert(tag.clone(), (figures.retrieval_cases as u64, hit1, hit3));
        }
    }
    let mut systems: Vec<(String, LanguageFigures, String)> = vec![(
        "votecheck".to_string(),
        ours,
        format!(
            "{}/{}",
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99)
        ),
    )];
    if peers {
        let export = work.path().join("passages.jsonl");
        export_passages(&index_dir, &export)?;
        let output = std::process::Command::new("bash")
            .arg(workspace_root().join("bench/peers/run.sh"))
            .args([
                "--passages".as_ref(),
                export.as_os_str(),
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
        for (name, system) in value["systems"].as_object().into_iter().flatten() {
            let mut figures = LanguageFigures::new();
            for (tag, row) in system["by_tag"].as_object().into_iter().flatten() {
                figures.insert(
                    tag.clone(),
                    (
                        row["cases"].as_u64().unwrap_or(0),
                        row["hit_at_1"].as_f64().unwrap_or(0.0),
                        row["hit_at_3"].as_f64().unwrap_or(0.0),
                    ),
                );
            }
            let latency = format!(
                "{}/{}",
                system["latency_us"]["p50"].as_f64().unwrap_or(0.0).round(),
                system["latency_us"]["p99"].as_f64().unwrap_or(0.0).round()
            );
            systems.push((name.clone(), figures, latency));
        }
    }
    let languages: Vec<String> = cases
        .iter()
        .filter(|case| case.is_retrieval())
        .filter_map(|case| case.tags.first().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    println!();
    print!("| language | cases |");
    for (name, _, _) in &systems {
        print!(" {name} hit@1 | {name} hit@3 |");
    }
    println!();
    print!("|---|---|");
    for _ in &systems {
        print!("---|---|");
    }
    println!();
    for language in &languages {
        let cases = systems[0].1.get(language).map_or(0, |row| row.0);
        print!("| {language} | {cases} |");
        for (_, figures, _) in &systems {
            match figures.get(language) {
                Some((_, hit1, hit3)) => print!(" {:.0}% | {:.0}% |", hit1 * 100.0, hit3 * 100.0),
                None => print!(" - | - |"),
            }
        }
        println!();
    }
    print!("| all | {} |", report.retrieval_cases);
    println!();
    for (name, _, latency) in &systems {
        println!("latency p50/p99 (us) {name}: {latency}");
    }
    println!(
        "votecheck overall: hit@1 {:.1}%, hit@3 {:.1}%, MRR {:.3}",
        report.hit_at_1 * 100.0,
        report.hit_at_3 * 100.0,
        report.mrr
    );
    Ok(())
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

/// Builds the two release binaries the cold-start benchmark compares and returns their paths.
fn build_lambda_binaries() -> anyhow::Result<(PathBuf, PathBuf)> {
    let status =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()))
            .current_dir(workspace_root())
            .args([
                "build",
                "--release",
                "--locked",
                "-p",
                "votecheck-webhook",
                "--bin",
                "bootstrap",
                "-p",
                "votecheck-bench",
                "--bin",
                "hello-lambda",
            ])
            .status()
            .context("running cargo build for bootstrap and hello-lambda")?;
    anyhow::ensure!(
        status.success(),
        "building bootstrap and hello-lambda failed"
    );
    let directory = std::env::current_exe()?
        .parent()
        .map(Path::to_path_buf)
        .context("the benchmark's own directory")?;
    Ok((directory.join("bootstrap"), directory.join("hello-lambda")))
}

/// Peak resident memory of a running process, in MiB.
fn process_peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

/// Starts `binary` against `api`, times the first answered event, returns (ms, peak RSS MiB).
fn one_cold_start(
    binary: &Path,
    api: &votecheck_end_to_end::lambda_runtime_api::RuntimeApi,
    env: &[(String, String)],
    event: &serde_json::Value,
) -> anyhow::Result<(f64, Option<f64>)> {
    use votecheck_end_to_end::lambda_runtime_api::Invocation;
    let started = std::time::Instant::now();
    let mut child = std::process::Command::new(binary)
        .envs(
            env.iter()
                .map(|(key, value)| (key.as_str(), value.as_str())),
        )
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let outcome = api.invoke(event.clone(), std::time::Duration::from_secs(30));
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let peak = process_peak_rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    anyhow::ensure!(
        matches!(outcome, Invocation::Response(_)),
        "{} did not answer: {outcome:?}",
        binary.display()
    );
    Ok((elapsed, peak))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn cold_start(corpus: Option<PathBuf>, runs: usize) -> anyhow::Result<()> {
    let corpus = corpus.unwrap_or_else(default_corpus);
    let (bootstrap, hello) = build_lambda_binaries()?;
    println!("machine: {}", machine());
    println!("corpus:  {}", corpus.display());
    let work = tempfile::tempdir()?;
    let index_dir = work.path().join("index");
    build_index(&corpus, &index_dir, &BuildOptions::default(), &mut |_| {})?;
    let lambda_env: Vec<(String, String)> = [
        ("AWS_LAMBDA_FUNCTION_NAME", "votecheck"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "bench"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9"),
        ("VOTECHECK_TABLE_NAME", "votecheck-bench"),
        ("WHATSAPP_PHONE_NUMBER_ID", "109000000000001"),
        ("VOTECHECK_GRAPH_BASE_URL", "http://127.0.0.1:9"),
        ("WHATSAPP_ACCESS_TOKEN", "bench-token"),
        ("WHATSAPP_APP_SECRET", "bench-secret"),
        ("WHATSAPP_VERIFY_TOKEN", "bench-verify"),
        ("VOTECHECK_ID_SALT", "bench-salt"),
    ]
    .iter()
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .chain(std::iter::once((
        "VOTECHECK_INDEX_DIR".to_string(),
        index_dir.display().to_string(),
    )))
    .collect();
    let event = serde_json::json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/",
        "rawQueryString": "hub.mode=subscribe&hub.verify_token=bench-verify&hub.challenge=42",
        "headers": {}, "isBase64Encoded": false,
        "requestContext": {"http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
            "accountId": "anonymous", "apiId": "bench", "domainName": "bench", "domainPrefix": "bench",
            "requestId": "bench", "routeKey": "$default", "stage": "$default", "time": "28/Nov/2026:12:00:00 +0000", "timeEpoch": 0}
    });
    let api = votecheck_end_to_end::lambda_runtime_api::RuntimeApi::start();
    let mut bootstrap_ms = Vec::new();
    let mut hello_ms = Vec::new();
    let mut peak_rss: f64 = 0.0;
    for _ in 0..runs {
        // Interleaved, so that both see the same machine state.
        let (elapsed, peak) = one_cold_start(&bootstrap, &api, &lambda_env, &event)?;
        bootstrap_ms.push(elapsed);
        peak_rss = peak_rss.max(peak.unwrap_or(0.0));
        hello_ms.push(one_cold_start(&hello, &api, &lambda_env, &event)?.0);
    }
    let bootstrap_median = median(&mut bootstrap_ms);
    let hello_median = median(&mut hello_ms);
    let size = |path: &Path| {
        std::fs::metadata(path)
            .map(|metadata| metadata.len() as f64 / 1_000_000.0)
            .unwrap_or(0.0)
    };
    println!();
    println!("| figure | bootstrap | hello-world | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| cold start to first answered event, median of {runs} | {bootstrap_median:.1} ms | {hello_median:.1} ms | {:.2} |",
        bootstrap_median / hello_median
    );
    println!(
        "| binary size | {:.1} MB | {:.1} MB | |",
        size(&bootstrap),
        size(&hello)
    );
    println!("| bootstrap peak RSS after the first event | {peak_rss:.1} MiB | | |");
    Ok(())
}
