#!/usr/bin/env bash
# Trains the engine's judgement model (partisan, mixed, rumour, unanswerable, small talk, greeting,
# stop or delete requests) on our labelled messages and writes
# functions/engine/data/compiled/judgement.postcard, which the engine compiles in. Deterministic:
# the same labelled files and encoder model give the same file. Also writes each message's
# cross-validated verdict to target/judgement-cross-validated.jsonl (read by
# scripts/abstention-curve.py).
# Run it after editing any file of TRAINING_FILES (functions/engine/src/judgement/training.rs);
# the test `the_bundled_judgement_is_trained_on_the_current_files` fails until you do.
set -euo pipefail
cd "$(dirname "$0")/.."
VOTECHECK_MODEL="$(bash scripts/model.sh)"
export VOTECHECK_MODEL
cargo run --release --locked -p votecheck-engine --example train_judgement
