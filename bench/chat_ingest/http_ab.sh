#!/bin/bash
# POST /v1/chat through two binaries on one cluster, interleaved in one run (docs/performance.md,
# "Tenth session of 2026-12-08"): each round, 20 committed batches of 100 records (half known
# contacts, half new; bench/ab_common.sh's ab_http, bench/chat_ingest/http_ingest.py) through
# `BEFORE serve --threads 2`, then through `AFTER serve --threads 2` (order alternated per round).
#
#   bench/chat_ingest/http_ab.sh BEFORE_BINARY AFTER_BINARY ROUNDS
#
# TRADESPHERE_DATA_DIR: a cluster at the version both binaries run on (a binary of an older
# version runs on a newer schema when the newer migrations only add functions, e.g. 0048: the
# binary before it calls chat_match_known_batch(), the one after chat_match_batch()). COMPANY /
# TECH: the seeded company's slug and tech id (default seed-42-1 / agent-seed-42-1). Before each
# server the company's duplicate queue is set aside (restored at the end), so that the server's
# scorer does not take the CPU meanwhile (each run enqueues its 1,000 new customers).
set -euo pipefail
BEFORE=$1 AFTER=$2 ROUNDS=${3:-4}
DIR=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$DIR/../.." && pwd)
COMPANY=${COMPANY:-seed-42-1} TECH=${TECH:-agent-seed-42-1} PORT=${PORT:-18093}
OWNER=$("$AFTER" db url --admin) SUPER=$("$AFTER" db url --superuser)
source "$SRC/bench/ab_common.sh"
KNOWN=$(ab_known_contacts)
psql "$SUPER" -qc "CREATE TABLE IF NOT EXISTS bench_queue_aside (LIKE duplicate_queue)"
aside() { psql "$SUPER" -qc "WITH d AS (DELETE FROM duplicate_queue RETURNING *) INSERT INTO bench_queue_aside SELECT * FROM d"; }
restore() {
  aside
  psql "$SUPER" -qc "INSERT INTO duplicate_queue SELECT * FROM bench_queue_aside ON CONFLICT DO NOTHING; DROP TABLE bench_queue_aside"
  rm -f "$KNOWN"
}
trap restore EXIT
for r in $(seq 1 "$ROUNDS"); do
  ab_round "$r"
  t=$(date +%s)-$r
  if [ $((r % 2)) = 1 ]; then
    aside; echo "http before: $(ab_http "$BEFORE" "hb$t" "$KNOWN")"
    aside; echo "http after:  $(ab_http "$AFTER" "ha$t" "$KNOWN")"
  else
    aside; echo "http after:  $(ab_http "$AFTER" "ha$t" "$KNOWN")"
    aside; echo "http before: $(ab_http "$BEFORE" "hb$t" "$KNOWN")"
  fi
done
