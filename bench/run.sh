#!/usr/bin/env bash
# `make bench`: bring the test infrastructure up (idempotent), run the compiled check benchmark,
# and stop afterwards — also on failure — only what this run started: when up.sh found the infra
# already running (someone else's), it is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

PIDS=${DOCKREV_INFRA_DIR:-.tmp/infra}/pids
before=$(ls "$PIDS" 2>/dev/null | sort | tr '\n' ' ' || true)

cleanup() {
  local after
  after=$(ls "$PIDS" 2>/dev/null | sort | tr '\n' ' ' || true)
  if [ -z "$before" ] && [ -n "$after" ]; then
    scripts/infra/down.sh || true
  elif [ "$before" != "$after" ]; then
    echo "[bench] infra was partly running before (pids: $before; now: $after): leaving it up" >&2
  fi
}
trap cleanup EXIT

scripts/infra/up.sh
if [ ! -f dist/bench/check.bench.js ]; then
  echo "dist/bench/check.bench.js is missing: run 'make build' (or 'make bench')" >&2
  exit 1
fi
node dist/bench/check.bench.js
node dist/bench/update.bench.js
node dist/bench/events.bench.js
node dist/bench/registry-push.bench.js
node dist/bench/notify.bench.js
node dist/bench/inference.bench.js
node dist/bench/github-delivery.bench.js
# The scale series (50 … 2 000 services): several minutes and ~8 GB of containers at its top;
# BENCH_SCALE_SERIES=50,200 for a short run, BENCH_SCALE=0 to skip it.
if [ "${BENCH_SCALE:-1}" != 0 ]; then node dist/bench/scale.bench.js; fi
