"""Benchmark peer: an HTTP API authorizer handler in Python (event JSON in, response JSON out)
over the same protocol, built on the spec's reference implementation (hmac.compare_digest).

    python3 tests/bench/peer_authorizer.py ITERATIONS   → prints {"nsPerCall": …}
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "testdata"))
import reference as ref  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
RING = ref.load_ring(os.path.join(ROOT, "shared", "testdata", "keyring.json"))  # cached, like ours


def handler(event_json):
    event = json.loads(event_json)
    context = event["requestContext"]
    try:
        target = ref.gateway_target(context["http"]["method"], context["domainName"], event["rawPath"], event.get("rawQueryString", ""))
        value = event["headers"].get("x-originsig")
        kid, role, skew = ref.verify([] if value is None else value.split(","), target, RING, int(time.time()))
        return json.dumps({"isAuthorized": True, "context": {"keyId": kid, "skewSeconds": skew}})
    except ref.Rejected:
        return json.dumps({"isAuthorized": False, "context": {}})


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with open(os.path.join(ROOT, "hmac-authorizer", "testdata", "events", "http-api-v2.json"), encoding="utf-8") as f:
        event = json.load(f)
    kid, key = next((k, v[1]) for k, v in RING.items() if v[0] == "current")
    target = ref.gateway_target("GET", event["requestContext"]["domainName"], event["rawPath"], event["rawQueryString"])
    _, event["headers"]["x-originsig"] = ref.sign(target, kid, key, int(time.time()))
    text = json.dumps(event)
    assert json.loads(handler(text))["isAuthorized"]
    for _ in range(iterations // 10):
        handler(text)
    best = None
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(iterations):
            handler(text)
        per_call = (time.perf_counter_ns() - start) / iterations
        best = per_call if best is None else min(best, per_call)
    print(json.dumps({"nsPerCall": best, "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
