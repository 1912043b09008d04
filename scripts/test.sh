#!/usr/bin/env bash
# Runs every compiled test against real parts, all on loopback: a throwaway PostgreSQL 15 for the
# store and contract suites, and a Docker engine, three registries (open, basic auth, bearer
# token) and Compose for the engine suites. Missing Debian packages are installed; whatever was
# started here is stopped afterwards, also on failure.
#
# The image suites (test/image*.e2e.test.ts) need the Dockrev image built from this tree. That
# build takes minutes on a fresh machine, so it starts in the background as soon as the engine
# answers, and those suites run last, waiting for it only if it is still going.
set -euo pipefail
cd "$(dirname "$0")/.."

image_build_pid=""
cleanup() {
  if [[ -n "$image_build_pid" ]] && kill -0 "$image_build_pid" 2>/dev/null; then
    kill -TERM -- "-$image_build_pid" 2>/dev/null || true
  fi
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

mkdir -p .tmp/image
export DOCKREV_TEST_IMAGES_ENV="$PWD/.tmp/image/images.env"
rm -f "$DOCKREV_TEST_IMAGES_ENV"
# Its own process group, so that cleanup stops the docker build with it.
setsid scripts/image/test-images.sh "$DOCKREV_TEST_IMAGES_ENV" >.tmp/image/build.log 2>&1 </dev/null &
image_build_pid=$!

mapfile -t found < <(find dist/src dist/contract-tests dist/test -name '*.test.js' 2>/dev/null | sort)
if [[ ${#found[@]} -eq 0 ]]; then
  echo "no test files found under dist/: did the build run?" >&2
  exit 1
fi
files=()
image_files=()
for file in "${found[@]}"; do
  if [[ "$file" == */image*.e2e.test.js ]]; then image_files+=("$file"); else files+=("$file"); fi
done
files+=("${image_files[@]}")
echo "running ${#files[@]} test files"
rm -rf .tmp/contract-coverage
status=0
node --test --test-reporter=spec --test-timeout=180000 "${files[@]}" || status=$?
if grep -q '^FAILED=' "$DOCKREV_TEST_IMAGES_ENV" 2>/dev/null; then
  echo "image build failed; its log (.tmp/image/build.log) ends with:" >&2
  tail -30 .tmp/image/build.log >&2
fi
[[ $status -eq 0 ]] || exit "$status"
node dist/contract-tests/coverage-report.js
