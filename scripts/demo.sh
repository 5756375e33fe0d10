#!/usr/bin/env bash
# The action's main job against a local AWS emulator, as a newcomer's first command: installs what is
# missing (node_modules, Node 24, moto), starts moto, seeds the sample fleet, then runs dist/index.js twice as
# the GitHub runner would and prints each run's job summary and outputs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x node_modules/.bin/jest ] || npm ci --no-audit --no-fund
bash scripts/install-moto.sh >&2
bash scripts/emulator.sh start
# The demo itself runs on the Node 24 it runs the action with (fetched once into .cache/test-tools).
node24="$(node scripts/test-tools.mjs --path node)/bin/node"
AWS_ENDPOINT_URL="$(bash scripts/emulator.sh url)" exec "$node24" scripts/demo.mjs
