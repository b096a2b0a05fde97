//! What each shipped binary links, read from Cargo's resolved dependency tree (`cargo tree` over
//! the committed `Cargo.lock`, offline, for this machine's platform, with the features the
//! package is built with): the Lambda function must not link what only the index builder or the
//! local preview needs (SQLite, the PDF and HTML readers, the web server), the alert sender
//! function must not link the answer engine (no index, no encoder), and `votecheck` (the
//! CLI and `votecheck serve`) must not link the Lambda runtime or the SSM client. A dependency
//! added in the wrong place fails here, with the path that pulls it in.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::Command;

use votecheck_end_to_end::workspace_root;

/// The normal (non-dev, non-build) dependency graph under the package `root`: package name →
/// names it depends on.
fn normal_dependency_graph(root: &str) -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .current_dir(workspace_root())
        .args([
            "tree",
            "--locked",
            "--offline",
            "--package",
            root,
            "--edges",
            "normal",
            "--prefix",
            "depth",
            "--format",
            "{p}",
        ])
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "cargo tree -p {root} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Each line is `<depth><name> v<version> [(path)] [(*)]`; a package's parent is the nearest
    // line above it one level up.
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut ancestors: Vec<String> = Vec::new();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let digits = line.chars().take_while(char::is_ascii_digit).count();
        let Ok(depth) = line[..digits].parse::<usize>() else {
            continue;
        };
        let name = line[digits..]
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        ancestors.truncate(depth);
        if let Some(parent) = ancestors.last() {
            graph
                .entry(parent.clone())
                .or_default()
                .insert(name.clone());
        }
        graph.entry(name.clone()).or_default();
        ancestors.push(name);
    }
    graph
}

/// The packages `root` links, each with the package that first pulled it in.
fn linked_by(
    graph: &BTreeMap<String, BTreeSet<String>>,
    root: &str,
) -> BTreeMap<String, Option<String>> {
    let mut reached = BTreeMap::from([(root.to_string(), None)]);
    let mut queue = VecDeque::from([root.to_string()]);
    while let Some(package) = queue.pop_front() {
        for dependency in graph.get(&package).into_iter().flatten() {
            if !reached.contains_key(dependency) {
                reached.insert(dependency.clone(), Some(package.clone()));
                queue.push_back(dependency.clone());
            }
        }
    }
    reached
}

/// `package ← parent ← … ← root`, for the failure message.
fn path_to(reached: &BTreeMap<String, Option<String>>, package: &str) -> String {
    let mut path = vec![package.to_string()];
    let mut current = package;
    while let Some(Some(parent)) = reached.get(current) {
        path.push(parent.clone());
        current = parent;
    }
    path.join(" ← ")
}

fn assert_links_none_of(root: &str, forbidden: &[&str]) {
    let graph = normal_dependency_graph(root);
    assert!(graph.contains_key(root), "{root} is not in the workspace");
    let reached = linked_by(&graph, root);
    // The check must see the graph, not an empty one: every binary links the store.
    assert!(
        reached.contains_key("votecheck-store"),
        "{root} does not reach votecheck-store: the graph was not read"
    );
    let problems: Vec<String> = forbidden
        .iter()
        .filter(|package| reached.contains_key(**package))
        .map(|package| path_to(&reached, package))
        .collect();
    assert!(
        problems.is_empty(),
        "{root} links what it must not:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_lambda_function_links_neither_the_index_builder_nor_the_local_preview() {
    assert_links_none_of(
        "votecheck-webhook-lambda",
        &[
            "votecheck-index-builder",
            "votecheck-local",
            "rusqlite",
            "lopdf",
            "pdf-extract",
            "scraper",
            "axum",
        ],
    );
}

#[test]
fn the_sender_function_links_neither_the_answer_engine_nor_the_local_preview() {
    // It sends alerts: no index, no sentence encoder, no SQLite, no web server.
    assert_links_none_of(
        "votecheck-sender-lambda",
        &[
            "votecheck-engine",
            "votecheck-encoder",
            "votecheck-webhook",
            "votecheck-index",
            "votecheck-index-builder",
            "votecheck-local",
            "candle-core",
            "tantivy",
            "rusqlite",
            "axum",
        ],
    );
}

#[test]
fn the_cli_and_local_preview_link_neither_the_lambda_runtime_nor_ssm() {
    assert_links_none_of(
        "votecheck",
        &[
            "lambda_runtime",
            "aws-sdk-ssm",
            "votecheck-webhook-lambda",
            "votecheck-sender-lambda",
        ],
    );
}

#[test]
fn the_check_sees_a_forbidden_dependency() {
    // The Lambda function does link the runtime: the walk must find it, with its path.
    let graph = normal_dependency_graph("votecheck-webhook-lambda");
    let reached = linked_by(&graph, "votecheck-webhook-lambda");
    assert!(
        path_to(&reached, "lambda_runtime").ends_with("votecheck-webhook-lambda"),
        "{}",
        path_to(&reached, "lambda_runtime")
    );
    let graph = normal_dependency_graph("votecheck");
    assert!(linked_by(&graph, "votecheck").contains_key("rusqlite"));
}
