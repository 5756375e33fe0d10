#!/usr/bin/env bash
# Runs the linter, then every test: unit tests (jest + aws-sdk-client-mock) and integration tests that run
# dist/index.js as the runner does, against a local moto. Installs what is missing first, so that it works on a
# fresh clone: node_modules (npm ci) and moto (scripts/install-moto.sh). Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
{ [ -x node_modules/.bin/jest ] && [ -x node_modules/.bin/eslint ]; } || npm install --no-audit --no-fund
# The house rules first (eslint.config.js): an import cycle, or a core module importing an edge, fails the run.
node_modules/.bin/eslint .
bash scripts/install-moto.sh >&2
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
