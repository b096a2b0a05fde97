//! `fan-out`: an alert from its audience to the Cloud API, in one process, the way the sender
//! function delivers it: N synthetic subscribers (one topic, two languages, each with a sealed
//! address, one in ten inside their 24-hour window) on an embedded SQLite store; the alert
//! enqueued on the in-process queue (`enqueue::enqueue_alert`, timed on its own); then every job
//! delivered by a `Sender`, a few jobs at once, each job with its own 64 sends in flight.
//!
//! The channel is the real `GraphClient` against the local Graph API stand-in
//! (`votecheck_end_to_end::graph_server::GraphServer`), run in a child process of its own: the
//! stand-in keeps every request it answers (headers and JSON body) for the end-to-end tests, so
//! in this process it would put its own memory into the sender's peak. A fresh child serves
//! each run; its peak memory and CPU time are printed beside the sender's (both share the
//! machine's cores).
//!
//! Runs, each over a fresh alert id (the per-recipient claims of one run would make the next
//! skip everybody):
//!
//! 1. no rate limit (`Sender::unlimited`), through HTTP: messages per second end to end;
//! 2. the same with `RecordingChannel::counting()` in place of HTTP: the sender and the store
//!    alone, so the difference is the Graph client's (and stand-in's) cost;
//! 3. no rate limit, HTTP, one job at a time (the sender function's queue trigger takes one
//!    message per invocation), over the first `--limited-messages` recipients: bound by 64 sends
//!    in flight over the stand-in's round trip, which is timed on its own first;
//! 4. the limiter on at `--rate` for one instance (`SenderSettings { rate, concurrency: 1 }`)
//!    over `--limited-messages` recipients: the achieved rate and its ratio to the configured
//!    one;
//!
//! then the four store calls the sender makes per recipient (claim, subscriptions,
//! preferences, record), timed one at a time. The SQLite store is one connection behind a lock
//! and each call is a hop to the runtime's blocking pool: under concurrency the hops overlap but
//! the SQLite work does not, so the store is what bounds the counting-channel run.
//!
//! Prints one table, each figure beside its goal, and writes `target/bench/fan-out.json`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::json;
use votecheck_alerts::Alert;
use votecheck_alerts::enqueue::enqueue_alert;
use votecheck_alerts::job::{DeliveryJob, Job};
use votecheck_alerts::queue::LocalQueue;
use votecheck_alerts::recording::RecordingChannel;
use votecheck_alerts::sender::{AlertChannel, DeliveryReport, IN_FLIGHT, Sender};
use votecheck_alerts::settings::SenderSettings;
use votecheck_graph::{GraphClient, GraphConfig};
use votecheck_store::contact::{ContactAddress, ContactSealer};
use votecheck_store::{
    CitizenKey, DAY_SECONDS, Preferences, SendOutcome, SqliteStore, Store, StoreConfig,
    Subscription, Topic,
};

use crate::common::{
    load_average, peak_rss_mib, process_cpu_seconds, process_peak_rss_mib, reset_peak_rss,
};

/// The deployment salt of the synthetic citizens.
const SALT: &[u8] = b"fan-out benchmark salt";

/// Goal: messages per second of one process with no rate limit, on 2 cores.
pub const GOAL_MESSAGES_PER_SECOND: f64 = 2_000.0;
/// Goal: the achieved rate within this fraction of the configured one.
pub const GOAL_ACCURACY: f64 = 0.05;
/// The sender function's memory (`MemorySize` in infra/sam/template.yaml), MiB.
pub const SENDER_FUNCTION_MEMORY_MIB: f64 = 256.0;

/// Messages of the round-trip probe.
const ROUND_TRIPS: usize = 50;

/// Recipients timed per store call.
const STORE_CALL_SAMPLE: usize = 10_000;

/// What to run.
#[derive(Debug, Clone)]
pub struct FanOutOptions {
    pub subscribers: usize,
    /// Messages per second of the limited run (one instance).
    pub rate: u32,
    /// Recipients of the limited run (rounded up to whole jobs).
    pub limited_messages: usize,
    /// Jobs delivered at once.
    pub parallel_jobs: usize,
}

/// One delivery run.
#[derive(Debug, Clone)]
pub struct DeliveryRun {
    pub label: String,
    pub parallel_jobs: usize,
    pub jobs: usize,
    pub report: DeliveryReport,
    pub seconds: f64,
    /// CPU time of this process during the run.
    pub sender_cpu_seconds: Option<f64>,
    /// The Graph stand-in's CPU time and peak memory, when the run went through HTTP.
    pub server_cpu_seconds: Option<f64>,
    pub server_peak_rss_mib: Option<f64>,
    /// Requests the stand-in answered with a send result.
    pub server_sends: Option<usize>,
    /// Peak resident memory of this process during the run (its jobs included).
    pub peak_rss_mib: Option<f64>,
    /// Threads of this process at the end of the run (the runtime's blocking pool grows while
    /// store calls wait for the connection).
    pub threads: Option<u64>,
}

impl DeliveryRun {
    /// Accepted messages per second.
    pub fn per_second(&self) -> f64 {
        self.report.sent as f64 / self.seconds
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "label": self.label,
            "parallel_jobs": self.parallel_jobs,
            "jobs": self.jobs,
            "sent": self.report.sent,
            "failed": self.report.failed,
            "skipped": self.report.skipped,
            "retry_later": self.report.retry_later,
            "throttled": self.report.throttled,
            "seconds": self.seconds,
            "messages_per_second": self.per_second(),
            "sender_cpu_seconds": self.sender_cpu_seconds,
            "server_cpu_seconds": self.server_cpu_seconds,
            "server_peak_rss_mib": self.server_peak_rss_mib,
            "server_sends": self.server_sends,
            "peak_rss_mib": self.peak_rss_mib,
            "threads": self.threads,
        })
    }
}

/// Threads of this process now (Linux `Threads:` in `/proc/self/status`).
fn thread_count() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("Threads:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Every figure of one `fan-out` run.
#[derive(Debug, Clone)]
pub struct FanOutFigures {
    pub options: FanOutOptions,
    pub subscribe_seconds: f64,
    /// Seconds to enqueue the whole audience, per run (the first is the figure).
    pub enqueue_seconds: Vec<f64>,
    pub enqueued: u64,
    pub jobs: u64,
    pub unlimited_http: DeliveryRun,
    pub unlimited_counting: DeliveryRun,
    pub one_job_http: DeliveryRun,
    pub limited: DeliveryRun,
    /// One message through the Graph client to the stand-in and back, one at a time: median
    /// and slowest, milliseconds.
    pub round_trip_ms: (f64, f64),
    /// Microseconds per call, in the sender's order.
    pub store_calls: Vec<(&'static str, f64)>,
    /// Peak resident memory of this process over the whole run.
    pub peak_rss_mib: Option<f64>,
    /// Peak resident memory after the store was filled, before the first enqueue.
    pub setup_peak_rss_mib: Option<f64>,
    /// The machine's 1-minute load average at the start and at the end (other work shows here).
    pub load_average: (Option<f64>, Option<f64>),
}

impl FanOutFigures {
    /// The limited run's achieved rate over the configured one.
    pub fn accuracy(&self) -> f64 {
        self.limited.per_second() / f64::from(self.options.rate)
    }

    fn store_microseconds(&self) -> f64 {
        self.store_calls.iter().map(|(_, micros)| micros).sum()
    }
}

/// The alert, under `id`: the Spanish template has a body (free-form text inside the window),
/// the English one has not.
fn alert(id: &str) -> anyhow::Result<Alert> {
    let text = format!(
        r#"
id = "{id}"
topic = "deadlines"
[templates.es]
name = "registration_deadline"
language = "es_MX"
parameters = ["19 de octubre"]
body = "Regístrate para votar antes del {{{{1}}}}."
[templates.en]
name = "registration_deadline"
language = "en_US"
parameters = ["October 19"]
"#
    );
    Alert::parse("fan-out.toml", &text, &["en".to_owned(), "es".to_owned()])
        .map_err(|problem| anyhow::anyhow!("the benchmark's alert does not parse: {problem}"))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// Subscribes `count` citizens to the deadlines topic, alternately in Spanish and English; one
/// in ten wrote an hour ago (inside the 24-hour window). Returns their keys.
async fn subscribe(store: &dyn Store, count: usize, now: i64) -> anyhow::Result<Vec<CitizenKey>> {
    let sealer = ContactSealer::from_salt(SALT);
    let mut keys = Vec::with_capacity(count);
    for index in 0..count {
        let number = format!("1555{index:07}");
        let citizen = CitizenKey::derive(SALT, &number);
        store
            .subscribe(&Subscription {
                citizen: citizen.clone(),
                topic: Topic::Deadlines,
                language: if index % 2 == 0 { "es" } else { "en" }.to_owned(),
                jurisdiction: None,
                contact: Some(sealer.seal(&ContactAddress::PhoneNumber(number))?),
                at: now - DAY_SECONDS,
                expires_at: now + 300 * DAY_SECONDS,
            })
            .await?;
        if index % 10 == 0 {
            store
                .save_preferences(
                    &citizen,
                    &Preferences {
                        language: None,
                        opted_out: false,
                        last_seen: Some(now - 3_600),
                    },
                )
                .await?;
        }
        keys.push(citizen);
    }
    Ok(keys)
}

/// Enqueues the alert `id` on an in-process queue; returns its jobs, the seconds it took and
/// the summary's recipients.
async fn enqueue(store: &dyn Store, id: &str) -> anyhow::Result<(Vec<DeliveryJob>, f64, u64)> {
    let alert = alert(id)?;
    let queue = LocalQueue::new();
    let started = Instant::now();
    let summary = enqueue_alert(&alert, store, &queue, unix_now())
        .await
        .with_context(|| format!("enqueueing {id}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let jobs = queue
        .take_all()
        .into_iter()
        .filter_map(|job| match job {
            Job::Deliver(job) => Some(job),
            Job::Expand(_) => None,
        })
        .collect();
    Ok((jobs, seconds, summary.recipients))
}

/// Delivers `jobs` through `sender`, `parallel` jobs at once in this task, as the sender
/// function's handler drives its jobs (each job keeps its own 64 sends in flight; the HTTP
/// connections and the store calls run on the runtime's other threads).
async fn deliver_all(sender: &Sender, jobs: Vec<DeliveryJob>, parallel: usize) -> DeliveryReport {
    let mut total = DeliveryReport::default();
    let mut reports = stream::iter(jobs)
        .map(|job| async move { sender.deliver(&job, None).await })
        .buffer_unordered(parallel);
    while let Some(report) = reports.next().await {
        total += report;
    }
    total
}

/// The local Graph API stand-in in a child process (this binary's hidden
/// `fan-out-graph-server`), stopped when its standard input closes.
struct GraphServerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    base_url: String,
}

impl GraphServerProcess {
    fn start() -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("fan-out-graph-server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the Graph API stand-in")?;
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().context("the stand-in's output")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let base_url = line.trim().to_owned();
        anyhow::ensure!(
            base_url.starts_with("http://"),
            "the Graph API stand-in did not start (it printed {line:?})"
        );
        Ok(GraphServerProcess {
            child,
            stdin,
            stdout,
            base_url,
        })
    }

    fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(self.child.id())
    }

    fn peak_rss_mib(&self) -> Option<f64> {
        process_peak_rss_mib(self.child.id())
    }

    /// Stops the stand-in; returns how many sends it answered with a send result.
    fn finish(mut self) -> anyhow::Result<usize> {
        drop(self.stdin.take());
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        self.child.wait()?;
        line.trim()
            .parse()
            .with_context(|| format!("the stand-in's count of sends: {line:?}"))
    }
}

impl Drop for GraphServerProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `fan-out-graph-server`: serves the Graph API stand-in, prints its base URL, and when its
/// standard input closes prints how many message sends it answered with a send result.
pub fn graph_server_worker() -> anyhow::Result<()> {
    let graph = votecheck_end_to_end::graph_server::GraphServer::start();
    println!("{}", graph.base_url());
    std::io::stdout().flush()?;
    std::io::stdin().read_to_end(&mut Vec::new())?;
    let sends = graph
        .sends()
        .iter()
        .filter(|request| request.answered == 200)
        .count();
    println!("{sends}");
    std::io::stdout().flush()?;
    Ok(())
}

/// Which channel a run sends through.
enum Through {
    Http,
    Counting,
}

/// One delivery run over a fresh alert `id`: enqueued (timed apart), then delivered.
#[allow(clippy::too_many_arguments)]
async fn run_delivery(
    store: &Arc<SqliteStore>,
    id: &str,
    label: &str,
    through: Through,
    settings: Option<SenderSettings>,
    parallel: usize,
    limit_recipients: Option<usize>,
    enqueue_seconds: &mut Vec<f64>,
) -> anyhow::Result<(DeliveryRun, u64, usize)> {
    let (mut jobs, seconds, enqueued) = enqueue(store.as_ref(), id).await?;
    enqueue_seconds.push(seconds);
    let all_jobs = jobs.len();
    if let Some(recipients) = limit_recipients {
        let mut kept = 0;
        jobs.retain(|job| {
            let keep = kept < recipients;
            kept += job.recipients.len();
            keep
        });
    }
    let server = match through {
        Through::Http => Some(GraphServerProcess::start()?),
        Through::Counting => None,
    };
    let channel: Arc<dyn AlertChannel> = match &server {
        Some(server) => Arc::new(
            GraphClient::new(
                GraphConfig::new("109000000000001", "benchmark-access-token")
                    .with_base_url(server.base_url.clone()),
            )
            .context("building the Graph client")?,
        ),
        None => Arc::new(RecordingChannel::counting()),
    };
    let store_dyn: Arc<dyn Store> = Arc::clone(store) as Arc<dyn Store>;
    let sender = match settings {
        Some(settings) => Sender::new(store_dyn, channel, SALT, &settings),
        None => Sender::new(store_dyn, channel, SALT, &SenderSettings::default()).unlimited(),
    };
    let job_count = jobs.len();
    reset_peak_rss();
    let own = std::process::id();
    let cpu_before = process_cpu_seconds(own);
    let server_cpu_before = server.as_ref().and_then(GraphServerProcess::cpu_seconds);
    let started = Instant::now();
    let report = deliver_all(&sender, jobs, parallel).await;
    let seconds = started.elapsed().as_secs_f64();
    let difference = |after: Option<f64>, before: Option<f64>| Some(after? - before?);
    let sender_cpu_seconds = difference(process_cpu_seconds(own), cpu_before);
    let peak_rss_mib = peak_rss_mib();
    let threads = thread_count();
    let (server_cpu_seconds, server_peak_rss_mib, server_sends) = match server {
        Some(server) => {
            let cpu = difference(server.cpu_seconds(), server_cpu_before);
            let peak = server.peak_rss_mib();
            (cpu, peak, Some(server.finish()?))
        }
        None => (None, None, None),
    };
    let run = DeliveryRun {
        label: label.to_owned(),
        parallel_jobs: parallel,
        jobs: job_count,
        report,
        seconds,
        sender_cpu_seconds,
        server_cpu_seconds,
        server_peak_rss_mib,
        server_sends,
        peak_rss_mib,
        threads,
    };
    eprintln!(
        "{label}: {} sent, {} failed, {} skipped, {} left for later in {:.1} s ({:.0}/s)",
        report.sent,
        report.failed,
        report.skipped,
        report.retry_later,
        seconds,
        run.per_second()
    );
    Ok((run, enqueued, all_jobs))
}

/// Round trips of one message through the Graph client to a fresh stand-in, one at a time over
/// one kept-alive connection; milliseconds at the median and the slowest.
async fn stand_in_round_trip() -> anyhow::Result<(f64, f64)> {
    let server = GraphServerProcess::start()?;
    let client = GraphClient::new(
        GraphConfig::new("109000000000001", "benchmark-access-token")
            .with_base_url(server.base_url.clone()),
    )
    .context("building the Graph client")?;
    let to = votecheck_graph::Recipient::PhoneNumber("15550000000".to_owned());
    let content = votecheck_graph::OutboundContent::Text {
        body: "round trip".to_owned(),
    };
    let mut milliseconds = Vec::new();
    for _ in 0..ROUND_TRIPS {
        let started = Instant::now();
        client
            .send_content(&to, &content, None)
            .await
            .context("a round trip to the stand-in")?;
        milliseconds.push(started.elapsed().as_secs_f64() * 1e3);
    }
    server.finish()?;
    let slowest = milliseconds.iter().copied().fold(0.0, f64::max);
    Ok((crate::common::median(&mut milliseconds), slowest))
}

/// The four store calls of one recipient, each timed over `keys` one call at a time;
/// microseconds per call.
async fn time_store_calls(
    store: &dyn Store,
    keys: &[CitizenKey],
) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let alert_id = "fan-out-store-calls";
    let now = unix_now();
    let per_call = |started: Instant| started.elapsed().as_secs_f64() * 1e6 / keys.len() as f64;
    let started = Instant::now();
    for key in keys {
        store.claim_send(alert_id, key, now).await?;
    }
    let claim = per_call(started);
    let started = Instant::now();
    for key in keys {
        store.subscriptions(key, now).await?;
    }
    let subscriptions = per_call(started);
    let started = Instant::now();
    for key in keys {
        store.preferences(key, now).await?;
    }
    let preferences = per_call(started);
    let outcome = SendOutcome::Accepted {
        message: votecheck_store::MessageKey::derive(SALT, "wamid.BENCHMARK"),
    };
    let started = Instant::now();
    for key in keys {
        store.record_send(alert_id, key, &outcome, now).await?;
    }
    let record = per_call(started);
    Ok(vec![
        ("claim_send", claim),
        ("subscriptions", subscriptions),
        ("preferences", preferences),
        ("record_send", record),
    ])
}

/// Runs the whole benchmark.
pub fn run(options: &FanOutOptions) -> anyhow::Result<FanOutFigures> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let directory = tempfile::tempdir().context("a temporary directory")?;
    let store = Arc::new(
        SqliteStore::open(
            directory.path().join("fan-out.sqlite3"),
            StoreConfig::default(),
        )
        .context("opening the store")?,
    );
    let load_at_start = load_average();
    runtime.block_on(async {
        let started = Instant::now();
        let keys = subscribe(store.as_ref(), options.subscribers, unix_now()).await?;
        let subscribe_seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{} subscribers in {subscribe_seconds:.1} s",
            options.subscribers
        );
        let setup_peak_rss_mib = peak_rss_mib();
        let round_trip_ms = stand_in_round_trip().await?;
        let mut enqueue_seconds = Vec::new();
        let parallel = options.parallel_jobs;
        let (unlimited_http, enqueued, jobs) = run_delivery(
            &store,
            "fan-out-http",
            &format!("no limit, HTTP, {parallel} jobs at once"),
            Through::Http,
            None,
            parallel,
            None,
            &mut enqueue_seconds,
        )
        .await?;
        let (unlimited_counting, ..) = run_delivery(
            &store,
            "fan-out-counting",
            &format!("no limit, counting channel, {parallel} jobs at once"),
            Through::Counting,
            None,
            parallel,
            None,
            &mut enqueue_seconds,
        )
        .await?;
        let (one_job_http, ..) = run_delivery(
            &store,
            "fan-out-http-one-job",
            &format!(
                "no limit, HTTP, 1 job at a time (first {} recipients)",
                options.limited_messages.min(options.subscribers)
            ),
            Through::Http,
            None,
            1,
            Some(options.limited_messages),
            &mut enqueue_seconds,
        )
        .await?;
        let (limited, ..) = run_delivery(
            &store,
            "fan-out-limited",
            &format!(
                "limit {} /s (one instance), HTTP, {parallel} jobs at once",
                options.rate
            ),
            Through::Http,
            Some(SenderSettings {
                rate: options.rate,
                concurrency: 1,
            }),
            parallel,
            Some(options.limited_messages),
            &mut enqueue_seconds,
        )
        .await?;
        let sample = &keys[..keys.len().min(STORE_CALL_SAMPLE)];
        let store_calls = time_store_calls(store.as_ref(), sample).await?;
        let peak_rss_mib = [
            setup_peak_rss_mib,
            unlimited_http.peak_rss_mib,
            unlimited_counting.peak_rss_mib,
            one_job_http.peak_rss_mib,
            limited.peak_rss_mib,
            peak_rss_mib(),
        ]
        .into_iter()
        .flatten()
        .reduce(f64::max);
        Ok(FanOutFigures {
            options: options.clone(),
            subscribe_seconds,
            enqueue_seconds,
            enqueued,
            jobs: jobs as u64,
            unlimited_http,
            unlimited_counting,
            one_job_http,
            limited,
            store_calls,
            round_trip_ms,
            peak_rss_mib,
            setup_peak_rss_mib,
            load_average: (load_at_start, load_average()),
        })
    })
}

fn status(met: bool, missed_by: impl FnOnce() -> String) -> String {
    if met {
        "met".to_owned()
    } else {
        format!("MISSED: {}", missed_by())
    }
}

fn mib(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |value| format!("{value:.1} MiB"))
}

fn cpu_per_thousand(cpu: Option<f64>, run: &DeliveryRun) -> String {
    match cpu {
        Some(cpu) if run.report.sent > 0 => {
            format!("{:.2} s", cpu * 1_000.0 / run.report.sent as f64)
        }
        _ => "n/a".to_owned(),
    }
}

impl FanOutFigures {
    /// Prints the figures as tables.
    pub fn print(&self) {
        let options = &self.options;
        println!();
        println!(
            "fan-out of one alert to {} subscribers (SQLite store, in-process queue, {} jobs of up to 100)",
            options.subscribers, self.jobs
        );
        let load = |value: Option<f64>| {
            value.map_or_else(|| "n/a".to_owned(), |value| format!("{value:.2}"))
        };
        println!(
            "load average (1 min) at the start {}, at the end {}",
            load(self.load_average.0),
            load(self.load_average.1)
        );
        println!();
        println!("| figure | value | goal | status |");
        println!("|---|---|---|---|");
        println!(
            "| subscribe (setup, not a goal) | {:.1} s ({:.0} /s) | | |",
            self.subscribe_seconds,
            options.subscribers as f64 / self.subscribe_seconds
        );
        let enqueue = self.enqueue_seconds.first().copied().unwrap_or(f64::NAN);
        let others: Vec<String> = self
            .enqueue_seconds
            .iter()
            .skip(1)
            .map(|seconds| format!("{seconds:.2}"))
            .collect();
        println!(
            "| enqueue the audience ({} recipients, {} jobs) | {enqueue:.2} s ({:.0} /s; later runs {} s) | | |",
            self.enqueued,
            self.jobs,
            self.enqueued as f64 / enqueue,
            others.join(", ")
        );
        for run in [&self.unlimited_http, &self.unlimited_counting] {
            let per_second = run.per_second();
            println!(
                "| {} | {per_second:.0} messages/s ({} in {:.1} s) | ≥ {GOAL_MESSAGES_PER_SECOND:.0} /s | {} |",
                run.label,
                run.report.sent,
                run.seconds,
                status(per_second >= GOAL_MESSAGES_PER_SECOND, || format!(
                    "by {:.0} /s",
                    GOAL_MESSAGES_PER_SECOND - per_second
                ))
            );
        }
        // One job keeps IN_FLIGHT sends waiting for the stand-in: that, not the goal, is its bound.
        println!(
            "| {} | {:.0} messages/s ({} in {:.1} s) | bound: {IN_FLIGHT} in flight ÷ {:.1} ms round trip = {:.0} /s | |",
            self.one_job_http.label,
            self.one_job_http.per_second(),
            self.one_job_http.report.sent,
            self.one_job_http.seconds,
            self.round_trip_ms.0,
            IN_FLIGHT as f64 * 1e3 / self.round_trip_ms.0
        );
        let accuracy = self.accuracy();
        println!(
            "| {}: achieved rate | {:.1} messages/s ({} in {:.1} s) | {} /s | |",
            self.limited.label,
            self.limited.per_second(),
            self.limited.report.sent,
            self.limited.seconds,
            options.rate
        );
        println!(
            "| limiter accuracy (achieved / configured) | {accuracy:.4} ({:+.2} %) | within ±{:.0} % | {} |",
            (accuracy - 1.0) * 100.0,
            GOAL_ACCURACY * 100.0,
            status((accuracy - 1.0).abs() <= GOAL_ACCURACY, || format!(
                "by {:.2} points",
                ((accuracy - 1.0).abs() - GOAL_ACCURACY) * 100.0
            ))
        );
        let peak = self.peak_rss_mib.unwrap_or(f64::NAN);
        println!(
            "| peak memory of the process, whole run (VmHWM) | {} | ≤ {SENDER_FUNCTION_MEMORY_MIB:.0} MiB (the sender function's memory) | {} |",
            mib(self.peak_rss_mib),
            status(peak <= SENDER_FUNCTION_MEMORY_MIB, || format!(
                "by {:.1} MiB",
                peak - SENDER_FUNCTION_MEMORY_MIB
            ))
        );
        println!(
            "| peak memory after subscribing, before any enqueue | {} | | |",
            mib(self.setup_peak_rss_mib)
        );
        println!(
            "| one send through the Graph client to the stand-in, one at a time ({ROUND_TRIPS}) | median {:.1} ms, slowest {:.1} ms | | |",
            self.round_trip_ms.0, self.round_trip_ms.1
        );
        println!();
        println!(
            "| run | sent | failed | skipped | left for later | seconds | messages/s | sender CPU per 1,000 | stand-in CPU per 1,000 | sender peak (jobs in memory) | stand-in peak | sender threads at the end |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for run in [
            &self.unlimited_http,
            &self.unlimited_counting,
            &self.one_job_http,
            &self.limited,
        ] {
            println!(
                "| {} | {} | {} | {} | {} | {:.1} | {:.0} | {} | {} | {} | {} | {} |",
                run.label,
                run.report.sent,
                run.report.failed,
                run.report.skipped,
                run.report.retry_later,
                run.seconds,
                run.per_second(),
                cpu_per_thousand(run.sender_cpu_seconds, run),
                cpu_per_thousand(run.server_cpu_seconds, run),
                mib(run.peak_rss_mib),
                mib(run.server_peak_rss_mib),
                run.threads
                    .map_or_else(|| "n/a".to_owned(), |threads| threads.to_string()),
            );
        }
        for run in [&self.unlimited_http, &self.one_job_http, &self.limited] {
            if let Some(sends) = run.server_sends
                && sends as u64 != run.report.sent
            {
                println!(
                    "WARNING: {}: the stand-in answered {sends} sends, the sender counted {} sent",
                    run.label, run.report.sent
                );
            }
        }
        println!();
        let total = self.store_microseconds();
        println!(
            "store calls per recipient, one at a time over {} recipients (through the async Store trait, each on the blocking pool):",
            STORE_CALL_SAMPLE.min(options.subscribers)
        );
        println!();
        println!("| call | µs per call |");
        println!("|---|---|");
        for (call, micros) in &self.store_calls {
            println!("| {call} | {micros:.1} |");
        }
        println!(
            "| all four, one after another (one recipient's time in the store) | {total:.1} |"
        );
    }

    /// The figures as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "subscribers": self.options.subscribers,
            "rate": self.options.rate,
            "limited_messages": self.options.limited_messages,
            "parallel_jobs": self.options.parallel_jobs,
            "subscribe_seconds": self.subscribe_seconds,
            "enqueue_seconds": self.enqueue_seconds,
            "enqueued": self.enqueued,
            "jobs": self.jobs,
            "runs": [
                self.unlimited_http.to_json(),
                self.unlimited_counting.to_json(),
                self.one_job_http.to_json(),
                self.limited.to_json(),
            ],
            "limiter_accuracy": self.accuracy(),
            "stand_in_round_trip_ms": { "median": self.round_trip_ms.0, "slowest": self.round_trip_ms.1 },
            "store_call_microseconds": self.store_calls.iter()
                .map(|(call, micros)| (call.to_string(), json!(micros)))
                .collect::<serde_json::Map<_, _>>(),
            "peak_rss_mib": self.peak_rss_mib,
            "setup_peak_rss_mib": self.setup_peak_rss_mib,
            "load_average": [self.load_average.0, self.load_average.1],
        })
    }
}
