//! The engine's reasoning for recent answers, keyed by the key of the message they answer
//! ([`MessageKey`], never the raw id): the
//! [`AnswerObserver`] the local server gives the handler, so the console can show language,
//! intent, outcome, citations with scores and the fact-check beside the exact reply.

use std::collections::VecDeque;
use std::sync::Mutex;

use votecheck_engine::Answer;
use votecheck_store::MessageKey;
use votecheck_webhook::AnswerObserver;

/// How many answers are kept (the console fetches its own right after asking).
pub const KEPT_ANSWERS: usize = 256;

/// The most recent answers, oldest dropped first.
#[derive(Debug, Default)]
pub struct TraceLog {
    answers: Mutex<VecDeque<(MessageKey, Answer)>>,
}

impl TraceLog {
    /// Removes and returns the answer to the message with this key, if it is still kept.
    pub fn take(&self, message: &MessageKey) -> Option<Answer> {
        let mut answers = self.answers.lock().ok()?;
        let position = answers.iter().position(|(key, _)| key == message)?;
        answers.remove(position).map(|(_, answer)| answer)
    }
}

impl AnswerObserver for TraceLog {
    fn answered(&self, message: &MessageKey, answer: &Answer) {
        if let Ok(mut answers) = self.answers.lock() {
            if answers.len() == KEPT_ANSWERS {
                answers.pop_front();
            }
            answers.push_back((message.clone(), answer.clone()));
        }
    }
}
