//! `votecheck-bench`: benchmarks that print figures, never assertions.
//!
//! ```text
//! cargo run --release -p votecheck-bench -- all
//! cargo run --release -p votecheck-bench -- index-build [--corpus DIR] [--runs 3]
//! cargo run --release -p votecheck-bench -- answer [--corpus DIR --cases FILE] [--rounds 5] [--no-peers]
//! cargo run --release -p votecheck-bench -- cold-start [--corpus DIR] [--runs 20]
//! cargo run --release -p votecheck-bench -- webhook [--corpus DIR --cases FILE] [--connections 32 --threads 2 --duration 15]
//! cargo run --release -p votecheck-bench -- footprint [--corpus DIR --cases FILE]
//! cargo run --release -p votecheck-bench -- encoder [--corpus DIR]
//! cargo run --release -p votecheck-bench -- cpu-share [--corpus DIR --cases FILE] [--network-ms 300]
//! cargo run --release -p votecheck-bench -- audience [--subscribers 100000]
//! cargo run --release -p votecheck-bench -- fan-out [--subscribers 100000 --rate 1000 --limited-messages 20000 --parallel-jobs 4]
//! ```
//!
//! - [`summary`] (`all`): every benchmark below in one run, then ONE table with each figure
//!   next to its peer or baseline and its target, the machine at the top; the same as JSON in
//!   `target/bench/report.json`.
//! - [`index_build`]: documents/s, passages/s, MB/s and peak memory of building an index.
//! - [`answer`]: answer latency and hit@1/hit@3 per language next to two BM25 peers.
//! - [`cold_start`]: the Lambda `bootstrap` from process start to its first answered event,
//!   against a hello-world `lambda_runtime` function.
//! - [`webhook_load`]: signed webhook requests per second against `votecheck serve`, with `wrk`.
//! - [`footprint`]: `bootstrap` size, deployment zip size, peak memory while answering.
//! - [`encoder`]: the sentence encoder on one core against the pinned package's own engine.
//! - [`audience`]: an alert's audience on the local store: subscribers written, read in pages
//!   and their sealed addresses opened per second, next to one plain `SELECT`.
//! - [`fan_out`]: an alert from its audience to the Cloud API: enqueued, then delivered by the
//!   sender through the real Graph client to a local stand-in, messages/s with no limit (and
//!   with a counting channel instead of HTTP), the limiter's achieved rate, peak memory. Not
//!   part of `all` (about two and a half minutes of its own).
//! - [`cpu_share`]: answer latency at the CPU share of 512, 1,024 and 1,769 MB functions (cgroup
//!   quotas), and the cost per 1,000 messages at each.
//!
//! The corpus defaults to `../shared/corpus` when it exists, else `samples/corpus`; the eval
//! file to the one in `samples/eval/` that matches the corpus. Binaries under test are built
//! with the release profile by the benchmark itself (`cargo build --release --locked`).

mod answer;
mod audience;
mod cold_start;
mod common;
mod cpu_share;
mod encoder;
mod fan_out;
mod footprint;
mod index_build;
mod summary;
mod webhook_load;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use common::{Machine, corpora, default_cases, default_corpus, report_directory, write_json};
use webhook_load::LoadOptions;

#[derive(Parser)]
#[command(
    name = "votecheck-bench",
    about = "Print votecheck's performance figures"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The load `webhook` and `all` put on `votecheck serve`.
#[derive(clap::Args, Clone)]
struct LoadArgs {
    /// Open connections.
    #[arg(long, default_value_t = 32)]
    connections: u32,
    /// wrk threads.
    #[arg(long, default_value_t = 2)]
    threads: u32,
    /// Seconds of load.
    #[arg(long, default_value_t = 15)]
    duration: u32,
    /// Distinct signed requests prepared (each sent once; more than a run needs).
    #[arg(long, default_value_t = 150_000)]
    requests: usize,
    /// Distinct citizens the requests come from.
    #[arg(long, default_value_t = 5_000)]
    citizens: usize,
}

impl LoadArgs {
    fn options(&self) -> LoadOptions {
        LoadOptions {
            connections: self.connections.max(1),
            threads: self.threads.clamp(1, self.connections.max(1)),
            duration_seconds: self.duration.max(1),
            requests: self.requests.max(1),
            citizens: self.citizens.max(1),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Everything, in one run: one table against the targets, and target/bench/report.json.
    All {
        /// Starts per function in the cold-start benchmark.
        #[arg(long, default_value_t = 20)]
        cold_start_runs: usize,
        /// How many times every question is answered in the answer benchmark.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        #[command(flatten)]
        load: LoadArgs,
    },
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
    /// Signed webhook requests per second against `votecheck serve`, driven by wrk.
    Webhook {
        /// Corpus to serve (default: ../shared/corpus when present, else samples/corpus).
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Eval file whose questions the messages ask (default: the one that matches the corpus).
        #[arg(long)]
        cases: Option<PathBuf>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// The sentence encoder on one core against the reference engine of the pinned package.
    Encoder {
        /// Corpus whose passages are embedded (default: ../shared/corpus when present, else samples/corpus).
        #[arg(long)]
        corpus: Option<PathBuf>,
    },
    /// Answer latency at the CPU share of 512, 1,024 and 1,769 MB Lambda functions, and cost.
    CpuShare {
        /// Corpus (default: ../shared/corpus when present, else samples/corpus).
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Eval cases whose questions are asked (default: the eval file that matches the corpus).
        #[arg(long)]
        cases: Option<PathBuf>,
        /// Time a webhook waits on the network per message, whatever the CPU (cost model).
        #[arg(long, default_value_t = 300.0)]
        network_ms: f64,
        /// Dollars per GB-second of function time (cost model).
        #[arg(long, default_value_t = 0.000_016_666_7)]
        gb_second_price: f64,
        /// Dollars per million requests (cost model).
        #[arg(long, default_value_t = 0.20)]
        million_requests_price: f64,
    },
    /// An alert's audience on the local store: subscribe, read in pages, open the addresses.
    Audience {
        /// Synthetic subscribers.
        #[arg(long, default_value_t = 100_000)]
        subscribers: usize,
    },
    /// An alert's fan-out: enqueue, then deliver through the real Graph client to a local stand-in.
    FanOut {
        /// Synthetic subscribers (the alert's audience).
        #[arg(long, default_value_t = 100_000)]
        subscribers: usize,
        /// Messages per second of the rate-limited run (one sender instance).
        #[arg(long, default_value_t = 1_000)]
        rate: u32,
        /// Recipients of the rate-limited run (whole jobs of 100).
        #[arg(long, default_value_t = 20_000)]
        limited_messages: usize,
        /// Jobs delivered at once in the process.
        #[arg(long, default_value_t = 4)]
        parallel_jobs: usize,
    },
    /// (Internal) the Graph API stand-in of `fan-out`, in a process of its own.
    #[command(hide = true)]
    FanOutGraphServer,
    /// (Internal) one share's measurement, run by `cpu-share` inside its cgroup.
    #[command(hide = true)]
    CpuShareWorker { index: PathBuf, cases: PathBuf },
    /// (Internal) the encoder measurement, run by `encoder` in a child process.
    #[command(hide = true)]
    EncoderWorker { texts: PathBuf },
    /// bootstrap size, deployment zip size and peak memory of the bootstrap while answering.
    Footprint {
        /// Corpus whose index is bundled (default: ../shared/corpus when present, else samples/corpus).
        #[arg(long)]
        corpus: Option<PathBuf>,
        /// Eval file whose questions the bootstrap answers (default: the one that matches the corpus).
        #[arg(long)]
        cases: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    // Every figure the encoder takes part in is for one core, as a Lambda function of up to
    // 1,769 MB has: the benchmark runs itself again with the encoder on one thread (index builds
    // run `index-builder` as a child on every core; see `index_build::measure_embedded`).
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        let status = std::process::Command::new(std::env::current_exe()?)
            .args(std::env::args_os().skip(1))
            .env("CANDLE_NUM_THREADS", "1")
            .env("RAYON_NUM_THREADS", "1")
            .status()?;
        std::process::exit(status.code().unwrap_or(1));
    }
    let machine = Machine::detect();
    match Cli::parse().command {
        Command::All {
            cold_start_runs,
            rounds,
            load,
        } => all(
            &machine,
            cold_start_runs.max(1),
            rounds.max(1),
            &load.options(),
        ),
        Command::IndexBuild { corpus, runs } => {
            let corpus = corpus.unwrap_or_else(default_corpus);
            common::build_release(&[("votecheck-index-builder", "index-builder")])?;
            println!("machine: {machine}");
            println!("corpus:  {}", corpus.display());
            let mut figures = index_build::measure(&corpus, runs.max(1), true)?;
            figures.embedded = Some(index_build::measure_embedded(&corpus)?);
            figures.print();
            Ok(())
        }
        Command::ColdStart { corpus, runs } => {
            let corpus = corpus.unwrap_or_else(default_corpus);
            let (bootstrap, hello) = cold_start::build_lambda_binaries()?;
            println!("machine: {machine}");
            println!("corpus:  {}", corpus.display());
            cold_start::measure(&corpus, runs.max(1), &bootstrap, &hello)?.print();
            Ok(())
        }
        Command::Answer {
            corpus,
            cases,
            rounds,
            no_peers,
        } => {
            let corpus = corpus.unwrap_or_else(default_corpus);
            let cases = cases.unwrap_or_else(|| default_cases(&corpus));
            println!("machine: {machine}");
            println!("corpus:  {}", corpus.display());
            println!("cases:   {}", cases.display());
            answer::measure(&corpus, &cases, rounds.max(1), !no_peers)?.print();
            Ok(())
        }
        Command::Webhook {
            corpus,
            cases,
            load,
        } => {
            let corpus = corpus.unwrap_or_else(default_corpus);
            let cases = cases.unwrap_or_else(|| default_cases(&corpus));
            let directory = common::build_release(&[("votecheck", "votecheck")])?;
            println!("machine: {machine}");
            println!("corpus:  {}", corpus.display());
            println!("cases:   {}", cases.display());
            webhook_load::measure(
                &corpus,
                &cases,
                &directory.join("votecheck"),
                &load.options(),
            )?
            .print();
            Ok(())
        }
        Command::Audience { subscribers } => {
            println!("machine: {machine}");
            audience::print(&audience::run(subscribers.max(1))?);
            Ok(())
        }
        Command::FanOut {
            subscribers,
            rate,
            limited_messages,
            parallel_jobs,
        } => {
            println!("machine: {machine}");
            let figures = fan_out::run(&fan_out::FanOutOptions {
                subscribers: subscribers.max(1),
                rate: rate.max(1),
                limited_messages: limited_messages.max(1),
                parallel_jobs: parallel_jobs.max(1),
            })?;
            figures.print();
            let report = report_directory()?.join("fan-out.json");
            write_json(&report, &figures.to_json())?;
            println!("written to {}", report.display());
            Ok(())
        }
        Command::FanOutGraphServer => fan_out::graph_server_worker(),
        Command::Encoder { corpus } => {
            let corpus = corpus.unwrap_or_else(default_corpus);
            println!("machine: {machine}");
            println!("corpus:  {}", corpus.display());
            let figures = encoder::measure(&corpus)?;
            figures.print();
            let report = report_directory()?.join("encoder.json");
            write_json(&report, &figures.to_json())?;
            println!("written to {}", report.display());
            Ok(())
        }
        Command::EncoderWorker { texts } => encoder::worker(&texts),
        Command::CpuShare {
            corpus,
            cases,
            network_ms,
            gb_second_price,
            million_requests_price,
        } => {
            let corpus = corpus.unwrap_or_else(default_corpus);
            let cases = cases.unwrap_or_else(|| default_cases(&corpus));
            println!("machine: {machine}");
            println!("corpus:  {}", corpus.display());
            println!("cases:   {}", cases.display());
            let model = cpu_share::CostModel {
                network_ms,
                gb_second_price,
                million_requests_price,
            };
            let figures = cpu_share::measure(&corpus, &cases, model)?;
            figures.print();
            let report = report_directory()?.join("cpu-share.json");
            write_json(&report, &figures.to_json())?;
            println!("written to {}", report.display());
            Ok(())
        }
        Command::CpuShareWorker { index, cases } => cpu_share::worker(&index, &cases),
        Command::Footprint { corpus, cases } => {
            let corpus = corpus.unwrap_or_else(default_corpus);
            let cases = cases.unwrap_or_else(|| default_cases(&corpus));
            let directory = all_binaries()?;
            println!("machine: {machine}");
            println!("corpus:  {}", corpus.display());
            footprint::measure(&corpus, &cases, &directory)?.print();
            Ok(())
        }
    }
}

/// Builds every binary a full run needs and returns their directory.
fn all_binaries() -> anyhow::Result<PathBuf> {
    common::build_release(&[
        ("votecheck-webhook-lambda", "bootstrap"),
        ("votecheck-bench", "hello-lambda"),
        ("votecheck", "votecheck"),
        ("votecheck-index-builder", "index-builder"),
    ])
}

/// Runs one benchmark of a full run: its figures, or the failure noted and the run going on.
fn stage<T>(
    run: &mut summary::FullRun,
    name: &str,
    measure: impl FnOnce() -> anyhow::Result<T>,
) -> Option<T> {
    println!();
    println!("== {name}");
    match measure() {
        Ok(figures) => Some(figures),
        Err(problem) => {
            eprintln!("{name} failed: {problem:#}");
            run.failures
                .push((name.to_string(), format!("{problem:#}")));
            None
        }
    }
}

fn all(
    machine: &Machine,
    cold_start_runs: usize,
    rounds: usize,
    load: &LoadOptions,
) -> anyhow::Result<()> {
    let directory = all_binaries()?;
    let (bootstrap, hello, votecheck) = (
        directory.join("bootstrap"),
        directory.join("hello-lambda"),
        directory.join("votecheck"),
    );
    let date = summary::today();
    println!("machine: {machine}");
    let corpora = corpora();
    let main_corpus = corpora[0].clone();
    let mut run = summary::FullRun {
        load_average: (common::load_average(), None),
        ..summary::FullRun::default()
    };

    run.index_build = stage(&mut run, "index build", || {
        let mut figures = index_build::measure(&main_corpus, 3, false)?;
        figures.embedded = Some(index_build::measure_embedded(&main_corpus)?);
        figures.print();
        Ok(figures)
    });
    run.encoder = stage(&mut run, "encoder", || {
        let figures = encoder::measure(&main_corpus)?;
        figures.print();
        Ok(figures)
    });
    for corpus in &corpora {
        let name = format!("answer, {}", common::corpus_label(corpus));
        if let Some(figures) = stage(&mut run, &name, || {
            let figures = answer::measure(corpus, &default_cases(corpus), rounds, true)?;
            figures.print();
            Ok(figures)
        }) {
            run.answers.push(figures);
        }
    }
    run.cold_start = stage(&mut run, "cold start", || {
        let figures = cold_start::measure(&main_corpus, cold_start_runs, &bootstrap, &hello)?;
        figures.print();
        Ok(figures)
    });
    run.footprint = stage(&mut run, "footprint", || {
        let figures = footprint::measure(&main_corpus, &default_cases(&main_corpus), &directory)?;
        figures.print();
        Ok(figures)
    });
    for corpus in &corpora {
        let name = format!("webhook, {}", common::corpus_label(corpus));
        if let Some(figures) = stage(&mut run, &name, || {
            let figures = webhook_load::measure(corpus, &default_cases(corpus), &votecheck, load)?;
            figures.print();
            Ok(figures)
        }) {
            run.webhooks.push(figures);
        }
    }

    run.load_average.1 = common::load_average();
    run.print(machine, &date);
    let report = report_directory()?.join("report.json");
    write_json(&report, &run.to_json(machine, &date))?;
    println!();
    println!("written to {}", report.display());
    anyhow::ensure!(
        run.failures.is_empty(),
        "{} benchmark(s) did not complete: {}",
        run.failures.len(),
        run.failures
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
