//! [`redact`]: removes personal data from a question before it is stored.
//!
//! Citizens sometimes write their phone number, e-mail, ID-card or passport number, or home
//! address into a question ("I live at Calle Mayor 12, where do I vote?"). The query log keeps the
//! question so the election office can see what people ask; it must not keep those details. Each
//! recognised detail is replaced by a placeholder:
//!
//! | placeholder | what it replaces |
//! |---|---|
//! | `[email]` | e-mail addresses |
//! | `[address]` | a street and a house number in the usual English, Spanish, Portuguese, French, Italian and German shapes (`123 Main Street`, `Calle Mayor 12`, `10 rue de la Paix`, `Hauptstraße 5`) |
//! | `[id]` | letter-and-digit codes of 6 or more characters with at least 5 digits (ID cards, passports: `12345678Z`, `X1234567L`, `AB1234567`), and digit runs of 16 or more digits (cards, bank accounts) |
//! | `[phone]` | runs of 7 to 15 digits, with or without `+`, spaces, dots, dashes or parentheses |
//!
//! The patterns see a folded copy of the text ([`fold`], character for character): digits of
//! every script as ASCII digits (Arabic-Indic `٠٦٠٠…`, Persian `۰۹۱۲…`, Devanagari `९८७…`,
//! Bengali, full-width `０９０…`), full-width forms as ASCII (`ana＠example．org`), any space
//! (no-break, thin) as a space, dashes, the minus sign and the underscore as `-`. What is kept
//! is the text as written.
//!
//! Dates (`12/05/2024`, `2024-05-12`), lists of years (`2019 2023`) and counts with thousands
//! separators (`35.000.000`) are kept. A street name without a number ("calle Mayor") is kept: it
//! does not identify anyone on its own. Street words that are also ordinary words count only
//! capitalised (`Ronda de Atocha 5`, but `la ronda 2`), and `2 questions about the way` is a
//! sentence, not an address. Like any pattern-based redaction it catches the usual forms, not all
//! (names are not recognised): the query log's retention and access rules still apply.
//! Redaction is idempotent: placeholders contain nothing that would be redacted again.
//!
//! ```
//! use votecheck_store::redact;
//! assert_eq!(
//!     redact("I'm at 123 Main Street, call +34 600 111 222 or mail ana@example.org"),
//!     "I'm at [address], call [phone] or mail [email]"
//! );
//! assert_eq!(redact("¿Puedo votar con el DNI 12345678Z?"), "¿Puedo votar con el DNI [id]?");
//! assert_eq!(redact("¿Las elecciones son el 12/05/2024?"), "¿Las elecciones son el 12/05/2024?");
//! ```

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// The placeholder for an e-mail address.
pub const EMAIL: &str = "[email]";
/// The placeholder for a phone number.
pub const PHONE: &str = "[phone]";
/// The placeholder for an ID-card, passport or account number.
pub const ID: &str = "[id]";
/// The placeholder for a street address.
pub const ADDRESS: &str = "[address]";

static EMAIL_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[\p{L}\p{N}._%+'-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}")
        .expect("valid e-mail pattern")
});

/// Street words that come before the name (`Calle Mayor 12`, `Rua Augusta 100`, `Via Roma 5`).
const STREET_WORD_BEFORE: &str = r"calle|c/|avenida|avda\.?|av\.|plaza|pza\.?|paseo|camino|carretera|travesía|travesia|glorieta|rua|travessa|praça|praca|viale|piazza|vicolo|strada|rue|avenue|boulevard|bd|chemin|impasse|allée|allee|quai";

/// Street words that are also ordinary words (`la ronda 2` is an election round, `via post`):
/// they count only capitalised (`Ronda de Atocha 5`, `Via Roma 5`, `Largo do Carmo 3`).
const CAPITALISED_STREET_WORD_BEFORE: &str = r"Ronda|Largo|Via|Corso";

/// Words that do not occur in the name part of `<number> <name> Street`: with them, the match is
/// a sentence (`2 questions about the way`), not an address.
const NOT_IN_STREET_NAMES: [&str; 24] = [
    "a", "about", "an", "and", "are", "at", "by", "for", "from", "how", "i", "in", "is", "it",
    "my", "of", "on", "or", "that", "the", "to", "was", "with", "you",
];

/// Street suffixes that come after the name (`123 Main Street`).
const STREET_WORD_AFTER: &str = r"street|st\.?|avenue|ave\.?|road|rd\.?|boulevard|blvd\.?|lane|ln\.?|drive|dr\.?|court|ct\.?|way|place|pl\.?|terrace|square|sq\.?|crescent|close|highway|hwy\.?";

static ADDRESS_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    let name_word = r"[\p{L}\p{M}'’.-]+";
    let patterns = [
        // 123 Main Street, 10 Downing St. (see NOT_IN_STREET_NAMES)
        format!(
            r"(?i)\b\d{{1,5}}[a-z]?,?\s+(?:{name_word}\s+){{1,4}}(?:{STREET_WORD_AFTER})(?:\b|$)"
        ),
        // Calle Mayor 12, Avenida de la Constitución, 5, calle Alcalá nº 20, Rua Augusta 100
        format!(
            r"(?i)(?:^|\b|\s)(?:{STREET_WORD_BEFORE})\s+(?:{name_word}\s+){{0,5}}?{name_word},?\s*(?:n[º°o]\.?\s*)?\d{{1,5}}[a-z]?\b"
        ),
        // Ronda de Atocha 5, Via Roma 5
        format!(
            r"\b(?:{CAPITALISED_STREET_WORD_BEFORE})\s+(?:{name_word}\s+){{0,5}}?{name_word},?\s*(?:n[º°o]\.?\s*)?\d{{1,5}}[a-z]?\b"
        ),
        // 10 rue de la Paix, 5 bis avenue Foch
        format!(
            r"(?i)\b\d{{1,5}}(?:\s*(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|bd|chemin|place|allée|allee|impasse|quai|viale|piazza|corso)\s+(?:{name_word}\s+){{0,4}}{name_word}"
        ),
        // Hauptstraße 5, Goethestr. 12, Lindenweg 3a
        r"(?i)\b[\p{L}-]+(?:straße|strasse|str\.|gasse|weg|platz|allee|damm)\s*\d{1,5}[a-z]?\b"
            .to_owned(),
    ];
    patterns
        .iter()
        .map(|pattern| Regex::new(pattern).expect("valid address pattern"))
        .collect()
});

/// A letter-and-digit code: the id rule checks its digits and letters.
static CODE_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\p{L}\p{N}]{6,}").expect("valid code pattern"));

/// Digits with optional separators: the phone and long-number rules check the digit count.
static NUMBER_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\(?\d(?:[ \t.()/-]{0,3}\d)*").expect("valid number pattern"));

static DATE_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(\d{1,2})[-./](\d{1,2})[-./](\d{4}|\d{2})|(\d{4})[-./](\d{1,2})[-./](\d{1,2}))$",
    )
    .expect("valid date pattern")
});

/// Replaces phone numbers, e-mail addresses, ID-like numbers and recognisable street addresses
/// in `text` with the placeholders [`PHONE`], [`EMAIL`], [`ID`] and [`ADDRESS`].
///
/// The patterns match a folded copy of the text ([`fold`]): digits of every script as ASCII
/// digits, full-width forms as their ASCII twins (`＠`, `０`), any space as a space, dashes and
/// underscores as `-`. What is kept is the citizen's own text, unfolded.
pub fn redact(text: &str) -> String {
    let mut text = Folded::new(text);
    text.replace(&EMAIL_PATTERN, |_| Some(Replacement::whole(EMAIL)));
    for (index, pattern) in ADDRESS_PATTERNS.iter().enumerate() {
        text.replace(pattern, |matched| {
            if index == 0 && has_words_not_in_street_names(matched) {
                return None;
            }
            // Keep the whitespace a leading `(?:^|\b|\s)` may have consumed.
            Some(Replacement {
                keep_before: matched.chars().take_while(|c| c.is_whitespace()).count(),
                placeholder: ADDRESS,
                keep_after: 0,
            })
        });
    }
    text.replace(&CODE_PATTERN, |code| {
        let digits = code.chars().filter(char::is_ascii_digit).count();
        let letters = code.chars().filter(|c| c.is_alphabetic()).count();
        (letters > 0 && digits >= 5).then(|| Replacement::whole(ID))
    });
    text.replace(&NUMBER_PATTERN, redact_number);
    text.original
}

/// What replaces a match: a placeholder, keeping some of the match's first and last characters.
struct Replacement {
    keep_before: usize,
    placeholder: &'static str,
    keep_after: usize,
}

impl Replacement {
    fn whole(placeholder: &'static str) -> Self {
        Replacement {
            keep_before: 0,
            placeholder,
            keep_after: 0,
        }
    }
}

/// The text as the citizen wrote it and its folded twin, character for character: every
/// replacement is made in both, so they stay aligned.
struct Folded {
    original: String,
    folded: String,
}

impl Folded {
    fn new(text: &str) -> Self {
        Folded {
            original: text.to_owned(),
            folded: text.chars().map(fold).collect(),
        }
    }

    /// Replaces the matches of `pattern` in the folded text that `decide` replaces, in both.
    fn replace(&mut self, pattern: &Regex, decide: impl Fn(&str) -> Option<Replacement>) {
        let mut original = String::with_capacity(self.original.len());
        let mut folded = String::with_capacity(self.folded.len());
        // Walk both strings together: `next` is the next unread character of each.
        let mut original_chars = self.original.char_indices().peekable();
        let mut read = 0; // bytes of the folded text consumed
        let mut take = |upto: usize,
                        original: &mut String,
                        folded: &mut String,
                        read: &mut usize,
                        keep: bool| {
            for folded_char in self.folded[*read..upto].chars() {
                let (_, original_char) = original_chars.next().expect("aligned texts");
                if keep {
                    original.push(original_char);
                    folded.push(folded_char);
                }
            }
            *read = upto;
        };
        for found in pattern.find_iter(&self.folded) {
            let Some(replacement) = decide(found.as_str()) else {
                continue;
            };
            take(found.start(), &mut original, &mut folded, &mut read, true);
            let matched: Vec<(usize, char)> = found.as_str().char_indices().collect();
            let before = replacement.keep_before.min(matched.len());
            let after = replacement.keep_after.min(matched.len() - before);
            let at = |index: usize| {
                matched
                    .get(index)
                    .map_or(found.end(), |(offset, _)| found.start() + offset)
            };
            take(at(before), &mut original, &mut folded, &mut read, true);
            take(
                at(matched.len() - after),
                &mut original,
                &mut folded,
                &mut read,
                false,
            );
            original.push_str(replacement.placeholder);
            folded.push_str(replacement.placeholder);
            take(found.end(), &mut original, &mut folded, &mut read, true);
        }
        take(
            self.folded.len(),
            &mut original,
            &mut folded,
            &mut read,
            true,
        );
        self.original = original;
        self.folded = folded;
    }
}

/// Any Unicode decimal digit (Arabic-Indic, Persian, Devanagari, Bengali, full-width...).
static DECIMAL_DIGIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\p{Nd}$").expect("valid digit pattern"));

/// The character the patterns see for `character`: one character for one, so the folded text
/// stays aligned with the original. Decimal digits of any script become ASCII digits; dashes,
/// the minus sign and the underscore become `-`; any space becomes a space; a character whose
/// compatibility form (NFKC) is one ASCII character becomes it (`＠` → `@`, `０` → `0`, `Ａ` → `A`).
pub fn fold(character: char) -> char {
    if character == '_' {
        return '-';
    }
    if character.is_ascii() {
        return character;
    }
    if let Some(digit) = decimal_digit(character) {
        return digit;
    }
    if matches!(
        character,
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' | '\u{FF3F}'
    ) {
        return '-';
    }
    if character.is_whitespace() {
        return ' ';
    }
    let mut compatible = std::iter::once(character).nfkc();
    match (compatible.next(), compatible.next()) {
        (Some(folded), None) if folded.is_ascii() => folded,
        _ => character,
    }
}

/// The ASCII digit of a Unicode decimal digit: digits come in runs of ten, zero first.
fn decimal_digit(character: char) -> Option<char> {
    let is_digit = |c: char| DECIMAL_DIGIT.is_match(c.encode_utf8(&mut [0; 4]));
    if !is_digit(character) {
        return None;
    }
    let mut start = character as u32;
    while let Some(previous) = start.checked_sub(1).and_then(char::from_u32) {
        if !is_digit(previous) {
            break;
        }
        start -= 1;
    }
    let value = (character as u32 - start) % 10;
    char::from_digit(value, 10)
}

/// Whether `<number> <words> Street` has a word that street names do not have.
fn has_words_not_in_street_names(matched: &str) -> bool {
    matched
        .split_whitespace()
        .map(|word| {
            word.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .any(|word| NOT_IN_STREET_NAMES.contains(&word.as_str()))
}

/// Whether a number is written with thousands separators (`35.000.000`, `1,250,000`): one kind of
/// separator, `.` or `,`, a first group of 1 or 2 digits, then groups of 3. A first group of 3
/// (`600.111.222`) reads as a phone number, and spaces are left to phones (`34 600 111 222`).
fn is_thousands(text: &str) -> bool {
    let Some(separator) = text.chars().find(|c| !c.is_ascii_digit()) else {
        return false;
    };
    if separator != '.' && separator != ',' {
        return false;
    }
    let mut groups = text.split(separator);
    let first_ok = groups.next().is_some_and(|first| {
        (1..=2).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_digit())
    });
    first_ok && groups.all(|group| group.len() == 3 && group.bytes().all(|b| b.is_ascii_digit()))
}

/// Decides what a run of digits and separators is (in the folded text).
fn redact_number(number: &str) -> Option<Replacement> {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if digits >= 16 {
        return Some(Replacement::whole(ID));
    }
    if digits < 7 {
        return None;
    }
    let trimmed = number.trim_end_matches(|c: char| !c.is_ascii_digit());
    if is_date(trimmed) || is_list_of_years(trimmed) || is_thousands(trimmed) {
        return None;
    }
    // Keep what the separators class swallowed after the last digit (a closing parenthesis, a
    // full stop ending the sentence).
    Some(Replacement {
        keep_before: 0,
        placeholder: PHONE,
        keep_after: number[trimmed.len()..].chars().count(),
    })
}

fn is_date(text: &str) -> bool {
    let Some(captures) = DATE_PATTERN.captures(text) else {
        return false;
    };
    let number = |index: usize| -> Option<u32> { captures.get(index)?.as_str().parse().ok() };
    let plausible_day_month =
        |first: u32, second: u32| (1..=31).contains(&first) && (1..=12).contains(&second);
    if let (Some(first), Some(second)) = (number(1), number(2)) {
        // dd/mm/yyyy or mm/dd/yyyy
        plausible_day_month(first, second) || plausible_day_month(second, first)
    } else if let (Some(year), Some(month), Some(day)) = (number(4), number(5), number(6)) {
        (1900..=2100).contains(&year) && plausible_day_month(day, month)
    } else {
        false
    }
}

fn is_list_of_years(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|group| !group.is_empty())
        .all(|group| {
            group.len() == 4
                && group
                    .parse::<u32>()
                    .is_ok_and(|year| (1900..=2100).contains(&year))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phones_in_common_shapes() {
        for (text, expected) in [
            ("call me at +34 600 111 222", "call me at [phone]"),
            ("mi número es 600111222.", "mi número es [phone]."),
            ("(555) 123-4567 please", "[phone] please"),
            ("+1 (555) 123-4567", "[phone]"),
            ("tel 91.555.12.34", "tel [phone]"),
            ("+44 20 7946 0958)", "[phone])"),
            ("meu telefone: 11 98765-4321", "meu telefone: [phone]"),
            ("600.111.222", "[phone]"),
            ("34 600 111 222", "[phone]"),
        ] {
            assert_eq!(redact(text), expected, "{text}");
        }
    }

    #[test]
    fn emails_ids_and_long_numbers() {
        assert_eq!(
            redact("write to maría.lópez+votos@correo.example.es today"),
            "write to [email] today"
        );
        assert_eq!(
            redact("NIE X1234567L y pasaporte AB1234567"),
            "NIE [id] y pasaporte [id]"
        );
        assert_eq!(redact("card 4111 1111 1111 1111"), "card [id]");
        assert_eq!(redact("IBAN ES9121000418450200051332"), "IBAN [id]");
    }

    #[test]
    fn addresses() {
        for (text, expected) in [
            ("I live at 123 Main Street.", "I live at [address]."),
            (
                "I live at 42 Elm St near the school",
                "I live at [address] near the school",
            ),
            (
                "vivo en la Calle Mayor 12, Madrid",
                "vivo en la [address], Madrid",
            ),
            (
                "¿dónde voto si vivo en Avenida de la Constitución, 5?",
                "¿dónde voto si vivo en [address]?",
            ),
            ("calle Alcalá nº 20", "[address]"),
            ("moro na Rua Augusta 100", "moro na [address]"),
            ("j'habite au 10 rue de la Paix", "j'habite au [address]"),
            (
                "ich wohne in der Hauptstraße 5",
                "ich wohne in der [address]",
            ),
            ("abito in Via Roma 5", "abito in [address]"),
            ("vivo en Ronda de Atocha 5", "vivo en [address]"),
            ("I live at 12 oak tree road", "I live at [address]"),
        ] {
            assert_eq!(redact(text), expected, "{text}");
        }
    }

    #[test]
    fn ordinary_questions_are_untouched() {
        for text in [
            "¿Dónde voto si vivo en la calle Mayor?",
            "¿Las elecciones son el 12/05/2024?",
            "Is the election on 2024-05-12 or 5.12.24?",
            "What changed between 2019 2023?",
            "Can I vote at 17? I turn 18 on 3 June.",
            "Mesa 3, colegio 12, distrito 28013",
            "¿Cuántos votos necesita un partido? ¿100000?",
            "COVID19 rules at polling stations",
            "I have 2 questions about the way to vote",
            "¿Cuándo es la ronda 2?",
            "Can I vote via post 3 times?",
            "Can I vote during 2 days?",
            "En 2023 votaron 35.000.000 de personas, 1,250,000 por correo.",
            "",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn numbers_and_emails_in_other_scripts_and_separators() {
        for (text, expected) in [
            ("رقمي ٠٦٠٠١١١٢٢٢ شكرا", "رقمي [phone] شكرا"),
            ("شماره من ۰۹۱۲ ۳۴۵ ۶۷۸۹ است", "شماره من [phone] است"),
            ("मेरा नंबर ९८७६५ ४३२१० है", "मेरा नंबर [phone] है"),
            ("আমার নম্বর ০১৭১১ ২২৩৩৪৪", "আমার নম্বর [phone]"),
            ("電話は０９０−１２３４−５６７８です", "電話は[phone]です"),
            ("call +34\u{a0}600\u{a0}111\u{a0}222.", "call [phone]."),
            ("call 600\u{2009}111\u{202f}222", "call [phone]"),
            ("call 600–111–222 now", "call [phone] now"),
            ("call 600_111_222", "call [phone]"),
            ("écrivez à ana＠example．org", "écrivez à [email]"),
            ("DNI １２３４５６７８Ｚ", "DNI [id]"),
            ("card ４１１１ １１１１ １１１１ １１１１", "card [id]"),
        ] {
            assert_eq!(redact(text), expected, "{text}");
        }
        // Text around what is redacted stays as written, full-width punctuation included.
        assert_eq!(redact("？ ｛投票｝"), "？ ｛投票｝");
        assert_eq!(redact("٢٠٢٤ ٢٠٢٥"), "٢٠٢٤ ٢٠٢٥");
    }

    #[test]
    fn fold_gives_ascii_digits_for_every_script() {
        for zero in ['0', '０', '٠', '۰', '०', '০', '๐'] {
            let digits: String = (0..10)
                .map(|value| fold(char::from_u32(zero as u32 + value).unwrap()))
                .collect();
            assert_eq!(digits, "0123456789", "{zero}");
        }
        assert_eq!(fold('＠'), '@');
        assert_eq!(fold('\u{a0}'), ' ');
        assert_eq!(fold('–'), '-');
        assert_eq!(fold('é'), 'é');
    }

    #[test]
    fn redaction_is_idempotent() {
        let once = redact("+34 600 111 222, ana@example.org, 123 Main Street, X1234567L");
        assert_eq!(redact(&once), once);
    }

    fn separated_phone() -> impl Strategy<Value = String> {
        (
            prop::option::of(1u32..999),
            prop::collection::vec(10u32..9999, 3..5),
            prop::sample::select(vec![" ", "-", ".", ""]),
        )
            .prop_map(|(country, groups, separator)| {
                let mut phone = country.map(|code| format!("+{code} ")).unwrap_or_default();
                phone.push_str(
                    &groups
                        .iter()
                        .map(|group| format!("{group:02}"))
                        .collect::<Vec<_>>()
                        .join(separator),
                );
                phone
            })
            .prop_filter(
                "9 to 15 digits, not a list of years, not thousands",
                |phone| {
                    let digits = phone.chars().filter(char::is_ascii_digit).count();
                    (9..=15).contains(&digits) && !is_list_of_years(phone) && !is_thousands(phone)
                },
            )
    }

    fn digits_of(text: &str) -> String {
        text.chars()
            .map(fold)
            .filter(char::is_ascii_digit)
            .collect()
    }

    /// The zeros of the digit scripts of the languages the engine serves: ASCII (Latin and
    /// Cyrillic scripts), full-width (ja, zh, ko), Arabic-Indic (ar), Persian, Devanagari (hi),
    /// Bengali (bn).
    const ZEROS: [char; 6] = ['0', '０', '٠', '۰', '०', '০'];

    /// Separators people put between digit groups.
    const SEPARATORS: [&str; 10] = [
        " ", "\u{a0}", "\u{2009}", "\u{202f}", "-", "\u{2013}", "\u{2212}", "_", ".", "",
    ];

    /// Words of the scripts the engine serves, without digits.
    fn words() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "[a-zA-Z ¿?áéñ,:]{0,30}",
            "[а-яА-Я ,]{0,30}",
            "[\u{0621}-\u{064A} ،]{0,30}",
            "[\u{0905}-\u{0939} ।]{0,30}",
            "[\u{0985}-\u{09B9} ]{0,30}",
            "[\u{3041}-\u{3093}\u{4E00}-\u{4E80}、。？]{0,30}",
            "[\u{AC00}-\u{AC80} ]{0,30}",
            "[a-zA-Zàâçéèêëîïôùûœ ]{0,30}",
            "[a-zA-Zăâđêôơư ]{0,30}",
        ])
        .prop_flat_map(|pattern| pattern)
    }

    /// A phone number written with one script's digits and one kind of separator.
    fn phone_in_any_script() -> impl Strategy<Value = (String, String)> {
        (
            separated_phone(),
            prop::sample::select(ZEROS.to_vec()),
            prop::sample::select(SEPARATORS.to_vec()),
        )
            .prop_map(|(ascii, zero, separator)| {
                let written: String = ascii
                    .chars()
                    .map(|c| match c.to_digit(10) {
                        Some(value) => char::from_u32(zero as u32 + value).unwrap().to_string(),
                        None if c == ' ' || c == '-' || c == '.' => separator.to_string(),
                        None => c.to_string(),
                    })
                    .collect();
                (written, digits_of(&ascii))
            })
    }

    proptest! {
        #[test]
        fn never_panics(text in any::<String>()) {
            let _ = redact(&text);
        }

        #[test]
        fn planted_phone_never_survives(
            before in "[a-zA-Z ¿?áéñ,:]{0,40}",
            phone in separated_phone(),
            after in "[a-zA-Z ¿?áéñ,.:]{0,40}",
        ) {
            let text = format!("{before} {phone} {after}");
            let redacted = redact(&text);
            let phone_digits = digits_of(&phone);
            prop_assert!(!digits_of(&redacted).contains(&phone_digits), "{text:?} -> {redacted:?}");
        }

        #[test]
        fn planted_email_never_survives(
            before in "[a-zA-Z ¿?áéñ,:]{0,40}",
            local in "[a-z][a-z0-9._+-]{0,15}",
            domain in "[a-z][a-z0-9-]{0,10}",
            top in "(com|org|es|fr|co\\.uk|gob\\.mx)",
            after in "[a-zA-Z ¿?áéñ,.:]{0,40}",
        ) {
            let email = format!("{local}@{domain}.{top}");
            let text = format!("{before}{email}{after}");
            let redacted = redact(&text);
            prop_assert!(!redacted.contains('@'), "{text:?} -> {redacted:?}");
            prop_assert!(!redacted.contains(&email), "{text:?} -> {redacted:?}");
        }

        #[test]
        fn planted_phone_in_any_script_never_survives(
            before in words(),
            (phone, phone_digits) in phone_in_any_script(),
            joiner in prop::sample::select(vec![" ", ""]),
            after in words(),
        ) {
            let text = format!("{before}{joiner}{phone}{joiner}{after}");
            let redacted = redact(&text);
            prop_assert!(!digits_of(&redacted).contains(&phone_digits), "{text:?} -> {redacted:?}");
        }

        #[test]
        fn planted_full_width_email_never_survives(
            before in words(),
            local in "[a-z][a-z0-9._+-]{0,15}",
            domain in "[a-z][a-z0-9-]{0,10}",
            top in "(com|org|es|fr|co\\.uk|gob\\.mx)",
            full_width_dot in any::<bool>(),
            after in words(),
        ) {
            let dot = if full_width_dot { "．" } else { "." };
            let email = format!("{local}＠{domain}{dot}{top}");
            let text = format!("{before} {email} {after}");
            let redacted = redact(&text);
            prop_assert!(!redacted.contains('＠') && !redacted.contains('@'), "{text:?} -> {redacted:?}");
        }

        #[test]
        fn redaction_is_idempotent_on_any_text(text in any::<String>()) {
            let once = redact(&text);
            prop_assert_eq!(redact(&once), once);
        }
    }
}
