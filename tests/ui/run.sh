#!/usr/bin/env bash
# The ui tier (ctest label `ui`): the operator console in Debian's Chromium, driven
# by Playwright (npm, tests/ui/package-lock.json), against a real server that
# global-setup.mjs starts on a free port with a fresh database of the test cluster.
#   TRADESPHERE_TEST_DATA_DIR=<cluster> tests/ui/run.sh <path of the tradesphere binary>
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 <tradesphere binary>" >&2
  exit 2
fi
export TRADESPHERE_BIN
TRADESPHERE_BIN=$(realpath "$1")
cd "$(dirname "$0")"
if [ -z "${TRADESPHERE_TEST_DATA_DIR:-}" ]; then
  echo "tests/ui: TRADESPHERE_TEST_DATA_DIR must name the test cluster (scripts/test sets it)" >&2
  exit 1
fi
for tool in node npm psql; do
  command -v "$tool" >/dev/null || { echo "tests/ui: $tool is missing (run scripts/deps)" >&2; exit 1; }
done
export CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}
[ -x "$CHROMIUM_PATH" ] || { echo "tests/ui: $CHROMIUM_PATH is missing (run scripts/deps)" >&2; exit 1; }
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ ! -d node_modules/@playwright/test ] || [ ! -d node_modules/axe-core ]; then
  npm ci --no-audit --no-fund >&2
fi

work=$(mktemp -d /tmp/tradesphere-ui.XXXXXX)
export TRADESPHERE_UI_STATE="$work/state.json"
export TRADESPHERE_UI_OUTPUT_DIR=${TRADESPHERE_UI_OUTPUT_DIR:-$work/results}
cleanup() {
  # Normally global-teardown.mjs stops the server; this catches a crashed runner.
  if [ -f "$TRADESPHERE_UI_STATE" ]; then
    pid=$(sed -n 's/.*"serverPid":\([0-9]*\).*/\1/p' "$TRADESPHERE_UI_STATE")
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
node node_modules/@playwright/test/cli.js test --config playwright.config.mjs "${@:2}"
