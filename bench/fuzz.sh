#!/usr/bin/env bash
# A long process-level fuzz run: every function binary, in pipe, CGI and OpenFaaS modes, fed
# truncated, empty, bit-flipped, invalid-UTF-8, 10,000-deep, wrongly typed, mislabelled, forged and
# oversized-length requests. Each answer must come without a signal, within the deadline, as JSON
# with a message. Usage: bench/fuzz.sh [inputs-per-mode] [seed]   (default 20000 → 60,000 per function)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product fuzz-functions >/dev/null
swift build >/dev/null
.build/debug/fuzz-functions --count "${1:-20000}" --seed "${2:-$RANDOM}"
