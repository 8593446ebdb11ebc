#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets/) for SECONDS each (default 20), seeded from the
# repository's own files: the reference CSVs, the risk rules, the scenarios, a checkpoint.
# Installs cargo-fuzz if missing. libFuzzer needs unstable compiler flags: RUSTC_BOOTSTRAP lets the
# machine's one stable toolchain take them. A crash fails the script and leaves its input in
# fuzz/artifacts/TARGET/.
# Usage: bash scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"; shift || true
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CUAKHAU_FUZZ_TARGET_DIR:-$HOME/.cache/cuakhau-fuzz-target}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi
seeds="$(mktemp -d)"; trap 'rm -rf "$seeds"' EXIT
mkdir -p "$seeds"/{reference_csv,reference_json,risk_rules,scenario_toml,signed_note,api_inputs}
i=0
for t in provinces pairings gate_pairs lanes; do
  # The first byte picks the table (Table::ALL order).
  { printf "\\x$(printf %02x $i)"; head -c 4000 "data/$t.csv"; } > "$seeds/reference_csv/$t"
  { printf "\\x$(printf %02x $i)"; echo '[]'; } > "$seeds/reference_json/$t"
  i=$((i + 1))
done
cp data/risk_rules.csv "$seeds/risk_rules/"
for f in scenarios/*.toml; do cp "$f" "$seeds/scenario_toml/"; done
printf 'cuakhau.example/vn\n3\nq7bYvBHGEprB7T8Zg5v0NlAEV6kDbWq2c1U0h0r/4Tw=\n\n' > "$seeds/signed_note/checkpoint"
printf '29C-123.45\n' > "$seeds/api_inputs/plate"
printf 'officer:VN:customs:huu-nghi\n' > "$seeds/api_inputs/role"
printf '{"hour":"2026-11-24T08:00:00Z"}' > "$seeds/api_inputs/booking"
cd fuzz
cargo fuzz build -s none --debug-assertions >/dev/null
for t in "${targets[@]}"; do
  echo "== fuzz $t (${secs} s)"
  status=0
  cargo fuzz run -s none --debug-assertions "$t" "$seeds/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -max_len=65536 \
    >"$seeds/$t.log" 2>&1 || status=$?
  grep -aE '^(Done|==[0-9]+== ERROR|thread .* panicked|SUMMARY|Test unit written|Base64)' "$seeds/$t.log" || true
  if [ "$status" -ne 0 ]; then tail -n 40 "$seeds/$t.log" >&2; echo "fuzz target $t failed: see fuzz/artifacts/$t/" >&2; exit 1; fi
done
