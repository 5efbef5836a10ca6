#!/usr/bin/env bash
# Every benchmark in one command, as ratios against floors measured in the same run. The functions run
# as installed copies of the release binaries as shipped (stripped), not from the build folder.
#  1. cold start of every function in CGI, pipe and OpenFaaS modes on a signed 25 KB pull_request.edited it
#     verifies, decodes and ignores, against a C program that reads stdin and writes a line, linked
#     dynamically and statically;
#  2. the same event in CGI mode against a native program doing the same work (static C: HMAC-SHA256
#     with OpenSSL's SHA-256, the whole body parsed by jansson, one JSON answer);
#  3. peak memory on events that make GitHub calls, against the GitHub emulator;
#  4. CGI throughput and p99 under nginx + fcgiwrap (wrk) against a C CGI program, update-branch and then
#     every function on a pull_request.edited they decode or ignore;
#  5. warm Lambda invocations through a local Runtime API, against the same loop in C with libcurl.
# Usage: bench/run-all.sh [runs-per-round] [rounds]   (default 100 × 3; about 12 minutes with the builds)
# FUNCTIONS="a b" and MODES="cgi pipe" narrow the cold-start table; SKIP_LOAD=1 skips the load run.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-100}
rounds=${2:-3}
out=.build/bench
mkdir -p "$out"
flags=(-c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-release)
functions=()
if [ -n "${FUNCTIONS:-}" ]; then read -r -a functions <<< "$FUNCTIONS"
else for dir in functions/*/; do functions+=("$(basename "$dir")"); done; fi
read -r -a modes <<< "${MODES:-cgi pipe openfaas}"
for f in "${functions[@]}" switchyard; do swift build "${flags[@]}" --product "$f" 2>&1 | grep -E "error" || true; done
built=$(swift build "${flags[@]}" --show-bin-path)
# Installed copies, as a package ships them: stripped, then written by install(1) and only read after.
# How a binary's file was written matters on this kernel: a file written in large chunks (a linker's
# or strip's output) sits in the page cache in large folios, and a process mapping it takes fewer
# faults but counts more resident memory. The C programs are installed the same way as the functions.
bin=$(pwd)/$out/installed
rm -rf "$bin" "$out/linked"; mkdir -p "$bin" "$out/linked"
for f in "${functions[@]}" switchyard; do strip -o "$out/linked/$f" "$built/$f"; install -m 0755 "$out/linked/$f" "$bin/$f"; done
cc -O2 -o "$out/linked/floor" bench/floor.c
cc -O2 -static -o "$out/linked/floor-static" bench/floor.c
# The native same-work program needs libjansson-dev and libssl-dev (static libraries).
samework=
if cc -O2 -Wno-deprecated-declarations -static -o "$out/linked/samework" bench/samework.c -ljansson -lcrypto >/dev/null 2>&1; then
  samework=$out/samework
fi
for c in floor floor-static samework; do [ -f "$out/linked/$c" ] && install -m 0755 "$out/linked/$c" "$out/$c"; done
rm -rf "$out/linked"
cc -O2 -o "$out/runloop" bench/runloop.c

secret=bench-secret
python3 - "$out" "$secret" <<'PY'
import base64, hashlib, hmac, json, sys
out, secret = sys.argv[1], sys.argv[2].encode()
p = json.load(open("../shared/corpus/github-webhooks/pull_request.opened.json"))
p["action"] = "edited"  # an action no function acts on: the cost is verify, decode, decide
p["pull_request"]["body"] = "x" * 64
raw = json.dumps(p, separators=(",", ":"))
p["pull_request"]["body"] = "x" * max(64, 25 * 1024 - len(raw) + 64)
raw = json.dumps(p, separators=(",", ":")).encode()
sig = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
open(f"{out}/payload.json", "wb").write(raw)
open(f"{out}/signature", "w").write(sig)
env = {"headers": {"content-type": "application/json", "x-github-event": "pull_request", "x-github-delivery": "bench",
                   "x-hub-signature-256": sig}, "body": raw.decode(), "isBase64Encoded": False}
open(f"{out}/envelope.json", "w").write(json.dumps(env))
PY
sig=$(cat "$out/signature")
size=$(stat -c %s "$out/payload.json")
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

measure() {  # measure <mode> <function>: prints "median_ms floor_ms static_floor_ms peak_kib"
  local mode=$1 f=$2 input=$out/payload.json
  local -a env=(GITHUB_WEBHOOK_SECRET=$secret SWITCHYARD_LOG_LEVEL=error GITHUB_API_URL=http://127.0.0.1:9
                SWITCHYARD_FUNCTIONS_DIR="$(pwd)/functions")
  [ -n "${BENCH_CONFIG:-}" ] && env+=(SWITCHYARD_CONFIG="$BENCH_CONFIG")
  case $mode in
    cgi) env+=(GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST CONTENT_TYPE=application/json CONTENT_LENGTH=$size
               HTTP_X_GITHUB_EVENT=pull_request HTTP_X_GITHUB_DELIVERY=bench HTTP_X_HUB_SIGNATURE_256=$sig) ;;
    openfaas) env+=(Http_Method=POST Http_Content_Type=application/json Http_X_Github_Event=pull_request
                    Http_X_Github_Delivery=bench Http_X_Hub_Signature_256=$sig) ;;
    pipe) input=$out/envelope.json ;;
  esac
  local fl=() fs=() fn=() peak=0
  for ((i = 0; i < rounds; i++)); do
    read -r a _ _ < <(env -i "${env[@]}" "$out/runloop" "$runs" "$input" "$out/floor")
    read -r c _ _ < <(env -i "${env[@]}" "$out/runloop" "$runs" "$input" "$out/floor-static")
    read -r b rss fails < <(env -i "${env[@]}" "$out/runloop" "$runs" "$input" "$bin/$f")
    fl+=("$a"); fs+=("$c"); fn+=("$b"); (( rss > peak )) && peak=$rss
  done
  echo "$(median "${fn[@]}") $(median "${fl[@]}") $(median "${fs[@]}") $peak"
}

echo "Switchyard benchmarks — $(date -u +%Y-%m-%d), $(nproc) cores, $(swift --version 2>/dev/null | head -1)"
echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Cold start: signed ${size}-byte pull_request.edited webhook, verified and ignored (decoded by the functions that act on pull_request), median of $rounds rounds × $runs execs"
printf '| %-15s | %-8s | %9s | %9s | %7s | %9s | %7s | %9s |\n' function mode "per exec" "C floor" ratio "static C" ratio "peak RSS"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' "-----------------" "----------" "-----------" "-----------" "---------" "-----------" "---------" "-----------"
for f in "${functions[@]}"; do
  for mode in "${modes[@]}"; do
    read -r ms floor sfloor kib < <(measure "$mode" "$f")
    printf '| %-15s | %-8s | %6.3f ms | %6.3f ms | %6.2f× | %6.3f ms | %6.2f× | %5.1f MiB |\n' "$f" "$mode" "$ms" "$floor" \
      "$(awk -v a="$ms" -v b="$floor" 'BEGIN {print a / b}')" "$sfloor" "$(awk -v a="$ms" -v b="$sfloor" 'BEGIN {print a / b}')" \
      "$(awk -v k="$kib" 'BEGIN {print k / 1024}')"
  done
done
echo
# The same event against the native program doing the same work, in the same interleaved rounds. A
# function that answers with the event's action decoded the payload (goal ≤ 2.0×); one that answers
# without it verified the event and ignored it unread (goal ≤ 1.3×, though the C program still parses).
# Both must answer 200: a setup mistake answered 401 by both would make a flattering ratio.
cgi_env() {  # cgi_env <payload> <signature> <event>: sets cenv, the CGI environment for one signed delivery
  cenv=(GITHUB_WEBHOOK_SECRET=$secret SWITCHYARD_LOG_LEVEL=error GITHUB_API_URL=http://127.0.0.1:9
        "SWITCHYARD_FUNCTIONS_DIR=$(pwd)/functions" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST CONTENT_TYPE=application/json
        "CONTENT_LENGTH=$(stat -c %s "$1")" "HTTP_X_GITHUB_EVENT=$3" HTTP_X_GITHUB_DELIVERY=bench "HTTP_X_HUB_SIGNATURE_256=$2")
}
answers_200() { env -i "${cenv[@]}" "$1" < "$2" 2>/dev/null | head -1 | grep -q '^Status: 200'; }
if [ -n "$samework" ]; then
  echo "Against the native same-work program (static C: HMAC-SHA256 on OpenSSL's SHA-256, the whole body parsed by jansson, one JSON answer), CGI, same event, median of $rounds interleaved rounds × $runs execs"
  printf '| %-15s | %-8s | %9s | %9s | %7s | %6s |\n' function path "per exec" "same work" ratio goal
  printf '|%s|%s|%s|%s|%s|%s|\n' "-----------------" "----------" "-----------" "-----------" "---------" "--------"
  cgi_env "$out/payload.json" "$sig" pull_request
  answers_200 "$samework" "$out/payload.json" || { echo "the same-work program does not answer 200 on the bench event"; exit 1; }
  for f in "${functions[@]}"; do
    answers_200 "$bin/$f" "$out/payload.json" || { echo "$f does not answer 200 on the bench event"; exit 1; }
    if env -i "${cenv[@]}" "$bin/$f" < "$out/payload.json" 2>/dev/null | grep -q '"action":"edited"'; then path=decoded goal=2.0; else path=ignored goal=1.3; fi
    fn=(); sw=()
    for ((i = 0; i < rounds; i++)); do
      read -r a _ failed < <(env -i "${cenv[@]}" "$out/runloop" "$runs" "$out/payload.json" "$samework")
      [ "$failed" = 0 ] || { echo "the same-work program failed $failed times"; exit 1; }
      read -r b _ _ < <(env -i "${cenv[@]}" "$out/runloop" "$runs" "$out/payload.json" "$bin/$f")
      sw+=("$a"); fn+=("$b")
    done
    ms=$(median "${fn[@]}"); base=$(median "${sw[@]}")
    printf '| %-15s | %-8s | %6.3f ms | %6.3f ms | %6.2f× | ≤ %.1f× |\n' "$f" "$path" "$ms" "$base" "$(awk -v a="$ms" -v b="$base" 'BEGIN {print a / b}')" "$goal"
  done
  echo
else
  echo "Native same-work program: skipped (needs libjansson-dev and libssl-dev for a static link)"; echo
fi
# The policy file is read by libyaml when an event needs it: sla-check reads it for every pull_request.
policy=functions/label-deploy/label-deploy.sample.yaml
if [ -z "${FUNCTIONS:-}" ] || [[ " ${functions[*]} " == *" sla-check "* ]]; then
  # Interleaved, round by round, so that the machine's drift falls on both alike.
  a0=(); a1=()
  for ((r = 0; r < 5; r++)); do
    read -r x _ _ < <(rounds=1 measure cgi sla-check)
    read -r y _ _ < <(BENCH_CONFIG="$(pwd)/$policy" rounds=1 measure cgi sla-check)
    a0+=("$x"); a1+=("$y")
  done
  ms0=$(median "${a0[@]}"); ms1=$(median "${a1[@]}")
  echo "Policy file: sla-check (cgi) on the same event without and with $policy ($(wc -l < "$policy") lines), read by libyaml; median of 5 interleaved rounds × $runs execs"
  printf '| %-22s | %9s |\n' run "per exec"
  printf '|%s|%s|\n' "------------------------" "-----------"
  printf '| %-22s | %6.3f ms |\n' "no policy" "$ms0"
  printf '| %-22s | %6.3f ms |\n' "with the policy" "$ms1"
  printf 'The policy adds %.3f ms per event.\n\n' "$(awk -v a="$ms1" -v b="$ms0" 'BEGIN {print a - b}')"
fi
# Comments: a normal one against one of GitHub's maximum length (65,536 characters) whose every line
# starts with `/`, through the functions that read commands. The grammar works on the bytes, so the
# long one should cost at most 1.5× the normal one.
python3 - "$out" "$secret" <<'PY'
import hashlib, hmac, json, sys
out, secret = sys.argv[1], sys.argv[2].encode()
base = json.load(open("../shared/corpus/github-webhooks/issue_comment.created.json"))
line = "/note this line starts with a slash and asks for nothing\n"
for name, body in [("normal", "Looks good to me, thanks!\n\n/update-branch"), ("long", (line * (65536 // len(line) + 1))[:65536])]:
    p = json.loads(json.dumps(base)); p["comment"]["body"] = body
    raw = json.dumps(p, separators=(",", ":")).encode()
    open(f"{out}/comment-{name}.json", "wb").write(raw)
    open(f"{out}/comment-{name}.sig", "w").write("sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest())
PY
comment_ms() {  # comment_ms <function> <normal|long>: median ms per exec in CGI mode (dry run: no network)
  local f=$1 name=$2 input=$out/comment-$2.json fn=()
  local -a env=(GITHUB_WEBHOOK_SECRET=$secret SWITCHYARD_LOG_LEVEL=error GITHUB_API_URL=http://127.0.0.1:9 SWITCHYARD_DRY_RUN=1
                SWITCHYARD_FUNCTIONS_DIR="$(pwd)/functions" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST CONTENT_TYPE=application/json
                CONTENT_LENGTH=$(stat -c %s "$input") HTTP_X_GITHUB_EVENT=issue_comment HTTP_X_GITHUB_DELIVERY=bench
                HTTP_X_HUB_SIGNATURE_256=$(cat "$out/comment-$name.sig"))
  for ((i = 0; i < rounds; i++)); do read -r b _ _ < <(env -i "${env[@]}" "$out/runloop" "$runs" "$input" "$bin/$f"); fn+=("$b"); done
  median "${fn[@]}"
}
echo "Comments: a normal comment against a 65,536-character one whose every line starts with /, CGI, median of $rounds rounds × $runs execs"
printf '| %-15s | %9s | %9s | %7s |\n' function normal "max length" ratio
printf '|%s|%s|%s|%s|\n' "-----------------" "-----------" "-----------" "---------"
for f in update-branch slash-dispatch cherry-pick e2e-trigger; do
  [ -z "${FUNCTIONS:-}" ] || [[ " ${functions[*]} " == *" $f "* ]] || continue
  a=$(comment_ms "$f" normal); b=$(comment_ms "$f" long)
  printf '| %-15s | %6.3f ms | %6.3f ms | %6.2f× |\n' "$f" "$a" "$b" "$(awk -v a="$b" -v b="$a" 'BEGIN {print a / b}')"
done
echo
echo "Size: release binaries as shipped (stripped); each needs no shared library"
printf '| %-15s | %10s |\n' binary stripped
printf '|%s|%s|\n' "-----------------" "------------"
total=0
for f in "${functions[@]}" switchyard; do
  bytes=$(stat -c %s "$bin/$f")
  [ "$f" = switchyard ] || total=$((total + bytes))
  printf '| %-15s | %6.1f MiB |\n' "$f" "$(awk -v b="$bytes" 'BEGIN {print b / 1048576}')"
done
printf '| %-15s | %6.1f MiB |\n' "the ${#functions[@]} apart" "$(awk -v b="$total" 'BEGIN {print b / 1048576}')"
echo
# Peak memory where the functions talk to GitHub: the emulator's demo world, real HTTP over loopback.
swift build --product github-emulator 2>&1 | grep -E "error" || true
.build/debug/github-emulator --demo --port 0 > "$out/emulator.log" 2>&1 &   # the port it found is in its banner
emulator=$!
trap 'kill $emulator 2>/dev/null || true' EXIT
api=
for _ in $(seq 100); do api=$(sed -n 's/^GitHub emulator listening on //p' "$out/emulator.log"); [ -n "$api" ] && break; sleep 0.1; done
[ -n "$api" ] || { echo "the GitHub emulator did not start: $(head -c 300 "$out/emulator.log")"; exit 1; }
mkdir -p "$out/gh"
printf 'defaults:\n  cla:\n    sign-url: https://cla.example.com/acme\n    signers:\n      list: [maint-mona]\n' > "$out/gh/config.yaml"
python3 bench/github-events.py "$api" "$out/gh" "$secret"
echo "Events that make GitHub calls: peak memory (the GitHub emulator, a debug build, over loopback; token auth; 20 execs each, CGI; the time is mostly the emulator's)"
printf '| %-15s | %-37s | %9s | %9s | %8s |\n' function event "per exec" "peak RSS" failures
printf '|%s|%s|%s|%s|%s|\n' "-----------------" "---------------------------------------" "-----------" "-----------" "----------"
for pair in "sla-check opened" "housekeeping opened" "update-branch comment"; do
  read -r f name <<< "$pair"
  [ -z "${FUNCTIONS:-}" ] || [[ " ${functions[*]} " == *" $f "* ]] || continue
  cgi_env "$out/gh/$name.json" "$(cat "$out/gh/$name.sig")" "$(cat "$out/gh/$name.event")"
  cenv+=("GITHUB_API_URL=$api" GITHUB_TOKEN=demo-token "SWITCHYARD_CONFIG=$out/gh/config.yaml")
  read -r ms kib fails < <(env -i "${cenv[@]}" "$out/runloop" 20 "$out/gh/$name.json" "$bin/$f")
  printf '| %-15s | %-37s | %6.3f ms | %5.1f MiB | %8s |\n' "$f" "$(cat "$out/gh/$name.label")" "$ms" "$(awk -v k="$kib" 'BEGIN {print k / 1024}')" "$fails"
done
kill $emulator 2>/dev/null || true
trap - EXIT
echo
# The load and Lambda runs need every function (load-test --all) and update-branch and sla-check.
if [ "${SKIP_LOAD:-}" = 1 ]; then
  :
elif [ "${#functions[@]}" -lt 7 ]; then
  echo "CGI throughput and warm Lambda: skipped (they need every function; FUNCTIONS narrows the run)"
elif command -v wrk >/dev/null && [ -x /usr/sbin/nginx ] && [ -x /usr/sbin/fcgiwrap ]; then
  swift build --product load-test >/dev/null
  .build/debug/load-test --seconds 10 --bin "$bin" --all
else
  echo "CGI throughput: skipped (needs wrk, nginx and fcgiwrap)"
fi
if [ "${SKIP_LOAD:-}" != 1 ] && [ "${#functions[@]}" -ge 7 ] && echo "#include <curl/curl.h>" | cc -E - >/dev/null 2>&1 && command -v python3 >/dev/null; then
  echo
  BIN=$bin bench/lambda-warm.sh 2000 update-branch
  BIN=$bin bench/lambda-warm.sh 2000 sla-check
fi
echo; echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "${SKIP_LOAD:-}" = 1 ] || { echo; echo "GitHub requests per operation: see bench/README.md (each is asserted by a test)."; }
