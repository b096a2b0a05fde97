//! Harness for the end-to-end tests in `tests/tests/`: where the workspace and its built binaries
//! are, and how to run a binary and capture what it says.
//!
//! [`black_hole::BlackHole`] accepts connections and never answers (an endpoint that hangs);
//! [`moto::MotoServer`] runs a real DynamoDB-protocol server for the tests that need one;
//! [`lambda_runtime_api::RuntimeApi`] is a local AWS Lambda Runtime API for running the
//! `bootstrap` binary as a process; [`graph_server::GraphServer`] is a local WhatsApp Cloud API
//! that records requests and fails on demand; [`local_server::LocalServer`] runs
//! `votecheck serve` on a free port; [`webhooks::TextMessage`] writes a citizen's text message as
//! the Cloud API's webhook body.
//!
//! The binaries are the ones `cargo build --workspace --bins` leaves next to the test executables
//! (the README's test command builds them first, in the same profile as the tests).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod black_hole;
pub mod graph_server;
pub mod lambda_runtime_api;
pub mod local_server;
pub mod moto;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits inside the workspace")
        .to_path_buf()
}

/// The sample corpus shipped with the project.
pub fn sample_corpus() -> PathBuf {
    workspace_root().join("samples").join("corpus")
}

/// Path of a workspace binary built in the same profile as the running test.
pub fn binary(name: &str) -> PathBuf {
    let test_executable = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = test_executable
        .parent()
        .and_then(Path::parent)
        .expect("test executables live in <target>/<profile>/deps");
    let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: build the binaries first with `cargo build --workspace --bins` (the README's test command does)",
        path.display()
    );
    path
}

/// Runs a workspace binary to completion.
pub fn run(name: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    run_with_env(name, args, &[])
}

/// Runs a workspace binary to completion with extra environment variables.
pub fn run_with_env(
    name: &str,
    args: &[&dyn AsRef<std::ffi::OsStr>],
    env: &[(&str, &str)],
) -> Output {
    let mut command = Command::new(binary(name));
    for arg in args {
        command.arg(arg);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {name}: {error}"))
}

/// Standard error of a finished process, as text.
pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output of a finished process, as text.
pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the directory to copy") {
        let entry = entry.expect("read a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// Every file below a directory, relative, sorted (to prove nothing was added or removed).
pub fn list_tree(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read directory") {
            let entry = entry.expect("directory entry");
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Sets every file and folder below `root` read-only (or writable again).
pub fn set_read_only(root: &Path, read_only: bool) {
    for entry in std::fs::read_dir(root).expect("read directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            set_read_only(&path, read_only);
        }
        let mut permissions = std::fs::metadata(&path).expect("metadata").permissions();
        permissions.set_readonly(read_only);
        std::fs::set_permissions(&path, permissions).expect("set permissions");
    }
    let mut permissions = std::fs::metadata(root).expect("metadata").permissions();
    permissions.set_readonly(read_only);
    std::fs::set_permissions(root, permissions).expect("set permissions");
}
