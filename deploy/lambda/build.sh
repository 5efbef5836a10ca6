#!/usr/bin/env bash
# Builds one AWS Lambda zip per function (custom runtime, provided.al2023): a statically linked
# `bootstrap` plus the function manifests slash-dispatch routes by. x86_64 only: this machine has no
# arm64 Swift SDK (with one, add --swift-sdk aarch64-swift-linux-musl and a second output folder).
# Usage: deploy/lambda/build.sh [output-folder]   (default .build-release/lambda)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(realpath -m "${1:-.build-release/lambda}")
flags=(-c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-release)
functions=()
for dir in functions/*/; do functions+=("$(basename "$dir")"); done
for f in "${functions[@]}"; do swift build "${flags[@]}" --product "$f" 2>&1 | grep -E "error|warning: unre" || true; done
bin=$(swift build "${flags[@]}" --show-bin-path)
mkdir -p "$out"
for f in "${functions[@]}"; do
  stage=$(mktemp -d)
  cp "$bin/$f" "$stage/bootstrap"
  strip "$stage/bootstrap" 2>/dev/null || true
  mkdir -p "$stage/functions"
  for m in functions/*/function.yaml; do mkdir -p "$stage/$(dirname "$m")"; cp "$m" "$stage/$m"; done
  rm -f "$out/$f.zip"
  (cd "$stage" && python3 - "$out/$f.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk("."):
        for name in sorted(files):
            path = os.path.join(root, name)
            info = zipfile.ZipInfo(os.path.relpath(path, "."), date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name == "bootstrap" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, open(path, "rb").read())
PY
  )
  rm -rf "$stage"
  echo "$out/$f.zip $(stat -c %s "$out/$f.zip") bytes"
done
