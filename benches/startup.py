#!/usr/bin/env python3
"""Time from process start to the first answered request, for `issuer-sandbox serve`.

Usage: benches/startup.py [BINARY] [RUNS]   (default target/release/issuer-sandbox, 20 runs)

For each run: spawn `serve` on a free loopback port, then poll check-1e (default scenario, demo
token) as fast as possible until it answers 200; the figure is the time from just before the
spawn to that answer. The baseline, measured in the same run, is the time to spawn
`issuer-sandbox --version` and see it exit: the machine's fixed cost of starting the binary.
Prints medians and the ratio, since absolute times on shared machines are noisy.
"""
import http.client
import json
import socket
import statistics
import subprocess
import sys
import time

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/issuer-sandbox"
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
BODY = json.dumps({"bank_card": "6222020200112233446"})


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_response_ms():
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen([BINARY, "serve", "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("POST", "/identity/bankcard/check-1e", BODY,
                             {"Authorization": "Bearer demo-acedata-token",
                              "Content-Type": "application/json"})
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return (time.perf_counter() - start) * 1000
            except OSError:
                pass
            if time.perf_counter() - start > 10:
                raise SystemExit("no answer within 10 s")
    finally:
        proc.terminate()
        proc.wait()


def version_ms():
    start = time.perf_counter()
    subprocess.run([BINARY, "--version"], stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


serve = sorted(first_response_ms() for _ in range(RUNS))
base = sorted(version_ms() for _ in range(RUNS))
s_med, b_med = statistics.median(serve), statistics.median(base)
print(f"first response after start: median {s_med:.1f} ms, min {serve[0]:.1f}, max {serve[-1]:.1f} ({RUNS} runs)")
print(f"baseline `--version` exec:  median {b_med:.1f} ms, min {base[0]:.1f}, max {base[-1]:.1f}")
print(f"ratio serve/baseline: {s_med / b_med:.1f}x")
