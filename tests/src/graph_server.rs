//! A local WhatsApp Cloud API (Graph API) server on a free loopback port that records every
//! request and can be told to fail, for the end-to-end tests of the webhook function.
//!
//! By default `POST /{version}/{phone_number_id}/messages` answers 200 with a Cloud API send
//! result whose message id is `wamid.REPLY.<n>`. [`GraphServer::fail_next_sends`] (only message
//! sends) and [`GraphServer::fail_next_requests`] (any request, mark-as-read included) make the
//! next N matching requests answer with a [`Failure`] instead.
//!
//! `GET /{version}/{business_account_id}/message_templates?name=…` lists the templates given to
//! [`GraphServer::set_message_templates`] with that name, in the Cloud API's shape.
//!
//! Each request is kept as a [`RecordedRequest`]; [`RecordedRequest::is_mark_read`] tells a
//! mark-as-read (`{"status":"read",...}`) from a message send.
//!
//! ```no_run
//! use votecheck_end_to_end::graph_server::{Failure, GraphServer};
//!
//! let graph = GraphServer::start();
//! graph.fail_next_sends(1, Failure::ServerError);
//! // point VOTECHECK_GRAPH_BASE_URL at graph.base_url() ...
//! assert_eq!(graph.sends().len(), 2);
//! ```

use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::lambda_runtime_api::{Request, Response, serve};

/// How the server answers a request it was told to fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// HTTP 500 with a Graph error body (code 2, transient).
    ServerError,
    /// HTTP 429 with a Graph rate-limit error body (code 130429).
    RateLimited,
    /// HTTP 400, Graph code 131047: more than 24 hours since the citizen's last message.
    OutsideWindow,
    /// HTTP 401, Graph code 190: the access token expired.
    TokenExpired,
    /// Answer normally, but only after this delay (a timeout, for a short-timeout client).
    Delay(Duration),
}

impl Failure {
    /// The error answer (not called for [`Failure::Delay`], which answers normally).
    fn response(&self) -> Response {
        let error = |status: u16, code: u32, message: &str| {
            Response::json(
                status,
                &json!({"error": {
                    "message": message,
                    "type": "OAuthException",
                    "code": code,
                    "fbtrace_id": "x",
                }})
                .to_string(),
            )
        };
        match self {
            Failure::ServerError => error(500, 2, "(#2) Service temporarily unavailable"),
            Failure::RateLimited => error(429, 130429, "(#130429) Rate limit hit"),
            Failure::OutsideWindow => error(
                400,
                131047,
                "(#131047) Re-engagement message: more than 24 hours have passed",
            ),
            Failure::TokenExpired => error(401, 190, "Error validating access token"),
            Failure::Delay(_) => Response::json(200, r#"{"success":true}"#),
        }
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The HTTP method.
    pub method: String,
    /// The request path.
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The JSON body (`Value::Null` when empty, a JSON string when not JSON).
    pub body: Value,
    /// The HTTP status the server answered.
    pub answered: u16,
}

impl RecordedRequest {
    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// A mark-as-read request (`{"status":"read",...}`), not a message send.
    pub fn is_mark_read(&self) -> bool {
        self.body.get("status").and_then(Value::as_str) == Some("read")
    }

    /// A message send (a POST to `/messages` that is not a mark-as-read).
    pub fn is_send(&self) -> bool {
        self.method == "POST" && self.path.ends_with("/messages") && !self.is_mark_read()
    }
}

#[derive(Default)]
struct State {
    requests: Vec<RecordedRequest>,
    send_failures: VecDeque<Failure>,
    request_failures: VecDeque<Failure>,
    replies: u64,
    templates: Vec<Value>,
}

/// A running Graph API stand-in; stops when dropped.
pub struct GraphServer {
    address: String,
    state: Arc<Mutex<State>>,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl GraphServer {
    /// Binds a free loopback port and starts serving.
    pub fn start() -> GraphServer {
        let state = Arc::new(Mutex::new(State::default()));
        let stopping = Arc::new(AtomicBool::new(false));
        let handler_state = Arc::clone(&state);
        let (address, acceptor) = serve(
            Arc::new(move |request: Request| handle(&handler_state, request)),
            {
                let stopping = Arc::clone(&stopping);
                move || stopping.load(Ordering::SeqCst)
            },
        );
        GraphServer {
            address,
            state,
            stopping,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT`, the value of `VOTECHECK_GRAPH_BASE_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Answers the next `count` message sends (not mark-as-read requests) with `failure`.
    pub fn fail_next_sends(&self, count: usize, failure: Failure) {
        let mut state = self.state.lock().expect("graph server state");
        state
            .send_failures
            .extend(std::iter::repeat_n(failure, count));
    }

    /// Forgets every failure not yet answered: from now on, requests succeed.
    pub fn clear_failures(&self) {
        let mut state = self.state.lock().expect("graph server state");
        state.send_failures.clear();
        state.request_failures.clear();
    }

    /// Answers the next `count` requests of any kind with `failure`.
    pub fn fail_next_requests(&self, count: usize, failure: Failure) {
        let mut state = self.state.lock().expect("graph server state");
        state
            .request_failures
            .extend(std::iter::repeat_n(failure, count));
    }

    /// The business account's message templates, as `message_templates` lists them: each a
    /// JSON object with `name`, `language`, `status` and `components`.
    pub fn set_message_templates(&self, templates: Vec<Value>) {
        self.state.lock().expect("graph server state").templates = templates;
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .lock()
            .expect("graph server state")
            .requests
            .clone()
    }

    /// The message sends so far (mark-as-read requests excluded).
    pub fn sends(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(RecordedRequest::is_send)
            .collect()
    }

    /// The mark-as-read requests so far.
    pub fn mark_reads(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(RecordedRequest::is_mark_read)
            .collect()
    }

    /// Waits until `condition` holds over the recorded requests, at most `timeout`; returns
    /// whether it did.
    pub fn wait_until(
        &self,
        timeout: Duration,
        condition: impl Fn(&[RecordedRequest]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if condition(&self.requests()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for GraphServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn handle(state: &Mutex<State>, request: Request) -> Response {
    let body = if request.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&request.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into_owned()))
    };
    let mut recorded = RecordedRequest {
        method: request.method,
        path: request.path,
        headers: request.headers,
        body,
        answered: 0,
    };
    let mut state = state.lock().expect("graph server state");
    let is_messages = recorded.method == "POST" && is_messages_path(&recorded.path);
    let failure = match state.request_failures.pop_front() {
        Some(failure) => Some(failure),
        None if recorded.is_send() => state.send_failures.pop_front(),
        None => None,
    };
    let response = match failure {
        Some(Failure::Delay(delay)) => Response {
            delay: Some(delay),
            ..success(&mut state, &recorded, is_messages)
        },
        Some(failure) => failure.response(),
        None => success(&mut state, &recorded, is_messages),
    };
    recorded.answered = response.status;
    state.requests.push(recorded);
    response
}

/// The answer when nothing is set to fail: a send result (numbered `wamid.REPLY.<n>`), a
/// mark-as-read success, or 404 for an unknown path.
fn success(state: &mut State, recorded: &RecordedRequest, is_messages: bool) -> Response {
    if let Some(name) = templates_query(recorded) {
        let data: Vec<&Value> = state
            .templates
            .iter()
            .filter(|template| template["name"] == name.as_str())
            .collect();
        return Response::json(200, &json!({ "data": data, "paging": {} }).to_string());
    }
    if !is_messages {
        return Response::json(
            404,
            r#"{"error":{"message":"Unknown path","type":"GraphMethodException","code":100,"fbtrace_id":"x"}}"#,
        );
    }
    if recorded.is_mark_read() {
        return Response::json(200, r#"{"success":true}"#);
    }
    state.replies += 1;
    Response::json(
        200,
        &json!({
            "messaging_product": "whatsapp",
            "contacts": [{"input": "x", "wa_id": "x"}],
            "messages": [{"id": format!("wamid.REPLY.{}", state.replies)}],
        })
        .to_string(),
    )
}

/// The `name` asked for by `GET /{version}/{business_account_id}/message_templates?name=…`.
fn templates_query(recorded: &RecordedRequest) -> Option<String> {
    let (path, query) = recorded.path.split_once('?')?;
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let listing = recorded.method == "GET"
        && segments.len() == 3
        && segments[0].starts_with('v')
        && segments[2] == "message_templates";
    if !listing {
        return None;
    }
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("name="))
        .map(str::to_owned)
}

/// `/{version}/{phone_number_id}/messages`.
fn is_messages_path(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    segments.len() == 3 && segments[0].starts_with('v') && segments[2] == "messages"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn post(address: &str, body: &str) -> String {
        let mut stream = TcpStream::connect(address).unwrap();
        write!(
            stream,
            "POST /v25.0/109000000000001/messages HTTP/1.1\r\nAuthorization: Bearer t\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn records_sends_and_mark_reads_and_fails_on_request() {
        let graph = GraphServer::start();
        let address = graph.base_url().trim_start_matches("http://").to_owned();
        graph.fail_next_sends(1, Failure::OutsideWindow);
        let read = post(
            &address,
            r#"{"messaging_product":"whatsapp","status":"read","message_id":"m"}"#,
        );
        assert!(read.starts_with("HTTP/1.1 200"), "{read}");
        let send =
            r#"{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"hi"}}"#;
        let failed = post(&address, send);
        assert!(failed.starts_with("HTTP/1.1 400"), "{failed}");
        assert!(failed.contains("131047"), "{failed}");
        let sent = post(&address, send);
        assert!(sent.contains("wamid.REPLY.1"), "{sent}");
        assert_eq!(graph.mark_reads().len(), 1);
        let sends = graph.sends();
        assert_eq!(sends.len(), 2);
        assert_eq!(sends[0].answered, 400);
        assert_eq!(sends[1].header("authorization"), Some("Bearer t"));
    }
}
