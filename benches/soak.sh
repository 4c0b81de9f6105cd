#!/usr/bin/env bash
# A soak: mixed load (examples/soak.rs: AceData, KeySecure, Pagsmile and KazePay requests, control
# API reads) against the default scenario for MINUTES at a fixed rate, printing per minute the
# requests sent, those not answered (or 5xx), p50/p99 latency and the server's resident memory.
# Without RATE, the maximum rate is measured first (closed loop, 20 s) and half of it is used.
#
# Usage: [BINARY=path] benches/soak.sh [MINUTES] [RATE]   (default 10 minutes)
# The server is pinned to CPU 0 with one worker thread; the load runs on CPU 1.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
rate=${2:-}
cargo build --release --quiet --bins --examples
target="${CARGO_TARGET_DIR:-target}"
binary="${BINARY:-$target/release/issuer-sandbox}"
port=18093
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null' EXIT
start() {
  RUST_LOG=warn TOKIO_WORKER_THREADS=1 taskset -c 0 "$binary" serve --bind 127.0.0.1:$port >/dev/null 2>&1 &
  server=$!
  until curl -sf http://127.0.0.1:$port/__admin/health >/dev/null; do sleep 0.05; done
}
if [ -z "$rate" ]; then
  start
  max=$(taskset -c 1 "$target/release/examples/soak" http://127.0.0.1:$port max 20 | awk '{print $2}')
  kill "$server"; wait "$server" 2>/dev/null || true
  rate=$(( ${max%.*} / 2 ))
  echo "maximum: $max requests/s; soaking at $rate"
fi
start
taskset -c 1 "$target/release/examples/soak" http://127.0.0.1:$port rate "$rate" "$minutes" "$server"
