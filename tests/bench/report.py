"""Writes BENCHMARKS.md from the JSON results in target/bench/ (see tests/bench/run.sh)."""

import json
import os
import platform
import subprocess
import sys


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30

    def version(*cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[0]
        except (OSError, subprocess.CalledProcessError):
            return "not found"

    return (f"{os.cpu_count()} × {cpu}, {mem_gib:.0f} GiB, {platform.system()} {platform.release()}; "
            f"{version('rustc', '--version')}; node {version('node', '--version')}")


def verdict(ok):
    return "met" if ok else "**missed**"


def main(folder):
    edge = json.load(open(os.path.join(folder, "edge.json"), encoding="utf-8"))
    ratio = edge["oursNs"] / edge["peerNs"]
    rows = [
        ("edge handler per request (Node, event in → request out)", f"{edge['oursNs'] / 1000:.2f} µs",
         f"{edge['peerNs'] / 1000:.2f} µs (node:crypto peer)", f"{ratio:.2f}×", "≤ 1.0× the peer", verdict(ratio <= 1.0)),
        ("edge module load (import index.mjs: config, compile + instantiate)", f"{edge['loadMs']:.2f} ms",
         f"{edge['baselineMs']:.2f} ms before it: Node's ESM loader + node:fs", "", "≤ 5 ms", verdict(edge["loadMs"] <= 5)),
        ("edge WebAssembly compile + instantiate alone", f"{edge['instantiateMs']:.2f} ms", "", "", "≤ 5 ms",
         verdict(edge["instantiateMs"] <= 5)),
        ("`.wasm` size", f"{edge['wasmBytes'] / 1000:.1f} KB", "", "", "≤ 100 KB", verdict(edge["wasmBytes"] <= 100_000)),
        ("edge zip size", f"{edge['zipBytes'] / 1000:.1f} KB", "", "", "≤ 150 KB", verdict(edge["zipBytes"] <= 150_000)),
    ]
    print("# Benchmarks\n")
    print("Written by `tests/bench/run.sh` from one run; medians. Ratios are ours / peer, measured side by side")
    print("in the same run (lower is better). Do not edit by hand: rerun the command.\n")
    print(f"Machine: {machine()}.\n")
    print("| what | ours | peer | ratio | target | |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\nEdge per-request: {edge['rounds']} alternating rounds of {edge['iterations']} requests each on a realistic")
    print("origin-request event (12 headers, origin path, UTF-8 path, 4 query pairs); module load and instantiate: medians")
    print("of fresh `node` processes (V8 caches compiled WebAssembly inside a process). The peer")
    print("(`edge-signer/node/bench/peer-node-crypto.mjs`) is an idiomatic JavaScript signer of the same protocol")
    print("using `node:crypto` and the engine's URI functions; a test checks it against every shared vector.")


if __name__ == "__main__":
    main(sys.argv[1])
