#!/usr/bin/env bash
# Cold start of update-branch in CGI mode on a signed ~25 KB pull_request webhook that needs no
# network call (verify, decode, decide, answer), against a C floor built in the same run.
# Prints the median time per exec over alternating rounds, the ratio to the floor and peak RSS.
# Usage: bench/cold-start.sh [runs-per-round] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
rounds=${2:-5}
out=.build/bench
mkdir -p "$out"

# The release build: a fully static executable (libcurl is loaded only when a request is made).
flags=(-c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-release)
swift build "${flags[@]}" --product update-branch 2>&1 | grep -E "error|Compiling|Build" | tail -1
bin=$(swift build "${flags[@]}" --show-bin-path)/update-branch
cc -O2 -o "$out/floor" bench/floor.c
cc -O2 -o "$out/runloop" bench/runloop.c

# A pull_request.opened payload padded to 25 KB inside its body text, and its signature.
secret="bench-secret"
python3 - "$out/payload.json" "$secret" <<'PY'
import hashlib, hmac, json, sys
p = json.load(open("../shared/corpus/github-webhooks/pull_request.opened.json"))
p["pull_request"]["body"] = "x" * 64
raw = json.dumps(p, separators=(",", ":"))
p["pull_request"]["body"] = "x" * max(64, 25 * 1024 - len(raw) + 64)
raw = json.dumps(p, separators=(",", ":")).encode()
open(sys.argv[1], "wb").write(raw)

PY
sig=$(python3 -c "import hashlib,hmac,sys; print('sha256='+hmac.new(b'$secret', open('$out/payload.json','rb').read(), hashlib.sha256).hexdigest())")
size=$(stat -c %s "$out/payload.json")

export GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST CONTENT_TYPE=application/json CONTENT_LENGTH=$size
export HTTP_X_GITHUB_EVENT=pull_request HTTP_X_GITHUB_DELIVERY=bench HTTP_X_HUB_SIGNATURE_256=$sig
export GITHUB_WEBHOOK_SECRET=$secret SWITCHYARD_LOG_LEVEL=warning

# Sanity: the function answers 200 and ignores the event without calling GitHub.
answer=$("$bin" < "$out/payload.json" 2>/dev/null)
case "$answer" in
  "Status: 200 OK"*'"outcome":"ignored"'*) ;;
  *) echo "unexpected answer: $answer" >&2; exit 1 ;;
esac

floor=(); fn=(); rss_floor=0; rss_fn=0
for ((i = 0; i < rounds; i++)); do
  read -r f_ms f_rss f_fail < <("$out/runloop" "$runs" "$out/payload.json" "$out/floor")
  read -r s_ms s_rss s_fail < <("$out/runloop" "$runs" "$out/payload.json" "$bin")
  [ "$s_fail" = 0 ] || { echo "update-branch failed $s_fail times" >&2; exit 1; }
  floor+=("$f_ms"); fn+=("$s_ms")
  (( f_rss > rss_floor )) && rss_floor=$f_rss
  (( s_rss > rss_fn )) && rss_fn=$s_rss
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mf=$(median "${floor[@]}"); ms=$(median "${fn[@]}")
ratio=$(awk -v a="$ms" -v b="$mf" 'BEGIN {printf "%.2f", a / b}')
mib=$(awk -v k="$rss_fn" 'BEGIN {printf "%.1f", k / 1024}')
binsize=$(awk -v b="$(stat -c %s "$bin")" 'BEGIN {printf "%.1f", b / 1048576}')
echo "cold start, CGI, ${size}-byte signed pull_request, $rounds rounds of $runs execs (median per exec)"
printf '  %-28s %8s ms  %6s MiB peak RSS\n' "C floor" "$mf" "$(awk -v k="$rss_floor" 'BEGIN {printf "%.1f", k / 1024}')"
printf '  %-28s %8s ms  %6s MiB peak RSS  (binary %s MiB)\n' "update-branch (static)" "$ms" "$mib" "$binsize"
echo "  ratio to floor: ${ratio}x (target <= 5x); peak RSS ${mib} MiB (target < 15 MiB)"
awk -v r="$ratio" -v m="$mib" 'BEGIN { exit !(r <= 5 && m < 15) }' && echo "  within targets" || echo "  OUTSIDE TARGETS"
