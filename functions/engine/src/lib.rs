//! # votecheck-engine: the answer engine
//!
//! From a citizen's question, as typed on WhatsApp, to an [`Answer`]: the language to reply in,
//! what the citizen wants ([`Intent`]), the official passages that answer it with citations, the
//! fact-check verdict when the message repeats a checked rumour, or an honest "no answer" with the
//! deployment's contact line — rendered as the exact WhatsApp reply. Pure and synchronous: no
//! network, no clock beyond timings, no AWS; the Lambda, the local server and the CLI all call
//! [`Engine::answer`].
//!
//! One module per step:
//! - [`engine`]: the sequence of steps and the [`ConversationContext`] it takes;
//! - [`intent`]: commands, greetings, partisan requests, problem reports (phrases as data);
//! - [`judgement`]: the learned judgement of other messages (partisan, mixed, rumour,
//!   unanswerable, small talk) from the question's embedding and a middle layer's mean, and
//!   the clauses of a mixed message;
//! - [`lexicon`]: election synonyms per language (data) for query expansion;
//! - [`compiled`]: the intent phrases and the lexicon, normalised ahead of time for fast starts;
//! - [`jurisdiction`]: which jurisdiction a question names;
//! - [`retrieval`]: search, near-duplicate collapsing, confidence and fact-check similarity;
//! - [`calibration`]: the abstention thresholds, chosen on eval data;
//! - [`reply`] and [`catalogue`]: WhatsApp rendering and canned texts in 12 languages;
//! - [`claim_form`]: whether a fact-check's claim is the claim or the checker's conclusion;
//! - [`eval`]: running a file of labelled cases and computing hit@k and outcome accuracy.
//!
//! ```no_run
//! use votecheck_engine::{ConversationContext, Engine};
//! let engine = Engine::open(std::path::Path::new("target/sample-index"))?;
//! let answer = engine.answer("how do I vote by mail?", &ConversationContext::default());
//! println!("{} ({}): {}", answer.outcome.as_str(), answer.language, answer.reply.text);
//! # Ok::<(), votecheck_engine::EngineError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod answer;
pub mod calibration;
pub mod catalogue;
pub mod claim_form;
pub mod compiled;
pub mod engine;
pub mod eval;
pub mod intent;
pub mod judgement;
pub mod jurisdiction;
pub mod lexicon;
pub mod reply;
pub mod retrieval;
pub mod text;

pub use answer::{Answer, Citation, FactCheckMatch, Intent, Interactive, Outcome, Reply};
pub use engine::{ConversationContext, Engine, OpenTimes, PassageRef, Trace};

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The index cannot be opened.
    #[error(transparent)]
    Index(#[from] votecheck_index::IndexError),
    /// The encoder model cannot be opened (the index has passage vectors).
    #[error("{0}")]
    Model(String),
    /// One of the engine's data files does not parse.
    #[error("the engine's data file {file} is invalid: {reason}")]
    Data {
        /// The file, under `functions/engine/data/`.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Parses one of the engine's TOML data files; an error names the file (`data/...`).
pub(crate) fn parse_data_file<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<T, EngineError> {
    toml::from_str(text).map_err(|error| EngineError::Data {
        file: file.to_string(),
        reason: error.to_string(),
    })
}
