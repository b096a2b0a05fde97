//! Every webhook payload in `samples/webhooks/` parses into exactly the expected events.
//!
//! The test walks the directory, so a new fixture is picked up automatically: it must parse, and
//! it must have an entry in [`expected`] (the test fails and names the file until it does). The
//! fixtures are our own files, modelled on Meta's documented shapes, with made-up ids: citizen
//! numbers in the fictional 1555-01xx range, `wamid.TEST…` message ids, business phone number id
//! `109000000000001`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use votecheck_whatsapp::{
    DeliveryStatus, InboundEvent, InboundMessage, MediaKind, MessageContent, Sender, StatusKind,
    SystemChange, parse_events, parse_webhook, signature_header, verify_signature,
};

const PHONE_NUMBER_ID: &str = "109000000000001";
const CITIZEN: &str = "15550101234";
const CITIZEN_USER_ID: &str = "US.1000000000000000001";
const SECOND: &str = "15550104321";
const SECOND_USER_ID: &str = "US.1000000000000000002";

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/webhooks")
}

fn fixtures() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(fixtures_dir()).expect("samples/webhooks/ exists") {
        let path = entry.expect("readable directory entry").path();
        if path.extension().and_then(|extension| extension.to_str()) != Some("json") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        files.insert(name, std::fs::read(&path).expect("readable fixture"));
    }
    files
}

fn citizen() -> Sender {
    Sender {
        wa_id: Some(CITIZEN.into()),
        user_id: Some(CITIZEN_USER_ID.into()),
    }
}

fn second() -> Sender {
    Sender {
        wa_id: Some(SECOND.into()),
        user_id: Some(SECOND_USER_ID.into()),
    }
}

/// A message from the first test citizen to the first business number, not forwarded, not a
/// reply; adjust with struct update syntax.
fn message(id: &str, timestamp: i64, content: MessageContent) -> InboundMessage {
    InboundMessage {
        message_id: id.into(),
        sender: citizen(),
        profile_name: Some("Test Citizen".into()),
        phone_number_id: Some(PHONE_NUMBER_ID.into()),
        timestamp,
        forwarded: false,
        context_message_id: None,
        content,
    }
}

fn status(id: &str, status: StatusKind, timestamp: i64, recipient: Sender) -> DeliveryStatus {
    DeliveryStatus {
        message_id: id.into(),
        recipient,
        status,
        timestamp,
        error_code: None,
        error_title: None,
    }
}

fn text(body: &str) -> MessageContent {
    MessageContent::Text(body.into())
}

fn media(kind: MediaKind) -> MessageContent {
    MessageContent::Media { kind }
}

/// The events each fixture must produce, in order.
fn expected(file: &str) -> Option<Vec<InboundEvent>> {
    use InboundEvent::{Message, Status};
    let events = match file {
        "message_text.json" => vec![Message(message(
            "wamid.TEST.TEXT.0001",
            1767225600,
            text("When do the polling stations open on election day?"),
        ))],
        "message_text_forwarded.json" => vec![Message(InboundMessage {
            forwarded: true,
            ..message(
                "wamid.TEST.TEXT.0002",
                1767225660,
                text("Forwarded: you can vote by text message this year."),
            )
        })],
        "message_text_frequently_forwarded.json" => vec![Message(InboundMessage {
            forwarded: true,
            ..message(
                "wamid.TEST.TEXT.0003",
                1767225720,
                text("Share with everyone: the election has been moved to Monday!"),
            )
        })],
        "message_interactive_button_reply.json" => vec![Message(InboundMessage {
            context_message_id: Some("wamid.TEST.BOT.0001".into()),
            ..message(
                "wamid.TEST.BUTTON.0001",
                1767225780,
                MessageContent::ButtonReply {
                    id: "feedback.helpful".into(),
                    title: "Helpful".into(),
                },
            )
        })],
        "message_interactive_list_reply.json" => vec![Message(InboundMessage {
            context_message_id: Some("wamid.TEST.BOT.0002".into()),
            ..message(
                "wamid.TEST.LIST.0001",
                1767225840,
                MessageContent::ListReply {
                    id: "topic.registration".into(),
                    title: "Voter registration".into(),
                },
            )
        })],
        "message_button_quick_reply.json" => vec![Message(InboundMessage {
            context_message_id: Some("wamid.TEST.TEMPLATE.0001".into()),
            ..message(
                "wamid.TEST.QUICKREPLY.0001",
                1767225900,
                MessageContent::QuickReplyButton {
                    payload: "menu.open".into(),
                    text: "Show topics".into(),
                },
            )
        })],
        "message_image.json" => vec![Message(message(
            "wamid.TEST.IMAGE.0001",
            1767225960,
            media(MediaKind::Image),
        ))],
        "message_audio.json" => vec![Message(message(
            "wamid.TEST.AUDIO.0001",
            1767226020,
            media(MediaKind::Audio),
        ))],
        "message_video.json" => vec![Message(InboundMessage {
            forwarded: true,
            ..message("wamid.TEST.VIDEO.0001", 1767226080, media(MediaKind::Video))
        })],
        "message_document.json" => vec![Message(message(
            "wamid.TEST.DOCUMENT.0001",
            1767226140,
            media(MediaKind::Document),
        ))],
        "message_sticker.json" => vec![Message(message(
            "wamid.TEST.STICKER.0001",
            1767226200,
            media(MediaKind::Sticker),
        ))],
        "message_location.json" => vec![Message(message(
            "wamid.TEST.LOCATION.0001",
            1767226260,
            MessageContent::Location {
                latitude: 51.5007,
                longitude: -0.1246,
                name: Some("Test Polling Station".into()),
                address: Some("1 Example Street, Testville".into()),
            },
        ))],
        "message_reaction.json" => vec![Message(message(
            "wamid.TEST.REACTION.0001",
            1767226320,
            MessageContent::Reaction {
                emoji: Some("\u{1F44D}".into()),
                message_id: "wamid.TEST.BOT.0001".into(),
            },
        ))],
        "message_reaction_removed.json" => vec![Message(message(
            "wamid.TEST.REACTION.0002",
            1767226380,
            MessageContent::Reaction {
                emoji: None,
                message_id: "wamid.TEST.BOT.0001".into(),
            },
        ))],
        "message_system_user_changed_number.json" => {
            let old = Sender {
                wa_id: Some(CITIZEN.into()),
                user_id: None,
            };
            vec![Message(InboundMessage {
                sender: old.clone(),
                profile_name: None,
                ..message(
                    "wamid.TEST.SYSTEM.0001",
                    1767226440,
                    MessageContent::System(SystemChange::NumberChanged {
                        old,
                        new: Sender {
                            wa_id: Some("15550109876".into()),
                            user_id: None,
                        },
                    }),
                )
            })]
        }
        "message_system_user_changed_user_id.json" => vec![Message(InboundMessage {
            profile_name: None,
            ..message(
                "wamid.TEST.SYSTEM.0002",
                1767226500,
                MessageContent::System(SystemChange::NumberChanged {
                    old: citizen(),
                    new: Sender {
                        wa_id: Some(CITIZEN.into()),
                        user_id: Some("US.1000000000000000009".into()),
                    },
                }),
            )
        })],
        "message_unsupported.json" => vec![Message(message(
            "wamid.TEST.UNSUPPORTED.0001",
            1767226560,
            MessageContent::Unsupported,
        ))],
        "message_unknown_future_type.json" => vec![Message(message(
            "wamid.TEST.FUTURE.0001",
            1767226620,
            MessageContent::Unknown {
                type_name: "hologram".into(),
            },
        ))],
        "message_from_bsuid_only_user.json" => vec![Message(InboundMessage {
            sender: Sender {
                wa_id: None,
                user_id: Some(SECOND_USER_ID.into()),
            },
            profile_name: Some("Username Citizen".into()),
            ..message(
                "wamid.TEST.BSUID.0001",
                1767226680,
                text("How do I find my polling station?"),
            )
        })],
        "status_sent.json" => vec![Status(status(
            "wamid.TEST.BOT.0001",
            StatusKind::Sent,
            1767225602,
            citizen(),
        ))],
        "status_delivered.json" => vec![Status(status(
            "wamid.TEST.BOT.0001",
            StatusKind::Delivered,
            1767225603,
            citizen(),
        ))],
        "status_read.json" => vec![Status(status(
            "wamid.TEST.BOT.0001",
            StatusKind::Read,
            1767225610,
            citizen(),
        ))],
        "status_failed.json" => vec![Status(DeliveryStatus {
            error_code: Some(131047),
            error_title: Some("Re-engagement message".into()),
            ..status(
                "wamid.TEST.BOT.0003",
                StatusKind::Failed,
                1767312100,
                Sender {
                    wa_id: Some(CITIZEN.into()),
                    user_id: None,
                },
            )
        })],
        "batch_two_entries_two_changes.json" => {
            let second_business = |message: InboundMessage| InboundMessage {
                sender: second(),
                profile_name: Some("Second Citizen".into()),
                phone_number_id: Some("109000000000002".into()),
                ..message
            };
            vec![
                Message(message(
                    "wamid.TEST.BATCH.0001",
                    1767229200,
                    text("Where do I vote?"),
                )),
                Message(InboundMessage {
                    sender: second(),
                    profile_name: Some("Second Citizen".into()),
                    forwarded: true,
                    ..message(
                        "wamid.TEST.BATCH.0002",
                        1767229201,
                        text("Can I vote by post?"),
                    )
                }),
                Message(message(
                    "wamid.TEST.BATCH.0003",
                    1767229202,
                    media(MediaKind::Image),
                )),
                Status(status(
                    "wamid.TEST.BOT.0010",
                    StatusKind::Delivered,
                    1767229203,
                    citizen(),
                )),
                Status(status(
                    "wamid.TEST.BOT.0011",
                    StatusKind::Read,
                    1767229204,
                    citizen(),
                )),
                Message(second_business(InboundMessage {
                    context_message_id: Some("wamid.TEST.BOT.0012".into()),
                    ..message(
                        "wamid.TEST.BATCH.0004",
                        1767229205,
                        MessageContent::ButtonReply {
                            id: "feedback.not_helpful".into(),
                            title: "Not helpful".into(),
                        },
                    )
                })),
                Message(second_business(message(
                    "wamid.TEST.BATCH.0005",
                    1767229206,
                    MessageContent::Reaction {
                        emoji: Some("\u{2764}\u{fe0f}".into()),
                        message_id: "wamid.TEST.BOT.0012".into(),
                    },
                ))),
                Status(DeliveryStatus {
                    error_code: Some(131026),
                    error_title: Some("Message undeliverable".into()),
                    // The failed status names only the number; the contact adds the user id.
                    ..status(
                        "wamid.TEST.BOT.0013",
                        StatusKind::Failed,
                        1767229207,
                        second(),
                    )
                }),
                Status(status(
                    "wamid.TEST.BOT.0014",
                    StatusKind::Sent,
                    1767229208,
                    second(),
                )),
            ]
        }
        "change_account_update.json" | "object_not_whatsapp.json" => Vec::new(),
        _ => return None,
    };
    Some(events)
}

#[test]
fn every_fixture_parses_into_its_expected_events() {
    let files = fixtures();
    assert!(
        files.len() >= 24,
        "expected the fixture set, found {files:?}"
    );
    let mut missing = Vec::new();
    for (name, body) in &files {
        let events = parse_events(body).unwrap_or_else(|error| panic!("{name}: {error}"));
        match expected(name) {
            Some(expected) => assert_eq!(
                events, expected,
                "{name}: events differ (left: parsed, right: expected)"
            ),
            None => missing.push(name.clone()),
        }
    }
    assert!(
        missing.is_empty(),
        "fixtures without expectations, add them to `expected` in tests/fixtures.rs: {missing:?}"
    );
}

#[test]
fn every_fixture_is_a_well_formed_json_object_of_our_own() {
    for (name, body) in fixtures() {
        let value: serde_json::Value =
            serde_json::from_slice(&body).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert!(value.is_object(), "{name}: not a JSON object");
        let text = String::from_utf8(body).unwrap();
        // Our fixtures only use made-up ids: no real-looking message ids or numbers.
        for id in text.split('"').filter(|part| part.starts_with("wamid.")) {
            assert!(
                id.starts_with("wamid.TEST."),
                "{name}: message id {id} is not a test id"
            );
        }
    }
}

#[test]
fn non_message_changes_and_other_objects_are_reported() {
    let files = fixtures();
    let account = parse_webhook(&files["change_account_update.json"]).unwrap();
    assert_eq!(account.ignored_fields, vec!["account_update"]);
    assert!(account.events.is_empty() && account.skipped.is_empty());
    let other = parse_webhook(&files["object_not_whatsapp.json"]).unwrap();
    assert_eq!(other.ignored_object.as_deref(), Some("page"));
    assert!(other.events.is_empty());
}

#[test]
fn no_fixture_leaks_personal_data_through_debug() {
    for (name, body) in fixtures() {
        let events = parse_events(&body).unwrap();
        let debug = format!("{events:?} {events:#?}");
        for personal in [
            "1555",
            "US.1000",
            "Test Citizen",
            "Second Citizen",
            "Username Citizen",
            "polling station",
            "vote",
            "51.5007",
            "Example Street",
        ] {
            assert!(
                !debug.contains(personal),
                "{name}: `{personal}` leaked: {debug}"
            );
        }
    }
}

#[test]
fn every_fixture_round_trips_through_signing() {
    let secret = b"fixture app secret";
    for (name, body) in fixtures() {
        let header = signature_header(secret, &body).unwrap();
        assert_eq!(
            verify_signature(secret, Some(&header), &body),
            Ok(()),
            "{name}"
        );
    }
}

#[test]
fn type_names_cover_every_fixture_message() {
    let mut names = Vec::new();
    for (_, body) in fixtures() {
        for event in parse_events(&body).unwrap() {
            if let InboundEvent::Message(message) = event {
                names.push(message.content.type_name().to_owned());
            }
        }
    }
    names.sort();
    names.dedup();
    assert_eq!(
        names,
        [
            "audio",
            "button",
            "document",
            "hologram",
            "image",
            "interactive.button_reply",
            "interactive.list_reply",
            "location",
            "reaction",
            "sticker",
            "system.number_changed",
            "text",
            "unsupported",
            "video"
        ]
    );
}
