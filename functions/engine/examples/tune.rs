//! Runs eval files, chooses the thresholds on all of them pooled (as `scripts/calibrate.sh`
//! does), and prints hit@1 / hit@3 / outcome accuracy per language and tag with the compiled
//! thresholds and with the newly chosen ones: a quick way to see what a change to the engine or
//! its data does before recalibrating for real.
//!
//! ```text
//! cargo run --release -p votecheck-engine --example tune -- \
//!     target/sample-index samples/eval/sample-corpus.jsonl target/shared-index samples/eval/shared-corpus.jsonl
//! ```

use votecheck_engine::Engine;
use votecheck_engine::eval::{
    EvalReport, LabelledTrace, TraceScores, calibrate_traces, parse_cases, run,
};

fn summary(name: &str, report: &EvalReport) {
    println!(
        "{name}: {} cases, hit@1 {:.1} hit@3 {:.1} MRR {:.3} outcome {:.1}, p50 {} p99 {} us",
        report.cases,
        report.hit_at_1 * 100.0,
        report.hit_at_3 * 100.0,
        report.mrr,
        report.outcome_accuracy * 100.0,
        report.latency_us.p50,
        report.latency_us.p99
    );
    let cells: Vec<String> = report
        .by_tag
        .iter()
        .filter(|(tag, _)| {
            tag.len() == 2
                || [
                    "law",
                    "fallback",
                    "native_state_name",
                    "no_answer",
                    "fact_check",
                    "partisan",
                ]
                .contains(&tag.as_str())
        })
        .map(|(tag, figures)| {
            let percent =
                |value: Option<f64>| value.map_or("-".to_string(), |v| format!("{:.0}", v * 100.0));
            format!(
                "{tag}:{}/{}/{:.0}",
                percent(figures.hit_at_1),
                percent(figures.hit_at_3),
                figures.outcome_accuracy * 100.0
            )
        })
        .collect();
    println!("  {}", cells.join("  "));
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let mut sets = Vec::new();
    for pair in arguments.chunks(2) {
        let [index, cases] = pair else {
            return Err("usage: tune (<INDEX_DIR> <CASES.jsonl>)...".into());
        };
        let engine = Engine::open(std::path::Path::new(index))?;
        let cases = parse_cases(&std::fs::read_to_string(cases)?)?;
        sets.push((index.clone(), engine, cases));
    }
    let mut traces = Vec::new();
    for (name, engine, cases) in &sets {
        let report = run(engine, cases, 3);
        summary(
            &format!("{name} (compiled {:?})", engine.thresholds()),
            &report,
        );
        traces.extend(report.results.iter().map(|result| LabelledTrace {
            expected_outcome: result.expected_outcome,
            trace: TraceScores {
                best_passage_confidence: result.trace.best_passage_confidence,
                best_fact_check_similarity: result.trace.best_fact_check_similarity,
            },
        }));
    }
    let calibration = calibrate_traces(&traces);
    println!(
        "pooled calibration: {:?} ({}/{} answer decisions, {}/{} fact-check decisions)",
        calibration.thresholds,
        calibration.answer_correct,
        calibration.answer_cases,
        calibration.fact_check_correct,
        calibration.fact_check_cases
    );
    for (name, engine, cases) in sets {
        let engine = engine.with_thresholds(calibration.thresholds);
        let report = run(&engine, &cases, 3);
        summary(&format!("{name} (calibrated)"), &report);
        if std::env::var_os("TUNE_RESULTS").is_some() {
            let path = format!("/tmp/tune-{}.json", name.replace('/', "_"));
            std::fs::write(&path, serde_json::to_string(&report)?)?;
        }
    }
    Ok(())
}
