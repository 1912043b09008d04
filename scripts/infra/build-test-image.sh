#!/usr/bin/env bash
# Build a tiny test image from Debian's busybox-static with `docker import` (nothing pulled).
#
#   build-test-image.sh REF [TEXT] [--change 'DOCKERFILE-INSTRUCTION']... [--push]
#
# The image holds /bin/busybox with applet symlinks (sh, sleep, httpd, wget, du, tar, ...),
# /etc/dockrev-fixture containing TEXT (default: REF) so that images are distinguishable, and
# a CMD that sleeps and exits at once on SIGTERM (so `docker stop` / `compose down` take no
# 10 s timeout) unless a --change overrides it. --change takes what `docker import
# --change` takes (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, HEALTHCHECK, ...).
# --push pushes REF (credentials come from DOCKER_CONFIG, see up.sh). Prints the image id, and
# with --push the pushed digest on a second line ("sha256:...").
set -euo pipefail
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

[ $# -ge 1 ] || die "usage: $0 REF [TEXT] [--change INSTR]... [--push]"
ref=$1; shift
text=$ref
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then text=$1; shift; fi
changes=()
push=0
while [ $# -gt 0 ]; do
  case "$1" in
    --change) [ $# -ge 2 ] || die "--change needs a value"; changes+=(--change "$2"); shift 2 ;;
    --push) push=1; shift ;;
    *) die "unknown argument: $1" ;;
  esac
done
has_cmd=0
for c in "${changes[@]}"; do case "$c" in CMD*|cmd*) has_cmd=1 ;; esac; done
[ "$has_cmd" = 1 ] || changes+=(--change "CMD [\"sh\",\"-c\",\"trap 'exit 0' TERM INT; sleep 86400 & wait\"]")

[ -x /bin/busybox ] || die "/bin/busybox missing (apt-get install busybox-static)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/bin" "$work/root/etc" "$work/root/tmp" "$work/root/var/www"
cp /bin/busybox "$work/root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$work/root/bin/$applet"
done
printf '%s\n' "$text" >"$work/root/etc/dockrev-fixture"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$work/root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$work/root/etc/group"
chmod 1777 "$work/root/tmp"
tar -C "$work/root" --numeric-owner --owner=0 --group=0 -cf "$work/rootfs.tar" .
id=$(docker import "${changes[@]}" "$work/rootfs.tar" "$ref")
echo "$id"
if [ "$push" = 1 ]; then
  docker push "$ref" >"$work/push.log" 2>&1 || { cat "$work/push.log" >&2; die "push of $ref failed"; }
  grep -o 'digest: sha256:[0-9a-f]*' "$work/push.log" | tail -1 | cut -d' ' -f2
fi
