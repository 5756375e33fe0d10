#!/usr/bin/env bash
# Runs the linter, then every test: unit tests (jest + aws-sdk-client-mock), the dist/ check, and integration
# tests that run dist/index.js as the runner does, against a local moto. Installs what is missing first, so
# that it works on a fresh clone: node_modules (npm ci), the test tools (scripts/test-tools.mjs: chdb and
# Node 24, pinned, into .cache/test-tools) and moto (scripts/install-moto.sh). Jest runs on Node 24, as the
# action does.
#   bash scripts/test.sh [jest arguments]   everything (npm test)
#   bash scripts/test.sh unit [arguments]   the unit tests only: no lint, no emulator (npm run test:unit)
#   bash scripts/test.sh dist               dist/ is the bundle of src/ (npm run check:dist)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
only=
if [ "${1:-}" = unit ] || [ "${1:-}" = dist ]; then
  only=$1
  shift
fi
{ [ -x node_modules/.bin/jest ] && [ -x node_modules/.bin/eslint ] && [ -x node_modules/.bin/prettier ]; } ||
  npm ci --no-audit --no-fund
node scripts/test-tools.mjs
node24="$(node scripts/test-tools.mjs --path node)/bin"
export PATH="$node24:$PATH"
jest=(node --experimental-vm-modules --no-warnings node_modules/jest/bin/jest.js)
if [ -n "$only" ]; then
  exec "${jest[@]}" "$@" --selectProjects "$only"
fi
# The house rules first (eslint.config.js): an import cycle, a core module importing an edge, a file over 600
# lines or a function over 80 fails the run; then the format (.prettierrc.json: `npm run format` fixes it).
echo "▸ lint (eslint) and format (prettier)"
node_modules/.bin/eslint .
node_modules/.bin/prettier --check . --log-level warn
echo "▸ the emulator (moto)"
bash scripts/install-moto.sh >&2
echo "▸ jest on $(node --version): unit tests, the dist/ check and integration tests against the emulator (each file is named as it ends)"
results=.jest-results.json
rm -f "$results"
status=0
"${jest[@]}" --json --outputFile="$results" "$@" || status=$?
# One plain closing line that any reader of the log understands: "N passed, N failed, N skipped".
[ -f "$results" ] && node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)
' "$results"
exit "$status"
