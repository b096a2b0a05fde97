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

use regex::{Captures, Regex};

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
pub fn redact(text: &str) -> String {
    let mut redacted = EMAIL_PATTERN.replace_all(text, EMAIL).into_owned();
    for (index, pattern) in ADDRESS_PATTERNS.iter().enumerate() {
        redacted = pattern
            .replace_all(&redacted, |captures: &Captures<'_>| {
                let matched = &captures[0];
                if index == 0 && has_words_not_in_street_names(matched) {
                    return matched.to_owned();
                }
                // Keep the whitespace a leading `(?:^|\b|\s)` may have consumed.
                let leading: String = matched.chars().take_while(|c| c.is_whitespace()).collect();
                format!("{leading}{ADDRESS}")
            })
            .into_owned();
    }
    redacted = CODE_PATTERN
        .replace_all(&redacted, |captures: &Captures<'_>| {
            let code = &captures[0];
            let digits = code.chars().filter(char::is_ascii_digit).count();
            let letters = code.chars().filter(|c| c.is_alphabetic()).count();
            if letters > 0 && digits >= 5 {
                ID.to_owned()
            } else {
                code.to_owned()
            }
        })
        .into_owned();
    NUMBER_PATTERN
        .replace_all(&redacted, |captures: &Captures<'_>| {
            redact_number(&captures[0])
        })
        .into_owned()
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

/// Decides what a run of digits and separators is.
fn redact_number(number: &str) -> String {
    let digits = number.chars().filter(char::is_ascii_digit).count();
    if digits >= 16 {
        return ID.to_owned();
    }
    if digits < 7 {
        return number.to_owned();
    }
    let trimmed = number.trim_end_matches(|c: char| !c.is_ascii_digit());
    if is_date(trimmed) || is_list_of_years(trimmed) || is_thousands(trimmed) {
        return number.to_owned();
    }
    // Keep what the separators class swallowed after the last digit (a closing parenthesis, a
    // full stop ending the sentence).
    let trailing = &number[number
        .rfind(|c: char| c.is_ascii_digit())
        .map_or(number.len(), |index| index + 1)..];
    format!("{PHONE}{trailing}")
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
        text.chars().filter(char::is_ascii_digit).collect()
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
        fn redaction_is_idempotent_on_any_text(text in any::<String>()) {
            let once = redact(&text);
            prop_assert_eq!(redact(&once), once);
        }
    }
}
