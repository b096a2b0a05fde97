//! Alerts in local mode: the alert files of a directory (`--alerts`, the sample alerts by
//! default) sent from the console through the same code as production, with an in-process
//! queue ([`LocalQueue`]) instead of SQS and a dry-run channel instead of the Graph API. Each
//! message is captured in the outbox, rendered as the template a citizen would receive, and a
//! simulated citizen's copy is reported `delivered` back through the webhook handler, so the
//! report's funnel fills as it would in production.
//!
//! After each `--watch` rebuild the pending follow-ups ("tell me if checked") are matched against
//! the new fact-checks and their verdicts captured the same way ([`LocalAlerts::send_follow_ups`]).
//!
//! - `GET /api/alerts`: the alert files, each with its id, topic and languages (or its problem);
//! - `POST /api/alerts`: `{file}` → the enqueue summary, what happened to the recipients, and
//!   the messages captured for them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use votecheck_alerts::Alert;
use votecheck_alerts::enqueue::enqueue_alert;
use votecheck_alerts::job::Job;
use votecheck_alerts::queue::LocalQueue;
use votecheck_alerts::sender::{AlertChannel, DeliveryReport, Sender};
use votecheck_alerts::settings::SenderSettings;
use votecheck_graph::{GraphError, Recipient, SentMessage};
use votecheck_store::Store;
use votecheck_webhook::{Method, OutboundContent, OutgoingMessage, WebhookRequest};
use votecheck_whatsapp::signature_header;

use crate::outbox::{Outbox, OutboxEntry, is_console_citizen};
use crate::server::AppState;
use crate::simulate::status_payload;

/// Captures alert messages in the outbox instead of sending them.
pub struct DryRunChannel {
    outbox: Arc<Outbox>,
    /// Messages to simulated citizens since the last [`DryRunChannel::take_console_sends`].
    console_sends: Mutex<Vec<(String, String)>>,
}

impl DryRunChannel {
    /// A channel into `outbox`.
    pub fn new(outbox: Arc<Outbox>) -> Self {
        DryRunChannel {
            outbox,
            console_sends: Mutex::new(Vec::new()),
        }
    }

    /// The (citizen id, message id) of every message to a simulated citizen since the last call.
    pub fn take_console_sends(&self) -> Vec<(String, String)> {
        std::mem::take(
            &mut *self
                .console_sends
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

#[async_trait]
impl AlertChannel for DryRunChannel {
    async fn send(
        &self,
        to: &Recipient,
        content: &OutboundContent,
    ) -> Result<SentMessage, GraphError> {
        let message = OutgoingMessage {
            to: to.clone(),
            reply_to: None,
            content: content.clone(),
        };
        // Refused as the Cloud API would refuse it, and shown so.
        if let Err(problem) = content.check() {
            let error = GraphError::from(problem);
            self.outbox.push(&message, true, Some(error.to_string()));
            return Err(error);
        }
        let seq = self.outbox.push(&message, true, None);
        let message_id = format!("wamid.DRYRUN.{seq}");
        if is_console_citizen(to)
            && let Recipient::PhoneNumber(id) | Recipient::BusinessScopedUserId(id) = to
        {
            self.console_sends
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push((id.clone(), message_id.clone()));
        }
        Ok(SentMessage { message_id })
    }
}

/// The alerts side of `votecheck serve`.
pub struct LocalAlerts {
    /// Where the alert files are.
    pub directory: Option<PathBuf>,
    queue: LocalQueue,
    sender: Sender,
    channel: Arc<DryRunChannel>,
    salt: Vec<u8>,
    /// The languages an alert may be written in (the catalogue's), read once.
    languages: Vec<String>,
}

impl LocalAlerts {
    /// Alerts from `directory`, sent over `store` into `outbox`, with the deployment's salt.
    pub fn new(
        directory: Option<PathBuf>,
        store: Arc<dyn Store>,
        outbox: Arc<Outbox>,
        id_salt: &[u8],
    ) -> Self {
        let channel = Arc::new(DryRunChannel::new(outbox));
        let sender = Sender::new(store, channel.clone(), id_salt, &SenderSettings::default());
        LocalAlerts {
            directory,
            queue: LocalQueue::new(),
            sender,
            channel,
            salt: id_salt.to_vec(),
            languages: catalogue_languages(),
        }
    }

    /// Late verdicts after a rebuild: the pending follow-ups matched against `engine`'s
    /// fact-checks, each verdict captured in the console (dry run) once.
    pub async fn send_follow_ups(
        &self,
        engine: &votecheck_engine::Engine,
        store: &dyn Store,
        now: i64,
    ) -> Result<votecheck_follow_ups::FollowUpReport, votecheck_store::StoreError> {
        votecheck_follow_ups::run_follow_ups(
            engine,
            store,
            self.channel.as_ref(),
            &self.salt,
            votecheck_follow_ups::Mode::Send,
            now,
        )
        .await
    }
}

/// An alert file as the console lists it.
#[derive(Debug, Serialize)]
pub struct AlertFile {
    /// The file's name in the alerts directory.
    pub file: String,
    /// The alert's id, when the file is valid.
    pub id: Option<String>,
    /// Its topic.
    pub topic: Option<String>,
    /// Its languages.
    pub languages: Vec<String>,
    /// What is wrong with the file, when something is.
    pub problem: Option<String>,
}

fn catalogue_languages() -> Vec<String> {
    votecheck_engine::catalogue::Catalogue::load()
        .map(|catalogue| catalogue.languages())
        .unwrap_or_default()
}

/// `GET /api/alerts`.
pub async fn list_alerts(State(state): State<Arc<AppState>>) -> Response {
    let Some(directory) = &state.alerts.directory else {
        return Json(json!({ "directory": null, "alerts": [] })).into_response();
    };
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".toml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let languages = &state.alerts.languages;
    let alerts: Vec<AlertFile> = names
        .into_iter()
        .map(|file| {
            let read = std::fs::read_to_string(directory.join(&file))
                .map_err(|problem| problem.to_string())
                .and_then(|text| {
                    Alert::parse(&file, &text, languages).map_err(|problem| problem.to_string())
                });
            match read {
                Ok(alert) => AlertFile {
                    file,
                    id: Some(alert.id),
                    topic: Some(alert.topic.as_str().to_owned()),
                    languages: alert.templates.keys().cloned().collect(),
                    problem: None,
                },
                Err(problem) => AlertFile {
                    file,
                    id: None,
                    topic: None,
                    languages: Vec::new(),
                    problem: Some(problem),
                },
            }
        })
        .collect();
    Json(json!({ "directory": directory.display().to_string(), "alerts": alerts })).into_response()
}

/// Which alert file to send.
#[derive(Debug, Deserialize)]
pub struct SendRequest {
    /// Its name in the alerts directory.
    pub file: String,
}

/// What sending an alert did.
#[derive(Debug, Serialize)]
pub struct SendResult {
    /// The enqueue summary, as `votecheck alerts send` prints it.
    pub summary: String,
    /// Accepted (captured) messages.
    pub sent: u64,
    /// Recipients skipped (opted out since, or sent before).
    pub skipped: u64,
    /// Refused messages.
    pub failed: u64,
    /// The messages captured, as the outbox shows them.
    pub deliveries: Vec<OutboxEntry>,
}

fn problem(status: StatusCode, reason: impl Into<String>) -> Response {
    (status, Json(json!({ "error": reason.into() }))).into_response()
}

/// `POST /api/alerts`: enqueue the file's alert on the in-process queue, deliver its jobs with
/// the dry-run channel, and report the simulated citizens' copies as delivered.
pub async fn send_alert(
    State(state): State<Arc<AppState>>,
    Json(request): Json<SendRequest>,
) -> Response {
    let Some(directory) = &state.alerts.directory else {
        return problem(
            StatusCode::NOT_FOUND,
            "no alerts directory (start with --alerts DIR)",
        );
    };
    let plain_name = !request.file.is_empty()
        && request.file.ends_with(".toml")
        && !request.file.contains(['/', '\\'])
        && !request.file.starts_with('.');
    if !plain_name {
        return problem(
            StatusCode::BAD_REQUEST,
            "file must be the name of a .toml file in the alerts directory",
        );
    }
    let text = match std::fs::read_to_string(directory.join(&request.file)) {
        Ok(text) => text,
        Err(reason) => {
            return problem(StatusCode::NOT_FOUND, format!("{}: {reason}", request.file));
        }
    };
    let alert = match Alert::parse(&request.file, &text, &state.alerts.languages) {
        Ok(alert) => alert,
        Err(reason) => return problem(StatusCode::BAD_REQUEST, reason.to_string()),
    };
    let now = votecheck_webhook::handler::system_clock();
    let seen = state.outbox.last_seq();
    let alerts = &state.alerts;
    let summary = match enqueue_alert(&alert, state.store.as_ref(), &alerts.queue, now).await {
        Ok(summary) => summary,
        Err(reason) => return problem(StatusCode::SERVICE_UNAVAILABLE, reason.to_string()),
    };
    let mut report = DeliveryReport::default();
    for job in alerts.queue.take_all() {
        if let Job::Deliver(job) = job {
            report += alerts.sender.deliver(&job, None).await;
        }
    }
    // WhatsApp would now report each message delivered; the console's citizens have it.
    for (citizen, message_id) in alerts.channel.take_console_sends() {
        for status in ["sent", "delivered"] {
            deliver_status(&state, &citizen, &message_id, status, now).await;
        }
    }
    Json(SendResult {
        summary: summary.to_string(),
        sent: report.sent,
        skipped: report.skipped,
        failed: report.failed,
        deliveries: state.outbox.after(seen),
    })
    .into_response()
}

/// Posts a signed status webhook to the handler, as WhatsApp would.
async fn deliver_status(state: &AppState, citizen: &str, message_id: &str, status: &str, now: i64) {
    let body = status_payload(citizen, message_id, status, now).to_string();
    let Ok(signature) = signature_header(&state.app_secret, body.as_bytes()) else {
        return;
    };
    let request = WebhookRequest {
        method: Method::Post,
        query: String::new(),
        signature: Some(signature),
        body: body.into_bytes(),
        body_is_base64: false,
    };
    state
        .live
        .get()
        .handler
        .handle_with_outcomes(&request)
        .await;
}
