//! The domain lexicon: groups of election terms that mean the same thing to a voter ("mail
//! ballot", "absentee ballot", "postal vote"), per language, kept as data in
//! `data/lexicon/<lang>.toml`. A question that contains one term of a group is expanded with the
//! other terms of the group, at a lower weight than the words the citizen typed.
//!
//! Terms are matched on **units**, not on the text as written: in scripts written with spaces a
//! unit is a word as the language's analyzer makes it (stemmed where the language stems, so
//! "votaciones" matches "votación" and "почте" matches "почта"); in scripts written without
//! spaces (Han, kana, Hangul) a unit is one character, so a term matches wherever its characters
//! occur in a row ("투표소는" contains "투표소"). A word also matches a lexicon stem of at least
//! [`PREFIXED_STEM_CHARS`] characters that it ends with: the same word with a prefix (Russian
//! verb aspect, "проголосовать" for "голосовать"; Arabic clitics, "بالبريد" for "البريد").
//!
//! The units a question's concepts explain ([`Expansion::concept_shares`]) tell how much of the
//! question the concepts stand for, which is what an answer in another language can be sure of.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tantivy::tokenizer::TextAnalyzer;
use unicode_normalization::char::is_combining_mark;
use votecheck_index::analysis::{language_analyzer, normalize_word, terms, terms_with};
use votecheck_index::language::primary_subtag;

use crate::EngineError;
use crate::retrieval::FUNCTION_WORD_WEIGHT;
use crate::text::{contains_phrase, is_spaceless_script, normalize_phrase};

/// A question word that ends with a lexicon stem at least this long (in characters) matches it:
/// the same word with a prefix. Shorter stems would match unrelated words ("count" in
/// "discount").
pub const PREFIXED_STEM_CHARS: usize = 6;

/// The lexicon's data files, by language (compiled in; see [`crate::compiled`]).
pub(crate) const LEXICON_FILES: &[(&str, &str)] = &[
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
    /// Function words the language borrows from another ("how", "the" in Tagalog): they weigh
    /// as its function words, but are no evidence that a message is in it.
    #[serde(default)]
    borrowed_function_words: Vec<String>,
    #[serde(default)]
    groups: Vec<GroupFile>,
}

#[derive(Deserialize)]
struct GroupFile {
    #[serde(default)]
    id: Option<String>,
    /// The id of a group in the same file whose terms are a wider notion: a passport is an ID,
    /// so a passage about ID covers a question about a passport, but not the other way round.
    #[serde(default)]
    broader: Option<String>,
    terms: Vec<String>,
}

/// One unit of text that concept matching compares: a word as the language's analyzer makes it,
/// or one character of a script written without spaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Unit {
    text: String,
    /// Whether the unit is a word of a script written with spaces (a prefixed form may match it).
    word: bool,
}

impl Unit {
    /// Whether this unit of a question matches a unit of a lexicon term.
    fn matches(&self, term: &Unit) -> bool {
        self.text == term.text
            || (self.word
                && term.word
                && term.text.chars().count() >= PREFIXED_STEM_CHARS
                && self.text.ends_with(term.text.as_str()))
    }
}

/// The units of a text: its words (letters, digits and marks), each cut where a script written
/// without spaces meets another; runs of such scripts give one unit per character, other runs
/// the analyzer's terms.
fn units(analyzer: &mut TextAnalyzer, text: &str) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut flush = |run: &mut String, spaceless: bool, out: &mut Vec<Unit>| {
        if run.is_empty() {
            return;
        }
        if spaceless {
            out.extend(normalize_word(run).chars().map(|character| Unit {
                text: character.to_string(),
                word: false,
            }));
        } else {
            out.extend(
                terms_with(analyzer, run)
                    .into_iter()
                    .map(|text| Unit { text, word: true }),
            );
        }
        run.clear();
    };
    for word in text
        .split(|character: char| !(character.is_alphanumeric() || is_combining_mark(character)))
        .filter(|word| !word.is_empty())
    {
        let mut run = String::new();
        let mut run_spaceless = false;
        for character in word.chars() {
            let spaceless = is_spaceless_script(character);
            if spaceless != run_spaceless {
                flush(&mut run, run_spaceless, &mut out);
                run_spaceless = spaceless;
            }
            run.push(character);
        }
        flush(&mut run, run_spaceless, &mut out);
    }
    out
}

/// Where `term` occurs in `question` (start positions).
fn occurrences<'a>(
    question: &'a [Unit],
    term: &'a [Unit],
    prefixed: bool,
) -> impl Iterator<Item = usize> + 'a {
    let count = if term.is_empty() || term.len() > question.len() {
        0
    } else {
        question.len() - term.len() + 1
    };
    (0..count).filter(move |start| {
        question[*start..start + term.len()]
            .iter()
            .zip(term)
            .all(|(typed, listed)| {
                if prefixed {
                    typed.matches(listed)
                } else {
                    typed == listed
                }
            })
    })
}

/// One group of synonyms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynonymGroup {
    /// Concept id shared across languages, when the file gives one.
    pub id: Option<String>,
    /// Terms as written (for expansion text).
    pub terms: Vec<String>,
    /// The terms of the broader group (see the data files' `broader`), as written: they expand
    /// a question that uses this group's terms and cover them, but this group's terms do not
    /// cover theirs.
    pub broader_terms: Vec<String>,
    /// Each term normalised (for query expansion).
    normalized: Vec<String>,
    /// The units of each term (for concepts).
    units: Vec<Vec<Unit>>,
}

/// What a question matched in the lexicon.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expansion {
    /// Terms to add to the query, space separated.
    pub text: String,
    /// Concept ids of the groups whose terms the question's units match (see the module
    /// documentation).
    pub concepts: Vec<String>,
    /// For each matched group: the term the question used, and the group's other terms.
    pub synonyms: Vec<(String, Vec<String>)>,
    /// For each matched concept: the share of the question (its units, function words weighing
    /// [`FUNCTION_WORD_WEIGHT`]) that the concept's terms explain. A unit inside several matched
    /// terms belongs to the longest.
    pub concept_shares: Vec<(String, f32)>,
}

impl Expansion {
    /// The share of the question its concepts explain, from 0 to 1.
    pub fn explained(&self) -> f32 {
        self.concept_shares.iter().map(|(_, share)| share).sum()
    }
}

/// A concept of a question, in the language passages are searched in: a passage that contains
/// every term of one of `phrases` covers `share` of the question.
#[derive(Debug, Clone, PartialEq)]
pub struct ConceptShare {
    /// Alternative phrasings of the concept, as search terms.
    pub phrases: Vec<String>,
    /// The share of the question a passage covers with one of them.
    pub share: f32,
}

/// One language's synonym groups, decoded the first time a question needs them: a cold start
/// then decodes only the function words of every language (language detection needs those) and
/// the groups of the languages it meets, not the whole lexicon.
#[derive(Clone, Default)]
struct LazyGroups {
    /// The groups, postcard-encoded ([`CompiledLanguage::groups`]).
    encoded: Vec<u8>,
    decoded: OnceLock<Vec<SynonymGroup>>,
}

impl LazyGroups {
    fn get(&self) -> &[SynonymGroup] {
        // The encoding is ours and a unit test decodes the bundled one; should it ever fail, the
        // language answers without synonyms rather than not at all.
        self.decoded
            .get_or_init(|| postcard::from_bytes(&self.encoded).unwrap_or_default())
    }
}

/// Synonym groups and function words per language.
#[derive(Clone)]
pub struct Lexicon {
    groups: HashMap<String, LazyGroups>,
    /// Each language's analyzer (stemmed where it stems), built once.
    analyzers: HashMap<String, TextAnalyzer>,
    /// The units of each language's function words.
    function_units: HashMap<String, Vec<Vec<Unit>>>,
    /// Index terms (as the plain analyzer makes them) of each language's function words.
    function_terms: HashMap<String, HashSet<String>>,
    /// The function terms each language borrows from another: no evidence that a message is in it.
    borrowed_terms: HashMap<String, HashSet<String>>,
    /// The same, as the language's own analyzer (stemmed where it stems) makes them.
    function_stems: HashMap<String, HashSet<String>>,
    empty: HashSet<String>,
}

impl std::fmt::Debug for Lexicon {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Lexicon")
            .field("languages", &self.groups.keys().collect::<Vec<_>>())
            .field("function_terms", &self.function_terms)
            .finish_non_exhaustive()
    }
}

/// A language's function words as index terms: as its own analyzer makes them (stemmed where it
/// stems; what confidence compares) and as the plain analyzer makes them (the query's unstemmed
/// fields).
#[derive(Debug, Clone, Copy)]
pub struct FunctionWords<'a> {
    /// Function words, stemmed.
    pub stems: &'a HashSet<String>,
    /// Function words as written.
    pub plain: &'a HashSet<String>,
}

impl FunctionWords<'_> {
    /// Whether an index term, stemmed or plain, is a function word.
    pub fn contains(&self, term: &str) -> bool {
        self.stems.contains(term) || self.plain.contains(term)
    }
}

/// One language's lexicon as compiled from its data file, every term already normalised and cut
/// into units: what [`Lexicon::new`] needs, without the work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompiledLanguage {
    language: String,
    /// The synonym groups, postcard-encoded (decoded when first needed, see [`LazyGroups`]).
    #[serde(with = "serde_bytes")]
    groups: Vec<u8>,
    function_units: Vec<Vec<Unit>>,
    /// Sorted.
    function_terms: Vec<String>,
    /// Sorted: the function terms the language borrows.
    borrowed_terms: Vec<String>,
    /// Sorted.
    function_stems: Vec<String>,
}

/// Reads, normalises and cuts into units every lexicon data file (in file order).
pub fn compile() -> Result<Vec<CompiledLanguage>, EngineError> {
    compile_files(LEXICON_FILES)
}

/// [`compile`] for the given (language, file text) pairs.
fn compile_files(files: &[(&str, &str)]) -> Result<Vec<CompiledLanguage>, EngineError> {
    let mut plain = votecheck_index::analysis::plain_analyzer();
    let sorted = |terms: HashSet<String>| {
        let mut terms: Vec<String> = terms.into_iter().collect();
        terms.sort();
        terms
    };
    let mut languages = Vec::new();
    for (language, text) in files {
        let file: LexiconFile =
            crate::parse_data_file(&format!("data/lexicon/{language}.toml"), text)?;
        let mut analyzer = language_analyzer(language);
        let terms_of: HashMap<String, Vec<String>> = file
            .groups
            .iter()
            .filter_map(|group| Some((group.id.clone()?, group.terms.clone())))
            .collect();
        let mut groups: Vec<SynonymGroup> = Vec::new();
        for group in file.groups {
            let broader_terms = match &group.broader {
                Some(broader) => terms_of
                    .get(broader)
                    .cloned()
                    .ok_or_else(|| EngineError::Data {
                        file: format!("data/lexicon/{language}.toml"),
                        reason: format!(
                            "group {:?} names a broader group {broader:?} that the file does not have",
                            group.id.as_deref().unwrap_or("(no id)")
                        ),
                    })?,
                None => Vec::new(),
            };
            groups.push(SynonymGroup {
                id: group.id,
                broader_terms,
                normalized: group
                    .terms
                    .iter()
                    .map(|term| normalize_phrase(term))
                    .collect(),
                units: group
                    .terms
                    .iter()
                    .map(|term| units(&mut analyzer, term))
                    .collect(),
                terms: group.terms,
            });
        }
        let function_terms: HashSet<String> = file
            .function_words
            .iter()
            .flat_map(|word| terms_with(&mut plain, word))
            .collect();
        let borrowed: HashSet<String> = file
            .borrowed_function_words
            .iter()
            .flat_map(|word| terms_with(&mut plain, word))
            .collect();
        if let Some(word) = borrowed.iter().find(|term| !function_terms.contains(*term)) {
            return Err(EngineError::Data {
                file: format!("data/lexicon/{language}.toml"),
                reason: format!("borrowed function word {word:?} is not among its function words"),
            });
        }
        let function_stems = file
            .function_words
            .iter()
            .flat_map(|word| terms_with(&mut analyzer, word))
            .collect();
        let function_units = file
            .function_words
            .iter()
            .map(|word| units(&mut analyzer, word))
            .filter(|units| !units.is_empty())
            .collect();
        languages.push(CompiledLanguage {
            language: language.to_string(),
            groups: postcard::to_stdvec(&groups).expect("groups are strings and lists"),
            function_units,
            function_terms: sorted(function_terms),
            borrowed_terms: sorted(borrowed),
            function_stems: sorted(function_stems),
        });
    }
    Ok(languages)
}

impl Lexicon {
    /// The lexicon bundled with the engine (see [`crate::compiled`]).
    pub fn load() -> Result<Self, EngineError> {
        Ok(Self::new(crate::compiled::EngineData::bundled()?.lexicon))
    }

    /// A lexicon from compiled languages: only the analyzers and the lookup sets are built.
    pub fn new(compiled: Vec<CompiledLanguage>) -> Self {
        let mut lexicon = Lexicon {
            groups: HashMap::new(),
            analyzers: HashMap::new(),
            function_units: HashMap::new(),
            function_terms: HashMap::new(),
            borrowed_terms: HashMap::new(),
            function_stems: HashMap::new(),
            empty: HashSet::new(),
        };
        for language in compiled {
            let key = language.language;
            lexicon
                .analyzers
                .insert(key.clone(), language_analyzer(&key));
            lexicon.groups.insert(
                key.clone(),
                LazyGroups {
                    encoded: language.groups,
                    decoded: OnceLock::new(),
                },
            );
            lexicon
                .function_units
                .insert(key.clone(), language.function_units);
            lexicon
                .function_terms
                .insert(key.clone(), language.function_terms.into_iter().collect());
            lexicon
                .borrowed_terms
                .insert(key.clone(), language.borrowed_terms.into_iter().collect());
            lexicon
                .function_stems
                .insert(key, language.function_stems.into_iter().collect());
        }
        lexicon
    }

    /// The languages whose function words a message uses, most hits first (only languages with
    /// at least one hit; a word a language borrows is no hit for it). Short informal questions
    /// ("when do we get results") defeat statistical detectors but rarely this evidence.
    pub fn function_word_votes(&self, message: &str) -> Vec<(&str, usize)> {
        let message_terms: Vec<String> = terms(message);
        let mut votes: Vec<(&str, usize)> = self
            .function_terms
            .iter()
            .map(|(language, function)| {
                let borrowed = self.borrowed_terms.get(language).unwrap_or(&self.empty);
                let hits = message_terms
                    .iter()
                    .filter(|term| function.contains(*term) && !borrowed.contains(*term))
                    .count();
                (language.as_str(), hits)
            })
            .filter(|(_, hits)| *hits > 0)
            .collect();
        votes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        votes
    }

    /// Whether every word of a message is a function word of some language ("no", "a", "e"):
    /// such a message says nothing about its language beyond those words.
    pub fn has_only_function_words(&self, message: &str) -> bool {
        let message_terms = terms(message);
        !message_terms.is_empty()
            && message_terms.iter().all(|term| {
                self.function_terms
                    .values()
                    .any(|function| function.contains(term))
            })
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

    /// A language's function words in both forms the index has them.
    pub fn function_words(&self, language: &str) -> FunctionWords<'_> {
        FunctionWords {
            stems: self.function_stems(language),
            plain: self.function_terms(language),
        }
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

    /// The expansion of a question in a language: the other terms of every group it mentions,
    /// and how much of the question each concept explains.
    pub fn expand(&self, question: &str, language: &str) -> Expansion {
        let base = primary_subtag(language);
        let mut expansion = Expansion::default();
        let (Some(groups), Some(analyzer)) = (self.groups.get(&base), self.analyzers.get(&base))
        else {
            return expansion;
        };
        let groups = groups.get();
        let question_units = units(&mut analyzer.clone(), question);
        let normalized = normalize_phrase(question);
        // For each unit: the length of the longest matched concept term covering it, and the
        // concept's index in `expansion.concepts`.
        let mut explained_by: Vec<Option<(usize, usize)>> = vec![None; question_units.len()];
        let mut added: Vec<&str> = Vec::new();
        for group in groups {
            if let Some(id) = &group.id {
                let concept = expansion.concepts.len();
                let mut found = false;
                for term_units in &group.units {
                    for start in occurrences(&question_units, term_units, true) {
                        found = true;
                        for slot in &mut explained_by[start..start + term_units.len()] {
                            if slot.is_none_or(|(length, _)| length < term_units.len()) {
                                *slot = Some((term_units.len(), concept));
                            }
                        }
                    }
                }
                if found {
                    expansion.concepts.push(id.clone());
                }
            }
            // Query expansion keeps matching terms as written (the thresholds were calibrated
            // with it; matching units there adds loosely related synonyms to many questions).
            let Some(matched) = group
                .normalized
                .iter()
                .position(|term| !term.is_empty() && contains_phrase(&normalized, term))
            else {
                continue;
            };
            let others: Vec<&String> = group
                .terms
                .iter()
                .enumerate()
                .filter(|(index, _)| *index != matched)
                .map(|(_, term)| term)
                .chain(&group.broader_terms)
                .collect();
            for term in &others {
                if !added.contains(&term.as_str()) {
                    added.push(term);
                }
            }
            expansion.synonyms.push((
                group.terms[matched].clone(),
                others.into_iter().cloned().collect(),
            ));
        }
        expansion.text = added.join(" ");

        // Shares: function words weigh a tenth.
        let mut weights = vec![1.0_f32; question_units.len()];
        for word in self.function_units.get(&base).into_iter().flatten() {
            for start in occurrences(&question_units, word, false) {
                for weight in &mut weights[start..start + word.len()] {
                    *weight = FUNCTION_WORD_WEIGHT;
                }
            }
        }
        let total: f32 = weights.iter().sum();
        if total > 0.0 {
            let mut shares = vec![0.0_f32; expansion.concepts.len()];
            for (slot, weight) in explained_by.iter().zip(&weights) {
                if let Some((_, concept)) = slot {
                    shares[*concept] += weight / total;
                }
            }
            expansion.concept_shares = expansion
                .concepts
                .iter()
                .cloned()
                .zip(shares)
                .filter(|(_, share)| *share > 0.0)
                .collect();
        }
        expansion
    }

    /// The terms of the given concepts in another language (for searching documents in the
    /// deployment's default language with a question in another one).
    pub fn concept_terms(&self, concepts: &[String], language: &str) -> String {
        let Some(groups) = self.groups.get(&primary_subtag(language)) else {
            return String::new();
        };
        groups
            .get()
            .iter()
            .filter(|group| group.id.as_ref().is_some_and(|id| concepts.contains(id)))
            .flat_map(|group| group.terms.iter().chain(&group.broader_terms))
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A question's concepts in another language, with the share of the question each explains
    /// (concepts the other language has no terms for are left out: nothing can cover them).
    pub fn concept_shares(&self, expansion: &Expansion, language: &str) -> Vec<ConceptShare> {
        let Some(groups) = self.groups.get(&primary_subtag(language)) else {
            return Vec::new();
        };
        expansion
            .concept_shares
            .iter()
            .filter_map(|(id, share)| {
                let group = groups
                    .get()
                    .iter()
                    .find(|group| group.id.as_deref() == Some(id.as_str()))?;
                Some(ConceptShare {
                    phrases: group
                        .terms
                        .iter()
                        .chain(&group.broader_terms)
                        .cloned()
                        .collect(),
                    share: *share,
                })
            })
            .collect()
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
    fn a_narrower_term_is_covered_by_the_broader_group_but_not_by_its_siblings() {
        let lexicon = Lexicon::load().unwrap();
        let passport = lexicon.expand("can i vote with my passport", "en");
        let (_, covered_by) = passport
            .synonyms
            .iter()
            .find(|(used, _)| used == "passport")
            .expect("passport is in the lexicon");
        assert!(
            covered_by.iter().any(|term| term == "photo id"),
            "{covered_by:?}"
        );
        assert!(
            !covered_by.iter().any(|term| term.contains("license")),
            "a driver's license is no passport: {covered_by:?}"
        );
        let id = lexicon.expand("what id do i need", "en");
        assert!(
            !id.synonyms
                .iter()
                .flat_map(|(_, others)| others)
                .any(|term| term == "passport"),
            "a question about ID is not about passports: {id:?}"
        );
        // Across languages the narrower concept brings the broader one's terms along.
        let korean = lexicon.expand("여권으로 투표할 수 있어요?", "ko");
        assert!(korean.concepts.contains(&"passport".to_string()));
        let english = lexicon.concept_shares(&korean, "en");
        assert!(
            english
                .iter()
                .any(|concept| concept.phrases.contains(&"passport".to_string())
                    && concept.phrases.contains(&"photo id".to_string())),
            "{english:?}"
        );
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
    fn romanised_verb_forms_are_function_words_of_their_language() {
        let lexicon = Lexicon::load().unwrap();
        // Typed in Latin letters, Hindi and Bengali verb forms and particles would weigh as
        // content words no passage (in Devanagari or Bengali script) has, and would leave the
        // language to a detector that reads them as Portuguese or French.
        for (word, language) in [
            ("rehta", "hi"),
            ("jaye", "hi"),
            ("pathale", "bn"),
            ("naki", "bn"),
        ] {
            assert!(lexicon.function_terms(language).contains(word), "{word}");
        }
        assert_eq!(
            lexicon.function_word_language("ohio me rehta, form jaye tak last date?"),
            Some("hi")
        );
        assert_eq!(
            lexicon.function_word_language("form ta mail e pathale last date kobe naki janaben"),
            Some("bn")
        );
    }

    #[test]
    fn a_borrowed_function_word_is_no_evidence_of_the_borrowing_language() {
        let lexicon = Lexicon::load().unwrap();
        // Tagalog lists the English question words Filipinos use: they weigh as function words
        // in a Tagalog question, but "can I vote?" is English by them.
        assert!(lexicon.function_terms("tl").contains("how"));
        for message in ["can I vote?", "how to vote"] {
            let votes = lexicon.function_word_votes(message);
            assert_eq!(votes[0], ("en", 2), "{message}");
            assert!(
                votes.iter().all(|(language, _)| *language != "tl"),
                "{votes:?}"
            );
        }
        // Tagalog's own words still tell.
        assert_eq!(
            lexicon.function_word_language("paano ako boboto sa ohio?"),
            Some("tl")
        );
    }

    #[test]
    fn a_borrowed_word_must_be_among_the_function_words() {
        let file = "function_words = [\"paano\", \"how\"]\nborrowed_function_words = [\"what\"]\n";
        let error = compile_files(&[("tl", file)]).unwrap_err().to_string();
        assert!(error.contains("data/lexicon/tl.toml"), "{error}");
        assert!(error.contains("\"what\""), "{error}");
        let file = "function_words = [\"paano\", \"how\"]\nborrowed_function_words = [\"how\"]\n";
        assert!(compile_files(&[("tl", file)]).is_ok());
    }

    #[test]
    fn every_language_has_groups() {
        let lexicon = Lexicon::load().unwrap();
        for (language, _) in LEXICON_FILES {
            assert!(lexicon.groups[*language].get().len() >= 10, "{language}");
            assert!(!lexicon.function_terms(language).is_empty(), "{language}");
        }
    }

    #[test]
    fn concepts_match_inflected_prefixed_and_unspaced_forms() {
        let lexicon = Lexicon::load().unwrap();
        // "проголосовать по почте": the perfective form of "голосовать по почте".
        let russian = lexicon.expand("как проголосовать по почте", "ru");
        assert!(
            russian.concepts.contains(&"mail_ballot".to_string()),
            "{russian:?}"
        );
        assert!(russian.explained() > 0.9, "{russian:?}");
        // "투표소는": "투표소" with a particle.
        let korean = lexicon.expand("투표소는 어디예요", "ko");
        assert!(
            korean.concepts.contains(&"polling_place".to_string()),
            "{korean:?}"
        );
        // A question that merely mentions a concept word is mostly unexplained.
        let other = lexicon.expand("can I bring my dog to the beach on election day", "en");
        assert!(other.explained() < 0.5, "{other:?}");
        assert!(lexicon.expand("hello", "en").concept_shares.is_empty());
    }

    #[test]
    fn everyday_japanese_names_the_election_law_s_topics() {
        let lexicon = Lexicon::load().unwrap();
        // Citizens ask about the law's articles in everyday words; the law's own term must be
        // the synonym that a passage covers them with.
        for (question, concept, law_term) in [
            ("前もって投票しておける？", "early_voting", "期日前投票"),
            ("出張先でも投票できるの？", "absentee_voting", "不在者投票"),
            ("一人何票まで入れられる？", "one_vote", "一人一票"),
            (
                "どの投票所でも投票できる？",
                "common_polling_place",
                "共通投票所",
            ),
            (
                "引っ越したばかりだけど投票できる？",
                "residence_period",
                "住民票",
            ),
            ("外国籍の夫は投票できないの？", "eligibility", "日本国民"),
            (
                "付き添いで一緒に入ってもいい？",
                "entering_polling_place",
                "投票所に入",
            ),
        ] {
            let expansion = lexicon.expand(question, "ja");
            assert!(
                expansion.concepts.contains(&concept.to_string()),
                "{question}: {expansion:?}"
            );
            assert!(
                expansion
                    .synonyms
                    .iter()
                    .any(|(_, others)| others.iter().any(|other| other == law_term)),
                "{question}: {law_term} not among {:?}",
                expansion.synonyms
            );
        }
    }

    #[test]
    fn concept_shares_name_the_terms_of_another_language() {
        let lexicon = Lexicon::load().unwrap();
        let expansion = lexicon.expand("como faço para votar pelo correio", "pt");
        let shares = lexicon.concept_shares(&expansion, "en");
        let mail = shares
            .iter()
            .find(|share| share.phrases.iter().any(|phrase| phrase == "vote by mail"))
            .expect("the mail ballot concept in English");
        assert!(mail.share > 0.5, "{shares:?}");
    }
}
