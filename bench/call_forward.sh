#!/usr/bin/env bash
# Time per call-forward decision (the core's CallForward) with 1,000, 10,000 and 100,000 trucks
# in the yard, for each policy. Last line: one JSON object.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cuakhau-target}"
cargo build --release --locked -q -p cuakhau-bench --bin call_forward
"$CARGO_TARGET_DIR/release/call_forward"
