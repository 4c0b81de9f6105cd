#!/usr/bin/env bash
# Where the CPU goes when KazePay runs with 1 worker (CPU 0) and with 2 workers (CPUs 0 and 1),
# wrk on CPU 1 both times: requests per second, the server's CPU-seconds (from /proc) and wrk's
# (from /usr/bin/time). Shows whether "2 workers / 1 worker" is bounded by the server or by the
# load generator sharing the second core.
#
# Usage: benches/workers_cpu.sh   (needs wrk and /usr/bin/time; builds the release binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bins --examples
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/examples/sealed_requests kazepay 20000 > "$work/r.jsonl"
for setup in "0 1" "0,1 2"; do
  set -- $setup
  port=18097
  RUST_LOG=warn TOKIO_WORKER_THREADS=$2 taskset -c $1 target/release/issuer-sandbox serve --bind 127.0.0.1:$port >/dev/null 2>&1 &
  srv=$!
  until curl -sf http://127.0.0.1:$port/__admin/health >/dev/null; do sleep 0.05; done
  s0=$(awk '{print $14+$15}' /proc/$srv/stat)
  /usr/bin/time -f "wrk cpu: %U user + %S sys seconds over 8 s" env REQUESTS="$work/r.jsonl" REQUEST_PATH=/kazepay taskset -c 1 wrk -t1 -c8 -d8s -s benches/rotate.lua http://127.0.0.1:$port 2>&1 | grep -E "Requests/sec|wrk cpu"
  s1=$(awk '{print $14+$15}' /proc/$srv/stat)
  echo "cpus=$1 workers=$2: server CPU $(( s1 - s0 )) hundredths of a second over 8 s"
  kill $srv; wait $srv 2>/dev/null || true
done
