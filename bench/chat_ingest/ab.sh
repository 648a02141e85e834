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
# The steps are bench/ab_common.sh's.
set -euo pipefail
OLD=$1 NEW=$2 ROUNDS=${3:-3}
DIR=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$DIR/../.." && pwd)
COMPANY=${COMPANY:-seed-42-1} TECH=${TECH:-agent-seed-42-1} PORT=${PORT:-18087}
OWNER=$("$NEW" db url --admin)
source "$SRC/bench/ab_common.sh"
DOWN=$SRC/migrations/0034_set_based_chat_ingest.down.sql EMPTY=$(mktemp) KNOWN=$(ab_known_contacts)
for r in $(seq 1 "$ROUNDS"); do
  t=$(date +%s)-$r
  ab_round "$r"
  echo "sql before (ms per 500-row batch): $(ab_sql "b$t" "$DOWN")"
  echo "sql after  (ms per 500-row batch): $(ab_sql "a$t" "$EMPTY")"
  echo "single before: $(ab_single "sb$t" "$DOWN")"
  echo "single after:  $(ab_single "sa$t")"
  "$NEW" migrate down --to 33 > /dev/null; echo "http before: $(ab_http "$OLD" "hb$t" "$KNOWN")"
  "$NEW" migrate up > /dev/null;          echo "http after:  $(ab_http "$NEW" "ha$t" "$KNOWN")"
done
rm -f "$EMPTY" "$KNOWN"
