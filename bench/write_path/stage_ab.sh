#!/bin/bash
# Bulk stage update of 1000 active customers, one migration's before/after interleaved in
# one run (docs/performance.md, "Tenth session of 2026-12-08: bulk stage update").
#
#   bench/write_path/stage_ab.sh BINARY MIGRATION PAIRS
#
# TRADESPHERE_DATA_DIR: the cluster; COMPANY: the company's slug (default search1m). MIGRATION:
# the migration's file name without .up.sql/.down.sql (e.g. 0049_customer_stage_counts). If the
# cluster has it applied, "before" runs its down first in the same (rolled-back) transaction and
# "after" runs nothing; otherwise "before" runs nothing and "after" its up. Both as the owner
# role inside the superuser's transaction (tradesphere_bulkstage --setup), then the update as
# the application through the product's repository. Each pair alternates which side goes first.
# Warm the cluster first (pg_prewarm of customers and its indexes, the audit and events indexes):
# the 1000 rows are random, and cold runs measure the disk.
# Prints every run (ms, updated rows, HOT updates), the load, and the median of each side.
set -euo pipefail
BIN=$1 MIGRATION=$2 PAIRS=${3:-9}
DIR=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$DIR/../.." && pwd)
COMPANY=${COMPANY:-search1m}
BULKSTAGE=${BULKSTAGE:-$(dirname "$BIN")/bench/tradesphere_bulkstage}
SUPER=$("$BIN" db url --superuser)
CID=$(psql "$SUPER" -Atc "SELECT id FROM companies WHERE slug = '$COMPANY'")
VERSION=$((10#${MIGRATION%%_*}))
APPLIED=$(psql "$SUPER" -Atc "SELECT count(*) FROM schema_migrations WHERE version = $VERSION")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
wrap() { { echo "SET LOCAL ROLE tradesphere_owner;"; cat "$1"; echo "RESET ROLE;"; } > "$2"; }
echo "SELECT 1;" > "$TMP/nothing.sql"
if [ "$APPLIED" = 1 ]; then
  wrap "$SRC/migrations/$MIGRATION.down.sql" "$TMP/before.sql"; cp "$TMP/nothing.sql" "$TMP/after.sql"
else
  cp "$TMP/nothing.sql" "$TMP/before.sql"; wrap "$SRC/migrations/$MIGRATION.up.sql" "$TMP/after.sql"
fi
echo "# $(date -u +%FT%TZ) $MIGRATION applied=$APPLIED company=$COMPANY load: $(cut -d' ' -f1-3 /proc/loadavg)"
run() { echo "$1 $("$BULKSTAGE" --url "$SUPER" --company "$CID" --tag "$1-$2-$RANDOM" --setup "$TMP/$1.sql")"; }
for i in $(seq 1 "$PAIRS"); do
  if [ $((i % 2)) = 1 ]; then run before "$i"; run after "$i"; else run after "$i"; run before "$i"; fi
done | tee "$TMP/runs"
echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
for side in before after; do
  grep "^$side " "$TMP/runs" | awk '{print $2}' | sort -n |
    awk -v s="$side" '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%s: p50 %.1f ms of %d (min %.1f, max %.1f)\n", s, m, NR, v[1], v[NR]}'
done
