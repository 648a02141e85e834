#!/usr/bin/env bash
# Builds a legacy database (the shape of migration 0001, no migration history) in the
# embedded cluster of $TRADESPHERE_DATA_DIR, adopts it and migrates it up, ready for
# `backfill`. docs/upgrade.md ("Figures") and docs/performance.md use it.
#
#   TRADESPHERE_DATA_DIR=/tmp/ts bench/backfill/legacy_db.sh BINARY DBNAME COMPANIES CUSTOMERS CHATS_PER_CUSTOMER [NEW_SHARE]
#
# NEW_SHARE (0..1, default 0): the share of legacy customers deleted before adopt, so
# that the chat rows of those people create new customers during the backfill (the
# seed's legacy rows otherwise all name an existing customer).
# Prints the two URLs to use: export DATABASE_URL=… DATABASE_ADMIN_URL=…
set -euo pipefail
bin=$1 db=$2 companies=$3 customers=$4 chats=$5 new_share=${6:-0}
dev=${DEV_BIN:-$(dirname "$bin")/tradesphere-dev}   # `seed` lives in the developer binary
admin=$("$bin" db url --admin)
app=$("$bin" db url)
base=${admin%/*}
psql -X -q "$admin" -c "DROP DATABASE IF EXISTS \"$db\"" -c "CREATE DATABASE \"$db\" OWNER tradesphere_owner" >&2
export DATABASE_ADMIN_URL="$base/$db" DATABASE_URL="${app%/*}/$db"
"$bin" migrate up --to 1 >&2
"$dev" seed --legacy --companies "$companies" --customers "$customers" --chats-per-customer "$chats" --seed 42 >&2
psql -X -q "$DATABASE_ADMIN_URL" -c 'DROP TABLE schema_migrations' >&2   # a real legacy database has none
if [ "$new_share" != 0 ]; then
  psql -X -q "$DATABASE_ADMIN_URL" -c "DELETE FROM customers WHERE abs(hashtext(id::text)) % 1000 < $new_share * 1000" >&2
fi
"$bin" migrate adopt >&2
"$bin" migrate up >&2
psql -X -q "$DATABASE_ADMIN_URL" -c 'VACUUM ANALYZE "VC Usage", customers, customer_matching_keys, customer_metrics, customer_session_counts' >&2
echo "export DATABASE_URL=$DATABASE_URL DATABASE_ADMIN_URL=$DATABASE_ADMIN_URL"
