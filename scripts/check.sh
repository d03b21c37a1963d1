#!/usr/bin/env bash
# The one gate (`npm run check`): typecheck, import rules, lint with zero warnings, format check,
# unit tests. The typecheck (with the import rules) and the lint each keep one core busy for tens
# of seconds and need nothing from each other, so they run side by side; each one's output is
# printed whole when it ends, and the gate fails if either does.
set -uo pipefail
cd "$(dirname "$0")/.."

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

(npm run --silent typecheck && npm run --silent check:imports) >"$logs/types" 2>&1 &
types=$!
npm run --silent lint >"$logs/lint" 2>&1 &
lint=$!

failed=0
wait "$types" || failed=1
echo "── typecheck + import rules"; cat "$logs/types"
wait "$lint" || failed=1
echo "── lint"; cat "$logs/lint"
[ "$failed" = 0 ] || { echo "check: typecheck, import rules or lint failed (above)" >&2; exit 1; }

npm run --silent format:check && npm run --silent test:unit
