#!/usr/bin/env bash
# The README's main command: the whole chain on 127.0.0.1, no AWS account.
# Builds what it needs (the wasm32 target and bundle, the binaries), then runs local-chain.
#   tests/local-chain.sh [--secrets-manager] [--upstream URL] [--edge-port N] [--gateway-port N] [--quiet]
#                        [--edge lambda-edge|cloudfront-function]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { echo "local-chain.sh: node is required (the edge signer runs under Node.js)" >&2; exit 1; }
cff=false
if [[ " $* " == *" cloudfront-function "* || " $* " == *"--edge=cloudfront-function"* ]]; then
  cff=true
  command -v njs >/dev/null || { echo "local-chain.sh: --edge cloudfront-function runs the function under njs: apt-get install njs" >&2; exit 1; }
fi
if ! $cff; then
  # The Lambda@Edge bundle (a CloudFront Function edge needs neither the wasm nor the SDK).
  rustup target add wasm32-unknown-unknown >/dev/null
  cargo build --locked --quiet -p originsig-edge-signer --target wasm32-unknown-unknown --profile wasm
fi
cargo build --locked --quiet -p originsig-hmac-authorizer --bins -p originsig-tests --bin local-chain
if [[ " $* " == *" --secrets-manager "* ]]; then
  if ! cmp -s tests/requirements.txt .venv/.requirements 2>/dev/null; then
    python3 -m venv .venv && .venv/bin/pip install --quiet -r tests/requirements.txt && cp tests/requirements.txt .venv/.requirements
  fi
  $cff || [ -d node_modules/@aws-sdk/client-secrets-manager ] || npm ci --no-audit --no-fund --loglevel=error
  export MOTO_SERVER="$PWD/.venv/bin/moto_server"
fi
exec target/debug/local-chain "$@"
