#!/usr/bin/env python3
"""Memory held by the server after requests whose bodies decrypt into huge JSON trees.

Usage: benches/journal_rss.py [BINARY] [REQUESTS]   (default target/release/issuer-sandbox, 1000)

Each request is a Pagsmile query-card-info whose biz_data is `{"card_token": [0, 0, ... 32,000
zeros]}`: 64 KB of text that parses into 32,000 JSON numbers. The sandbox refuses it (40002),
but journals it. The requests are sealed beforehand (by BINARY's own `pagsmile seal`, with the
public demo app_id and platform key: anyone can send them). Prints the server's resident memory
(VmRSS) after start, after the requests, and after `DELETE /__admin/requests`, with the
journal's own figures from /__admin/health.
"""
import http.client
import json
import socket
import subprocess
import sys
import time

BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/issuer-sandbox"
REQUESTS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    biz = json.dumps({"card_token": [0] * 32_000}).encode()
    sealed = [
        subprocess.run([BINARY, "pagsmile", "seal", "--request-id", f"RSS{n:06d}"],
                       input=biz, capture_output=True, check=True).stdout
        for n in range(REQUESTS)
    ]
    port = free_port()
    server = subprocess.Popen([BINARY, "serve", "--bind", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        connection = None
        for _ in range(400):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port)
                connection.request("GET", "/__admin/health")
                connection.getresponse().read()
                break
            except OSError:
                time.sleep(0.025)
        started = rss_mib(server.pid)
        codes = {}
        for body in sealed:
            connection.request("POST", "/issuing/card/query-card-info", body=body,
                               headers={"Content-Type": "application/json"})
            answer = json.loads(connection.getresponse().read())
            codes[answer.get("code")] = codes.get(answer.get("code"), 0) + 1
        after = rss_mib(server.pid)
        connection.request("GET", "/__admin/health")
        health = json.loads(connection.getresponse().read())
        connection.request("DELETE", "/__admin/requests")
        connection.getresponse().read()
        cleared = rss_mib(server.pid)
        print(f"binary: {BINARY}")
        print(f"answers: {codes}")
        print(f"journal: {json.dumps(health.get('journal'))}")
        print(f"RSS after start:            {started:8.1f} MiB")
        print(f"RSS after {REQUESTS} requests:    {after:8.1f} MiB")
        print(f"RSS after clearing journal: {cleared:8.1f} MiB")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
