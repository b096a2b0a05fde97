//! The Graph client against a local HTTP server speaking the Cloud API's shapes.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{GraphServer, Reply};
use votecheck_graph::{GraphClient, GraphConfig, GraphError, OutboundContent, Recipient};
use votecheck_outbound::{Button, ListRow, Template};

const TOKEN: &str = "EAAGtest-token-0123456789";
const PHONE_NUMBER_ID: &str = "109000000000001";

fn config(server: &GraphServer) -> GraphConfig {
    GraphConfig::new(PHONE_NUMBER_ID, TOKEN)
        .with_base_url(&server.base_url)
        .with_timeout(Duration::from_millis(500))
        .with_backoff(Duration::from_millis(10), Duration::from_millis(40))
}

fn client(server: &GraphServer) -> GraphClient {
    GraphClient::new(config(server)).unwrap()
}

fn citizen() -> Recipient {
    Recipient::PhoneNumber("15550001111".into())
}

fn assert_token_free(text: &str) {
    assert!(!text.contains(TOKEN), "token leaked in {text}");
    assert!(!text.contains("tok-body"), "message text leaked in {text}");
}

#[tokio::test]
async fn text_reply_has_the_documented_body_path_and_bearer() {
    let server = GraphServer::start(vec![Reply::Sent("wamid.OUT1")]).await;
    let sent = client(&server)
        .send_text(
            &citizen(),
            "Polls open at 7. https://vote.example.org",
            Some("wamid.IN"),
        )
        .await
        .unwrap();
    assert_eq!(sent.message_id, "wamid.OUT1");
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/v25.0/109000000000001/messages");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "15550001111",
            "type": "text",
            "context": { "message_id": "wamid.IN" },
            "text": { "preview_url": true, "body": "Polls open at 7. https://vote.example.org" },
        })
    );
}

#[tokio::test]
async fn configured_version_is_in_the_path_and_bsuid_is_addressed() {
    let server = GraphServer::start(vec![]).await;
    let client = GraphClient::new(config(&server).with_version("v26.0")).unwrap();
    let bsuid = Recipient::BusinessScopedUserId("US.13491208655302741918".into());
    client.send_text(&bsuid, "hello", None).await.unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v26.0/109000000000001/messages");
    assert_eq!(request.body["recipient"], json!("US.13491208655302741918"));
    assert_eq!(
        request.body["text"],
        json!({ "preview_url": false, "body": "hello" })
    );
    assert!(request.body.get("context").is_none());
}

#[tokio::test]
async fn buttons_have_the_documented_interactive_shape() {
    let server = GraphServer::start(vec![Reply::Sent("wamid.B")]).await;
    let sent = client(&server)
        .send_content(
            &citizen(),
            &OutboundContent::Buttons {
                body: "What would you like to know?".into(),
                buttons: vec![
                    Button::new("register", "Registering"),
                    Button::new("where", "Where to vote"),
                ],
            },
            Some("wamid.IN"),
        )
        .await
        .unwrap();
    assert_eq!(sent.message_id, "wamid.B");
    assert_eq!(
        server.requests()[0].body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "15550001111",
            "type": "interactive",
            "context": { "message_id": "wamid.IN" },
            "interactive": {
                "type": "button",
                "body": { "text": "What would you like to know?" },
                "action": { "buttons": [
                    { "type": "reply", "reply": { "id": "register", "title": "Registering" } },
                    { "type": "reply", "reply": { "id": "where", "title": "Where to vote" } },
                ]},
            },
        })
    );
}

#[tokio::test]
async fn a_template_goes_out_with_its_language_and_parameters() {
    let server = GraphServer::start(vec![Reply::Sent("wamid.T")]).await;
    let template = OutboundContent::Template(Template {
        name: "fact_check_update".into(),
        language: "pt_BR".into(),
        body_parameters: vec!["Falso".into(), "https://example.org/checagem".into()],
    });
    let sent = client(&server)
        .send_content(&citizen(), &template, None)
        .await
        .unwrap();
    assert_eq!(sent.message_id, "wamid.T");
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v25.0/109000000000001/messages");
    assert_eq!(request.body["type"], "template");
    assert_eq!(
        request.body["template"],
        json!({
            "name": "fact_check_update",
            "language": { "policy": "deterministic", "code": "pt_BR" },
            "components": [{ "type": "body", "parameters": [
                { "type": "text", "text": "Falso" },
                { "type": "text", "text": "https://example.org/checagem" },
            ]}],
        })
    );
    // A parameter WhatsApp would refuse never leaves.
    let refused = OutboundContent::Template(Template {
        name: "fact_check_update".into(),
        language: "pt_BR".into(),
        body_parameters: vec!["two\nlines".into()],
    });
    let error = client(&server)
        .send_content(&citizen(), &refused, None)
        .await
        .unwrap_err();
    assert_eq!(error.metric_name(), "graph_invalid_message");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn list_has_the_documented_interactive_shape() {
    let server = GraphServer::start(vec![Reply::Sent("wamid.L")]).await;
    client(&server)
        .send_content(
            &citizen(),
            &OutboundContent::List {
                body: "Pick a topic".into(),
                button: "Topics".into(),
                section_title: "Elections".into(),
                rows: vec![
                    ListRow {
                        id: "dates".into(),
                        title: "Key dates".into(),
                        description: Some("Registration and voting days".into()),
                    },
                    ListRow {
                        id: "id".into(),
                        title: "Voter ID".into(),
                        description: None,
                    },
                ],
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        server.requests()[0].body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "15550001111",
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": { "text": "Pick a topic" },
                "action": {
                    "button": "Topics",
                    "sections": [{ "title": "Elections", "rows": [
                        { "id": "dates", "title": "Key dates", "description": "Registration and voting days" },
                        { "id": "id", "title": "Voter ID" },
                    ]}],
                },
            },
        })
    );
}

#[tokio::test]
async fn mark_read_sends_status_and_typing_indicator() {
    let server = GraphServer::start(vec![Reply::Success]).await;
    client(&server).mark_read("wamid.IN", true).await.unwrap();
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v25.0/109000000000001/messages");
    assert_eq!(
        request.body,
        json!({
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": "wamid.IN",
            "typing_indicator": { "type": "text" },
        })
    );
}

#[tokio::test]
async fn server_error_then_success_takes_two_attempts() {
    let server = GraphServer::start(vec![Reply::Status(500), Reply::Sent("wamid.R")]).await;
    let sent = client(&server)
        .send_text(&citizen(), "hi", None)
        .await
        .unwrap();
    assert_eq!(sent.message_id, "wamid.R");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn persistent_server_error_stops_at_max_attempts() {
    let server = GraphServer::start(vec![Reply::Status(503); 5]).await;
    let error = client(&server)
        .send_text(&citizen(), "hi", None)
        .await
        .unwrap_err();
    assert_eq!(error.metric_name(), "graph_server_error");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn http_429_is_retried() {
    let server = GraphServer::start(vec![Reply::Status(429), Reply::Sent("wamid.R")]).await;
    client(&server)
        .send_text(&citizen(), "hi", None)
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn graph_rate_limit_codes_back_off_then_give_up() {
    let server = GraphServer::start(vec![Reply::GraphError(400, 131056); 3]).await;
    let error = client(&server)
        .send_text(&citizen(), "hi", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            GraphError::RateLimited {
                code: Some(131056),
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.metric_name(), "graph_rate_limited");
    assert_eq!(server.requests().len(), 3);

    let server = GraphServer::start(vec![Reply::GraphError(400, 130429)]).await;
    client(&server)
        .send_text(&citizen(), "hi", None)
        .await
        .unwrap();
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn outside_window_is_not_retried() {
    let server = GraphServer::start(vec![Reply::GraphError(400, 131047)]).await;
    let error = client(&server)
        .send_text(&citizen(), "tok-body", None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, GraphError::OutsideWindow { .. }),
        "{error:?}"
    );
    assert_eq!(error.metric_name(), "graph_outside_window");
    assert_eq!(server.requests().len(), 1);
    assert_token_free(&format!("{error} {error:?}"));
}

#[tokio::test]
async fn expired_token_is_not_retried() {
    let server = GraphServer::start(vec![Reply::GraphError(401, 190)]).await;
    let error = client(&server)
        .send_text(&citizen(), "tok-body", None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, GraphError::TokenExpired { .. }),
        "{error:?}"
    );
    assert_eq!(error.metric_name(), "graph_token_expired");
    assert_eq!(server.requests().len(), 1);
    assert_token_free(&format!("{error} {error:?}"));
}

#[tokio::test]
async fn generic_client_error_is_not_retried() {
    let server = GraphServer::start(vec![Reply::GraphError(400, 100)]).await;
    let error = client(&server)
        .send_text(&citizen(), "tok-body", None)
        .await
        .unwrap_err();
    match &error {
        GraphError::Api {
            status,
            code,
            subcode,
            message,
            ..
        } => {
            assert_eq!(
                (*status, *code, *subcode),
                (400, Some(100), Some(2_494_010))
            );
            assert!(message.contains("test details"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(error.metric_name(), "graph_client_error");
    assert_eq!(server.requests().len(), 1);
    assert_token_free(&format!("{error} {error:?}"));
}

#[tokio::test]
async fn a_hanging_server_times_out_once_and_is_not_sent_again() {
    let server = GraphServer::start(vec![Reply::Hang; 3]).await;
    let timeout = Duration::from_millis(300);
    let client = GraphClient::new(config(&server).with_timeout(timeout)).unwrap();
    let started = Instant::now();
    let error = client.send_text(&citizen(), "hi", None).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(
            error,
            GraphError::Timeout {
                attempts: 1,
                may_have_been_delivered: true
            }
        ),
        "{error:?}"
    );
    assert!(error.may_have_been_delivered() && !error.is_transient());
    assert_eq!(error.metric_name(), "graph_timeout");
    assert_eq!(
        server.requests().len(),
        1,
        "a request that went out is never repeated"
    );
    assert!(elapsed >= timeout, "{elapsed:?}");
    assert!(elapsed < timeout + Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn a_slow_success_is_posted_once() {
    // The first (and only) attempt times out while WhatsApp is still accepting the message: a
    // second POST would deliver the reply twice.
    let server =
        GraphServer::start(vec![Reply::Slow(Duration::from_millis(900), "wamid.SLOW")]).await;
    let client =
        GraphClient::new(config(&server).with_timeout(Duration::from_millis(300))).unwrap();
    let error = client
        .send_text(&citizen(), "hi", Some("wamid.IN"))
        .await
        .unwrap_err();
    assert!(error.may_have_been_delivered(), "{error:?}");
    // Give a wrong retry time to arrive before counting.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let elsewhere = GraphServer::start(vec![]).await;
    let location = format!("{}/v25.0/{PHONE_NUMBER_ID}/messages", elsewhere.base_url);
    let server = GraphServer::start(vec![Reply::Redirect(location)]).await;
    let error = client(&server)
        .send_text(&citizen(), "tok-body", None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, GraphError::Api { status: 307, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable() && !error.may_have_been_delivered());
    assert_eq!(server.requests().len(), 1);
    assert!(
        elsewhere.requests().is_empty(),
        "the message and the token went to the redirect target: {:?}",
        elsewhere.requests()
    );
}

#[tokio::test]
async fn plain_http_is_refused_except_to_loopback() {
    for base_url in ["http://graph.facebook.com", "http://192.0.2.10:8080"] {
        let error =
            GraphClient::new(GraphConfig::new(PHONE_NUMBER_ID, TOKEN).with_base_url(base_url))
                .unwrap_err();
        assert!(matches!(error, GraphError::InvalidConfig(_)), "{error:?}");
        assert!(error.to_string().contains("https://"), "{error}");
        assert_token_free(&error.to_string());
    }
    for base_url in [
        "https://graph.facebook.com",
        "http://127.0.0.1:9",
        "http://localhost:9",
    ] {
        GraphClient::new(GraphConfig::new(PHONE_NUMBER_ID, TOKEN).with_base_url(base_url)).unwrap();
    }
}

#[tokio::test]
async fn a_deadline_cuts_the_attempt_and_stops_the_retries() {
    // The server fails every attempt with 500; the backoff (at least 500 ms) plus the least time
    // of an attempt (500 ms) does not fit before the deadline, so the call ends after one attempt
    // instead of three.
    let server = GraphServer::start(vec![Reply::Status(500); 3]).await;
    let client = GraphClient::new(
        config(&server)
            .with_timeout(Duration::from_secs(5))
            .with_backoff(Duration::from_secs(1), Duration::from_secs(1)),
    )
    .unwrap();
    let error = client
        .until(Instant::now() + Duration::from_millis(900))
        .send_text(&citizen(), "hi", None)
        .await
        .unwrap_err();
    assert_eq!(error.metric_name(), "graph_server_error", "{error:?}");
    assert!(error.is_transient() && !error.may_have_been_delivered());
    assert_eq!(server.requests().len(), 1);

    // A deadline already too close: nothing is sent at all.
    let error = client
        .until(Instant::now() + Duration::from_millis(100))
        .send_text(&citizen(), "hi", None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, GraphError::DeadlineReached { attempts: 0 }),
        "{error:?}"
    );
    assert!(error.is_transient() && !error.may_have_been_delivered());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn unreachable_server_is_a_network_error_after_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let config = GraphConfig::new(PHONE_NUMBER_ID, TOKEN)
        .with_base_url(base_url)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5));
    let error = GraphClient::new(config)
        .unwrap()
        .send_text(&citizen(), "tok-body", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            GraphError::Network {
                attempts: 3,
                may_have_been_delivered: false,
                ..
            }
        ),
        "connection refused sent nothing and is retried: {error:?}"
    );
    assert_eq!(error.metric_name(), "graph_network");
    assert_token_free(&format!("{error} {error:?}"));
}

#[tokio::test]
async fn malformed_success_is_not_retried() {
    let server = GraphServer::start(vec![Reply::Success]).await;
    let error = client(&server)
        .send_text(&citizen(), "hi", None)
        .await
        .unwrap_err();
    assert_eq!(error.metric_name(), "graph_unexpected_response");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn invalid_buttons_and_rows_send_nothing() {
    let server = GraphServer::start(vec![]).await;
    let client = client(&server);
    let buttons = |pairs: &[(&str, &str)]| OutboundContent::Buttons {
        body: "body".into(),
        buttons: pairs
            .iter()
            .map(|(id, title)| Button::new(*id, *title))
            .collect(),
    };
    let long_id = "i".repeat(257);
    let list = |label: &str, rows: Vec<ListRow>| OutboundContent::List {
        body: "body".into(),
        button: label.into(),
        section_title: "Section".into(),
        rows,
    };
    let row = |id: &str, title: &str, description: Option<&str>| ListRow {
        id: id.into(),
        title: title.into(),
        description: description.map(str::to_string),
    };
    let eleven: Vec<ListRow> = (0..11)
        .map(|i| row(&format!("row{i}"), "Row", None))
        .collect();
    let long_description = "d".repeat(73);
    for content in [
        buttons(&[("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]),
        buttons(&[("a", "This title is far too long")]),
        buttons(&[(long_id.as_str(), "OK")]),
        buttons(&[]),
        list("Menu", eleven.clone()),
        list("Menu", vec![row("a", "A title longer than 24 chars", None)]),
        list("Menu", vec![row("a", "A", Some(&long_description))]),
        list("A label longer than 20", eleven[..2].to_vec()),
    ] {
        let error = client
            .send_content(&citizen(), &content, None)
            .await
            .unwrap_err();
        assert!(
            matches!(error, GraphError::InvalidMessage { .. }),
            "{error:?}"
        );
        assert_eq!(error.metric_name(), "graph_invalid_message");
    }
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn token_never_appears_in_debug_output() {
    let server = GraphServer::start(vec![Reply::Status(500); 3]).await;
    let config = config(&server);
    let client = GraphClient::new(config.clone()).unwrap();
    let error = client
        .send_text(&citizen(), "tok-body", None)
        .await
        .unwrap_err();
    for text in [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{error:?}"),
        format!("{error}"),
        format!("{:?}", citizen()),
    ] {
        assert_token_free(&text);
        assert!(!text.contains("15550001111"), "recipient leaked in {text}");
    }
}
