//! `encoder`: the sentence encoder's speed on one core against the reference engine of the
//! pinned package (its own C engine, through its Python binding, `OMP_NUM_THREADS=1`), in the
//! same run and over the same texts: every question of the held-out dev files embedded one by
//! one (p50/p99), and passages of the corpus embedded in batches (passages per second).
//!
//! One core: the measurement runs in a child process (`votecheck-bench encoder-worker`) with
//! `CANDLE_NUM_THREADS=1`, and the reference with `OMP_NUM_THREADS=1`; passages per second are
//! also measured with every core, as an index build uses them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use serde_json::{Value, json};
use votecheck_encoder::{Encoder, Role};
use votecheck_index::PassageIndex;
use votecheck_index_builder::embedding::embedding_text;
use votecheck_index_builder::{BuildOptions, build_index};

use crate::common::{build_directory, workspace_root};

/// Passages measured (spread evenly over the corpus).
const PASSAGES: usize = 120;

/// What one run found, in milliseconds and passages per second.
#[derive(Debug, Clone)]
pub struct EncoderFigures {
    pub questions: usize,
    pub passages: usize,
    pub open_ms: f64,
    pub first_embed_ms: f64,
    pub query_p50_ms: f64,
    pub query_p99_ms: f64,
    /// The learned judgement over a question's embedding (the engine's step after the encoder).
    pub judgement_p50_us: f64,
    pub judgement_p99_us: f64,
    pub passages_per_second_one_core: f64,
    pub passages_per_second_all_cores: f64,
    pub reference: Option<Value>,
}

impl EncoderFigures {
    pub fn print(&self) {
        println!(
            "encoder: {} questions one by one, {} passages in batches",
            self.questions, self.passages
        );
        println!(
            "  open {:.1} ms, first question {:.1} ms",
            self.open_ms, self.first_embed_ms
        );
        let reference = |key: &str| {
            self.reference
                .as_ref()
                .and_then(|value| value[key].as_f64())
                .map_or("-".to_string(), |value| format!("{value:.1}"))
        };
        println!(
            "  question, one core:  p50 {:.1} ms  p99 {:.1} ms   (reference engine: p50 {} ms  p99 {} ms)",
            self.query_p50_ms,
            self.query_p99_ms,
            reference("query_p50_ms"),
            reference("query_p99_ms")
        );
        println!(
            "  judgement of a question from its embedding: p50 {:.1} us  p99 {:.1} us",
            self.judgement_p50_us, self.judgement_p99_us
        );
        println!(
            "  passages/s, one core: {:.2}   all cores: {:.2}   (reference engine, one core: {})",
            self.passages_per_second_one_core,
            self.passages_per_second_all_cores,
            reference("passages_per_second")
        );
    }

    pub fn to_json(&self) -> Value {
        json!({
            "questions": self.questions,
            "passages": self.passages,
            "open_ms": self.open_ms,
            "first_embed_ms": self.first_embed_ms,
            "query_ms": {"p50": self.query_p50_ms, "p99": self.query_p99_ms},
            "judgement_us": {"p50": self.judgement_p50_us, "p99": self.judgement_p99_us},
            "passages_per_second": {"one_core": self.passages_per_second_one_core, "all_cores": self.passages_per_second_all_cores},
            "reference": self.reference,
        })
    }
}

/// The texts measured: held-out dev questions, and passages of the corpus.
fn texts(corpus: &Path, scratch: &Path) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let mut questions = Vec::new();
    for file in ["sample-dev.jsonl", "shared-dev.jsonl"] {
        let path = workspace_root().join("samples/eval/heldout").join(file);
        for line in std::fs::read_to_string(&path)?
            .lines()
            .filter(|line| !line.trim().is_empty())
        {
            let case: Value = serde_json::from_str(line)?;
            questions.push(case["question"].as_str().unwrap_or_default().to_string());
        }
    }
    let index_dir = scratch.join("index");
    build_index(corpus, &index_dir, &BuildOptions::default(), &mut |_| {})
        .with_context(|| format!("indexing {}", corpus.display()))?;
    let all = PassageIndex::open(&index_dir)?.all_passages()?;
    let step = (all.len() / PASSAGES).max(1);
    let passages = all
        .iter()
        .step_by(step)
        .take(PASSAGES)
        .map(embedding_text)
        .collect();
    Ok((questions, passages))
}

/// Measures the encoder and the reference engine.
pub fn measure(corpus: &Path) -> anyhow::Result<EncoderFigures> {
    let scratch = tempfile::tempdir()?;
    let (questions, passages) = texts(corpus, scratch.path())?;
    let input = scratch.path().join("texts.json");
    std::fs::write(
        &input,
        serde_json::to_vec(&json!({"questions": questions, "passages": passages}))?,
    )?;
    let worker = |threads: Option<&str>| -> anyhow::Result<Value> {
        let mut command = Command::new(build_directory()?.join("votecheck-bench"));
        command.arg("encoder-worker").arg(&input);
        if let Some(threads) = threads {
            command
                .env("CANDLE_NUM_THREADS", threads)
                .env("RAYON_NUM_THREADS", threads);
        }
        let output = command.output().context("running the encoder worker")?;
        anyhow::ensure!(
            output.status.success(),
            "the encoder worker failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(serde_json::from_slice(&output.stdout)?)
    };
    let one_core = worker(Some("1"))?;
    let all_cores = worker(None)?;
    let reference = run_reference(&input)
        .map_err(|problem| eprintln!("reference engine not measured: {problem:#}"))
        .ok();
    let number = |value: &Value, key: &str| value[key].as_f64().unwrap_or(f64::NAN);
    Ok(EncoderFigures {
        questions: questions.len(),
        passages: passages.len(),
        open_ms: number(&one_core, "open_ms"),
        first_embed_ms: number(&one_core, "first_embed_ms"),
        query_p50_ms: number(&one_core, "query_p50_ms"),
        judgement_p50_us: number(&one_core, "judgement_p50_us"),
        judgement_p99_us: number(&one_core, "judgement_p99_us"),
        query_p99_ms: number(&one_core, "query_p99_ms"),
        passages_per_second_one_core: number(&one_core, "passages_per_second"),
        passages_per_second_all_cores: number(&all_cores, "passages_per_second"),
        reference,
    })
}

/// The reference engine over the same texts (`bench/peers/run-reference.sh`).
fn run_reference(input: &Path) -> anyhow::Result<Value> {
    let script = workspace_root().join("bench/peers/e5_reference.sh");
    let output = Command::new("bash")
        .arg(&script)
        .arg(input)
        .env("OMP_NUM_THREADS", "1")
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// The child process: measures the encoder over the texts in `input` and prints JSON.
pub fn worker(input: &Path) -> anyhow::Result<()> {
    let texts: Value = serde_json::from_slice(&std::fs::read(input)?)?;
    let strings = |key: &str| -> Vec<String> {
        texts[key]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (questions, passages) = (strings("questions"), strings("passages"));
    let model: PathBuf = votecheck_encoder::locate_model();
    let started = Instant::now();
    let encoder = Encoder::open(&model)?;
    let open_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    encoder.embed(Role::Query, "warm up")?;
    let first_embed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let judgement = votecheck_engine::judgement::JudgementModel::bundled()?;
    let commands = votecheck_engine::judgement::JudgementModel::bundled_commands()?;
    let mut times = Vec::with_capacity(questions.len());
    let mut judgement_times = Vec::with_capacity(questions.len());
    for question in &questions {
        let started = Instant::now();
        // What the engine runs for a question: the embedding and the judgement's layer mean.
        let layered = encoder.embed_with_layer(Role::Query, question, judgement.layer)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        // Both models the engine runs on a question (the stop-and-delete one beside the main).
        let started = Instant::now();
        std::hint::black_box(judgement.judge(
            layered.embedding.as_slice(),
            &layered.layer_mean,
            false,
        ));
        std::hint::black_box(commands.judge(
            layered.embedding.as_slice(),
            &layered.layer_mean,
            false,
        ));
        judgement_times.push(started.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    judgement_times.sort_by(f64::total_cmp);
    let at = |share: f64| times[((times.len() - 1) as f64 * share).round() as usize];
    let judgement_at =
        |share: f64| judgement_times[((judgement_times.len() - 1) as f64 * share).round() as usize];
    let started = Instant::now();
    for batch in passages.chunks(votecheck_index_builder::embedding::BATCH) {
        let batch: Vec<&str> = batch.iter().map(String::as_str).collect();
        encoder.embed_batch(Role::Passage, &batch)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "open_ms": open_ms,
            "first_embed_ms": first_embed_ms,
            "query_p50_ms": at(0.5),
            "query_p99_ms": at(0.99),
            "judgement_p50_us": judgement_at(0.5),
            "judgement_p99_us": judgement_at(0.99),
            "passages_per_second": passages.len() as f64 / seconds,
        })
    );
    Ok(())
}
