#!/usr/bin/env bash
# tradesphere's GET /v1/customers against the same page from Fastify 5 + node-postgres,
# over the same database, in one run (issue 14; docs/performance.md).
#
#   bench/fastify/run.sh BUILD_DIR COMPANY_SLUG [LIMIT] [ROUNDS]
#
# Uses the data folder of TRADESPHERE_DATA_DIR (default var) and its running cluster,
# installs the pinned packages of package-lock.json (npm ci: needs the npm registry
# once; bench tooling only, never part of the product), starts `tradesphere serve`
# and the Fastify server on free ports, runs compare.py, and stops both by PID.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
slug=$2
limit=${3:-1000}
rounds=${4:-60}
command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are needed (apt-get install nodejs npm)" >&2; exit 2; }
[ -d "$here/node_modules" ] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
ts="$build/tradesphere"
app_url=$("$ts" db url)
company=$(psql "$("$ts" db url --admin)" -Atc "SELECT id FROM companies WHERE slug = '$slug'")
[ -n "$company" ] || { echo "no company '$slug'" >&2; exit 2; }
token=$("$ts" token --company "$slug" --user bench-compare --role viewer | tail -1)
ours_port=$((20000 + RANDOM % 5000)); theirs_port=$((ours_port + 1))
"$ts" --log-level warn serve --port "$ours_port" >/dev/null 2>&1 & ours=$!
DATABASE_URL=$app_url COMPANY_ID=$company PORT=$theirs_port node "$here/server.mjs" >/dev/null 2>&1 & theirs=$!
trap 'kill $ours $theirs 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$ours_port/healthz" && curl -s -o /dev/null "http://127.0.0.1:$theirs_port/v1/customers?limit=1" && break
  sleep 0.2
done
python3 "$here/compare.py" --ours "http://127.0.0.1:$ours_port" --token "$token" \
  --fastify "http://127.0.0.1:$theirs_port" --limit "$limit" --rounds "$rounds"
