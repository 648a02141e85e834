#!/bin/bash
# Issue 15's write-path targets in one run, per round (docs/performance.md, "Tenth session of
# 2026-12-08: the write path at 1M with 0048–0050 together"):
#   3 bulk stage updates of 1000 active customers (tradesphere_bulkstage, rolled back),
#   200 single-row chat INSERTs (rolled back), five 500-row INSERT … SELECT batches (rolled back),
#   20 POST /v1/chat batches of 100 rows (committed; the duplicate queue is set aside meanwhile,
#   so that the server's scorer does not take the CPU, and restored at the end).
#
#   bench/write_path/targets.sh BINARY [ROUNDS]
#
# TRADESPHERE_DATA_DIR: the cluster; COMPANY / TECH: slug and tech id of a seeded company
# (default search1m / agent-search1m, the 1M company); PORT (default 18093). Every table and
# index is prewarmed first (pg_prewarm, installed if missing).
set -euo pipefail
BIN=$1 ROUNDS=${2:-3}
DIR=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$DIR/../.." && pwd)
COMPANY=${COMPANY:-search1m} TECH=${TECH:-agent-search1m} PORT=${PORT:-18093}
BULKSTAGE=${BULKSTAGE:-$(dirname "$BIN")/bench/tradesphere_bulkstage}
OWNER=$("$BIN" db url --admin) SUPER=$("$BIN" db url --superuser)
source "$SRC/bench/ab_common.sh"
CID=$(psql "$OWNER" -Atc "SELECT id FROM companies WHERE slug = '$COMPANY'")
KNOWN=$(ab_known_contacts)
psql "$SUPER" -qAtc "CREATE EXTENSION IF NOT EXISTS pg_prewarm" \
  -c "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i')" > /dev/null
psql "$SUPER" -qc "CREATE TABLE IF NOT EXISTS bench_queue_aside (LIKE duplicate_queue)"
trap 'psql "$SUPER" -qc "INSERT INTO duplicate_queue SELECT * FROM bench_queue_aside ON CONFLICT DO NOTHING; DROP TABLE bench_queue_aside"' EXIT
for r in $(seq 1 "$ROUNDS"); do
  t=$(date +%s)-$r
  ab_round "$r"
  echo "bulk stage 1000 (ms): $(for k in 1 2 3; do "$BULKSTAGE" --url "$SUPER" --company "$CID" --tag "s$t$k" --stage churned | cut -d' ' -f1; done | tr '\n' ' ')"
  echo "single: $(ab_single "i$t")"
  echo "sql 500-row batches (ms): $(ab_sql "q$t" /dev/null)"
  psql "$SUPER" -qc "WITH d AS (DELETE FROM duplicate_queue RETURNING *) INSERT INTO bench_queue_aside SELECT * FROM d"
  echo "http: $(ab_http "$BIN" "h$t" "$KNOWN" | tail -2 | tr '\n' ' ')"
done
