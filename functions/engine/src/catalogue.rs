//! The message catalogue: every canned text the bot sends (menu, no answer, refusal, opt-out
//! confirmation...), per language, kept as data in `data/messages/<lang>.toml` and compiled into
//! the binary. A message missing in a language falls back to English; `{placeholders}` are filled
//! by [`Catalogue::render`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use votecheck_index::language::primary_subtag;

use crate::EngineError;

/// The languages with a message file, and the files' contents.
pub(crate) const MESSAGE_FILES: &[(&str, &str)] = &[
    ("en", include_str!("../data/messages/en.toml")),
    ("es", include_str!("../data/messages/es.toml")),
    ("pt", include_str!("../data/messages/pt.toml")),
    ("fr", include_str!("../data/messages/fr.toml")),
    ("ja", include_str!("../data/messages/ja.toml")),
    ("zh", include_str!("../data/messages/zh.toml")),
    ("ko", include_str!("../data/messages/ko.toml")),
    ("hi", include_str!("../data/messages/hi.toml")),
    ("ar", include_str!("../data/messages/ar.toml")),
    ("vi", include_str!("../data/messages/vi.toml")),
    ("tl", include_str!("../data/messages/tl.toml")),
    ("ru", include_str!("../data/messages/ru.toml")),
];

pub(crate) const LANGUAGE_NAMES: &str = include_str!("../data/messages/language-names.toml");

/// The fallback language of the catalogue.
pub const FALLBACK_LANGUAGE: &str = "en";

#[derive(Deserialize)]
struct MessageFile {
    language_name: String,
    messages: BTreeMap<String, String>,
}

/// Messages of every language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    messages: BTreeMap<String, BTreeMap<String, String>>,
    own_names: BTreeMap<String, String>,
    language_names: BTreeMap<String, BTreeMap<String, String>>,
}

impl Catalogue {
    /// The catalogue bundled with the engine (see [`crate::compiled`]).
    pub fn load() -> Result<Self, EngineError> {
        Ok(crate::compiled::EngineData::bundled()?.catalogue)
    }

    /// Reads every message file.
    pub fn compile() -> Result<Self, EngineError> {
        let mut messages = BTreeMap::new();
        let mut own_names = BTreeMap::new();
        for (language, text) in MESSAGE_FILES {
            let file: MessageFile =
                crate::parse_data_file(&format!("data/messages/{language}.toml"), text)?;
            own_names.insert(language.to_string(), file.language_name);
            messages.insert(language.to_string(), file.messages);
        }
        let language_names: BTreeMap<String, BTreeMap<String, String>> =
            crate::parse_data_file("data/messages/language-names.toml", LANGUAGE_NAMES)?;
        Ok(Catalogue {
            messages,
            own_names,
            language_names,
        })
    }

    /// The languages the catalogue has messages for.
    pub fn languages(&self) -> Vec<String> {
        let mut languages: Vec<String> = self.messages.keys().cloned().collect();
        languages.sort();
        languages
    }

    /// Whether the catalogue speaks a language (by primary subtag).
    pub fn supports(&self, language: &str) -> bool {
        self.messages.contains_key(&primary_subtag(language))
    }

    /// A message in a language (English when that language lacks it), placeholders untouched.
    pub fn message<'a>(&'a self, language: &str, key: &'a str) -> &'a str {
        let base = primary_subtag(language);
        self.messages
            .get(&base)
            .and_then(|messages| messages.get(key))
            .or_else(|| {
                self.messages
                    .get(FALLBACK_LANGUAGE)
                    .and_then(|messages| messages.get(key))
            })
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// A message with its `{placeholders}` filled in.
    pub fn render(&self, language: &str, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.message(language, key).to_string();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// The name of `language` as written in `reply_language` ("Spanish", "espagnol", "スペイン語").
    pub fn language_name(&self, language: &str, reply_language: &str) -> String {
        let base = primary_subtag(language);
        self.language_names
            .get(&primary_subtag(reply_language))
            .and_then(|names| names.get(&base))
            .or_else(|| {
                self.language_names
                    .get(FALLBACK_LANGUAGE)
                    .and_then(|names| names.get(&base))
            })
            .cloned()
            .or_else(|| self.own_names.get(&base).cloned())
            .unwrap_or(base)
    }

    /// The keys English defines (every other language should define the same).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.messages[FALLBACK_LANGUAGE].keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The keys a language lacks or whose placeholders differ from English (for tests).
    pub fn problems(&self, language: &str) -> Vec<String> {
        let english = &self.messages[FALLBACK_LANGUAGE];
        let Some(own) = self.messages.get(language) else {
            return vec![format!("no messages for {language}")];
        };
        let mut problems = Vec::new();
        for (key, text) in english {
            match own.get(key) {
                None => problems.push(format!("{language}: missing `{key}`")),
                Some(translated) if placeholders(translated) != placeholders(text) => problems
                    .push(format!(
                        "{language}: `{key}` has placeholders {:?}, English has {:?}",
                        placeholders(translated),
                        placeholders(text)
                    )),
                Some(_) => {}
            }
        }
        problems.sort();
        problems
    }
}

fn placeholders(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_message_with_the_same_placeholders() {
        let catalogue = Catalogue::load().unwrap();
        assert_eq!(catalogue.languages().len(), MESSAGE_FILES.len());
        for language in catalogue.languages() {
            assert_eq!(catalogue.problems(&language), Vec::<String>::new());
        }
    }

    #[test]
    fn renders_placeholders_and_falls_back_to_english() {
        let catalogue = Catalogue::load().unwrap();
        let text = catalogue.render("es", "fact_check_verdict", &[("verdict", "Falso")]);
        assert!(text.contains("*Falso*"), "{text}");
        assert!(!text.contains('{'));
        assert_eq!(
            catalogue.message("de", "no_answer"),
            catalogue.message("en", "no_answer")
        );
        assert_eq!(
            catalogue.message("pt-BR", "no_answer"),
            catalogue.message("pt", "no_answer")
        );
    }

    #[test]
    fn interactive_labels_fit_whatsapp_limits() {
        let catalogue = Catalogue::load().unwrap();
        for language in catalogue.languages() {
            for (key, limit) in [
                ("menu_button", 20),
                ("menu_section", 24),
                ("feedback_yes", 20),
                ("feedback_no", 20),
            ] {
                let text = catalogue.message(&language, key);
                assert!(text.chars().count() <= limit, "{language} {key}: {text}");
            }
        }
    }

    #[test]
    fn names_languages_in_the_reply_language() {
        let catalogue = Catalogue::load().unwrap();
        assert_eq!(catalogue.language_name("es", "en"), "Spanish");
        assert_ne!(catalogue.language_name("en", "ja"), "English");
    }
}
