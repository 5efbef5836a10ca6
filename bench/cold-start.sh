#!/usr/bin/env bash
# Cold start of update-branch in CGI mode on a signed 25 KB webhook that needs no network call
# (verify, decode, decide, answer), against the C floor built in the same run: bench/run-all.sh,
# narrowed to one function and one mode. Usage: bench/cold-start.sh [runs-per-round] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
FUNCTIONS=update-branch MODES=cgi SKIP_LOAD=1 exec bench/run-all.sh "${1:-100}" "${2:-5}"
