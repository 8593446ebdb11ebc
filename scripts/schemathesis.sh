#!/usr/bin/env bash
# Schemathesis over the whole OpenAPI document of a real `cuakhau serve` (fresh SQLite, demo day,
# signed in as an administrator): every operation gets generated valid and invalid requests, and
# the run fails on any server error or any answer that does not match the document.
# Signing out uses sessions of a second account and account changes act on a third
# (scripts/schemathesis_hooks.py), so the run's own session lasts; scripts/schemathesis.toml says
# where a schema-valid body may still be refused 422, and why.
# Installs the pinned schemathesis (PyPI) if missing. Bounded: N examples an operation (default 25;
# `scripts/test.sh` runs 15). Prints the figures as its last line, one JSON object.
# Usage: bash scripts/schemathesis.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cuakhau-target}"
n="${1:-25}"
version="4.32.5"
if ! schemathesis --version 2>/dev/null | grep -q "$version"; then
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$version"
fi
cargo build --quiet --locked -p cuakhau-cli
bin="$CARGO_TARGET_DIR/debug/cuakhau"
dir="$(mktemp -d)"
db="sqlite:$dir/st.db"
pass="schemathesis password 1"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
"$bin" --database "$db" migrate >/dev/null
for user in st-admin st-logout st-victim; do
  role=admin; [ "$user" = st-admin ] || role="officer:VN:customs:huu-nghi"
  echo "$pass" | "$bin" --database "$db" admin create-user --username "$user" --display-name "$user" --role "$role" >/dev/null 2>&1
done
"$bin" --database "$db" serve --listen 127.0.0.1:0 --insecure-cookies --demo --dispatch-every-s 0 \
  --clock-start 2026-11-23T10:00:00+07:00 >"$dir/out.log" 2>"$dir/server.log" &
pid=$!
for _ in $(seq 1 300); do grep -qo 'http://[0-9.:]*' "$dir/out.log" 2>/dev/null && break; sleep 0.2; done
base="$(grep -o 'http://[0-9.:]*' "$dir/out.log" | head -1)"
[ -n "$base" ] || { cat "$dir/server.log" >&2; echo "the server did not start" >&2; exit 1; }
login() {
  curl -sf -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"$pass\"}" "$base/api/v1/auth/login" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
ST_TOKEN="$(login st-admin)"
# Sessions for the sign-outs, opened before the run's wrong passwords slow this address's sign-ins.
for _ in $(seq 1 $((n * 4))); do login st-logout; done >"$dir/logout-tokens"
export ST_TOKEN ST_LOGOUT_TOKENS="$dir/logout-tokens"
echo "== schemathesis $(schemathesis --version | awk '{print $NF}') on $base ($n examples an operation)"
status=0
started=$(date +%s)
schemathesis --config-file scripts/schemathesis.toml run "$base/api/v1/openapi.json" --url "$base" \
  --checks all --max-examples "$n" --workers 2 --generation-deterministic --generation-with-security-parameters false \
  --no-color --report junit --report-dir "$dir/report" | tee "$dir/st.log" || status=$?
seconds=$(($(date +%s) - started))
if [ "$status" -ne 0 ]; then tail -n 40 "$dir/server.log" >&2; fi
python3 - "$dir/st.log" "$dir/server.log" "$n" "$seconds" "$status" <<'PY'
import json, re, sys
log, server, n, seconds, status = sys.argv[1:]
text = open(log).read()
tail = [l for l in text.splitlines() if re.search(r" in [0-9.]+s", l) and l.startswith("=")]
last = tail[-1] if tail else ""
count = lambda word, s: int((re.search(r"(\d+) " + word, s) or [0, 0])[1])
generated = re.search(r"(\d+) generated", text)
plain = re.sub(r"\x1b\[[0-9;]*m", "", open(server).read())
print(json.dumps({"examples": int(n), "cases": int(generated[1]) if generated else 0, "failures": count("failures?", last),
                  "errors": count("errors?", last), "server_errors": len(re.findall(r"status=5\d\d\b", plain)),
                  "signed_out": len(re.findall(r"route=/api/v1/auth/logout status=204", plain)),
                  "account_changes": len(re.findall(r"route=/api/v1/users/\{username\}\S* status=2\d\d", plain)),
                  "seconds": int(seconds), "ok": status == "0"}))
PY
exit "$status"
