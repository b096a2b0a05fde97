//! The JSON API behind the preview console. A console message is sent as the signed webhook the
//! Cloud API would deliver ([`crate::simulate`]) to the same handler the Lambda runs; the
//! response carries the replies exactly as the citizen would receive them and the engine's
//! reasoning for the answer.
//!
//! - `GET /api/info`: corpus version, counts, languages, whether replies are a dry run;
//! - `POST /api/messages`: `{citizen, text, forwarded}` or `{citizen, button: {id, title}}` or
//!   `{citizen, row: {id, title}}` → `{message_id, status, outcomes, replies, answer, latency_ms}`;
//! - `POST /api/language`: `{citizen, language}` saves the simulated citizen's language, as a
//!   citizen's earlier messages would;
//! - `GET /api/outbox?after=N[&citizen=C]`: replies to real WhatsApp users (webhook traffic)
//!   since `N`, and with `citizen` every message to that simulated citizen (alerts, late verdicts);
//! - `GET /passages/{id}`: one passage's full text, the target of citation links.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use votecheck_engine::Answer;
use votecheck_store::{CitizenKey, Preferences};
use votecheck_webhook::{Method, WebhookRequest};
use votecheck_whatsapp::signature_header;

use crate::outbox::{CONSOLE_CITIZEN_PREFIX, CONSOLE_MESSAGE_PREFIX, OutboxEntry};
use crate::report_page::escape;
use crate::server::AppState;
use crate::simulate::{ConsoleInput, webhook_payload};

/// The longest text the console accepts (WhatsApp's own limit).
pub const MAX_TEXT_CHARS: usize = 4096;

/// A button or list row the simulated citizen tapped.
#[derive(Debug, Deserialize)]
pub struct Choice {
    /// The button or row id.
    pub id: String,
    /// Its title.
    pub title: String,
}

/// A message from the simulated citizen.
#[derive(Debug, Deserialize)]
pub struct ConsoleMessage {
    /// The simulated citizen.
    pub citizen: String,
    #[serde(default)]
    /// Typed text.
    pub text: Option<String>,
    #[serde(default)]
    /// Whether the text is sent as forwarded.
    pub forwarded: bool,
    #[serde(default)]
    /// A tapped reply button.
    pub button: Option<Choice>,
    #[serde(default)]
    /// A chosen list row.
    pub row: Option<Choice>,
}

/// What the console shows for one message.
#[derive(Debug, Serialize)]
pub struct ConsoleExchange {
    /// The key of the simulated message (as stored), not its id.
    pub message_id: String,
    /// The webhook's HTTP status.
    pub status: u16,
    /// What happened to the message (`answer`, `no_answer`, `duplicate`, `rate_limited`...).
    pub outcomes: Vec<String>,
    /// The replies, in the order they were sent.
    pub replies: Vec<OutboxEntry>,
    /// The engine's decision, when the message was answered.
    pub answer: Option<Answer>,
    /// Time to handle the webhook, in milliseconds.
    pub latency_ms: f64,
}

/// A 400 with a reason.
fn bad_request(reason: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": reason.into() })),
    )
        .into_response()
}

/// Whether `citizen` is a well-formed console citizen id.
pub fn is_console_citizen_id(citizen: &str) -> bool {
    citizen.len() <= 64
        && citizen
            .strip_prefix(CONSOLE_CITIZEN_PREFIX)
            .is_some_and(|rest| {
                !rest.is_empty()
                    && rest
                        .chars()
                        .all(|character| character.is_ascii_alphanumeric() || character == '-')
            })
}

/// What the console sends, checked.
pub fn console_input(message: &ConsoleMessage) -> Result<ConsoleInput, String> {
    if !is_console_citizen_id(&message.citizen) {
        return Err(format!(
            "citizen must look like `{CONSOLE_CITIZEN_PREFIX}<letters, digits or dashes>`"
        ));
    }
    match (&message.text, &message.button, &message.row) {
        (Some(text), None, None) => {
            let text = text.trim();
            if text.is_empty() {
                return Err("the message is empty".to_string());
            }
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(format!(
                    "the message is longer than {MAX_TEXT_CHARS} characters"
                ));
            }
            Ok(ConsoleInput::Text {
                body: text.to_string(),
                forwarded: message.forwarded,
            })
        }
        (None, Some(button), None) => Ok(ConsoleInput::Button {
            id: button.id.clone(),
            title: button.title.clone(),
        }),
        (None, None, Some(row)) => Ok(ConsoleInput::ListRow {
            id: row.id.clone(),
            title: row.title.clone(),
        }),
        _ => Err("send exactly one of `text`, `button` or `row`".to_string()),
    }
}

/// `POST /api/messages`.
pub async fn post_message(
    State(state): State<Arc<AppState>>,
    Json(message): Json<ConsoleMessage>,
) -> Response {
    let input = match console_input(&message) {
        Ok(input) => input,
        Err(reason) => return bad_request(reason),
    };
    let now = votecheck_webhook::handler::system_clock();
    let message_id = format!(
        "{CONSOLE_MESSAGE_PREFIX}{now}.{}",
        state.console_messages.fetch_add(1, Ordering::SeqCst)
    );
    let body = webhook_payload(&message.citizen, &message_id, now, &input).to_string();
    let signature = match signature_header(&state.app_secret, body.as_bytes()) {
        Ok(signature) => signature,
        Err(problem) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, problem.to_string()).into_response();
        }
    };
    let request = WebhookRequest {
        method: Method::Post,
        query: String::new(),
        signature: Some(signature),
        body: body.into_bytes(),
        body_is_base64: false,
    };
    // The console shows the message's key, as the outbox and the store do.
    let message_key = votecheck_store::MessageKey::derive(&state.id_salt, &message_id);
    let seen = state.outbox.last_seq();
    let started = Instant::now();
    let live = state.live.get();
    let (response, outcomes) = live.handler.handle_with_outcomes(&request).await;
    let seconds = started.elapsed().as_secs_f64();
    state
        .metrics
        .record("console", response.status, seconds, &outcomes);
    let replies = state
        .outbox
        .after(seen)
        .into_iter()
        .filter(|entry| entry.to == message.citizen)
        .collect();
    Json(ConsoleExchange {
        answer: state.traces.take(&message_key),
        message_id: message_key.to_string(),
        status: response.status,
        outcomes: outcomes
            .iter()
            .map(|outcome| outcome.label().to_string())
            .collect(),
        replies,
        latency_ms: seconds * 1000.0,
    })
    .into_response()
}

/// A language choice for a simulated citizen.
#[derive(Debug, Deserialize)]
pub struct LanguageChoice {
    /// The simulated citizen.
    pub citizen: String,
    /// The language to switch to (BCP 47).
    pub language: String,
}

/// `POST /api/language`: saves the citizen's language as their earlier messages would have.
pub async fn post_language(
    State(state): State<Arc<AppState>>,
    Json(choice): Json<LanguageChoice>,
) -> Response {
    if !is_console_citizen_id(&choice.citizen) {
        return bad_request("unknown citizen");
    }
    let live = state.live.get();
    if !live.engine.catalogue().supports(&choice.language)
        && !live
            .engine
            .index()
            .manifest()
            .languages()
            .contains(&choice.language)
    {
        return bad_request(format!(
            "`{}` is not a language of this bot",
            choice.language
        ));
    }
    let citizen = CitizenKey::derive(&state.id_salt, &choice.citizen);
    let now = votecheck_webhook::handler::system_clock();
    let mut preferences = match state.store.preferences(&citizen, now).await {
        Ok(preferences) => preferences.unwrap_or(Preferences {
            language: None,
            opted_out: false,
            last_seen: None,
        }),
        Err(problem) => {
            return (StatusCode::SERVICE_UNAVAILABLE, problem.to_string()).into_response();
        }
    };
    preferences.language = Some(choice.language.clone());
    preferences.last_seen = Some(now);
    match state.store.save_preferences(&citizen, &preferences).await {
        Ok(()) => Json(json!({ "language": choice.language })).into_response(),
        Err(problem) => (StatusCode::SERVICE_UNAVAILABLE, problem.to_string()).into_response(),
    }
}

/// `GET /api/info`.
pub async fn get_info(State(state): State<Arc<AppState>>) -> Response {
    let live = state.live.get();
    let engine = &live.engine;
    let manifest = engine.index().manifest();
    let mut codes = engine.catalogue().languages();
    for language in manifest.languages() {
        if !codes.contains(&language) {
            codes.push(language);
        }
    }
    codes.sort();
    let corpus_languages = manifest.languages();
    let languages: Vec<_> = codes
        .iter()
        .map(|code| {
            json!({
                "code": code,
                "name": engine.catalogue().language_name(code, code),
                "in_corpus": corpus_languages.contains(code),
            })
        })
        .collect();
    Json(json!({
        "corpus_version": manifest.corpus_version(),
        "documents": manifest.counts.documents,
        "passages": manifest.counts.passages,
        "default_language": engine.default_language(),
        "languages": languages,
        "dry_run": state.dry_run,
        "store": state.store.describe(),
    }))
    .into_response()
}

/// The `after` parameter of `/api/outbox`.
#[derive(Debug, Deserialize)]
pub struct After {
    #[serde(default)]
    /// The last sequence number the console has seen.
    pub after: u64,
    #[serde(default)]
    /// The console's simulated citizen, whose own messages not answering a console message
    /// (an alert, a late verdict) are included too.
    pub citizen: Option<String>,
}

/// `GET /api/outbox`: replies to real WhatsApp users, and, with `citizen`, every message to that
/// simulated citizen (the console shows those it did not get as the answer to a message).
pub async fn get_outbox(
    State(state): State<Arc<AppState>>,
    Query(after): Query<After>,
) -> Response {
    let entries: Vec<OutboxEntry> = state
        .outbox
        .after(after.after)
        .into_iter()
        .filter(|entry| !entry.console || after.citizen.as_deref() == Some(entry.to.as_str()))
        .collect();
    Json(json!({ "last_seq": state.outbox.last_seq(), "entries": entries })).into_response()
}

/// `GET /passages/{id}`: the passage a citation quotes, in full.
pub async fn get_passage(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let live = state.live.get();
    let passage = match live.engine.index().passage_by_id(&id) {
        Ok(Some(passage)) => passage,
        Ok(None) => {
            return (
                StatusCode::NOT_FOUND,
                Html(format!(
                    "<!doctype html><meta charset=\"utf-8\"><title>Not found</title><p>No passage <code>{}</code> in corpus version {}.</p>",
                    escape(&id),
                    live.engine.index().manifest().corpus_version()
                )),
            )
                .into_response();
        }
        Err(problem) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, problem.to_string()).into_response();
        }
    };
    let link = passage
        .url
        .as_deref()
        .map(|url| {
            format!(
                "<p>Official page: <a href=\"{0}\" rel=\"noopener\">{0}</a></p>",
                escape(url)
            )
        })
        .unwrap_or_default();
    let paragraphs: String = passage
        .text
        .split("\n\n")
        .map(|paragraph| format!("<p>{}</p>", escape(paragraph)))
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title><link rel=\"stylesheet\" href=\"/assets/console.css\"></head><body class=\"passage\"><header><h1>{title}</h1><nav><a href=\"/\">Preview console</a></nav></header><main><p class=\"meta\">{section} · <code>{source}</code> · passage <code>{id}</code>{as_of}</p>{link}<article>{paragraphs}</article></main></body></html>",
        lang = escape(&passage.language),
        title = escape(&passage.title),
        section = escape(&passage.section),
        source = escape(&passage.source),
        id = escape(&passage.passage_id),
        as_of = passage
            .updated
            .as_deref()
            .or(passage.published.as_deref())
            .map(|date| format!(" · as of {}", escape(date)))
            .unwrap_or_default(),
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(citizen: &str, text: Option<&str>) -> ConsoleMessage {
        ConsoleMessage {
            citizen: citizen.to_string(),
            text: text.map(str::to_string),
            forwarded: false,
            button: None,
            row: None,
        }
    }

    #[test]
    fn console_citizens_must_use_the_console_prefix() {
        assert!(is_console_citizen_id("console-3f2a"));
        assert!(!is_console_citizen_id("15551234567"));
        assert!(!is_console_citizen_id("console-"));
        assert!(!is_console_citizen_id("console-<b>"));
        assert!(console_input(&message("15551234567", Some("hi"))).is_err());
    }

    #[test]
    fn a_message_has_exactly_one_kind_of_content_and_some_text() {
        assert!(console_input(&message("console-1", Some("   "))).is_err());
        assert!(console_input(&message("console-1", None)).is_err());
        let long = "a".repeat(MAX_TEXT_CHARS + 1);
        assert!(console_input(&message("console-1", Some(&long))).is_err());
        let mut both = message("console-1", Some("hi"));
        both.button = Some(Choice {
            id: "x".to_string(),
            title: "X".to_string(),
        });
        assert!(console_input(&both).is_err());
        assert_eq!(
            console_input(&message("console-1", Some(" hi "))).unwrap(),
            ConsoleInput::Text {
                body: "hi".to_string(),
                forwarded: false
            }
        );
    }
}
