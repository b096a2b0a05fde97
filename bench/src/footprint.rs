//! `footprint`: what the Lambda function costs to ship and to run: the release `bootstrap`'s
//! size, the deployment zip's size (`bootstrap` at the root and the corpus's `index/`), and the
//! peak resident memory of the `bootstrap` process while it answers real questions.
//!
//! The zip comes from the project's packaging script, `infra/package.sh`, given the release
//! `bootstrap` and `index-builder`; were it missing, the benchmark would build it the same way
//! (`bootstrap` at the root and `index/`, `zip -r -X`, deflate) and say so.
//!
//! For the memory, the `bootstrap` runs against a local Lambda Runtime API with its real
//! adapters: DynamoDB is a `moto_server` (from `bash scripts/python-env.sh`, with the table made
//! by `votecheck store init`) and the Graph API a local stand-in, so every event takes the
//! production path (signature, claim, rate limit, answer, reply, record). It answers every
//! question of the eval file once, as signed webhook events, and its `VmHWM` is read before it
//! stops.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::Context;
use serde_json::json;
use votecheck_end_to_end::graph_server::GraphServer;
use votecheck_end_to_end::lambda_runtime_api::{Invocation, RuntimeApi};
use votecheck_end_to_end::moto::MotoServer;
use votecheck_index_builder::{BuildOptions, build_index};

use crate::cold_start::{
    file_bytes, handshake_event, lambda_environment, request_context, start_function,
};
use crate::common::{corpus_label, ensure_tool, process_peak_rss_mib, workspace_root};
use crate::webhook_load::{citizen_number, load_questions, sign, text_message_body};

/// What one `footprint` run found.
#[derive(Debug, Clone)]
pub struct FootprintFigures {
    pub corpus: PathBuf,
    pub bootstrap_bytes: u64,
    pub index_bytes: u64,
    pub model_bytes: u64,
    pub zip_bytes: u64,
    /// How the zip was made.
    pub zip_made_by: String,
    pub answered_events: usize,
    /// Replies the Graph API stand-in received.
    pub replies_sent: usize,
    pub answering_peak_rss_mib: f64,
    pub hello_peak_rss_mib: f64,
}

impl FootprintFigures {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "corpus": corpus_label(&self.corpus),
            "bootstrap_bytes": self.bootstrap_bytes,
            "index_bytes": self.index_bytes,
            "model_bytes": self.model_bytes,
            "zip_bytes": self.zip_bytes,
            "zip_made_by": self.zip_made_by,
            "answered_events": self.answered_events,
            "replies_sent": self.replies_sent,
            "bootstrap_peak_rss_while_answering_mib": self.answering_peak_rss_mib,
            "hello_world_peak_rss_mib": self.hello_peak_rss_mib,
        })
    }

    pub fn print(&self) {
        let megabytes = |bytes: u64| bytes as f64 / 1_000_000.0;
        println!();
        println!("| figure | value |");
        println!("|---|---|");
        println!(
            "| bootstrap binary (release) | {:.1} MB |",
            megabytes(self.bootstrap_bytes)
        );
        println!(
            "| index of the {} (uncompressed) | {:.1} MB |",
            corpus_label(&self.corpus),
            megabytes(self.index_bytes)
        );
        println!("| encoder model | {:.1} MB |", megabytes(self.model_bytes));
        println!(
            "| deployment zip | {:.1} MB ({}) |",
            megabytes(self.zip_bytes),
            self.zip_made_by
        );
        println!(
            "| bootstrap peak RSS while answering | {:.1} MiB ({} webhook events answered, {} replies sent) |",
            self.answering_peak_rss_mib, self.answered_events, self.replies_sent
        );
        println!(
            "| hello-world peak RSS after one event | {:.1} MiB |",
            self.hello_peak_rss_mib
        );
    }
}

fn tree_bytes(root: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(root) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                tree_bytes(&path)
            } else {
                file_bytes(&path)
            }
        })
        .sum()
}

/// The project's packaging script.
pub const PACKAGING_SCRIPT: &str = "infra/package.sh";

/// The deployment zip of `corpus` with `bootstrap`: made by [`PACKAGING_SCRIPT`] when it exists
/// (given the release `bootstrap` and `index-builder`), otherwise the same way here: `bootstrap`
/// at the root and `index/`, deflated with `zip -r -X`. Returns the zip and how it was made.
fn build_zip(
    corpus: &Path,
    bootstrap: &Path,
    index_builder: &Path,
    index_dir: &Path,
    work: &Path,
) -> anyhow::Result<(PathBuf, String)> {
    let zip = work.join("votecheck.zip");
    let script = workspace_root().join(PACKAGING_SCRIPT);
    if script.is_file() {
        let output = Command::new("bash")
            .arg(&script)
            .arg("--corpus")
            .arg(corpus)
            .arg("--out")
            .arg(&zip)
            .arg("--bootstrap")
            .arg(bootstrap)
            .arg("--index-builder")
            .arg(index_builder)
            .output()
            .with_context(|| format!("running {PACKAGING_SCRIPT}"))?;
        anyhow::ensure!(
            output.status.success(),
            "{PACKAGING_SCRIPT} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        return Ok((
            zip,
            format!("{PACKAGING_SCRIPT} with the release bootstrap and index-builder"),
        ));
    }
    ensure_tool("zip", "zip")?;
    let staging = work.join("package");
    std::fs::create_dir_all(&staging)?;
    std::fs::copy(bootstrap, staging.join("bootstrap"))
        .with_context(|| format!("copying {}", bootstrap.display()))?;
    copy_tree(index_dir, &staging.join("index"))?;
    let status = Command::new("zip")
        .current_dir(&staging)
        .args(["-q", "-r", "-X"])
        .arg(&zip)
        .args(["bootstrap", "index"])
        .status()
        .context("running zip")?;
    anyhow::ensure!(status.success(), "zip failed with {status}");
    Ok((
        zip,
        format!(
            "built by the benchmark ({PACKAGING_SCRIPT} is missing): bootstrap at the root + index/, zip -r -X (deflate)"
        ),
    ))
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

/// `moto_server` for the answering run: installs it with `scripts/python-env.sh` when missing.
fn start_dynamodb() -> anyhow::Result<MotoServer> {
    let configured = std::env::var_os("VOTECHECK_MOTO_SERVER").is_some();
    if !configured && !workspace_root().join(".venv/bin/moto_server").is_file() {
        let status = Command::new("bash")
            .arg(workspace_root().join("scripts/python-env.sh"))
            .stdout(std::process::Stdio::null())
            .status()
            .context("running scripts/python-env.sh for moto_server")?;
        anyhow::ensure!(
            status.success(),
            "scripts/python-env.sh failed: moto_server (the local DynamoDB) is needed to measure the bootstrap answering"
        );
    }
    Ok(MotoServer::start())
}

/// A signed Function URL event for a webhook POST.
fn webhook_event(body: &[u8]) -> anyhow::Result<serde_json::Value> {
    Ok(json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-hub-signature-256": sign(body)?},
        "requestContext": request_context("POST"),
        "body": String::from_utf8_lossy(body),
        "isBase64Encoded": false,
    }))
}

/// Starts `binary` with `env`, sends it `events` one by one and returns its peak RSS (MiB).
fn peak_rss_over_events(
    binary: &Path,
    env: &[(String, String)],
    events: &[serde_json::Value],
) -> anyhow::Result<f64> {
    let api = RuntimeApi::start();
    let log = tempfile::NamedTempFile::new()?;
    let mut child = start_function(binary, &api, env, log.path())?;
    let mut problem = None;
    for event in events {
        match api.invoke(event.clone(), Duration::from_secs(30)) {
            Invocation::Response(response)
                if response["statusCode"]
                    .as_u64()
                    .is_none_or(|status| status == 200) => {}
            other => {
                problem = Some(format!(
                    "{} answered {other:?}; it printed: {}",
                    binary.display(),
                    std::fs::read_to_string(log.path()).unwrap_or_default()
                ));
                break;
            }
        }
    }
    let peak = process_peak_rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    if let Some(problem) = problem {
        anyhow::bail!(problem);
    }
    peak.context("reading the peak RSS of the function")
}

/// Measures the footprint with the index of `corpus` and the questions of `cases_path`.
pub fn measure(
    corpus: &Path,
    cases_path: &Path,
    binaries: &Path,
) -> anyhow::Result<FootprintFigures> {
    let bootstrap = &binaries.join("bootstrap");
    let hello = &binaries.join("hello-lambda");
    let votecheck = &binaries.join("votecheck");
    let work = tempfile::tempdir()?;
    let index_dir = work.path().join("index");
    let model = votecheck_encoder::locate_model();
    build_index(
        corpus,
        &index_dir,
        &BuildOptions::embedding_with(model.clone()),
        &mut |_| {},
    )
    .with_context(|| format!("building {}", corpus.display()))?;
    let (zip, zip_made_by) = build_zip(
        corpus,
        bootstrap,
        &binaries.join("index-builder"),
        &index_dir,
        work.path(),
    )?;

    let moto = start_dynamodb()?;
    let aws = [
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_REGION", "us-east-1"),
    ];
    let init = Command::new(votecheck)
        .args(["store", "init", "--table", "votecheck-bench"])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .envs(aws)
        .output()
        .context("running votecheck store init")?;
    anyhow::ensure!(
        init.status.success(),
        "votecheck store init against moto_server failed: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let graph = GraphServer::start();
    let env = lambda_environment(&index_dir, &moto.endpoint, &graph.base_url());
    let questions = load_questions(cases_path)?;
    let mut events = vec![handshake_event()];
    for (number, (question, forwarded)) in questions.iter().enumerate() {
        let body = text_message_body(
            &citizen_number(number % 50),
            &format!("wamid.FOOTPRINT.{number:06}"),
            question,
            *forwarded,
        );
        events.push(webhook_event(&body)?);
    }
    let answering_peak_rss_mib = peak_rss_over_events(bootstrap, &env, &events)?;
    let replies_sent = graph.sends().len();
    let hello_peak_rss_mib = peak_rss_over_events(hello, &env, &events[..1])?;
    Ok(FootprintFigures {
        corpus: corpus.to_path_buf(),
        bootstrap_bytes: file_bytes(bootstrap),
        index_bytes: tree_bytes(&index_dir),
        model_bytes: file_bytes(&model),
        zip_bytes: file_bytes(&zip),
        zip_made_by,
        answered_events: questions.len(),
        replies_sent,
        answering_peak_rss_mib,
        hello_peak_rss_mib,
    })
}
