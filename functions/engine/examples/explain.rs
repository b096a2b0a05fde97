//! Prints what the engine does with questions, for tuning the lexicon and the jurisdiction
//! aliases: the outcome and scores with the calibrated thresholds, then the passages it would
//! cite with no answer threshold (rank, confidence, BM25 score, source and section).
//!
//! ```text
//! cargo run --release -p votecheck-engine --example explain -- target/sample-index "how do I vote by mail?"
//! ```

use votecheck_engine::calibration::Thresholds;
use votecheck_engine::{ConversationContext, Engine};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut arguments = std::env::args().skip(1);
    let index = arguments
        .next()
        .ok_or("usage: explain <INDEX_DIR> <QUESTION>...")?;
    let calibrated = Engine::open(std::path::Path::new(&index))?;
    let thresholds = calibrated.thresholds();
    let permissive = Engine::open(std::path::Path::new(&index))?.with_thresholds(Thresholds {
        answer_confidence: 0.0,
        fact_check_similarity: 2.0,
        fact_check_margin: 2.0,
    });
    let context = ConversationContext::default();
    for question in arguments {
        let (answer, trace) = calibrated.answer_with_trace(&question, &context);
        println!(
            "{question}\n  {} in {} (jurisdiction {:?}, fallback {}), best passage {:.3} (threshold {:.2}), best fact-check {:.3}",
            answer.outcome.as_str(),
            answer.language,
            answer.jurisdiction,
            answer.fallback_language,
            trace.best_passage_confidence,
            thresholds.answer_confidence,
            trace.best_fact_check_similarity,
        );
        if let Some(verdict) = trace.judgement {
            println!(
                "  judged {} ({:.3})",
                verdict.judgement.as_str(),
                verdict.probability
            );
        }
        if let Some(fact_check) = &answer.fact_check {
            println!(
                "  fact-check {} ({:.3})",
                fact_check.source, fact_check.similarity
            );
        }
        let (open, _) = permissive.answer_with_trace(&question, &context);
        for (rank, citation) in open.citations.iter().enumerate() {
            println!(
                "  {}. {:.3} {:6.2} {} › {}",
                rank + 1,
                citation.confidence,
                citation.score,
                citation.source,
                citation.section
            );
        }
    }
    Ok(())
}
