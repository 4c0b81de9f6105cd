#!/usr/bin/env python3
"""Proves a restructuring changed nothing on the wire: serves the default scenario (clock frozen)
from two binaries, sends both the same request sequence over all four providers and the control
API, and compares status, headers and body bytes.

    python3 tools/wire_compare.py NEW_BINARY OLD_BINARY

The servers run one after the other on the same port (answers carry URLs with it, some sealed).
KazePay and Pagsmile requests are sealed once (by NEW_BINARY's `seal` command) and the same bytes
go to both. The journal's wall-clock `time` and `latency_ms` are left out; JSON answers of the
control API are compared as JSON values (member order aside), field by field. Exits 1 on any
difference and prints it.
"""
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEW, OLD = sys.argv[1], sys.argv[2]
JSON = {"content-type": "application/json"}
ACEDATA = {**JSON, "authorization": "Bearer demo-acedata-token"}
ACEDATA_SCOPED = {**JSON, "authorization": "Bearer demo-acedata-lookup-only"}
KYC = {
    "email": "ana@example.com", "mobileNumber": "15659874544", "mobilePrefix": "60",
    "mobilePrefixCountry": "MY", "firstName": "Ana", "lastName": "Lima",
    "dateOfBirth": "1990-04-25", "addressLine": "12 Jalan Ampang", "city": "Kuala Lumpur",
    "countryCode": "MY", "postCode": "50450", "state": "Wilayah",
    "identificationType": "PASSPORT", "identificationNumber": "A563F186",
    "identificationExpiryDate": "2099-12-31",
}
CARD_TOKEN = {"card_token": "CT202611210000000001"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, scenario, port):
    process = subprocess.Popen(
        [binary, "serve", "--scenario", scenario, "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/__admin/health")
            return process
        except OSError:
            time.sleep(0.025)
    process.kill()
    sys.exit(f"{binary} did not start")


def send(port, method, path, headers, body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers)
    try:
        response = urllib.request.urlopen(request)
    except urllib.error.HTTPError as error:
        response = error
    headers = sorted((k.lower(), v) for k, v in response.headers.items()
                     if k.lower() not in ("date", "content-length"))
    return response.status, headers, response.read()


def comparable(path, body):
    """The control API's JSON as a value, without the journal's wall-clock fields."""
    if not path.startswith("/__admin/"):
        return body
    value = json.loads(body)
    for entry in value.get("requests", []) if isinstance(value, dict) else []:
        entry.pop("time", None)
        entry.pop("latency_ms", None)
    return value


def differences(a, b, where=""):
    """Where two JSON values differ, as `path: new != old` lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [line for key in sorted(set(a) | set(b))
                for line in differences(a.get(key), b.get(key), f"{where}.{key}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [line for i, (x, y) in enumerate(zip(a, b))
                for line in differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}"]


SEALED = {}


def seal(tool, args, plain):
    """The same sealed bytes for both servers."""
    key = (tool, *args, json.dumps(plain))
    if key not in SEALED:
        SEALED[key] = subprocess.run([NEW, tool, "seal", *args], input=json.dumps(plain).encode(),
                                     capture_output=True, check=True).stdout
    return SEALED[key]


def exchange(binary, scenario, port):
    """Serves `scenario` from `binary` and sends it the sequence; every (request, answer)."""
    server = start(binary, scenario, port)
    seen = []

    def both(method, path, headers=None, body=None):
        answer = send(port, method, path, headers or {}, body)
        seen.append(((method, path), answer))
        return answer

    def kazepay(request_no, api_code, plain):
        sealed = seal("kazepay", ["--api-code", api_code, "--request-no", request_no], plain)
        return both("POST", "/kazepay", JSON, sealed)

    try:
        both("POST", "/identity/bankcard/check-1e", ACEDATA, b'{"bank_card":"6222020200112233446"}')
        both("POST", "/identity/bankcard/check-2e", ACEDATA, json.dumps(
            {"bank_card": "6222020200112233446", "name": "张伟"}).encode())
        both("POST", "/identity/bankcard/check-2e", ACEDATA_SCOPED, b"{}")
        both("POST", "/identity/bankcard/check-1e", ACEDATA, b'{"bank_card":"12"}')
        both("POST", "/identity/bankcard/check-1e", ACEDATA, b"not json")
        both("POST", "/identity/bankcard/check-1e", JSON, b"{}")
        both("POST", "/identity/bankcard/check-3e", ACEDATA,
             b'{"bank_card":"6222020200112233446","name":"x","id_card":"1"}')

        stamp = str(int(time.time() * 1000))
        key = {"api-key": "demo-keysecure-api-key", "timestamp": stamp}
        token = json.loads(both("GET", "/open-api/v1/merchant/token", key)[2])["data"]["access_token"]
        both("GET", "/open-api/v1/merchant/token", {"api-key": "nope", "timestamp": stamp})
        both("GET", "/open-api/v1/merchant/token", {**key, "timestamp": "1"})
        authorised = {**key, **JSON, "access-token": token, "authorization": token}
        both("GET", "/open-api/v1/card/support/bins", authorised)
        both("POST", "/open-api/v1/cardholder/list", authorised, b'{"page":1,"size":10}')
        for body in [b'{"page":1,"size":10}', b'{"page":', b"[1]", b"null", b" \n"]:
            both("POST", "/open-api/v1/card/list", authorised, body)
        both("POST", "/open-api/v1/card/apply", authorised, b"{}")
        both("GET", "/open-api/v1/card/KC-none/private/info", authorised)

        kazepay("R0", "setUserKyc", KYC)
        kazepay("R1", "queryCard", {"cardID": "3377"})
        kazepay("R2", "ucardAssign", {"email": "nobody@example.com", "cardNumber": "4937240800070619"})
        kazepay("R3", "queryUcardKycStatus", {"email": "ana@example.com"})
        kazepay("R4", "queryCard", {})
        kazepay("R4", "queryCard", {})  # the same requestNo again
        both("POST", "/__admin/simulate/kyc", JSON, b'{"email":"ana@example.com","decision":"passed"}')
        kazepay("S0", "ucardAssign",
                {"email": "ana@example.com", "cardNumber": "4937240800070619", "autoActive": True})
        kazepay("S1", "queryCard", {"cardID": "3377"})
        kazepay("S2", "cardRecharge", {"cardID": "3377", "currency": "USD", "amount": 20.0})
        both("POST", "/__admin/clock/advance", JSON, b'{"by":"60s"}')
        kazepay("S3", "cardBalance", {"cardID": "3377", "currency": "USD"})

        for number, (path, plain) in enumerate([
                ("/issuing/card/query-card-balance", CARD_TOKEN),
                ("/issuing/card/query-card-info", CARD_TOKEN),
                ("/issuing/card/query-remaining-limit", CARD_TOKEN),
                ("/issuing/holder/query", {"holder_id": "20000001"}),
                ("/issuing/card/freeze", CARD_TOKEN),
                ("/issuing/card/query-card-info", {"card_token": "CT-none"})]):
            both("POST", path, JSON, seal("pagsmile", ["--request-id", f"P{number}"], plain))
        both("POST", "/issuing/card/freeze", JSON, b'{"garbage":1}')

        for path in ["/__admin/requests", "/__admin/state", "/__admin/credentials", "/__admin/faults"]:
            both("GET", path)
    finally:
        server.kill()
        server.wait()
    return seen


def main():
    scenario = (ROOT / "scenarios/default.yaml").read_text().replace(
        "name: default\n", "name: frozen\nclock: { start: 2026-11-21T00:00:00Z, frozen: true }\n", 1)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as file:
        file.write(scenario)
    port = free_port()
    try:
        new, old = exchange(NEW, file.name, port), exchange(OLD, file.name, port)
    finally:
        Path(file.name).unlink()
    different = 0
    for ((method, path), a), (_, b) in zip(new, old):
        if a[:2] != b[:2]:
            lines = [f"status/headers: {a[:2]} != {b[:2]}"]
        elif path.startswith("/__admin/"):
            lines = differences(comparable(path, a[2]), comparable(path, b[2]))
        else:
            lines = [] if a[2] == b[2] else [f"body: {a[2][:300]!r}\n    != {b[2][:300]!r}"]
        if lines:
            different += 1
            print(f"DIFFERENT {method} {path}")
            for line in lines:
                print(f"  {line}")
    print(f"{len(new) - different} identical, {different} different")
    sys.exit(1 if different else 0)


if __name__ == "__main__":
    main()
