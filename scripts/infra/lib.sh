# Dockrev test infrastructure: shared settings for up.sh, down.sh and build-test-image.sh.
# Sourced, not run. Everything listens on loopback only; nothing is pulled from the internet.
#
# Fixed layout (see README.md beside this file):
#   Docker engine   unix socket /run/dockrev-docker.sock, data-root /var/lib/dockrev-docker
#   registry open   127.0.0.1:5101  (no auth)
#   registry basic  127.0.0.1:5102  (htpasswd basic auth)
#   registry token  127.0.0.1:5103  (bearer token auth, realm on the token server)
#   token server    127.0.0.1:5104  (scripts/infra/token-server.mjs)
#   state           $ROOT/.tmp/infra (pids/, logs/, env, auth/, registry-*/, docker-config/)

INFRA_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$INFRA_HERE/../.." && pwd)
STATE=${DOCKREV_INFRA_DIR:-$ROOT/.tmp/infra}

DOCKER_SOCK=${DOCKREV_DOCKER_SOCK:-/run/dockrev-docker.sock}
DOCKER_DATA_ROOT=${DOCKREV_DOCKER_DATA_ROOT:-/var/lib/dockrev-docker}
DOCKER_EXEC_ROOT=${DOCKREV_DOCKER_EXEC_ROOT:-/run/dockrev-docker}
# overlay2 works on this kind of machine (ext4 root); vfs is the slow fallback that always works.
DOCKER_STORAGE_DRIVERS=${DOCKREV_DOCKER_STORAGE_DRIVER:-overlay2 vfs}

HOST=127.0.0.1
PORT_OPEN=5101
PORT_BASIC=5102
PORT_TOKEN=5103
PORT_TOKEN_SERVER=5104

# Test-only credentials for loopback registries.
BASIC_USER=dockrev-basic
BASIC_PASSWORD=dockrev-basic-secret
TOKEN_USER=dockrev
TOKEN_PASSWORD=dockrev-token-secret
TOKEN_READER_USER=dockrev-reader
TOKEN_READER_PASSWORD=dockrev-reader-secret
TOKEN_SERVICE=dockrev-test-registry
TOKEN_ISSUER=dockrev-test-token-issuer

BASE_IMAGE=dockrev-test/busybox:base

export DOCKER_HOST="unix://$DOCKER_SOCK"
export DOCKER_CONFIG="$STATE/docker-config"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

engine_ok() {
  curl -sf --max-time 3 --unix-socket "$DOCKER_SOCK" http://docker/_ping >/dev/null 2>&1
}

# A distribution registry answers /v2/ with this header (200 open, 401 with auth).
registry_ok() {
  curl -s -o /dev/null -D - --max-time 3 "http://$HOST:$1/v2/" 2>/dev/null \
    | grep -qi '^docker-distribution-api-version: registry/2.0'
}

token_server_ok() {
  curl -sf --max-time 3 "http://$HOST:$PORT_TOKEN_SERVER/healthz" >/dev/null 2>&1
}

# pid_alive NAME EXPECTED: true when pids/NAME.pid names a live process whose command line
# contains EXPECTED (guards against pid reuse).
pid_alive() {
  local f="$STATE/pids/$1.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

# live_process PID COMM-REGEX: a running (not zombie) process whose comm matches.
live_process() {
  [ -r "/proc/$1/status" ] || return 1
  grep -qE "^Name:[[:space:]]*($2)\$" "/proc/$1/status" || return 1
  ! grep -qE '^State:[[:space:]]*Z' "/proc/$1/status"
}

now_ms() { date +%s%3N; }

# One up.sh/down.sh at a time on this machine (the engine and the ports are machine-wide).
infra_lock() {
  exec 9>"${DOCKREV_INFRA_LOCK:-/run/dockrev-infra.lock}"
  flock -w 300 9 || die "another scripts/infra/up.sh or down.sh holds the lock for 300 s"
}

# The machine's configured Debian mirror (first non-security deb822 URI, else a one-line
# `deb URI bookworm` entry); used to fetch packages without changing the system's apt sources.
debian_mirror_uri() {
  local f u
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    u=$(awk '/^URIs:/ {print $2; exit}' "$f")
    case "$u" in *security*|"") ;; *) echo "$u"; return 0 ;; esac
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    u=$(sed -nE 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+bookworm[[:space:]].*/\2/p' "$f" | head -1)
    [ -n "$u" ] && { echo "$u"; return 0; }
  done
  return 1
}

# install_debian_packages LOG PACKAGE...: apt-get update + install without recommends. Package
# scripts must not start the stock services (dockerd on /var/run/docker.sock with host iptables
# rules, a registry on :5000, nginx on :80): service starts are denied during the install.
install_debian_packages() {
  local apt_log=$1; shift
  log "installing Debian packages: $*"
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  local apt_opts=(-o DPkg::Lock::Timeout=300) ok=1
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update -qq >"$apt_log" 2>&1 \
    && DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "$@" >>"$apt_log" 2>&1 \
    || ok=0
  [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$ok" = 1 ] || { tail -40 "$apt_log" >&2; die "apt-get install $* failed"; }
}
