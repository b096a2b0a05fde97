//! `webhook`: signed webhook requests against `votecheck serve` (release build, embedded SQLite
//! store in a fresh temporary file, dry-run sender), driven by `wrk` at a fixed concurrency.
//!
//! Every request is a different message: the benchmark writes `requests` webhook bodies in the
//! Cloud API's shape, one text message each, from `citizens` different citizens (numbers), with
//! the questions of the corpus's eval file in turn (opt-out commands left out, since they would
//! silence a citizen), signs each with the app secret in Rust (`X-Hub-Signature-256`), and hands
//! the file to a Lua script that gives every `wrk` thread its own share and sends each request
//! once. Only when a run outlasts them does a thread start over, and those repeats are
//! duplicates, which the handler drops cheaply: the report counts them from `/metrics`
//! (`votecheck_messages_total{outcome=...}`), next to the messages really answered.
//!
//! The server runs with `VOTECHECK_RATE_LIMIT` high enough that no citizen is rate limited, and
//! without `WHATSAPP_ACCESS_TOKEN`, so replies are captured (a dry run) and never sent.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use votecheck_end_to_end::webhooks::TextMessage;
use votecheck_engine::Outcome;
use votecheck_engine::eval::parse_cases;

use crate::cold_start::APP_SECRET;
use crate::common::{
    build_hybrid_index, corpus_label, ensure_tool, load_average, process_cpu_seconds,
    process_peak_rss_mib,
};

/// How the load is generated.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub connections: u32,
    pub threads: u32,
    pub duration_seconds: u32,
    /// Distinct signed requests prepared.
    pub requests: usize,
    /// Distinct citizens they come from.
    pub citizens: usize,
}

/// What one `webhook` run found.
#[derive(Debug, Clone)]
pub struct WebhookFigures {
    pub corpus: PathBuf,
    pub options: LoadOptions,
    pub questions: usize,
    pub requests: u64,
    pub seconds: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub connect_errors: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    pub timeouts: u64,
    /// Responses with a status of 400 or more (`wrk` counts those).
    pub error_statuses: u64,
    /// Webhook responses by status, from the server's own counters.
    pub statuses: BTreeMap<String, u64>,
    /// Messages by outcome, from the server's own counters.
    pub outcomes: BTreeMap<String, u64>,
    pub server_peak_rss_mib: Option<f64>,
    /// CPU time the server used while `wrk` ran.
    pub server_cpu_seconds: Option<f64>,
    /// The machine's 1-minute load average just before the load started.
    pub load_average_before: Option<f64>,
}

/// Outcomes that are not an answer by the engine.
const NOT_ANSWERED: [&str; 5] = [
    "duplicate",
    "rate_limited",
    "opted_out",
    "ignored",
    "send_failed",
];

impl WebhookFigures {
    pub fn requests_per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }

    /// Socket errors plus responses other than 2xx.
    pub fn errors(&self) -> u64 {
        let non_2xx: u64 = self
            .statuses
            .iter()
            .filter(|(status, _)| !status.starts_with('2'))
            .map(|(_, count)| count)
            .sum();
        self.connect_errors
            + self.read_errors
            + self.write_errors
            + self.timeouts
            + non_2xx.max(self.error_statuses)
    }

    /// Messages the engine answered (any answer outcome, including menus and refusals).
    pub fn answered(&self) -> u64 {
        self.outcomes
            .iter()
            .filter(|(outcome, _)| !NOT_ANSWERED.contains(&outcome.as_str()))
            .map(|(_, count)| count)
            .sum()
    }

    pub fn outcome(&self, name: &str) -> u64 {
        self.outcomes.get(name).copied().unwrap_or(0)
    }

    /// Messages that were not answered (duplicates, rate limited, ...).
    pub fn not_answered(&self) -> u64 {
        NOT_ANSWERED.iter().map(|name| self.outcome(name)).sum()
    }

    /// Server CPU time per request, in milliseconds.
    pub fn server_cpu_ms_per_request(&self) -> Option<f64> {
        let requests = self.statuses.values().sum::<u64>().max(self.requests);
        self.server_cpu_seconds
            .filter(|_| requests > 0)
            .map(|seconds| seconds * 1000.0 / requests as f64)
    }

    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "corpus": corpus_label(&self.corpus),
            "load_generator": "wrk",
            "load_average_before": self.load_average_before,
            "server_cpu_seconds": self.server_cpu_seconds,
            "server_cpu_ms_per_request": self.server_cpu_ms_per_request(),
            "connections": self.options.connections,
            "threads": self.options.threads,
            "duration_seconds": self.options.duration_seconds,
            "distinct_requests_prepared": self.options.requests,
            "citizens": self.options.citizens,
            "questions": self.questions,
            "requests": self.requests,
            "seconds": self.seconds,
            "requests_per_second": self.requests_per_second(),
            "latency_ms": {"p50": self.p50_ms, "p90": self.p90_ms, "p99": self.p99_ms, "max": self.max_ms},
            "socket_errors": {"connect": self.connect_errors, "read": self.read_errors, "write": self.write_errors, "timeout": self.timeouts},
            "error_statuses": self.error_statuses,
            "errors": self.errors(),
            "webhook_statuses": self.statuses,
            "messages_by_outcome": self.outcomes,
            "answered": self.answered(),
            "not_answered": self.not_answered(),
            "server_peak_rss_mib": self.server_peak_rss_mib,
        })
    }

    pub fn print(&self) {
        println!();
        println!("| figure | value |");
        println!("|---|---|");
        println!(
            "| load | wrk, {} connections, {} threads, {} s, {} distinct signed requests from {} citizens |",
            self.options.connections,
            self.options.threads,
            self.options.duration_seconds,
            self.options.requests,
            self.options.citizens
        );
        println!("| requests | {} in {:.1} s |", self.requests, self.seconds);
        println!("| requests/s | {:.0} |", self.requests_per_second());
        println!(
            "| latency p50 / p90 / p99 / max | {:.2} / {:.2} / {:.2} / {:.2} ms |",
            self.p50_ms, self.p90_ms, self.p99_ms, self.max_ms
        );
        println!(
            "| errors (socket + non-2xx) | {} (connect {}, read {}, write {}, timeout {}, status >= 400 {}) |",
            self.errors(),
            self.connect_errors,
            self.read_errors,
            self.write_errors,
            self.timeouts,
            self.error_statuses
        );
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        println!("| webhook responses by status | {} |", statuses.join(", "));
        let outcomes: Vec<String> = self
            .outcomes
            .iter()
            .map(|(outcome, count)| format!("{outcome}: {count}"))
            .collect();
        println!("| messages by outcome | {} |", outcomes.join(", "));
        println!(
            "| answered / not answered (duplicate, rate limited, ...) | {} / {} |",
            self.answered(),
            self.not_answered()
        );
        if let Some(peak) = self.server_peak_rss_mib {
            println!("| votecheck serve peak RSS | {peak:.1} MiB |");
        }
        if let Some(cpu) = self.server_cpu_ms_per_request() {
            println!("| votecheck serve CPU time per request | {cpu:.2} ms |");
        }
        if let Some(load) = self.load_average_before {
            println!("| machine load average before the run | {load:.2} |");
        }
    }
}

/// The Cloud API webhook body of one text message.
pub fn text_message_body(citizen: &str, message_id: &str, text: &str, forwarded: bool) -> Vec<u8> {
    TextMessage {
        timestamp: votecheck_now(),
        forwarded,
        ..TextMessage::new(citizen, message_id, text)
    }
    .body()
}

fn votecheck_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The `X-Hub-Signature-256` value of a body.
pub fn sign(body: &[u8]) -> anyhow::Result<String> {
    votecheck_whatsapp::signature_header(APP_SECRET.as_bytes(), body)
        .map_err(|problem| anyhow::anyhow!("signing a webhook body: {problem}"))
}

/// The questions of an eval file that a load may send: every case but opt-out commands.
pub fn load_questions(cases_path: &Path) -> anyhow::Result<Vec<(String, bool)>> {
    let cases = parse_cases(&std::fs::read_to_string(cases_path)?)
        .map_err(|error| anyhow::anyhow!("{}: {error}", cases_path.display()))?;
    let questions: Vec<(String, bool)> = cases
        .into_iter()
        .filter(|case| case.outcome != Outcome::OptOut)
        .map(|case| (case.question, case.forwarded))
        .collect();
    anyhow::ensure!(
        !questions.is_empty(),
        "{} has no questions",
        cases_path.display()
    );
    Ok(questions)
}

/// A citizen's WhatsApp number.
pub fn citizen_number(index: usize) -> String {
    format!("1555{:07}", index)
}

/// Writes `count` signed requests, one `signature TAB body` line each.
fn write_requests(
    path: &Path,
    questions: &[(String, bool)],
    count: usize,
    citizens: usize,
) -> anyhow::Result<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    for number in 0..count {
        let (question, forwarded) = &questions[number % questions.len()];
        let body = text_message_body(
            &citizen_number(number % citizens.max(1)),
            &format!("wamid.BENCH.{number:09}"),
            question,
            *forwarded,
        );
        file.write_all(sign(&body)?.as_bytes())?;
        file.write_all(b"\t")?;
        file.write_all(&body)?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    Ok(())
}

/// The `wrk` script: each thread takes every n-th prepared request and sends each once, in
/// order; `done` prints the figures as one JSON line.
const WRK_SCRIPT: &str = r#"-- Written by votecheck-bench. Arguments: the file of prepared requests (one
-- "signature TAB body" line each) and the number of threads.
local threads = {}
local thread_counter = 0

function setup(thread)
  thread:set("thread_number", thread_counter)
  thread_counter = thread_counter + 1
  table.insert(threads, thread)
end

local prepared = {}
local next_request = 1
wraps = 0

function init(args)
  local thread_count = tonumber(args[2])
  local line_number = 0
  for line in io.lines(args[1]) do
    if line_number % thread_count == thread_number then
      local tab = string.find(line, "\t", 1, true)
      prepared[#prepared + 1] = wrk.format("POST", "/webhook", {
        ["Content-Type"] = "application/json",
        ["X-Hub-Signature-256"] = string.sub(line, 1, tab - 1),
      }, string.sub(line, tab + 1))
    end
    line_number = line_number + 1
  end
end

function request()
  local prepared_request = prepared[next_request]
  next_request = next_request + 1
  if next_request > #prepared then
    next_request = 1
    wraps = wraps + 1
  end
  return prepared_request
end

function done(summary, latency, requests)
  local wrapped = 0
  for _, thread in ipairs(threads) do
    wrapped = wrapped + (thread:get("wraps") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    'VOTECHECK_WRK {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"wraps":%d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write,
    errors.status, errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, wrapped))
end
"#;

/// A running `votecheck serve`, killed on drop.
struct Server {
    child: Child,
    address: SocketAddr,
    _log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `votecheck serve --index DIR --addr 127.0.0.1:0 --store STORE` and waits for the
/// address it prints.
fn start_server(votecheck: &Path, index_dir: &Path, work: &Path) -> anyhow::Result<Server> {
    let log = work.join("serve.log");
    let mut child = Command::new(votecheck)
        .arg("serve")
        .arg("--index")
        .arg(index_dir)
        .args(["--addr", "127.0.0.1:0", "--store"])
        .arg(work.join("store.sqlite3"))
        .env_remove("WHATSAPP_ACCESS_TOKEN")
        .env_remove("WHATSAPP_PHONE_NUMBER_ID")
        .env("WHATSAPP_APP_SECRET", APP_SECRET)
        .env("WHATSAPP_VERIFY_TOKEN", "bench-verify")
        .env("VOTECHECK_ID_SALT", "bench-salt")
        .env("VOTECHECK_RATE_LIMIT", "1000000/60")
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .with_context(|| format!("starting {} serve", votecheck.display()))?;
    let stdout = child.stdout.take().context("the server's output")?;
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line
                .strip_prefix("listening on http://")
                .and_then(|rest| rest.split('/').next())
            {
                let _ = sender.send(url.to_string());
            }
        }
    });
    let mut server = Server {
        child,
        address: SocketAddr::from(([127, 0, 0, 1], 0)),
        _log: log.clone(),
    };
    match receiver.recv_timeout(Duration::from_secs(120)) {
        Ok(address) => {
            server.address = address
                .parse()
                .with_context(|| format!("the server's address `{address}`"))?;
            Ok(server)
        }
        Err(_) => anyhow::bail!(
            "votecheck serve did not start listening: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        ),
    }
}

/// One HTTP/1.1 request on a fresh connection; returns the status and body.
fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .with_context(|| format!("connecting to {address}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .with_context(|| format!("no HTTP status in the answer to {method} {path}"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// The value of every sample of `family` in an OpenMetrics text, by the value of `label`.
fn counters(metrics: &str, family: &str, label: &str, only: Option<&str>) -> BTreeMap<String, u64> {
    let mut found = BTreeMap::new();
    let prefix = format!("{family}{{");
    let wanted = format!("{label}=\"");
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix(&prefix) else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        if only.is_some_and(|only| !labels.contains(only)) {
            continue;
        }
        let Some(start) = labels.find(&wanted) else {
            continue;
        };
        let name: String = labels[start + wanted.len()..]
            .chars()
            .take_while(|character| *character != '"')
            .collect();
        let value = value.trim().parse::<f64>().unwrap_or(0.0) as u64;
        *found.entry(name).or_default() += value;
    }
    found
}

/// Messages by outcome and webhook responses by status, from `/metrics`.
fn server_counters(
    address: SocketAddr,
) -> anyhow::Result<(BTreeMap<String, u64>, BTreeMap<String, u64>)> {
    let (status, text) = http(address, "GET", "/metrics", &[], b"")?;
    anyhow::ensure!(status == 200, "GET /metrics answered {status}");
    Ok((
        counters(&text, "votecheck_messages_total", "outcome", None),
        counters(
            &text,
            "votecheck_requests_total",
            "status",
            Some("endpoint=\"webhook\""),
        ),
    ))
}

fn subtract(
    after: &BTreeMap<String, u64>,
    before: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(key, value)| {
            (
                key.clone(),
                value.saturating_sub(before.get(key).copied().unwrap_or(0)),
            )
        })
        .filter(|(_, value)| *value > 0)
        .collect()
}

/// Runs the load against a fresh `votecheck serve` on the index of `corpus`.
pub fn measure(
    corpus: &Path,
    cases_path: &Path,
    votecheck: &Path,
    options: &LoadOptions,
) -> anyhow::Result<WebhookFigures> {
    ensure_tool("wrk", "wrk")?;
    let work = tempfile::tempdir()?;
    let index_dir = build_hybrid_index(corpus, work.path())?;
    let questions = load_questions(cases_path)?;
    let requests_file = work.path().join("requests.tsv");
    write_requests(
        &requests_file,
        &questions,
        options.requests,
        options.citizens,
    )?;
    let script = work.path().join("webhook.lua");
    std::fs::write(&script, WRK_SCRIPT)?;

    let server = start_server(votecheck, &index_dir, work.path())?;
    // One message outside the prepared set: the signature is accepted and it is answered.
    let body = text_message_body(
        &citizen_number(9_999_999),
        "wamid.BENCH.CHECK",
        &questions[0].0,
        false,
    );
    let (status, answer) = http(
        server.address,
        "POST",
        "/webhook",
        &[
            ("Content-Type", "application/json"),
            ("X-Hub-Signature-256", &sign(&body)?),
        ],
        &body,
    )?;
    anyhow::ensure!(
        status == 200,
        "a signed webhook was answered {status}: {answer}"
    );
    let (outcomes_before, statuses_before) = server_counters(server.address)?;
    anyhow::ensure!(
        outcomes_before
            .keys()
            .any(|outcome| !NOT_ANSWERED.contains(&outcome.as_str())),
        "the check message was not answered: {outcomes_before:?}"
    );

    let load_average_before = load_average();
    let cpu_before = process_cpu_seconds(server.child.id());
    let started = Instant::now();
    let output = Command::new("wrk")
        .arg("--threads")
        .arg(options.threads.to_string())
        .arg("--connections")
        .arg(options.connections.to_string())
        .arg("--duration")
        .arg(format!("{}s", options.duration_seconds))
        .args(["--timeout", "10s", "--script"])
        .arg(&script)
        .arg(format!("http://{}/webhook", server.address))
        .arg("--")
        .arg(&requests_file)
        .arg(options.threads.to_string())
        .output()
        .context("running wrk")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "wrk failed ({}): {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("VOTECHECK_WRK "))
        .with_context(|| format!("wrk printed no figures: {stdout}"))?;
    let figures: serde_json::Value =
        serde_json::from_str(line).with_context(|| format!("wrk's figures: {line}"))?;
    let number = |key: &str| figures[key].as_f64().unwrap_or(0.0);
    let server_cpu_seconds = process_cpu_seconds(server.child.id())
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let server_peak_rss_mib = process_peak_rss_mib(server.child.id());
    let (outcomes_after, statuses_after) = server_counters(server.address)?;
    drop(server);
    let duration = number("duration_us") / 1e6;
    eprintln!(
        "wrk ran {:.1} s (with setup {:.1} s)",
        duration,
        started.elapsed().as_secs_f64()
    );
    Ok(WebhookFigures {
        corpus: corpus.to_path_buf(),
        options: options.clone(),
        questions: questions.len(),
        requests: number("requests") as u64,
        seconds: duration,
        p50_ms: number("p50_us") / 1000.0,
        p90_ms: number("p90_us") / 1000.0,
        p99_ms: number("p99_us") / 1000.0,
        max_ms: number("max_us") / 1000.0,
        connect_errors: number("connect") as u64,
        read_errors: number("read") as u64,
        write_errors: number("write") as u64,
        timeouts: number("timeout") as u64,
        error_statuses: number("status") as u64,
        statuses: subtract(&statuses_after, &statuses_before),
        outcomes: subtract(&outcomes_after, &outcomes_before),
        server_peak_rss_mib,
        server_cpu_seconds,
        load_average_before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use votecheck_whatsapp::{InboundEvent, MessageContent, parse_events, verify_signature};

    #[test]
    fn prepared_bodies_are_signed_text_messages_the_handler_accepts() {
        let body = text_message_body(&citizen_number(42), "wamid.BENCH.1", "¿Dónde voto?", true);
        let signature = sign(&body).unwrap();
        assert_eq!(
            verify_signature(APP_SECRET.as_bytes(), Some(&signature), &body),
            Ok(())
        );
        let events = parse_events(&body).unwrap();
        let [InboundEvent::Message(message)] = events.as_slice() else {
            panic!("one message expected, got {events:?}");
        };
        assert_eq!(message.message_id, "wamid.BENCH.1");
        assert_eq!(message.sender.wa_id.as_deref(), Some("15550000042"));
        assert!(message.forwarded);
        assert_eq!(
            message.content,
            MessageContent::Text("¿Dónde voto?".to_string())
        );
        // One line per request in the prepared file: no raw tab or newline in a body.
        assert!(!body.contains(&b'\n') && !body.contains(&b'\t'));
    }

    #[test]
    fn counters_are_read_from_the_exposition_text() {
        let text = "# TYPE votecheck_messages counter\n\
            votecheck_messages_total{outcome=\"answer\"} 12\n\
            votecheck_messages_total{outcome=\"duplicate\"} 3\n\
            votecheck_requests_total{endpoint=\"webhook\",status=\"200\"} 15\n\
            votecheck_requests_total{endpoint=\"console\",status=\"200\"} 4\n# EOF\n";
        let outcomes = counters(text, "votecheck_messages_total", "outcome", None);
        assert_eq!(outcomes["answer"], 12);
        assert_eq!(outcomes["duplicate"], 3);
        let statuses = counters(
            text,
            "votecheck_requests_total",
            "status",
            Some("endpoint=\"webhook\""),
        );
        assert_eq!(statuses.len(), 1);
        assert_eq!(statuses["200"], 15);
    }
}
