# The set-up and steps shared by the before/after scripts (bench/chat_ingest/ab.sh,
# bench/write_path/ab.sh). Source it after setting SRC (the checkout), OWNER (the
# owner's URL), COMPANY and TECH (slug and tech id of the seeded company) and PORT.

# The company's 2000 known contacts (name, email, phone of active customers), as JSON,
# into a new temporary file whose path is printed.
ab_known_contacts() {
  local file; file=$(mktemp)
  psql "$OWNER" -Atc "SELECT json_agg(json_build_array(name, email, phone)) FROM (SELECT name, email, phone FROM customers
    WHERE company_id = (SELECT id FROM companies WHERE slug = '$COMPANY') AND status = 'active'
    AND (email IS NOT NULL OR phone IS NOT NULL) ORDER BY md5(id::text) LIMIT 2000) s" > "$file"
  echo "$file"
}

# ab_sql TAG SETUP_FILE: five 500-row INSERT … SELECT batches as the owner, rolled back, after
# SETUP_FILE in the same transaction (bench/chat_ingest/batches.sql); prints ms per batch.
ab_sql() {
  psql "$OWNER" -q -v tag="$1" -v company="$COMPANY" -v disable= -v setup="$2" -f "$SRC/bench/chat_ingest/batches.sql" 2>&1 |
    grep -oP 'Time: \K[0-9.]+' | tr '\n' ' '
}

# ab_single TAG [SETUP_FILE]: 200 single-row INSERTs, rolled back (bench/chat_ingest/single.py).
ab_single() { python3 "$SRC/bench/chat_ingest/single.py" "$OWNER" "$COMPANY" "$TECH" "$@"; }

# ab_http BINARY TAG KNOWN_FILE: BINARY serves on PORT; 20 POST /v1/chat batches of 100 rows (committed).
ab_http() {
  local token; token=$("$1" token --company "$COMPANY" --user bench --role admin)
  "$1" serve --port "$PORT" --threads 2 > /dev/null 2>&1 & local pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.2; done
  python3 "$SRC/bench/chat_ingest/http_ingest.py" "$PORT" "$token" "$2" 20 "$3" "$TECH"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# ab_round R: the round's header line.
ab_round() { echo "== round $1 ($(date -u +%T) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"; }
