//! What a citizen wants: [`IntentClassifier`] matches a normalised message against phrases kept
//! as data in `data/intents/<lang>.toml`, in a fixed order of precedence (opt-out, opt-in,
//! delete-my-data, report-a-problem, partisan, greeting, menu, alerts, thanks, bye). The citizen's
//! language is tried first, then every other language (a Spanish speaker may type `STOP`).
//! Anything else is a question.
//!
//! `slogans` are words that make a shouted message (two `!` or mostly capitals) starting with
//! them campaign spam ("VOTE MARTINEZ FOR COUNTY BOARD!!!"). `exact` phrases must be the whole
//! message; a short message that starts with one (at most
//! [`SHORT_MESSAGE_WORDS`] words, "hi there", "thanks a lot") also counts. `contains` phrases may
//! occur anywhere, as whole words (see [`crate::text::contains_phrase`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use votecheck_index::language::primary_subtag;

use crate::EngineError;
use crate::answer::Intent;

use crate::text::{is_spaceless_script, normalize_phrase};

/// The intent data files, by language (compiled in; see [`crate::compiled`]).
pub(crate) const INTENT_FILES: &[(&str, &str)] = &[
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
    ("alerts", Intent::Alerts),
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
    /// The intent recognised.
    pub intent: Intent,
    /// The file key that matched (`thanks`, `bye`, `greeting`...).
    pub rule: &'static str,
    /// The language whose phrase matched (the citizen's, when its phrases matched too).
    pub language: String,
    /// Every language with a phrase of this rule that matched, in file order: a command such as
    /// "delete my data" is listed in English and in Tagalog, and the engine answers it in the
    /// citizen's language when that is one of them.
    pub languages: Vec<String>,
}

/// One `contains` phrase, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ContainsPhrase {
    language: usize,
    rule: usize,
    /// The phrase without its trailing `*`.
    text: String,
    /// Whether its last word is a prefix (`intimidat*`).
    prefix: bool,
    /// A phrase of a script written without spaces, which may occur anywhere.
    spaceless: bool,
}

/// The intent phrases of every language as compiled from the data files, normalised: what
/// [`IntentClassifier::new`] needs, without the work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompiledIntents {
    /// Language codes, in file order.
    languages: Vec<String>,
    /// Whole-message phrases with their (language index, rule index).
    exact: Vec<(String, usize, usize)>,
    /// Slogan words with their (language index, rule index).
    slogans: Vec<(usize, usize, String)>,
    contains: Vec<ContainsPhrase>,
}

/// Reads and normalises every intent data file (in file order).
pub fn compile() -> Result<CompiledIntents, EngineError> {
    let mut compiled = CompiledIntents {
        languages: Vec::new(),
        exact: Vec::new(),
        slogans: Vec::new(),
        contains: Vec::new(),
    };
    for (language_index, (language, text)) in INTENT_FILES.iter().enumerate() {
        let file: HashMap<String, PhraseSet> =
            crate::parse_data_file(&format!("data/intents/{language}.toml"), text)?;
        compiled.languages.push(language.to_string());
        for (rule_index, (key, _)) in PRECEDENCE.iter().enumerate() {
            let Some(set) = file.get(*key) else {
                continue;
            };
            for phrase in set.exact.iter().map(|phrase| normalize_phrase(phrase)) {
                if !phrase.is_empty() {
                    compiled.exact.push((phrase, language_index, rule_index));
                }
            }
            for word in set.slogans.iter().map(|word| normalize_phrase(word)) {
                if !word.is_empty() {
                    compiled.slogans.push((language_index, rule_index, word));
                }
            }
            for phrase in set.contains.iter().map(|phrase| normalize_phrase(phrase)) {
                let (text, prefix) = match phrase.strip_suffix('*') {
                    Some(stem) => (stem.trim_end().to_string(), true),
                    None => (phrase.clone(), false),
                };
                if text.is_empty() {
                    continue;
                }
                let spaceless = !text.contains(' ') && text.chars().any(is_spaceless_script);
                compiled.contains.push(ContainsPhrase {
                    language: language_index,
                    rule: rule_index,
                    text,
                    prefix,
                    spaceless,
                });
            }
        }
    }
    Ok(compiled)
}

/// Phrase-based intent recognition in every catalogue language.
///
/// Every lookup is a hash map keyed by what a phrase starts with: `exact` phrases by the whole
/// message; `contains` phrases of scripts written with spaces by their first word (single-word
/// prefixes by their stem), those of scripts written without spaces by their first character.
/// A message is checked word by word and character by character against the phrases its words
/// and characters could start, so building the classifier is only filling the maps.
#[derive(Debug, Clone)]
pub struct IntentClassifier {
    /// Language codes, in file order.
    languages: Vec<String>,
    /// Whole-message phrases: normalised phrase → (language index, rule index).
    exact: HashMap<String, Vec<(usize, usize)>>,
    /// Slogan words per (language index, rule index).
    slogans: Vec<(usize, usize, String)>,
    /// Every `contains` phrase.
    phrases: Vec<ContainsPhrase>,
    /// Phrases of spaced scripts by first word (except single-word prefixes).
    by_first_word: HashMap<String, Vec<usize>>,
    /// Single-word prefix phrases by their stem.
    by_prefix: HashMap<String, Vec<usize>>,
    /// Phrases of scripts written without spaces by first character.
    by_first_character: HashMap<char, Vec<usize>>,
}

impl IntentClassifier {
    /// The classifier over the phrases bundled with the engine (see [`crate::compiled`]).
    pub fn load() -> Result<Self, EngineError> {
        Ok(Self::new(crate::compiled::EngineData::bundled()?.intents))
    }

    /// A classifier over compiled phrases.
    pub fn new(compiled: CompiledIntents) -> Self {
        let mut exact: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (phrase, language, rule) in compiled.exact {
            exact.entry(phrase).or_default().push((language, rule));
        }
        let mut by_first_word: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_prefix: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_first_character: HashMap<char, Vec<usize>> = HashMap::new();
        for (index, phrase) in compiled.contains.iter().enumerate() {
            if phrase.spaceless {
                if let Some(first) = phrase.text.chars().next() {
                    by_first_character.entry(first).or_default().push(index);
                }
            } else if phrase.prefix && !phrase.text.contains(' ') {
                by_prefix
                    .entry(phrase.text.clone())
                    .or_default()
                    .push(index);
            } else {
                let first = phrase.text.split(' ').next().unwrap_or_default();
                by_first_word
                    .entry(first.to_string())
                    .or_default()
                    .push(index);
            }
        }
        IntentClassifier {
            languages: compiled.languages,
            exact,
            slogans: compiled.slogans,
            phrases: compiled.contains,
            by_first_word,
            by_prefix,
            by_first_character,
        }
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
        let mut found = |index: &usize| {
            let phrase = &self.phrases[*index];
            matched.push((phrase.language, phrase.rule));
        };
        for (position, word) in words.iter().enumerate() {
            for index in self.by_first_word.get(*word).into_iter().flatten() {
                if self.phrases[*index].occurs_at(&words[position..]) {
                    found(index);
                }
            }
            for (end, _) in word.char_indices().skip(1) {
                self.by_prefix
                    .get(&word[..end])
                    .into_iter()
                    .flatten()
                    .for_each(&mut found);
            }
            self.by_prefix
                .get(*word)
                .into_iter()
                .flatten()
                .for_each(&mut found);
        }
        for (position, character) in normalized.char_indices() {
            for index in self
                .by_first_character
                .get(&character)
                .into_iter()
                .flatten()
            {
                if normalized[position..].starts_with(self.phrases[*index].text.as_str()) {
                    found(index);
                }
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
            .iter()
            .copied()
            .min_by_key(|(language, rule)| (*rule, self.languages[*language] != base, *language))?;
        let (rule, intent) = PRECEDENCE[rule_index];
        let mut languages: Vec<usize> = matched
            .iter()
            .filter(|(_, rule)| *rule == rule_index)
            .map(|(language, _)| *language)
            .collect();
        languages.sort_unstable();
        languages.dedup();
        Some(IntentMatch {
            intent,
            rule,
            language: self.languages[language_index].clone(),
            languages: languages
                .into_iter()
                .map(|language| self.languages[language].clone())
                .collect(),
        })
    }
}

impl ContainsPhrase {
    /// Whether this phrase (of a spaced script) starts at the first of `words`.
    fn occurs_at(&self, words: &[&str]) -> bool {
        let mut expected = self.text.split(' ').peekable();
        let mut typed = words.iter();
        while let Some(listed) = expected.next() {
            let Some(word) = typed.next() else {
                return false;
            };
            let last = expected.peek().is_none();
            let fits = if last && self.prefix {
                word.starts_with(listed)
            } else {
                *word == listed
            };
            if !fits {
                return false;
            }
        }
        true
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
    fn contains_phrases_match_whole_words_prefixes_and_unspaced_substrings() {
        let phrase = |text: &str, prefix: bool, spaceless: bool| ContainsPhrase {
            language: 0,
            rule: 3,
            text: text.to_string(),
            prefix,
            spaceless,
        };
        let classifier = IntentClassifier::new(CompiledIntents {
            languages: vec!["en".to_string()],
            exact: Vec::new(),
            slogans: Vec::new(),
            contains: vec![
                phrase("machine broken", false, false),
                phrase("intimidat", true, false),
                phrase("turned me aw", true, false),
                phrase("投票所閉", false, true),
            ],
        });
        let reported = |message: &str| classifier.classify(message, "en").is_some();
        assert!(reported("the machine broken again"));
        assert!(!reported("the machine brokenly hums"), "whole last word");
        assert!(!reported("themachine broken"), "whole first word");
        assert!(reported("they were intimidating me"));
        assert!(reported("intimidation"));
        assert!(!reported("unintimidated"), "a prefix starts a word");
        assert!(reported("they turned me away"));
        assert!(!reported("they turned me"));
        assert!(reported("今日は投票所閉まってた"));
        assert!(!reported("投票所は開いている"));
    }

    #[test]
    fn recognises_commands_in_many_languages() {
        assert_eq!(intent("STOP", "en"), Some(Intent::OptOut));
        assert_eq!(intent("stop", "es"), Some(Intent::OptOut));
        assert_eq!(intent("hola", "es"), Some(Intent::Greeting));
        assert_eq!(intent("hi there", "en"), Some(Intent::Greeting));
        assert_eq!(intent("こんにちは", "ja"), Some(Intent::Greeting));
        assert_eq!(intent("menu", "en"), Some(Intent::Menu));
        assert_eq!(intent("alerts", "en"), Some(Intent::Alerts));
        assert_eq!(
            intent("send me reminders please", "en"),
            Some(Intent::Alerts)
        );
        // "Subscribe" stays the opt-in after a "stop"; a question about a date stays a question.
        assert_eq!(intent("subscribe", "en"), Some(Intent::OptIn));
        assert_eq!(intent("remind me when early voting starts", "en"), None);
        assert_eq!(intent("thanks!", "en"), Some(Intent::SmallTalk));
        assert_eq!(intent("gracias", "es"), Some(Intent::SmallTalk));
        assert_eq!(intent("obrigado", "pt"), Some(Intent::SmallTalk));
    }

    /// Every labelled message of the judgement's files and of the batches it is not trained on
    /// (never a test split).
    fn every_labelled_message() -> Vec<crate::judgement::training::LabelledMessage> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        crate::judgement::training::TRAINING_FILES
            .iter()
            .copied()
            .chain([
                "samples/intent/third-batch.jsonl",
                "samples/intent/secrecy.jsonl",
            ])
            .flat_map(|file| {
                let text = std::fs::read_to_string(root.join(file)).unwrap();
                crate::judgement::training::read_labelled(file, &text).unwrap()
            })
            .collect()
    }

    /// The messages the phrases take for one of `intents`, one line each.
    fn taken_for<'m>(
        messages: impl IntoIterator<Item = &'m crate::judgement::training::LabelledMessage>,
        intents: &[Intent],
    ) -> Vec<String> {
        let classifier = IntentClassifier::load().unwrap();
        messages
            .into_iter()
            .filter_map(|message| {
                let found = classifier.classify(&message.text, &message.language)?;
                intents
                    .contains(&found.intent)
                    .then(|| format!("{} ({}): {}", message.id, found.rule, message.text))
            })
            .collect()
    }

    /// Opt-out and delete-my-data act at once (the citizen stops hearing from us, or their
    /// records go): no labelled message but the commands may reach them.
    #[test]
    fn no_labelled_message_is_taken_for_stop_or_delete() {
        let messages = every_labelled_message();
        assert!(
            messages.len() > 2_000,
            "{} labelled messages",
            messages.len()
        );
        let wrongly = taken_for(
            messages
                .iter()
                .filter(|message| message.judgement != crate::judgement::Judgement::Command),
            &[Intent::OptOut, Intent::DeleteMyData],
        );
        assert!(wrongly.is_empty(), "{}", wrongly.join("\n"));
    }

    /// The partisan phrases refuse whatever the judgement says (unless it finds a procedural
    /// question beside them, or a problem report), so they must not match a procedural
    /// question: no labelled question has one.
    #[test]
    fn no_labelled_procedural_question_is_taken_for_partisan() {
        let messages = every_labelled_message();
        let questions: Vec<_> = messages
            .iter()
            .filter(|message| message.judgement == crate::judgement::Judgement::Question)
            .collect();
        assert!(
            questions.len() > 900,
            "{} labelled questions",
            questions.len()
        );
        let wrongly = taken_for(questions, &[Intent::Partisan]);
        assert!(wrongly.is_empty(), "{}", wrongly.join("\n"));
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
        // Whom one voted for, where the ballot goes and what a straight ticket is are
        // procedural; whom to vote for is not.
        assert_eq!(
            intent("上司に誰に入れたか聞かれたけど答える義務ある？", "ja"),
            None
        );
        assert_eq!(intent("投票用紙はどこに入れるの？", "ja"), None);
        assert_eq!(intent("書いた紙ってどこに入れればいい？", "ja"), None);
        assert_eq!(
            intent("what does voting a straight ticket mean?", "en"),
            None
        );
        assert_eq!(intent("誰に入れればいい？", "ja"), Some(Intent::Partisan));
        assert_eq!(
            intent("だれに入れたらいいと思う？", "ja"),
            Some(Intent::Partisan)
        );
        assert_eq!(
            intent("比例はどこに入れるのがおすすめ？", "ja"),
            Some(Intent::Partisan)
        );
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
