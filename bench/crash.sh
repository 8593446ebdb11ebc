#!/usr/bin/env bash
# kill -9 in the middle of booking bursts, N trials on each engine (SQLite, and PostgreSQL at
# DATABASE_URL): acknowledged bookings lost, hours over capacity, counters that disagree with the
# bookings, and whether the audit log verifies after each. Last line: one JSON object.
# Usage: bash bench/crash.sh [N] [sqlite|postgres|sqlite,postgres] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cuakhau-target}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
cargo build --release --locked -q -p cuakhau-bench --bin crash
"$CARGO_TARGET_DIR/release/crash" "${1:-10}" "${2:-sqlite,postgres}" "${3:-1}"
