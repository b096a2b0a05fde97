#!/usr/bin/env bash
# Chooses the answer engine's abstention thresholds on data (see docs/answer-engine.md):
# builds the sample corpus (and ../shared/corpus when present) twice, with passage vectors and
# without (--lexical-only), runs the development eval files on each — the held-out dev split and
# the original eval files; never the held-out test split —, pools the per-case scores and prints
# the thresholds for functions/engine/data/calibration.toml: the top-level ones, for lexical-only
# indexes, chosen on the runs without vectors; the [semantic] table on the runs with them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/model.sh --release >/dev/null
cargo build --release --locked -p votecheck-index-builder -p votecheck
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
reports=()
run_eval() { # corpus name cases...
  local corpus=$1 name=$2
  shift 2
  target/release/index-builder build "$corpus" --out "$work/$name-index" --quiet
  target/release/index-builder build "$corpus" --out "$work/$name-lexical-index" --lexical-only --quiet
  for cases in "$@"; do
    for index in "$name-index" "$name-lexical-index"; do
      local report="$work/$index-$(basename "$cases" .jsonl).json"
      target/release/votecheck eval --index "$work/$index" --cases "$cases" --json > "$report"
      reports+=("$report")
    done
  done
}
run_eval samples/corpus sample samples/eval/sample-corpus.jsonl samples/eval/heldout/sample-dev.jsonl
if [ -d ../shared/corpus ]; then
  run_eval ../shared/corpus shared samples/eval/shared-corpus.jsonl samples/eval/heldout/shared-dev.jsonl
fi
target/release/votecheck calibrate "${reports[@]}"
