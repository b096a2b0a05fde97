//! The WhatsApp webhook a console message becomes. The console does not call the engine
//! directly: it builds the payload the Cloud API would send for the same message, signs it with
//! the app secret, and hands it to the handler, so the preview takes the production path
//! (signature, parsing, claim, rate limit, answer, reply, record).

use serde_json::{Value, json};

/// What the simulated citizen sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleInput {
    /// Typed text; `forwarded` marks it as a forwarded message (fact-check first).
    Text {
        /// The text.
        body: String,
        /// Whether it is sent as forwarded.
        forwarded: bool,
    },
    /// A tapped reply button.
    Button {
        /// The button's id.
        id: String,
        /// Its title.
        title: String,
    },
    /// A chosen list row.
    ListRow {
        /// The row's id.
        id: String,
        /// Its title.
        title: String,
    },
}

/// The webhook body for one console message from `citizen` with id `message_id`, sent at `now`.
pub fn webhook_payload(citizen: &str, message_id: &str, now: i64, input: &ConsoleInput) -> Value {
    let mut message = json!({
        "from": citizen,
        "id": message_id,
        "timestamp": now.to_string(),
    });
    match input {
        ConsoleInput::Text { body, forwarded } => {
            message["type"] = json!("text");
            message["text"] = json!({ "body": body });
            if *forwarded {
                message["context"] = json!({ "forwarded": true });
            }
        }
        ConsoleInput::Button { id, title } => {
            message["type"] = json!("interactive");
            message["interactive"] = json!({
                "type": "button_reply",
                "button_reply": { "id": id, "title": title },
            });
        }
        ConsoleInput::ListRow { id, title } => {
            message["type"] = json!("interactive");
            message["interactive"] = json!({
                "type": "list_reply",
                "list_reply": { "id": id, "title": title },
            });
        }
    }
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "0",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": "preview console",
                        "phone_number_id": "console",
                    },
                    "contacts": [{ "profile": { "name": "Preview" }, "wa_id": citizen }],
                    "messages": [message],
                },
            }],
        }],
    })
}

/// The webhook body of a delivery status (`sent`, `delivered`, `read`) of the business's
/// message `message_id` to `citizen`, as WhatsApp reports it.
pub fn status_payload(citizen: &str, message_id: &str, status: &str, now: i64) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "0",
            "changes": [{
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": "preview console",
                        "phone_number_id": "console",
                    },
                    "statuses": [{
                        "id": message_id,
                        "status": status,
                        "timestamp": now.to_string(),
                        "recipient_id": citizen,
                    }],
                },
            }],
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use votecheck_whatsapp::{InboundEvent, MessageContent, parse_events};

    #[test]
    fn a_status_parses_as_the_cloud_api_would_deliver_it() {
        let body = status_payload("console-1", "wamid.DRYRUN.3", "delivered", 1_700_000_000);
        let events = parse_events(body.to_string().as_bytes()).expect("the payload parses");
        match events.as_slice() {
            [InboundEvent::Status(status)] => {
                assert_eq!(status.message_id, "wamid.DRYRUN.3");
                assert_eq!(status.status, votecheck_whatsapp::StatusKind::Delivered);
            }
            other => panic!("one status expected, got {other:?}"),
        }
    }

    fn parsed(input: &ConsoleInput) -> votecheck_whatsapp::InboundMessage {
        let body = webhook_payload("console-1", "wamid.console.1", 1_700_000_000, input);
        let events = parse_events(body.to_string().as_bytes()).expect("the payload parses");
        match events.as_slice() {
            [InboundEvent::Message(message)] => message.clone(),
            other => panic!("one message expected, got {other:?}"),
        }
    }

    #[test]
    fn text_parses_as_the_cloud_api_would_deliver_it() {
        let message = parsed(&ConsoleInput::Text {
            body: "How do I vote?".to_string(),
            forwarded: true,
        });
        assert_eq!(message.message_id, "wamid.console.1");
        assert!(message.forwarded);
        assert_eq!(message.sender.wa_id.as_deref(), Some("console-1"));
        assert_eq!(
            message.content,
            MessageContent::Text("How do I vote?".to_string())
        );
    }

    #[test]
    fn buttons_and_list_rows_parse_as_interactive_replies() {
        let button = parsed(&ConsoleInput::Button {
            id: "feedback:yes:wamid.console.0".to_string(),
            title: "Yes".to_string(),
        });
        assert!(matches!(
            button.content,
            MessageContent::ButtonReply { ref id, .. } if id == "feedback:yes:wamid.console.0"
        ));
        let row = parsed(&ConsoleInput::ListRow {
            id: "topic:register".to_string(),
            title: "Register".to_string(),
        });
        assert!(matches!(
            row.content,
            MessageContent::ListReply { ref id, .. } if id == "topic:register"
        ));
    }
}
