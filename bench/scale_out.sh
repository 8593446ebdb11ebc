#!/usr/bin/env bash
# Booking burst on PostgreSQL through 1, 2 and 4 server processes on one database (64 logged-in
# clients spread over the processes, audit log on, each process following the others' changes),
# and the time a change takes to reach a board stream on every process.
# Usage: bash bench/scale_out.sh [PROCESSES] [POOL] [PAIRS] — PROCESSES like 1,2,4 (default); POOL
# shared:N (N connections in total split over the processes; default shared:16) or each:N; PAIRS
# the gate pairs the clients book at, each client at one (default 8, as a node's bookings spread
# over its border's gate pairs; 1: every booking on one gate pair's hours and audit stream).
# Last line: one JSON object.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cuakhau-target}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release --locked -q -p cuakhau-bench --bin scale_out
"$CARGO_TARGET_DIR/release/scale_out" "${1:-1,2,4}" "${2:-shared:16}" "${3:-8}"
