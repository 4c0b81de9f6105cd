#!/usr/bin/env python3
"""check-1e throughput with the console open (polling the journal) against without, same run.

Usage: benches/console.py [SECONDS]   (default 5; needs wrk, taskset, node, chromium and
`npm ci` in tests/browser)

The sandbox runs with one worker pinned to CPU 0; wrk (16 keep-alive connections) and the
headless chromium holding the console on the live journal run on CPU 1. Each round measures
without the console, then with it; printed are the figures and the median of the ratios.
"""
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import perf  # noqa: E402


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bins"], cwd=perf.ROOT, check=True)
    work = Path(perf.tempfile.mkdtemp())
    scenario, check_1e = perf.check_1e_setup(work)
    sandbox = [str(perf.TARGET / "issuer-sandbox"), "serve", "--bind", "127.0.0.1:PORT",
               "--scenario", str(scenario)]
    ratios = []
    for n in range(perf.ROUNDS):
        with perf.Server(sandbox, ready="/__admin/health") as server:
            target = server.url + "/identity/bankcard/check-1e"
            without = perf.wrk(target, check_1e)
            tab = subprocess.Popen(["taskset", "-c", "1", "node", str(perf.ROOT / "benches/console_tab.mjs"),
                                    server.url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert tab.stdout.readline().strip() == "open"
            opened = perf.wrk(target, check_1e)
            tab.stdin.close()
            tab.wait()
        ratios.append(opened / without)
        print(f"round {n + 1}: without {without:,.0f} req/s, console open {opened:,.0f} req/s, "
              f"ratio {opened / without:.2f}")
    print(f"check-1e with the console open / without: median ratio {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
