//! Which jurisdiction a question names. The candidates are the jurisdictions of the indexed
//! documents (from the manifest), under the names the corpus uses and under the other names in
//! `data/jurisdictions.toml` ("テキサス", "텍사스", "टेक्सास", "во Флориде", "Carolina del Norte"),
//! so that a question in any language or script finds the documents of the place it names.
//!
//! A name occurs in a question after normalisation ([`match_form`]): in scripts written without
//! spaces (kana, Han, Hangul) anywhere, spaces ignored; otherwise as whole words, where a word of
//! the name ending in `*` is a prefix (for languages that inflect names: "во Флориде"), and
//! where a change between Latin letters and a script written without spaces is a word boundary
//! ("Texas에서", "Texas州"). When several names occur, a name inside a longer one is part of it
//! ("Virginia" in "West Virginia"), a jurisdiction another named one lies within only says where
//! that one is ("a US citizen in Texas"), and of the rest the one named last is the one asked
//! about ("moved from Texas to Ohio").
//!
//! Citizens often name their city rather than their state ("i live in reno, can i register
//! online?"): the data lists the places within a jurisdiction (`places`), which count only when
//! the question names no jurisdiction itself (the state a citizen names is the one they ask
//! about; "Dallas, Texas" is Texas either way). Failing both, a name or place typed with one
//! slip in a long Latin word counts too ("ilinois", "washinton").
//!
//! The data also says which wider jurisdiction applies to a place (`within`): the documents of
//! the United States answer a question about Texas as well as Texas's own, Ohio's never do.
//!
//! ```
//! use votecheck_engine::jurisdiction::JurisdictionMatcher;
//! let matcher = JurisdictionMatcher::new(&["Texas".to_string(), "United States".to_string()])?;
//! let named = matcher.find("텍사스에서 온라인으로 등록할 수 있나요?").unwrap();
//! assert_eq!(named.name, "Texas");
//! assert_eq!(named.wider, vec!["United States".to_string()]);
//! # Ok::<(), votecheck_engine::EngineError>(())
//! ```

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;
use votecheck_index::schema::jurisdiction_key;

use crate::EngineError;
use crate::text::{is_spaceless_script, normalize_phrase};

/// The jurisdictions data file (compiled in; see [`crate::compiled`]).
pub(crate) const JURISDICTIONS_FILE: &str = include_str!("../data/jurisdictions.toml");

#[derive(Deserialize)]
struct JurisdictionsFile {
    jurisdictions: Vec<JurisdictionEntry>,
}

#[derive(Deserialize)]
struct JurisdictionEntry {
    name: String,
    #[serde(default)]
    within: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    places: Vec<String>,
    #[serde(default)]
    code: Option<String>,
}

/// How one name is looked for in a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Pattern {
    /// A name in a script written without spaces: a substring of the question without spaces.
    Spaceless(String),
    /// Whole words; `true` marks a prefix (the word ended in `*`).
    Words(Vec<(String, bool)>),
}

impl Pattern {
    fn new(name: &str) -> Option<Pattern> {
        let normalized = match_form(name);
        if normalized.is_empty() {
            return None;
        }
        if normalized.chars().any(is_spaceless_script) {
            let joined: String = normalized
                .chars()
                .filter(|character| !character.is_whitespace() && *character != '*')
                .collect();
            return Some(Pattern::Spaceless(joined));
        }
        let words: Vec<(String, bool)> = normalized
            .split(' ')
            .map(|word| match word.strip_suffix('*') {
                Some(stem) => (stem.to_string(), true),
                None => (word.to_string(), false),
            })
            .filter(|(word, _)| !word.is_empty())
            .collect();
        (!words.is_empty()).then_some(Pattern::Words(words))
    }

    /// Length in characters (longer names win).
    fn length(&self) -> usize {
        match self {
            Pattern::Spaceless(text) => text.chars().count(),
            Pattern::Words(words) => {
                words
                    .iter()
                    .map(|(word, _)| word.chars().count())
                    .sum::<usize>()
                    + words.len()
                    - 1
            }
        }
    }

    /// The name's last occurrence in the question, if it occurs.
    fn find(&self, question: &QuestionForms) -> Option<Occurrence> {
        self.find_with(question, false)
    }

    /// The same, allowing a typing slip in long Latin words ([`is_slip_of`]).
    fn find_misspelled(&self, question: &QuestionForms) -> Option<Occurrence> {
        let Pattern::Words(words) = self else {
            return None;
        };
        // Most names have no word long enough for a slip: skip them without a look.
        if !words.iter().any(|(word, _)| word.len() >= SLIP_NAME_CHARS) {
            return None;
        }
        self.find_with(question, true)
    }

    fn find_with(&self, question: &QuestionForms, slips: bool) -> Option<Occurrence> {
        match self {
            Pattern::Spaceless(text) => question.joined.rfind(text.as_str()).map(|at| {
                let start = question.joined[..at].chars().count();
                Occurrence {
                    named_as: text.clone(),
                    start,
                    end: start + text.chars().count(),
                }
            }),
            Pattern::Words(words) => question
                .words
                .windows(words.len())
                .enumerate()
                .rev()
                .find_map(|(index, window)| {
                    let matches = window.iter().zip(words).all(|(typed, (word, prefix))| {
                        if *prefix {
                            typed.starts_with(word.as_str())
                        } else {
                            typed == word
                                || without_arabic_proclitic(typed) == Some(word.as_str())
                                || (slips && is_slip_of(typed, word))
                        }
                    });
                    matches.then(|| Occurrence {
                        named_as: window.join(" "),
                        start: question.word_starts[index],
                        end: question.word_starts[index + words.len()],
                    })
                }),
        }
    }
}

/// Where a name occurs in a question: the words that matched (in match form) and their span,
/// in characters of the question without its spaces (one measure for names in every script).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Occurrence {
    named_as: String,
    start: usize,
    end: usize,
}

impl Occurrence {
    /// Whether this occurrence is part of a longer one ("Virginia" in "West Virginia").
    fn is_inside(&self, other: &Occurrence) -> bool {
        other.start <= self.start
            && self.end <= other.end
            && other.end - other.start > self.end - self.start
    }
}

/// Arabic writes "in", "and", "to", "so" and "like" as one letter joined to the next word
/// ("بميشيغان", in Michigan; "وتكساس", and Texas): the word without it, when it has one and is
/// longer than it.
fn without_arabic_proclitic(typed: &str) -> Option<&str> {
    let rest = typed.strip_prefix(['ب', 'و', 'ل', 'ف', 'ك'])?;
    (rest.chars().count() >= 3
        && rest
            .chars()
            .all(|character| matches!(character as u32, 0x0600..=0x06FF)))
    .then_some(rest)
}

/// Shortest word of a name in which a typing slip is forgiven, and shortest typed word.
const SLIP_NAME_CHARS: usize = 8;
const SLIP_TYPED_CHARS: usize = 7;

/// Whether `typed` is `word` with one typing slip (a letter left out, added, changed, or two
/// swapped: "ilinois", "washinton", "virgina", "virjenes"). Only for Latin words of at least
/// [`SLIP_NAME_CHARS`] letters, where one letter cannot make another place or a common word of
/// a supported language ("indiana" and "indians" are too short to be confused this way).
fn is_slip_of(typed: &str, word: &str) -> bool {
    let latin = |text: &str| text.chars().all(|character| character.is_ascii_lowercase());
    word.len() >= SLIP_NAME_CHARS
        && typed.len() >= SLIP_TYPED_CHARS
        && typed.len().abs_diff(word.len()) <= 1
        && latin(word)
        && latin(typed)
        && strsim::osa_distance(typed, word) == 1
}

/// A question in the forms names are looked for in.
struct QuestionForms {
    words: Vec<String>,
    /// Where each word starts in `joined` (in characters), and then where the last one ends.
    word_starts: Vec<usize>,
    joined: String,
}

impl QuestionForms {
    fn new(question: &str) -> Self {
        let normalized = match_form(question);
        let words: Vec<String> = normalized.split(' ').map(str::to_string).collect();
        let word_starts = std::iter::once(0)
            .chain(words.iter().scan(0, |end, word| {
                *end += word.chars().count();
                Some(*end)
            }))
            .collect();
        let joined = words.concat();
        QuestionForms {
            words,
            word_starts,
            joined,
        }
    }
}

/// The form in which names and questions are compared: [`normalize_phrase`], plus a space
/// wherever Latin letters or digits meet a script written without spaces ("Texas에서" →
/// "texas 에서"), Arabic alef and teh marbuta variants unified, and the Devanagari and Bengali
/// nukta removed (both spellings of "कैलिफ़ोर्निया" are common).
pub fn match_form(text: &str) -> String {
    let normalized = normalize_phrase(text);
    let mut out = String::with_capacity(normalized.len());
    let mut previous: Option<char> = None;
    for character in normalized.chars() {
        let character = match character {
            'أ' | 'إ' | 'آ' | 'ٱ' => 'ا',
            'ى' => 'ي',
            'ة' => 'ه',
            '\u{093C}' | '\u{09BC}' => continue,
            other => other,
        };
        if let Some(before) = previous
            && before != ' '
            && character != ' '
            && (is_spaceless_script(before) != is_spaceless_script(character))
            && (before.is_ascii_alphanumeric() || character.is_ascii_alphanumeric())
        {
            out.push(' ');
        }
        out.push(character);
        previous = Some(character);
    }
    out
}

/// A jurisdiction a question names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedJurisdiction {
    /// The jurisdiction as the corpus writes it.
    pub name: String,
    /// Wider jurisdictions of the corpus whose documents also apply (the United States for
    /// Texas).
    pub wider: Vec<String>,
    /// The corpus's other jurisdictions: their documents never answer this question.
    pub excluded: Vec<String>,
    /// The words of the question that named it (in match form).
    pub named_as: String,
}

impl NamedJurisdiction {
    /// Whether a passage of `jurisdiction` (as the corpus writes it) may answer the question.
    pub fn admits(&self, jurisdiction: &str) -> bool {
        let key = jurisdiction_key(jurisdiction);
        jurisdiction_key(&self.name) == key
            || self
                .wider
                .iter()
                .any(|wider| jurisdiction_key(wider) == key)
    }
}

/// Recognises the jurisdictions a corpus covers.
#[derive(Debug, Clone, Default)]
pub struct JurisdictionMatcher {
    /// (pattern, jurisdiction as the corpus writes it), longest patterns first.
    patterns: Vec<(Pattern, String)>,
    /// The same for places within a jurisdiction (its cities), looked for when no jurisdiction
    /// is named.
    place_patterns: Vec<(Pattern, String)>,
    /// Postal code in capitals → jurisdiction as the corpus writes it.
    codes: HashMap<String, String>,
    /// Every jurisdiction of the corpus, as written.
    names: Vec<String>,
    /// Jurisdiction key → wider jurisdictions of the corpus, as written.
    wider: HashMap<String, Vec<String>>,
}

/// One entry of the jurisdictions data file as compiled: keys and alias patterns ready to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompiledJurisdiction {
    /// The jurisdiction key of the entry's name.
    key: String,
    /// The jurisdiction key of the wider jurisdiction it lies within.
    within: Option<String>,
    /// The patterns of its other names.
    aliases: Vec<Pattern>,
    /// The patterns of the places within it that citizens name instead (its cities).
    places: Vec<Pattern>,
    /// Its two-letter postal code, in capitals.
    code: Option<String>,
}

/// Reads the jurisdictions data file and turns every name into its pattern (in file order).
pub fn compile() -> Result<Vec<CompiledJurisdiction>, EngineError> {
    let file: JurisdictionsFile =
        crate::parse_data_file("data/jurisdictions.toml", JURISDICTIONS_FILE)?;
    Ok(file
        .jurisdictions
        .iter()
        .map(|entry| CompiledJurisdiction {
            key: jurisdiction_key(&entry.name),
            within: entry.within.as_deref().map(jurisdiction_key),
            aliases: entry
                .aliases
                .iter()
                .filter_map(|alias| Pattern::new(alias))
                .collect(),
            places: entry
                .places
                .iter()
                .filter_map(|place| Pattern::new(place))
                .collect(),
            code: entry.code.as_ref().map(|code| code.to_ascii_uppercase()),
        })
        .collect())
}

impl JurisdictionMatcher {
    /// A matcher for these jurisdictions, with the other names the engine's bundled data gives
    /// them.
    pub fn new(jurisdictions: &[String]) -> Result<Self, EngineError> {
        Ok(Self::with_compiled(
            jurisdictions,
            &crate::compiled::EngineData::bundled()?.jurisdictions,
        ))
    }

    /// A matcher for these jurisdictions, with the other names `entries` give them.
    pub fn with_compiled(jurisdictions: &[String], entries: &[CompiledJurisdiction]) -> Self {
        let in_corpus: HashMap<String, &String> = jurisdictions
            .iter()
            .map(|name| (jurisdiction_key(name), name))
            .collect();
        let mut patterns: Vec<(Pattern, String)> = jurisdictions
            .iter()
            .filter_map(|name| Pattern::new(name).map(|pattern| (pattern, name.clone())))
            .collect();
        let mut place_patterns: Vec<(Pattern, String)> = Vec::new();
        let mut codes = HashMap::new();
        let mut wider: HashMap<String, Vec<String>> = HashMap::new();
        for entry in entries {
            let Some(written) = in_corpus.get(&entry.key) else {
                continue;
            };
            for pattern in &entry.aliases {
                patterns.push((pattern.clone(), (*written).clone()));
            }
            for pattern in &entry.places {
                place_patterns.push((pattern.clone(), (*written).clone()));
            }
            if let Some(code) = &entry.code {
                codes.insert(code.clone(), (*written).clone());
            }
            if let Some(within) = &entry.within
                && let Some(wider_written) = in_corpus.get(within)
            {
                wider
                    .entry(entry.key.clone())
                    .or_default()
                    .push((*wider_written).clone());
            }
        }
        for list in [&mut patterns, &mut place_patterns] {
            list.sort_by(|a, b| b.0.length().cmp(&a.0.length()).then(a.1.cmp(&b.1)));
            list.dedup();
        }
        JurisdictionMatcher {
            patterns,
            place_patterns,
            codes,
            names: jurisdictions.to_vec(),
            wider,
        }
    }

    /// How many jurisdictions the corpus has.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the corpus has no jurisdictions.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The corpus's jurisdictions that others lie within and that lie within none (the United
    /// States in a corpus of its states' pages): their documents apply wherever the citizen is.
    /// Empty when the corpus has no such hierarchy.
    pub fn widest(&self) -> Vec<String> {
        let mut widest: Vec<String> = self
            .wider
            .values()
            .flatten()
            .filter(|name| !self.wider.contains_key(&jurisdiction_key(name)))
            .cloned()
            .collect();
        widest.sort();
        widest.dedup();
        widest
    }

    /// The jurisdiction a question names, if any: by its name or another name of it, else by
    /// its postal code typed as in an address ("Portland, OR"), else by a place within it
    /// ("Reno" for Nevada); failing all, by a name or place typed with a slip ("ilinois").
    pub fn find(&self, question: &str) -> Option<NamedJurisdiction> {
        let forms = QuestionForms::new(question);
        let (named_as, name) = self
            .asked_about(&self.patterns, |pattern| pattern.find(&forms))
            .or_else(|| self.code_in(question))
            .or_else(|| self.asked_about(&self.place_patterns, |pattern| pattern.find(&forms)))
            .or_else(|| {
                self.asked_about(
                    self.patterns.iter().chain(&self.place_patterns),
                    |pattern| pattern.find_misspelled(&forms),
                )
            })?;
        let wider = self
            .wider
            .get(&jurisdiction_key(name))
            .cloned()
            .unwrap_or_default();
        let excluded = self
            .names
            .iter()
            .filter(|other| {
                let key = jurisdiction_key(other);
                key != jurisdiction_key(name)
                    && !wider.iter().any(|wide| jurisdiction_key(wide) == key)
            })
            .cloned()
            .collect();
        Some(NamedJurisdiction {
            name: name.clone(),
            wider,
            excluded,
            named_as,
        })
    }

    /// Of the jurisdictions `find` finds in a question by `patterns`, the one it asks about,
    /// with the words that named it. A name inside a longer one found is part of that one
    /// ("Virginia" in "West Virginia"); a jurisdiction another one found lies within is only
    /// where that one is ("a United States citizen living in Texas" asks about Texas, and the
    /// documents of the United States still answer it); of the rest, the one named last ("I
    /// moved from Texas to Ohio" asks about Ohio, and so does "テキサスからオハイオに").
    fn asked_about<'p>(
        &self,
        patterns: impl IntoIterator<Item = &'p (Pattern, String)>,
        find: impl Fn(&Pattern) -> Option<Occurrence>,
    ) -> Option<(String, &'p String)> {
        let found: Vec<(Occurrence, &String)> = patterns
            .into_iter()
            .filter_map(|(pattern, name)| find(pattern).map(|occurrence| (occurrence, name)))
            .collect();
        let standing: Vec<&(Occurrence, &String)> = found
            .iter()
            .filter(|(occurrence, _)| !found.iter().any(|(other, _)| occurrence.is_inside(other)))
            .collect();
        let lies_within = |narrower: &str, wider: &str| {
            self.wider
                .get(&jurisdiction_key(narrower))
                .is_some_and(|all| all.iter().any(|wide| jurisdiction_key(wide) == wider))
        };
        standing
            .iter()
            .filter(|(_, name)| {
                let key = jurisdiction_key(name);
                !standing.iter().any(|(_, other)| lies_within(other, &key))
            })
            .max_by_key(|(occurrence, _)| (occurrence.end, occurrence.end - occurrence.start))
            .map(|(occurrence, name)| (occurrence.named_as.clone(), *name))
    }

    /// The state whose postal code the question types in capitals where an address has it:
    /// after a comma ("Portland, OR"), after a capitalised word ("Salem OR"), after "in" or
    /// "from" ("moved here from PA"), or ending a clause ("in portland OR, can i vote?").
    /// The codes reaching here are words ("OR", "IN", "PA"), so a code in a shouted message or
    /// beside another word in capitals ("VOTE IN PERSON") names nothing, and one that is an
    /// English interjection ("is that OK?") does not count for ending a clause.
    fn code_in(&self, question: &str) -> Option<(String, &String)> {
        if self.codes.is_empty() || shouted(question) {
            return None;
        }
        let words: Vec<(usize, &str)> = question
            .split_word_bound_indices()
            .filter(|(_, word)| word.chars().any(char::is_alphanumeric))
            .collect();
        (1..words.len()).find_map(|index| {
            let (at, code) = words[index];
            let name = self.codes.get(code)?;
            let (before_at, before) = words[index - 1];
            let after = words.get(index + 1);
            if in_capitals(before) || after.is_some_and(|(_, word)| in_capitals(word)) {
                return None;
            }
            let gap_before = &question[before_at + before.len()..at];
            let gap_after = &question[at + code.len()..after.map_or(question.len(), |(at, _)| *at)];
            let capitalised = before.chars().next().is_some_and(char::is_uppercase)
                && before.chars().any(char::is_lowercase);
            let preposition = ["in", "from"]
                .iter()
                .any(|preposition| before.eq_ignore_ascii_case(preposition));
            let ends_clause = !INTERJECTION_CODES.contains(&code)
                && (after.is_none()
                    || gap_after
                        .trim_start()
                        .starts_with([',', '?', '.', '!', ')', ':', ';']));
            (gap_before.contains(',') || capitalised || preposition || ends_clause)
                .then(|| (code.to_ascii_lowercase(), name))
        })
    }
}

/// Postal codes that are English words a message may end on in capitals ("is that OK?").
const INTERJECTION_CODES: &[&str] = &["OK", "HI", "OH", "ME"];

/// Whether a word is written in capitals (two letters or more, none in lower case).
fn in_capitals(word: &str) -> bool {
    word.chars()
        .filter(|character| character.is_alphabetic())
        .count()
        >= 2
        && !word.chars().any(char::is_lowercase)
}

/// Whether most of a message's letters are capitals.
fn shouted(message: &str) -> bool {
    let (capitals, letters) = message
        .chars()
        .filter(|character| character.is_alphabetic())
        .fold((0, 0), |(capitals, letters), character| {
            (
                capitals + usize::from(character.is_uppercase()),
                letters + 1,
            )
        });
    capitals * 2 > letters
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A matcher for a corpus with these jurisdictions.
    fn matcher_of(names: &[&str]) -> JurisdictionMatcher {
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        JurisdictionMatcher::new(&names).unwrap()
    }

    /// Asserts that each question names its jurisdiction, or none.
    fn assert_each_finds(matcher: &JurisdictionMatcher, cases: &[(&str, Option<&str>)]) {
        for (question, expected) in cases {
            assert_eq!(name(matcher, question).as_deref(), *expected, "{question}");
        }
    }

    /// Asserts that each question names its jurisdiction.
    fn assert_each_names(matcher: &JurisdictionMatcher, cases: &[(&str, &str)]) {
        let cases: Vec<(&str, Option<&str>)> = cases
            .iter()
            .map(|(question, expected)| (*question, Some(*expected)))
            .collect();
        assert_each_finds(matcher, &cases);
    }

    fn corpus() -> JurisdictionMatcher {
        matcher_of(&[
            "Virginia",
            "West Virginia",
            "Texas",
            "New York",
            "North Dakota",
            "California",
            "Florida",
            "Georgia",
            "Kansas",
            "Arkansas",
            "United States",
            "日本",
        ])
    }

    #[test]
    fn the_widest_jurisdiction_is_the_one_others_lie_within() {
        assert_eq!(corpus().widest(), ["United States"]);
        // Without a wider jurisdiction in the corpus there is no hierarchy to prefer.
        let states = matcher_of(&["Texas", "Ohio"]);
        assert!(states.widest().is_empty());
        let single = matcher_of(&["Riverside County"]);
        assert!(single.widest().is_empty());
    }

    fn name(matcher: &JurisdictionMatcher, question: &str) -> Option<String> {
        matcher.find(question).map(|named| named.name)
    }

    #[test]
    fn the_data_file_parses_and_names_known_places() {
        let file: JurisdictionsFile = toml::from_str(JURISDICTIONS_FILE).unwrap();
        assert!(file.jurisdictions.len() >= 57);
        for entry in &file.jurisdictions {
            assert!(!entry.aliases.is_empty(), "{}", entry.name);
            for alias in &entry.aliases {
                assert!(Pattern::new(alias).is_some(), "{}: {alias}", entry.name);
            }
        }
    }

    #[test]
    fn finds_the_longest_named_jurisdiction() {
        let matcher = corpus();
        assert_eq!(
            name(&matcher, "How do I register in TEXAS?").as_deref(),
            Some("Texas")
        );
        assert_eq!(
            name(&matcher, "voter id in west virginia").as_deref(),
            Some("West Virginia")
        );
        assert_eq!(
            name(&matcher, "¿Cómo me registro en Virginia?").as_deref(),
            Some("Virginia")
        );
        assert_eq!(name(&matcher, "Texasville"), None);
        assert_eq!(name(&matcher, "where do I vote"), None);
        assert_eq!(
            name(&matcher, "registering in Arkansas").as_deref(),
            Some("Arkansas")
        );
    }

    #[test]
    fn the_narrowest_jurisdiction_named_last_is_the_one_asked_about() {
        let matcher = matcher_of(&["Texas", "Ohio", "California", "Oregon", "United States"]);
        assert_each_names(
            &matcher,
            &[
                // A wider jurisdiction named beside a narrower one says where that one is.
                (
                    "I'm a United States citizen living in Texas, how do I register?",
                    "Texas",
                ),
                (
                    "soy ciudadana de Estados Unidos y vivo en Texas, ¿cómo me registro?",
                    "Texas",
                ),
                ("アメリカ国籍でテキサスに住んでいます。登録は？", "Texas"),
                ("미국 시민인데 텍사스에 살아요", "Texas"),
                ("Texas, USA: how do I register?", "Texas"),
                // Alone, it is the one asked about.
                (
                    "can I vote in the United States from abroad?",
                    "United States",
                ),
                // Of two states, the one named last: where the citizen moved to.
                (
                    "I just moved from Texas to Ohio, how do I register?",
                    "Ohio",
                ),
                (
                    "me mudé de California a Oregon, ¿sirve mi registro?",
                    "Oregon",
                ),
                ("me mudé de Oregon a California", "California"),
                ("テキサスからオハイオに引っ越しました", "Ohio"),
                ("텍사스에서 오하이오로 이사했어요", "Ohio"),
                (
                    "i moved to ohio and have a record in texas, do i re-register in ohio?",
                    "Ohio",
                ),
            ],
        );
        // A name inside a longer one is part of it, wherever each is.
        let virginias = matcher_of(&["Virginia", "West Virginia", "United States"]);
        assert_each_names(
            &virginias,
            &[
                ("moving from virginia to west virginia", "West Virginia"),
                ("moving from west virginia to virginia", "Virginia"),
                ("west virginia, usa", "West Virginia"),
            ],
        );
    }

    #[test]
    fn finds_names_in_other_languages_and_scripts() {
        let matcher = corpus();
        assert_each_names(
            &matcher,
            &[
                ("テキサス州で有権者登録するには", "Texas"),
                ("텍사스에서 등록할 수 있나요", "Texas"),
                ("德州可以网上登记吗", "Texas"),
                ("टेक्सास में पंजीकरण", "Texas"),
                ("টেক্সাসে নিবন্ধন", "Texas"),
                ("التسجيل في ولاية تكساس", "Texas"),
                ("регистрация в Техасе", "Texas"),
                ("срок регистрации во Флориде", "Florida"),
                ("в Северной Дакоте нужна регистрация?", "North Dakota"),
                ("в Западной Вирджинии", "West Virginia"),
                ("कैलिफोर्निया में अंतिम तारीख", "California"),
                ("कैलिफ़ोर्निया में अंतिम तारीख", "California"),
                ("New York에서 확인해요", "New York"),
                ("Texas州の登録", "Texas"),
                ("me registro en Nueva York", "New York"),
                ("ウェストバージニア州", "West Virginia"),
                ("ジョージア州の締め切り", "Georgia"),
                ("فرجينيا: قديش قبل الانتخابات لازم اسجل", "Virginia"),
                ("التسجيل في ويست فرجينيا", "West Virginia"),
                ("هل نحتاج تسجيل في نورث داكوتا؟", "North Dakota"),
                ("كانزاس اخر موعد للتسجيل", "Kansas"),
            ],
        );
    }

    #[test]
    fn washington_dc_is_the_district_in_every_script() {
        let matcher = matcher_of(&["Washington", "District of Columbia"]);
        assert_each_names(
            &matcher,
            &[
                ("واشنطن دي سي: اذا سجلت بالبريد", "District of Columbia"),
                (
                    "Вашингтон DC: крайний срок регистрации?",
                    "District of Columbia",
                ),
                ("в Вашингтоне, D.C. регистрация", "District of Columbia"),
                ("वाशिंगटन डी.सी. में पंजीकरण", "District of Columbia"),
                ("ওয়াশিংটন ডি.সি.তে রেজিস্ট্রেশন", "District of Columbia"),
                ("华盛顿DC选民登记", "District of Columbia"),
                ("워싱턴 디씨 유권자 등록", "District of Columbia"),
                ("washington, d.c. registration", "District of Columbia"),
                ("Вашингтон: крайний срок регистрации?", "Washington"),
                ("واشنطن: اذا سجلت بالبريد", "Washington"),
                ("i live in washington state", "Washington"),
            ],
        );
    }

    #[test]
    fn names_that_are_common_words_need_a_safe_form() {
        let matcher = matcher_of(&["Maine", "Hawaii"]);
        assert_eq!(name(&matcher, "메인 메뉴로 돌아가기"), None);
        assert_eq!(name(&matcher, "हवाई जहाज़ से"), None);
        assert_eq!(name(&matcher, "메인주 투표").as_deref(), Some("Maine"));
    }

    #[test]
    fn a_city_names_its_state_unless_a_state_is_named() {
        let matcher = matcher_of(&[
            "Nevada",
            "North Dakota",
            "Texas",
            "New Mexico",
            "Oregon",
            "Maine",
            "Illinois",
            "Indiana",
            "U.S. Virgin Islands",
            "Virginia",
            "West Virginia",
            "California",
            "Northern Mariana Islands",
        ]);
        assert_each_finds(
            &matcher,
            &[
                ("i live in reno, can i register online?", Some("Nevada")),
                (
                    "mi abuela vive en San Antonio, puede votar por correo?",
                    Some("Texas"),
                ),
                ("ヒューストンで期日前投票できますか", Some("Texas")),
                ("early voting in Portland, Oregon", Some("Oregon")),
                ("fargo, early voting hours in texas?", Some("Texas")),
                ("nm - last day to register?", Some("New Mexico")),
                (
                    "missed the cutoff in LA county, any way left?",
                    Some("California"),
                ),
                (
                    "nasa saipan ako, pano mag register?",
                    Some("Northern Mariana Islands"),
                ),
                // Shared by several states, or a word: no place is guessed.
                ("registering in portland", None),
                ("is there wi-fi at the polling place?", None),
                ("el paso siguiente es registrarse", None),
                // A slip in a long name is forgiven, not in a short one.
                (
                    "como checo si estoy rejistrado en ilinois",
                    Some("Illinois"),
                ),
                (
                    "islas virjenes como me rejistro",
                    Some("U.S. Virgin Islands"),
                ),
                ("albuqerque registration deadline", Some("New Mexico")),
                ("west virgnia mail registration", Some("West Virginia")),
                ("voting on indian reservations", None),
                // Arabic joins "in", "and" and "to" to the name.
                ("كيف بسجل اسمي عشان اصوت بتكساس؟", Some("Texas")),
                ("التسجيل في نيفادا", Some("Nevada")),
            ],
        );
    }

    #[test]
    fn a_postal_code_names_its_state_where_an_address_has_it() {
        let matcher = matcher_of(&[
            "Oregon",
            "Indiana",
            "Pennsylvania",
            "Maine",
            "Texas",
            "Michigan",
        ]);
        assert_each_finds(
            &matcher,
            &[
                ("polling places in Portland, OR", Some("Oregon")),
                ("Portland OR ballot drop boxes", Some("Oregon")),
                ("early voting hours Fort Wayne,IN?", Some("Indiana")),
                (
                    "just moved here from PA, do i re-register?",
                    Some("Pennsylvania"),
                ),
                ("can i register online in ME", Some("Maine")),
                // A state named outranks a code.
                (
                    "moved from Portland, OR to texas, how do i register",
                    Some("Texas"),
                ),
                // A word in capitals for emphasis, lower case, or a shouted message: no code.
                ("can i vote by mail OR do i have to go in person", None),
                ("do i vote IN person or by mail", None),
                ("registering in portland or salem", None),
                ("VOTE IN PERSON OR BY MAIL IN MI", None),
                ("Hi, where do i vote", None),
                (
                    "got out of prison in portland OR, can i vote now?",
                    Some("Oregon"),
                ),
                ("is a photocopy OK?", None),
                ("VOTE IN PERSON or by mail", None),
            ],
        );
    }

    #[test]
    fn wider_jurisdictions_apply_and_others_are_excluded() {
        let matcher = corpus();
        let named = matcher.find("テキサスの登録期限").unwrap();
        assert!(named.admits("Texas"));
        assert!(named.admits("United States"));
        assert!(!named.admits("Ohio"));
        assert_eq!(named.name, "Texas");
        assert!(named.excluded.contains(&"Florida".to_string()));
        assert!(!named.excluded.contains(&"United States".to_string()));
        let japan = matcher.find("日本の選挙").unwrap();
        assert!(japan.wider.is_empty());
    }

    #[test]
    fn only_the_corpus_jurisdictions_are_found() {
        let matcher = matcher_of(&["Riverside County"]);
        assert_eq!(name(&matcher, "テキサスで登録"), None);
        assert_eq!(
            name(&matcher, "polling places in riverside county").as_deref(),
            Some("Riverside County")
        );
    }
}
