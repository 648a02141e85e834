#!/usr/bin/env bash
# The whole runbook on a seeded legacy database, each step timed (docs/upgrade.md,
# "Figures"): seed --legacy -> adopt -> migrate up -> backfill -> verify.
#   TRADESPHERE_DATA_DIR=/tmp/ts bench/backfill/upgrade.sh BINARY DBNAME COMPANIES CUSTOMERS CHATS_PER_CUSTOMER [backfill options…]
set -euo pipefail
bin=$1 db=$2 companies=$3 customers=$4 chats=$5; shift 5
dev=${DEV_BIN:-$(dirname "$bin")/tradesphere-dev}   # `seed` lives in the developer binary
admin=$("$bin" db url --admin)
app=$("$bin" db url)
psql -X -q "$admin" -c "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\" OWNER tradesphere_owner"
export DATABASE_ADMIN_URL="${admin%/*}/$db" DATABASE_URL="${app%/*}/$db"
step() {  # name, command…
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"/tmp/upgrade-$db-$name.out" 2>&1 || { echo "$name failed:"; tail -20 "/tmp/upgrade-$db-$name.out"; exit 1; }
  t1=$(date +%s.%N)
  printf '%-8s %7.1f s   (load %s)\n' "$name" "$(bc -l <<<"$t1 - $t0")" "$(cut -d' ' -f1-3 /proc/loadavg)"
}
"$bin" migrate up --to 1 >/dev/null
step seed "$dev" seed --legacy --companies "$companies" --customers "$customers" --chats-per-customer "$chats" --seed 42
psql -X -q "$DATABASE_ADMIN_URL" -c 'DROP TABLE schema_migrations'   # a real legacy database has none
echo "runbook start $(date -u +%H:%M:%S)"
T0=$(date +%s.%N)
step adopt "$bin" migrate adopt
step up "$bin" migrate up
step backfill "$bin" backfill "$@"
step verify "$bin" verify
T1=$(date +%s.%N)
printf 'adopt -> verified: %.1f s\n' "$(bc -l <<<"$T1 - $T0")"
grep -E '^(rows|customers|sync|left|quarantined|row-by-row)' "/tmp/upgrade-$db-backfill.out"
tr '\r' '\n' <"/tmp/upgrade-$db-backfill.out" | grep '^backfill: ' | tail -1
head -8 "/tmp/upgrade-$db-verify.out"
