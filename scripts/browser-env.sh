#!/usr/bin/env bash
# Makes sure headless Chromium and ChromeDriver are installed for the preview console's browser
# test (Debian packages `chromium` and `chromium-driver`), installing them with apt when missing.
# Prints nothing but progress; fails with a clear message when they cannot be installed.
set -euo pipefail

chromium="${VOTECHECK_CHROMIUM:-/usr/bin/chromium}"
driver="${VOTECHECK_CHROMEDRIVER:-/usr/bin/chromedriver}"
if [[ -x "$chromium" && -x "$driver" ]]; then
  echo "chromium and chromedriver present"
  exit 0
fi

as_root=()
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    echo "chromium and chromium-driver are missing and this user cannot install them: install both Debian packages, or set VOTECHECK_CHROMIUM and VOTECHECK_CHROMEDRIVER" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "chromium and chromium-driver are missing and apt-get is not available: install Chromium and its ChromeDriver, and set VOTECHECK_CHROMIUM and VOTECHECK_CHROMEDRIVER" >&2
  exit 1
fi
echo "installing chromium and chromium-driver (about a minute)"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq chromium chromium-driver >/dev/null
"$chromium" --version
