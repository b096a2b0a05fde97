//! `votecheck serve` as a process on a free port, for the local-mode end-to-end tests: starts it
//! with `--addr 127.0.0.1:0`, waits for its `listening on http://...` line, keeps everything it
//! prints, and stops it with SIGTERM (or SIGINT) like a user pressing Ctrl-C.
//!
//! ```no_run
//! use votecheck_end_to_end::local_server::LocalServer;
//!
//! let server = LocalServer::start(&["--corpus", "samples/corpus"], &[]);
//! println!("{}", server.url("/healthz"));
//! let (status, output) = server.stop();
//! assert!(status.success(), "{output}");
//! ```

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::binary;

/// How long the server may take to build the sample index and start listening.
pub const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A running `votecheck serve`.
pub struct LocalServer {
    child: Option<Child>,
    base_url: String,
    output: Arc<Mutex<String>>,
}

/// Copies everything `from` prints into `output`.
fn collect(from: impl Read + Send + 'static, output: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if let Ok(mut output) = output.lock() {
                output.push_str(&line);
                output.push('\n');
            }
        }
    });
}

impl LocalServer {
    /// Starts `votecheck serve --addr 127.0.0.1:0 <args>` with extra environment variables and
    /// waits until it listens. Panics with everything it printed if it exits or takes too long.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> LocalServer {
        let mut command = Command::new(binary("votecheck"));
        command
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("WHATSAPP_ACCESS_TOKEN")
            .env_remove("WHATSAPP_APP_SECRET")
            .env_remove("WHATSAPP_VERIFY_TOKEN")
            .current_dir(crate::workspace_root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start votecheck serve");
        let output = Arc::new(Mutex::new(String::new()));
        collect(child.stdout.take().expect("stdout"), output.clone());
        collect(child.stderr.take().expect("stderr"), output.clone());
        let started = Instant::now();
        loop {
            let printed = output.lock().map(|text| text.clone()).unwrap_or_default();
            if let Some(url) = printed
                .lines()
                .find_map(|line| line.strip_prefix("listening on "))
                .and_then(|rest| rest.split_whitespace().next())
            {
                return LocalServer {
                    child: Some(child),
                    base_url: url.trim_end_matches('/').to_string(),
                    output,
                };
            }
            if let Some(status) = child.try_wait().expect("poll votecheck serve") {
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "votecheck serve exited with {status} before listening:\n{}",
                    output.lock().map(|text| text.clone()).unwrap_or_default()
                );
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                panic!(
                    "votecheck serve did not start listening within {START_TIMEOUT:?}:\n{printed}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The full URL of a path on the server (`/healthz` → `http://127.0.0.1:PORT/healthz`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Everything the server printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        self.output
            .lock()
            .map(|text| text.clone())
            .unwrap_or_default()
    }

    /// Stops the server with SIGTERM and returns its exit status and output.
    pub fn stop(self) -> (ExitStatus, String) {
        self.stop_with("-TERM")
    }

    /// Stops the server with SIGINT (Ctrl-C) and returns its exit status and output.
    pub fn interrupt(self) -> (ExitStatus, String) {
        self.stop_with("-INT")
    }

    fn stop_with(mut self, signal: &str) -> (ExitStatus, String) {
        let mut child = self.child.take().expect("the server is running");
        let _ = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll votecheck serve") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                break child.wait().expect("wait for votecheck serve");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // Let the output threads catch the last lines.
        std::thread::sleep(Duration::from_millis(200));
        (status, self.output())
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
