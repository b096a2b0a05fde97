//! Test harness shared by the store's integration tests: a real `moto_server` on a free loopback
//! port (killed on drop), stores on both backends, and small loopback servers that misbehave on
//! purpose (never answer, always throttle) to test the client's timeouts and retries.
//!
//! `moto_server` is found at `$VOTECHECK_MOTO_SERVER`, else at `.venv/bin/moto_server` in the
//! repository root (`bash scripts/python-env.sh` installs it). Missing, the tests fail with a
//! message saying so: they never skip, locally or in CI.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use votecheck_store::{
    ClientSettings, DynamoStore, SqliteStore, Store, StoreConfig, admin, dynamo_client,
};

/// The table name the tests use (each test has its own moto_server, so no clash).
pub const TABLE: &str = "votecheck-test";

/// Where moto_server is, or a panic that says how to install it.
pub fn moto_server_path() -> PathBuf {
    let from_env = std::env::var_os("VOTECHECK_MOTO_SERVER").map(PathBuf::from);
    let in_venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
    if let Some(path) = &from_env {
        assert!(
            path.is_file(),
            "VOTECHECK_MOTO_SERVER={} does not exist: run `bash scripts/python-env.sh` and point \
             VOTECHECK_MOTO_SERVER at the path it prints",
            path.display()
        );
        return path.clone();
    }
    if in_venv.is_file() {
        return in_venv;
    }
    let in_ci = std::env::var_os("CI").is_some();
    panic!(
        "moto_server not found (VOTECHECK_MOTO_SERVER is unset and {} does not exist){}. The \
         DynamoDB tests need it: run `bash scripts/python-env.sh` (it installs moto[server] into \
         .venv/ and prints the path), or run the whole suite with `bash scripts/test.sh`.",
        in_venv.display(),
        if in_ci {
            "; CI must install it before the tests"
        } else {
            ""
        }
    );
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// `PYTHONPATH` for moto_server: a `sitecustomize.py` that makes request handlers atomic, then
/// whatever `PYTHONPATH` was.
///
/// moto serves each request on its own thread and does not lock its tables: a conditional
/// `PutItem` or an `UpdateItem ADD` is a read, then Python code, then a write, and a thread switch
/// in between lets two requests both pass the condition (measured: 1 to 2 failures in 20 runs of
/// the 100-claim race). Real DynamoDB applies each write atomically. Python switches threads when
/// one waits for I/O, or every "switch interval" (5 ms by default); with an interval of 60 s, a
/// handler runs uninterrupted from the read to the write (there is no I/O in between), as in
/// DynamoDB. Requests still interleave between round trips, so a client that read and then wrote
/// in two requests would still lose the race: the tests keep checking our conditions.
fn python_path(directory: &std::path::Path) -> std::ffi::OsString {
    std::fs::write(
        directory.join("sitecustomize.py"),
        "import sys\nsys.setswitchinterval(60)\n",
    )
    .expect("write sitecustomize.py");
    let mut paths = vec![directory.to_path_buf()];
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    std::env::join_paths(paths).expect("a joinable PYTHONPATH")
}

/// A running moto_server; killed when dropped.
pub struct MotoServer {
    child: Child,
    pub endpoint: String,
    log: PathBuf,
    _log_directory: tempfile::TempDir,
}

impl MotoServer {
    /// Starts moto_server on a free loopback port and waits until it accepts connections.
    pub fn start() -> MotoServer {
        let binary = moto_server_path();
        let log_directory = tempfile::tempdir().expect("temporary directory");
        let log = log_directory.path().join("moto_server.log");
        let mut last_problem = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let log_file = std::fs::File::create(&log).expect("create the moto_server log");
            let mut child = Command::new(&binary)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("PYTHONPATH", python_path(log_directory.path()))
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("clone the log handle"))
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|error| panic!("start {}: {error}", binary.display()));
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(30) {
                if let Some(status) = child.try_wait().expect("poll moto_server") {
                    last_problem = format!(
                        "moto_server exited with {status} on port {port}: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                    break;
                }
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                    return MotoServer {
                        child,
                        endpoint: format!("http://127.0.0.1:{port}"),
                        log,
                        _log_directory: log_directory,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            if last_problem.is_empty() {
                last_problem = format!("moto_server did not listen on port {port} within 30 s");
            }
        }
        panic!("could not start moto_server: {last_problem}");
    }

    /// What moto_server printed so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A store under test, with whatever keeps its backend alive.
pub struct Backend {
    pub store: Arc<dyn Store>,
    pub config: StoreConfig,
    pub moto: Option<MotoServer>,
    pub client: Option<aws_sdk_dynamodb::Client>,
    _directory: Option<tempfile::TempDir>,
}

/// The configuration the suite runs with (defaults, the test table).
pub fn test_config() -> StoreConfig {
    StoreConfig::for_table(TABLE)
}

/// A SQLite store in a fresh temporary file.
pub async fn sqlite_backend() -> Backend {
    let directory = tempfile::tempdir().expect("temporary directory");
    let config = test_config();
    let store = SqliteStore::open(directory.path().join("store.sqlite3"), config.clone())
        .expect("open the SQLite store");
    Backend {
        store: Arc::new(store),
        config,
        moto: None,
        client: None,
        _directory: Some(directory),
    }
}

/// A DynamoDB store on a fresh moto_server, its table created by `init_table`.
pub async fn dynamo_backend() -> Backend {
    let moto = MotoServer::start();
    let client = dynamo_client(&ClientSettings::local(&moto.endpoint)).await;
    admin::init_table(&client, TABLE)
        .await
        .unwrap_or_else(|error| panic!("init_table on moto_server: {error}\n{}", moto.log()));
    let config = test_config();
    Backend {
        store: Arc::new(DynamoStore::new(client.clone(), config.clone())),
        config,
        moto: Some(moto),
        client: Some(client),
        _directory: None,
    }
}

/// How a [`FakeServer`] answers.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Accepts connections and never answers.
    Silent,
    /// Answers every request with this status and DynamoDB error type.
    Error {
        status: u16,
        error_type: &'static str,
    },
}

/// A loopback HTTP server that misbehaves like an overloaded or stuck DynamoDB endpoint, and
/// counts the requests it receives.
pub struct FakeServer {
    pub endpoint: String,
    pub requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    address: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    pub fn start(behaviour: Behaviour) -> FakeServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
        let address = listener.local_addr().expect("local address");
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut held = Vec::new();
                for connection in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(connection) = connection else { continue };
                    match behaviour {
                        Behaviour::Silent => {
                            requests.fetch_add(1, Ordering::SeqCst);
                            held.push(connection);
                        }
                        Behaviour::Error { status, error_type } => {
                            let requests = Arc::clone(&requests);
                            std::thread::spawn(move || {
                                answer_with_error(connection, status, error_type, &requests)
                            });
                        }
                    }
                }
            })
        };
        FakeServer {
            endpoint: format!("http://{address}"),
            requests,
            stop,
            address,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads HTTP/1.1 requests off one connection and answers each with a DynamoDB-style error.
fn answer_with_error(connection: TcpStream, status: u16, error_type: &str, requests: &AtomicUsize) {
    let _ = connection.set_read_timeout(Some(Duration::from_secs(10)));
    let mut writer = match connection.try_clone() {
        Ok(writer) => writer,
        Err(_) => return,
    };
    let mut reader = BufReader::new(connection);
    loop {
        let mut content_length = 0usize;
        let mut line = String::new();
        // Request line; end of stream ends the connection.
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        let payload = format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{error_type}","message":"injected by the test server"}}"#
        );
        let response = format!(
            "HTTP/1.1 {status} Error\r\nContent-Type: application/x-amz-json-1.0\r\n\
             x-amzn-RequestId: test\r\nContent-Length: {}\r\n\r\n{payload}",
            payload.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}
