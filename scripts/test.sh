#!/bin/sh
# `npm test`: setup, type check + build, lint, then every test file under dist/test.
set -e
cd "$(dirname "$0")/.."
sh scripts/ensure-setup.sh
echo "kproxy: linting (eslint)..." >&2
npx eslint . >&2
echo "kproxy: running tests..." >&2
exec node --test --test-reporter=spec "$@" dist/test/
