#!/usr/bin/env bash
# Makes (if absent) and starts two extra local PostgreSQL clusters for the replica tests: a
# primary on port 5433 (wal_level=replica, trust for local TCP including replication) and a
# streaming replica of it on port 5434 (pg_basebackup -R). Idempotent: clusters that exist and
# replicate are only started; a half-made replica (an earlier run that failed) is dropped and made
# again. Runs as root (CI does), the clusters' commands as the postgres user. Waits until both
# accept connections and the replica is in recovery, then prints the two URLs.
#   bash scripts/pg_replica.sh   # → CUAKHAU_TEST_PRIMARY_URL=… and CUAKHAU_TEST_REPLICA_URL=…
set -euo pipefail

VERSION="${PG_REPLICA_VERSION:-$(ls /usr/lib/postgresql | sort -n | tail -1)}"
PRIMARY=cuakhau_primary
REPLICA=cuakhau_replica
PRIMARY_PORT="${PG_PRIMARY_PORT:-5433}"
REPLICA_PORT="${PG_REPLICA_PORT:-5434}"
BIN="/usr/lib/postgresql/$VERSION/bin"

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
exists() { pg_lsclusters -h | awk -v v="$VERSION" -v c="$1" '$1 == v && $2 == c {f=1} END {exit !f}'; }
wait_ready() {
  for _ in $(seq 1 60); do pg_isready -h 127.0.0.1 -p "$1" -q && return 0; sleep 0.5; done
  echo "PostgreSQL cluster on port $1 does not accept connections" >&2; return 1
}
psql_at() { psql -X -q -A -t -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2"; }

# The primary.
if ! exists "$PRIMARY"; then
  as_root pg_createcluster "$VERSION" "$PRIMARY" -p "$PRIMARY_PORT" -- --auth-local=trust --auth-host=trust >/dev/null
fi
conf="/etc/postgresql/$VERSION/$PRIMARY"
cat <<EOF | as_root tee "$conf/conf.d/cuakhau.conf" >/dev/null
listen_addresses = '127.0.0.1'
port = $PRIMARY_PORT
wal_level = replica
max_wal_senders = 5
wal_keep_size = '256MB'
fsync = off
EOF
cat <<EOF | as_root tee "$conf/pg_hba.conf" >/dev/null
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
EOF
as_root chown postgres:postgres "$conf/conf.d/cuakhau.conf" "$conf/pg_hba.conf"
if pg_lsclusters -h | awk -v v="$VERSION" -v c="$PRIMARY" '$1 == v && $2 == c && $4 == "online" {f=1} END {exit !f}'; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$PRIMARY" reload
else
  as_root pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$PRIMARY" start
fi
wait_ready "$PRIMARY_PORT"
if [ "$(psql_at "$PRIMARY_PORT" 'SHOW wal_level')" != replica ]; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$PRIMARY" restart
  wait_ready "$PRIMARY_PORT"
fi

# The replica: a standby that streams from this primary. Anything else (absent, half-made by an
# earlier run that failed, or the copy of an earlier primary) is dropped and made again, once.
replica_ok() {
  exists "$REPLICA" && [ -f "/var/lib/postgresql/$VERSION/$REPLICA/standby.signal" ]
}
make_replica() {
  if exists "$REPLICA"; then as_root pg_dropcluster --stop "$VERSION" "$REPLICA"; fi
  as_root rm -rf "/var/lib/postgresql/$VERSION/$REPLICA" "/etc/postgresql/$VERSION/$REPLICA"
  as_root pg_createcluster "$VERSION" "$REPLICA" -p "$REPLICA_PORT" -- --auth-local=trust --auth-host=trust >/dev/null
  data="/var/lib/postgresql/$VERSION/$REPLICA"
  as_root find "$data" -mindepth 1 -delete   # pg_basebackup fills the empty directory the cluster owns
  as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$data" -R -X stream -c fast
}
start_replica() {
  conf="/etc/postgresql/$VERSION/$REPLICA"
  printf '%s\n' "listen_addresses = '127.0.0.1'" "port = $REPLICA_PORT" "hot_standby = on" "hot_standby_feedback = on" "fsync = off" \
    | as_root tee "$conf/conf.d/cuakhau.conf" >/dev/null
  printf '%s\n' "local all all trust" "host all all 127.0.0.1/32 trust" | as_root tee "$conf/pg_hba.conf" >/dev/null
  as_root chown postgres:postgres "$conf/conf.d/cuakhau.conf" "$conf/pg_hba.conf"
  if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$REPLICA" '$1 == v && $2 == c && $4 ~ /online/ {f=1} END {exit !f}'; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$REPLICA" start || return 1
  fi
  wait_ready "$REPLICA_PORT" || return 1
  [ "$(psql_at "$REPLICA_PORT" 'SELECT pg_is_in_recovery()')" = t ] || return 1
  # Streaming from this primary (the copy of an earlier primary never attaches).
  for _ in $(seq 1 30); do
    [ "$(psql_at "$PRIMARY_PORT" 'SELECT count(*) FROM pg_stat_replication')" -ge 1 ] && return 0
    sleep 0.5
  done
  return 1
}
replica_ok || make_replica
if ! start_replica; then
  echo "the replica on port $REPLICA_PORT is not a streaming standby of $PRIMARY_PORT; making it again" >&2
  make_replica
  start_replica || { echo "the replica on port $REPLICA_PORT does not stream from $PRIMARY_PORT" >&2; exit 1; }
fi
# A test that paused the replay and then failed leaves it paused.
psql_at "$REPLICA_PORT" 'SELECT pg_wal_replay_resume()' >/dev/null
echo "CUAKHAU_TEST_PRIMARY_URL=postgres://postgres@127.0.0.1:$PRIMARY_PORT/postgres"
echo "CUAKHAU_TEST_REPLICA_URL=postgres://postgres@127.0.0.1:$REPLICA_PORT/postgres"
