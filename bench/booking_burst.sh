#!/usr/bin/env bash
# Booking burst on the embedded SQLite through the real HTTP server (logged-in clients, audit on):
# 256 clients until 20,000 slots are gone, 32 clients for latency, and the raw SQLite rate.
# Last line: one JSON object.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cuakhau-target}"
cargo build --release --locked -q -p cuakhau-bench --bin booking_burst
"$CARGO_TARGET_DIR/release/booking_burst"
