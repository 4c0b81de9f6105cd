#!/usr/bin/env python3
"""check-1e over HTTPS with keep-alive, against plain HTTP measured in the same run.

Usage: benches/tls.py [SECONDS]   (default 5 s per wrk measurement; needs wrk and taskset)

One sandbox serves both listeners (--bind and --tls-bind) with one worker thread pinned to
CPU 0; wrk (one thread, 16 keep-alive connections) runs on CPU 1. Each round measures plain
then TLS; printed are each round's figures and the median of the rounds' TLS / plain ratios.
"""
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import perf  # noqa: E402  (the shared Server and wrk helpers)


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=perf.ROOT,
                   check=True)
    work = Path(tempfile.mkdtemp())
    scenario, check_1e = perf.check_1e_setup(work)
    tls_port = perf.free_port()
    sandbox = [str(perf.TARGET / "issuer-sandbox"), "serve", "--bind", "127.0.0.1:PORT",
               "--tls-bind", f"127.0.0.1:{tls_port}", "--scenario", str(scenario)]
    ratios = []
    for n in range(perf.ROUNDS):
        with perf.Server(sandbox, ready="/__admin/health") as server:
            plain = perf.wrk(server.url + "/identity/bankcard/check-1e", check_1e)
            secure = perf.wrk(f"https://127.0.0.1:{tls_port}/identity/bankcard/check-1e",
                              check_1e)
        ratios.append(secure / plain)
        print(f"round {n + 1}: plain {plain:,.0f} req/s, TLS {secure:,.0f} req/s, "
              f"ratio {secure / plain:.2f}")
    print(f"check-1e over TLS / plain HTTP (keep-alive): median ratio "
          f"{statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
