#!/usr/bin/env bash
# KazePay requests per second on one pinned server core, the client's sealing and opening
# excluded (requests are sealed beforehand, responses are not opened), against
# `openssl speed rsa2048` on the same core in the same run: each request costs the server two
# RSA private operations (unwrap the key, sign the answer) and two public ones.
#
# Usage: benches/kazepay.sh [DURATION] [REQUESTS]   (default 10s, 40000; needs wrk and openssl)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10s}
count=${2:-40000}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet --bins --examples
target="${CARGO_TARGET_DIR:-target}"
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
"$target/release/examples/kazepay_requests" "$count" > "$work/requests.jsonl"

port=18092
RUST_LOG=warn TOKIO_WORKER_THREADS=1 taskset -c 0 "$target/release/issuer-sandbox" serve --bind 127.0.0.1:$port >/dev/null &
server=$!
until curl -sf http://127.0.0.1:$port/__admin/health >/dev/null; do sleep 0.05; done

cat > "$work/rotate.lua" <<LUA
local requests = {}
for line in io.lines("$work/requests.jsonl") do requests[#requests + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #requests + 1
  return wrk.format(nil, "/kazepay", nil, requests[i])
end
LUA
rps=$(taskset -c 1 wrk -t1 -c8 -d"$duration" -s "$work/rotate.lua" "http://127.0.0.1:$port" | awk '/Requests\/sec/ {print $2}')
sign=$(taskset -c 0 openssl speed -seconds 5 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
echo "KazePay queryUcardKycStatus: $rps req/s (one server core; $count distinct sealed requests, rotated)"
echo "openssl speed rsa2048 sign:  $sign sign/s (same core)"
echo "ratio requests/signs:        $(echo "$rps / $sign" | bc -l | cut -c1-4)  (each request needs 2 private-key operations: ideal 0.5)"
