#!/bin/bash
# POST /v1/chat's SQL before/after migration 0043 (the batch lookup of known contacts),
# interleaved in one run, rolled back (docs/performance.md, "Ninth session of 2026-12-07").
#
#   bench/chat_ingest/api_ab.sh BINARY ROUNDS [BATCH_SIZES]
#
# TRADESPHERE_DATA_DIR: a cluster at 0043 or later with the seeded company (COMPANY, default
# seed-42-1). Per round and batch size (default "100 500"): five JSON batches (every
# KNOWN_EVERY-th record a known contact, default 2: half) through the
# statement of ChatRepository::insert_chats at git revision BEFORE (default 11e00c6^, before
# 0043) and at AFTER (default: the working tree), each read from src/db/chat_repository.cpp,
# so the bench restates no SQL of the product. Prints ms per batch.
# HTTP=1 adds, per round, 20 POST /v1/chat batches of 100 records (half known, half new;
# committed) through `BINARY serve --threads 2` (bench/ab_common.sh): "before" with
# chat_match_known_batch() replaced by a stub that answers no record (every record goes the
# trigger's row-by-row path, as before 0043), "after" with 0043's function restored from
# its migration file. Empty the duplicate queue first on a freshly seeded company: serve's
# worker scores it meanwhile (docs/performance.md, eighth session).
# Since migration 0048 the binary calls chat_match_batch() (which also creates the batch's new
# contacts), not chat_match_known_batch(): the HTTP=1 stub no longer changes what the server
# does. Compare binaries with bench/chat_ingest/http_ab.sh instead; for the statement, e.g.
# BEFORE=<a revision before 0048> on a cluster at 0048 (the "before" statement calls 0043's function).
set -euo pipefail
BIN=$1 ROUNDS=${2:-3} SIZES=${3:-100 500}
DIR=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$DIR/../.." && pwd)
COMPANY=${COMPANY:-seed-42-1} TECH=${TECH:-agent-seed-42-1} PORT=${PORT:-18091} BEFORE=${BEFORE:-11e00c6^}
OWNER=$("$BIN" db url --admin)
source "$SRC/bench/ab_common.sh"
statement() {  # the kInsertChats of src/db/chat_repository.cpp on stdin, five times, on :'j1' … :'j5'
  local text; text=$(sed -n '/kInsertChats = R"SQL(/,/^)SQL";/p' | sed '1d;$d')
  for i in 1 2 3 4 5; do
    printf '%s \\g /dev/null\n' "$(printf '%s' "$text" | sed "s/\\\$1/:'cid'/g; s/\\\$2/:'j$i'/g")"
  done
}
B=$(mktemp --suffix=.sql) A=$(mktemp --suffix=.sql)
git -C "$SRC" show "$BEFORE:src/db/chat_repository.cpp" | statement > "$B"
if [ -n "${AFTER:-}" ]; then git -C "$SRC" show "$AFTER:src/db/chat_repository.cpp"; else cat "$SRC/src/db/chat_repository.cpp"; fi | statement > "$A"
run() { psql "$OWNER" -q -v tag="$1" -v company="$COMPANY" -v n="$2" -v kmod="${KNOWN_EVERY:-2}" -v stmt="$3" -f "$SRC/bench/chat_ingest/api_batches.sql" 2>&1 |
          grep -oP 'Time: \K[0-9.]+|ERROR.*' | tr '\n' ' '; }
KNOWN=$([ "${HTTP:-0}" = 1 ] && ab_known_contacts || echo /dev/null)
stub() {  # the function answering no record
  psql "$OWNER" -qc "CREATE OR REPLACE FUNCTION chat_match_known_batch(p_company uuid, p_records jsonb) RETURNS uuid[]
    LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
    AS \$\$ SELECT array_fill(NULL::uuid, ARRAY[jsonb_array_length(p_records)]) \$\$"
}
real() { sed 's/^CREATE FUNCTION chat_match_known_batch/CREATE OR REPLACE FUNCTION chat_match_known_batch/' \
           "$SRC/migrations/0043_batch_known_contacts.up.sql" | psql "$OWNER" -q -v ON_ERROR_STOP=1 -f - > /dev/null; }
trap real EXIT
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r ($(date -u +%T) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"
  for n in $SIZES; do
    t=$(date +%s)-$r-$n
    echo "$n-record batches before (ms): $(run "b$t" "$n" "$B")"
    echo "$n-record batches after  (ms): $(run "a$t" "$n" "$A")"
  done
  [ "${HTTP:-0}" = 1 ] || continue
  t=$(date +%s)-$r
  stub; echo "http before: $(ab_http "$BIN" "hb$t" "$KNOWN")"
  real; echo "http after:  $(ab_http "$BIN" "ha$t" "$KNOWN")"
done
rm -f "$B" "$A"
[ "$KNOWN" = /dev/null ] || rm -f "$KNOWN"
