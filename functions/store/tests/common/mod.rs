//! Test harness shared by the store's integration tests: stores on both backends (DynamoDB on a
//! real `moto_server` from the end-to-end harness, [`MotoServer`]), and small loopback servers
//! that misbehave on purpose (never answer, always throttle) to test the client's timeouts and
//! retries.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

pub use votecheck_end_to_end::moto::MotoServer;
use votecheck_store::{
    ClientSettings, DynamoStore, SqliteStore, Store, StoreConfig, admin, dynamo_client,
};

/// The table name the tests use (each test has its own moto_server, so no clash).
pub const TABLE: &str = "votecheck-test";

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

/// One test per backend of each case: `contract!(case_a, case_b)` makes `sqlite::case_a`,
/// `dynamo::case_a`... each calling `crate::case_a(&backend)`.
#[allow(unused_macros)]
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let backend = crate::common::sqlite_backend().await;
                    crate::$case(&backend).await;
                }
            )*
        }
        mod dynamo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let backend = crate::common::dynamo_backend().await;
                    crate::$case(&backend).await;
                }
            )*
        }
    };
}
