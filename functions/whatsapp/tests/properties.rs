//! Property tests: nothing panics on outside input, signatures are exactly as strong as HMAC,
//! body decoding round-trips, the handshake accepts exactly the right token, and no generated
//! personal data ever shows in `Debug` output.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use votecheck_whatsapp::{
    BodyError, InboundEvent, SignatureError, VerificationOutcome, decode_body, parse_events,
    parse_webhook, signature_header, verify_signature, verify_subscription,
};

/// Keys that occur in webhooks, so generated objects reach deep into the parser.
const KEYS: &[&str] = &[
    "object",
    "entry",
    "id",
    "changes",
    "field",
    "value",
    "messaging_product",
    "metadata",
    "phone_number_id",
    "contacts",
    "profile",
    "name",
    "wa_id",
    "user_id",
    "messages",
    "statuses",
    "errors",
    "from",
    "from_user_id",
    "timestamp",
    "type",
    "context",
    "forwarded",
    "frequently_forwarded",
    "text",
    "body",
    "interactive",
    "button_reply",
    "list_reply",
    "title",
    "button",
    "payload",
    "image",
    "location",
    "latitude",
    "longitude",
    "reaction",
    "emoji",
    "message_id",
    "system",
    "new_wa_id",
    "status",
    "recipient_id",
    "recipient_user_id",
    "recipient_type",
    "code",
];

const WORDS: &[&str] = &[
    "whatsapp_business_account",
    "messages",
    "text",
    "interactive",
    "button_reply",
    "list_reply",
    "button",
    "image",
    "location",
    "reaction",
    "system",
    "user_changed_number",
    "user_changed_user_id",
    "unsupported",
    "failed",
    "read",
    "group",
    "15550101234",
    "US.1",
    "wamid.X",
    "",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|number| json!(number)),
        any::<f64>().prop_map(|number| json!(number)),
        prop::sample::select(WORDS).prop_map(|word| json!(word)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(8, 256, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(key, value)| (key.to_owned(), value))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A structurally plausible webhook with arbitrary values at the leaves.
fn webhook_like() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(json_value(), 0..4),
        prop::collection::vec(json_value(), 0..4),
        json_value(),
    )
        .prop_map(|(messages, statuses, contacts)| {
            json!({
                "object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                    "metadata": {"phone_number_id": "109000000000001"},
                    "contacts": contacts,
                    "messages": messages,
                    "statuses": statuses,
                }}]}]
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_events_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_events(&bytes);
    }

    #[test]
    fn parse_events_never_panics_on_arbitrary_json(value in json_value()) {
        let body = serde_json::to_vec(&value).unwrap();
        prop_assert!(parse_events(&body).is_ok());
    }

    #[test]
    fn parse_events_never_panics_on_webhook_shaped_json(value in webhook_like()) {
        let body = serde_json::to_vec(&value).unwrap();
        let parsed = parse_webhook(&body).unwrap();
        // Every event carries a non-empty message id, and every message has a sender.
        for event in &parsed.events {
            match event {
                InboundEvent::Message(message) => {
                    prop_assert!(!message.message_id.is_empty());
                    prop_assert!(message.sender.key().is_some());
                }
                InboundEvent::Status(status) => prop_assert!(!status.message_id.is_empty()),
            }
        }
    }

    #[test]
    fn verify_signature_never_panics(
        secret in prop::collection::vec(any::<u8>(), 0..80),
        header in prop::option::of(prop_oneof![".{0,80}", "sha256=.{0,70}", "sha256=[0-9a-fA-F]{60,68}"]),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let result = verify_signature(&secret, header.as_deref(), &body);
        if secret.is_empty() {
            prop_assert_eq!(result, Err(SignatureError::NoSecret));
        }
    }

    #[test]
    fn a_correctly_signed_body_always_verifies(
        secret in prop::collection::vec(any::<u8>(), 1..200),
        body in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        let header = signature_header(&secret, &body).unwrap();
        prop_assert_eq!(verify_signature(&secret, Some(&header), &body), Ok(()));
    }

    #[test]
    fn any_single_bit_change_in_the_body_fails(
        secret in prop::collection::vec(any::<u8>(), 1..64),
        body in prop::collection::vec(any::<u8>(), 1..512),
        bit in any::<prop::sample::Index>(),
    ) {
        let header = signature_header(&secret, &body).unwrap();
        let mut tampered = body.clone();
        let bit = bit.index(body.len() * 8);
        tampered[bit / 8] ^= 1 << (bit % 8);
        prop_assert_eq!(
            verify_signature(&secret, Some(&header), &tampered),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn any_single_bit_change_in_the_signature_fails(
        secret in prop::collection::vec(any::<u8>(), 1..64),
        body in prop::collection::vec(any::<u8>(), 0..512),
        bit in 0_usize..256,
    ) {
        let header = signature_header(&secret, &body).unwrap();
        let mut digest = hex::decode(&header["sha256=".len()..]).unwrap();
        digest[bit / 8] ^= 1 << (bit % 8);
        let tampered = format!("sha256={}", hex::encode(digest));
        prop_assert_eq!(
            verify_signature(&secret, Some(&tampered), &body),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn any_single_bit_change_in_the_secret_fails(
        secret in prop::collection::vec(any::<u8>(), 1..64),
        body in prop::collection::vec(any::<u8>(), 0..256),
        bit in any::<prop::sample::Index>(),
    ) {
        let header = signature_header(&secret, &body).unwrap();
        let mut other = secret.clone();
        let bit = bit.index(secret.len() * 8);
        other[bit / 8] ^= 1 << (bit % 8);
        // (HMAC zero-pads short keys, so only a change of length could alias; a flip keeps it.)
        prop_assert_eq!(
            verify_signature(&other, Some(&header), &body),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn decode_body_never_panics(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        is_base64 in any::<bool>(),
        max_bytes in 0_usize..4096,
    ) {
        if let Ok(decoded) = decode_body(&body, is_base64, max_bytes) {
            prop_assert!(decoded.len() <= max_bytes);
        }
    }

    #[test]
    fn decode_body_never_panics_on_base64_alphabet_text(
        body in "[A-Za-z0-9+/=]{0,300}",
        max_bytes in 0_usize..400,
    ) {
        match decode_body(&body, true, max_bytes) {
            Ok(decoded) => prop_assert!(decoded.len() <= max_bytes),
            Err(error) => prop_assert!(matches!(error.status(), 400 | 413)),
        }
    }

    #[test]
    fn base64_bodies_round_trip_within_the_limit(
        raw in prop::collection::vec(any::<u8>(), 0..1024),
        max_bytes in 0_usize..1200,
    ) {
        let encoded = STANDARD.encode(&raw);
        match decode_body(&encoded, true, max_bytes) {
            Ok(decoded) => prop_assert_eq!(decoded, raw),
            Err(BodyError::TooLarge { .. }) => prop_assert!(raw.len() > max_bytes),
            Err(error) => prop_assert!(false, "unexpected {error}"),
        }
    }

    #[test]
    fn verify_subscription_never_panics(query in ".{0,200}", token in ".{0,20}") {
        let outcome = verify_subscription(&query, &token);
        prop_assert!(matches!(outcome.status(), 200 | 403));
        if token.is_empty() {
            prop_assert!(!outcome.is_accepted());
        }
    }

    #[test]
    fn the_handshake_accepts_exactly_the_configured_token(
        token in ".{1,40}",
        given in ".{1,40}",
        challenge in ".{1,40}",
    ) {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "subscribe")
            .append_pair("hub.verify_token", &given)
            .append_pair("hub.challenge", &challenge)
            .finish();
        let outcome = verify_subscription(&query, &token);
        if given == token {
            prop_assert_eq!(outcome, VerificationOutcome::Accept { challenge });
        } else {
            prop_assert_eq!(outcome.status(), 403);
        }
    }

    #[test]
    fn generated_personal_data_never_shows_in_debug(
        body in "[a-z]{3}[0-9]{6,12}",
        number in "1555[0-9]{7}",
        user_id in "US\\.[0-9]{12,20}",
        name in "[A-Z][a-z]{2}[0-9]{4}",
        latitude in -89.0_f64..89.0,
    ) {
        let webhook = json!({
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "metadata": {"phone_number_id": "109000000000001"},
                "contacts": [{"profile": {"name": name}, "wa_id": number, "user_id": user_id}],
                "messages": [
                    {"from": number, "id": "wamid.P1", "timestamp": "1", "type": "text", "text": {"body": body}},
                    {"from": number, "id": "wamid.P2", "timestamp": "2", "type": "location",
                     "location": {"latitude": latitude, "longitude": 1.5, "name": body, "address": name}},
                    {"from": number, "id": "wamid.P3", "timestamp": "3", "type": "system",
                     "system": {"body": body, "type": "user_changed_number", "wa_id": format!("{number}9")}}
                ],
                "statuses": [{"id": "wamid.S", "status": "read", "timestamp": "4", "recipient_id": number,
                              "recipient_user_id": user_id}]
            }}]}]
        });
        let events = parse_events(&serde_json::to_vec(&webhook).unwrap()).unwrap();
        prop_assert_eq!(events.len(), 4);
        let debug = format!("{events:?}");
        prop_assert!(!debug.contains(&body));
        prop_assert!(!debug.contains(&number));
        prop_assert!(!debug.contains(&user_id));
        prop_assert!(!debug.contains(&name));
        let latitude_text = format!("{latitude}");
        if latitude_text.len() >= 6 {
            prop_assert!(!debug.contains(&latitude_text));
        }
    }
}
