#!/bin/sh
# `npm test`: setup, type check + build, lint, then every *.test.js under dist/test.
set -e
cd "$(dirname "$0")/.."
sh scripts/ensure-setup.sh
echo "kproxy: linting (eslint)..." >&2
npx eslint . >&2
echo "kproxy: running tests..." >&2
files=$(find dist/test -name '*.test.js' | sort)
exec node --test --test-reporter=spec "$@" $files
