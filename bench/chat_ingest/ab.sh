#!/bin/bash
# Chat ingest before/after migration 0034 on one seeded company, interleaved in one run
# (docs/performance.md, "Set-based chat ingest (migration 0034)").
#
#   bench/chat_ingest/ab.sh OLD_BINARY NEW_BINARY ROUNDS
#
# TRADESPHERE_DATA_DIR: a cluster migrated to 0034 holding a company seeded with
# `tradesphere-dev seed --customers 100000 --chats-per-customer 3 --seed 42` (slug seed-42-1,
# tech id agent-seed-42-1; override with COMPANY / TECH). OLD_BINARY: a build of the commit
# before 0034 (serves the HTTP "before" path). Per round and path:
#   sql     5 x 500-row INSERT … SELECT as the owner, rolled back (batches.sql); "before" runs
#           the 0034 down migration first in the same transaction
#   single  200 single-row INSERTs as the owner with the tenant set, rolled back (single.py), same A/B
#   http    20 POST /v1/chat batches of 100 rows (committed; "before": migrate down to 33
#           and OLD_BINARY, which inserts record by record; "after": NEW_BINARY at 34)
set -euo pipefail
OLD=$1 NEW=$2 ROUNDS=${3:-3}
DIR=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$DIR/../.." && pwd)
COMPANY=${COMPANY:-seed-42-1} TECH=${TECH:-agent-seed-42-1} PORT=${PORT:-18087}
OWNER=$("$NEW" db url --admin) APP=$("$NEW" db url)
DOWN=$SRC/migrations/0034_set_based_chat_ingest.down.sql EMPTY=$(mktemp) KNOWN=$(mktemp)
psql "$OWNER" -Atc "SELECT json_agg(json_build_array(name, email, phone)) FROM (SELECT name, email, phone FROM customers
  WHERE company_id = (SELECT id FROM companies WHERE slug = '$COMPANY') AND status = 'active'
  AND (email IS NOT NULL OR phone IS NOT NULL) ORDER BY md5(id::text) LIMIT 2000) s" > "$KNOWN"
sql() { psql "$OWNER" -q -v tag="$1" -v company="$COMPANY" -v disable= -v setup="$2" -f "$DIR/batches.sql" 2>&1 |
        grep -oP 'Time: \K[0-9.]+' | tr '\n' ' '; }
http() {  # binary tag
  local token; token=$("$1" token --company "$COMPANY" --user bench --role admin)
  "$1" serve --port "$PORT" --threads 2 > /dev/null 2>&1 & local pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
  python3 "$DIR/http_ingest.py" "$PORT" "$token" "$2" 20 "$KNOWN" "$TECH"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
for r in $(seq 1 "$ROUNDS"); do
  t=$(date +%s)-$r
  echo "== round $r ($(date -u +%T) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "sql before (ms per 500-row batch): $(sql "b$t" "$DOWN")"
  echo "sql after  (ms per 500-row batch): $(sql "a$t" "$EMPTY")"
  echo "single before: $(python3 "$DIR/single.py" "$OWNER" "$COMPANY" "$TECH" "sb$t" "$DOWN")"
  echo "single after:  $(python3 "$DIR/single.py" "$OWNER" "$COMPANY" "$TECH" "sa$t")"
  "$NEW" migrate down --to 33 > /dev/null; echo "http before: $(http "$OLD" "hb$t")"
  "$NEW" migrate up > /dev/null;          echo "http after:  $(http "$NEW" "ha$t")"
done
rm -f "$EMPTY" "$KNOWN"
