//! Which jurisdiction a question names. The candidates are the jurisdictions of the indexed
//! documents (from the manifest); a question names one when the jurisdiction's words occur in it
//! as whole words after normalisation ("how do I register in texas" names "Texas"). When several
//! match, the longest wins ("West Virginia" over "Virginia").

use crate::text::{contains_phrase, normalize_phrase};

/// Recognises the jurisdictions a corpus covers.
#[derive(Debug, Clone, Default)]
pub struct JurisdictionMatcher {
    /// (normalised name, name as written), longest names first.
    names: Vec<(String, String)>,
}

impl JurisdictionMatcher {
    /// A matcher for these jurisdictions.
    pub fn new(jurisdictions: &[String]) -> Self {
        let mut names: Vec<(String, String)> = jurisdictions
            .iter()
            .map(|name| (normalize_phrase(name), name.clone()))
            .filter(|(normalized, _)| !normalized.is_empty())
            .collect();
        names.sort_by(|a, b| {
            b.0.chars()
                .count()
                .cmp(&a.0.chars().count())
                .then(a.0.cmp(&b.0))
        });
        JurisdictionMatcher { names }
    }

    /// How many jurisdictions the corpus has.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the corpus has no jurisdictions.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The jurisdiction a question names, as written in the corpus.
    pub fn find(&self, question: &str) -> Option<&str> {
        let normalized = normalize_phrase(question);
        self.names
            .iter()
            .find(|(name, _)| contains_phrase(&normalized, name))
            .map(|(_, written)| written.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_longest_named_jurisdiction() {
        let matcher = JurisdictionMatcher::new(&[
            "Virginia".to_string(),
            "West Virginia".to_string(),
            "Texas".to_string(),
        ]);
        assert_eq!(matcher.find("How do I register in TEXAS?"), Some("Texas"));
        assert_eq!(
            matcher.find("voter id in west virginia"),
            Some("West Virginia")
        );
        assert_eq!(
            matcher.find("¿Cómo me registro en Virginia?"),
            Some("Virginia")
        );
        assert_eq!(matcher.find("Texasville"), None);
        assert_eq!(matcher.find("where do I vote"), None);
    }
}
