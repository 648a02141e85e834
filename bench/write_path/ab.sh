#!/bin/bash
# The write path before/after issue 15's sixth session (migrations 0037, 0038 and the bulk stage
# statement; 0039 since the first run), interleaved in one run on one seeded company (docs/performance.md, "Sixth session
# of 2026-12-07: write path (issue 15)").
#
#   bench/write_path/ab.sh BINARY ROUNDS
#
# TRADESPHERE_DATA_DIR: a cluster migrated to 0039 holding a company seeded with
# `tradesphere-dev seed --customers 100000 --chats-per-customer 3 --seed 42` (slug seed-42-1,
# tech id agent-seed-42-1; override with COMPANY / TECH). Per round:
#   sql     5 x 500-row INSERT … SELECT as the owner, rolled back (../chat_ingest/batches.sql);
#           "before" runs the 0039, 0038 and 0037 down migrations first in the same transaction
#   single  200 single-row INSERTs, rolled back (../chat_ingest/single.py), same A/B
#   stage   3 bulk stage updates of 1000 active customers as the application, rolled back
#           (bulk_stage.sql): "before" the previous statement with the down migrations first
#   http    20 POST /v1/chat batches of 100 rows (committed; "before": migrate down to 36,
#           "after": up to 39; the HTTP code did not change)
set -euo pipefail
BIN=$1 ROUNDS=${2:-3}
DIR=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$DIR/../.." && pwd)
COMPANY=${COMPANY:-seed-42-1} TECH=${TECH:-agent-seed-42-1} PORT=${PORT:-18091}
OWNER=$("$BIN" db url --admin) APP=$("$BIN" db url) SUPER=$("$BIN" db url --superuser)
CID=$(psql "$OWNER" -Atc "SELECT id FROM companies WHERE slug = '$COMPANY'")
DOWN=$(mktemp --suffix=.sql) EMPTY=$(mktemp --suffix=.sql) KNOWN=$(mktemp)
cat "$SRC/migrations/0039_inlinable_metrics_helpers.down.sql" "$SRC/migrations/0038_search_terms_static_sql.down.sql" \
    "$SRC/migrations/0037_customers_hot_updates.down.sql" > "$DOWN"
psql "$OWNER" -Atc "SELECT json_agg(json_build_array(name, email, phone)) FROM (SELECT name, email, phone FROM customers
  WHERE company_id = '$CID' AND status = 'active'
  AND (email IS NOT NULL OR phone IS NOT NULL) ORDER BY md5(id::text) LIMIT 2000) s" > "$KNOWN"
sql() { psql "$OWNER" -q -v tag="$1" -v company="$COMPANY" -v disable= -v setup="$2" -f "$SRC/bench/chat_ingest/batches.sql" 2>&1 |
        grep -oP 'Time: \K[0-9.]+' | tr '\n' ' '; }
stage() { for k in 1 2 3; do psql "$SUPER" -q -v company_id="$CID" -v tag="$1$k" -v stage=churned -v new="$2" -v setup="$3" \
            -v explain= -f "$DIR/bulk_stage.sql" 2>&1 | grep -oP 'Time: \K[0-9.]+' | tr '\n' ' '; done; }
http() {
  local token; token=$("$BIN" token --company "$COMPANY" --user bench --role admin)
  "$BIN" serve --port "$PORT" --threads 2 > /dev/null 2>&1 & local pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
  python3 "$SRC/bench/chat_ingest/http_ingest.py" "$PORT" "$token" "$1" 20 "$KNOWN" "$TECH"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
for r in $(seq 1 "$ROUNDS"); do
  t=$(date +%s)-$r
  echo "== round $r ($(date -u +%T) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "sql before (ms per 500-row batch): $(sql "b$t" "$DOWN")"
  echo "sql after  (ms per 500-row batch): $(sql "a$t" "$EMPTY")"
  echo "single before: $(python3 "$SRC/bench/chat_ingest/single.py" "$OWNER" "$COMPANY" "$TECH" "sb$t" "$DOWN")"
  echo "single after:  $(python3 "$SRC/bench/chat_ingest/single.py" "$OWNER" "$COMPANY" "$TECH" "sa$t")"
  echo "stage before (ms per 1000): $(stage "gb$t" false "$DOWN")"
  echo "stage after  (ms per 1000): $(stage "ga$t" true "$EMPTY")"
  "$BIN" migrate down --to 36 > /dev/null; echo "http before: $(http "hb$t")"
  "$BIN" migrate up > /dev/null;          echo "http after:  $(http "ha$t")"
done
rm -f "$DOWN" "$EMPTY" "$KNOWN"
