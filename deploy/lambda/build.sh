#!/usr/bin/env bash
# Builds the AWS Lambda package (custom runtime, provided.al2023): one zip for every function of the
# deployment, holding
#   bootstrap           the multi-call `switchyard` binary, fully static (no shared library, no libc
#                       needed on the host); each Lambda function picks its function by its Handler
#                       (`_HANDLER`), and slash-dispatch runs the others from this same file
#   functions/*/        the manifests slash-dispatch routes by
#   switchyard.yaml     the policy: the file given with --config, else an empty one (defaults)
# x86_64 only: this machine has no arm64 Swift SDK (with one, add --swift-sdk aarch64-swift-linux-musl).
# Usage: deploy/lambda/build.sh [--config FILE] [output-folder]   (default .build-release/lambda)
set -euo pipefail
cd "$(dirname "$0")/../.."
config=""
if [ "${1:-}" = "--config" ]; then config=$(realpath "$2"); shift 2; fi
out=$(realpath -m "${1:-.build-release/lambda}")
flags=(-c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-release)
log=$(mktemp)
if ! swift build "${flags[@]}" --product switchyard >"$log" 2>&1; then cat "$log" >&2; exit 1; fi
# The static link's warnings name every libc function that would load a shared library at run time;
# none may be reached (CI checks the running process maps no shared object at all).
grep -E "warning: Using '[a-z_]+' in statically linked" "$log" | sort -u >&2 || true
rm -f "$log"
bin=$(swift build "${flags[@]}" --show-bin-path)
mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$bin/switchyard" "$stage/bootstrap"
strip "$stage/bootstrap"
for m in functions/*/function.yaml; do mkdir -p "$stage/$(dirname "$m")"; cp "$m" "$stage/$m"; done
if [ -n "$config" ]; then
  cp "$config" "$stage/switchyard.yaml"
else
  printf '# No policy was given to deploy/lambda/build.sh --config: every function runs on its defaults.\n{}\n' >"$stage/switchyard.yaml"
fi
rm -f "$out/switchyard.zip"
(cd "$stage" && python3 - "$out/switchyard.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in sorted(os.walk(".")):
        for name in sorted(files):
            path = os.path.join(root, name)
            info = zipfile.ZipInfo(os.path.relpath(path, "."), date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name == "bootstrap" else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, open(path, "rb").read())
PY
)
echo "$out/switchyard.zip $(stat -c %s "$out/switchyard.zip") bytes (bootstrap $(stat -c %s "$stage/bootstrap") bytes)"
