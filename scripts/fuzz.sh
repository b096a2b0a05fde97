#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ for a fixed time each and prints executions and findings.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default: 300 s, every target)
#
# Needs nightly Rust (`rustup toolchain install nightly`) and cargo-fuzz (`cargo install
# cargo-fuzz`). Seed corpora are taken from samples/ into target/fuzz/corpus/<target>/ (kept
# between runs, never committed); crashes, timeouts and out-of-memory inputs go to
# fuzz/artifacts/<target>/. Each target runs with a 2 GB memory limit and 10 s per input.
# Built once for all targets, optimised, with 16 codegen units: with cargo-fuzz's default of one,
# the instrumented index builder (tantivy, lopdf, candle) takes hours on 2 cores instead of about
# half an hour.
# Not part of scripts/test.sh: nightly Rust and minutes per target do not fit CI.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(webhook_body signature_handshake button_ids front_matter markdown html claim_review pdf engine_answer)
fi

corpus_root="target/fuzz/corpus"
seed() {
  local target="$1"
  local dir="$corpus_root/$target"
  mkdir -p "$dir"
  case "$target" in
    webhook_body)
      # The first byte is the flags (bit 0: the body is base64).
      for file in samples/webhooks/*.json; do
        { printf '\0'; cat "$file"; } > "$dir/$(basename "$file")"
      done ;;
    button_ids)
      for id in feedback:yes feedback:no:0123abcd topic:mail subscribe:election_day STOP; do
        printf '%s' "$id" > "$dir/${id//:/_}"
      done ;;
    signature_handshake)
      printf 'sha256=0000\n{"object":"whatsapp_business_account"}' > "$dir/header"
      printf 'hub.mode=subscribe&hub.verify_token=fuzz-verify-token&hub.challenge=42' > "$dir/handshake" ;;
    front_matter|markdown)
      find samples/corpus -name '*.md' -exec cp {} "$dir/" \; ;;
    html)
      find samples/corpus -name '*.html' -exec cp {} "$dir/" \; ;;
    claim_review)
      find samples/corpus -name '*.json' -exec cp {} "$dir/" \; ;;
    pdf)
      find samples/corpus -name '*.pdf' -exec cp {} "$dir/" \; ;;
    engine_answer)
      python3 - "$dir" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
for path in pathlib.Path("samples/eval").glob("*.jsonl"):
    for number, line in enumerate(path.read_text().splitlines()):
        if line.strip():
            (out / f"{path.stem}-{number}").write_text(json.loads(line)["question"])
PY
      ;;
  esac
}

build_flags=(-O -s none --codegen-units 16)
echo "== building the fuzz targets"
(cd fuzz && cargo +nightly fuzz build "${build_flags[@]}")

summary=()
total=0
for target in "${targets[@]}"; do
  seed "$target"
  log="target/fuzz/$target.log"
  echo "== $target: $seconds s"
  status=0
  (cd fuzz && cargo +nightly fuzz run "${build_flags[@]}" "$target" "../$corpus_root/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) \
      > "$log" 2>&1 || status=$?
  executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  executions="${executions:-0}"
  total=$((total + executions))
  if [ "$status" -eq 0 ]; then
    finding="no crash"
  else
    finding="FINDING (exit $status): $(grep -m1 -E 'panicked at|ERROR: libFuzzer' "$log" || echo "see $log")"
  fi
  summary+=("$(printf '%-20s %12s executions  %s' "$target" "$executions" "$finding")")
  echo "${summary[-1]}"
done
echo
echo "== summary ($seconds s per target; logs in target/fuzz/, artifacts in fuzz/artifacts/)"
printf '%s\n' "${summary[@]}"
echo "total: $total executions"
