#!/usr/bin/env bash
# Builds every deployable artifact for one environment of infra/samconfig.toml, and the CLI:
#   edge     target/lambda/edge-signer/edge-signer.zip   (config baked in: secret, region, replicas,
#            timings, path prefix, API kind: all from the ENV sections of infra/samconfig.toml)
#            With EdgeKind "cloudfront-function" in [ENV-edge] the bundle is still built (SAM packages
#            its CodeUri whatever the condition); the CloudFront function is built by infra/deploy.sh,
#            for the API-region stack's OriginDomain output, and needs the CLI (`cli`) to seed its store.
#   lambdas  target/lambda/hmac-authorizer/bootstrap.zip, target/lambda/key-rotator/bootstrap.zip
#            (arm64, cross-compiled with cargo-lambda + zig)
#   cli      target/release/originsig (the operator's CLI, for this machine)
# Needs: rustup, python3, node/npm. Installs the SAM CLI (.venv-sam) and cargo-lambda + zig (.venv)
# from PyPI when missing.
#
#   infra/build.sh ENV [edge|lambdas|cli ...]     (default: all three; the environments:
#                                                  python3 infra/deploy_config.py check)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
usage="usage: infra/build.sh ENV [edge|lambdas|cli ...]   (ENV: an environment of infra/samconfig.toml; write one with python3 infra/configure.py)"
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
env=$1
shift
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(edge lambdas cli)
for step in "${steps[@]}"; do
  case $step in edge | lambdas | cli) ;; *) echo "$usage" >&2; exit 2 ;; esac
done
ensure_sam
deploy_config check "$env" >/dev/null
built=()
for step in "${steps[@]}"; do
  case $step in
    edge)
      mapfile -t bundle_args < <(deploy_config bundle-args "$env")
      rustup target add wasm32-unknown-unknown >/dev/null
      python3 edge-signer/bundle.py "${bundle_args[@]}"
      built+=(target/lambda/edge-signer/edge-signer.zip)
      ;;
    lambdas)
      rustup target add aarch64-unknown-linux-gnu >/dev/null
      [ -x .venv/bin/cargo-lambda ] || { python3 -m venv .venv && .venv/bin/pip install --quiet cargo-lambda ziglang; }
      # One command per Lambda: built together, Cargo would unify their features and the
      # authorizer would link the rotator's crates (hmac-authorizer/tests/deps.rs).
      PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --arm64 --output-format zip -p originsig-hmac-authorizer --no-default-features --bin hmac-authorizer
      PATH="$PWD/.venv/bin:$PATH" cargo lambda build --release --arm64 --output-format zip -p originsig-hmac-authorizer --no-default-features --features rotator --bin key-rotator
      built+=(target/lambda/hmac-authorizer/bootstrap.zip target/lambda/key-rotator/bootstrap.zip)
      ;;
    cli)
      cargo build --release --locked --bin originsig
      built+=(target/release/originsig)
      ;;
  esac
done
ls -l "${built[@]}"
echo "next: infra/deploy.sh $env   (the CLI: target/release/originsig --help)"
