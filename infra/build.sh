#!/usr/bin/env bash
# Builds every deployable artifact from infra/deploy.env:
#   target/lambda/edge-signer/edge-signer.zip   (config baked in: secret, region, replicas, TTLs)
#   target/lambda/hmac-authorizer/bootstrap.zip (arm64, cargo-lambda)
#   target/lambda/key-rotator/bootstrap.zip     (arm64, cargo-lambda)
# Needs: rustup, python3, and cargo-lambda + zig (installed into .venv from PyPI if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; source infra/deploy.env; set +a
rustup target add wasm32-unknown-unknown aarch64-unknown-linux-gnu >/dev/null
timing=()
[ -n "${EDGE_CACHE_TTL_SECONDS:-}" ] && timing+=(--cache-ttl "$EDGE_CACHE_TTL_SECONDS")
[ -n "${EDGE_MAX_STALE_SECONDS:-}" ] && timing+=(--max-stale "$EDGE_MAX_STALE_SECONDS")
python3 edge-signer/bundle.py --secret-id "$SECRET_NAME" --region us-east-1 \
  --replica-regions "$REPLICA_REGIONS" "${timing[@]}"
[ -x .venv/bin/cargo-lambda ] || { python3 -m venv .venv && .venv/bin/pip install --quiet cargo-lambda ziglang; }
PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --arm64 --output-format zip --bin hmac-authorizer --bin key-rotator
ls -l target/lambda/edge-signer/edge-signer.zip target/lambda/hmac-authorizer/bootstrap.zip target/lambda/key-rotator/bootstrap.zip
