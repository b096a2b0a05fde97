//! Language tags and language detection.
//!
//! Documents and questions carry a BCP 47 language tag (`en`, `pt-BR`, `zh-Hans`). This module
//! normalises tags to their canonical case ([`normalize_tag`]), extracts the primary subtag that
//! picks an analyzer ([`primary_subtag`]), maps it to a tantivy stemmer where one exists
//! ([`stemmer_language`]) and detects the language of a text that has no declared language
//! ([`detect`]), using the `whatlang` detector corrected by the script of the text.
//!
//! ```
//! use votecheck_index::language::{detect, normalize_tag};
//! assert_eq!(normalize_tag("PT-br").unwrap(), "pt-BR");
//! assert_eq!(detect("期日前投票はどこでできますか").unwrap().tag, "ja");
//! ```

use tantivy::tokenizer::Language as StemmerLanguage;
use whatlang::Lang;
/// A writing system, as [`script_of`] reports it.
pub use whatlang::Script;

/// Why a language tag was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{tag}` is not a BCP 47 language tag (expected e.g. `en`, `pt-BR`, `zh-Hans`): {reason}")]
pub struct InvalidLanguageTag {
    /// The tag as written.
    pub tag: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Normalises a BCP 47 tag to canonical case: language lower case, script title case, region
/// upper case (`zh-hans` becomes `zh-Hans`, `pt_br` becomes `pt-BR`).
pub fn normalize_tag(tag: &str) -> Result<String, InvalidLanguageTag> {
    let invalid = |reason| InvalidLanguageTag {
        tag: tag.to_string(),
        reason,
    };
    let trimmed = tag.trim();
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    let mut parts = Vec::new();
    for (index, subtag) in trimmed.split(['-', '_']).enumerate() {
        if subtag.is_empty()
            || subtag.len() > 8
            || !subtag.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(invalid(
                "each subtag must be 1 to 8 ASCII letters or digits",
            ));
        }
        let normalized = if index == 0 {
            if !(2..=3).contains(&subtag.len()) || !subtag.chars().all(|c| c.is_ascii_alphabetic())
            {
                return Err(invalid("the language subtag must be 2 or 3 letters"));
            }
            subtag.to_ascii_lowercase()
        } else if subtag.len() == 4 && subtag.chars().all(|c| c.is_ascii_alphabetic()) {
            let lower = subtag.to_ascii_lowercase();
            let mut chars = lower.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect()
        } else if (subtag.len() == 2 && subtag.chars().all(|c| c.is_ascii_alphabetic()))
            || (subtag.len() == 3 && subtag.chars().all(|c| c.is_ascii_digit()))
        {
            subtag.to_ascii_uppercase()
        } else {
            subtag.to_ascii_lowercase()
        };
        parts.push(normalized);
    }
    Ok(parts.join("-"))
}

/// The primary language subtag of a tag, lower case (`pt-BR` gives `pt`).
pub fn primary_subtag(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The tantivy stemmer for a language, when tantivy has one.
pub fn stemmer_language(tag: &str) -> Option<StemmerLanguage> {
    use StemmerLanguage::*;
    Some(match primary_subtag(tag).as_str() {
        "ar" => Arabic,
        "da" => Danish,
        "nl" => Dutch,
        "en" => English,
        "fi" => Finnish,
        "fr" => French,
        "de" => German,
        "el" => Greek,
        "hu" => Hungarian,
        "it" => Italian,
        "no" | "nb" | "nn" => Norwegian,
        "pt" => Portuguese,
        "ro" => Romanian,
        "ru" => Russian,
        "es" => Spanish,
        "sv" => Swedish,
        "ta" => Tamil,
        "tr" => Turkish,
        _ => return None,
    })
}

/// Every language that has a stemmed field in the index, by primary subtag.
pub const STEMMED_LANGUAGES: &[&str] = &[
    "ar", "da", "nl", "en", "fi", "fr", "de", "el", "hu", "it", "no", "pt", "ro", "ru", "es", "sv",
    "ta", "tr",
];

/// The stemmed-field key for a tag: the primary subtag, with Norwegian variants folded to `no`.
pub fn stemmed_field_key(tag: &str) -> Option<&'static str> {
    let primary = primary_subtag(tag);
    let key = match primary.as_str() {
        "nb" | "nn" => "no",
        other => other,
    };
    STEMMED_LANGUAGES
        .iter()
        .copied()
        .find(|known| *known == key)
}

/// A detected language.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// BCP 47 tag of the detected language (`en`, `ja`, `zh`, `hi`, ...).
    pub tag: String,
    /// The detector's confidence, 0 to 1.
    pub confidence: f64,
    /// Whether the detector considers the result reliable.
    pub reliable: bool,
}

/// Detects the language of a text, or `None` when the text has no letters to go by.
///
/// The script decides where it is unambiguous (kana means Japanese, Hangul means Korean, Han
/// without kana means Chinese); otherwise `whatlang` decides among the languages of the script.
pub fn detect(text: &str) -> Option<Detection> {
    if let Some(tag) = script_language(text) {
        return Some(Detection {
            tag: tag.to_string(),
            confidence: 1.0,
            reliable: true,
        });
    }
    let info = whatlang::detect(text)?;
    Some(Detection {
        tag: whatlang_tag(info.lang()).to_string(),
        confidence: info.confidence(),
        reliable: info.is_reliable(),
    })
}

/// Detects the language of a text among a set of allowed languages (BCP 47 tags; their primary
/// subtags are compared). Restricting the detector to the languages a deployment can answer in
/// keeps short questions from flipping to unrelated languages.
pub fn detect_among(text: &str, allowed: &[String]) -> Option<Detection> {
    if let Some(tag) = script_language(text) {
        return Some(Detection {
            tag: tag.to_string(),
            confidence: 1.0,
            reliable: true,
        });
    }
    let allowed_bases: Vec<String> = allowed.iter().map(|tag| primary_subtag(tag)).collect();
    let allowlist: Vec<Lang> = Lang::all()
        .iter()
        .copied()
        .filter(|lang| allowed_bases.iter().any(|base| base == whatlang_tag(*lang)))
        .collect();
    if allowlist.is_empty() {
        return detect(text);
    }
    let info = whatlang::Detector::with_allowlist(allowlist).detect(text)?;
    Some(Detection {
        tag: whatlang_tag(info.lang()).to_string(),
        confidence: info.confidence(),
        reliable: info.is_reliable(),
    })
}

/// Decides the language from the script alone for the scripts that identify one language
/// (kana, Hangul, Han); `None` for every other text. The detectors' confidence cannot tell this
/// case apart: `whatlang` also reports full confidence for some Latin-script guesses.
pub fn script_language(text: &str) -> Option<&'static str> {
    let mut kana = 0usize;
    let mut hangul = 0usize;
    let mut han = 0usize;
    let mut letters = 0usize;
    for character in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        match character as u32 {
            0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => kana += 1,
            0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => hangul += 1,
            0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2FFFF | 0xF900..=0xFAFF => han += 1,
            _ => {}
        }
    }
    if letters == 0 {
        return None;
    }
    // Official pages in these languages keep place names and links in Latin letters: the script
    // decides when at least a fifth of the letters (or 20 of them) are East Asian.
    let east_asian = kana + hangul + han;
    if east_asian == 0 || (east_asian * 5 < letters && east_asian < 20) {
        return None;
    }
    if hangul > 0 && hangul >= kana {
        Some("ko")
    } else if kana > 0 {
        Some("ja")
    } else if han > 0 {
        Some("zh")
    } else {
        None
    }
}

/// The BCP 47 tag (ISO 639-1 where one exists) of a `whatlang` language.
pub fn whatlang_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    }
}

/// Whether a language (BCP 47 tag) is written in this script, as far as `whatlang` knows it:
/// Hindi is written in Devanagari, so a Hindi message in Latin letters is romanised.
pub fn written_in(tag: &str, script: Script) -> bool {
    let base = primary_subtag(tag);
    script
        .langs()
        .iter()
        .any(|lang| whatlang_tag(*lang) == base)
}

/// The writing system of a text, as `whatlang` sees it (used by callers that combine the script
/// with other evidence, such as the citizen's previous language).
pub fn script_of(text: &str) -> Option<Script> {
    whatlang::detect_script(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_which_languages_a_script_writes() {
        assert!(written_in("es", Script::Latin));
        assert!(written_in("tl", Script::Latin));
        assert!(!written_in("hi", Script::Latin));
        assert!(!written_in("bn", Script::Latin));
        assert!(written_in("hi", Script::Devanagari));
        assert!(written_in("ru", Script::Cyrillic));
    }

    #[test]
    fn normalizes_case_and_separators() {
        assert_eq!(normalize_tag("en").unwrap(), "en");
        assert_eq!(normalize_tag("zh-hans").unwrap(), "zh-Hans");
        assert_eq!(normalize_tag("pt_br").unwrap(), "pt-BR");
        assert_eq!(normalize_tag("es-419").unwrap(), "es-419");
        assert_eq!(normalize_tag(" ypk ").unwrap(), "ypk");
    }

    #[test]
    fn rejects_what_is_not_a_tag() {
        assert!(normalize_tag("").is_err());
        assert!(normalize_tag("english").is_err());
        assert!(normalize_tag("e").is_err());
        assert!(normalize_tag("en--us").is_err());
        assert!(normalize_tag("en-ü").is_err());
    }

    #[test]
    fn stemmers_exist_for_supported_languages_only() {
        assert!(stemmer_language("pt-BR").is_some());
        assert!(stemmer_language("es").is_some());
        assert!(stemmer_language("ja").is_none());
        assert!(stemmer_language("hi").is_none());
        assert_eq!(stemmed_field_key("nb"), Some("no"));
        assert_eq!(stemmed_field_key("vi"), None);
    }

    #[test]
    fn detects_languages_by_text_and_script() {
        let cases = [
            ("How do I register to vote in my county?", "en"),
            ("¿Dónde puedo votar el día de las elecciones?", "es"),
            ("Onde fica a minha seção eleitoral para votar?", "pt"),
            ("期日前投票はどこでできますか", "ja"),
            ("我在哪里投票", "zh"),
            ("투표소는 어디에 있나요?", "ko"),
            ("मैं मतदान के लिए पंजीकरण कैसे करूँ?", "hi"),
            ("كيف أسجل للتصويت في الانتخابات؟", "ar"),
        ];
        for (text, expected) in cases {
            assert_eq!(detect(text).unwrap().tag, expected, "{text}");
        }
    }

    #[test]
    fn east_asian_pages_with_latin_names_and_links_keep_their_language() {
        let chinese = "在 Texas 登记投票。请访问 https://www.votetexas.gov/register-to-vote/index.html 了解详情。";
        assert_eq!(detect(chinese).unwrap().tag, "zh");
        let korean = "Texas에서 유권자 등록하기. https://www.votetexas.gov/register-to-vote/index.html 에서 확인하세요.";
        assert_eq!(detect(korean).unwrap().tag, "ko");
        let english = "Register to vote in Texas. The form is also available in 中文.";
        assert_eq!(detect(english).unwrap().tag, "en");
    }

    #[test]
    fn detection_among_allowed_languages_stays_among_them() {
        let allowed = vec!["en".to_string(), "es".to_string(), "ja".to_string()];
        assert_eq!(
            detect_among("can I vote by whatsapp", &allowed)
                .unwrap()
                .tag,
            "en"
        );
        assert_eq!(detect_among("donde voto", &allowed).unwrap().tag, "es");
        assert_eq!(detect_among("投票所はどこ", &allowed).unwrap().tag, "ja");
    }

    #[test]
    fn detects_nothing_without_letters() {
        assert!(detect("123 456 !!!").is_none());
        assert!(detect("").is_none());
    }
}
