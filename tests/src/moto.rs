//! A real `moto_server` (DynamoDB protocol, from PyPI) on a free loopback port, killed on drop,
//! for every test that talks to DynamoDB.
//!
//! `moto_server` is found at `$VOTECHECK_MOTO_SERVER`, else at `.venv/bin/moto_server` in the
//! repository root (`bash scripts/python-env.sh` installs it). Missing, the tests fail with a
//! message saying so: they never skip, locally or in CI.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where moto_server is, or a panic that says how to install it.
pub fn moto_server_path() -> PathBuf {
    let from_env = std::env::var_os("VOTECHECK_MOTO_SERVER").map(PathBuf::from);
    let in_venv = crate::workspace_root().join(".venv/bin/moto_server");
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
///
/// A port is never handed out twice in one process: tests run in parallel threads, and two of
/// them starting servers on the same released port would talk to each other's server.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("bind a loopback port")
            .port();
        let mut handed_out = HANDED_OUT
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if handed_out.insert(port) {
            return port;
        }
    }
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
    /// The server's base URL.
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
                    // Someone listens: make sure it is our server, not another process that had
                    // the port (ours would then exit with "address already in use").
                    std::thread::sleep(Duration::from_millis(150));
                    if let Some(status) = child.try_wait().expect("poll moto_server") {
                        last_problem = format!(
                            "moto_server exited with {status} on port {port}: {}",
                            std::fs::read_to_string(&log).unwrap_or_default()
                        );
                        break;
                    }
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
