#!/usr/bin/env bash
# Creates (or reuses) the Python virtual environment `.venv/` at the repository root with the pinned
# Python tools the tests need, and prints the path of `moto_server` (the local DynamoDB that the
# votecheck-store tests start on a free loopback port).
#
# Idempotent and quiet: a second run with the right version already installed does nothing but
# print the path. Progress and errors go to stderr, so `"$(bash scripts/python-env.sh)"` is the path.
#
#   export VOTECHECK_MOTO_SERVER="$(bash scripts/python-env.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: bump deliberately, after `pip index versions moto` and a green `cargo test -p votecheck-store`.
MOTO_VERSION=5.2.5
VENV="$PWD/.venv"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "python-env: creating $VENV" >&2
    "$PYTHON" -m venv "$VENV" >&2
fi

installed_version() {
    "$VENV/bin/python" - <<'EOF' 2>/dev/null
import importlib.metadata as metadata
print(metadata.version("moto"))
EOF
}

if [ "$(installed_version || true)" != "$MOTO_VERSION" ] || [ ! -x "$VENV/bin/moto_server" ]; then
    echo "python-env: installing moto[server]==$MOTO_VERSION into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        "moto[server]==$MOTO_VERSION" >&2
fi

if [ ! -x "$VENV/bin/moto_server" ]; then
    echo "python-env: $VENV/bin/moto_server is missing after installing moto[server]==$MOTO_VERSION" >&2
    exit 1
fi

echo "$VENV/bin/moto_server"
