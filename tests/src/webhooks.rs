//! WhatsApp Cloud API webhook bodies for tests and benchmarks, shaped like
//! `samples/webhooks/message_text.json`: one business account, one change, one text message.

use serde_json::json;

/// The business phone number id the bodies name (as in the sample fixtures).
pub const PHONE_NUMBER_ID: &str = "109000000000001";

/// One text message from a citizen.
#[derive(Debug, Clone)]
pub struct TextMessage<'a> {
    /// The citizen's WhatsApp id (phone number).
    pub citizen: &'a str,
    /// The citizen's business-scoped user id, when the body should carry one.
    pub user_id: Option<&'a str>,
    /// The WhatsApp message id.
    pub message_id: &'a str,
    /// The message text.
    pub text: &'a str,
    /// Seconds since 1970.
    pub timestamp: u64,
    /// Marked as forwarded by WhatsApp.
    pub forwarded: bool,
}

impl<'a> TextMessage<'a> {
    /// A message from `citizen`, not forwarded, without a user id, sent at 2026-01-01 00:00 UTC.
    pub fn new(citizen: &'a str, message_id: &'a str, text: &'a str) -> Self {
        TextMessage {
            citizen,
            user_id: None,
            message_id,
            text,
            timestamp: 1_767_225_600,
            forwarded: false,
        }
    }

    /// The webhook body, as the Cloud API would send it.
    pub fn body(&self) -> Vec<u8> {
        let mut contact = json!({"profile": {"name": "Test Citizen"}, "wa_id": self.citizen});
        let mut message = json!({
            "from": self.citizen,
            "id": self.message_id,
            "timestamp": self.timestamp.to_string(),
            "type": "text",
            "text": {"body": self.text},
        });
        if let Some(user_id) = self.user_id {
            contact["user_id"] = json!(user_id);
            message["from_user_id"] = json!(user_id);
        }
        if self.forwarded {
            message["context"] = json!({"forwarded": true});
        }
        json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": "200000000000001",
                "changes": [{
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550100001",
                            "phone_number_id": PHONE_NUMBER_ID,
                        },
                        "contacts": [contact],
                        "messages": [message],
                    },
                }],
            }],
        })
        .to_string()
        .into_bytes()
    }
}

/// The envelope every body shares around one change's `value`.
fn envelope(value: serde_json::Value) -> Vec<u8> {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "200000000000001",
            "changes": [{"field": "messages", "value": value}],
        }],
    })
    .to_string()
    .into_bytes()
}

/// A citizen's choice of a list row (the alerts menu, the topics menu).
pub fn list_reply(citizen: &str, message_id: &str, row_id: &str, title: &str) -> Vec<u8> {
    envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100001", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Test Citizen"}, "wa_id": citizen}],
        "messages": [{
            "from": citizen,
            "id": message_id,
            "timestamp": "1767225600",
            "type": "interactive",
            "interactive": {
                "type": "list_reply",
                "list_reply": {"id": row_id, "title": title},
            },
        }],
    }))
}

/// A delivery status (`sent`, `delivered`, `read`, or `failed` with `code`) of one of the
/// business's messages to `citizen`.
pub fn delivery_status(
    citizen: &str,
    message_id: &str,
    status: &str,
    code: Option<i64>,
) -> Vec<u8> {
    let mut entry = json!({
        "id": message_id,
        "status": status,
        "timestamp": "1767225600",
        "recipient_id": citizen,
    });
    if let Some(code) = code {
        entry["errors"] = json!([{"code": code, "title": "Message undeliverable"}]);
    }
    envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100001", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [entry],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use votecheck_whatsapp::{InboundEvent, MessageContent, parse_events};

    #[test]
    fn a_text_message_body_parses_as_the_cloud_api_delivers_it() {
        let mut message = TextMessage::new("15550101234", "wamid.T.1", "¿Dónde voto?");
        message.user_id = Some("US.1000000000000000001");
        message.forwarded = true;
        let events = parse_events(&message.body()).unwrap();
        let [InboundEvent::Message(parsed)] = events.as_slice() else {
            panic!("one message expected: {events:?}");
        };
        assert_eq!(parsed.message_id, "wamid.T.1");
        assert!(parsed.forwarded);
        assert_eq!(parsed.sender.wa_id.as_deref(), Some("15550101234"));
        assert_eq!(
            parsed.content,
            MessageContent::Text("¿Dónde voto?".to_string())
        );
    }
}
