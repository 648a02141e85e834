#!/usr/bin/env bash
# Duplicate-finding quality and speed (issue 13; docs/duplicates.md).
#   bench/duplicates_quality.sh [path/to/tradesphere-dev]
# Pairwise precision/recall/F1 at the default threshold on:
#  - the public dev sets in ../shared/eval/dev (FEBRL name+address lists, splink
#    contact list), when that folder exists (a user's clone has none: it says so);
#  - the planted-duplicate generator, full and name+address-only.
# The model is trained on each list itself (EM), with no per-file settings.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build-bench/tradesphere-dev}
DEV=../shared/eval/dev
THRESHOLD=0.6
row() { # label, evaluate-duplicates arguments...
  local label=$1; shift
  local start end out
  start=$(date +%s.%N)
  out=$("$BIN" evaluate-duplicates "$@" --min-score "$THRESHOLD")
  end=$(date +%s.%N)
  local records pairs q
  records=$(echo "$out" | sed -n 's/^records \([0-9]*\).*/\1/p')
  pairs=$(echo "$out" | sed -n 's/^candidate pairs \([0-9]*\);.*/\1/p')
  q=$(echo "$out" | tail -1)
  printf '| %s | %s | %s | %s | %.2f s |\n' "$label" "$records" "$pairs" \
    "$(echo "$q" | awk '{printf "%s / %s / %s", $2, $3, $4}')" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')"
}
echo "| list | records | candidate pairs | precision / recall / F1 at $THRESHOLD | wall (train + score) |"
echo "|---|---|---|---|---|"
if [ -d "$DEV" ]; then
  for s in febrl1 febrl2 splink1000; do row "$s" --csv "$DEV/$s.csv" --truth "$DEV/$s.truth.csv"; done
else
  echo "| (no $DEV: dev sets skipped) | | | | |"
fi
row "generator, 5000 people" --people 5000 --seed 42
row "generator name+address only" --people 5000 --seed 42 --name-address-only
row "generator, 64000 people" --people 64000 --seed 42
