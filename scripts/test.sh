#!/usr/bin/env bash
# Runs every compiled test against real parts, all on loopback: a throwaway PostgreSQL 15 for the
# store and contract suites, and a Docker engine, three registries (open, basic auth, bearer
# token) and Compose for the engine suites. Missing Debian packages are installed; whatever was
# started here is stopped afterwards, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

cleanup() {
  scripts/postgres.sh stop || true
  scripts/infra/down.sh || true
}
trap cleanup EXIT

scripts/postgres.sh start
scripts/infra/up.sh
# The browser suite drives Debian's chromium through playwright-core: no browser download.
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian package chromium" >&2
  mkdir -p .tmp
  { apt-get -o DPkg::Lock::Timeout=300 update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium; } \
    >.tmp/chromium-apt.log 2>&1 || { tail -40 .tmp/chromium-apt.log >&2; exit 1; }
fi
export DOCKREV_TEST_DATABASE_URL="$(scripts/postgres.sh url)"
export DOCKREV_TEST_REQUIRE_POSTGRES=1
export DOCKREV_TEST_REQUIRE_INFRA=1

mapfile -t files < <(find dist/src dist/contract-tests dist/test -name '*.test.js' 2>/dev/null | sort)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "no test files found under dist/: did the build run?" >&2
  exit 1
fi
echo "running ${#files[@]} test files"
rm -rf .tmp/contract-coverage
node --test --test-reporter=spec --test-timeout=180000 "${files[@]}"
node dist/contract-tests/coverage-report.js
