#!/bin/bash
# POST /v1/chat's statement (ChatRepository::insert_chats of the working tree) after each of
# several setup files, interleaved (order rotated per round), each in its own transaction rolled
# back (api_batches.sql): what an index, a storage parameter or a function version costs the
# batch (docs/performance.md, "Tenth session of 2026-12-08").
#
#   bench/chat_ingest/setup_ab.sh BINARY ROUNDS N NAME=SETUP.sql ...
#
# e.g. asis=/dev/null noprefix=/tmp/drop_prefix.sql (a file: each setup is read once per round).
# N records per batch, five batches; every KNOWN_EVERY-th record a known contact (default 2:
# half). TRADESPHERE_DATA_DIR: the cluster; COMPANY: the seeded company's slug (default seed-42-1).
# Prints per round and setup the sum and the median of the five batches, ms.
set -euo pipefail
BIN=$1 ROUNDS=$2 N=$3; shift 3
DIR=$(cd "$(dirname "$0")" && pwd) SRC=$(cd "$DIR/../.." && pwd)
COMPANY=${COMPANY:-seed-42-1}
OWNER=$("$BIN" db url --admin)
STMT=$(mktemp --suffix=.sql)
text=$(sed -n '/kInsertChats = R"SQL(/,/^)SQL";/p' "$SRC/src/db/chat_repository.cpp" | sed '1d;$d')
for i in 1 2 3 4 5; do printf '%s \\g /dev/null\n' "$(printf '%s' "$text" | sed "s/\\\$1/:'cid'/g; s/\\\$2/:'j$i'/g")"; done > "$STMT"
vs=("$@") k=$#
for r in $(seq 1 "$ROUNDS"); do
  line="round $r ($(date -u +%T) UTC, load $(cut -d' ' -f1 /proc/loadavg)):"
  for j in $(seq 0 $((k - 1))); do
    v=${vs[$(((j + r) % k))]} name=${v%%=*} setup=${v#*=}
    t=$(psql "$OWNER" -q -v tag="s$(date +%s%N)" -v company="$COMPANY" -v n="$N" -v kmod="${KNOWN_EVERY:-2}" -v stmt="$STMT" \
          -v setup="$setup" -f "$DIR/api_batches.sql" 2>&1 | grep -oP 'Time: \K[0-9.]+|ERROR.*' | tr '\n' ' ')
    line="$line  $name [$(python3 -c 'import sys, statistics as st
t = sys.argv[1:]
ok = t and all(x[0].isdigit() for x in t)
print("sum %.0f, median %.0f" % (sum(map(float, t)), st.median(map(float, t))) if ok else "error: " + " ".join(t))' $t)]"
  done
  echo "$line"
done
rm -f "$STMT"
