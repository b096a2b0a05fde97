//! Whether a fact-check's `claimReviewed` is the claim that circulated or the fact-checker's own
//! conclusion.
//!
//! Publishers often fill `claimReviewed` with their headline, which states the verdict ("Não é
//! verdade que a urna eletrônica pode ser hackeada", "It is false that you can vote by text").
//! Rendered as "Claim: … / Verdict: False" such a text reads as the opposite of the fact-check.
//! [`ClaimForm::of`] tells the two apart: a claim equal to the fact-check's headline, or opening
//! with a conclusion phrase of any language (`data/conclusions.toml`), is a
//! [`ClaimForm::Conclusion`], and the reply presents it as the fact-checkers' conclusion.
//!
//! ```
//! use votecheck_engine::claim_form::ClaimForm;
//! assert_eq!(ClaimForm::of("É falso que urnas registraram votos antes da eleição", None), ClaimForm::Conclusion);
//! assert_eq!(ClaimForm::of("Urnas registraram votos antes da eleição", None), ClaimForm::Claim);
//! ```

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::text::normalize_phrase;

const CONCLUSIONS_FILE: &str = include_str!("../data/conclusions.toml");

/// What a fact-check's claim text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimForm {
    /// The claim as it circulated ("Voting machines are connected to the internet").
    Claim,
    /// The fact-checker's conclusion ("It is false that voting machines are online").
    Conclusion,
}

#[derive(Deserialize)]
struct Conclusions {
    prefixes: BTreeMap<String, Vec<String>>,
}

/// An opening, ready to compare.
enum Opening {
    /// Normalised words.
    Words(String),
    /// Normalised words that must be followed by a colon.
    Labelled(String),
}

/// Every language's conclusion openings.
fn openings() -> &'static [Opening] {
    static OPENINGS: OnceLock<Vec<Opening>> = OnceLock::new();
    OPENINGS.get_or_init(|| {
        // The file is compiled in and parsed by a test; a parse failure here cannot happen in a
        // released binary, and would only make every claim a claim.
        let parsed: Conclusions = toml::from_str(CONCLUSIONS_FILE).unwrap_or(Conclusions {
            prefixes: BTreeMap::new(),
        });
        parsed
            .prefixes
            .values()
            .flatten()
            .filter_map(|prefix| {
                let trimmed = prefix.trim();
                let words = normalize_phrase(trimmed.trim_end_matches(':'));
                if words.is_empty() {
                    None
                } else if trimmed.ends_with(':') {
                    Some(Opening::Labelled(words))
                } else {
                    Some(Opening::Words(words))
                }
            })
            .collect()
    })
}

/// Whether `normalized` starts with the words `prefix` (whole words, or anywhere in a script
/// without spaces).
fn starts_with_words(normalized: &str, prefix: &str) -> bool {
    normalized == prefix
        || normalized.strip_prefix(prefix).is_some_and(|rest| {
            rest.starts_with(' ') || prefix.chars().any(crate::text::is_spaceless_script)
        })
}

/// The text up to its first colon (full-width too), normalised, if it has one early on.
fn label(claim: &str) -> Option<String> {
    let end = claim.find([':', '：'])?;
    let before = &claim[..end];
    (before.chars().count() <= 40).then(|| normalize_phrase(before))
}

impl ClaimForm {
    /// The form of `claim`, given the fact-check's `headline`.
    pub fn of(claim: &str, headline: Option<&str>) -> ClaimForm {
        let normalized = normalize_phrase(claim);
        if normalized.is_empty() {
            return ClaimForm::Claim;
        }
        if headline.is_some_and(|headline| normalize_phrase(headline) == normalized) {
            return ClaimForm::Conclusion;
        }
        let label = label(claim);
        let opens_with = |opening: &Opening| match opening {
            Opening::Words(words) => starts_with_words(&normalized, words),
            Opening::Labelled(words) => label.as_deref() == Some(words.as_str()),
        };
        if openings().iter().any(opens_with) {
            ClaimForm::Conclusion
        } else {
            ClaimForm::Claim
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses_and_every_language_has_openings() {
        let parsed: Conclusions = toml::from_str(CONCLUSIONS_FILE).unwrap();
        for language in [
            "pt", "es", "en", "fr", "ru", "vi", "tl", "ja", "zh", "ko", "hi", "ar",
        ] {
            assert!(!parsed.prefixes[language].is_empty(), "{language}");
        }
    }

    #[test]
    fn conclusions_are_told_from_claims_in_several_languages() {
        for conclusion in [
            "Não é verdade que a urna eletrônica pode ser hackeada",
            "nao e verdade q a urna foi fraudada",
            "É falso que eleitores precisam de título para votar",
            "Boato: mesários apagam votos",
            "FALSO: a eleição foi adiada",
            "Es falso que se pueda votar por WhatsApp",
            "It is false that ballots marked in pencil are erased",
            "Faux : le vote par SMS n'existe pas",
            "誤り：投票はネットでできる",
        ] {
            assert_eq!(
                ClaimForm::of(conclusion, None),
                ClaimForm::Conclusion,
                "{conclusion}"
            );
        }
        for claim in [
            "A urna eletrônica pode ser hackeada pela internet",
            "You can vote by text message",
            "Nobody counts mail ballots unless the race is close",
            "Falsos mesários estão apagando votos",
            "Boatos dizem que a urna foi trocada",
            "Se puede votar por WhatsApp",
            "Falso mesário apaga votos na urna",
            "No ID is needed to vote this year",
            "Não há como auditar a urna eletrônica",
            "Fake ballots were found in a warehouse",
        ] {
            assert_eq!(ClaimForm::of(claim, None), ClaimForm::Claim, "{claim}");
        }
    }

    #[test]
    fn a_claim_equal_to_the_headline_is_the_checkers_conclusion() {
        let headline = "Urnas de Cordeiro não tinham votos registrados antes da eleição";
        assert_eq!(
            ClaimForm::of(headline, Some(headline)),
            ClaimForm::Conclusion
        );
        assert_eq!(
            ClaimForm::of("Urnas tinham votos antes da eleição", Some(headline)),
            ClaimForm::Claim
        );
        assert_eq!(ClaimForm::of("", Some("")), ClaimForm::Claim);
    }
}
