#!/usr/bin/env bash
# The images the image and deploy e2e tests use, built from this work tree on the local base:
# Dockrev twice (APP_EFFECTIVE_VERSION 1.0.0-e2e and 2.0.0-e2e: the second build reuses every
# layer but the last) and nginx from Debian as the forward-auth proxy. Writes OUT (KEY='value'
# lines, renamed into place when complete) with the references and timings; on failure OUT holds
# FAILED='…' so that a test waiting for it stops waiting.
#
#   scripts/image/test-images.sh OUT
#
# scripts/test.sh runs this in the background while the other suites run. Tags are per work tree
# (dockrev-test/dockrev:<tree>-1, …), so work trees sharing one engine do not overwrite each other.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../infra/lib.sh"

[ $# -eq 1 ] || die "usage: $0 OUT"
out=$1
mkdir -p "$(dirname "$out")" "$STATE/logs"
rm -f "$out"
fail() { printf "FAILED='%s'\n" "$1" >"$out.tmp"; mv "$out.tmp" "$out"; die "$1"; }
trap 'fail "test image build failed (line $LINENO); see the log of scripts/image/test-images.sh"' ERR
# One build of this tree's tags at a time (test files run alone may each ask for the images).
exec 7>"$ROOT/.tmp/image-build.lock"
flock -w 1800 7 || fail "another test-images.sh of this work tree holds the lock for 30 min"

tree=$(printf '%s' "$ROOT" | sha256sum | cut -c1-10)
v1="dockrev-test/dockrev:$tree-1"
v2="dockrev-test/dockrev:$tree-2"
proxy="dockrev-test/proxy-nginx:$tree"

t0=$(now_ms)
base=$("$HERE/base-image.sh")
t_base=$(( $(now_ms) - t0 ))
export DOCKREV_BASE_IMAGE=$base

t0=$(now_ms)
"$HERE/build.sh" "$v1" 1.0.0-e2e >/dev/null
t_v1=$(( $(now_ms) - t0 ))
t0=$(now_ms)
"$HERE/build.sh" "$v2" 2.0.0-e2e >/dev/null
t_v2=$(( $(now_ms) - t0 ))

t0=$(now_ms)
DOCKER_BUILDKIT=0 docker build --network host --force-rm -t "$proxy" - >"$STATE/logs/proxy-image.log" 2>&1 <<EOF || { tail -30 "$STATE/logs/proxy-image.log" >&2; fail "proxy image build failed"; }
FROM $base
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light \\
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF
t_proxy=$(( $(now_ms) - t0 ))

cat >"$out.tmp" <<EOF
DOCKREV_TEST_IMAGE_BASE='$base'
DOCKREV_TEST_IMAGE_V1='$v1'
DOCKREV_TEST_IMAGE_V2='$v2'
DOCKREV_TEST_IMAGE_PROXY='$proxy'
DOCKREV_TEST_IMAGE_BASE_MS='$t_base'
DOCKREV_TEST_IMAGE_V1_MS='$t_v1'
DOCKREV_TEST_IMAGE_V2_MS='$t_v2'
DOCKREV_TEST_IMAGE_PROXY_MS='$t_proxy'
EOF
mv "$out.tmp" "$out"
log "test images: base ${t_base} ms, dockrev ${t_v1} ms (+${t_v2} ms second tag), proxy ${t_proxy} ms"
