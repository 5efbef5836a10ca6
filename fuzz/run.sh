#!/usr/bin/env bash
# libFuzzer over every parser that takes outside bytes, seeded from ../shared/corpus and events/.
# Usage: fuzz/run.sh [seconds-per-target] [target…]   (default 10 s each, every target)
# A crash leaves crash-* in the working folder; copy it to fuzz/regressions/<target>/ — the tests
# replay that folder on every run — and fix the parser.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(envelope event form grammar config signature cgi-env manifest provisioner headers bot-state
                                     http-response dns-answer)
# The HTTP client's C parsers, with the toolchain's clang.
clang=$(dirname "$(command -v swift)")/clang
mkdir -p .build-fuzz
"$clang" -g -O1 -fsanitize=fuzzer,address,undefined -fuse-ld=lld -I Sources/CHTTP/include -I Sources/CHTTP \
  fuzz/c/http-response.c Sources/CHTTP/dns.c -lssl -lcrypto -lpthread -o .build-fuzz/fuzz-http-response
"$clang" -g -O1 -fsanitize=fuzzer,address,undefined -fuse-ld=lld -I Sources/CHTTP/include -I Sources/CHTTP \
  fuzz/c/dns-answer.c -lpthread -o .build-fuzz/fuzz-dns-answer
SWITCHYARD_FUZZ=1 swift build --product fuzz-parsers -Xswiftc -sanitize=fuzzer -Xswiftc -use-ld=lld --scratch-path .build-fuzz 2>&1 \
  | grep -E "error|Build complete" || true
bin=.build-fuzz/debug/fuzz-parsers
work=$(mktemp -d)
failed=()
seed() {  # seed <target> <files…>
  mkdir -p "$work/$1"
  shift
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$work/$(basename "$(dirname "$f")")-$(basename "$f")" 2>/dev/null; done
}
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  case "$t" in
    envelope) cp ../shared/corpus/lambda/*.json "$work/$t/" ;;
    event) for f in ../shared/corpus/github-webhooks/*.json events/github/*.json; do { printf '\001'; cat "$f"; } > "$work/$t/$(basename "$f")"; done ;;
    form) python3 -c "import json,sys; d=json.load(open('../shared/corpus/slash-commands/mattermost.custom-slash-command.json')); open(sys.argv[1],'w').write(d['documented_example']['raw_body'])" "$work/$t/mattermost" ;;
    grammar) printf '/update-branch\n```\n/cherry-pick release-8.0\n```\n> /e2e-test A=b\n<!-- /x -->' > "$work/$t/comment" ;;
    config|manifest) for f in functions/*/function.yaml; do cp "$f" "$work/$t/$(basename "$(dirname "$f")").yaml"; done; cp functions/housekeeping/housekeeping.sample.yaml functions/label-deploy/label-deploy.sample.yaml "$work/$t/" ;;
    signature) printf 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n1531420618\nHello, World!' > "$work/$t/vector" ;;
    provisioner) cp events/provisioner/*.json "$work/$t/" ;;
    headers) printf 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503\n1531420618\nsha256=00\nToken abc\nabc\nt\n1542409706888\n25600\n<https://api.github.com/x?page=2>; rel="next"' > "$work/$t/seed" ;;
    bot-state) printf 'text\n\n<!-- switchyard:e2e-trigger:status state=W3siaWQiOjEsInNoYSI6IjAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkifV0 -->' > "$work/$t/seed" ;;
    cgi-env) printf 'GATEWAY_INTERFACE=CGI/1.1\nREQUEST_METHOD=POST\nCONTENT_TYPE=application/json\nHTTP_X_GITHUB_EVENT=ping\nHttp_Method=POST\n' > "$work/$t/env" ;;
    http-response)
      printf '\000HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}' > "$work/$t/length"
      printf '\000HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-T: 1\r\n\r\n' > "$work/$t/chunked"
      printf '\001HTTP/1.0 304 Not Modified\r\nConnection: keep-alive, close\r\n\r\n' > "$work/$t/head" ;;
    dns-answer)
      printf '\x12\x34\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00\x03api\x07example\x04test\x00\x00\x01\x00\x01\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01' > "$work/$t/a" ;;
  esac
  [ -d "fuzz/regressions/$t" ] && cp fuzz/regressions/"$t"/* "$work/$t/" 2>/dev/null || true
  echo "== $t ($seconds s)"
  status=0
  runner=$bin
  case "$t" in http-response|dns-answer) runner=.build-fuzz/fuzz-$t ;; esac
  SWITCHYARD_FUZZ_TARGET=$t "$runner" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 "$work/$t" \
    > "$work/$t.log" 2>&1 || status=$?
  grep -E "^stat::number_of_executed_units|^stat::peak_rss|ERROR|crash-|Done" "$work/$t.log" || true
  if [ "$status" -ne 0 ]; then failed+=("$t"); tail -40 "$work/$t.log"; fi
done
rm -rf "$work"
if [ ${#failed[@]} -gt 0 ]; then echo "fuzzing found crashes in: ${failed[*]}"; exit 1; fi
echo "no crashes"
