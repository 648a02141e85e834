#!/bin/bash
# The write path before/after issue 15's sixth session (migrations 0037, 0038 and the bulk stage
# statement; 0039 since the first run), interleaved in one run on one seeded company (docs/performance.md, "Sixth session
# of 2026-12-07: write path (issue 15)").
#
#   bench/write_path/ab.sh BINARY ROUNDS
#
# TRADESPHERE_DATA_DIR: a cluster migrated to 0039 holding a company seeded with
# `tradesphere-dev seed --customers 100000 --chats-per-customer 3 --seed 42` (slug seed-42-1,
# tech id agent-seed-42-1; override with COMPANY / TECH). BULKSTAGE: the tradesphere_bulkstage
# binary (default: beside BINARY, bench/tradesphere_bulkstage). Per round:
#   sql     5 x 500-row INSERT … SELECT as the owner, rolled back (../chat_ingest/batches.sql);
#           "before" runs the 0039, 0038 and 0037 down migrations first in the same transaction
#   single  200 single-row INSERTs, rolled back (../chat_ingest/single.py), same A/B
#   stage   3 bulk stage updates of 1000 active customers as the application, rolled back
#           (tradesphere_bulkstage): "after" through the product's repository; "before" the
#           statement as it was before 14d115f (read from git history) with the down migrations first
#   http    20 POST /v1/chat batches of 100 rows (committed; "before": migrate down to 36,
#           "after": up to 39; the HTTP code did not change)
# The sql, single and http steps are bench/ab_common.sh's.
# Later sessions choose their own "before" (defaults: the sixth session's):
#   DOWNS        down migrations run first in the "before" transactions, in this order
#                (default "0039_inlinable_metrics_helpers 0038_search_terms_static_sql 0037_customers_hot_updates")
#   STAGE_BEFORE the git revision whose kBulkStage is the "before" statement (default 14d115f^);
#                "current": the repository's statement on both sides
#   HTTP_BEFORE  the version "http before" migrates down to (default 36); since migration 0043 this
#                binary's POST /v1/chat needs version 43 or later, so "http before" below 43 fails:
#                use HTTP=0, or bench/chat_ingest/api_ab.sh HTTP=1 for 0043's before/after
#   HTTP         0: no http step (on a freshly seeded database `serve` scores the seed's
#                duplicate queue meanwhile, and did not exit within minutes of being stopped)
# e.g. the eighth session (migration 0041):
#   DOWNS=0041_metrics_copy_in_statement STAGE_BEFORE=current HTTP=0 bench/write_path/ab.sh build/tradesphere 3
set -euo pipefail
BIN=$1 ROUNDS=${2:-3}
DIR=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$DIR/../.." && pwd)
COMPANY=${COMPANY:-seed-42-1} TECH=${TECH:-agent-seed-42-1} PORT=${PORT:-18091}
BULKSTAGE=${BULKSTAGE:-$(dirname "$BIN")/bench/tradesphere_bulkstage}
OWNER=$("$BIN" db url --admin) SUPER=$("$BIN" db url --superuser)
source "$SRC/bench/ab_common.sh"
CID=$(psql "$OWNER" -Atc "SELECT id FROM companies WHERE slug = '$COMPANY'")
DOWN=$(mktemp --suffix=.sql) EMPTY=$(mktemp --suffix=.sql) BEFORE=$(mktemp --suffix=.sql) KNOWN=$(ab_known_contacts)
DOWNS=${DOWNS:-0039_inlinable_metrics_helpers 0038_search_terms_static_sql 0037_customers_hot_updates}
STAGE_BEFORE=${STAGE_BEFORE:-14d115f^} HTTP_BEFORE=${HTTP_BEFORE:-36}
for m in $DOWNS; do cat "$SRC/migrations/$m.down.sql"; done > "$DOWN"
STAGE_STATEMENT=()
if [ "$STAGE_BEFORE" != current ]; then
  git -C "$SRC" show "$STAGE_BEFORE:src/db/customer_repository.cpp" | sed -n '/kBulkStage = R"SQL(/,/^)SQL";/p' | sed '1d;$d' > "$BEFORE"
  STAGE_STATEMENT=(--statement "$BEFORE")
fi
stage() {  # tag [options]: ms of 3 updates
  local tag=$1; shift
  for k in 1 2 3; do "$BULKSTAGE" --url "$SUPER" --company "$CID" --tag "$tag$k" --stage churned "$@" | cut -d' ' -f1 | tr '\n' ' '; done
}
for r in $(seq 1 "$ROUNDS"); do
  t=$(date +%s)-$r
  ab_round "$r"
  echo "sql before (ms per 500-row batch): $(ab_sql "b$t" "$DOWN")"
  echo "sql after  (ms per 500-row batch): $(ab_sql "a$t" "$EMPTY")"
  echo "single before: $(ab_single "sb$t" "$DOWN")"
  echo "single after:  $(ab_single "sa$t")"
  echo "stage before (ms per 1000): $(stage "gb$t" --setup "$DOWN" "${STAGE_STATEMENT[@]}")"
  echo "stage after  (ms per 1000): $(stage "ga$t")"
  [ "${HTTP:-1}" = 0 ] && continue
  "$BIN" migrate down --to "$HTTP_BEFORE" > /dev/null; echo "http before: $(ab_http "$BIN" "hb$t" "$KNOWN")"
  "$BIN" migrate up > /dev/null;          echo "http after:  $(ab_http "$BIN" "ha$t" "$KNOWN")"
done
rm -f "$DOWN" "$EMPTY" "$BEFORE" "$KNOWN"
