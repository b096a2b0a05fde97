//! Language-aware text analysis, identical for the index writer and every reader.
//!
//! [`WordTokenizer`] turns text into search terms:
//!
//! 1. Unicode word segmentation (UAX #29), so that Devanagari, Bengali or Arabic vowel signs stay
//!    inside their word instead of cutting it apart;
//! 2. compatibility normalisation (NFKC: full-width `ＩＤ` becomes `id`, half-width kana become
//!    full width) and lower-casing;
//! 3. overlapping character bigrams for scripts written without spaces between words (Han,
//!    Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) and for Hangul, whose words carry particles;
//! 4. tokens longer than [`MAX_TOKEN_CHARS`] are truncated, never dropped.
//!
//! Then, for the languages tantivy has a stemmer for ([`crate::language::stemmer_language`]),
//! stemming (the stemmed analyzers are registered under [`stemmed_tokenizer_name`]); and last,
//! in every analyzer, [`DiacriticFolder`]: accents on Latin letters are removed (`votación`
//! matches `votacion`, as citizens often type it; `đăng` matches `dang`, though Unicode does not
//! decompose `đ`), and so are optional Arabic vowel marks and
//! tatweel; Devanagari, Bengali and other Indic vowel signs are never removed. Folding comes after
//! stemming because the stemmers expect accented words (`eleições` and `eleição` share a stem
//! only before folding). [`register_analyzers`] installs all of them on an index, and both
//! the builder and the reader call it, so a passage indexed one way is queried the same way.
//!
//! ```
//! use votecheck_index::analysis::terms;
//! assert_eq!(terms("Votación por CORREO"), vec!["votacion", "por", "correo"]);
//! assert_eq!(terms("期日前投票"), vec!["期日", "日前", "前投", "投票"]);
//! ```

use std::cell::RefCell;

use tantivy::tokenizer::{
    AsciiFoldingFilter, RawTokenizer, Stemmer, TextAnalyzer, Token, TokenFilter, TokenStream,
    Tokenizer, TokenizerManager,
};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

use crate::language::{STEMMED_LANGUAGES, stemmer_language};

/// Name of the analyzer without stemming, used for every language.
pub const TEXT_TOKENIZER: &str = "votecheck_text";

/// Tokens longer than this many characters are truncated to it (tantivy's default tokenizer
/// silently drops long tokens, which would lose whole unsegmented sentences).
pub const MAX_TOKEN_CHARS: usize = 64;

/// Name of the stemmed analyzer for a stemmed-field key (see [`STEMMED_LANGUAGES`]).
pub fn stemmed_tokenizer_name(key: &str) -> String {
    format!("votecheck_stem_{key}")
}

/// Registers the plain analyzer and one stemmed analyzer per stemmed language.
pub fn register_analyzers(manager: &TokenizerManager) {
    manager.register(TEXT_TOKENIZER, plain_analyzer());
    for key in STEMMED_LANGUAGES {
        if let Some(language) = stemmer_language(key) {
            let analyzer = TextAnalyzer::builder(WordTokenizer)
                .filter(Stemmer::new(language))
                .filter(DiacriticFolder)
                .build();
            manager.register(&stemmed_tokenizer_name(key), analyzer);
        }
    }
}

/// The analyzer without stemming.
pub fn plain_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer)
        .filter(DiacriticFolder)
        .build()
}

/// The analyzer a language's text is compared with: stemmed where tantivy has a stemmer for the
/// language, plain otherwise.
pub fn language_analyzer(language: &str) -> TextAnalyzer {
    match crate::language::stemmed_field_key(language).and_then(stemmer_language) {
        Some(stemmer) => TextAnalyzer::builder(WordTokenizer)
            .filter(Stemmer::new(stemmer))
            .filter(DiacriticFolder)
            .build(),
        None => plain_analyzer(),
    }
}

/// The terms the plain analyzer makes of a text (handy for tests and for query processing).
pub fn terms(text: &str) -> Vec<String> {
    terms_with(&mut plain_analyzer(), text)
}

/// The terms the analyzer registered under `tokenizer_name` makes of a text.
pub fn terms_with(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// The tokenizer described in the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct WordTokenizer;

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream {
            tokens: analyze(text),
            next: 0,
        }
    }
}

/// A token stream over tokens computed up front.
pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// Collects tokens, numbering their positions.
struct TokenSink {
    tokens: Vec<Token>,
}

impl TokenSink {
    fn push(&mut self, text: String, offset_from: usize, offset_to: usize) {
        if text.is_empty() {
            return;
        }
        let position = self.tokens.len();
        self.tokens.push(Token {
            offset_from,
            offset_to,
            position,
            text,
            position_length: 1,
        });
    }
}

/// A run of adjacent characters in a script written without spaces, waiting to become bigrams.
#[derive(Default)]
struct BigramRun {
    characters: Vec<char>,
    start: usize,
    end: usize,
}

impl BigramRun {
    fn flush(&mut self, sink: &mut TokenSink) {
        match self.characters.len() {
            0 => {}
            1 => sink.push(self.characters[0].to_string(), self.start, self.end),
            _ => {
                for pair in self.characters.windows(2) {
                    sink.push(pair.iter().collect(), self.start, self.end);
                }
            }
        }
        self.characters.clear();
    }
}

fn analyze(text: &str) -> Vec<Token> {
    let mut sink = TokenSink { tokens: Vec::new() };
    let mut run = BigramRun::default();
    for (offset, segment) in text.split_word_bound_indices() {
        let end = offset + segment.len();
        if is_bigram_segment(segment) {
            if run.characters.is_empty() || run.end != offset {
                run.flush(&mut sink);
                run.start = offset;
            }
            run.characters.extend(
                segment
                    .nfkc()
                    .flat_map(char::to_lowercase)
                    .filter(|c| !is_combining_mark(*c) || is_bigram_char(*c)),
            );
            run.end = end;
            continue;
        }
        run.flush(&mut sink);
        if !segment.chars().any(char::is_alphanumeric) {
            continue;
        }
        sink.push(lowercase_word(segment), offset, end);
    }
    run.flush(&mut sink);
    sink.tokens
}

/// NFKC, lower case and truncation of one word.
fn lowercase_word(word: &str) -> String {
    if word.is_ascii() {
        // NFKC leaves ASCII unchanged: skip it (most words of most questions).
        let mut lowered = word[..word.len().min(MAX_TOKEN_CHARS)].to_string();
        lowered.make_ascii_lowercase();
        return lowered;
    }
    word.nfkc()
        .flat_map(char::to_lowercase)
        .take(MAX_TOKEN_CHARS)
        .collect()
}

/// What the plain analyzer makes of one word: NFKC, lower case, folding and truncation.
pub fn normalize_word(word: &str) -> String {
    fold_diacritics(&lowercase_word(word))
}

/// Token filter that folds diacritics (see the module documentation).
#[derive(Clone, Copy, Debug, Default)]
pub struct DiacriticFolder;

impl TokenFilter for DiacriticFolder {
    type Tokenizer<T: Tokenizer> = DiacriticFolderFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> DiacriticFolderFilter<T> {
        DiacriticFolderFilter { tokenizer }
    }
}

/// The tokenizer [`DiacriticFolder`] wraps around another.
#[derive(Clone, Debug)]
pub struct DiacriticFolderFilter<T> {
    tokenizer: T,
}

impl<T: Tokenizer> Tokenizer for DiacriticFolderFilter<T> {
    type TokenStream<'a> = DiacriticFolderStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        DiacriticFolderStream {
            tail: self.tokenizer.token_stream(text),
        }
    }
}

/// The token stream of [`DiacriticFolderFilter`].
pub struct DiacriticFolderStream<S> {
    tail: S,
}

impl<S: TokenStream> TokenStream for DiacriticFolderStream<S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if !token.text.is_ascii() {
            token.text = fold_diacritics(&token.text);
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Removes accents from Latin letters and optional vowel marks from Arabic; leaves every other
/// combining mark (Indic vowel signs, for instance) in place. Latin letters that Unicode does not
/// decompose into a base letter and a mark (Vietnamese `đ`, Polish and Navajo `ł`, `ø`, `æ`) are
/// folded by tantivy's ASCII folding, so that `dang ky`, as Vietnamese is often typed, matches
/// `đăng ký`.
fn fold_diacritics(word: &str) -> String {
    if word.is_ascii() {
        // No marks to fold, and NFD/NFC leave ASCII unchanged.
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len());
    let mut base_is_latin = false;
    for character in word.nfd() {
        if is_optional_arabic_mark(character) {
            continue;
        }
        if is_combining_mark(character) {
            if base_is_latin {
                continue;
            }
        } else {
            base_is_latin = is_latin(character);
        }
        out.push(character);
    }
    if out.is_empty() {
        // Only marks (a lone tatweel, say): keep the word rather than make an empty term.
        return word.to_string();
    }
    if out
        .chars()
        .any(|character| !character.is_ascii() && is_latin(character))
    {
        return fold_undecomposed_latin(&out);
    }
    out.nfc().collect()
}

/// ASCII folding of a word whose Latin letters have no decomposition (`đ` → `d`), by tantivy's
/// filter; letters of other scripts pass through it unchanged. Folding can lengthen a word
/// (`ß` → `ss`), so the result is truncated to [`MAX_TOKEN_CHARS`] again.
/// The folder is built once per thread and reused, as this runs for index and query terms.
fn fold_undecomposed_latin(word: &str) -> String {
    thread_local! {
        static FOLDER: RefCell<TextAnalyzer> = RefCell::new(
            TextAnalyzer::builder(RawTokenizer::default())
                .filter(AsciiFoldingFilter)
                .build(),
        );
    }
    FOLDER.with_borrow_mut(|folder| {
        let mut stream = folder.token_stream(word);
        let folded = if stream.advance() {
            stream.token().text.as_str()
        } else {
            word
        };
        folded.nfc().take(MAX_TOKEN_CHARS).collect()
    })
}

fn is_latin(character: char) -> bool {
    matches!(character as u32, 0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF)
}

fn is_optional_arabic_mark(character: char) -> bool {
    matches!(character as u32, 0x064B..=0x065F | 0x0670 | 0x0640)
}

/// Whether a character belongs to a script that is tokenised into bigrams.
fn is_bigram_char(character: char) -> bool {
    matches!(
        character as u32,
        0x3005..=0x3007           // 々 〆 〇
        | 0x3040..=0x30FF         // Hiragana, Katakana
        | 0x31F0..=0x31FF         // Katakana phonetic extensions
        | 0x3400..=0x4DBF         // CJK extension A
        | 0x4E00..=0x9FFF         // CJK unified ideographs
        | 0xF900..=0xFAFF         // CJK compatibility ideographs
        | 0xFF66..=0xFF9F         // half-width Katakana
        | 0x20000..=0x2FFFF       // CJK extensions B and later
        | 0xAC00..=0xD7AF         // Hangul syllables
        | 0x1100..=0x11FF         // Hangul jamo
        | 0x3130..=0x318F         // Hangul compatibility jamo
        | 0x0E00..=0x0E7F         // Thai
        | 0x0E80..=0x0EFF         // Lao
        | 0x1780..=0x17FF         // Khmer
        | 0x19E0..=0x19FF         // Khmer symbols
        | 0x1000..=0x109F // Myanmar
    )
}

fn is_bigram_segment(segment: &str) -> bool {
    let mut any = false;
    for character in segment.chars() {
        if is_bigram_char(character) {
            any = true;
        } else if !is_combining_mark(character) {
            return false;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stemmed(key: &str, text: &str) -> Vec<String> {
        let manager = TokenizerManager::default();
        register_analyzers(&manager);
        let mut analyzer = manager.get(&stemmed_tokenizer_name(key)).unwrap();
        terms_with(&mut analyzer, text)
    }

    #[test]
    fn splits_english_on_word_boundaries_and_lowercases() {
        assert_eq!(
            terms("Where's my polling-place? Open 7:00–20:00!"),
            vec![
                "where's", "my", "polling", "place", "open", "7", "00", "20", "00"
            ]
        );
    }

    #[test]
    fn folds_latin_diacritics() {
        assert_eq!(
            terms("Votación ÉLECTION São"),
            vec!["votacion", "election", "sao"]
        );
        assert_eq!(terms("identificación"), terms("identificacion"));
    }

    #[test]
    fn folds_latin_letters_without_a_decomposition() {
        // Vietnamese typed without its marks: đ has no decomposition, unlike ă or ư.
        assert_eq!(terms("Đăng ký cử tri"), vec!["dang", "ky", "cu", "tri"]);
        assert_eq!(terms("łódź øre"), vec!["lodz", "ore"]);
        // Other scripts in the same word are left as they are.
        assert_eq!(terms("đमत"), vec!["dमत"]);
        // A word that folding lengthens still respects the cap.
        let long = terms(&"ß".repeat(MAX_TOKEN_CHARS));
        assert_eq!(long, vec!["s".repeat(MAX_TOKEN_CHARS)]);
    }

    #[test]
    fn keeps_hindi_words_whole() {
        // Vowel signs (matras) and virama are combining marks: they must stay in the word.
        assert_eq!(
            terms("मैं मतदान केंद्र कहाँ है"),
            vec!["मैं", "मतदान", "केंद्र", "कहाँ", "है"]
        );
    }

    #[test]
    fn keeps_bengali_and_arabic_words_whole() {
        assert_eq!(terms("ভোটার নিবন্ধন"), vec!["ভোটার", "নিবন্ধন"]);
        // Optional Arabic vowel marks are folded away, letters are kept.
        assert_eq!(terms("التَّصْوِيت"), terms("التصويت"));
        assert_eq!(terms("التصويت بالبريد"), vec!["التصويت", "بالبريد"]);
    }

    #[test]
    fn makes_bigrams_for_japanese_sentences() {
        let tokens = terms("期日前投票は、どこでできますか。");
        assert!(tokens.contains(&"期日".to_string()));
        assert!(tokens.contains(&"投票".to_string()));
        assert!(tokens.contains(&"でき".to_string()));
        // Punctuation breaks the run: no bigram spans the comma.
        assert!(!tokens.contains(&"は、".to_string()));
        assert!(!tokens.contains(&"はど".to_string()));
    }

    #[test]
    fn normalizes_half_and_full_width_forms() {
        assert_eq!(terms("ＩＤカード"), terms("IDカード"));
        assert_eq!(terms("ｶｰﾄﾞ"), terms("カード"));
    }

    #[test]
    fn makes_bigrams_for_korean_words() {
        assert_eq!(terms("투표소는"), vec!["투표", "표소", "소는"]);
        assert!(terms("투표소는 어디").contains(&"어디".to_string()));
    }

    #[test]
    fn single_ideograph_is_a_token() {
        assert_eq!(terms("票"), vec!["票"]);
    }

    #[test]
    fn long_tokens_are_truncated_not_dropped() {
        let long = "a".repeat(500);
        assert_eq!(terms(&long), vec!["a".repeat(MAX_TOKEN_CHARS)]);
        let japanese = "投票".repeat(200);
        assert!(!terms(&japanese).is_empty());
    }

    #[test]
    fn stems_supported_languages() {
        assert_eq!(
            stemmed("en", "registering voters"),
            stemmed("en", "register voter")
        );
        assert_eq!(stemmed("es", "elecciones"), stemmed("es", "elección"));
        assert_eq!(
            stemmed("pt", "candidatos inscritos"),
            stemmed("pt", "candidato inscrito")
        );
        assert_eq!(stemmed("fr", "électeurs"), stemmed("fr", "electeur"));
    }

    #[test]
    fn folding_never_empties_a_token() {
        // A lone tatweel is dropped by folding; the token must not become an empty term.
        assert!(terms("ـ").iter().all(|term| !term.is_empty()));
    }

    proptest! {
        #[test]
        fn never_panics_and_never_emits_empty_or_overlong_tokens(text in any::<String>()) {
            for token in analyze(&text) {
                prop_assert!(!token.text.is_empty());
                prop_assert!(token.text.chars().count() <= MAX_TOKEN_CHARS);
                prop_assert!(token.offset_from <= token.offset_to);
                prop_assert!(token.offset_to <= text.len());
            }
        }

        #[test]
        fn analysis_is_idempotent_on_terms(text in "[a-zA-ZÀ-ÿ ]{0,40}") {
            let once = terms(&text);
            let twice: Vec<String> = once.iter().flat_map(|t| terms(t)).collect();
            prop_assert_eq!(once, twice);
        }
    }
}
