//! `cold-start`: the release `bootstrap` against a hello-world `lambda_runtime` function
//! (`hello-lambda`, same profile), each started as a process against a local Lambda Runtime API
//! `runs` times, interleaved; the time from process start to the first answered event (a webhook
//! verification request, which needs no network), the binary sizes and peak resident memory;
//! and the bootstrap's own split of its start-up, read from its `index opened` and `ready` log
//! lines ([`StartupSplit`]).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use votecheck_end_to_end::lambda_runtime_api::{Invocation, RuntimeApi};

use crate::common::{
    build_hybrid_index, build_release, corpus_label, median, process_peak_rss_mib,
};

/// The app secret the benchmarks sign webhooks with.
pub const APP_SECRET: &str = "bench-secret";
/// The verify token of the handshake event.
pub const VERIFY_TOKEN: &str = "bench-verify";

/// What one `cold-start` run found.
#[derive(Debug, Clone)]
pub struct ColdStartFigures {
    pub corpus: PathBuf,
    pub runs: usize,
    pub bootstrap_median_ms: f64,
    pub hello_median_ms: f64,
    pub bootstrap_bytes: u64,
    pub hello_bytes: u64,
    pub bootstrap_peak_rss_mib: f64,
    pub hello_peak_rss_mib: f64,
    /// Medians of the bootstrap's own timings over the runs.
    pub split: StartupSplit,
}

/// Where the bootstrap's cold start goes, in ms (medians over the runs). Opening the index, the
/// encoder and the engine's data, then the first encode, run on a blocking thread while the
/// secrets and clients are set up on the main one (`clients`); `init` is both, as the
/// bootstrap measures it; `runtime` is the rest of the time to the first answered event
/// (starting the process, asking the Runtime API for the event, answering it).
#[derive(Debug, Clone, Copy, Default)]
pub struct StartupSplit {
    pub index: f64,
    pub encoder_load: f64,
    pub engine_data: f64,
    pub first_encode: f64,
    pub clients: f64,
    pub init: f64,
    pub runtime: f64,
}

impl StartupSplit {
    /// The fields of the log's `index opened` and `ready` lines, in the order of
    /// [`StartupSplit::from_values`].
    const FIELDS: [&'static str; 6] = [
        "index_ms",
        "encoder_load_ms",
        "engine_data_ms",
        "first_encode_ms",
        "clients_ms",
        "init_ms",
    ];

    /// The timings one bootstrap logged (JSON lines), each `None` when absent.
    fn logged(log: &str) -> [Option<f64>; 6] {
        let mut values = [None; 6];
        for line in log.lines() {
            let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            for (value, field) in values.iter_mut().zip(Self::FIELDS) {
                if let Some(number) = record
                    .pointer(&format!("/fields/{field}"))
                    .and_then(|v| v.as_f64())
                {
                    *value = Some(number);
                }
            }
        }
        values
    }

    /// Medians of each field over runs, with the total times of the same runs.
    fn from_runs(runs: &[[Option<f64>; 6]], totals: &[f64]) -> StartupSplit {
        let field = |index: usize| {
            let mut values: Vec<f64> = runs.iter().filter_map(|run| run[index]).collect();
            if values.is_empty() {
                f64::NAN
            } else {
                median(&mut values)
            }
        };
        let mut runtime: Vec<f64> = runs
            .iter()
            .zip(totals)
            .filter_map(|(run, total)| run[5].map(|init| total - init))
            .collect();
        StartupSplit {
            index: field(0),
            encoder_load: field(1),
            engine_data: field(2),
            first_encode: field(3),
            clients: field(4),
            init: field(5),
            runtime: if runtime.is_empty() {
                f64::NAN
            } else {
                median(&mut runtime)
            },
        }
    }

    pub fn to_json(self) -> serde_json::Value {
        json!({
            "index_ms": self.index,
            "encoder_load_ms": self.encoder_load,
            "engine_data_ms": self.engine_data,
            "first_encode_ms": self.first_encode,
            "clients_ms": self.clients,
            "init_ms": self.init,
            "runtime_ms": self.runtime,
        })
    }
}

impl ColdStartFigures {
    pub fn ratio(&self) -> f64 {
        self.bootstrap_median_ms / self.hello_median_ms
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "corpus": corpus_label(&self.corpus),
            "runs": self.runs,
            "bootstrap_median_ms": self.bootstrap_median_ms,
            "hello_world_median_ms": self.hello_median_ms,
            "ratio": self.ratio(),
            "bootstrap_bytes": self.bootstrap_bytes,
            "hello_world_bytes": self.hello_bytes,
            "bootstrap_peak_rss_after_first_event_mib": self.bootstrap_peak_rss_mib,
            "hello_world_peak_rss_after_first_event_mib": self.hello_peak_rss_mib,
            "bootstrap_split": self.split.to_json(),
        })
    }

    pub fn print(&self) {
        let megabytes = |bytes: u64| bytes as f64 / 1_000_000.0;
        println!();
        println!("| figure | bootstrap | hello-world | ratio |");
        println!("|---|---|---|---|");
        println!(
            "| cold start to first answered event, median of {} | {:.1} ms | {:.1} ms | {:.2} |",
            self.runs,
            self.bootstrap_median_ms,
            self.hello_median_ms,
            self.ratio()
        );
        println!(
            "| binary size | {:.1} MB | {:.1} MB | |",
            megabytes(self.bootstrap_bytes),
            megabytes(self.hello_bytes)
        );
        println!(
            "| peak RSS after the first event | {:.1} MiB | {:.1} MiB | |",
            self.bootstrap_peak_rss_mib, self.hello_peak_rss_mib
        );
        let split = &self.split;
        println!();
        println!(
            "bootstrap start-up, medians (ms): index {:.1}, encoder load {:.1}, engine data {:.1}, first encode {:.1} (one thread); clients {:.1} (another); init {:.1}; process, Runtime API and the event {:.1}",
            split.index,
            split.encoder_load,
            split.engine_data,
            split.first_encode,
            split.clients,
            split.init,
            split.runtime
        );
    }
}

/// Builds the two release binaries the cold-start benchmark compares and returns their paths.
pub fn build_lambda_binaries() -> anyhow::Result<(PathBuf, PathBuf)> {
    let directory = build_release(&[
        ("votecheck-webhook-lambda", "bootstrap"),
        ("votecheck-bench", "hello-lambda"),
    ])?;
    Ok((directory.join("bootstrap"), directory.join("hello-lambda")))
}

/// The Lambda environment of the benchmarks: no AWS account, DynamoDB and the Graph API at
/// `dynamodb` and `graph` (unreachable addresses when an event needs neither).
pub fn lambda_environment(index_dir: &Path, dynamodb: &str, graph: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_FUNCTION_NAME", "votecheck"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1769"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "bench"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb),
        ("VOTECHECK_TABLE_NAME", "votecheck-bench"),
        ("WHATSAPP_PHONE_NUMBER_ID", "109000000000001"),
        ("VOTECHECK_GRAPH_BASE_URL", graph),
        ("WHATSAPP_ACCESS_TOKEN", "bench-token"),
        ("WHATSAPP_APP_SECRET", APP_SECRET),
        ("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
        ("VOTECHECK_ID_SALT", "bench-salt"),
        ("VOTECHECK_RATE_LIMIT", "1000000/60"),
    ]
    .iter()
    .map(|(key, value)| (key.to_string(), value.to_string()))
    .chain([
        (
            "VOTECHECK_INDEX_DIR".to_string(),
            index_dir.display().to_string(),
        ),
        // The index has passage vectors; the release bootstrap would look for its model next to
        // itself, as packaged, which a build directory does not have.
        (
            "VOTECHECK_MODEL".to_string(),
            votecheck_encoder::locate_model().display().to_string(),
        ),
    ])
    .collect()
}

/// The Function URL request context of a benchmark event.
pub fn request_context(method: &str) -> serde_json::Value {
    json!({
        "http": {"method": method, "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
        "accountId": "anonymous", "apiId": "bench", "domainName": "bench", "domainPrefix": "bench",
        "requestId": "bench", "routeKey": "$default", "stage": "$default",
        "time": "28/Nov/2026:12:00:00 +0000", "timeEpoch": 0
    })
}

/// The Function URL event of a webhook verification request.
pub fn handshake_event() -> serde_json::Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/",
        "rawQueryString": format!("hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=42"),
        "headers": {}, "isBase64Encoded": false,
        "requestContext": request_context("GET"),
    })
}

/// Starts a Lambda function process against `api`, its output going to `log`.
pub fn start_function(
    binary: &Path,
    api: &RuntimeApi,
    env: &[(String, String)],
    log: &Path,
) -> anyhow::Result<std::process::Child> {
    let log = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    std::process::Command::new(binary)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("VOTECHECK_SSM_PREFIX")
        .envs(
            env.iter()
                .map(|(key, value)| (key.as_str(), value.as_str())),
        )
        .envs(api.function_environment())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))
}

/// Starts `binary` against a fresh Runtime API, times the first answered event, returns (ms,
/// peak RSS MiB, what it logged).
///
/// Each start gets its own Runtime API: a function killed right after answering may already
/// have asked for its next event, and a shared API could hand the next start's event to that
/// dead connection.
fn one_cold_start(
    binary: &Path,
    env: &[(String, String)],
    event: &serde_json::Value,
) -> anyhow::Result<(f64, Option<f64>, String)> {
    let api = &RuntimeApi::start();
    let log = tempfile::NamedTempFile::new()?;
    let started = std::time::Instant::now();
    let mut child = start_function(binary, api, env, log.path())?;
    let outcome = api.invoke(event.clone(), std::time::Duration::from_secs(30));
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let peak = process_peak_rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let printed = std::fs::read_to_string(log.path()).unwrap_or_default();
    anyhow::ensure!(
        matches!(outcome, Invocation::Response(_)),
        "{} did not answer: {outcome:?}; it printed: {printed}",
        binary.display(),
    );
    Ok((elapsed, peak, printed))
}

pub fn file_bytes(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |metadata| metadata.len())
}

/// Times `runs` cold starts of each binary, interleaved, with the index of `corpus`.
pub fn measure(
    corpus: &Path,
    runs: usize,
    bootstrap: &Path,
    hello: &Path,
) -> anyhow::Result<ColdStartFigures> {
    let work = tempfile::tempdir()?;
    let index_dir = build_hybrid_index(corpus, work.path())?;
    let lambda_env = lambda_environment(&index_dir, "http://127.0.0.1:9", "http://127.0.0.1:9");
    let event = handshake_event();
    let mut bootstrap_ms = Vec::new();
    let mut hello_ms = Vec::new();
    let mut bootstrap_peak: f64 = 0.0;
    let mut hello_peak: f64 = 0.0;
    let mut logged = Vec::new();
    for _ in 0..runs {
        // Interleaved, so that both see the same machine state.
        let (elapsed, peak, log) = one_cold_start(bootstrap, &lambda_env, &event)?;
        bootstrap_ms.push(elapsed);
        bootstrap_peak = bootstrap_peak.max(peak.unwrap_or(0.0));
        logged.push(StartupSplit::logged(&log));
        let (elapsed, peak, _) = one_cold_start(hello, &lambda_env, &event)?;
        hello_ms.push(elapsed);
        hello_peak = hello_peak.max(peak.unwrap_or(0.0));
    }
    let split = StartupSplit::from_runs(&logged, &bootstrap_ms);
    Ok(ColdStartFigures {
        corpus: corpus.to_path_buf(),
        runs,
        split,
        bootstrap_median_ms: median(&mut bootstrap_ms),
        hello_median_ms: median(&mut hello_ms),
        bootstrap_bytes: file_bytes(bootstrap),
        hello_bytes: file_bytes(hello),
        bootstrap_peak_rss_mib: bootstrap_peak,
        hello_peak_rss_mib: hello_peak,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_read_from_the_bootstraps_log_lines() {
        let log = r#"{"timestamp":"t","level":"INFO","fields":{"message":"index opened","index_ms":1.5,"encoder_load_ms":0.25,"engine_data_ms":3.0,"first_encode_ms":40.0,"clients_ms":2.0},"target":"bootstrap"}
not json
{"timestamp":"t","level":"INFO","fields":{"message":"ready","init_ms":45.0},"target":"bootstrap"}"#;
        let values = StartupSplit::logged(log);
        assert_eq!(
            values,
            [
                Some(1.5),
                Some(0.25),
                Some(3.0),
                Some(40.0),
                Some(2.0),
                Some(45.0)
            ]
        );
        let split = StartupSplit::from_runs(&[values, [None; 6]], &[60.0, 70.0]);
        assert_eq!(split.first_encode, 40.0);
        assert_eq!(
            split.runtime, 15.0,
            "total less init, over the runs that logged init"
        );
    }
}
