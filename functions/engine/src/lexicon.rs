//! The domain lexicon: groups of election terms that mean the same thing to a voter ("mail
//! ballot", "absentee ballot", "postal vote"), per language, kept as data in
//! `data/lexicon/<lang>.toml`. A question that contains one term of a group is expanded with the
//! other terms of the group, at a lower weight than the words the citizen typed.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use votecheck_index::analysis::{language_analyzer, terms, terms_with};
use votecheck_index::language::primary_subtag;

use crate::EngineError;
use crate::text::{contains_phrase, normalize_phrase};

const LEXICON_FILES: &[(&str, &str)] = &[
    ("en", include_str!("../data/lexicon/en.toml")),
    ("es", include_str!("../data/lexicon/es.toml")),
    ("pt", include_str!("../data/lexicon/pt.toml")),
    ("fr", include_str!("../data/lexicon/fr.toml")),
    ("ja", include_str!("../data/lexicon/ja.toml")),
    ("zh", include_str!("../data/lexicon/zh.toml")),
    ("ko", include_str!("../data/lexicon/ko.toml")),
    ("hi", include_str!("../data/lexicon/hi.toml")),
    ("ar", include_str!("../data/lexicon/ar.toml")),
    ("vi", include_str!("../data/lexicon/vi.toml")),
    ("tl", include_str!("../data/lexicon/tl.toml")),
    ("ru", include_str!("../data/lexicon/ru.toml")),
    ("bn", include_str!("../data/lexicon/bn.toml")),
];

#[derive(Deserialize)]
struct LexiconFile {
    #[serde(default)]
    function_words: Vec<String>,
    #[serde(default)]
    groups: Vec<GroupFile>,
}

#[derive(Deserialize)]
struct GroupFile {
    #[serde(default)]
    id: Option<String>,
    terms: Vec<String>,
}

/// One group of synonyms, normalised.
#[derive(Debug, Clone)]
pub struct SynonymGroup {
    /// Concept id shared across languages, when the file gives one.
    pub id: Option<String>,
    /// Terms as written (for expansion text).
    pub terms: Vec<String>,
    normalized: Vec<String>,
}

/// What a question matched in the lexicon.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expansion {
    /// Terms to add to the query, space separated.
    pub text: String,
    /// Concept ids of the matched groups.
    pub concepts: Vec<String>,
    /// For each matched group: the term the question used, and the group's other terms.
    pub synonyms: Vec<(String, Vec<String>)>,
}

/// Synonym groups and function words per language.
#[derive(Debug, Clone)]
pub struct Lexicon {
    groups: HashMap<String, Vec<SynonymGroup>>,
    /// Index terms (as the plain analyzer makes them) of each language's function words.
    function_terms: HashMap<String, HashSet<String>>,
    /// The same, as the language's own analyzer (stemmed where it stems) makes them.
    function_stems: HashMap<String, HashSet<String>>,
    empty: HashSet<String>,
}

impl Lexicon {
    /// Loads the compiled-in lexicon.
    pub fn load() -> Result<Self, EngineError> {
        let mut groups = HashMap::new();
        let mut function_terms = HashMap::new();
        let mut function_stems = HashMap::new();
        for (language, text) in LEXICON_FILES {
            let file: LexiconFile = toml::from_str(text).map_err(|error| EngineError::Data {
                file: format!("data/lexicon/{language}.toml"),
                reason: error.to_string(),
            })?;
            let parsed = file
                .groups
                .into_iter()
                .map(|group| SynonymGroup {
                    id: group.id,
                    normalized: group
                        .terms
                        .iter()
                        .map(|term| normalize_phrase(term))
                        .collect(),
                    terms: group.terms,
                })
                .collect();
            groups.insert(language.to_string(), parsed);
            let terms: HashSet<String> = file
                .function_words
                .iter()
                .flat_map(|word| terms(word))
                .collect();
            function_terms.insert(language.to_string(), terms);
            let mut analyzer = language_analyzer(language);
            let stems: HashSet<String> = file
                .function_words
                .iter()
                .flat_map(|word| terms_with(&mut analyzer, word))
                .collect();
            function_stems.insert(language.to_string(), stems);
        }
        Ok(Lexicon {
            groups,
            function_terms,
            function_stems,
            empty: HashSet::new(),
        })
    }

    /// The languages whose function words a message uses, most hits first (only languages with
    /// at least one hit). Short informal questions ("when do we get results") defeat statistical
    /// detectors but rarely this evidence.
    pub fn function_word_votes(&self, message: &str) -> Vec<(&str, usize)> {
        let message_terms: Vec<String> = terms(message);
        let mut votes: Vec<(&str, usize)> = self
            .function_terms
            .iter()
            .map(|(language, function)| {
                let hits = message_terms
                    .iter()
                    .filter(|term| function.contains(*term))
                    .count();
                (language.as_str(), hits)
            })
            .filter(|(_, hits)| *hits > 0)
            .collect();
        votes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        votes
    }

    /// The language of a message by its function words when the evidence is decisive: at least
    /// two hits, and two more than any other language.
    pub fn function_word_language(&self, message: &str) -> Option<&str> {
        let votes = self.function_word_votes(message);
        let second = votes.get(1).map_or(0, |(_, hits)| *hits);
        votes
            .first()
            .filter(|(_, best)| *best >= 2 && *best >= second + 2)
            .map(|(language, _)| *language)
    }

    /// A language's function words as its own analyzer makes them (what confidence compares).
    pub fn function_stems(&self, language: &str) -> &HashSet<String> {
        self.function_stems
            .get(&primary_subtag(language))
            .unwrap_or(&self.empty)
    }

    /// The index terms of a language's function words (question words, pronouns, particles),
    /// which carry no information about what a question is about.
    pub fn function_terms(&self, language: &str) -> &HashSet<String> {
        self.function_terms
            .get(&primary_subtag(language))
            .unwrap_or(&self.empty)
    }

    /// The expansion of a question in a language: the other terms of every group it mentions.
    pub fn expand(&self, question: &str, language: &str) -> Expansion {
        let normalized = normalize_phrase(question);
        let mut expansion = Expansion::default();
        let Some(groups) = self.groups.get(&primary_subtag(language)) else {
            return expansion;
        };
        let mut added: Vec<&str> = Vec::new();
        for group in groups {
            let Some(matched) = group
                .normalized
                .iter()
                .position(|term| !term.is_empty() && contains_phrase(&normalized, term))
            else {
                continue;
            };
            if let Some(id) = &group.id {
                expansion.concepts.push(id.clone());
            }
            let others: Vec<String> = group
                .terms
                .iter()
                .enumerate()
                .filter(|(index, _)| *index != matched)
                .map(|(_, term)| term.clone())
                .collect();
            expansion
                .synonyms
                .push((group.terms[matched].clone(), others));
            for (index, term) in group.terms.iter().enumerate() {
                if index != matched && !added.contains(&term.as_str()) {
                    added.push(term);
                }
            }
        }
        expansion.text = added.join(" ");
        expansion
    }

    /// The share of a question's content words (not function words) that belong to the lexicon
    /// terms it matched: how much of the question its concepts stand for.
    pub fn explained_share(&self, question: &str, language: &str, expansion: &Expansion) -> f32 {
        let function = self.function_terms(language);
        let content: Vec<String> = terms(question)
            .into_iter()
            .filter(|term| !function.contains(term))
            .collect();
        if content.is_empty() {
            return 0.0;
        }
        let matched: HashSet<String> = expansion
            .synonyms
            .iter()
            .flat_map(|(used, _)| terms(used))
            .collect();
        content
            .iter()
            .filter(|term| matched.contains(*term))
            .count() as f32
            / content.len() as f32
    }

    /// The terms of the given concepts in another language (for searching documents in the
    /// deployment's default language with a question in another one).
    pub fn concept_terms(&self, concepts: &[String], language: &str) -> String {
        let Some(groups) = self.groups.get(&primary_subtag(language)) else {
            return String::new();
        };
        groups
            .iter()
            .filter(|group| group.id.as_ref().is_some_and(|id| concepts.contains(id)))
            .flat_map(|group| group.terms.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_synonyms_of_terms_the_question_contains() {
        let lexicon = Lexicon::load().unwrap();
        let expansion = lexicon.expand("how do I get an absentee ballot", "en");
        assert!(expansion.text.contains("mail"), "{expansion:?}");
        assert!(lexicon.expand("hello", "en").text.is_empty());
    }

    #[test]
    fn function_words_are_index_terms() {
        let lexicon = Lexicon::load().unwrap();
        assert!(lexicon.function_terms("en").contains("how"));
        assert!(!lexicon.function_terms("en").contains("ballot"));
        assert!(
            lexicon.function_terms("es").contains("como"),
            "folded like the index"
        );
        assert!(lexicon.function_terms("ja").contains("です"));
        assert!(lexicon.function_terms("xx").is_empty());
    }

    #[test]
    fn function_words_reveal_the_language_of_short_questions() {
        let lexicon = Lexicon::load().unwrap();
        assert_eq!(
            lexicon.function_word_language("when do we get results"),
            Some("en")
        );
        assert_eq!(
            lexicon.function_word_language("quiero votar desde mi casa, como consigo la boleta"),
            Some("es")
        );
        assert_eq!(lexicon.function_word_language("ballot"), None);
    }

    #[test]
    fn every_language_has_groups() {
        let lexicon = Lexicon::load().unwrap();
        for (language, _) in LEXICON_FILES {
            assert!(lexicon.groups[*language].len() >= 10, "{language}");
            assert!(!lexicon.function_terms(language).is_empty(), "{language}");
        }
    }
}
