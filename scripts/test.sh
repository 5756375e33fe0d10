#!/usr/bin/env bash
# Runs the linter, then every test: unit tests (jest + aws-sdk-client-mock) and integration tests that run
# dist/index.js as the runner does, against a local moto. Installs what is missing first, so that it works on a
# fresh clone: node_modules (npm ci) and moto (scripts/install-moto.sh). Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
{ [ -x node_modules/.bin/jest ] && [ -x node_modules/.bin/eslint ] && [ -x node_modules/.bin/prettier ]; } ||
  npm install --no-audit --no-fund
# The house rules first (eslint.config.js): an import cycle, a core module importing an edge, a file over 600
# lines or a function over 80 fails the run; then the format (.prettierrc.json: `npm run format` fixes it).
echo "▸ lint (eslint) and format (prettier)"
node_modules/.bin/eslint .
node_modules/.bin/prettier --check . --log-level warn
echo "▸ the emulator (moto)"
bash scripts/install-moto.sh >&2
echo "▸ jest: unit tests, the dist/ check and integration tests against the emulator (each file is named as it ends)"
results=.jest-results.json
rm -f "$results"
status=0
NODE_OPTIONS=--experimental-vm-modules NODE_NO_WARNINGS=1 node_modules/.bin/jest --json --outputFile="$results" "$@" || status=$?
# One plain closing line that any reader of the log understands: "N passed, N failed, N skipped".
[ -f "$results" ] && node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)
' "$results"
exit "$status"
