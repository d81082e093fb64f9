#!/usr/bin/env bash
# Runs the benchmarks side by side with their peers and writes BENCHMARKS.md.
#   tests/bench/run.sh            full run (a few minutes)
#   BENCH_QUICK=1 tests/bench/run.sh   one short pass of each, as the test command's smoke test
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p target/bench
python3 edge-signer/bundle.py --key-file shared/testdata/keyring.json --out target/lambda/edge-signer-local >/dev/null
echo "edge: the real bundle vs the node:crypto peer" >&2
node edge-signer/node/bench/edge.bench.mjs > target/bench/edge.json
out=${BENCH_OUT:-BENCHMARKS.md}
[ "${BENCH_QUICK:-0}" = 1 ] && out=target/bench/BENCHMARKS.quick.md
python3 tests/bench/report.py target/bench > "$out"
echo "wrote $out" >&2
