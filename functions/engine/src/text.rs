//! Small text helpers shared by the engine's steps: the normalisation used to match phrases
//! (intents, lexicon, jurisdictions) and shortening text without cutting a word or a link.

use unicode_segmentation::UnicodeSegmentation;
use votecheck_index::analysis::normalize_word;

/// Lower case, NFKC, Latin accents removed, punctuation turned into spaces, whitespace collapsed:
/// `"¿Cómo VOTO?"` becomes `"como voto"`.
pub fn normalize_phrase(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|character| {
            if character.is_alphanumeric()
                || unicode_normalization::char::is_combining_mark(character)
                || character == '*'
            {
                character
            } else {
                ' '
            }
        })
        .collect();
    spaced
        .split_whitespace()
        .map(normalize_word)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `phrase` occurs in `text` (both normalised). For scripts written without spaces the
/// phrase may occur anywhere; otherwise it must occur as whole words, and a trailing `*` makes
/// its last word a prefix (`intimidat*` matches `intimidation`).
pub fn contains_phrase(text: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    if !phrase.contains(' ') && phrase.chars().any(is_spaceless_script) {
        return text.contains(phrase.trim_end_matches('*'));
    }
    let (phrase, prefix) = match phrase.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (phrase, false),
    };
    let padded = format!(" {text} ");
    let needle = format!(" {phrase}");
    let mut start = 0;
    while let Some(found) = padded[start..].find(&needle) {
        let end = start + found + needle.len();
        let next = padded[end..].chars().next();
        if prefix || next == Some(' ') {
            return true;
        }
        start = start + found + 1;
    }
    false
}

/// Whether a character belongs to a script written without spaces between words.
pub fn is_spaceless_script(character: char) -> bool {
    matches!(character as u32,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF
        | 0x20000..=0x2FFFF | 0x0E00..=0x0EFF | 0x1780..=0x17FF | 0x1000..=0x109F
        | 0xAC00..=0xD7AF)
}

/// Shortens `text` to at most `max_chars` characters, ending at a sentence or word boundary with
/// `…`; never cuts inside a word or a link. Text that fits is returned as it is.
pub fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let budget = max_chars.saturating_sub(1);
    let mut out = String::new();
    let mut count = 0;
    for word in text.split_word_bounds() {
        let length = word.chars().count();
        if count + length > budget {
            break;
        }
        out.push_str(word);
        count += length;
    }
    // A link is never shown cut: drop a trailing partial one.
    if let Some(start) = out.rfind("http")
        && !out[start..].contains(char::is_whitespace)
    {
        out.truncate(start);
    }
    // Prefer ending at the end of a sentence (a terminator followed by a space) in the second half.
    let sentence_end = out
        .char_indices()
        .rev()
        .find(|(index, character)| {
            matches!(character, '.' | '!' | '?')
                && out[index + 1..].starts_with(char::is_whitespace)
                || matches!(character, '。' | '！' | '？')
        })
        .map(|(index, character)| index + character.len_utf8());
    if let Some(end) = sentence_end
        && out[..end].chars().count() > budget / 2
    {
        out.truncate(end);
        return out.trim_end().to_string();
    }
    format!("{}…", out.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalizes_case_accents_and_punctuation() {
        assert_eq!(normalize_phrase("¿Cómo VOTO?"), "como voto");
        assert_eq!(
            normalize_phrase("  Who should I vote for?!  "),
            "who should i vote for"
        );
        assert_eq!(normalize_phrase("ＳＴＯＰ"), "stop");
        assert_eq!(
            normalize_phrase("誰に投票すればいい？"),
            "誰に投票すればいい"
        );
    }

    #[test]
    fn matches_whole_words_prefixes_and_cjk_substrings() {
        assert!(contains_phrase("who should i vote for", "should i vote"));
        assert!(!contains_phrase(
            "how do i register with a party",
            "party is best"
        ));
        assert!(!contains_phrase("stopwatch", "stop"));
        assert!(contains_phrase("voters were intimidated", "intimidat*"));
        assert!(!contains_phrase("anti intimidation", "tim*"));
        assert!(contains_phrase("誰に投票すればいい", "誰に投票"));
    }

    #[test]
    fn shortens_at_boundaries_without_cutting_links() {
        let text = "Polls open at 7. They close at 20. Anyone in line at closing time can still vote today.";
        let short = shorten(text, 40);
        assert!(short.chars().count() <= 40, "{short}");
        assert!(short.ends_with('…') || short.ends_with('.'), "{short}");
        let with_link = "See https://elections.example/a/very/long/path/to/the/page for details";
        let short = shorten(with_link, 30);
        assert!(!short.contains("http"), "{short}");
    }

    proptest! {
        #[test]
        fn shorten_respects_the_limit(text in any::<String>(), max in 1usize..200) {
            prop_assert!(shorten(&text, max).chars().count() <= max.max(1));
        }

        #[test]
        fn phrase_functions_never_panic(text in any::<String>(), phrase in any::<String>()) {
            let normalized = normalize_phrase(&text);
            let _ = contains_phrase(&normalized, &normalize_phrase(&phrase));
        }
    }
}
