//! Sweeps the weights that fuse keyword and semantic evidence over eval files (the held-out
//! **dev** split: never the test split) and prints, per setting, how often the right passage is
//! first and among the first three, and how often the right fact-check is first. Abstention is
//! switched off for the sweep (every question is answered, every rumour matched) so that it
//! measures ranking alone; `scripts/calibrate.sh` chooses the thresholds afterwards.
//!
//! ```text
//! cargo run --release -p votecheck-engine --example tune_retrieval -- \
//!     target/sample-index samples/eval/heldout/sample-dev.jsonl \
//!     target/shared-index samples/eval/heldout/shared-dev.jsonl
//! ```

use votecheck_engine::calibration::Thresholds;
use votecheck_engine::eval::{EvalCase, parse_cases, run};
use votecheck_engine::retrieval::RetrievalWeights;
use votecheck_engine::{Engine, Outcome};

/// Every question answered, no rumour matched: passage ranking alone.
const ANSWER_EVERYTHING: Thresholds = Thresholds {
    answer_confidence: 0.0,
    fact_check_similarity: 2.0,
    fact_check_margin: 2.0,
};

/// Every rumour matched to its best fact-check: fact-check ranking alone.
const MATCH_EVERYTHING: Thresholds = Thresholds {
    answer_confidence: 2.0,
    fact_check_similarity: 0.0,
    fact_check_margin: -2.0,
};

/// Passage hits at 1 and 3, fact-check hits at 1.
#[derive(Default)]
struct Score {
    passages: usize,
    passage_hit_1: usize,
    passage_hit_3: usize,
    fact_checks: usize,
    fact_check_hit_1: usize,
}

fn score(engine: &mut Engine, cases: &[EvalCase], weights: RetrievalWeights, total: &mut Score) {
    let (rumours, questions): (Vec<EvalCase>, Vec<EvalCase>) = cases
        .iter()
        .filter(|case| case.is_retrieval())
        .cloned()
        .partition(|case| case.outcome == Outcome::FactCheck);
    engine.retune(weights, ANSWER_EVERYTHING);
    for result in run(engine, &questions, 3).results {
        total.passages += 1;
        total.passage_hit_1 += usize::from(result.hit_rank == Some(1));
        total.passage_hit_3 += usize::from(result.hit_rank.is_some_and(|rank| rank <= 3));
    }
    engine.retune(weights, MATCH_EVERYTHING);
    for result in run(engine, &rumours, 3).results {
        total.fact_checks += 1;
        total.fact_check_hit_1 += usize::from(result.hit_rank == Some(1));
    }
}

fn settings() -> Vec<RetrievalWeights> {
    let base = RetrievalWeights::default();
    let mut settings = vec![base];
    for general_place_preference in [0.1, 0.25, 0.5, 1.0] {
        settings.push(RetrievalWeights {
            general_place_preference,
            ..base
        });
    }
    for dense_in_ranking in [0.0, 0.5, 1.0, 1.5] {
        for dense_spread in [0.03, 0.05] {
            for confidence_in_ranking in [0.5, 0.7, 0.85] {
                settings.push(RetrievalWeights {
                    dense_in_ranking,
                    dense_spread,
                    confidence_in_ranking,
                    ..base
                });
            }
        }
    }
    for fact_check_candidates in [3, 8] {
        for bm25_in_claim_ranking in [0.0, 0.3, 0.5] {
            for dense_in_claim_match in [0.3, 0.5, 0.7, 0.85, 1.0] {
                for claim_similarity_floor in [0.75, 0.8] {
                    settings.push(RetrievalWeights {
                        dense_in_claim_match,
                        claim_similarity_floor,
                        bm25_in_claim_ranking,
                        fact_check_candidates,
                        ..base
                    });
                }
            }
        }
    }
    settings
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    if arguments.is_empty() || !arguments.len().is_multiple_of(2) {
        return Err("usage: tune_retrieval <INDEX> <CASES> [<INDEX> <CASES>...]".into());
    }
    let mut engines = Vec::new();
    for pair in arguments.chunks(2) {
        let engine = Engine::open(std::path::Path::new(&pair[0]))?.with_embedding_memo();
        let cases = parse_cases(&std::fs::read_to_string(&pair[1])?)?;
        engines.push((engine, cases));
    }
    println!(
        "dense spread  conf | claim floor bm25 cands | passages hit@1 hit@3 | fact-checks hit@1"
    );
    for weights in settings() {
        let mut total = Score::default();
        for (engine, cases) in &mut engines {
            score(engine, cases, weights, &mut total);
        }
        let percent = |hits: usize, total: usize| 100.0 * hits as f64 / total.max(1) as f64;
        println!(
            "{:5.2} {:6.2} {:5.2} | {:5.2} {:5.2} {:4.1} {:5} | {:8} {:5.1} {:5.1} | {:11} {:5.1}",
            weights.dense_in_ranking,
            weights.dense_spread,
            weights.confidence_in_ranking,
            weights.dense_in_claim_match,
            weights.claim_similarity_floor,
            weights.bm25_in_claim_ranking,
            weights.fact_check_candidates,
            total.passages,
            percent(total.passage_hit_1, total.passages),
            percent(total.passage_hit_3, total.passages),
            total.fact_checks,
            percent(total.fact_check_hit_1, total.fact_checks),
        );
    }
    Ok(())
}
