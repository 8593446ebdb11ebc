#!/usr/bin/env bash
# Schemathesis over the whole OpenAPI document of a real `cuakhau serve` (fresh SQLite, demo day,
# signed in as an administrator): every operation gets generated valid and invalid requests, and
# the run fails on any server error or any answer that does not match the document. Signing out and
# changing accounts are left out: they would end or lock the run's own session.
# Installs schemathesis (PyPI) if missing. Bounded: N examples an operation (default 25).
# Usage: bash scripts/schemathesis.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cuakhau-target}"
n="${1:-25}"
command -v schemathesis >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check "schemathesis==4.32.5"
cargo build --quiet --locked -p cuakhau-cli
bin="$CARGO_TARGET_DIR/debug/cuakhau"
dir="$(mktemp -d)"
db="sqlite:$dir/st.db"
pass="schemathesis password 1"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
"$bin" --database "$db" migrate >/dev/null
echo "$pass" | "$bin" --database "$db" admin create-user --username st-admin --display-name st-admin --role admin >/dev/null
"$bin" --database "$db" serve --listen 127.0.0.1:0 --insecure-cookies --demo --dispatch-every-s 0 \
  --clock-start 2026-11-23T10:00:00+07:00 >"$dir/out.log" 2>"$dir/server.log" &
pid=$!
for _ in $(seq 1 300); do grep -qo 'http://[0-9.:]*' "$dir/out.log" 2>/dev/null && break; sleep 0.2; done
base="$(grep -o 'http://[0-9.:]*' "$dir/out.log" | head -1)"
[ -n "$base" ] || { cat "$dir/server.log" >&2; echo "the server did not start" >&2; exit 1; }
token="$(curl -sf -H 'content-type: application/json' -d "{\"username\":\"st-admin\",\"password\":\"$pass\"}" "$base/api/v1/auth/login" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
echo "== schemathesis $(schemathesis --version | awk '{print $NF}') on $base ($n examples an operation)"
status=0
schemathesis run "$base/api/v1/openapi.json" --url "$base" -H "Authorization: Bearer $token" \
  --exclude-path /api/v1/auth/logout --exclude-path-regex '^/api/v1/users/\{username\}' \
  --checks all --max-examples "$n" --workers 2 --generation-deterministic --generation-with-security-parameters false \
  --no-color --report junit --report-dir "$dir/report" || status=$?
if [ "$status" -ne 0 ]; then tail -n 40 "$dir/server.log" >&2; fi
exit "$status"
