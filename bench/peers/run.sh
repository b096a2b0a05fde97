#!/usr/bin/env bash
# Runs the BM25 peers in their own virtual environment (bench/peers/.venv), creating it and
# installing requirements.txt when needed. Arguments go to bm25_peers.py unchanged, e.g.
#   bench/peers/run.sh --passages /tmp/sample-passages.jsonl \
#       --cases samples/eval/sample-corpus.jsonl --json
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv" >&2
fi

# Reinstall only when requirements.txt changed since the last successful install.
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/requirements.txt" >&2
  echo "$want" > "$stamp"
fi

# A first argument naming one of the scripts here runs that script instead of the BM25 peers.
script=bm25_peers.py
case "${1:-}" in
  *.py) script="$1"; shift ;;
esac
exec "$venv/bin/python" "$here/$script" "$@"
