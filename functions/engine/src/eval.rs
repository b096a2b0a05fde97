//! Running a file of labelled cases through the engine: hit@1, hit@3, MRR and outcome accuracy,
//! overall and per tag, with latency percentiles; and calibrating the abstention thresholds.
//!
//! A case file has one JSON object per line:
//! `{"id": "...", "tags": ["en", ...], "question": "...", "expect": {...}, "forwarded": false}`
//! where `expect` holds any of `source` (a path or a list of acceptable ones), `section` (a
//! string or list of strings, one of which must occur, case-insensitively and with whitespace
//! collapsed, in the citation's section path) and `outcome` (default `answer` when `source` or
//! `section` is given). A case **hits at rank r** when the outcome matches and the r-th citation
//! satisfies `source` and `section`; hit rates are computed over the cases that expect a source or
//! a section (retrieval cases), outcome accuracy over all cases. Blank lines and lines starting
//! with `#` are ignored; any other malformed line is an error naming its line number.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::answer::{Answer, Outcome};
use crate::calibration::{Thresholds, choose_threshold};
use crate::engine::{ConversationContext, Engine, Trace};

/// One labelled case.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalCase {
    /// The case's id.
    pub id: String,
    /// Tags to group figures by.
    pub tags: Vec<String>,
    /// The message as a citizen would send it.
    pub question: String,
    /// Whether it arrives forwarded.
    pub forwarded: bool,
    /// Acceptable sources (empty: any).
    pub sources: Vec<String>,
    /// Acceptable section substrings, normalised (empty: any).
    pub sections: Vec<String>,
    /// The outcome expected.
    pub outcome: Outcome,
    /// Whether the reply must also decline a partisan part of the message
    /// (`"declines_partisan": true`).
    pub declines_partisan: bool,
    /// Line number in the file (1-based).
    pub line: usize,
}

impl EvalCase {
    /// Whether the case checks retrieval (expects a source or a section).
    pub fn is_retrieval(&self) -> bool {
        !self.sources.is_empty() || !self.sections.is_empty()
    }

    /// Whether a citation satisfies the case's source and section.
    pub fn accepts(&self, source: &str, section: &str) -> bool {
        let section = collapse(section);
        (self.sources.is_empty() || self.sources.iter().any(|accepted| accepted == source))
            && (self.sections.is_empty()
                || self
                    .sections
                    .iter()
                    .any(|wanted| section.contains(wanted.as_str())))
    }

    /// The rank (1-based) of the first citation that satisfies the case, if the outcome matches.
    pub fn hit_rank(&self, answer: &Answer) -> Option<usize> {
        if answer.outcome != self.outcome || !self.is_retrieval() {
            return None;
        }
        answer
            .citations
            .iter()
            .position(|citation| self.accepts(&citation.source, &citation.section))
            .map(|index| index + 1)
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A malformed case file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct CaseError {
    /// Line of the problem (1-based).
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

fn strings(value: Option<&Value>, key: &str, line: usize) -> Result<Vec<String>, CaseError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(vec![text.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_string).ok_or_else(|| CaseError {
                    line,
                    reason: format!("`{key}` must hold strings"),
                })
            })
            .collect(),
        Some(_) => Err(CaseError {
            line,
            reason: format!("`{key}` must be a string or a list of strings"),
        }),
    }
}

/// Parses a case file; the first malformed line is an error.
pub fn parse_cases(text: &str) -> Result<Vec<EvalCase>, CaseError> {
    let mut cases = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let error = |reason: String| CaseError { line, reason };
        let value: Value =
            serde_json::from_str(trimmed).map_err(|e| error(format!("invalid JSON: {e}")))?;
        let object = value
            .as_object()
            .ok_or_else(|| error("a case must be a JSON object".into()))?;
        let id = object
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| error("missing string `id`".into()))?
            .to_string();
        let question = object
            .get("question")
            .and_then(Value::as_str)
            .ok_or_else(|| error("missing string `question`".into()))?
            .to_string();
        let tags = strings(object.get("tags"), "tags", line)?;
        let forwarded = object
            .get("forwarded")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let expect = object
            .get("expect")
            .and_then(Value::as_object)
            .ok_or_else(|| error("missing object `expect`".into()))?;
        let sources = strings(expect.get("source"), "source", line)?;
        let sections: Vec<String> = strings(expect.get("section"), "section", line)?
            .iter()
            .map(|section| collapse(section))
            .collect();
        let outcome = match expect.get("outcome") {
            Some(Value::String(name)) => {
                Outcome::parse(name).ok_or_else(|| error(format!("unknown outcome `{name}`")))?
            }
            Some(_) => return Err(error("`outcome` must be a string".into())),
            None if !sources.is_empty() || !sections.is_empty() => Outcome::Answer,
            None => {
                return Err(error(
                    "`expect` needs a `source`, a `section` or an `outcome`".into(),
                ));
            }
        };
        let declines_partisan = match expect.get("declines_partisan") {
            None => false,
            Some(Value::Bool(declines)) => *declines,
            Some(_) => return Err(error("`declines_partisan` must be true or false".into())),
        };
        cases.push(EvalCase {
            id,
            tags,
            question,
            forwarded,
            sources,
            sections,
            outcome,
            declines_partisan,
            line,
        });
    }
    Ok(cases)
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case's id.
    pub id: String,
    /// The outcome the engine chose.
    pub outcome: Outcome,
    /// The outcome expected.
    pub expected_outcome: Outcome,
    /// Rank of the first right passage among the citations (1-based), if any.
    pub hit_rank: Option<usize>,
    /// The reply language the engine chose.
    pub language: String,
    /// Whether one of the passages the engine would cite is right, answered or not (what
    /// calibration needs: answering this question would have been right).
    pub passage_right: bool,
    /// Whether the fact-check the engine would show is right, shown or not.
    pub fact_check_right: bool,
    /// Whether the message was forwarded.
    pub forwarded: bool,
    /// Whether the reply declined a partisan part of the message.
    pub declined_partisan: bool,
    /// Whether it should have (`"declines_partisan": true` in the case).
    pub expected_declined_partisan: bool,
    /// Time the engine took, in microseconds.
    pub latency_us: u64,
    /// The engine's decision scores.
    pub trace: Trace,
    #[serde(skip)]
    /// The case's tags.
    pub tags: Vec<String>,
    #[serde(skip)]
    /// Whether the case names right passages (counts for hit@k).
    pub retrieval: bool,
}

/// Figures for a group of cases.
#[derive(Debug, Clone, Serialize)]
pub struct GroupFigures {
    /// Cases in the group.
    pub cases: usize,
    /// Of them, cases that name right passages.
    pub retrieval_cases: usize,
    /// Share with a right passage first.
    pub hit_at_1: Option<f64>,
    /// Share with a right passage in the first three.
    pub hit_at_3: Option<f64>,
    /// Share with the expected outcome.
    pub outcome_accuracy: f64,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Slowest.
    pub max: u64,
}

/// The whole report (the `--json` output of `votecheck eval`).
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// All cases.
    pub cases: usize,
    /// Cases that name right passages.
    pub retrieval_cases: usize,
    /// The k of hit@k.
    pub k: usize,
    /// Share of retrieval cases with a right passage first.
    pub hit_at_1: f64,
    /// Share with a right passage in the first three.
    pub hit_at_3: f64,
    /// Share with a right passage in the first k.
    pub hit_at_k: f64,
    /// Mean reciprocal rank of the first right passage.
    pub mrr: f64,
    /// Share of cases with the expected outcome.
    pub outcome_accuracy: f64,
    /// Figures per tag.
    pub by_tag: BTreeMap<String, GroupFigures>,
    /// Figures per expected outcome.
    pub by_outcome: BTreeMap<String, GroupFigures>,
    /// Latency percentiles.
    pub latency_us: Latency,
    /// The thresholds the engine ran with.
    pub thresholds: Thresholds,
    /// Whether the index had passage vectors (the engine embedded the questions): calibration
    /// chooses the lexical thresholds on runs without them, the semantic ones on runs with them.
    pub passage_vectors: bool,
    /// Every case's result.
    pub results: Vec<CaseResult>,
}

fn rate(hits: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        hits as f64 / total as f64
    }
}

fn group(results: &[&CaseResult]) -> GroupFigures {
    let retrieval: Vec<&&CaseResult> = results.iter().filter(|result| result.retrieval).collect();
    let hits_within = |k: usize| {
        retrieval
            .iter()
            .filter(|r| r.hit_rank.is_some_and(|rank| rank <= k))
            .count()
    };
    GroupFigures {
        cases: results.len(),
        retrieval_cases: retrieval.len(),
        hit_at_1: (!retrieval.is_empty()).then(|| rate(hits_within(1), retrieval.len())),
        hit_at_3: (!retrieval.is_empty()).then(|| rate(hits_within(3), retrieval.len())),
        outcome_accuracy: rate(
            results
                .iter()
                .filter(|result| result.outcome == result.expected_outcome)
                .count(),
            results.len(),
        ),
    }
}

/// Percentile of sorted values (nearest rank).
pub fn percentile(sorted: &[u64], fraction: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Runs every case through the engine.
pub fn run(engine: &Engine, cases: &[EvalCase], k: usize) -> EvalReport {
    let results: Vec<CaseResult> = cases
        .iter()
        .map(|case| {
            let context = ConversationContext {
                forwarded: case.forwarded,
                ..ConversationContext::default()
            };
            let started = Instant::now();
            let (answer, trace) = engine.answer_with_trace(&case.question, &context);
            let latency_us = started.elapsed().as_micros() as u64;
            let passage_right = case.is_retrieval()
                && trace
                    .passages
                    .iter()
                    .any(|passage| case.accepts(&passage.source, &passage.section));
            let fact_check_right = case.outcome == Outcome::FactCheck
                && trace
                    .fact_check
                    .as_ref()
                    .is_some_and(|passage| case.accepts(&passage.source, &passage.section));
            CaseResult {
                id: case.id.clone(),
                outcome: answer.outcome,
                expected_outcome: case.outcome,
                hit_rank: case.hit_rank(&answer),
                language: answer.language.clone(),
                passage_right,
                fact_check_right,
                forwarded: case.forwarded,
                declined_partisan: answer.declined_partisan,
                expected_declined_partisan: case.declines_partisan,
                latency_us,
                trace,
                tags: case.tags.clone(),
                retrieval: case.is_retrieval(),
            }
        })
        .collect();
    let all: Vec<&CaseResult> = results.iter().collect();
    let overall = group(&all);
    let retrieval: Vec<&CaseResult> = results.iter().filter(|result| result.retrieval).collect();
    let hits_within = |k: usize| {
        retrieval
            .iter()
            .filter(|r| r.hit_rank.is_some_and(|rank| rank <= k))
            .count()
    };
    let mrr = if retrieval.is_empty() {
        0.0
    } else {
        retrieval
            .iter()
            .map(|result| result.hit_rank.map_or(0.0, |rank| 1.0 / rank as f64))
            .sum::<f64>()
            / retrieval.len() as f64
    };
    let mut by_tag: BTreeMap<String, Vec<&CaseResult>> = BTreeMap::new();
    let mut by_outcome: BTreeMap<String, Vec<&CaseResult>> = BTreeMap::new();
    for result in &results {
        for tag in &result.tags {
            by_tag.entry(tag.clone()).or_default().push(result);
        }
        by_outcome
            .entry(result.expected_outcome.as_str().to_string())
            .or_default()
            .push(result);
    }
    let mut latencies: Vec<u64> = results.iter().map(|result| result.latency_us).collect();
    latencies.sort_unstable();
    EvalReport {
        cases: results.len(),
        retrieval_cases: retrieval.len(),
        k,
        hit_at_1: rate(hits_within(1), retrieval.len()),
        hit_at_3: rate(hits_within(3), retrieval.len()),
        hit_at_k: rate(hits_within(k), retrieval.len()),
        mrr,
        outcome_accuracy: overall.outcome_accuracy,
        by_tag: by_tag
            .into_iter()
            .map(|(tag, results)| (tag, group(&results)))
            .collect(),
        by_outcome: by_outcome
            .into_iter()
            .map(|(name, results)| (name, group(&results)))
            .collect(),
        latency_us: Latency {
            p50: percentile(&latencies, 0.50),
            p99: percentile(&latencies, 0.99),
            max: latencies.last().copied().unwrap_or(0),
        },
        thresholds: engine.thresholds(),
        passage_vectors: engine.encoder().is_some(),
        results,
    }
}

/// Thresholds chosen on a report's traces, and how many decisions each gets right.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// The thresholds chosen.
    pub thresholds: Thresholds,
    /// Answer/no-answer decisions counted.
    pub answer_cases: usize,
    /// Of them, decisions the thresholds get right.
    pub answer_correct: usize,
    /// Fact-check decisions counted.
    pub fact_check_cases: usize,
    /// Of them, decisions the thresholds get right.
    pub fact_check_correct: usize,
}

/// One case's decision scores and expected outcome, as `votecheck eval --json` writes them
/// (what calibration reads back to pool several eval runs).
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct LabelledTrace {
    /// The outcome expected.
    pub expected_outcome: Outcome,
    /// The decision scores.
    pub trace: TraceScores,
}

/// The scores of a [`Trace`], as read back from JSON.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct TraceScores {
    /// Confidence of the best passage.
    pub best_passage_confidence: f32,
    /// Similarity of the best fact-check.
    pub best_fact_check_similarity: f32,
}

/// Chooses thresholds from the scores of an eval run (see [`calibrate_traces`]).
pub fn calibrate(report: &EvalReport) -> Calibration {
    let traces: Vec<LabelledTrace> = report
        .results
        .iter()
        .map(|result| LabelledTrace {
            expected_outcome: result.expected_outcome,
            trace: TraceScores {
                best_passage_confidence: result.trace.best_passage_confidence,
                best_fact_check_similarity: result.trace.best_fact_check_similarity,
            },
        })
        .collect();
    calibrate_traces(&traces)
}

/// Chooses thresholds from the scores of eval runs: the answer threshold separates cases
/// expecting `answer` from cases expecting `no_answer`; the fact-check threshold separates cases expecting `fact_check` from
/// those expecting `answer` or `no_answer`. Commands and refusals do not take part.
pub fn calibrate_traces(traces: &[LabelledTrace]) -> Calibration {
    let answer_labelled: Vec<(f32, bool)> = traces
        .iter()
        .filter_map(|result| match result.expected_outcome {
            Outcome::Answer => Some((result.trace.best_passage_confidence, true)),
            Outcome::NoAnswer => Some((result.trace.best_passage_confidence, false)),
            _ => None,
        })
        .collect();
    let fact_labelled: Vec<(f32, bool)> = traces
        .iter()
        .filter_map(|result| match result.expected_outcome {
            Outcome::FactCheck => Some((result.trace.best_fact_check_similarity, true)),
            Outcome::Answer | Outcome::NoAnswer => {
                Some((result.trace.best_fact_check_similarity, false))
            }
            _ => None,
        })
        .collect();
    let (answer_confidence, answer_correct) = choose_threshold(&answer_labelled);
    let (fact_check_similarity, _) = choose_threshold(&fact_labelled);
    // Among the cases that pass the similarity threshold, the margin over the best passage's
    // confidence separates rumours from questions; scores are mapped from [-1, 1] to [0, 1].
    let margin_labelled: Vec<(f32, bool)> = traces
        .iter()
        .filter(|labelled| labelled.trace.best_fact_check_similarity >= fact_check_similarity)
        .filter_map(|labelled| {
            let margin =
                labelled.trace.best_fact_check_similarity - labelled.trace.best_passage_confidence;
            let mapped = (margin + 1.0) / 2.0;
            match labelled.expected_outcome {
                Outcome::FactCheck => Some((mapped, true)),
                Outcome::Answer | Outcome::NoAnswer => Some((mapped, false)),
                _ => None,
            }
        })
        .collect();
    let (mapped_margin, _) = choose_threshold(&margin_labelled);
    let fact_check_margin = mapped_margin * 2.0 - 1.0;
    let fact_check_correct =
        fact_labelled_correct(traces, fact_check_similarity, fact_check_margin);
    Calibration {
        thresholds: Thresholds {
            answer_confidence,
            fact_check_similarity,
            fact_check_margin,
        },
        answer_cases: answer_labelled.len(),
        answer_correct,
        fact_check_cases: fact_labelled.len(),
        fact_check_correct,
    }
}

/// One case's decision scores, as `votecheck eval --json` writes them, for calibrating the
/// thresholds used with passage vectors.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SemanticTrace {
    /// The outcome expected.
    pub expected_outcome: Outcome,
    /// The reply language.
    pub language: String,
    /// Whether a passage the engine would cite is right.
    pub passage_right: bool,
    /// Whether the fact-check it would show is right.
    pub fact_check_right: bool,
    #[serde(default)]
    /// Whether the message was forwarded.
    pub forwarded: bool,
    /// The decision scores.
    pub trace: SemanticScores,
}

/// The scores of a [`Trace`] that semantic calibration reads.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct SemanticScores {
    /// Confidence of the best passage.
    pub best_passage_confidence: f32,
    /// Similarity of the best passage.
    pub best_passage_similarity: f32,
    /// Similarity of the best fact-check.
    pub best_fact_check_similarity: f32,
    /// Whether the keyword confidence alone may answer (writing the encoder reads poorly).
    #[serde(default)]
    pub keywords_decide: bool,
}

/// The semantic traces of a report's cases, as [`report_traces`] reads them back from its JSON.
pub fn semantic_traces(report: &EvalReport) -> Vec<SemanticTrace> {
    report
        .results
        .iter()
        .map(|result| SemanticTrace {
            expected_outcome: result.expected_outcome,
            language: result.language.clone(),
            passage_right: result.passage_right,
            fact_check_right: result.fact_check_right,
            forwarded: result.forwarded,
            trace: SemanticScores {
                best_passage_confidence: result.trace.best_passage_confidence,
                best_passage_similarity: result.trace.best_passage_similarity,
                best_fact_check_similarity: result.trace.best_fact_check_similarity,
                keywords_decide: result.trace.keywords_decide,
            },
        })
        .collect()
}

/// The per-case traces of a `votecheck eval --json` report, of the kind calibration reads for
/// the index it ran on.
#[derive(Debug, Clone)]
pub enum ReportTraces {
    /// A run without passage vectors: for the top-level (lexical) thresholds.
    Lexical(Vec<LabelledTrace>),
    /// A run with passage vectors: for the `[semantic]` thresholds.
    Semantic(Vec<SemanticTrace>),
}

/// Reads a `votecheck eval --json` report once: its traces, of the kind its index was searched
/// with. Reports written before the report said so tell by their traces: only an engine with
/// vectors embeds the questions.
pub fn report_traces(json: &str) -> Result<ReportTraces, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Report {
        passage_vectors: Option<bool>,
        results: Vec<serde_json::Value>,
    }
    let report: Report = serde_json::from_str(json)?;
    let passage_vectors = report.passage_vectors.unwrap_or_else(|| {
        report
            .results
            .iter()
            .any(|result| result["trace"]["embedding_us"].as_u64().unwrap_or(0) > 0)
    });
    let results = serde_json::Value::Array(report.results);
    Ok(if passage_vectors {
        ReportTraces::Semantic(serde_json::from_value(results)?)
    } else {
        ReportTraces::Lexical(serde_json::from_value(results)?)
    })
}

/// A language gets its own answer threshold when calibration has at least this many
/// answer/no-answer decisions in it, with at least [`MIN_LANGUAGE_SIDE`] on each side.
pub const MIN_LANGUAGE_CASES: usize = 15;

/// See [`MIN_LANGUAGE_CASES`].
pub const MIN_LANGUAGE_SIDE: usize = 3;

/// How many cases the pooled threshold counts for when a language's own is chosen.
pub const LANGUAGE_PRIOR_CASES: usize = 20;

/// Semantic thresholds chosen on eval traces, and how many decisions they get right.
#[derive(Debug, Clone, Serialize)]
pub struct SemanticCalibration {
    /// The thresholds chosen.
    pub thresholds: crate::calibration::SemanticThresholds,
    /// Answer/no-answer decisions counted.
    pub answer_cases: usize,
    /// Of them, decisions the thresholds get right.
    pub answer_correct: usize,
    /// Fact-check decisions counted.
    pub fact_check_cases: usize,
    /// Of them, decisions the thresholds get right.
    pub fact_check_correct: usize,
}

/// Chooses the thresholds used with passage vectors. An answer should be given when the
/// question expects one **and** a passage the engine would cite is right; it should not when the
/// question expects no answer, or when the passages are wrong (an answer from the wrong passage
/// is worse than none). The score is [`crate::calibration::answer_evidence`]; the threshold is
/// chosen by balanced accuracy over all languages, then again for each language with enough
/// cases. A fact-check should be shown when it is the right one; the score is the fused
/// fact-check similarity, and the margin is over the best passage's semantic score
/// ([`crate::retrieval::semantic_score`]).
///
/// Where the encoder reads the writing poorly, a passage whose keyword confidence reaches
/// `keyword_answer_confidence` (the threshold without vectors) answers whatever its evidence:
/// those decisions do not depend on the evidence threshold, so they are counted but take no
/// part in choosing it (otherwise they would pull their language's threshold down for every
/// question written in it).
pub fn calibrate_semantic(
    traces: &[SemanticTrace],
    keyword_answer_confidence: f32,
) -> SemanticCalibration {
    use crate::calibration::answer_evidence;
    let evidence = |trace: &SemanticTrace| {
        answer_evidence(
            trace.trace.best_passage_confidence,
            trace.trace.best_passage_similarity,
        )
    };
    let weights = crate::retrieval::RetrievalWeights::default();
    let passage_semantic = |trace: &SemanticTrace| {
        crate::retrieval::semantic_score(trace.trace.best_passage_similarity, &weights)
    };
    // Evidence spans about -2..2: thresholds are chosen on a [0, 1] scale, mapped.
    let to_unit = |value: f32| ((value + 2.0) / 4.0).clamp(0.0, 1.0);
    let from_unit = |value: f32| value * 4.0 - 2.0;
    let should_answer = |trace: &SemanticTrace| match trace.expected_outcome {
        Outcome::Answer => Some(trace.passage_right),
        Outcome::NoAnswer => Some(false),
        _ => None,
    };
    let keywords_answer = |trace: &SemanticTrace| {
        trace.trace.keywords_decide
            && trace.trace.best_passage_confidence >= keyword_answer_confidence
    };
    let (answered_by_keywords, decided_by_evidence): (Vec<&SemanticTrace>, Vec<&SemanticTrace>) =
        traces
            .iter()
            .filter(|trace| should_answer(trace).is_some())
            .partition(|trace| keywords_answer(trace));
    let answer_labelled: Vec<(&SemanticTrace, f32, bool)> = decided_by_evidence
        .into_iter()
        .filter_map(|trace| {
            should_answer(trace).map(|should| (trace, to_unit(evidence(trace)), should))
        })
        .collect();
    let pooled: Vec<(f32, bool)> = answer_labelled
        .iter()
        .map(|(_, score, should)| (*score, *should))
        .collect();
    let (global, global_correct) = choose_threshold(&pooled);
    let mut by_language = std::collections::BTreeMap::new();
    let mut languages: Vec<String> = answer_labelled
        .iter()
        .map(|(trace, _, _)| votecheck_index::language::primary_subtag(&trace.language))
        .collect();
    languages.sort();
    languages.dedup();
    let mut answer_correct = 0;
    for language in &languages {
        let own: Vec<(f32, bool)> = answer_labelled
            .iter()
            .filter(|(trace, _, _)| {
                votecheck_index::language::primary_subtag(&trace.language) == *language
            })
            .map(|(_, score, should)| (*score, *should))
            .collect();
        let positives = own.iter().filter(|(_, should)| *should).count();
        let threshold = if own.len() >= MIN_LANGUAGE_CASES
            && positives >= MIN_LANGUAGE_SIDE
            && own.len() - positives >= MIN_LANGUAGE_SIDE
        {
            // A language's own choice rests on a few dozen cases: it is pulled towards the pooled
            // one in proportion to how few they are (as if the pooled choice were
            // LANGUAGE_PRIOR_CASES more cases).
            let (own_threshold, _) = choose_threshold(&own);
            let weight = own.len() as f32 / (own.len() + LANGUAGE_PRIOR_CASES) as f32;
            let threshold = weight * own_threshold + (1.0 - weight) * global;
            by_language.insert(
                language.clone(),
                (from_unit(threshold) * 100.0).round() / 100.0,
            );
            threshold
        } else {
            global
        };
        answer_correct += own
            .iter()
            .filter(|(score, should)| (*score >= threshold) == *should)
            .count();
    }
    let _ = global_correct;
    answer_correct += answered_by_keywords
        .iter()
        .filter(|trace| should_answer(trace) == Some(true))
        .count();
    let fact_labelled: Vec<(f32, bool)> = traces
        .iter()
        .filter_map(|trace| match trace.expected_outcome {
            Outcome::FactCheck => Some((
                trace.trace.best_fact_check_similarity,
                trace.fact_check_right,
            )),
            Outcome::Answer | Outcome::NoAnswer => {
                Some((trace.trace.best_fact_check_similarity, false))
            }
            _ => None,
        })
        .collect();
    let (fact_check_similarity, _) = choose_threshold(&fact_labelled);
    // Forwarded messages are mostly rumours, and for them the margin does not apply: their own
    // threshold, chosen on them alone.
    let forwarded_labelled: Vec<(f32, bool)> = traces
        .iter()
        .filter(|trace| trace.forwarded)
        .filter_map(|trace| match trace.expected_outcome {
            Outcome::FactCheck => Some((
                trace.trace.best_fact_check_similarity,
                trace.fact_check_right,
            )),
            Outcome::Answer | Outcome::NoAnswer => {
                Some((trace.trace.best_fact_check_similarity, false))
            }
            _ => None,
        })
        .collect();
    let fact_check_similarity_forwarded = if forwarded_labelled.iter().any(|(_, should)| *should)
        && forwarded_labelled.iter().any(|(_, should)| !*should)
    {
        choose_threshold(&forwarded_labelled).0
    } else {
        fact_check_similarity
    };
    let margin_labelled: Vec<(f32, bool)> = traces
        .iter()
        .filter(|trace| trace.trace.best_fact_check_similarity >= fact_check_similarity)
        .filter_map(|trace| {
            let margin = trace.trace.best_fact_check_similarity - passage_semantic(trace);
            let mapped = to_unit(margin);
            match trace.expected_outcome {
                Outcome::FactCheck => Some((mapped, trace.fact_check_right)),
                Outcome::Answer | Outcome::NoAnswer => Some((mapped, false)),
                _ => None,
            }
        })
        .collect();
    let (mapped_margin, _) = choose_threshold(&margin_labelled);
    let fact_check_margin = from_unit(mapped_margin);
    let fact_check_correct = traces
        .iter()
        .filter(|trace| {
            matches!(
                trace.expected_outcome,
                Outcome::FactCheck | Outcome::Answer | Outcome::NoAnswer
            )
        })
        .filter(|trace| {
            let shown = if trace.forwarded {
                trace.trace.best_fact_check_similarity >= fact_check_similarity_forwarded
            } else {
                trace.trace.best_fact_check_similarity >= fact_check_similarity
                    && trace.trace.best_fact_check_similarity - passage_semantic(trace)
                        >= fact_check_margin
            };
            shown == (trace.expected_outcome == Outcome::FactCheck && trace.fact_check_right)
        })
        .count();
    SemanticCalibration {
        thresholds: crate::calibration::SemanticThresholds {
            answer_evidence: (from_unit(global) * 100.0).round() / 100.0,
            answer_evidence_by_language: by_language,
            fact_check_similarity,
            fact_check_similarity_forwarded,
            fact_check_margin: (fact_check_margin * 100.0).round() / 100.0,
        },
        answer_cases: answer_labelled.len() + answered_by_keywords.len(),
        answer_correct,
        fact_check_cases: fact_labelled.len(),
        fact_check_correct,
    }
}

/// How many fact-check decisions (fact-check or not, for cases expecting a fact-check, an answer
/// or no answer) the two fact-check thresholds get right.
fn fact_labelled_correct(traces: &[LabelledTrace], similarity: f32, margin: f32) -> usize {
    traces
        .iter()
        .filter(|labelled| {
            matches!(
                labelled.expected_outcome,
                Outcome::FactCheck | Outcome::Answer | Outcome::NoAnswer
            )
        })
        .filter(|labelled| {
            let trace = labelled.trace;
            let predicted = trace.best_fact_check_similarity >= similarity
                && trace.best_fact_check_similarity - trace.best_passage_confidence >= margin;
            predicted == (labelled.expected_outcome == Outcome::FactCheck)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_says_whether_it_had_passage_vectors_or_its_traces_tell() {
        let report = |field: &str, embedding_us: [&str; 2]| {
            let results: Vec<String> = embedding_us
                .iter()
                .map(|time| {
                    format!(
                        r#"{{"expected_outcome": "answer", "language": "en", "passage_right": true, "fact_check_right": false, "trace": {{"best_passage_confidence": 0.5, "best_passage_similarity": 0.8, "best_fact_check_similarity": 0.1{time}}}}}"#
                    )
                })
                .collect();
            format!(r#"{{{field}"results": [{}]}}"#, results.join(", "))
        };
        let semantic = |json: &str| match report_traces(json).unwrap() {
            ReportTraces::Semantic(traces) => {
                assert_eq!(traces.len(), 2);
                true
            }
            ReportTraces::Lexical(traces) => {
                assert_eq!(traces.len(), 2);
                false
            }
        };
        let said = report(
            r#""passage_vectors": false, "#,
            [r#", "embedding_us": 30000"#, ""],
        );
        assert!(!semantic(&said));
        // Reports written before the field: only an engine with vectors embeds the questions.
        let embedded = report("", [r#", "embedding_us": 0"#, r#", "embedding_us": 41000"#]);
        assert!(semantic(&embedded));
        let lexical = report("", [r#", "embedding_us": 0"#, ""]);
        assert!(!semantic(&lexical));
        assert!(report_traces(r#"{"cases": 3}"#).is_err());
    }

    #[test]
    fn parses_cases_with_defaults_and_lists() {
        let text = r#"
# comment
{"id": "a", "tags": ["en"], "question": "q?", "expect": {"source": "en/a.md", "section": "Voting  by Mail"}}
{"id": "b", "tags": ["es"], "question": "q", "expect": {"source": ["x.md", "y.md"], "outcome": "fact_check"}, "forwarded": true}
{"id": "c", "tags": [], "question": "q", "expect": {"outcome": "no_answer"}}
"#;
        let cases = parse_cases(text).unwrap();
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].outcome, Outcome::Answer);
        assert_eq!(cases[0].sections, vec!["voting by mail"]);
        assert_eq!(cases[0].line, 3);
        assert_eq!(cases[1].sources, vec!["x.md", "y.md"]);
        assert!(cases[1].forwarded);
        assert!(!cases[2].is_retrieval());
        assert!(cases[0].accepts("en/a.md", "Guide ›  VOTING by mail › Returning"));
        assert!(!cases[0].accepts("en/b.md", "Voting by mail"));
    }

    #[test]
    fn reports_malformed_lines_with_their_number() {
        for (text, line, reason) in [
            ("{\"id\": \"a\"", 1, "invalid JSON"),
            ("\n[1]", 2, "object"),
            ("{\"id\": \"a\", \"question\": \"q\"}", 1, "expect"),
            (
                "{\"id\": \"a\", \"question\": \"q\", \"expect\": {}}",
                1,
                "needs",
            ),
            (
                "{\"id\": \"a\", \"question\": \"q\", \"expect\": {\"outcome\": \"maybe\"}}",
                1,
                "unknown outcome",
            ),
            (
                "{\"question\": \"q\", \"expect\": {\"outcome\": \"menu\"}}",
                1,
                "id",
            ),
            (
                "{\"id\": \"a\", \"question\": \"q\", \"expect\": {\"source\": 3}}",
                1,
                "source",
            ),
        ] {
            let error = parse_cases(text).unwrap_err();
            assert_eq!(error.line, line, "{text}");
            assert!(error.reason.contains(reason), "{text}: {error}");
        }
    }

    /// A Vietnamese case for semantic calibration: `(confidence, similarity)` of its best passage,
    /// whether it should be answered, and whether keywords may decide alone.
    fn vietnamese_trace(
        scores: (f32, f32),
        should_answer: bool,
        keywords_decide: bool,
    ) -> SemanticTrace {
        SemanticTrace {
            expected_outcome: if should_answer {
                Outcome::Answer
            } else {
                Outcome::NoAnswer
            },
            language: "vi".to_string(),
            passage_right: should_answer,
            fact_check_right: false,
            forwarded: false,
            trace: SemanticScores {
                best_passage_confidence: scores.0,
                best_passage_similarity: scores.1,
                best_fact_check_similarity: 0.0,
                keywords_decide,
            },
        }
    }

    #[test]
    fn questions_the_keywords_answer_do_not_lower_the_evidence_threshold() {
        // Evidence 0.62 (written with marks, answerable), -0.34 (unmarked, answerable by
        // keywords), -0.52 and 0.10 (unanswerable).
        let mut traces = Vec::new();
        traces.extend((0..10).map(|_| vietnamese_trace((0.5, 0.86), true, false)));
        traces.extend((0..12).map(|_| vietnamese_trace((0.5, 0.78), true, true)));
        traces.extend((0..3).map(|_| vietnamese_trace((0.2, 0.79), false, false)));
        traces.extend((0..3).map(|_| vietnamese_trace((0.22, 0.84), false, false)));
        let threshold = |calibration: &SemanticCalibration| {
            calibration.thresholds.answer_evidence_by_language["vi"]
        };

        let aware = calibrate_semantic(&traces, 0.29);
        assert!(threshold(&aware) > 0.1, "{:?}", aware.thresholds);
        assert_eq!(aware.answer_cases, 28);
        assert_eq!(aware.answer_correct, 28);

        // Were the keyword rule unknown (no confidence reaches 1.01), the unmarked questions
        // would pull the threshold under half of the unanswerable ones.
        let unaware = calibrate_semantic(&traces, 1.01);
        assert!(threshold(&unaware) < -0.3, "{:?}", unaware.thresholds);
        assert!(unaware.answer_correct < 28);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.5), 50);
        assert_eq!(percentile(&values, 0.99), 99);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.99), 7);
    }
}
