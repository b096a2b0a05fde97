#!/usr/bin/env bash
# Chooses the answer engine's abstention thresholds on data (see docs/answer-engine.md):
# builds the sample corpus (and ../shared/corpus when present), runs each eval file, pools the
# per-case scores and prints the thresholds for functions/engine/data/calibration.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p votecheck-index-builder -p votecheck
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
reports=()
run_eval() { # corpus cases name
  target/release/index-builder build "$1" --out "$work/$3-index" --quiet
  target/release/votecheck eval --index "$work/$3-index" --cases "$2" --json > "$work/$3.json"
  reports+=("$work/$3.json")
}
run_eval samples/corpus samples/eval/sample-corpus.jsonl sample
if [ -d ../shared/corpus ]; then
  run_eval ../shared/corpus samples/eval/shared-corpus.jsonl shared
fi
target/release/votecheck calibrate "${reports[@]}"
