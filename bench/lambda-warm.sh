#!/usr/bin/env bash
# Warm Lambda invocations: one function process in the Runtime API loop, fed the same signed 25 KB
# webhook (a Function URL event it verifies, decodes and ignores) N times by a local Runtime API.
# The floor is the same loop in C with libcurl that answers without decoding (lambda-floor.c), against
# the same server. The difference per event is what Switchyard adds. Usage: bench/lambda-warm.sh [N] [FUNCTION]
# BIN=DIR runs the binaries in DIR instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
f=${2:-update-branch}
out=.build/bench
mkdir -p "$out"
flags=(-c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-release)
if [ -n "${BIN:-}" ]; then bin=$BIN   # installed copies (bench/run-all.sh passes its own)
else
  swift build "${flags[@]}" --product "$f" 2>&1 | grep -E "error" || true
  bin=$(swift build "${flags[@]}" --show-bin-path)
fi
cc -O2 -o "$out/lambda-floor.linked" bench/lambda-floor.c -lcurl
install -m 0755 "$out/lambda-floor.linked" "$out/lambda-floor" && rm -f "$out/lambda-floor.linked"   # installed, as the functions are
[ -f "$out/envelope.json" ] || { echo "run bench/run-all.sh once first (it writes the signed payload)"; exit 2; }
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
env = json.load(open(f"{out}/envelope.json"))
env.update({"version": "2.0", "rawPath": "/", "requestContext": {"http": {"method": "POST", "path": "/"}}})
open(f"{out}/lambda-event.json", "w").write(json.dumps(env))
PY
run() {  # run <binary> → "ms-per-event errors"
  local port=$((20000 + RANDOM % 20000))
  coproc API { python3 bench/runtime-api.py "$port" "$n" "$out/lambda-event.json"; }
  read -r _ <&"${API[0]}"
  env -i AWS_LAMBDA_RUNTIME_API=127.0.0.1:$port GITHUB_WEBHOOK_SECRET=bench-secret SWITCHYARD_LOG_LEVEL=error \
    AWS_LAMBDA_FUNCTION_NAME=bench "$1" >/dev/null 2>&1 &
  local pid=$!
  read -r result <&"${API[0]}"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "$result"
}
read -r floor _ < <(run "$out/lambda-floor")
read -r fn errors < <(run "$bin/$f")
echo "Lambda warm invocations: $n events each through a local Runtime API (Python), same signed ${f} event"
printf '  C + libcurl loop (no decoding)   %7.3f ms per event\n' "$floor"
printf '  %-32s %7.3f ms per event   errors %s\n' "$f" "$fn" "$errors"
printf '  added per event: %.3f ms (goal ≤ 0.5 ms)\n' "$(awk -v a="$fn" -v b="$floor" 'BEGIN {print a - b}')"
