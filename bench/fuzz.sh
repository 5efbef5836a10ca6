#!/usr/bin/env bash
# A long process-level fuzz run: every function binary, in pipe, CGI and OpenFaaS modes, fed
# truncated, empty, bit-flipped, invalid-UTF-8, 10,000-deep, wrongly typed, mislabelled, forged,
# oversized-length and provisioner-shaped requests. Each answer must come without a signal, within the
# deadline, as JSON with a message. One fuzzer process per function, JOBS at a time.
# Usage: bench/fuzz.sh [inputs-per-mode] [seed] [jobs]
# (default 4800 per mode → 14,400 per function, 100,800 over the seven; about 15 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-4800}
seed=${2:-$RANDOM}
jobs=${3:-7}
swift build --product fuzz-functions >/dev/null
swift build >/dev/null
out=$(mktemp -d)
for dir in functions/*/; do basename "$dir"; done \
  | xargs -P "$jobs" -I{} sh -c ".build/debug/fuzz-functions --count $count --seed $seed --function {} > $out/{}.txt 2>&1 || true"
cat "$out"/*.txt | grep -v "passed, .* failed"
awk '/ inputs, / {n += $2; f += $4} END {printf "%d inputs, %d failures (seed %s)\n", n, f, "'"$seed"'"; exit f > 0}' "$out"/*.txt
