#!/usr/bin/env bash
# Requests per second of an encrypted provider on one pinned server core, the client's sealing
# and opening excluded (requests are sealed beforehand, responses are not opened), against
# `openssl speed rsa2048` on the same core in the same run.
#
#   kazepay:  queryUcardKycStatus; 2 RSA private operations per request (unwrap the key, sign
#             the answer) and 2 public ones: ideal ratio 0.5.
#   pagsmile: query-card-balance; 1 private operation (unwrap random_key) and 1 public one (wrap
#             the answer's key): ideal ratio 1.
#
# Usage: [BINARY=path] benches/envelopes.sh [kazepay|pagsmile] [DURATION] [REQUESTS]
#        (default kazepay 10s 40000; needs wrk and openssl)
set -euo pipefail
cd "$(dirname "$0")/.."
provider=${1:-kazepay}
duration=${2:-10s}
count=${3:-40000}
case "$provider" in
  kazepay) path=/kazepay; private_ops=2; what=queryUcardKycStatus ;;
  pagsmile) path=/issuing/card/query-card-balance; private_ops=1; what=query-card-balance ;;
  *) echo "unknown provider $provider: kazepay or pagsmile" >&2; exit 2 ;;
esac
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet --bins --examples
target="${CARGO_TARGET_DIR:-target}"
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
"$target/release/examples/sealed_requests" "$provider" "$count" > "$work/requests.jsonl"

port=18092
# BINARY=path measures another build (e.g. the previous commit's) with the same requests.
RUST_LOG=warn TOKIO_WORKER_THREADS=1 taskset -c 0 "${BINARY:-$target/release/issuer-sandbox}" serve --bind 127.0.0.1:$port >/dev/null &
server=$!
until curl -sf http://127.0.0.1:$port/__admin/health >/dev/null; do sleep 0.05; done

rps=$(REQUESTS="$work/requests.jsonl" REQUEST_PATH="$path" taskset -c 1 wrk -t1 -c8 -d"$duration" -s benches/rotate.lua "http://127.0.0.1:$port" | awk '/Requests\/sec/ {print $2}')
sign=$(taskset -c 0 openssl speed -seconds 5 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6}')
echo "$provider $what: $rps req/s (one server core; $count distinct sealed requests, rotated)"
echo "openssl speed rsa2048 sign: $sign sign/s (same core)"
echo "ratio requests/signs:       $(echo "$rps / $sign" | bc -l | cut -c1-4)  ($private_ops private-key operation(s) per request: ideal $(echo "1 / $private_ops" | bc -l | cut -c1-3))"
