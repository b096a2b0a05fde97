//! [`OutboundContent`]: one message to one citizen, as votecheck builds it (the engine's reply,
//! a notice, an alert) and as the Graph API client sends it, and [`OutboundContent::check`],
//! which refuses what WhatsApp would refuse, naming the field.
//!
//! ```
//! use votecheck_outbound::{Button, OutboundContent};
//!
//! let reply = OutboundContent::Buttons {
//!     body: "Polls are open from 7 a.m. to 8 p.m.".into(),
//!     buttons: vec![Button::new("feedback:yes", "Helpful")],
//! };
//! assert!(reply.check().is_ok());
//! assert_eq!(reply.body(), Some("Polls are open from 7 a.m. to 8 p.m."));
//!
//! let too_many = OutboundContent::Buttons {
//!     body: "Pick one".into(),
//!     buttons: (0..4).map(|n| Button::new(format!("b{n}"), "Choice")).collect(),
//! };
//! assert_eq!(too_many.check().unwrap_err().field, "buttons");
//! ```

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::limits::*;

/// A reply button: the id comes back in the webhook's `button_reply` when tapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// Sent back when the citizen taps it (at most [`MAX_BUTTON_ID`] characters).
    pub id: String,
    /// Shown on the button (at most [`MAX_BUTTON_TITLE`] characters).
    pub title: String,
}

impl Button {
    /// A button with this id and title.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Button {
            id: id.into(),
            title: title.into(),
        }
    }
}

/// A list row: the id comes back in the webhook's `list_reply` when chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    /// Sent back when the citizen chooses it (at most [`MAX_ROW_ID`] characters).
    pub id: String,
    /// The row's title (at most [`MAX_ROW_TITLE`] characters).
    pub title: String,
    /// An optional second line (at most [`MAX_ROW_DESCRIPTION`] characters).
    pub description: Option<String>,
}

/// A message template approved for the business account: the only kind of message WhatsApp
/// lets a business send outside the citizen's 24-hour window. Its text is held by WhatsApp;
/// votecheck names it and fills its body's parameters (`{{1}}`, `{{2}}`, … in order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// The template's name (lower-case letters, digits and `_`).
    pub name: String,
    /// The language (and locale) it was approved in, as WhatsApp codes it: `en`, `en_US`,
    /// `pt_BR`, `es_MX`.
    pub language: String,
    /// The body's parameters, in order.
    pub body_parameters: Vec<String>,
}

/// One message to one citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboundContent {
    /// A text message.
    Text {
        /// The text (at most [`MAX_TEXT_BODY`] characters).
        body: String,
    },
    /// A text with 1 to [`MAX_BUTTONS`] reply buttons.
    Buttons {
        /// The text (at most [`MAX_INTERACTIVE_BODY`] characters).
        body: String,
        /// The buttons, ids unique.
        buttons: Vec<Button>,
    },
    /// A text with a list of 1 to [`MAX_LIST_ROWS`] rows in one section, opened by a button.
    List {
        /// The text (at most [`MAX_INTERACTIVE_BODY`] characters).
        body: String,
        /// The label of the button that opens the list.
        button: String,
        /// The title above the rows.
        section_title: String,
        /// The rows, ids unique.
        rows: Vec<ListRow>,
    },
    /// A message template.
    Template(Template),
}

/// Why a message breaks WhatsApp's limits: the field and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {reason}")]
pub struct LimitError {
    /// The field, as the Cloud API names it in words (`button title`, `list rows`...).
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl OutboundContent {
    /// The text the citizen reads, when votecheck writes it (`None` for a template, whose text
    /// WhatsApp holds).
    pub fn body(&self) -> Option<&str> {
        match self {
            OutboundContent::Text { body }
            | OutboundContent::Buttons { body, .. }
            | OutboundContent::List { body, .. } => Some(body),
            OutboundContent::Template(_) => None,
        }
    }

    /// Checks the message against WhatsApp's limits ([`crate::limits`]): lengths in
    /// characters, counts, unique ids, a template's name and parameters. The first problem is
    /// returned, naming the field.
    pub fn check(&self) -> Result<(), LimitError> {
        match self {
            OutboundContent::Text { body } => check_length("text body", body, MAX_TEXT_BODY),
            OutboundContent::Buttons { body, buttons } => {
                check_length("interactive body", body, MAX_INTERACTIVE_BODY)?;
                check_count("buttons", buttons.len(), MAX_BUTTONS)?;
                for button in buttons {
                    check_length("button id", &button.id, MAX_BUTTON_ID)?;
                    check_length("button title", &button.title, MAX_BUTTON_TITLE)?;
                }
                check_unique("buttons", buttons.iter().map(|button| button.id.as_str()))
            }
            OutboundContent::List {
                body,
                button,
                section_title,
                rows,
            } => {
                check_length("interactive body", body, MAX_INTERACTIVE_BODY)?;
                check_length("list button label", button, MAX_LIST_BUTTON)?;
                check_length("list section title", section_title, MAX_SECTION_TITLE)?;
                check_count("list rows", rows.len(), MAX_LIST_ROWS)?;
                for row in rows {
                    check_length("list row id", &row.id, MAX_ROW_ID)?;
                    check_length("list row title", &row.title, MAX_ROW_TITLE)?;
                    if let Some(description) = &row.description {
                        check_length("list row description", description, MAX_ROW_DESCRIPTION)?;
                    }
                }
                check_unique("list rows", rows.iter().map(|row| row.id.as_str()))
            }
            OutboundContent::Template(template) => template.check(),
        }
    }
}

impl Template {
    /// Checks the name, the language code and each parameter (see [`OutboundContent::check`]).
    pub fn check(&self) -> Result<(), LimitError> {
        check_length("template name", &self.name, MAX_TEMPLATE_NAME)?;
        if !self
            .name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
        {
            return Err(invalid(
                "template name",
                "may hold only lower-case letters, digits and '_'",
            ));
        }
        if !is_template_language(&self.language) {
            return Err(invalid(
                "template language",
                format!(
                    "{:?} is not a WhatsApp language code such as en, en_US or pt_BR",
                    self.language
                ),
            ));
        }
        for (index, parameter) in self.body_parameters.iter().enumerate() {
            let field = "template body parameter";
            check_length(field, parameter, MAX_TEMPLATE_BODY)
                .map_err(|problem| invalid(field, format!("{} {}", index + 1, problem.reason)))?;
            if parameter.contains(['\n', '\t']) {
                return Err(invalid(
                    field,
                    format!("{} holds a new line or a tab", index + 1),
                ));
            }
            if parameter.contains(&" ".repeat(MAX_TEMPLATE_PARAMETER_SPACES + 1)) {
                return Err(invalid(
                    field,
                    format!(
                        "{} holds more than {MAX_TEMPLATE_PARAMETER_SPACES} spaces in a row",
                        index + 1
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `en`, `pt_BR`, `zh_CN`, `es_419`: a 2–3 letter language, then optionally `_` and a region.
fn is_template_language(code: &str) -> bool {
    let mut parts = code.split('_');
    let language = parts.next().unwrap_or_default();
    let region = parts.next();
    parts.next().is_none()
        && (2..=3).contains(&language.len())
        && language.bytes().all(|byte| byte.is_ascii_lowercase())
        && region.is_none_or(|region| {
            (2..=3).contains(&region.len())
                && region
                    .bytes()
                    .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
        })
}

fn invalid(field: &'static str, reason: impl Into<String>) -> LimitError {
    LimitError {
        field,
        reason: reason.into(),
    }
}

/// Non-blank and at most `max` characters.
fn check_length(field: &'static str, value: &str, max: usize) -> Result<(), LimitError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    let length = value.chars().count();
    if length > max {
        return Err(invalid(
            field,
            format!("is {length} characters, at most {max} allowed"),
        ));
    }
    Ok(())
}

fn check_count(field: &'static str, count: usize, max: usize) -> Result<(), LimitError> {
    if count == 0 || count > max {
        return Err(invalid(field, format!("{count} given, 1 to {max} allowed")));
    }
    Ok(())
}

fn check_unique<'a>(
    field: &'static str,
    ids: impl Iterator<Item = &'a str>,
) -> Result<(), LimitError> {
    let mut seen = HashSet::new();
    for (index, id) in ids.enumerate() {
        if !seen.insert(id) {
            return Err(invalid(
                field,
                format!("id at position {} is a duplicate", index + 1),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> ListRow {
        ListRow {
            id: id.into(),
            title: "Register".into(),
            description: None,
        }
    }

    fn list(rows: Vec<ListRow>) -> OutboundContent {
        OutboundContent::List {
            body: "Topics".into(),
            button: "Menu".into(),
            section_title: "Voting".into(),
            rows,
        }
    }

    fn template(name: &str, language: &str, parameters: &[&str]) -> OutboundContent {
        OutboundContent::Template(Template {
            name: name.into(),
            language: language.into(),
            body_parameters: parameters.iter().map(|p| p.to_string()).collect(),
        })
    }

    #[test]
    fn each_limit_is_enforced_at_its_boundary_in_characters() {
        let text = |n: usize| OutboundContent::Text {
            body: "é".repeat(n),
        };
        assert!(text(MAX_TEXT_BODY).check().is_ok());
        assert_eq!(
            text(MAX_TEXT_BODY + 1).check().unwrap_err().field,
            "text body"
        );
        let buttons = |title: &str| OutboundContent::Buttons {
            body: "Was this helpful?".into(),
            buttons: vec![Button::new("a", title)],
        };
        assert!(buttons(&"x".repeat(MAX_BUTTON_TITLE)).check().is_ok());
        assert_eq!(
            buttons(&"x".repeat(MAX_BUTTON_TITLE + 1))
                .check()
                .unwrap_err()
                .field,
            "button title"
        );
        assert!(
            list((0..MAX_LIST_ROWS).map(|n| row(&n.to_string())).collect())
                .check()
                .is_ok()
        );
        assert_eq!(
            list((0..=MAX_LIST_ROWS).map(|n| row(&n.to_string())).collect())
                .check()
                .unwrap_err()
                .field,
            "list rows"
        );
        assert_eq!(list(vec![]).check().unwrap_err().field, "list rows");
    }

    #[test]
    fn duplicate_ids_and_blank_fields_are_refused() {
        let problem = list(vec![row("topic:mail"), row("topic:mail")])
            .check()
            .unwrap_err();
        assert_eq!(problem.field, "list rows");
        assert!(problem.reason.contains("position 2"), "{problem}");
        let blank = OutboundContent::Buttons {
            body: "  ".into(),
            buttons: vec![Button::new("a", "A")],
        };
        assert_eq!(blank.check().unwrap_err().field, "interactive body");
    }

    #[test]
    fn a_template_is_checked_by_name_language_and_parameters() {
        assert!(
            template("registration_deadline", "pt_BR", &["5 de outubro"])
                .check()
                .is_ok()
        );
        assert!(template("election_day_2", "es_419", &[]).check().is_ok());
        for (name, language, parameters, field) in [
            ("Registration", "en", vec!["x"], "template name"),
            ("deadline", "english", vec!["x"], "template language"),
            ("deadline", "en-US", vec!["x"], "template language"),
            (
                "deadline",
                "en",
                vec!["line\nbreak"],
                "template body parameter",
            ),
            ("deadline", "en", vec!["a     b"], "template body parameter"),
            ("deadline", "en", vec![""], "template body parameter"),
        ] {
            let problem = template(name, language, &parameters).check().unwrap_err();
            assert_eq!(
                problem.field, field,
                "{name} {language} {parameters:?}: {problem}"
            );
        }
        let long = "x".repeat(MAX_TEMPLATE_BODY + 1);
        let problem = template("deadline", "en", &["ok", &long])
            .check()
            .unwrap_err();
        assert!(problem.reason.starts_with("2 "), "{problem}");
        assert_eq!(template("deadline", "en", &["x"]).body(), None);
    }

    #[test]
    fn serialises_with_a_type_tag() {
        let value = serde_json::to_value(template("deadline", "en", &["Oct 5"])).unwrap();
        assert_eq!(value["type"], "template");
        assert_eq!(value["name"], "deadline");
        let back: OutboundContent = serde_json::from_value(value).unwrap();
        assert_eq!(back, template("deadline", "en", &["Oct 5"]));
        let value = serde_json::to_value(list(vec![row("topic:mail")])).unwrap();
        assert_eq!(value["type"], "list");
        assert_eq!(value["rows"][0]["id"], "topic:mail");
    }
}
