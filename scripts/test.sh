#!/usr/bin/env bash
# Runs every compiled test against real parts: a throwaway PostgreSQL 15 on loopback is started
# (and installed when missing) for the store and contract suites, and stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/postgres.sh start
trap 'scripts/postgres.sh stop' EXIT
export DOCKREV_TEST_DATABASE_URL="$(scripts/postgres.sh url)"
export DOCKREV_TEST_REQUIRE_POSTGRES=1

mapfile -t files < <(find dist/src dist/contract-tests dist/test -name '*.test.js' 2>/dev/null | sort)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "no test files found under dist/: did the build run?" >&2
  exit 1
fi
echo "running ${#files[@]} test files"
rm -rf .tmp/contract-coverage
node --test --test-reporter=spec "${files[@]}"
node dist/contract-tests/coverage-report.js
