//! The business account's message templates, as `GET /{version}/{business_account_id}/
//! message_templates` lists them: name, language, review status and body text. An alert names
//! one approved template per language; [`MessageTemplate`] is what is checked against.

use serde::Deserialize;

use crate::{GraphConfig, GraphError};

/// One template in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageTemplate {
    /// Its name.
    pub name: String,
    /// Its WhatsApp language code (`en_US`, `pt_BR`).
    pub language: String,
    /// Its review status: `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`…
    pub status: String,
    /// The text of its `BODY` component, with `{{1}}`… placeholders.
    pub body: Option<String>,
}

impl MessageTemplate {
    /// Whether WhatsApp will deliver it.
    pub fn is_approved(&self) -> bool {
        self.status.eq_ignore_ascii_case("APPROVED")
    }
}

#[derive(Deserialize)]
struct TemplateList {
    #[serde(default)]
    data: Vec<RawTemplate>,
}

#[derive(Deserialize)]
struct RawTemplate {
    name: String,
    language: String,
    status: String,
    #[serde(default)]
    components: Vec<RawComponent>,
}

#[derive(Deserialize)]
struct RawComponent {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
}

/// The URL listing the templates named `name` (names are lower-case letters, digits and `_`, so
/// nothing needs escaping; anything else is refused).
pub(crate) fn templates_url(config: &GraphConfig, name: &str) -> Result<String, GraphError> {
    let Some(account) = config.business_account_id.as_deref() else {
        return Err(GraphError::InvalidConfig(
            "reading message templates needs the business account id (WHATSAPP_BUSINESS_ACCOUNT_ID)"
                .into(),
        ));
    };
    if account.is_empty() || !account.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(GraphError::InvalidConfig(
            "the business account id must be digits".into(),
        ));
    }
    let name_valid = !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if !name_valid {
        return Err(GraphError::InvalidMessage {
            field: "template name",
            reason: "may hold only lower-case letters, digits and '_'".into(),
        });
    }
    Ok(format!(
        "{}/{}/{account}/message_templates?name={name}&fields=name,language,status,components&limit=100",
        config.base_url.trim_end_matches('/'),
        config.version.trim_matches('/'),
    ))
}

/// The templates of an answer, exactly those named `name` (the endpoint's filter may match
/// more).
pub(crate) fn parse_templates(
    status: u16,
    body: &[u8],
    name: &str,
) -> Result<Vec<MessageTemplate>, GraphError> {
    let list: TemplateList =
        serde_json::from_slice(body).map_err(|_| GraphError::UnexpectedResponse {
            status,
            reason: "body is not the documented message template list".into(),
        })?;
    Ok(list
        .data
        .into_iter()
        .filter(|template| template.name == name)
        .map(|template| MessageTemplate {
            body: template
                .components
                .into_iter()
                .find(|component| component.kind.eq_ignore_ascii_case("BODY"))
                .and_then(|component| component.text),
            name: template.name,
            language: template.language,
            status: template.status,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_needs_an_account_and_a_plain_name() {
        let mut config = GraphConfig::new("1", "t").with_base_url("http://127.0.0.1:9/");
        assert!(templates_url(&config, "deadline").is_err());
        config.business_account_id = Some("102290129340398".into());
        assert_eq!(
            templates_url(&config, "deadline").unwrap(),
            "http://127.0.0.1:9/v25.0/102290129340398/message_templates?name=deadline&fields=name,language,status,components&limit=100"
        );
        assert!(templates_url(&config, "dead line&x=1").is_err());
        config.business_account_id = Some("12/../34".into());
        assert!(templates_url(&config, "deadline").is_err());
    }

    #[test]
    fn only_the_named_templates_are_kept_with_their_body() {
        let body = br#"{"data":[
            {"name":"deadline","language":"en_US","status":"APPROVED","category":"UTILITY","id":"1",
             "components":[{"type":"HEADER","format":"TEXT","text":"Reminder"},{"type":"BODY","text":"Register by {{1}}."}]},
            {"name":"deadline_old","language":"en_US","status":"APPROVED","components":[]},
            {"name":"deadline","language":"es_MX","status":"PENDING","components":[{"type":"BODY","text":"Inscribase antes del {{1}}."}]}
        ],"paging":{"cursors":{"before":"a","after":"b"}}}"#;
        let templates = parse_templates(200, body, "deadline").unwrap();
        assert_eq!(templates.len(), 2);
        assert!(templates[0].is_approved());
        assert_eq!(templates[0].body.as_deref(), Some("Register by {{1}}."));
        assert!(!templates[1].is_approved());
        assert!(parse_templates(200, b"<html>", "deadline").is_err());
    }
}
