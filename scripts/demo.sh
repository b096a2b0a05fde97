#!/usr/bin/env bash
# The README's main command (until the local server lands): builds the sample corpus into
# target/sample-index and asks it a few questions in English, Spanish and Japanese.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p votecheck-index-builder --bin index-builder
builder=target/release/index-builder
"$builder" build samples/corpus --out target/sample-index
"$builder" inspect target/sample-index
for question in "How do I vote by mail?" "¿Qué identificación necesito para votar?" "期日前投票はいつからですか"; do
  echo
  echo "### $question"
  "$builder" search target/sample-index "$question" --limit 2
done
