#!/usr/bin/env bash
# Packages a votecheck Lambda function into one reproducible zip with `bootstrap` at its root and
# a `package.json` manifest (binary version and SHA-256, how it was built, architecture, source
# commit, file sizes). The SAM template and the Terraform module deploy these zips. See
# docs/deploy.md.
#
# The webhook (the default, `--function webhook`): builds the index of a corpus with
# `index-builder`, builds the release `bootstrap` for the Lambda architecture, and writes
# target/lambda/votecheck.zip with the index in `index/` and the sentence encoder's model in
# `model/` (the manifest also records the corpus hash and version, the index build time, the
# model's identity and provenance).
# The alert sender (`--function sender`): builds the release `votecheck-sender` and writes
# target/lambda/votecheck-sender.zip holding only that binary, as `bootstrap` (no index, no model).
#
#   bash infra/package.sh --corpus DIR [--out target/lambda/votecheck.zip] [--arch x86_64|arm64]
#                         [--strict] [--bootstrap FILE] [--index-builder FILE] [--strip]
#                         [--model FILE]
#   bash infra/package.sh --function sender [--out target/lambda/votecheck-sender.zip]
#                         [--arch x86_64|arm64] [--bootstrap FILE] [--strip]
#
#   --function NAME       webhook (default) or sender: which function to package
#   --corpus DIR          the documents to index (see docs/corpus-format.md); webhook only
#   --out FILE            the zip to write (default target/lambda/votecheck.zip, or
#                         target/lambda/votecheck-sender.zip for the sender)
#   --arch ARCH           x86_64 (default) or arm64; must match the template's Architecture
#   --strict              fail when any corpus file has a problem (index-builder --strict)
#   --bootstrap FILE      package this already-built binary instead of building one (tests
#                         pass the dev build, so that the test command keeps one build profile);
#                         for the sender, its `votecheck-sender`, packaged as `bootstrap`
#   --index-builder FILE  use this index-builder instead of building the release one
#   --strip               strip the symbols of the bootstrap copy first (for a debug build)
#   --model FILE          the encoder model to index with and bundle (default: the one
#                         `bash scripts/model.sh` derives from the pinned package)
#
# Reproducible: SOURCE_DATE_EPOCH (seconds) is the index build time recorded in the manifests
# and every time stamp in the zip; the same corpus, sources, toolchain and SOURCE_DATE_EPOCH give
# a byte-identical zip. Unset, it is the current time, and package.json records it, so
# `SOURCE_DATE_EPOCH=<package.json's source_date_epoch> bash infra/package.sh ...` rebuilds the
# same package for comparison.
#
# arm64 needs the Rust target aarch64-unknown-linux-gnu (`rustup target add ...`); the build then
# goes through cargo-lambda with zig, both installed from the package registry into .venv-lambda/.
set -euo pipefail
repository="$(cd "$(dirname "$0")/.." && pwd)"

package_function="webhook"
corpus=""
out="$repository/target/lambda/votecheck.zip"
given_out=""
arch="x86_64"
strict=""
given_bootstrap=""
given_index_builder=""
strip_symbols=""
given_model=""
CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.17.1

usage() {
    sed -n '15,33p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
        --function) package_function="${2:?--function needs webhook or sender}"; shift 2 ;;
        --corpus) corpus="${2:?--corpus needs a directory}"; shift 2 ;;
        --out) out="${2:?--out needs a file name}"; given_out=1; shift 2 ;;
        --arch) arch="${2:?--arch needs x86_64 or arm64}"; shift 2 ;;
        --strict) strict="--strict"; shift ;;
        --bootstrap) given_bootstrap="${2:?--bootstrap needs a file}"; shift 2 ;;
        --index-builder) given_index_builder="${2:?--index-builder needs a file}"; shift 2 ;;
        --strip) strip_symbols=1; shift ;;
        --model) given_model="${2:?--model needs a file}"; shift 2 ;;
        -h | --help) usage ;;
        *) echo "package: unknown argument $1" >&2; usage ;;
    esac
done

fail() {
    echo "package: $*" >&2
    exit 1
}

# Which binary of which crate becomes the package's `bootstrap` (cargo-lambda writes each binary
# to target/lambda/<binary>/bootstrap).
case "$package_function" in
    webhook)
        crate="votecheck-webhook-lambda"
        binary="bootstrap"
        [ -n "$corpus" ] || fail "--corpus DIR is required (the folder of documents to index)"
        [ -d "$corpus" ] || fail "the corpus $corpus is not a directory"
        ;;
    sender)
        crate="votecheck-sender-lambda"
        binary="votecheck-sender"
        [ -n "$given_out" ] || out="$repository/target/lambda/votecheck-sender.zip"
        for option in "$corpus:--corpus" "$strict:--strict" "$given_index_builder:--index-builder" "$given_model:--model"; do
            [ -z "${option%:*}" ] || fail "${option##*:} is for the webhook: the sender's package holds no index and no model"
        done
        ;;
    *) fail "--function must be webhook or sender, not $package_function" ;;
esac
case "$arch" in
    x86_64) rust_target="x86_64-unknown-linux-gnu" ;;
    arm64) rust_target="aarch64-unknown-linux-gnu" ;;
    *) fail "--arch must be x86_64 or arm64, not $arch" ;;
esac
case "$out" in
    /*) ;;
    *) out="$PWD/$out" ;;
esac
[ -z "$corpus" ] || corpus="$(cd "$corpus" && pwd)"
command -v python3 > /dev/null || fail "python3 is needed to write the zip"

export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(date +%s)}"
case "$SOURCE_DATE_EPOCH" in
    '' | *[!0-9]*) fail "SOURCE_DATE_EPOCH must be whole seconds since 1970, not $SOURCE_DATE_EPOCH" ;;
esac

# How bootstrap will be built: natively, or (another architecture) with cargo-lambda and zig,
# which needs the Rust target; checked first, so that a missing target fails before any work.
host_arch="$(uname -m)"
if [ -n "$given_bootstrap" ]; then
    build="given"
elif { [ "$arch" = x86_64 ] && [ "$host_arch" = x86_64 ]; } || { [ "$arch" = arm64 ] && [ "$host_arch" = aarch64 ]; }; then
    build="native"
else
    build="cross"
    if [ ! -d "$(rustc --print sysroot)/lib/rustlib/$rust_target" ]; then
        fail "cannot build for $arch here: the Rust target $rust_target is not installed" \
            "(run \`rustup target add $rust_target\` where the Rust distribution server is reachable)," \
            "or build on an $arch machine and pass --bootstrap FILE"
    fi
fi

staging="$(mktemp -d "${TMPDIR:-/tmp}/votecheck-package.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

# 1. The index (the webhook only: the sender answers nothing and needs none).
if [ "$package_function" = webhook ]; then
    if [ -n "$given_index_builder" ]; then
        index_builder="$given_index_builder"
    else
        echo "package: building index-builder (release)" >&2
        (cd "$repository" && cargo build --release --locked -p votecheck-index-builder --bin index-builder >&2)
        index_builder="$repository/target/release/index-builder"
    fi
    [ -x "$index_builder" ] || fail "$index_builder is not an executable index-builder"
    if [ -n "$given_model" ]; then
        model="$given_model"
    elif [ -n "$given_index_builder" ]; then
        model="$(bash "$repository/scripts/model.sh")"
    else
        model="$(bash "$repository/scripts/model.sh" --release)"
    fi
    [ -f "$model" ] || fail "the encoder model $model does not exist (derive it with bash scripts/model.sh)"
    echo "package: indexing $corpus" >&2
    "$index_builder" build "$corpus" --out "$staging/index" --model "$model" $strict >&2
    mkdir -p "$staging/model"
    cp "$model" "$staging/model/multilingual-e5-small-q4.vce"
fi

# 2. The bootstrap.
if [ "$build" = given ]; then
    [ -f "$given_bootstrap" ] || fail "--bootstrap $given_bootstrap does not exist"
    bootstrap="$given_bootstrap"
    built_by="given: $given_bootstrap"
elif [ "$build" = native ]; then
    echo "package: building $binary (release, $arch)" >&2
    (cd "$repository" && cargo build --release --locked -p "$crate" --bin "$binary" >&2)
    bootstrap="$repository/target/release/$binary"
    built_by="cargo build --release --locked -p $crate --bin $binary"
else
    venv="$repository/.venv-lambda"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >&2
    if ! "$venv/bin/python" -m pip show "cargo-lambda" 2> /dev/null | grep -qx "Version: $CARGO_LAMBDA_VERSION" \
        || ! "$venv/bin/python" -m pip show "ziglang" 2> /dev/null | grep -qx "Version: $ZIGLANG_VERSION"; then
        echo "package: installing cargo-lambda==$CARGO_LAMBDA_VERSION and ziglang==$ZIGLANG_VERSION into $venv" >&2
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
            "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION" >&2
    fi
    # cargo-lambda finds zig through the venv's `python3 -m ziglang` (PATH puts the venv first).
    echo "package: building $binary (release, $arch) with cargo-lambda and zig" >&2
    lambda_arch_flag="--arm64"
    [ "$arch" = x86_64 ] && lambda_arch_flag="--x86-64"
    (cd "$repository" && PATH="$venv/bin:$PATH" cargo lambda build --release --locked "$lambda_arch_flag" \
        -p "$crate" --bin "$binary" >&2)
    bootstrap="$repository/target/lambda/$binary/bootstrap"
    built_by="cargo lambda build --release --locked $lambda_arch_flag -p $crate --bin $binary (cargo-lambda $CARGO_LAMBDA_VERSION, ziglang $ZIGLANG_VERSION)"
fi
cp "$bootstrap" "$staging/bootstrap"
if [ -n "$strip_symbols" ]; then
    command -v strip > /dev/null || fail "--strip needs \`strip\` (binutils)"
    strip "$staging/bootstrap"
    built_by="$built_by, symbols stripped"
fi
chmod 755 "$staging/bootstrap"

# 3. The manifest and the zip.
python3 "$repository/infra/package_zip.py" manifest --function "$package_function" --staging "$staging" --arch "$arch" \
    --source-date-epoch "$SOURCE_DATE_EPOCH" --repository "$repository" --built-by "$built_by"
python3 "$repository/infra/package_zip.py" write --function "$package_function" --staging "$staging" --out "$out" \
    --source-date-epoch "$SOURCE_DATE_EPOCH"
echo "$out"
