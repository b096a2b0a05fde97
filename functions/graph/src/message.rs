//! Request bodies for the Cloud API messages endpoint, built as JSON values from votecheck's one
//! outbound-message type ([`OutboundContent`]) after checking it against WhatsApp's limits
//! ([`votecheck_outbound::limits`], declared there once), so an invalid message is refused here
//! instead of by Meta.
//!
//! Main types: [`Recipient`] (who receives). The builders ([`content_body`],
//! [`mark_read_body`]) are pure: the unit tests below and the HTTP tests in `tests/` assert on
//! the exact JSON.

use std::fmt;

use serde_json::{Map, Value, json};
use votecheck_outbound::{LimitError, OutboundContent, Template};

use crate::GraphError;

/// Who receives a message. `Debug` hides the identifier (personal data).
///
/// Phone numbers go in the documented `to` field. Business-scoped user ids (BSUIDs, such as
/// `US.13491208655302741918`) go in the `recipient` field, which, as far as we could tell from
/// partner documentation mirroring the Cloud API (send by BSUID, phone number takes precedence
/// when both are given), is the field Meta added for them; this was not confirmed against
/// Meta's own reference, so it is isolated in [`Recipient::address_fields`].
#[derive(Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A phone-number WhatsApp id (`wa_id`), digits with country code.
    PhoneNumber(String),
    /// A business-scoped user id.
    BusinessScopedUserId(String),
}

impl Recipient {
    /// Adds the addressing fields (`to` or `recipient`) to a request body.
    pub fn address_fields(&self, body: &mut Map<String, Value>) {
        match self {
            Recipient::PhoneNumber(wa_id) => {
                body.insert("to".into(), Value::String(wa_id.clone()));
            }
            Recipient::BusinessScopedUserId(user_id) => {
                body.insert("recipient".into(), Value::String(user_id.clone()));
            }
        }
    }

    fn identifier(&self) -> &str {
        match self {
            Recipient::PhoneNumber(id) | Recipient::BusinessScopedUserId(id) => id,
        }
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipient::PhoneNumber(_) => f.write_str("PhoneNumber(<redacted>)"),
            Recipient::BusinessScopedUserId(_) => f.write_str("BusinessScopedUserId(<redacted>)"),
        }
    }
}

impl From<LimitError> for GraphError {
    fn from(problem: LimitError) -> Self {
        GraphError::InvalidMessage {
            field: problem.field,
            reason: problem.reason,
        }
    }
}

fn check_recipient(to: &Recipient) -> Result<(), GraphError> {
    if to.identifier().trim().is_empty() {
        return Err(GraphError::InvalidMessage {
            field: "recipient",
            reason: "must not be empty".into(),
        });
    }
    Ok(())
}

/// Whether a text contains a link, so WhatsApp should render a preview.
pub fn has_link(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    lower.contains("https://") || lower.contains("http://")
}

/// The common envelope: product, recipient type, address, type and optional context.
fn envelope(to: &Recipient, kind: &str, reply_to: Option<&str>) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("messaging_product".into(), json!("whatsapp"));
    body.insert("recipient_type".into(), json!("individual"));
    to.address_fields(&mut body);
    body.insert("type".into(), json!(kind));
    if let Some(message_id) = reply_to {
        body.insert("context".into(), json!({ "message_id": message_id }));
    }
    body
}

/// The request body that sends `content` to `to`, as a contextual reply to `reply_to` when
/// given: a `text` message (`preview_url` set when the body has a link), an `interactive`
/// `button` or `list` message, or a `template` message (language policy `deterministic`, the
/// parameters as one `body` component). Checked against WhatsApp's limits first.
pub fn content_body(
    to: &Recipient,
    content: &OutboundContent,
    reply_to: Option<&str>,
) -> Result<Value, GraphError> {
    check_recipient(to)?;
    content.check()?;
    let body = match content {
        OutboundContent::Text { body: text } => {
            let mut body = envelope(to, "text", reply_to);
            body.insert(
                "text".into(),
                json!({ "preview_url": has_link(text), "body": text }),
            );
            body
        }
        OutboundContent::Buttons {
            body: text,
            buttons,
        } => {
            let buttons: Vec<Value> = buttons
                .iter()
                .map(|button| json!({ "type": "reply", "reply": { "id": button.id, "title": button.title } }))
                .collect();
            let mut body = envelope(to, "interactive", reply_to);
            body.insert(
                "interactive".into(),
                json!({
                    "type": "button",
                    "body": { "text": text },
                    "action": { "buttons": buttons },
                }),
            );
            body
        }
        OutboundContent::List {
            body: text,
            button,
            section_title,
            rows,
        } => {
            let rows: Vec<Value> = rows
                .iter()
                .map(|row| {
                    let mut value = json!({ "id": row.id, "title": row.title });
                    if let Some(description) = &row.description {
                        value["description"] = json!(description);
                    }
                    value
                })
                .collect();
            let mut body = envelope(to, "interactive", reply_to);
            body.insert(
                "interactive".into(),
                json!({
                    "type": "list",
                    "body": { "text": text },
                    "action": {
                        "button": button,
                        "sections": [{ "title": section_title, "rows": rows }],
                    },
                }),
            );
            body
        }
        OutboundContent::Template(template) => {
            let mut body = envelope(to, "template", reply_to);
            body.insert("template".into(), template_object(template));
            body
        }
    };
    Ok(Value::Object(body))
}

/// The `template` object: name, language (`deterministic`: exactly this language, never a
/// fallback) and the body's parameters as text.
fn template_object(template: &Template) -> Value {
    let mut object = json!({
        "name": template.name,
        "language": { "policy": "deterministic", "code": template.language },
    });
    if !template.body_parameters.is_empty() {
        let parameters: Vec<Value> = template
            .body_parameters
            .iter()
            .map(|text| json!({ "type": "text", "text": text }))
            .collect();
        object["components"] = json!([{ "type": "body", "parameters": parameters }]);
    }
    object
}

/// Marks an inbound message as read, optionally showing a typing indicator (≤ 25 s, dismissed
/// by the next reply).
pub fn mark_read_body(message_id: &str, typing_indicator: bool) -> Result<Value, GraphError> {
    if message_id.trim().is_empty() {
        return Err(GraphError::InvalidMessage {
            field: "message id",
            reason: "must not be empty".into(),
        });
    }
    let mut body = json!({
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": message_id,
    });
    if typing_indicator {
        body["typing_indicator"] = json!({ "type": "text" });
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone() -> Recipient {
        Recipient::PhoneNumber("15550001111".into())
    }

    fn text(body: &str) -> OutboundContent {
        OutboundContent::Text { body: body.into() }
    }

    #[test]
    fn text_has_the_documented_shape() {
        let body =
            content_body(&phone(), &text("See https://example.org"), Some("wamid.IN")).unwrap();
        assert_eq!(
            body,
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "15550001111",
                "type": "text",
                "context": { "message_id": "wamid.IN" },
                "text": { "preview_url": true, "body": "See https://example.org" },
            })
        );
        let plain = content_body(&phone(), &text("hello"), None).unwrap();
        assert_eq!(plain["text"]["preview_url"], json!(false));
        assert!(plain.get("context").is_none());
    }

    #[test]
    fn a_template_has_the_documented_shape() {
        let template = OutboundContent::Template(Template {
            name: "registration_deadline".into(),
            language: "pt_BR".into(),
            body_parameters: vec!["5 de outubro".into(), "https://example.org".into()],
        });
        assert_eq!(
            content_body(&phone(), &template, None).unwrap(),
            json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "15550001111",
                "type": "template",
                "template": {
                    "name": "registration_deadline",
                    "language": { "policy": "deterministic", "code": "pt_BR" },
                    "components": [{
                        "type": "body",
                        "parameters": [
                            { "type": "text", "text": "5 de outubro" },
                            { "type": "text", "text": "https://example.org" },
                        ],
                    }],
                },
            })
        );
        let bare = OutboundContent::Template(Template {
            name: "election_day".into(),
            language: "en".into(),
            body_parameters: vec![],
        });
        let body = content_body(&phone(), &bare, None).unwrap();
        assert!(body["template"].get("components").is_none());
    }

    #[test]
    fn bsuid_goes_in_the_recipient_field() {
        let to = Recipient::BusinessScopedUserId("US.13491208655302741918".into());
        let body = content_body(&to, &text("hello"), None).unwrap();
        assert_eq!(body["recipient"], json!("US.13491208655302741918"));
        assert!(body.get("to").is_none());
        assert_eq!(format!("{to:?}"), "BusinessScopedUserId(<redacted>)");
        let nobody = Recipient::PhoneNumber(" ".into());
        assert!(content_body(&nobody, &text("hello"), None).is_err());
    }

    #[test]
    fn a_message_over_the_limits_is_refused_without_its_text() {
        let long = "é".repeat(21);
        let content = OutboundContent::Buttons {
            body: "b".into(),
            buttons: vec![votecheck_outbound::Button::new("a", long.clone())],
        };
        let error = content_body(&phone(), &content, None).unwrap_err();
        assert_eq!(error.metric_name(), "graph_invalid_message");
        assert!(error.to_string().contains("button title"), "{error}");
        assert!(!error.to_string().contains(&long));
    }

    #[test]
    fn buttons_and_lists_have_the_documented_shape() {
        let buttons = OutboundContent::Buttons {
            body: "Helpful?".into(),
            buttons: vec![votecheck_outbound::Button::new("feedback:yes:k", "Yes")],
        };
        let body = content_body(&phone(), &buttons, None).unwrap();
        assert_eq!(body["interactive"]["type"], "button");
        assert_eq!(
            body["interactive"]["action"]["buttons"][0],
            json!({ "type": "reply", "reply": { "id": "feedback:yes:k", "title": "Yes" } })
        );
        let list = OutboundContent::List {
            body: "Topics".into(),
            button: "Menu".into(),
            section_title: "Voting".into(),
            rows: vec![votecheck_outbound::ListRow {
                id: "topic:mail".into(),
                title: "By mail".into(),
                description: Some("Absentee ballots".into()),
            }],
        };
        let body = content_body(&phone(), &list, None).unwrap();
        assert_eq!(
            body["interactive"]["action"],
            json!({
                "button": "Menu",
                "sections": [{ "title": "Voting", "rows": [
                    { "id": "topic:mail", "title": "By mail", "description": "Absentee ballots" }
                ] }],
            })
        );
    }

    #[test]
    fn mark_read_with_and_without_typing() {
        assert_eq!(
            mark_read_body("wamid.X", true).unwrap(),
            json!({
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": "wamid.X",
                "typing_indicator": { "type": "text" },
            })
        );
        assert!(
            mark_read_body("wamid.X", false)
                .unwrap()
                .get("typing_indicator")
                .is_none()
        );
        assert!(mark_read_body(" ", false).is_err());
    }
}
