#!/usr/bin/env bash
# Dockrev test infrastructure: bring up a Docker engine, three registries and a token server on
# loopback, and write $STATE/env (default .tmp/infra/env) for the tests.
#
# Idempotent: installs Debian packages only when missing (apt-get update only then), starts each
# service only when nothing answers on its socket/port, and records the pid of every process it
# started in $STATE/pids/ so that down.sh stops exactly those. A second call returns in about a
# second. See README.md beside this file for ports, credentials and the env file's keys.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"
infra_lock

T_START=$(now_ms)
mkdir -p "$STATE/pids" "$STATE/logs" "$STATE/auth"

# ---------------------------------------------------------------- packages
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || need+=(busybox-static)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v perl >/dev/null 2>&1 || need+=(perl)
command -v tar >/dev/null 2>&1 || need+=(tar)
# nginx is the forward-auth proxy of the deploy example's test (started on loopback by the test).
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v node >/dev/null 2>&1 || die "node is required for the token server"

if [ ${#need[@]} -gt 0 ]; then
  t0=$(now_ms)
  install_debian_packages "$STATE/logs/apt.log" "${need[@]}"
  log "packages installed in $(( $(now_ms) - t0 )) ms"
fi
command -v docker >/dev/null 2>&1 || die "docker CLI missing (docker.io provides /usr/bin/docker)"

# ---------------------------------------------------------------- Docker engine
# Options: its own socket, data-root and exec-root; no host firewall/forwarding changes
# (--iptables=false --ip-forward=false --ip-masq=false): containers reach each other on their
# networks (Compose default network and DNS work), published ports work through docker-proxy,
# but nothing inside a container can route off this machine.
start_dockerd() {
  local driver=$1 pidfile="$DOCKER_EXEC_ROOT/dockerd.pid" p
  # Stale pid files (the process is gone, a zombie, or the pid was reused after a restart) would
  # stop dockerd/containerd from starting.
  for p in "$pidfile" "$DOCKER_EXEC_ROOT/containerd/containerd.pid"; do
    if [ -f "$p" ]; then
      local pid; pid=$(cat "$p" 2>/dev/null || true)
      if [ -z "$pid" ] || ! live_process "$pid" 'dockerd|containerd'; then rm -f "$p"; fi
    fi
  done
  if [ -f "$pidfile" ]; then
    log "a dockerd (pid $(cat "$pidfile")) owns $DOCKER_EXEC_ROOT but does not answer yet; waiting"
    local j
    for j in $(seq 1 300); do engine_ok && return 0; sleep 0.1; done
    die "dockerd pid $(cat "$pidfile") does not answer on $DOCKER_SOCK; stop it or remove its pid file"
  fi
  mkdir -p "$DOCKER_DATA_ROOT" "$DOCKER_EXEC_ROOT"
  setsid dockerd \
    --data-root "$DOCKER_DATA_ROOT" \
    --exec-root "$DOCKER_EXEC_ROOT" \
    --pidfile "$pidfile" \
    -H "unix://$DOCKER_SOCK" \
    --storage-driver "$driver" \
    --iptables=false --ip-forward=false --ip-masq=false \
    --log-level warn \
    </dev/null >>"$STATE/logs/dockerd.log" 2>&1 9>&- &
  local pid=$!
  local i
  for i in $(seq 1 300); do
    if engine_ok; then echo "$pid" >"$STATE/pids/dockerd.pid"; return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  return 1
}

if engine_ok; then
  log "docker engine already answers on $DOCKER_SOCK"
else
  t0=$(now_ms)
  started=0
  for driver in $DOCKER_STORAGE_DRIVERS; do
    log "starting dockerd (storage driver $driver)"
    if start_dockerd "$driver"; then started=1; break; fi
    log "dockerd with $driver failed; last log lines:"; tail -5 "$STATE/logs/dockerd.log" >&2 || true
  done
  [ "$started" = 1 ] || die "dockerd did not start; see $STATE/logs/dockerd.log"
  log "dockerd ready in $(( $(now_ms) - t0 )) ms"
fi

# ---------------------------------------------------------------- credentials and keys
htpasswd="$STATE/auth/htpasswd"
if [ ! -s "$htpasswd" ]; then
  # bcrypt via libcrypt (libxcrypt on Debian 12) through perl's crypt(); no apache2-utils needed.
  hash=$(perl -e '
    my @a = ("." , "/", "A".."Z", "a".."z", "0".."9");
    open(my $r, "<", "/dev/urandom") or die; read($r, my $b, 22) == 22 or die;
    my @s = map { $a[ord($_) % 64] } split(//, $b);
    $s[21] = (".", "O", "e", "u")[ord(substr($b, 21, 1)) % 4];  # last char holds 2 bits
    print crypt($ARGV[0], "\$2b\$10\$" . join("", @s));' "$BASIC_PASSWORD")
  case "$hash" in \$2b\$10\$*) ;; *) die "bcrypt via perl crypt() failed (got '$hash')";; esac
  printf '%s:%s\n' "$BASIC_USER" "$hash" >"$htpasswd"
fi

if [ ! -s "$STATE/auth/token.key" ] || [ ! -s "$STATE/auth/token.crt" ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$STATE/auth/token.key.tmp" 2>/dev/null
  openssl req -new -x509 -key "$STATE/auth/token.key.tmp" -out "$STATE/auth/token.crt" \
    -days 3650 -subj "/CN=$TOKEN_ISSUER" 2>/dev/null
  mv "$STATE/auth/token.key.tmp" "$STATE/auth/token.key"
fi

cat >"$STATE/auth/users.json.tmp" <<EOF
{
  "$TOKEN_USER": { "password": "$TOKEN_PASSWORD", "actions": ["*"] },
  "$TOKEN_READER_USER": { "password": "$TOKEN_READER_PASSWORD", "actions": ["pull"] }
}
EOF
mv "$STATE/auth/users.json.tmp" "$STATE/auth/users.json"

# ---------------------------------------------------------------- registries
write_registry_config() { # NAME PORT AUTH_YAML
  local dir="$STATE/registry-$1"
  mkdir -p "$dir/data"
  [ -s "$dir/secret" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/secret"
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $HOST:$2
  secret: $(cat "$dir/secret")
  headers:
    X-Content-Type-Options: [nosniff]
$3
EOF
}

start_bg() { # NAME EXPECTED_CHECK -- command...
  local name=$1 check=$2; shift 3
  setsid "$@" </dev/null >>"$STATE/logs/$name.log" 2>&1 9>&- &
  local pid=$! i
  for i in $(seq 1 100); do
    if $check; then echo "$pid" >"$STATE/pids/$name.pid"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { tail -5 "$STATE/logs/$name.log" >&2; die "$name exited; see $STATE/logs/$name.log"; }
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  die "$name did not answer in 10 s; see $STATE/logs/$name.log"
}

ensure_registry() { # NAME PORT AUTH_YAML
  if registry_ok "$2"; then return 0; fi
  write_registry_config "$1" "$2" "$3"
  log "starting registry-$1 on $HOST:$2"
  local t0; t0=$(now_ms)
  start_bg "registry-$1" "registry_ok $2" -- docker-registry serve "$STATE/registry-$1/config.yml"
  log "registry-$1 ready in $(( $(now_ms) - t0 )) ms"
}

ensure_registry open "$PORT_OPEN" ""
ensure_registry basic "$PORT_BASIC" "auth:
  htpasswd:
    realm: dockrev-basic
    path: $htpasswd"

if ! token_server_ok; then
  log "starting token server on $HOST:$PORT_TOKEN_SERVER"
  start_bg token-server token_server_ok -- env \
    TOKEN_ADDR="$HOST" TOKEN_PORT="$PORT_TOKEN_SERVER" \
    TOKEN_KEY="$STATE/auth/token.key" TOKEN_CERT="$STATE/auth/token.crt" \
    TOKEN_USERS="$STATE/auth/users.json" TOKEN_ISSUER="$TOKEN_ISSUER" TOKEN_SERVICE="$TOKEN_SERVICE" \
    node "$INFRA_HERE/token-server.mjs"
fi
ensure_registry token "$PORT_TOKEN" "auth:
  token:
    realm: http://$HOST:$PORT_TOKEN_SERVER/token
    service: $TOKEN_SERVICE
    issuer: $TOKEN_ISSUER
    rootcertbundle: $STATE/auth/token.crt"

# ---------------------------------------------------------------- docker client config
# Credentials for the two authenticated registries, as `docker login` would store them.
mkdir -p "$DOCKER_CONFIG"
b64() { printf '%s' "$1" | base64 -w0; }
cat >"$DOCKER_CONFIG/config.json.tmp" <<EOF
{
  "auths": {
    "$HOST:$PORT_BASIC": { "auth": "$(b64 "$BASIC_USER:$BASIC_PASSWORD")" },
    "$HOST:$PORT_TOKEN": { "auth": "$(b64 "$TOKEN_USER:$TOKEN_PASSWORD")" }
  }
}
EOF
mv "$DOCKER_CONFIG/config.json.tmp" "$DOCKER_CONFIG/config.json"

# ---------------------------------------------------------------- Compose v2 (optional)
# Debian 12 has only Compose v1 (docker-compose 1.29.2, python). Debian 13's `docker-compose`
# package is Compose v2 (a Go binary needing only libc6): fetch that one .deb with apt from the
# machine's own Debian mirror (private apt lists, the system's sources untouched), and expose it
# as a CLI plugin of the test DOCKER_CONFIG, so `docker compose` works for the tests only.
# Cached machine-wide in $COMPOSE_V2_CACHE. Failure only warns. DOCKREV_INFRA_COMPOSE_V2=0 skips.
COMPOSE_V2_CACHE=${DOCKREV_INFRA_CACHE:-/var/cache/dockrev-infra}
fetch_compose_v2() {
  local dir="$COMPOSE_V2_CACHE/apt" uri keyring=""
  uri=$(debian_mirror_uri) || { log "compose v2: no Debian mirror found in /etc/apt"; return 1; }
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] && keyring="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
  rm -rf "$dir"; mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/dl"
  echo "deb ${keyring}$uri trixie main" >"$dir/sources.list"
  local o=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
           -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o Acquire::Languages=none
           -o APT::Sandbox::User=root -o Debug::NoLocking=1)
  apt-get "${o[@]}" update -qq >"$STATE/logs/compose-v2.log" 2>&1 || return 1
  (cd "$dir/dl" && apt-get "${o[@]}" download docker-compose/trixie) >>"$STATE/logs/compose-v2.log" 2>&1 || return 1
  dpkg-deb -x "$dir"/dl/docker-compose_*.deb "$dir/x" || return 1
  local bin="$dir/x/usr/libexec/docker/cli-plugins/docker-compose"
  [ -x "$bin" ] && "$bin" version >/dev/null 2>&1 || return 1
  mkdir -p "$COMPOSE_V2_CACHE/bin"
  mv "$bin" "$COMPOSE_V2_CACHE/bin/docker-compose"
  rm -rf "$dir"
}
COMPOSE_V2=""
if [ "${DOCKREV_INFRA_COMPOSE_V2:-1}" != 0 ]; then
  if [ ! -x "$COMPOSE_V2_CACHE/bin/docker-compose" ]; then
    t0=$(now_ms)
    if fetch_compose_v2; then
      log "compose v2 fetched in $(( $(now_ms) - t0 )) ms"
    else
      log "WARNING: compose v2 not available (see $STATE/logs/compose-v2.log); tests get Compose v1 only"
    fi
  fi
  if [ -x "$COMPOSE_V2_CACHE/bin/docker-compose" ]; then
    mkdir -p "$DOCKER_CONFIG/cli-plugins"
    ln -sfn "$COMPOSE_V2_CACHE/bin/docker-compose" "$DOCKER_CONFIG/cli-plugins/docker-compose"
    COMPOSE_V2="docker compose"
  fi
fi

# ---------------------------------------------------------------- base image
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  "$INFRA_HERE/build-test-image.sh" "$BASE_IMAGE" base >/dev/null
fi

# ---------------------------------------------------------------- env file
cat >"$STATE/env.tmp" <<EOF
# Written by scripts/infra/up.sh; KEY='value' lines (shell: set -a; . this-file; set +a).
DOCKREV_INFRA_DIR='$STATE'
DOCKER_HOST='unix://$DOCKER_SOCK'
DOCKER_CONFIG='$DOCKER_CONFIG'
DOCKREV_COMPOSE_BIN='docker-compose'
DOCKREV_TEST_COMPOSE_V1_BIN='docker-compose'
DOCKREV_TEST_COMPOSE_V2_BIN='$COMPOSE_V2'
DOCKREV_TEST_BASE_IMAGE='$BASE_IMAGE'
DOCKREV_TEST_BUSYBOX='/bin/busybox'
DOCKREV_TEST_REGISTRY_OPEN='$HOST:$PORT_OPEN'
DOCKREV_TEST_REGISTRY_BASIC='$HOST:$PORT_BASIC'
DOCKREV_TEST_REGISTRY_BASIC_USER='$BASIC_USER'
DOCKREV_TEST_REGISTRY_BASIC_PASSWORD='$BASIC_PASSWORD'
DOCKREV_TEST_REGISTRY_BASIC_REALM='dockrev-basic'
DOCKREV_TEST_REGISTRY_TOKEN='$HOST:$PORT_TOKEN'
DOCKREV_TEST_REGISTRY_TOKEN_USER='$TOKEN_USER'
DOCKREV_TEST_REGISTRY_TOKEN_PASSWORD='$TOKEN_PASSWORD'
DOCKREV_TEST_REGISTRY_TOKEN_READER_USER='$TOKEN_READER_USER'
DOCKREV_TEST_REGISTRY_TOKEN_READER_PASSWORD='$TOKEN_READER_PASSWORD'
DOCKREV_TEST_TOKEN_SERVER='http://$HOST:$PORT_TOKEN_SERVER'
DOCKREV_TEST_TOKEN_REALM='http://$HOST:$PORT_TOKEN_SERVER/token'
DOCKREV_TEST_TOKEN_SERVICE='$TOKEN_SERVICE'
DOCKREV_TEST_TOKEN_ISSUER='$TOKEN_ISSUER'
EOF
mv "$STATE/env.tmp" "$STATE/env"

log "infra up in $(( $(now_ms) - T_START )) ms; env: $STATE/env"
