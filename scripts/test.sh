#!/usr/bin/env bash
# Runs every test of cuakhau, on a fresh machine too: installs what is missing, makes sure
# PostgreSQL is up, then checks formatting, lints, architecture boundaries, dependency licences and
# sources, runs all tests on SQLite and PostgreSQL, runs schemathesis over the OpenAPI document of
# a real server, fuzzes every parser briefly, then runs the browser suite in Chromium. Fails if the PostgreSQL suite did not run.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Keep build products between runs on the same machine (CI clones afresh each time).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cuakhau-target}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# PostgreSQL: install it if this machine has none, start it if it is down.
if ! command -v pg_isready >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  for v in /etc/postgresql/*; do as_root pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start || true; done
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable at 127.0.0.1:5432" >&2; exit 1; }
# A primary and a streaming replica of it (two more local clusters) for the read-replica tests.
replica_urls="$(bash scripts/pg_replica.sh)"
while IFS='=' read -r k v; do export "$k=$v"; done <<<"$(grep '^CUAKHAU_TEST_' <<<"$replica_urls")"

echo "== format"; cargo fmt --all --check
echo "== lints";  cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== architecture"; cargo run --quiet --locked -p xtask -- check
echo "== dependencies (cargo deny: bans, licences, sources; deny.toml)"
command -v cargo-deny >/dev/null 2>&1 || cargo install --locked --quiet cargo-deny
cargo deny --log-level error check bans licenses sources
# Advisories need the RustSec database, fetched from a git host: checked wherever it can be fetched
# (and then a known vulnerability fails the run); said plainly where it cannot.
if cargo deny --log-level error fetch db >/dev/null 2>&1; then
  echo "== advisories (cargo deny: the RustSec database)"
  cargo deny --log-level error check advisories
else
  echo "== advisories NOT CHECKED: the RustSec advisory database could not be fetched from this machine"
fi

echo "== tests (SQLite and PostgreSQL at ${DATABASE_URL%%@*}@…)"
log="$(mktemp)"
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# How many tests ran in the PostgreSQL suite: the result line after its binary starts.
pg=$(awk '/Running tests\/postgres.rs/ {f=1} f && /^test result:/ {print $4; exit}' "$log")
sq=$(awk '/Running tests\/sqlite.rs/ {f=1} f && /^test result:/ {print $4; exit}' "$log")
total=$(awk '/^test result:/ {p+=$4; fl+=$6} END {print p+0, fl+0}' "$log")
rm -f "$log"
echo "== store conformance: ${sq:-0} SQLite tests, ${pg:-0} PostgreSQL tests"
if [ "$status" -ne 0 ]; then exit "$status"; fi
if [ -z "${pg:-}" ] || [ "$pg" -eq 0 ]; then echo "the PostgreSQL suite did not run" >&2; exit 1; fi
read -r passed failed <<<"$total"
echo "$passed passed, $failed failed"

echo "== schemathesis (the pinned version from PyPI, 15 examples an operation; bash scripts/schemathesis.sh N for more)"
bash scripts/schemathesis.sh 15

echo "== fuzz (every target in fuzz/ for 15 s; bash scripts/fuzz.sh SECONDS for longer)"
bash scripts/fuzz.sh 15

echo "== browser suite (bash scripts/e2e.sh; screenshots in e2e/screenshots/)"
bash scripts/e2e.sh
