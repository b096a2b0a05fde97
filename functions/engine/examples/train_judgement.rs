//! Trains the judgement model (`votecheck_engine::judgement`) on the labelled files of
//! `judgement::training::TRAINING_FILES` with the encoder's model, prints what cross-validation
//! measured, and writes `functions/engine/data/compiled/judgement.postcard`. Deterministic: the
//! same files and model give the same bytes. Run through `bash scripts/train-judgement.sh`.
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
    Example, LAYER, LabelledMessage, TRAINING_FILES, fingerprint, fit, read_labelled,
};
use votecheck_engine::judgement::{JUDGEMENT_PATH, Judgement, decide};

/// Texts embedded per call.
const BATCH: usize = 16;

fn main() -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut sources = Vec::new();
    for file in TRAINING_FILES {
        let bytes = std::fs::read(root.join(file)).with_context(|| format!("reading {file}"))?;
        sources.push((*file, bytes));
    }
    let named: Vec<(&str, &[u8])> = sources.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    let training_fingerprint = fingerprint(&named);
    let mut messages: Vec<LabelledMessage> = Vec::new();
    for (file, bytes) in &sources {
        let text = std::str::from_utf8(bytes).with_context(|| format!("{file} is not UTF-8"))?;
        messages.extend(read_labelled(file, text).map_err(anyhow::Error::msg)?);
    }
    let model_path: PathBuf = locate_model();
    let encoder = Encoder::open(&model_path)
        .with_context(|| format!("opening the encoder's model {}", model_path.display()))?;
    eprintln!(
        "embedding {} labelled messages with {}",
        messages.len(),
        encoder.model_id()
    );
    let mut examples = Vec::with_capacity(messages.len());
    for chunk in messages.chunks(BATCH) {
        let texts: Vec<String> = chunk.iter().map(|message| bound(&message.text)).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let embeddings = encoder.embed_batch_with_layer(Role::Query, &refs, LAYER)?;
        for (message, layered) in chunk.iter().zip(embeddings) {
            examples.push(Example {
                id: message.id.clone(),
                embedding: layered.embedding.into_vec(),
                layer_mean: layered.layer_mean,
                forwarded: message.forwarded,
                judgement: message.judgement,
            });
        }
    }
    let fitted = fit(&examples, encoder.model_id(), training_fingerprint);
    println!("{}", fitted.model.cross_validation);
    println!("cross-validated, by language (partisan refused / questions refused):");
    let mut by_language: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for (message, probabilities) in messages.iter().zip(&fitted.cross_validated) {
        let decided = decide(probabilities, &fitted.model.thresholds).judgement;
        let counts = by_language.entry(message.language.as_str()).or_default();
        match message.judgement {
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
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join(JUDGEMENT_PATH);
    std::fs::write(&out, fitted.model.encode())
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
