#!/bin/bash
# The write path with and without migration 0040's copy of the metrics onto customers,
# interleaved in one run (docs/performance.md, "Seventh session of 2026-12-07").
#
#   bench/list_copy/ab.sh BINARY ROUNDS
#
# TRADESPHERE_DATA_DIR: a cluster migrated to 0040; COMPANY (slug, default search1m) and
# TECH (its tech id, default agent-search1m). Per round, "before" runs the 0040 down
# migration first in the same (rolled-back) transaction, "after" runs nothing:
#   sql     5 x 500-row INSERT … SELECT as the owner (../chat_ingest/batches.sql)
#   single  200 single-row INSERTs (../chat_ingest/single.py)
#   stage   3 bulk stage updates of 1000 active customers as the application
#           (../write_path/bulk_stage.sql)
set -euo pipefail
BIN=$1 ROUNDS=${2:-3}
DIR=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$DIR/../.." && pwd)
COMPANY=${COMPANY:-search1m} TECH=${TECH:-agent-search1m}
OWNER=$("$BIN" db url --admin) SUPER=$("$BIN" db url --superuser)
CID=$(psql "$OWNER" -Atc "SELECT id FROM companies WHERE slug = '$COMPANY'")
DOWN="$SRC/migrations/0040_list_metrics_on_customers.down.sql" EMPTY=$(mktemp --suffix=.sql)
sql() { psql "$OWNER" -q -v tag="$1" -v company="$COMPANY" -v disable= -v setup="$2" -f "$SRC/bench/chat_ingest/batches.sql" 2>&1 |
        grep -oP 'Time: \K[0-9.]+' | tr '\n' ' '; }
stage() { for k in 1 2 3; do psql "$SUPER" -q -v company_id="$CID" -v tag="$1$k" -v stage=churned -v new=true -v setup="$2" \
            -v explain= -f "$SRC/bench/write_path/bulk_stage.sql" 2>&1 | grep -oP 'Time: \K[0-9.]+' | tr '\n' ' '; done; }
for r in $(seq 1 "$ROUNDS"); do
  t=$(date +%s)-$r
  echo "== round $r ($(date -u +%T) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "sql before (ms per 500-row batch): $(sql "b$t" "$DOWN")"
  echo "sql after  (ms per 500-row batch): $(sql "a$t" "$EMPTY")"
  echo "single before: $(python3 "$SRC/bench/chat_ingest/single.py" "$OWNER" "$COMPANY" "$TECH" "sb$t" "$DOWN")"
  echo "single after:  $(python3 "$SRC/bench/chat_ingest/single.py" "$OWNER" "$COMPANY" "$TECH" "sa$t")"
  echo "stage before (ms per 1000): $(stage "gb$t" "$DOWN")"
  echo "stage after  (ms per 1000): $(stage "ga$t" "$EMPTY")"
done
rm -f "$EMPTY"
