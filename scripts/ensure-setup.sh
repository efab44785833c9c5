#!/bin/sh
# Shared setup for `npm start` and `npm test`: install npm packages when missing, then build.
set -e
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "kproxy: installing npm packages (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi
echo "kproxy: building (tsc)..." >&2
npx tsc -p tsconfig.json >&2
