#!/usr/bin/env bash
# Times one backfill on a fresh copy of a prepared legacy database (legacy_db.sh),
# then verifies it.
#   TRADESPHERE_DATA_DIR=/tmp/ts bench/backfill/run.sh BINARY TEMPLATE_DB COPY_DB [backfill options…]
# Prints: copy, options, rows examined, seconds, rows/s, verify's first line, load average.
set -euo pipefail
bin=$1 template=$2 db=$3; shift 3
admin=$("$bin" db url --admin)
app=$("$bin" db url)
psql -X -q "$admin" -c "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\" TEMPLATE \"$template\" OWNER tradesphere_owner"
export DATABASE_ADMIN_URL="${admin%/*}/$db" DATABASE_URL="${app%/*}/$db"
"$bin" migrate up >/dev/null
load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s.%N)
out=$("$bin" backfill "$@" 2>/tmp/backfill-run-$db.err)
t1=$(date +%s.%N)
rows=$(sed -n 's/^rows examined: *//p' <<<"$out")
v0=$(date +%s.%N)
verify=$("$bin" verify 2>&1 | head -1 || true)
v1=$(date +%s.%N)
# the linking phase alone (after the shared-email merges): the last progress line
link=$(tr '\r' '\n' </tmp/backfill-run-$db.err | grep '^backfill: ' | tail -1)
merged=$(sed -n 's/^customers merged: *//p' <<<"$out" | cut -d' ' -f1)
printf '%s %s: %s rows in %.1f s = %.0f rows/s over the whole command (%s customers merged first); linking: %s; customers created %s; %s (verify %.1f s); load %s -> %s\n' \
  "$db" "$*" "$rows" "$(bc -l <<<"$t1 - $t0")" "$(bc -l <<<"$rows / ($t1 - $t0)")" "$merged" "$link" \
  "$(sed -n 's/^customers created: *//p' <<<"$out")" "$verify" "$(bc -l <<<"$v1 - $v0")" "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)"
