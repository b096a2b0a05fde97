//! Prints, for every case of an eval file, the scores behind the decision (`Trace`) and the rank
//! of the right passage when abstention is switched off (every question answered, no rumour
//! matched), one JSON object per line: what `scripts/calibrate-abstention.py` fits the
//! answer/abstain rule on. Dev files only.
//!
//! ```text
//! cargo run --release -p votecheck-engine --example traces -- target/shared-index samples/eval/heldout/shared-dev.jsonl
//! ```

use votecheck_engine::Engine;
use votecheck_engine::calibration::Thresholds;
use votecheck_engine::eval::{parse_cases, run};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let usage = "usage: traces <INDEX> <CASES>";
    let mut engine = Engine::open(std::path::Path::new(&arguments.next().ok_or(usage)?))?;
    let cases = parse_cases(&std::fs::read_to_string(arguments.next().ok_or(usage)?)?)?;
    let weights = engine.weights();
    engine.retune(
        weights,
        Thresholds {
            answer_confidence: 0.0,
            fact_check_similarity: 2.0,
            fact_check_margin: 2.0,
        },
    );
    for (case, result) in cases.iter().zip(run(&engine, &cases, 3).results) {
        println!(
            "{}",
            serde_json::json!({
                "id": case.id,
                "tags": case.tags,
                "outcome": result.outcome.as_str(),
                "expected": result.expected_outcome.as_str(),
                "hit_rank": result.hit_rank,
                "trace": result.trace,
            })
        );
    }
    Ok(())
}
