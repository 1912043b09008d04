#!/usr/bin/env bash
# Bundles the split OpenAPI documents and generates their TypeScript types into src/generated/.
# With --check, regenerates into a temporary folder and fails when src/generated/ is stale.
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-write}"
out="src/generated"
if [[ "$mode" == "--check" ]]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

bin=node_modules/.bin
for name in dockrev supervisor; do
  "$bin/redocly" bundle "openapi/$name.yaml" --ext json -o "$out/$name.openapi.json" >/dev/null 2>&1 \
    || { "$bin/redocly" bundle "openapi/$name.yaml" --ext json -o "$out/$name.openapi.json"; exit 1; }
  "$bin/openapi-typescript" "$out/$name.openapi.json" -o "$out/$name.ts" --default-non-nullable false >/dev/null 2>&1 \
    || { "$bin/openapi-typescript" "$out/$name.openapi.json" -o "$out/$name.ts" --default-non-nullable false; exit 1; }
done

if [[ "$mode" == "--check" ]]; then
  stale=0
  for file in dockrev.openapi.json dockrev.ts supervisor.openapi.json supervisor.ts; do
    if ! cmp -s "$out/$file" "src/generated/$file"; then
      echo "src/generated/$file is stale: run 'make gen' and commit the result" >&2
      stale=1
    fi
  done
  exit "$stale"
fi
echo "generated: $(ls src/generated | tr '\n' ' ')"
