//! A local AWS Lambda Runtime API on a free loopback port, so the real `bootstrap` binary can run
//! as a process in the tests exactly as it runs in Lambda.
//!
//! It implements the parts of the protocol a custom runtime uses:
//!
//! - `GET /2018-06-01/runtime/invocation/next` blocks until the test enqueues an event with
//!   [`RuntimeApi::invoke`], then answers 200 with the event as the body and the headers
//!   `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms` (now + 30 s, or as given to
//!   [`RuntimeApi::start_with_deadline`]),
//!   `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `.../{id}/error` record the body
//!   for that request id and answer 202;
//! - `POST /2018-06-01/runtime/init/error` records an initialisation error (see
//!   [`RuntimeApi::init_error`]).
//!
//! The HTTP side is a minimal HTTP/1.1 server on std threads (one per connection, keep-alive
//! and `Connection: close` both handled, `Content-Length` and chunked request bodies). The same
//! plumbing serves [`crate::graph_server`].
//!
//! ```no_run
//! use std::time::Duration;
//! use votecheck_end_to_end::lambda_runtime_api::{Invocation, RuntimeApi};
//!
//! let api = RuntimeApi::start();
//! // spawn the bootstrap with AWS_LAMBDA_RUNTIME_API = api.address() ...
//! match api.invoke(serde_json::json!({"hello": "world"}), Duration::from_secs(30)) {
//!     Invocation::Response(body) => println!("{body}"),
//!     other => panic!("{other:?}"),
//! }
//! ```

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The function ARN sent with every invocation.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:votecheck";

/// How long an invocation's deadline lies after the moment `/next` hands it out.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// What the function answered to one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// The body POSTed to `/invocation/{id}/response` (JSON, or a JSON string when it was not).
    Response(Value),
    /// The body POSTed to `/invocation/{id}/error`.
    Error(Value),
    /// Neither arrived within the timeout given to [`RuntimeApi::invoke`].
    TimedOut,
}

impl Invocation {
    /// The response body; panics (with what arrived instead) otherwise.
    pub fn expect_response(self) -> Value {
        match self {
            Invocation::Response(body) => body,
            other => panic!("expected a function response, got {other:?}"),
        }
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, Value)>,
    results: HashMap<String, Invocation>,
    handed_out: Vec<String>,
    init_error: Option<Value>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stopping: AtomicBool,
    /// How long after `/next` hands an invocation out its deadline lies.
    deadline: Duration,
}

/// A running local Runtime API; stops when dropped.
pub struct RuntimeApi {
    address: String,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    acceptor: Option<JoinHandle<()>>,
}

impl RuntimeApi {
    /// Binds a free loopback port and starts serving, with invocation deadlines [`DEADLINE`]
    /// after the hand-out (the templates' 30 s function timeout).
    pub fn start() -> RuntimeApi {
        RuntimeApi::start_with_deadline(DEADLINE)
    }

    /// As [`RuntimeApi::start`], with each invocation's deadline `deadline` after its hand-out
    /// (a function configured with a shorter timeout).
    pub fn start_with_deadline(deadline: Duration) -> RuntimeApi {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
            deadline,
        });
        let handler_state = Arc::clone(&shared);
        let (address, acceptor) = serve(
            Arc::new(move |request: Request| handle(&handler_state, request)),
            {
                let shared = Arc::clone(&shared);
                move || shared.stopping.load(Ordering::SeqCst)
            },
        );
        RuntimeApi {
            address,
            shared,
            next_id: AtomicU64::new(1),
            acceptor: Some(acceptor),
        }
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The variables Lambda sets for a function's process, with this API as its Runtime API.
    pub fn function_environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_LAMBDA_RUNTIME_API", self.address.clone()),
            ("AWS_LAMBDA_FUNCTION_NAME", "votecheck".to_string()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512".to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_string()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "test".to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "test".to_string()),
        ]
    }

    /// Enqueues `event` for the next `/next` call and waits for the function's response or
    /// error for it, at most `timeout`.
    pub fn invoke(&self, event: Value, timeout: Duration) -> Invocation {
        self.invoke_unless(event, timeout, || false)
    }

    /// As [`RuntimeApi::invoke`], but stops waiting (answering [`Invocation::TimedOut`]) as soon
    /// as `give_up` returns true; it is asked about every 100 ms (e.g. "has the process exited?").
    pub fn invoke_unless(
        &self,
        event: Value,
        timeout: Duration,
        mut give_up: impl FnMut() -> bool,
    ) -> Invocation {
        let sequence = self.next_id.fetch_add(1, Ordering::SeqCst);
        let request_id = format!("8f2b3c4d-0000-4000-8000-{sequence:012x}");
        let mut state = self.shared.state.lock().expect("runtime api state");
        state.queue.push_back((request_id.clone(), event));
        self.shared.changed.notify_all();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(result) = state.results.remove(&request_id) {
                return result;
            }
            let now = Instant::now();
            if now >= deadline || give_up() {
                // Not handed out yet: withdraw it so a later `/next` does not receive it.
                state.queue.retain(|(id, _)| id != &request_id);
                return Invocation::TimedOut;
            }
            let slice = (deadline - now).min(Duration::from_millis(100));
            state = self
                .shared
                .changed
                .wait_timeout(state, slice)
                .expect("runtime api state")
                .0;
        }
    }

    /// The body of `POST /runtime/init/error`, if the function reported one.
    pub fn init_error(&self) -> Option<Value> {
        self.shared
            .state
            .lock()
            .expect("runtime api state")
            .init_error
            .clone()
    }

    /// Request ids handed out by `/next` so far, in order.
    pub fn handed_out(&self) -> Vec<String> {
        self.shared
            .state
            .lock()
            .expect("runtime api state")
            .handed_out
            .clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        // Wake the acceptor, blocked in `accept`.
        let _ = TcpStream::connect(&self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

const PREFIX: &str = "/2018-06-01/runtime/";

fn handle(shared: &Shared, request: Request) -> Response {
    let path = request.path.split('?').next().unwrap_or_default();
    let Some(route) = path.strip_prefix(PREFIX) else {
        return Response::json(404, r#"{"errorMessage":"not found"}"#);
    };
    match (request.method.as_str(), route) {
        ("GET", "invocation/next") => next_invocation(shared),
        ("POST", "init/error") => {
            let mut state = shared.state.lock().expect("runtime api state");
            state.init_error = Some(body_value(&request.body));
            shared.changed.notify_all();
            Response::json(202, r#"{"status":"OK"}"#)
        }
        ("POST", route) if route.starts_with("invocation/") => {
            let rest = &route["invocation/".len()..];
            let (request_id, kind) = match rest.rsplit_once('/') {
                Some(split) => split,
                None => return Response::json(404, r#"{"errorMessage":"not found"}"#),
            };
            let result = match kind {
                "response" => Invocation::Response(body_value(&request.body)),
                "error" => Invocation::Error(body_value(&request.body)),
                _ => return Response::json(404, r#"{"errorMessage":"not found"}"#),
            };
            let mut state = shared.state.lock().expect("runtime api state");
            state.results.insert(request_id.to_owned(), result);
            shared.changed.notify_all();
            Response::json(202, r#"{"status":"OK"}"#)
        }
        _ => Response::json(404, r#"{"errorMessage":"not found"}"#),
    }
}

fn next_invocation(shared: &Shared) -> Response {
    let mut state = shared.state.lock().expect("runtime api state");
    loop {
        if shared.stopping.load(Ordering::SeqCst) {
            return Response::json(500, r#"{"errorMessage":"runtime api stopping"}"#);
        }
        if let Some((request_id, event)) = state.queue.pop_front() {
            state.handed_out.push(request_id.clone());
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("clock after 1970")
                + shared.deadline;
            let mut response = Response::json(200, &event.to_string());
            response
                .headers
                .push(("Lambda-Runtime-Aws-Request-Id".into(), request_id.clone()));
            response.headers.push((
                "Lambda-Runtime-Deadline-Ms".into(),
                deadline.as_millis().to_string(),
            ));
            response.headers.push((
                "Lambda-Runtime-Invoked-Function-Arn".into(),
                FUNCTION_ARN.into(),
            ));
            response.headers.push((
                "Lambda-Runtime-Trace-Id".into(),
                format!(
                    "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
                    deadline.as_secs(),
                    request_id.len() as u128 * 7919 + deadline.as_millis(),
                    deadline.as_millis() as u64
                ),
            ));
            return response;
        }
        state = shared
            .changed
            .wait_timeout(state, Duration::from_millis(200))
            .expect("runtime api state")
            .0;
    }
}

fn body_value(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

// ---------------------------------------------------------------------------------------------
// Minimal HTTP/1.1 server, shared with `graph_server`.

/// One parsed HTTP request.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One HTTP response to write.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sleep this long before answering (simulates a slow server).
    pub delay: Option<Duration>,
}

impl Response {
    pub fn json(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            delay: None,
        }
    }
}

pub(crate) type Handler = Arc<dyn Fn(Request) -> Response + Send + Sync>;

/// Binds a free loopback port and serves `handler` on it, one thread per connection, until
/// `stopping()` is true (checked after each accepted connection). Returns the address and the
/// acceptor thread.
pub(crate) fn serve(
    handler: Handler,
    stopping: impl Fn() -> bool + Send + 'static,
) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    let address = listener
        .local_addr()
        .expect("the listener's address")
        .to_string();
    let acceptor = std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stopping() {
                break;
            }
            let Ok(stream) = stream else { continue };
            let handler = Arc::clone(&handler);
            std::thread::spawn(move || serve_connection(stream, handler));
        }
    });
    (address, acceptor)
}

fn serve_connection(stream: TcpStream, handler: Handler) {
    // A response is written as head then body: without this, Nagle's algorithm holds the body
    // until the client's delayed acknowledgement (about 40 ms per reused connection).
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = read_request(&mut reader) {
        let close = request
            .header("connection")
            .is_some_and(|value| value.eq_ignore_ascii_case("close"));
        let response = handler(request);
        if let Some(delay) = response.delay {
            std::thread::sleep(delay);
        }
        if write_response(&mut writer, &response, close).is_err() || close {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    // Skip stray empty lines between keep-alive requests.
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let chunked = request
        .header("transfer-encoding")
        .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size_text = line.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size_text, 16).map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunk size")
            })?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            request.body.extend_from_slice(&chunk);
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else if let Some(length) = request.header("content-length") {
        let length: usize = length.parse().map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "bad content-length")
        })?;
        request.body = vec![0; length];
        reader.read_exact(&mut request.body)?;
    }
    Ok(Some(request))
}

fn write_response(
    writer: &mut impl Write,
    response: &Response,
    close: bool,
) -> std::io::Result<()> {
    let reason = match response.status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", response.status);
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes())?;
    writer.write_all(&response.body)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn exchange(stream: &mut TcpStream, request: &str) -> String {
        stream.write_all(request.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        head + &String::from_utf8(body).unwrap()
    }

    #[test]
    fn hands_out_an_event_and_records_the_response() {
        let api = Arc::new(RuntimeApi::start());
        let address = api.address().to_owned();
        let runtime = std::thread::spawn(move || {
            let mut stream = TcpStream::connect(&address).unwrap();
            let next = exchange(
                &mut stream,
                "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n",
            );
            let id = next
                .lines()
                .find_map(|line| line.strip_prefix("Lambda-Runtime-Aws-Request-Id: "))
                .unwrap()
                .to_owned();
            assert!(next.contains("Lambda-Runtime-Deadline-Ms: "));
            assert!(next.ends_with(r#"{"n":1}"#), "{next}");
            // Chunked body, on the same keep-alive connection.
            let answer = exchange(
                &mut stream,
                &format!(
                    "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
                     Transfer-Encoding: chunked\r\n\r\n5\r\n{{\"ok\"\r\n5\r\n:true\r\n1\r\n}}\r\n0\r\n\r\n"
                ),
            );
            assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
        });
        let result = api.invoke(serde_json::json!({"n": 1}), Duration::from_secs(10));
        runtime.join().unwrap();
        assert_eq!(
            result,
            Invocation::Response(serde_json::json!({"ok": true}))
        );
        assert_eq!(api.handed_out().len(), 1);
    }

    #[test]
    fn records_init_errors_and_times_out() {
        let api = RuntimeApi::start();
        let mut stream = TcpStream::connect(api.address()).unwrap();
        let answer = exchange(
            &mut stream,
            "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 17\r\n\
             Connection: close\r\n\r\n{\"errorType\":\"x\"}",
        );
        assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
        assert_eq!(
            api.init_error(),
            Some(serde_json::json!({"errorType": "x"}))
        );
        assert_eq!(
            api.invoke(serde_json::json!({}), Duration::from_millis(100)),
            Invocation::TimedOut
        );
    }
}
