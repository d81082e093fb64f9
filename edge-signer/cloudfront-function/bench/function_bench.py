#!/usr/bin/env python3
"""Per-request CPU of the CloudFront Functions signer under njs and under Node, and its size.

  python3 edge-signer/cloudfront-function/bench/function_bench.py [REQUESTS]   → one JSON object

Each engine runs the built function (build.py) through runtime/run.mjs's driver in a fresh
process: once with 1 request and once with REQUESTS (default 5000) of the same realistic viewer
request (the request edge.bench.mjs uses for the Lambda@Edge handler). CPU is the children's
user + system time (getrusage); per request = (CPU of the long run - CPU of the short run) /
(REQUESTS - 1), so process start and compilation cancel out. Median of 5 pairs, interleaved.
The driver builds a fresh event object per request (included, as CloudFront builds one too); CloudFront's engine is not njs, and its compute
utilization metric is the number AWS bills against.
"""

import json
import os
import resource
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
RUN = os.path.join(ROOT, "edge-signer", "cloudfront-function", "runtime", "run.mjs")
BUILD = os.path.join(ROOT, "edge-signer", "cloudfront-function", "build.py")
OUT = os.path.join(ROOT, "target", "bench", "cloudfront-function")


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def realistic_case(item):
    headers = {
        "host": "d111111abcdef8.cloudfront.net",
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "accept": "application/json",
        "accept-encoding": "gzip, deflate, br",
        "accept-language": "en-GB,en;q=0.9",
        "authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
        "cloudfront-viewer-country": "GB",
        "cloudfront-is-mobile-viewer": "false",
    }
    return {
        "method": "GET",
        "uri": "/api/v1/orders/12345/items/caf%C3%A9",
        "rawQuery": "limit=50&cursor=eyJpZCI6MTIzfQ%3D%3D&sort=desc&fields=id,name,price",
        "headers": {name: {"value": value} for name, value in headers.items()},
        "nowMs": 1763715900000,
        "kvs": {"originsig-current": item},
    }


def main(argv):
    requests = int(argv[0]) if argv else 5000
    os.makedirs(OUT, exist_ok=True)
    function = os.path.join(OUT, "function.js")
    subprocess.run([sys.executable, BUILD, "--origin-domain", "abc123defg.execute-api.us-east-1.amazonaws.com",
                    "--gateway-path-prefix", "/prod", "--out", function], check=True, capture_output=True)
    with open(os.path.join(ROOT, "shared", "testdata", "keyring.json"), encoding="utf-8") as f:
        item = json.dumps(json.load(f)["current"])
    case = realistic_case(item)
    files = {}
    for n in (1, requests):
        path = os.path.join(OUT, f"cases-{n}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump([dict(case, repeat=n)], f)
        files[n] = path
    commands = {}
    for engine in ("njs", "node"):
        prepared = subprocess.run(["node", RUN, "prepare", engine, function], check=True, capture_output=True, text=True)
        commands[engine] = json.loads(prepared.stdout)["command"]
    samples = {engine: [] for engine in commands}
    startup = {engine: [] for engine in commands}
    for _ in range(5):
        for engine, command in commands.items():
            cpu = {}
            for n, path in files.items():
                before = children_cpu()
                subprocess.run(command + [path], check=True, capture_output=True)
                cpu[n] = children_cpu() - before
            samples[engine].append((cpu[requests] - cpu[1]) / (requests - 1))
            startup[engine].append(cpu[1])
    with open(function, "rb") as f:
        size = len(f.read())
    print(json.dumps({
        "functionBytes": size,
        "requests": requests,
        "njsNsPerRequest": statistics.median(samples["njs"]) * 1e9,
        "nodeNsPerRequest": statistics.median(samples["node"]) * 1e9,
        "njsProcessOneRequestMs": statistics.median(startup["njs"]) * 1e3,
        "nodeProcessOneRequestMs": statistics.median(startup["node"]) * 1e3,
        "njsVersion": subprocess.run(["njs", "-v"], capture_output=True, text=True).stdout.strip(),
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
