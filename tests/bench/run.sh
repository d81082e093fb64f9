#!/usr/bin/env bash
# Runs every benchmark side by side with its peers and writes BENCHMARKS.md (about 10 minutes).
#   tests/bench/run.sh                  full run → BENCHMARKS.md
#   BENCH_QUICK=1 tests/bench/run.sh    one short pass of each (the test command's smoke test)
#                                       → target/bench/BENCHMARKS.quick.md
# Needs what tests/run-all.sh installs (.venv with moto, the wasm target); the full run also
# builds the arm64 Lambda zips with cargo-lambda (installed into .venv from PyPI if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
export MOTO_SERVER="$PWD/.venv/bin/moto_server"
QUICK=${BENCH_QUICK:-0}
mkdir -p target/bench
rm -f target/bench/*.json
say() { echo "bench: $*" >&2; }

say "edge bundle"
python3 edge-signer/bundle.py --key-file shared/testdata/keyring.json --out target/lambda/edge-signer-local >/dev/null

say "edge: the real bundle vs the node:crypto peer (Node)"
node edge-signer/node/bench/edge.bench.mjs > target/bench/edge.json

say "CloudFront Function: per-request CPU under njs and Node, size (the same realistic request)"
python3 edge-signer/cloudfront-function/bench/function_bench.py "$([ "$QUICK" = 1 ] && echo 200 || echo 5000)" > target/bench/cloudfront_function.json

say "edge cold: a new container's first signed request, ours vs today's design (moto; with and without a CPU limit)"
node edge-signer/node/bench/cold.bench.mjs "$([ "$QUICK" = 1 ] && echo 2 || echo 15)" > target/bench/cold_edge.json

say "criterion: core, authorizer handler and the seed designs"
if [ "$QUICK" = 1 ]; then
  # Each benchmark once, in the test profile the test command has already built (no LTO rebuild).
  cargo test --locked --benches -p originsig-core -p originsig-hmac-authorizer >&2
else
  cargo bench --locked -p originsig-core -p originsig-hmac-authorizer >&2
fi

say "Python HMAC verifier peer"
.venv/bin/python tests/bench/peer_authorizer.py "$([ "$QUICK" = 1 ] && echo 500 || echo 20000)" > target/bench/python_peer.json

say "cold start: authorizer binary vs Python boto3 peer (exec → first response, keys from moto)"
if [ "$QUICK" = 1 ]; then
  cargo build --locked --quiet -p originsig-hmac-authorizer --bin hmac-authorizer -p originsig-tests --bin bench-cold-start
  target/debug/bench-cold-start target/debug/hmac-authorizer 1 > target/bench/cold_start.json
else
  cargo build --locked --quiet --release -p originsig-hmac-authorizer --bin hmac-authorizer
  cargo build --locked --quiet -p originsig-tests --bin bench-cold-start
  target/debug/bench-cold-start target/release/hmac-authorizer 15 > target/bench/cold_start.json
fi

if [ "$QUICK" != 1 ]; then
  say "arm64 Lambda zips (cargo-lambda)"
  rustup target add aarch64-unknown-linux-gnu >/dev/null
  [ -x .venv/bin/cargo-lambda ] || .venv/bin/pip install --quiet cargo-lambda ziglang
  PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --arm64 --output-format zip -p originsig-hmac-authorizer --no-default-features --bin hmac-authorizer >&2
  PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --arm64 --output-format zip -p originsig-hmac-authorizer --no-default-features --features rotator --bin key-rotator >&2
fi

out=BENCHMARKS.md
[ "$QUICK" = 1 ] && out=target/bench/BENCHMARKS.quick.md
python3 tests/bench/report.py "$([ "$QUICK" = 1 ] && echo quick || echo full)" > "$out"
say "wrote $out"
