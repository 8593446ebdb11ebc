#!/usr/bin/env bash
# The browser suite alone: builds the cuakhau binary, installs Debian's Chromium and CJK fonts
# if missing, installs playwright-core, and runs e2e/console.test.mjs. Screenshots land in
# e2e/screenshots/ as PAGE-LANG-WIDTH.png.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cuakhau-target}"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk
fi
if ! command -v node >/dev/null 2>&1; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi
cargo build --quiet --locked -p cuakhau-cli
(cd e2e && npm install --no-audit --no-fund --silent)
echo "== browser (Chromium $(chromium --version 2>/dev/null | awk '{print $2}'), playwright-core)"
cd e2e && CUAKHAU_BIN="$CARGO_TARGET_DIR/debug/cuakhau" node --test --test-concurrency=1 console.test.mjs
