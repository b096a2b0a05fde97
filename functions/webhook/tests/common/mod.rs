//! Test harness for the handler's privacy and identity tests: the handler over either store
//! backend (embedded SQLite, or DynamoDB on a real `moto_server`), webhook bodies for citizens
//! known by phone number, business-scoped user id (BSUID) or both, message ids that carry the
//! sender's number as real ones do, and a dump of everything a backend holds.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use serde_json::{Value, json};
use votecheck_engine::Engine;
use votecheck_index_builder::{BuildOptions, build_index};
use votecheck_store::{
    ClientSettings, DynamoStore, SqliteStore, Store, StoreConfig, admin, dynamo_client,
};
use votecheck_webhook::{CapturingSender, Handler, Method, Secrets, WebhookRequest};
use votecheck_whatsapp::signature_header;

pub use votecheck_end_to_end::moto::MotoServer;

pub const APP_SECRET: &[u8] = b"test app secret";
pub const SALT: &[u8] = b"test salt";
pub const NOW: i64 = 1_790_000_000;
const TABLE: &str = "votecheck-handler-test";

/// The engine over the sample corpus with passage vectors, built once per test binary.
pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<(tempfile::TempDir, Arc<Engine>)> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/corpus");
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("index");
            let options =
                BuildOptions::embedding_with(votecheck_encoder::testing::required_model_path());
            build_index(&corpus, &out, &options, &mut |_| {}).unwrap();
            let engine = Arc::new(Engine::open(&out).unwrap());
            (dir, engine)
        })
        .1
        .clone()
}

pub fn secrets() -> Secrets {
    Secrets {
        app_secret: APP_SECRET.to_vec(),
        verify_token: "test verify token".to_string(),
        id_salt: SALT.to_vec(),
    }
}

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Dynamo,
}

/// Both backends, for tests that must hold on each.
pub const BACKENDS: [Kind; 2] = [Kind::Sqlite, Kind::Dynamo];

/// The handler over one backend, with a capturing sender and a clock the test moves.
pub struct Setup {
    pub kind: Kind,
    pub handler: Handler,
    pub store: Arc<dyn Store>,
    pub sender: Arc<CapturingSender>,
    pub clock: Arc<AtomicI64>,
    sqlite_file: Option<PathBuf>,
    client: Option<aws_sdk_dynamodb::Client>,
    _moto: Option<MotoServer>,
    _dir: tempfile::TempDir,
}

impl Setup {
    pub async fn new(kind: Kind) -> Setup {
        Setup::with_store(kind, None).await
    }

    /// As [`Setup::new`], or over `store` when given (a store that fails on purpose).
    pub async fn with_store(kind: Kind, replacement: Option<Arc<dyn Store>>) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = StoreConfig::for_table(TABLE);
        let (store, sqlite_file, client, moto): (Arc<dyn Store>, _, _, _) = match kind {
            Kind::Sqlite => {
                let file = dir.path().join("store.sqlite3");
                let store = SqliteStore::open(&file, config.clone()).unwrap();
                (Arc::new(store), Some(file), None, None)
            }
            Kind::Dynamo => {
                let moto = MotoServer::start();
                let client = dynamo_client(&ClientSettings::local(&moto.endpoint)).await;
                admin::init_table(&client, TABLE).await.unwrap();
                let store = DynamoStore::new(client.clone(), config.clone());
                (Arc::new(store), None, Some(client), Some(moto))
            }
        };
        let store = replacement.unwrap_or(store);
        let sender = Arc::new(CapturingSender::default());
        let clock = Arc::new(AtomicI64::new(NOW));
        let handler = Handler::new(engine(), store.clone(), sender.clone(), secrets(), config)
            .with_clock({
                let clock = clock.clone();
                Arc::new(move || clock.load(Ordering::SeqCst))
            });
        Setup {
            kind,
            handler,
            store,
            sender,
            clock,
            sqlite_file,
            client,
            _moto: moto,
            _dir: dir,
        }
    }

    /// Moves the clock on.
    pub fn advance(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Posts a signed webhook body; returns the labels of what happened to each message.
    pub async fn post(&self, body: &Value) -> Vec<String> {
        let body = body.to_string().into_bytes();
        let request = WebhookRequest {
            method: Method::Post,
            query: String::new(),
            signature: Some(signature_header(APP_SECRET, &body).unwrap()),
            body,
            body_is_base64: false,
        };
        let (response, outcomes) = self.handler.handle_with_outcomes(&request).await;
        assert_eq!(response.status, 200, "{:?}", self.kind);
        outcomes
            .iter()
            .map(|outcome| outcome.label().to_string())
            .collect()
    }

    /// How many replies were sent so far.
    pub fn sent_count(&self) -> usize {
        self.sender.sent().len()
    }

    /// The text of the last reply.
    pub fn last_reply(&self) -> String {
        self.sender
            .sent()
            .last()
            .and_then(|message| message.content.body().map(str::to_string))
            .unwrap_or_default()
    }

    /// Everything the backend holds, as text: the SQLite file's bytes (and its write-ahead log),
    /// deleted rows included; or every DynamoDB item, every attribute.
    pub async fn dump(&self) -> String {
        match self.kind {
            Kind::Sqlite => {
                let file = self.sqlite_file.as_ref().unwrap();
                let mut bytes = std::fs::read(file).unwrap();
                for suffix in ["-wal", "-shm", "-journal"] {
                    let mut path = file.clone().into_os_string();
                    path.push(suffix);
                    if let Ok(more) = std::fs::read(&path) {
                        bytes.extend(more);
                    }
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Kind::Dynamo => {
                let client = self.client.as_ref().unwrap();
                let mut items = Vec::new();
                let mut start = None;
                loop {
                    let page = client
                        .scan()
                        .table_name(TABLE)
                        .set_exclusive_start_key(start)
                        .send()
                        .await
                        .unwrap();
                    items.extend(page.items().iter().map(|item| format!("{item:?}")));
                    start = page.last_evaluated_key().cloned();
                    if start.is_none() {
                        break;
                    }
                }
                items.join("\n")
            }
        }
    }
}

/// A citizen as WhatsApp names them: a phone number, a business-scoped user id, or both.
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub phone: Option<&'a str>,
    pub bsuid: Option<&'a str>,
}

pub fn phone(number: &str) -> Who<'_> {
    Who {
        phone: Some(number),
        bsuid: None,
    }
}

pub fn bsuid(id: &str) -> Who<'_> {
    Who {
        phone: None,
        bsuid: Some(id),
    }
}

pub fn both<'a>(number: &'a str, id: &'a str) -> Who<'a> {
    Who {
        phone: Some(number),
        bsuid: Some(id),
    }
}

/// A message id shaped like WhatsApp's: `wamid.` and base64 of a structure holding the sender's
/// number (`wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUY3` holds `34600111222`).
pub fn wamid(number: &str, serial: u32) -> String {
    let mut bytes = vec![0x1c, 0x18, number.len() as u8];
    bytes.extend(number.as_bytes());
    bytes.extend([0x15, 0x02, 0x00, 0x12, 0x18, 0x14]);
    bytes.extend(format!("3AF7{serial:016X}").as_bytes());
    format!(
        "wamid.{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn envelope(value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]
    })
}

fn inbound(id: &str, who: Who<'_>, at: i64, message: Value) -> Value {
    let mut contact = json!({"profile": {"name": "Test Citizen"}});
    let mut envelope_message = json!({"id": id, "timestamp": at.to_string()});
    if let Some(number) = who.phone {
        contact["wa_id"] = json!(number);
        envelope_message["from"] = json!(number);
    }
    if let Some(user) = who.bsuid {
        contact["user_id"] = json!(user);
        envelope_message["from_user_id"] = json!(user);
    }
    for (key, value) in message.as_object().unwrap() {
        envelope_message[key] = value.clone();
    }
    envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100001", "phone_number_id": "109000000000001"},
        "contacts": [contact],
        "messages": [envelope_message]
    }))
}

/// A text message.
pub fn text(id: &str, who: Who<'_>, body: &str) -> Value {
    inbound(
        id,
        who,
        NOW,
        json!({"type": "text", "text": {"body": body}}),
    )
}

/// A tap on a reply button.
pub fn button(id: &str, who: Who<'_>, button_id: &str, title: &str) -> Value {
    inbound(
        id,
        who,
        NOW,
        json!({"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}}),
    )
}

/// A list row chosen.
pub fn list_reply(id: &str, who: Who<'_>, row_id: &str, title: &str) -> Value {
    inbound(
        id,
        who,
        NOW,
        json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": title}}}),
    )
}

/// An image (the bot answers that it reads only text).
pub fn image(id: &str, who: Who<'_>) -> Value {
    inbound(
        id,
        who,
        NOW,
        json!({"type": "image", "image": {"id": "1", "mime_type": "image/jpeg"}}),
    )
}

/// WhatsApp's notice that the citizen `who` changed their number to `new_number`.
pub fn number_changed(id: &str, who: Who<'_>, new_number: &str) -> Value {
    inbound(
        id,
        who,
        NOW,
        json!({"type": "system", "system": {
            "body": format!("User changed from {} to {new_number}", who.phone.unwrap_or("?")),
            "wa_id": new_number,
            "type": "user_changed_number"
        }}),
    )
}

/// A `failed` delivery status of one of the bot's replies to `who`.
pub fn delivery_failed(reply_id: &str, who: Who<'_>) -> Value {
    delivery_status(reply_id, who, "failed", Some(131047))
}

/// A delivery status (`sent`, `delivered`, `read`, `failed` with `code`) of one of the bot's
/// messages to `who`.
pub fn delivery_status(message_id: &str, who: Who<'_>, kind: &str, code: Option<i64>) -> Value {
    let mut status = json!({
        "id": message_id,
        "status": kind,
        "timestamp": NOW.to_string(),
    });
    if let Some(code) = code {
        status["errors"] = json!([{"code": code, "title": "Message undeliverable"}]);
    }
    if let Some(number) = who.phone {
        status["recipient_id"] = json!(number);
    }
    if let Some(user) = who.bsuid {
        status["recipient_user_id"] = json!(user);
    }
    envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100001", "phone_number_id": "109000000000001"},
        "statuses": [status]
    }))
}

/// Panics when `text` holds a run of 7 or more of `number`'s digits, in clear or inside
/// anything that decodes as base64 (standard or URL-safe, at any alignment).
pub fn assert_no_number(text: &str, number: &str, what: &str) {
    let windows: Vec<&str> = (0..=number.len().saturating_sub(7))
        .map(|start| &number[start..start + 7])
        .collect();
    let holds = |candidate: &str| windows.iter().find(|window| candidate.contains(**window));
    if let Some(window) = holds(text) {
        panic!("{what} holds {window} of the sender's number in clear:\n{text}");
    }
    assert!(
        !text.contains("wamid."),
        "{what} holds a message id:\n{text}"
    );
    let token_chars = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_');
    for token in text.split(|c: char| !token_chars(c)) {
        if token.len() < 12 {
            continue;
        }
        for skip in 0..4 {
            let tail = &token[skip..];
            let usable = &tail[..tail.len() / 4 * 4];
            for engine in [
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ] {
                if let Ok(decoded) = engine.decode(usable) {
                    let decoded = String::from_utf8_lossy(&decoded);
                    if let Some(window) = holds(&decoded) {
                        panic!("{what} holds {window} of the sender's number in base64 {token}");
                    }
                }
            }
        }
    }
}
