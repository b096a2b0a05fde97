#!/usr/bin/env bash
# Creates (or reuses) the two Python virtual environments the infrastructure checks need, with
# pinned versions from infra/checks/requirements-*.txt:
#
#   .venv-infra/  cfn-lint, aws-sam-translator and checkov
#   .venv-hcl2/   python-hcl2 (apart: checkov's fork of it installs the same `hcl2` module)
#
# Idempotent: a venv whose requirements file has not changed since it was installed is reused
# (the file's SHA-256 is kept in the venv). Progress and errors go to stderr.
#
#   bash scripts/infra-env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

install() {
    local venv="$1" requirements="$2" wanted
    wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements-sha256" 2> /dev/null || true)" = "$wanted" ]; then
        return
    fi
    echo "infra-env: installing $requirements into $venv" >&2
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        -r "$requirements" >&2
    echo "$wanted" > "$venv/.requirements-sha256"
}

install .venv-infra infra/checks/requirements-infra.txt
install .venv-hcl2 infra/checks/requirements-hcl2.txt
