//! Request bodies for the Cloud API messages endpoint, built as JSON values after checking the
//! documented limits, so an invalid message is refused here instead of by Meta.
//!
//! Main types: [`Recipient`] (who receives), [`Button`] and [`ListRow`] (interactive choices).
//! The builders ([`text_body`], [`buttons_body`], [`list_body`], [`mark_read_body`]) are pure:
//! the unit tests below and the HTTP tests in `tests/` assert on the exact JSON.
//!
//! Limits checked (characters, not bytes): text body ≤ 4096; interactive body ≤ 1024; 1–3
//! reply buttons, title ≤ 20, id ≤ 256, ids unique; list 1–10 rows, row title ≤ 24,
//! description ≤ 72, row id ≤ 200, ids unique, section title ≤ 24, button label ≤ 20.

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value, json};

use crate::GraphError;

/// Maximum characters of a text message body.
pub const MAX_TEXT_BODY: usize = 4096;
/// Maximum characters of an interactive message body.
pub const MAX_INTERACTIVE_BODY: usize = 1024;
/// Maximum reply buttons in one message.
pub const MAX_BUTTONS: usize = 3;
/// Maximum characters of a reply button title.
pub const MAX_BUTTON_TITLE: usize = 20;
/// Maximum characters of a reply button id.
pub const MAX_BUTTON_ID: usize = 256;
/// Maximum rows of a list message (all sections together).
pub const MAX_LIST_ROWS: usize = 10;
/// Maximum characters of a list row title.
pub const MAX_ROW_TITLE: usize = 24;
/// Maximum characters of a list row description.
pub const MAX_ROW_DESCRIPTION: usize = 72;
/// Maximum characters of a list row id.
pub const MAX_ROW_ID: usize = 200;
/// Maximum characters of a list section title.
pub const MAX_SECTION_TITLE: usize = 24;
/// Maximum characters of the list's menu button label.
pub const MAX_LIST_BUTTON: usize = 20;

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

/// One reply button: the id comes back in the `button_reply` webhook, the title is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Button<'a> {
    /// Identifier returned when tapped (≤ 256 characters).
    pub id: &'a str,
    /// Label shown (≤ 20 characters).
    pub title: &'a str,
}

/// One list row: the id comes back in the `list_reply` webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListRow<'a> {
    /// Identifier returned when chosen (≤ 200 characters).
    pub id: &'a str,
    /// Row title (≤ 24 characters).
    pub title: &'a str,
    /// Optional second line (≤ 72 characters).
    pub description: Option<&'a str>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> GraphError {
    GraphError::InvalidMessage {
        field,
        reason: reason.into(),
    }
}

/// Checks that `value` is non-blank and at most `max` characters.
fn check_length(field: &'static str, value: &str, max: usize) -> Result<(), GraphError> {
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

fn check_unique<'a>(
    field: &'static str,
    ids: impl Iterator<Item = &'a str>,
) -> Result<(), GraphError> {
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

fn check_recipient(to: &Recipient) -> Result<(), GraphError> {
    if to.identifier().trim().is_empty() {
        return Err(invalid("recipient", "must not be empty"));
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

/// A `text` message; `preview_url` is set when the body has a link.
pub fn text_body(to: &Recipient, text: &str, reply_to: Option<&str>) -> Result<Value, GraphError> {
    check_recipient(to)?;
    check_length("text body", text, MAX_TEXT_BODY)?;
    let mut body = envelope(to, "text", reply_to);
    body.insert(
        "text".into(),
        json!({ "preview_url": has_link(text), "body": text }),
    );
    Ok(Value::Object(body))
}

/// An interactive `button` message with 1–3 reply buttons.
pub fn buttons_body(
    to: &Recipient,
    text: &str,
    buttons: &[Button<'_>],
    reply_to: Option<&str>,
) -> Result<Value, GraphError> {
    check_recipient(to)?;
    check_length("interactive body", text, MAX_INTERACTIVE_BODY)?;
    if buttons.is_empty() || buttons.len() > MAX_BUTTONS {
        return Err(invalid(
            "buttons",
            format!("{} given, 1 to {MAX_BUTTONS} allowed", buttons.len()),
        ));
    }
    for button in buttons {
        check_length("button id", button.id, MAX_BUTTON_ID)?;
        check_length("button title", button.title, MAX_BUTTON_TITLE)?;
    }
    check_unique("buttons", buttons.iter().map(|button| button.id))?;
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
    Ok(Value::Object(body))
}

/// An interactive `list` message with one section of 1–10 rows.
pub fn list_body(
    to: &Recipient,
    text: &str,
    button_label: &str,
    section_title: &str,
    rows: &[ListRow<'_>],
    reply_to: Option<&str>,
) -> Result<Value, GraphError> {
    check_recipient(to)?;
    check_length("interactive body", text, MAX_INTERACTIVE_BODY)?;
    check_length("list button label", button_label, MAX_LIST_BUTTON)?;
    check_length("list section title", section_title, MAX_SECTION_TITLE)?;
    if rows.is_empty() || rows.len() > MAX_LIST_ROWS {
        return Err(invalid(
            "list rows",
            format!("{} given, 1 to {MAX_LIST_ROWS} allowed", rows.len()),
        ));
    }
    for row in rows {
        check_length("list row id", row.id, MAX_ROW_ID)?;
        check_length("list row title", row.title, MAX_ROW_TITLE)?;
        if let Some(description) = row.description {
            check_length("list row description", description, MAX_ROW_DESCRIPTION)?;
        }
    }
    check_unique("list rows", rows.iter().map(|row| row.id))?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|row| {
            let mut value = json!({ "id": row.id, "title": row.title });
            if let Some(description) = row.description {
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
                "button": button_label,
                "sections": [{ "title": section_title, "rows": rows }],
            },
        }),
    );
    Ok(Value::Object(body))
}

/// Marks an inbound message as read, optionally showing a typing indicator (≤ 25 s, dismissed
/// by the next reply).
pub fn mark_read_body(message_id: &str, typing_indicator: bool) -> Result<Value, GraphError> {
    if message_id.trim().is_empty() {
        return Err(invalid("message id", "must not be empty"));
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

    #[test]
    fn text_has_the_documented_shape() {
        let body = text_body(&phone(), "See https://example.org", Some("wamid.IN")).unwrap();
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
        let plain = text_body(&phone(), "hello", None).unwrap();
        assert_eq!(plain["text"]["preview_url"], json!(false));
        assert!(plain.get("context").is_none());
    }

    #[test]
    fn bsuid_goes_in_the_recipient_field() {
        let to = Recipient::BusinessScopedUserId("US.13491208655302741918".into());
        let body = text_body(&to, "hello", None).unwrap();
        assert_eq!(body["recipient"], json!("US.13491208655302741918"));
        assert!(body.get("to").is_none());
        assert_eq!(format!("{to:?}"), "BusinessScopedUserId(<redacted>)");
    }

    #[test]
    fn limits_are_counted_in_characters() {
        let title = "é".repeat(20);
        let ok = [Button {
            id: "a",
            title: &title,
        }];
        assert!(buttons_body(&phone(), "b", &ok, None).is_ok());
        let long = "é".repeat(21);
        let bad = [Button {
            id: "a",
            title: &long,
        }];
        let error = buttons_body(&phone(), "b", &bad, None).unwrap_err();
        assert_eq!(error.metric_name(), "graph_invalid_message");
        assert!(!error.to_string().contains(&long));
    }

    #[test]
    fn button_and_row_counts_and_duplicates_are_refused() {
        let four: Vec<Button> = ["a", "b", "c", "d"]
            .iter()
            .map(|id| Button { id, title: id })
            .collect();
        assert!(buttons_body(&phone(), "b", &four, None).is_err());
        assert!(buttons_body(&phone(), "b", &[], None).is_err());
        let twins = [
            Button {
                id: "a",
                title: "x",
            },
            Button {
                id: "a",
                title: "y",
            },
        ];
        assert!(buttons_body(&phone(), "b", &twins, None).is_err());
        let ids: Vec<String> = (0..11).map(|i| i.to_string()).collect();
        let rows: Vec<ListRow> = ids
            .iter()
            .map(|id| ListRow {
                id,
                title: id,
                description: None,
            })
            .collect();
        assert!(list_body(&phone(), "b", "Menu", "S", &rows, None).is_err());
        assert!(list_body(&phone(), "b", "Menu", "S", &rows[..10], None).is_ok());
        let long = "d".repeat(73);
        let row = [ListRow {
            id: "a",
            title: "t",
            description: Some(&long),
        }];
        assert!(list_body(&phone(), "b", "Menu", "S", &row, None).is_err());
        let row = [ListRow {
            id: "a",
            title: "t",
            description: None,
        }];
        assert!(list_body(&phone(), "b", &"m".repeat(21), "S", &row, None).is_err());
        assert!(list_body(&phone(), "b", "Menu", &"s".repeat(25), &row, None).is_err());
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
