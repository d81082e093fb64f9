#!/usr/bin/env bash
# Builds every deployable artifact for one environment of infra/samconfig.toml (default: default):
#   target/lambda/edge-signer/edge-signer.zip   (config baked in: secret, region, replicas, timings)
#   target/lambda/hmac-authorizer/bootstrap.zip (arm64, cargo-lambda)
#   target/lambda/key-rotator/bootstrap.zip     (arm64, cargo-lambda)
# Needs: rustup, python3, node/npm. Installs the SAM CLI (.venv-sam) and cargo-lambda + zig (.venv)
# from PyPI when missing.
#
#   infra/build.sh [ENV]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
env=${1:-default}
ensure_sam
deploy_config check "$env" >/dev/null
mapfile -t bundle_args < <(deploy_config bundle-args "$env")
rustup target add wasm32-unknown-unknown aarch64-unknown-linux-gnu >/dev/null
python3 edge-signer/bundle.py "${bundle_args[@]}"
[ -x .venv/bin/cargo-lambda ] || { python3 -m venv .venv && .venv/bin/pip install --quiet cargo-lambda ziglang; }
PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --arm64 --output-format zip --bin hmac-authorizer --bin key-rotator
ls -l target/lambda/edge-signer/edge-signer.zip target/lambda/hmac-authorizer/bootstrap.zip target/lambda/key-rotator/bootstrap.zip
