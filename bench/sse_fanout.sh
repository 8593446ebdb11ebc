#!/usr/bin/env bash
# Thousands of viewers on one public board (default 5,000) and a series of changes (default 20):
# delivery latency to every viewer, server CPU per change, other requests' latency meanwhile, and
# memory per idle viewer. The server runs in its own process. Then the floor: a bare loop writing the
# same bytes to as many loopback sockets (floor_cpu_ms_per_change, ratio_to_floor). Last line: one JSON object.
# Usage: bash bench/sse_fanout.sh [SUBSCRIBERS] [CHANGES]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cuakhau-target}"
# Two sockets a viewer (client and server side) and some to spare.
ulimit -n "$(( ${1:-5000} * 2 + 1024 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --locked -q -p cuakhau-bench --bin sse_fanout
"$CARGO_TARGET_DIR/release/sse_fanout" "$@"
