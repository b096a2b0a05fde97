//! A tiny local Graph API server for the tests: HTTP/1.1 over a loopback TCP listener, one
//! request per connection. It records every request and answers from a script of
//! [`Reply`]s, then with a success once the script is exhausted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with the documented send answer and this message id.
    Sent(&'static str),
    /// 200 `{"success": true}` (mark as read).
    Success,
    /// A plain status with a non-Graph body.
    Status(u16),
    /// A Graph error envelope with this HTTP status and error code.
    GraphError(u16, i64),
    /// Never answers (until the test ends).
    Hang,
    /// A success with this message id, but only after this delay.
    Slow(Duration, &'static str),
    /// `307 Temporary Redirect` to this location.
    Redirect(String),
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    requests: Vec<Recorded>,
}

/// The running server; dropped with the test runtime.
#[derive(Clone)]
pub struct GraphServer {
    pub base_url: String,
    state: Arc<Mutex<State>>,
}

impl GraphServer {
    pub async fn start(script: Vec<Reply>) -> GraphServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            requests: Vec::new(),
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, state).await;
                });
            }
        });
        GraphServer { base_url, state }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(position) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break position + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(key, _)| key == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let body = serde_json::from_slice(&buffer[head_end..]).unwrap_or(Value::Null);
    let reply = {
        let mut state = state.lock().unwrap();
        state.requests.push(Recorded {
            method,
            path,
            headers,
            body,
        });
        state
            .script
            .pop_front()
            .unwrap_or(Reply::Sent("wamid.DEFAULT"))
    };
    let mut extra_headers = String::new();
    let (status, body) = match reply {
        Reply::Sent(id) => (
            200,
            json!({
                "messaging_product": "whatsapp",
                "contacts": [{ "input": "15550001111", "wa_id": "15550001111" }],
                "messages": [{ "id": id }],
            })
            .to_string(),
        ),
        Reply::Success => (200, json!({ "success": true }).to_string()),
        Reply::Status(status) => (status, "upstream trouble".to_owned()),
        Reply::GraphError(status, code) => (
            status,
            json!({ "error": {
                "message": format!("(#{code}) test error"),
                "type": "OAuthException",
                "code": code,
                "error_subcode": 2_494_010,
                "error_data": { "messaging_product": "whatsapp", "details": "test details" },
                "fbtrace_id": "AbCdEf",
            }})
            .to_string(),
        ),
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            return Ok(());
        }
        Reply::Slow(delay, id) => {
            tokio::time::sleep(delay).await;
            (
                200,
                json!({ "messaging_product": "whatsapp", "messages": [{ "id": id }] }).to_string(),
            )
        }
        Reply::Redirect(location) => {
            extra_headers = format!("location: {location}\r\n");
            (307, String::new())
        }
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra_headers}connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
