//! The abstention thresholds, chosen on data by `votecheck eval --calibrate` and kept in
//! `data/calibration.toml` (compiled in).
//!
//! - `answer_confidence`: the best passage must cover at least this share of the question's
//!   information (see [`crate::retrieval`]) to be an answer; below it the outcome is `no_answer`.
//! - `fact_check_similarity`: a fact-check must be at least this similar to the message to be
//!   the outcome;
//! - `fact_check_margin`: and its similarity minus the best passage's confidence must be at least
//!   this (from -1 to 1): a question that an official passage answers much better than any
//!   fact-check ("how do I return my mail ballot?" next to a rumour about mail ballots) is a
//!   question, not a rumour.
//!
//! With passage vectors the engine decides on **evidence** that fuses both kinds of match,
//! [`answer_evidence`] (confidence plus semantic similarity), against [`SemanticThresholds`] in
//! the file's `[semantic]` table: one answer threshold per language where the dev data has
//! enough cases of that language, the default elsewhere, and the fact-check thresholds applied
//! to the fused fact-check similarity.
//!
//! [`choose_threshold`] is the calibration itself: given, for each labelled case, the score the
//! engine computed and whether the case should pass, it returns the threshold with the best
//! **balanced accuracy** (the mean of the share of should-pass cases that pass and the share of
//! should-fail cases that fail), taking the middle of the best range so that it does not sit on
//! a data point. Balanced, because eval sets hold far fewer unanswerable questions than
//! answerable ones, and an answer to the wrong question costs a citizen as much as a missed one.

use serde::{Deserialize, Serialize};

use crate::EngineError;

const CALIBRATION_FILE: &str = include_str!("../data/calibration.toml");

/// Weight of semantic similarity in the evidence that a passage answers a question, per unit of
/// similarity above [`SIMILARITY_PIVOT`]: e5 similarities of answering and non-answering passages
/// differ by a few hundredths, confidences by tenths. Chosen on the held-out dev split
/// (docs/answer-engine.md, "Abstention").
pub const SIMILARITY_IN_EVIDENCE: f32 = 12.0;

/// The similarity that adds nothing to the evidence (about the median for answerable questions
/// and above most unanswerable ones).
pub const SIMILARITY_PIVOT: f32 = 0.85;

/// The evidence that the best passage answers the question: its confidence, plus
/// [`SIMILARITY_IN_EVIDENCE`] times its similarity above [`SIMILARITY_PIVOT`].
pub fn answer_evidence(confidence: f32, similarity: f32) -> f32 {
    confidence + SIMILARITY_IN_EVIDENCE * (similarity - SIMILARITY_PIVOT)
}

/// The thresholds of an engine whose index has passage vectors (the `[semantic]` table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SemanticThresholds {
    /// The [`answer_evidence`] a question needs to be answered, in languages without their own.
    pub answer_evidence: f32,
    /// The same, per language (primary subtag), where calibration had enough cases.
    #[serde(default)]
    pub answer_evidence_by_language: std::collections::BTreeMap<String, f32>,
    /// The fused similarity a fact-check needs to be the outcome.
    pub fact_check_similarity: f32,
    /// The same for a forwarded message (to which the margin does not apply).
    pub fact_check_similarity_forwarded: f32,
    /// Its margin over the best passage's evidence.
    pub fact_check_margin: f32,
}

impl SemanticThresholds {
    /// The compiled-in, calibrated thresholds.
    pub fn calibrated() -> Result<Self, EngineError> {
        #[derive(Deserialize)]
        struct File {
            semantic: SemanticThresholds,
        }
        crate::parse_data_file::<File>("data/calibration.toml", CALIBRATION_FILE)
            .map(|file| file.semantic)
    }

    /// The answer threshold in a language.
    pub fn answer_evidence_in(&self, language: &str) -> f32 {
        self.answer_evidence_by_language
            .get(&votecheck_index::language::primary_subtag(language))
            .copied()
            .unwrap_or(self.answer_evidence)
    }
}

/// The engine's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Least passage confidence to answer.
    pub answer_confidence: f32,
    /// Least similarity to show a fact-check.
    pub fact_check_similarity: f32,
    /// Least lead of the best fact-check's similarity over the best passage's confidence.
    pub fact_check_margin: f32,
}

impl Thresholds {
    /// The compiled-in, calibrated thresholds.
    pub fn calibrated() -> Result<Self, EngineError> {
        crate::parse_data_file("data/calibration.toml", CALIBRATION_FILE)
    }
}

/// The threshold in [0, 1] (steps of 0.01) with the best balanced accuracy, where a case is
/// right when `score >= threshold` equals `should_pass`. Returns the threshold and the number of
/// cases it gets right.
pub fn choose_threshold(labelled: &[(f32, bool)]) -> (f32, usize) {
    let positives = labelled
        .iter()
        .filter(|(_, should_pass)| *should_pass)
        .count();
    let negatives = labelled.len() - positives;
    let evaluate = |threshold: f32| {
        let passed = labelled
            .iter()
            .filter(|(score, should_pass)| *should_pass && *score >= threshold)
            .count();
        let refused = labelled
            .iter()
            .filter(|(score, should_pass)| !*should_pass && *score < threshold)
            .count();
        let share = |right: usize, total: usize| {
            if total == 0 {
                1.0
            } else {
                right as f64 / total as f64
            }
        };
        let balanced = (share(passed, positives) + share(refused, negatives)) / 2.0;
        (balanced, passed + refused)
    };
    let steps: Vec<f32> = (0..=100).map(|step| step as f32 / 100.0).collect();
    let scores: Vec<(f64, usize)> = steps.iter().map(|threshold| evaluate(*threshold)).collect();
    let best = scores
        .iter()
        .map(|(balanced, _)| *balanced)
        .fold(0.0, f64::max);
    // The longest run of thresholds achieving the best balanced accuracy; take its middle.
    let mut best_run: (usize, usize) = (0, 0);
    let mut run_start = None;
    for (index, (balanced, _)) in scores.iter().enumerate() {
        if (*balanced - best).abs() < 1e-12 {
            let start = *run_start.get_or_insert(index);
            if index - start >= best_run.1 - best_run.0 {
                best_run = (start, index);
            }
        } else {
            run_start = None;
        }
    }
    let middle = (best_run.0 + best_run.1) / 2;
    (steps[middle], scores[middle].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_semantic_thresholds_are_in_range() {
        let thresholds = SemanticThresholds::calibrated().unwrap();
        assert!((-2.0..=2.0).contains(&thresholds.answer_evidence));
        for threshold in thresholds.answer_evidence_by_language.values() {
            assert!((-2.0..=2.0).contains(threshold));
        }
        assert!((0.0..=1.0).contains(&thresholds.fact_check_similarity));
    }

    #[test]
    fn evidence_adds_similarity_above_the_pivot_to_confidence() {
        assert_eq!(answer_evidence(0.4, SIMILARITY_PIVOT), 0.4);
        assert!(answer_evidence(0.4, 0.90) > answer_evidence(0.6, 0.85));
        assert!(answer_evidence(0.4, 0.80) < 0.0);
    }

    #[test]
    fn the_compiled_thresholds_are_in_range() {
        let thresholds = Thresholds::calibrated().unwrap();
        assert!((0.0..=1.0).contains(&thresholds.answer_confidence));
        assert!((0.0..=1.0).contains(&thresholds.fact_check_similarity));
        assert!((-1.0..=1.0).contains(&thresholds.fact_check_margin));
    }

    #[test]
    fn chooses_the_middle_of_the_separating_range() {
        let labelled = [
            (0.9, true),
            (0.8, true),
            (0.7, true),
            (0.3, false),
            (0.2, false),
        ];
        let (threshold, correct) = choose_threshold(&labelled);
        assert_eq!(correct, 5);
        assert!(threshold > 0.3 && threshold <= 0.7, "{threshold}");
        assert!((threshold - 0.5).abs() < 0.02, "{threshold}");
    }

    #[test]
    fn tolerates_overlap() {
        let labelled = [(0.9, true), (0.4, true), (0.5, false), (0.1, false)];
        let (_, correct) = choose_threshold(&labelled);
        assert_eq!(correct, 3);
    }

    #[test]
    fn a_small_class_is_not_sacrificed_to_a_large_one() {
        // Ten answerable questions, two of them weak; two unanswerable ones in between.
        let mut labelled: Vec<(f32, bool)> =
            (0..8).map(|i| (0.5 + i as f32 * 0.05, true)).collect();
        labelled.extend([(0.1, true), (0.12, true), (0.2, false), (0.25, false)]);
        let (threshold, _) = choose_threshold(&labelled);
        assert!(threshold > 0.25 && threshold <= 0.5, "{threshold}");
    }
}
