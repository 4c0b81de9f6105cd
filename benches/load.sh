#!/usr/bin/env bash
# Requests per second on one server core, check-1e / check-2e (AceData) and support/bins
# (KeySecure: the whole header gate, token lookup and a JSON list) against a baseline measured
# in the same run: the control API's health endpoint (routing + JSON, no provider work).
#
# Last, check-1e again with 20 fault rules installed that match the endpoint but not the card
# (every request is checked against all of them; none fires): the cost of rule matching.
#
# Usage: [BINARY=path] benches/load.sh [DURATION]   (default 10s; needs wrk: apt-get install wrk)
# The server is pinned to CPU 0 with one worker thread; wrk runs on CPU 1.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
# BINARY=path measures another build (e.g. the previous commit's) with the same load.
if [ -z "${BINARY:-}" ]; then cargo build --release --quiet; fi
binary="${BINARY:-${CARGO_TARGET_DIR:-target}/release/issuer-sandbox}"
port=18089
server=""
scenario=$(mktemp --suffix=.yaml)
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -f "$scenario" /tmp/issuer-sandbox-*.lua' EXIT
# The default scenario, without the per-token rate limits (they would answer 429s / 1009s).
sed 's/^name: default$/name: bench\nacedata: { rate_limit: { per_second: 0 } }\nkeysecure: { rate_limit: { per_second: 0 } }/' scenarios/default.yaml > "$scenario"
RUST_LOG=warn TOKIO_WORKER_THREADS=1 taskset -c 0 "$binary" serve \
  --bind 127.0.0.1:$port --scenario "$scenario" >/dev/null &
server=$!
until curl -sf http://127.0.0.1:$port/__admin/health >/dev/null; do sleep 0.05; done

post() { # name path body
  cat > /tmp/issuer-sandbox-$1.lua <<LUA
wrk.method = "POST"
wrk.body = '$3'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer demo-acedata-token"
LUA
  taskset -c 1 wrk -t1 -c16 -d"$duration" -s /tmp/issuer-sandbox-$1.lua "http://127.0.0.1:$port$2" | awk '/Requests\/sec/ {print $2}'
}
keysecure() { # path body
  token=$(curl -s http://127.0.0.1:$port/open-api/v1/merchant/token -H 'Api-Key: demo-keysecure-api-key' \
    -H "Timestamp: $(date +%s%3N)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["access_token"])')
  cat > /tmp/issuer-sandbox-keysecure.lua <<LUA
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Api-Key"] = "demo-keysecure-api-key"
wrk.headers["Access-Token"] = "$token"
-- Fixed for the run: valid for 60 s, so DURATION must stay under a minute.
wrk.headers["Timestamp"] = "$(date +%s%3N)"
LUA
  taskset -c 1 wrk -t1 -c16 -d"$duration" -s /tmp/issuer-sandbox-keysecure.lua "http://127.0.0.1:$port$1" | awk '/Requests\/sec/ {print $2}'
}
health=$(taskset -c 1 wrk -t1 -c16 -d"$duration" "http://127.0.0.1:$port/__admin/health" | awk '/Requests\/sec/ {print $2}')
lookup=$(post check1e /identity/bankcard/check-1e '{"bank_card":"6222020200112233446"}')
verify=$(post check2e /identity/bankcard/check-2e '{"bank_card":"6222020200112233446","name":"张伟"}')
bins=$(keysecure /open-api/v1/card/support/bins '{"page":0,"size":10}')
for n in $(seq 20); do
  curl -sf -o /dev/null http://127.0.0.1:$port/__admin/faults -d "{\"id\":\"f$n\",\"match\":{\"provider\":\"acedata\",\"operation\":\"check-1e\",\"fields\":{\"bank_card\":\"4$n*\"}},\"action\":\"reset\"}"
done
faulted=$(post check1e /identity/bankcard/check-1e '{"bank_card":"6222020200112233446"}')
echo "baseline GET /__admin/health: $health req/s"
echo "check-1e:                     $lookup req/s ($(echo "$lookup / $health" | bc -l | cut -c1-4)x baseline)"
echo "check-2e:                     $verify req/s ($(echo "$verify / $health" | bc -l | cut -c1-4)x baseline)"
echo "KeySecure support/bins:       $bins req/s ($(echo "$bins / $health" | bc -l | cut -c1-4)x baseline)"
echo "check-1e, 20 fault rules:     $faulted req/s ($(echo "$faulted / $lookup" | bc -l | cut -c1-4)x check-1e without)"
