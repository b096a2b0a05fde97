//! The alert file: what an election authority writes to send one alert, read by
//! [`Alert::parse`] and checked before anything else happens. Every problem is reported at once,
//! each with the file and the field (`templates.es.parameters`), never a panic. The format is
//! documented in `docs/alerts.md`.
//!
//! ```
//! use votecheck_alerts::Alert;
//!
//! let alert = Alert::parse(
//!     "deadline.toml",
//!     r#"
//!         id = "registration-deadline"
//!         topic = "deadlines"
//!         [templates.en]
//!         name = "registration_deadline"
//!         language = "en_US"
//!         parameters = ["October 19"]
//!         body = "Register to vote by {{1}}."
//!     "#,
//!     &["en".to_string(), "es".to_string()],
//! )
//! .unwrap();
//! assert_eq!(alert.templates["en"].preview(), "Register to vote by October 19.");
//!
//! let problem = Alert::parse("bad.toml", "id = \"x\"\ntopic = \"weather\"", &[]).unwrap_err();
//! assert!(problem.to_string().contains("topic"));
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use votecheck_outbound::Template;
use votecheck_outbound::limits::MAX_TEMPLATE_BODY;
use votecheck_store::subscription::validate_jurisdiction;
use votecheck_store::{StoreError, Topic};

/// Why an alert file was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlertError {
    /// Not TOML, or not the alert format (an unknown or missing field, a wrong type).
    #[error("{file}: {message}")]
    Syntax {
        /// The file, as given.
        file: String,
        /// What the TOML reader said, with the line and column.
        message: String,
    },
    /// Well-formed, but breaks a rule.
    #[error("{file}: {}", .problems.iter().map(|(field, problem)| format!("{field}: {problem}")).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The file, as given.
        file: String,
        /// Each problem: the field, and what is wrong with it.
        problems: Vec<(String, String)>,
    },
}

/// One alert, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Its id: sending the same id twice sends nothing new.
    pub id: String,
    /// What it is about: only subscribers of this topic receive it.
    pub topic: Topic,
    /// When to send it (`None`: when `votecheck alerts send` runs).
    pub send_at: Option<jiff::Timestamp>,
    /// The jurisdictions whose subscribers receive it; empty: every subscriber of the topic.
    pub jurisdictions: Vec<String>,
    /// The template to send per language (the citizen's language, a primary subtag such as
    /// `es`): only subscribers in these languages receive it.
    pub templates: BTreeMap<String, AlertTemplate>,
    /// The price per message, when the file gives one.
    pub prices: Option<Prices>,
}

/// The WhatsApp message template of one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertTemplate {
    /// The template as it is sent: name, WhatsApp language code, body parameters.
    pub template: Template,
    /// The approved body text with `{{1}}`, `{{2}}`… placeholders, when the file gives it (for
    /// previews without the Cloud API).
    pub body: Option<String>,
}

impl AlertTemplate {
    /// The message as the citizen will read it: the body with its parameters filled in, or,
    /// without a body, the template's name, language and parameters.
    pub fn preview(&self) -> String {
        match &self.body {
            Some(body) => fill(body, &self.template.body_parameters),
            None => format!(
                "[template {} ({})] {}",
                self.template.name,
                self.template.language,
                self.template.body_parameters.join(" | ")
            ),
        }
    }

    /// The text that may go instead of the template inside a citizen's 24-hour window: the
    /// body with its parameters, when the file gives the body (without it, only the template
    /// can be sent).
    pub fn free_form(&self) -> Option<String> {
        self.body
            .as_ref()
            .map(|body| fill(body, &self.template.body_parameters))
    }
}

/// Per-message prices, as the file states them (votecheck knows no prices of its own: they
/// depend on the country, the category and the business's agreement with Meta).
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    /// The currency of the amounts (ISO 4217, e.g. `USD`).
    pub currency: String,
    /// The price of one message per alert language.
    pub per_message: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlert {
    id: String,
    topic: String,
    send_at: Option<String>,
    #[serde(default)]
    audience: RawAudience,
    #[serde(default)]
    templates: BTreeMap<String, RawTemplate>,
    prices: Option<RawPrices>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAudience {
    #[serde(default)]
    jurisdictions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    name: String,
    language: String,
    #[serde(default)]
    parameters: Vec<String>,
    body: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrices {
    currency: String,
    per_message: BTreeMap<String, f64>,
}

/// The longest alert id.
const MAX_ID_CHARS: usize = 64;

impl Alert {
    /// Reads and checks an alert file's text. `file` names it in errors; `languages` are the
    /// languages the deployment speaks (primary subtags), which the templates' languages must be
    /// among.
    pub fn parse(file: &str, text: &str, languages: &[String]) -> Result<Alert, AlertError> {
        let raw: RawAlert = toml::from_str(text).map_err(|problem| AlertError::Syntax {
            file: file.to_owned(),
            message: problem.to_string().trim().replace('\n', " "),
        })?;
        let mut problems: Vec<(String, String)> = Vec::new();
        let mut problem = |field: String, text: String| problems.push((field, text));

        let id_valid = (1..=MAX_ID_CHARS).contains(&raw.id.len())
            && raw.id.bytes().all(|byte| {
                byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_'
            });
        if !id_valid {
            problem(
                "id".into(),
                format!("must be 1 to {MAX_ID_CHARS} lower-case letters, digits, '-' or '_'"),
            );
        }
        let topic = Topic::parse(&raw.topic);
        if topic.is_none() {
            let known: Vec<&str> = Topic::ALL.iter().map(|topic| topic.as_str()).collect();
            problem(
                "topic".into(),
                format!("{:?} is not one of {}", raw.topic, known.join(", ")),
            );
        }
        let send_at = raw.send_at.as_deref().and_then(|text| {
            text.parse::<jiff::Timestamp>()
                .map_err(|error| {
                    problem(
                        "send_at".into(),
                        format!("{text:?} is not a time such as 2026-10-01T09:00:00Z ({error})"),
                    )
                })
                .ok()
        });
        let mut seen = BTreeSet::new();
        for (index, jurisdiction) in raw.audience.jurisdictions.iter().enumerate() {
            let field = format!("audience.jurisdictions[{index}]");
            if let Err(StoreError::InvalidInput { expected, .. }) =
                validate_jurisdiction(jurisdiction)
            {
                problem(field, format!("must be {expected}"));
            } else if !seen.insert(jurisdiction) {
                problem(field, format!("{jurisdiction:?} is listed twice"));
            }
        }
        if raw.templates.is_empty() {
            problem(
                "templates".into(),
                "there is no template: give at least one, as [templates.<language>]".into(),
            );
        }
        let mut templates = BTreeMap::new();
        for (language, raw_template) in raw.templates {
            let field = |name: &str| format!("templates.{language}.{name}");
            if !languages.contains(&language) {
                problem(
                    format!("templates.{language}"),
                    format!(
                        "{language:?} is not a language this deployment speaks ({})",
                        languages.join(", ")
                    ),
                );
            }
            let template = Template {
                name: raw_template.name,
                language: raw_template.language,
                body_parameters: raw_template.parameters,
            };
            if let Err(limit) = template.check() {
                let name = match limit.field {
                    "template name" => "name",
                    "template language" => "language",
                    _ => "parameters",
                };
                problem(field(name), limit.reason);
            } else if template.language.split('_').next() != Some(language.as_str()) {
                problem(
                    field("language"),
                    format!(
                        "{} is not a code of {language:?} (such as {language} or {language}_XX)",
                        template.language
                    ),
                );
            }
            if let Some(body) = &raw_template.body {
                match placeholders(body) {
                    Err(message) => problem(field("body"), message),
                    Ok(count) if count != template.body_parameters.len() => problem(
                        field("parameters"),
                        format!(
                            "the body has {count} placeholder(s) ({{{{1}}}}…) but {} parameter(s) are given",
                            template.body_parameters.len()
                        ),
                    ),
                    Ok(_) => {
                        let length = fill(body, &template.body_parameters).chars().count();
                        if length > MAX_TEMPLATE_BODY {
                            problem(
                                field("parameters"),
                                format!(
                                    "the body with its parameters is {length} characters, WhatsApp allows {MAX_TEMPLATE_BODY}"
                                ),
                            );
                        }
                    }
                }
            }
            templates.insert(
                language,
                AlertTemplate {
                    template,
                    body: raw_template.body,
                },
            );
        }
        let prices = raw.prices.map(|raw_prices| {
            let currency_valid = raw_prices.currency.len() == 3
                && raw_prices
                    .currency
                    .bytes()
                    .all(|byte| byte.is_ascii_uppercase());
            if !currency_valid {
                problem(
                    "prices.currency".into(),
                    format!(
                        "{:?} is not an ISO 4217 code such as USD or BRL",
                        raw_prices.currency
                    ),
                );
            }
            for (language, price) in &raw_prices.per_message {
                let field = format!("prices.per_message.{language}");
                if !templates.contains_key(language) {
                    problem(field, "there is no template in this language".into());
                } else if !price.is_finite() || *price < 0.0 {
                    problem(field, format!("{price} is not a price"));
                }
            }
            Prices {
                currency: raw_prices.currency,
                per_message: raw_prices.per_message,
            }
        });
        match topic {
            Some(topic) if problems.is_empty() => Ok(Alert {
                id: raw.id,
                topic,
                send_at,
                jurisdictions: raw.audience.jurisdictions,
                templates,
                prices,
            }),
            _ => Err(AlertError::Invalid {
                file: file.to_owned(),
                problems,
            }),
        }
    }
}

/// How many parameters a body takes: its placeholders must be `{{1}}` to `{{n}}`, each at least
/// once (WhatsApp numbers them in order, without gaps).
pub(crate) fn placeholders(body: &str) -> Result<usize, String> {
    let mut numbers = BTreeSet::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err("a '{{' is not closed by '}}'".into());
        };
        let inside = after[..end].trim();
        match inside.parse::<usize>() {
            Ok(number) if number >= 1 => {
                numbers.insert(number);
            }
            _ => {
                return Err(format!(
                    "{{{{{inside}}}}} is not a placeholder such as {{{{1}}}}"
                ));
            }
        }
        rest = &after[end + 2..];
    }
    let count = numbers.len();
    if numbers.iter().copied().ne(1..=count) {
        return Err(format!(
            "the placeholders must be {{{{1}}}} to {{{{{count}}}}} without gaps"
        ));
    }
    Ok(count)
}

/// The body with `{{n}}` replaced by the n-th parameter.
fn fill(body: &str, parameters: &[String]) -> String {
    let mut filled = body.to_owned();
    for (index, parameter) in parameters.iter().enumerate() {
        filled = filled.replace(&format!("{{{{{}}}}}", index + 1), parameter);
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;

    fn languages() -> Vec<String> {
        ["en", "es", "pt"].iter().map(|l| l.to_string()).collect()
    }

    const GOOD: &str = r#"
        id = "registration-deadline-2026"
        topic = "deadlines"
        send_at = "2026-10-01T09:00:00Z"

        [audience]
        jurisdictions = ["Riverside County"]

        [templates.en]
        name = "registration_deadline"
        language = "en_US"
        parameters = ["October 19", "https://vote.example/register"]
        body = "Register to vote by {{1}}: {{2}}"

        [templates.es]
        name = "registration_deadline"
        language = "es_MX"
        parameters = ["19 de octubre", "https://vote.example/es"]

        [prices]
        currency = "USD"
        per_message = { en = 0.025, es = 0.025 }
    "#;

    fn problems(text: &str) -> Vec<(String, String)> {
        match Alert::parse("alert.toml", text, &languages()) {
            Err(AlertError::Invalid { problems, .. }) => problems,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    fn fields(text: &str) -> Vec<String> {
        problems(text).into_iter().map(|(field, _)| field).collect()
    }

    #[test]
    fn a_good_file_is_read_whole() {
        let alert = Alert::parse("alert.toml", GOOD, &languages()).unwrap();
        assert_eq!(alert.topic, Topic::Deadlines);
        assert_eq!(alert.jurisdictions, vec!["Riverside County".to_string()]);
        assert_eq!(alert.send_at.unwrap().to_string(), "2026-10-01T09:00:00Z");
        assert_eq!(
            alert.templates["en"].preview(),
            "Register to vote by October 19: https://vote.example/register"
        );
        assert!(
            alert.templates["es"]
                .preview()
                .contains("registration_deadline (es_MX)")
        );
        assert_eq!(alert.prices.unwrap().per_message["es"], 0.025);
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        let cases: Vec<(String, &str)> = vec![
            (GOOD.replace("\"deadlines\"", "\"weather\""), "topic"),
            (
                GOOD.replace("registration-deadline-2026", "Deadline 2026"),
                "id",
            ),
            (
                GOOD.replace("2026-10-01T09:00:00Z", "next monday"),
                "send_at",
            ),
            (
                GOOD.replace("[templates.es]", "[templates.fr]"),
                "templates.fr",
            ),
            (
                GOOD.replace("\"es_MX\"", "\"pt_BR\""),
                "templates.es.language",
            ),
            (
                GOOD.replace("\"en_US\"", "\"english\""),
                "templates.en.language",
            ),
            (
                GOOD.replace(
                    "name = \"registration_deadline\"\n        language = \"en_US\"",
                    "name = \"Registration Deadline\"\n        language = \"en_US\"",
                ),
                "templates.en.name",
            ),
            (
                GOOD.replace(
                    "[\"October 19\", \"https://vote.example/register\"]",
                    "[\"October 19\"]",
                ),
                "templates.en.parameters",
            ),
            (
                GOOD.replace("\"19 de octubre\"", "\"19 de\\noctubre\""),
                "templates.es.parameters",
            ),
            (GOOD.replace("{{2}}", "{{3}}"), "templates.en.body"),
            (GOOD.replace("\"USD\"", "\"dollars\""), "prices.currency"),
            (
                GOOD.replace("es = 0.025 }", "es = -1.0 }"),
                "prices.per_message.es",
            ),
            (
                GOOD.replace(
                    "[\"Riverside County\"]",
                    "[\"Riverside County\", \"Riverside County\"]",
                ),
                "audience.jurisdictions[1]",
            ),
        ];
        for (text, field) in cases {
            let found = fields(&text);
            assert!(found.contains(&field.to_string()), "{field}: {found:?}");
        }
        // A body over WhatsApp's 1,024 characters once filled in.
        let long = GOOD.replace("\"October 19\"", &format!("\"{}\"", "x".repeat(1_020)));
        assert_eq!(fields(&long), vec!["templates.en.parameters".to_string()]);
        // Several problems are reported together.
        let both = GOOD
            .replace("\"deadlines\"", "\"weather\"")
            .replace("\"USD\"", "\"usd\"");
        assert_eq!(
            fields(&both),
            vec!["topic".to_string(), "prices.currency".to_string()]
        );
    }

    #[test]
    fn not_the_format_is_a_syntax_error_with_its_place() {
        for text in [
            "id = \"x\"\ntopic = ",
            "id = \"x\"\ntopic = \"deadlines\"\ncolour = \"red\"",
            "topic = \"deadlines\"",
        ] {
            let error = Alert::parse("alert.toml", text, &languages()).unwrap_err();
            assert!(matches!(error, AlertError::Syntax { .. }), "{error}");
            assert!(error.to_string().starts_with("alert.toml: "), "{error}");
        }
        assert_eq!(
            fields("id = \"x\"\ntopic = \"deadlines\""),
            vec!["templates".to_string()]
        );
    }

    #[test]
    fn placeholders_are_counted_in_order_without_gaps() {
        assert_eq!(placeholders("no parameters"), Ok(0));
        assert_eq!(placeholders("{{1}} and {{2}} and {{1}}"), Ok(2));
        assert!(placeholders("{{2}} only").is_err());
        assert!(placeholders("{{name}}").is_err());
        assert!(placeholders("{{1} unclosed").is_err());
        assert_eq!(
            fill("{{1}}-{{2}}-{{1}}", &["a".into(), "b".into()]),
            "a-b-a"
        );
    }
}
