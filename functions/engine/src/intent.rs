//! What a citizen wants: [`IntentClassifier`] matches a normalised message against phrases kept
//! as data in `data/intents/<lang>.toml`, in a fixed order of precedence (opt-out, opt-in,
//! delete-my-data, report-a-problem, partisan, greeting, menu, thanks, bye). The citizen's
//! language is tried first, then every other language (a Spanish speaker may type `STOP`).
//! Anything else is a question.
//!
//! `slogans` are words that make a shouted message (two `!` or mostly capitals) starting with
//! them campaign spam ("VOTE MARTINEZ FOR COUNTY BOARD!!!"). `exact` phrases must be the whole
//! message; a short message that starts with one (at most
//! [`SHORT_MESSAGE_WORDS`] words, "hi there", "thanks a lot") also counts. `contains` phrases may
//! occur anywhere, as whole words (see [`crate::text::contains_phrase`]).

use std::collections::HashMap;

use serde::Deserialize;
use votecheck_index::language::primary_subtag;

use crate::EngineError;
use crate::answer::Intent;
use aho_corasick::{AhoCorasick, MatchKind};

use crate::text::{is_spaceless_script, normalize_phrase};

const INTENT_FILES: &[(&str, &str)] = &[
    ("en", include_str!("../data/intents/en.toml")),
    ("es", include_str!("../data/intents/es.toml")),
    ("pt", include_str!("../data/intents/pt.toml")),
    ("fr", include_str!("../data/intents/fr.toml")),
    ("ja", include_str!("../data/intents/ja.toml")),
    ("zh", include_str!("../data/intents/zh.toml")),
    ("ko", include_str!("../data/intents/ko.toml")),
    ("hi", include_str!("../data/intents/hi.toml")),
    ("ar", include_str!("../data/intents/ar.toml")),
    ("vi", include_str!("../data/intents/vi.toml")),
    ("tl", include_str!("../data/intents/tl.toml")),
    ("ru", include_str!("../data/intents/ru.toml")),
];

/// Messages of at most this many words that start with a greeting, thanks or goodbye phrase are
/// that intent ("hello there", "thanks so much").
pub const SHORT_MESSAGE_WORDS: usize = 4;

/// The order in which intents are tried, with their file keys.
const PRECEDENCE: &[(&str, Intent)] = &[
    ("opt_out", Intent::OptOut),
    ("opt_in", Intent::OptIn),
    ("delete_my_data", Intent::DeleteMyData),
    ("report_problem", Intent::ReportProblem),
    ("partisan", Intent::Partisan),
    ("greeting", Intent::Greeting),
    ("menu", Intent::Menu),
    ("thanks", Intent::SmallTalk),
    ("bye", Intent::SmallTalk),
];

/// Intents whose `exact` phrases also match short messages that start with them.
const CONVERSATIONAL: &[&str] = &["greeting", "thanks", "bye"];

#[derive(Deserialize, Default)]
#[serde(default)]
struct PhraseSet {
    exact: Vec<String>,
    contains: Vec<String>,
    slogans: Vec<String>,
}

/// A recognised intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentMatch {
    pub intent: Intent,
    /// The file key that matched (`thanks`, `bye`, `greeting`...).
    pub rule: &'static str,
    /// The language whose phrase matched.
    pub language: String,
}

/// Phrase-based intent recognition in every catalogue language.
///
/// All `contains` phrases of all languages are searched in one pass with an Aho-Corasick
/// automaton; `exact` phrases are looked up in a hash map.
#[derive(Debug, Clone)]
pub struct IntentClassifier {
    /// Language codes, in file order.
    languages: Vec<String>,
    /// Whole-message phrases: normalised phrase → (language index, rule index).
    exact: HashMap<String, Vec<(usize, usize)>>,
    /// Slogan words per (language index, rule index).
    slogans: Vec<(usize, usize, String)>,
    /// One automaton over every `contains` phrase.
    automaton: AhoCorasick,
    /// For each automaton pattern: language index, rule index, whether its last word is a prefix.
    patterns: Vec<(usize, usize, bool)>,
}

impl IntentClassifier {
    /// Loads the compiled-in phrase files.
    pub fn load() -> Result<Self, EngineError> {
        let mut languages = Vec::new();
        let mut exact: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        let mut slogans = Vec::new();
        let mut needles: Vec<String> = Vec::new();
        let mut patterns = Vec::new();
        for (language_index, (language, text)) in INTENT_FILES.iter().enumerate() {
            let file: HashMap<String, PhraseSet> =
                toml::from_str(text).map_err(|error| EngineError::Data {
                    file: format!("data/intents/{language}.toml"),
                    reason: error.to_string(),
                })?;
            languages.push(language.to_string());
            for (rule_index, (key, _)) in PRECEDENCE.iter().enumerate() {
                let Some(set) = file.get(*key) else {
                    continue;
                };
                for phrase in set.exact.iter().map(|phrase| normalize_phrase(phrase)) {
                    if !phrase.is_empty() {
                        exact
                            .entry(phrase)
                            .or_default()
                            .push((language_index, rule_index));
                    }
                }
                for word in set.slogans.iter().map(|word| normalize_phrase(word)) {
                    if !word.is_empty() {
                        slogans.push((language_index, rule_index, word));
                    }
                }
                for phrase in set.contains.iter().map(|phrase| normalize_phrase(phrase)) {
                    if phrase.is_empty() {
                        continue;
                    }
                    let (stem, prefix) = match phrase.strip_suffix('*') {
                        Some(stem) => (stem.to_string(), true),
                        None => (phrase.clone(), false),
                    };
                    let spaceless = !stem.contains(' ') && stem.chars().any(is_spaceless_script);
                    // Phrases of spaced scripts must start at a word: search " phrase" in " text ".
                    needles.push(if spaceless { stem } else { format!(" {stem}") });
                    patterns.push((language_index, rule_index, prefix || spaceless));
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&needles)
            .map_err(|error| EngineError::Data {
                file: "data/intents".to_string(),
                reason: error.to_string(),
            })?;
        Ok(IntentClassifier {
            languages,
            exact,
            slogans,
            automaton,
            patterns,
        })
    }

    /// Every (language index, rule index) whose phrases the normalised message matches.
    fn matched_rules(&self, normalized: &str, shouted: bool) -> Vec<(usize, usize)> {
        let mut matched: Vec<(usize, usize)> = Vec::new();
        if let Some(rules) = self.exact.get(normalized) {
            matched.extend(rules);
        }
        // Short messages that start with a greeting, thanks or goodbye phrase.
        let words: Vec<&str> = normalized.split(' ').collect();
        if words.len() <= SHORT_MESSAGE_WORDS {
            for length in 1..words.len() {
                if let Some(rules) = self.exact.get(&words[..length].join(" ")) {
                    matched.extend(
                        rules
                            .iter()
                            .filter(|(_, rule)| CONVERSATIONAL.contains(&PRECEDENCE[*rule].0)),
                    );
                }
            }
        }
        if shouted {
            matched.extend(
                self.slogans
                    .iter()
                    .filter(|(_, _, word)| normalized.starts_with(&format!("{word} ")))
                    .map(|(language, rule, _)| (*language, *rule)),
            );
        }
        let padded = format!(" {normalized} ");
        for found in self.automaton.find_overlapping_iter(&padded) {
            let (language, rule, open_ended) = self.patterns[found.pattern().as_usize()];
            if open_ended || padded[found.end()..].starts_with(' ') {
                matched.push((language, rule));
            }
        }
        matched
    }

    /// The intent of a message, given the language it is probably in.
    pub fn classify(&self, message: &str, language: &str) -> Option<IntentMatch> {
        let normalized = normalize_phrase(message);
        if normalized.is_empty() {
            return None;
        }
        let matched = self.matched_rules(&normalized, is_shouted(message));
        let base = primary_subtag(language);
        // Highest precedence first; within a rule, the citizen's language first.
        let (language_index, rule_index) = matched
            .into_iter()
            .min_by_key(|(language, rule)| (*rule, self.languages[*language] != base, *language))?;
        let (rule, intent) = PRECEDENCE[rule_index];
        Some(IntentMatch {
            intent,
            rule,
            language: self.languages[language_index].clone(),
        })
    }
}

/// Whether a message shouts: two or more exclamation marks, or mostly capital letters.
fn is_shouted(message: &str) -> bool {
    let exclamations = message.chars().filter(|c| matches!(c, '!' | '！')).count();
    let cased: Vec<char> = message
        .chars()
        .filter(|c| c.is_lowercase() || c.is_uppercase())
        .collect();
    let upper = cased.iter().filter(|c| c.is_uppercase()).count();
    exclamations >= 2 || (cased.len() >= 8 && upper * 10 >= cased.len() * 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(message: &str, language: &str) -> Option<Intent> {
        IntentClassifier::load()
            .unwrap()
            .classify(message, language)
            .map(|found| found.intent)
    }

    #[test]
    fn recognises_commands_in_many_languages() {
        assert_eq!(intent("STOP", "en"), Some(Intent::OptOut));
        assert_eq!(intent("stop", "es"), Some(Intent::OptOut));
        assert_eq!(intent("hola", "es"), Some(Intent::Greeting));
        assert_eq!(intent("hi there", "en"), Some(Intent::Greeting));
        assert_eq!(intent("こんにちは", "ja"), Some(Intent::Greeting));
        assert_eq!(intent("menu", "en"), Some(Intent::Menu));
        assert_eq!(intent("thanks!", "en"), Some(Intent::SmallTalk));
        assert_eq!(intent("gracias", "es"), Some(Intent::SmallTalk));
        assert_eq!(intent("obrigado", "pt"), Some(Intent::SmallTalk));
    }

    #[test]
    fn partisan_requests_are_recognised_but_procedural_party_questions_are_not() {
        assert_eq!(
            intent("Who should I vote for?", "en"),
            Some(Intent::Partisan)
        );
        assert_eq!(
            intent("¿Qué partido es mejor?", "es"),
            Some(Intent::Partisan)
        );
        assert_eq!(
            intent("誰に投票すればいいですか", "ja"),
            Some(Intent::Partisan)
        );
        assert_eq!(
            intent("How do I register with a party in Pennsylvania?", "en"),
            None
        );
        assert_eq!(intent("Can I change my party affiliation?", "en"), None);
        assert_eq!(intent("¿Cómo me afilio a un partido?", "es"), None);
    }

    #[test]
    fn problems_at_the_polls_are_reports() {
        assert_eq!(
            intent(
                "A man is intimidating voters outside my polling place",
                "en"
            ),
            Some(Intent::ReportProblem)
        );
        assert_eq!(
            intent("the voting machine is broken", "en"),
            Some(Intent::ReportProblem)
        );
    }

    #[test]
    fn shouted_slogans_are_campaign_spam_but_calm_questions_are_not() {
        assert_eq!(
            intent(
                "VOTE MARTINEZ FOR COUNTY BOARD!!! send this to 10 friends",
                "en"
            ),
            Some(Intent::Partisan)
        );
        assert_eq!(intent("vote early where?", "en"), None);
        assert_eq!(
            intent("VOTA POR LA LISTA 5!!", "es"),
            Some(Intent::Partisan)
        );
    }

    #[test]
    fn questions_that_start_with_a_greeting_are_questions() {
        assert_eq!(intent("hi, where do I vote on election day?", "en"), None);
        assert_eq!(intent("How do I vote by mail?", "en"), None);
    }
}
