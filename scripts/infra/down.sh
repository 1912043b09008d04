#!/usr/bin/env bash
# Dockrev test infrastructure: stop what up.sh started (the pids recorded in $STATE/pids/), and
# nothing else. Services that were already running when up.sh ran are left alone.
#   down.sh          stop registries, token server and dockerd (if up.sh started them)
#   down.sh --keep-engine   leave dockerd running (its images stay cached for the next up.sh)
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
infra_lock

keep_engine=0
[ "${1:-}" = "--keep-engine" ] && keep_engine=1

stop() { # NAME EXPECTED-CMDLINE-SUBSTRING TIMEOUT-SECONDS
  local name=$1 expect=$2 timeout=$3 f="$STATE/pids/$1.pid" pid i
  [ -f "$f" ] || return 0
  if ! pid_alive "$name" "$expect"; then rm -f "$f"; return 0; fi
  pid=$(cat "$f")
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((timeout * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    # a zombie (already exited, not yet reaped by its parent) counts as stopped
    grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
    log "$name did not stop in ${timeout}s; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop registry-open docker-registry 10
stop registry-basic docker-registry 10
stop registry-token docker-registry 10
stop token-server token-server.mjs 10
if [ "$keep_engine" = 0 ]; then
  stop dockerd dockerd 60
fi
log "down"
