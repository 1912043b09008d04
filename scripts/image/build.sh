#!/usr/bin/env bash
# Builds the project's Dockerfile on the local base image (base-image.sh), with no image registry:
#
#   scripts/image/build.sh TAG [APP_EFFECTIVE_VERSION]
#
# The build runs with `--network host`: the test engine does not forward container traffic
# (--iptables=false --ip-forward=false), so only a build container in the host's network reaches
# the npm registry and the Debian mirror, through whatever the host uses (a registry configured
# for npm and the standard proxy variables are passed on; nothing from ~/.npmrc is copied, so no
# token can end up in an image). The classic builder is used: the engine is Docker 20.10 and the
# CLI may have no buildx plugin. Prints timings on stderr, the tag on stdout.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../infra/lib.sh"

[ $# -ge 1 ] || die "usage: $0 TAG [APP_EFFECTIVE_VERSION]"
tag=$1
version=${2:-}

t0=$(now_ms)
# DOCKREV_BASE_IMAGE: an image made by base-image.sh already (saves its registry look-ups).
base=${DOCKREV_BASE_IMAGE:-$("$HERE/base-image.sh")}
t_base=$(( $(now_ms) - t0 ))

args=(--network host --force-rm --build-arg "BASE_IMAGE=$base" --build-arg "APP_EFFECTIVE_VERSION=$version"
      --build-arg "VCS_REF=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || true)"
      --build-arg "BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)")
registry=$(npm config get registry 2>/dev/null || true)
if [ -n "$registry" ] && [ "$registry" != "https://registry.npmjs.org/" ]; then
  args+=(--build-arg "npm_config_registry=$registry")
fi
# Docker's predefined proxy build arguments: used by RUN, kept out of the image history.
for name in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
  [ -n "${!name:-}" ] && args+=(--build-arg "$name")
done

t1=$(now_ms)
log_file=$(mktemp)
if ! DOCKER_BUILDKIT=0 docker build "${args[@]}" -t "$tag" "$ROOT" >"$log_file" 2>&1; then
  tail -60 "$log_file" >&2
  rm -f "$log_file"
  die "docker build of $tag failed"
fi
rm -f "$log_file"
log "built $tag on $base: base image ${t_base} ms, docker build $(( $(now_ms) - t1 )) ms"
echo "$tag"
