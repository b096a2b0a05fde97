//! Trains the judgement models (`votecheck_engine::judgement`) with the encoder's model: the main
//! model on the labelled files of `judgement::training::TRAINING_FILES` (every judgement but
//! stop, delete and problem reports), the second model on those of `COMMAND_TRAINING_FILES`
//! (every judgement); prints what cross-validation measured, and writes
//! `functions/engine/data/compiled/judgement.postcard` and `commands.postcard`. Deterministic:
//! the same files and model give the same bytes. Run through `bash scripts/train-judgement.sh`.
//!
//! ```text
//! cargo run --release -p votecheck-engine --example train_judgement
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use votecheck_encoder::{Encoder, Role, locate_model};
use votecheck_engine::engine::bound;
use votecheck_engine::judgement::training::{
    COMMAND_TRAINING_FILES, Example, FALSE_POSITIVE_BUDGETS, Fitted, LAYER, LabelledMessage,
    TRAINING_FILES, fingerprint, fit, read_labelled, threshold_for_budget,
};
use votecheck_engine::judgement::{COMMANDS_PATH, JUDGEMENT_PATH, Judgement, decide};

/// Texts embedded per call.
const BATCH: usize = 16;

/// One labelled message, embedded, with the file it came from.
struct Embedded {
    file: &'static str,
    message: LabelledMessage,
    example: Example,
}

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut sources: Vec<(&'static str, Vec<u8>)> = Vec::new();
    for file in COMMAND_TRAINING_FILES {
        let bytes = std::fs::read(root.join(file)).with_context(|| format!("reading {file}"))?;
        sources.push((*file, bytes));
    }
    let mut messages: Vec<(&'static str, LabelledMessage)> = Vec::new();
    for (file, bytes) in &sources {
        let text = std::str::from_utf8(bytes).with_context(|| format!("{file} is not UTF-8"))?;
        for message in read_labelled(file, text).map_err(anyhow::Error::msg)? {
            messages.push((file, message));
        }
    }
    let model_path: PathBuf = locate_model();
    let encoder = Encoder::open(&model_path)
        .with_context(|| format!("opening the encoder's model {}", model_path.display()))?;
    eprintln!(
        "embedding {} labelled messages with {}",
        messages.len(),
        encoder.model_id()
    );
    let mut embedded = Vec::with_capacity(messages.len());
    for chunk in messages.chunks(BATCH) {
        let texts: Vec<String> = chunk
            .iter()
            .map(|(_, message)| bound(&message.text))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let embeddings = encoder.embed_batch_with_layer(Role::Query, &refs, LAYER)?;
        for ((file, message), layered) in chunk.iter().zip(embeddings) {
            embedded.push(Embedded {
                file,
                example: Example {
                    id: message.id.clone(),
                    embedding: layered.embedding.into_vec(),
                    layer_mean: layered.layer_mean,
                    forwarded: message.forwarded,
                    judgement: message.judgement,
                },
                message: message.clone(),
            });
        }
    }

    let main: Vec<&Embedded> = embedded
        .iter()
        .filter(|one| {
            TRAINING_FILES.contains(&one.file) && Judgement::MAIN.contains(&one.example.judgement)
        })
        .collect();
    let fitted = train(
        &sources,
        TRAINING_FILES,
        &main,
        &Judgement::MAIN,
        encoder.model_id(),
    )?;
    print_partisan_by_language(&main, &fitted);
    print_partisan_budget_curve(&main, &fitted);
    write_cross_validated(&main, &fitted)?;
    write(&fitted, JUDGEMENT_PATH)?;

    let every: Vec<&Embedded> = embedded.iter().collect();
    println!("\nsecond model (only its command and report_problem judgements are used):");
    let fitted = train(
        &sources,
        COMMAND_TRAINING_FILES,
        &every,
        &Judgement::ALL,
        encoder.model_id(),
    )?;
    write(&fitted, COMMANDS_PATH)
}

/// Fits a model with outputs `classes` on `chosen`, fingerprinted by `files`, and prints what
/// cross-validation measured.
fn train(
    sources: &[(&'static str, Vec<u8>)],
    files: &[&str],
    chosen: &[&Embedded],
    classes: &[Judgement],
    model_id: &str,
) -> Result<Fitted> {
    let named: Vec<(&str, &[u8])> = sources
        .iter()
        .filter(|(name, _)| files.contains(name))
        .map(|(name, bytes)| (*name, bytes.as_slice()))
        .collect();
    let examples: Vec<Example> = chosen.iter().map(|one| one.example.clone()).collect();
    let fitted = fit(&examples, classes, model_id, fingerprint(&named));
    println!("{}", fitted.model.cross_validation);
    Ok(fitted)
}

fn print_partisan_by_language(chosen: &[&Embedded], fitted: &Fitted) {
    println!("cross-validated, by language (partisan refused / questions refused):");
    let mut by_language: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for (one, probabilities) in chosen.iter().zip(&fitted.cross_validated) {
        let decided = decide(
            probabilities,
            &fitted.model.thresholds,
            &fitted.model.classes,
        )
        .judgement;
        let counts = by_language
            .entry(one.message.language.as_str())
            .or_default();
        match one.message.judgement {
            Judgement::Partisan => {
                counts[1] += 1;
                counts[0] += usize::from(decided == Judgement::Partisan);
            }
            Judgement::Question | Judgement::Mixed => {
                counts[3] += 1;
                counts[2] += usize::from(decided == Judgement::Partisan);
            }
            _ => {}
        }
    }
    for (language, [refused, partisan, wrongly, questions]) in by_language {
        println!("  {language:<3} {refused}/{partisan}  {wrongly}/{questions}");
    }
}

/// Partisan recall at other false-refusal budgets than the chosen one, from the same
/// cross-validated probabilities: what a different operating point would trade.
fn print_partisan_budget_curve(chosen: &[&Embedded], fitted: &Fitted) {
    let Some(at) = fitted.model.row(Judgement::Partisan) else {
        return;
    };
    let Some((_, _, negatives)) = FALSE_POSITIVE_BUDGETS
        .iter()
        .find(|(judgement, _, _)| *judgement == Judgement::Partisan)
    else {
        return;
    };
    let mut questions: Vec<f32> = Vec::new();
    let mut partisan: Vec<f32> = Vec::new();
    for (one, probabilities) in chosen.iter().zip(&fitted.cross_validated) {
        match one.example.judgement {
            Judgement::Partisan => partisan.push(probabilities[at]),
            judgement if negatives.contains(&judgement) => questions.push(probabilities[at]),
            _ => {}
        }
    }
    println!("partisan recall by false-refusal budget (cross-validated, precedence ignored):");
    for budget in [0.0025f32, 0.005, 0.0075, 0.01, 0.015, 0.02] {
        let threshold = threshold_for_budget(questions.clone(), budget);
        let caught = partisan.iter().filter(|&&p| p >= threshold).count();
        println!(
            "  {:>5.2} %  threshold {threshold:.3}  recall {caught}/{}",
            budget * 100.0,
            partisan.len()
        );
    }
}

/// Writes each message's cross-validated verdict (from the ensemble whose fold left it out) to
/// `target/judgement-cross-validated.jsonl`, for calibrating what follows the judgement on
/// verdicts the model did not learn from.
fn write_cross_validated(chosen: &[&Embedded], fitted: &Fitted) -> Result<()> {
    let out =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/judgement-cross-validated.jsonl");
    let mut lines = String::new();
    for (one, probabilities) in chosen.iter().zip(&fitted.cross_validated) {
        let verdict = decide(
            probabilities,
            &fitted.model.thresholds,
            &fitted.model.classes,
        );
        lines.push_str(
            &serde_json::json!({
                "id": one.message.id,
                "file": one.file,
                "judgement": verdict.judgement,
                "probability": verdict.probability,
            })
            .to_string(),
        );
        lines.push('\n');
    }
    std::fs::write(&out, lines).with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}

fn write(fitted: &Fitted, path: &str) -> Result<()> {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::write(&out, fitted.model.encode())
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
