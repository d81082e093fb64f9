#!/usr/bin/env bash
# Deploys one environment of infra/samconfig.toml: first the API-region stack
# (infra/api-region.yaml, in the section's region), then the us-east-1 edge stack (infra/edge.yaml)
# with its key and origin parameters taken from the first stack's outputs. Run infra/build.sh ENV
# first: the edge bundle must have been built for the same values (checked before deploying).
# Needs AWS credentials; installs the pinned SAM CLI into .venv-sam. No AWS CLI.
#
# With EdgeKind = "cloudfront-function" in [ENV-edge]: the function is built for the API-region
# stack's OriginDomain / path prefix / API kind (edge-signer/cloudfront-function/build.py) and put
# into the edge template (infra/cff_template.py → infra/edge.rendered.yaml: CloudFormation takes
# function code only inline); after the edge stack, the key value store it creates gets AWSCURRENT
# (`originsig rotate --kvs-arn`, only when the store does not hold it yet: no rotation), and the
# API-region stack is deployed again with KeyValueStoreArn, so the rotator writes the store at every
# promotion. Needs the CLI (infra/build.sh ENV cli).
#
#   infra/deploy.sh ENV
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ $# -eq 1 ] || { echo "usage: infra/deploy.sh ENV   (an environment of infra/samconfig.toml; build it first: infra/build.sh ENV)" >&2; exit 2; }
env=$1
ensure_sam
deploy_config check "$env"
read -r api_stack api_region < <(deploy_config stack "$env")
edge_kind=$(deploy_config edge-kind "$env")
# ORIGINSIG_CLI replaces the CLI (infra/test_template.py runs this script against a stand-in).
cli=${ORIGINSIG_CLI:-$ROOT/target/release/originsig}
if [ "$edge_kind" = cloudfront-function ] && [ ! -x "$cli" ]; then
  echo "EdgeKind cloudfront-function: the deploy copies the key into the key value store with $cli; build it: infra/build.sh $env cli" >&2
  exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "==> $api_stack in $api_region (keys, authorizer, rotator, alarms)"
# Its section's parameters, and the edge section's GatewayPathPrefix (the rotator signs its check as
# the edge signs: one value, set in [ENV-edge]).
deploy_config api-parameters "$env" "$tmp/api-parameters.yaml"
(cd infra && sam deploy --config-env "$env" --parameter-overrides "file://$tmp/api-parameters.yaml")
sam list stack-outputs --stack-name "$api_stack" --region "$api_region" --output json > "$tmp/api-outputs.json"

# The edge stack's parameters: its own section + the API-region stack's outputs, checked against
# the built bundle's config.json.
deploy_config edge-parameters "$env" "$tmp/api-outputs.json" "$tmp/edge-parameters.yaml"
read -r edge_stack edge_region < <(deploy_config stack "$env-edge")
edge_template=()
if [ "$edge_kind" = cloudfront-function ]; then
  # The function signs for what the API sees, which it cannot read at the edge: built now, from
  # the API-region stack's outputs, then inlined into a copy of the edge template.
  mapfile -t function_args < <(deploy_config function-args "$env" "$tmp/api-outputs.json")
  mkdir -p target/lambda/cloudfront-function
  python3 edge-signer/cloudfront-function/build.py "${function_args[@]}" --out target/lambda/cloudfront-function/function.js
  python3 infra/cff_template.py --code target/lambda/cloudfront-function/function.js infra/edge.rendered.yaml
  edge_template=(--template-file edge.rendered.yaml)
fi
echo "==> $edge_stack in $edge_region (edge signer: $edge_kind, distribution)"
(cd infra && sam deploy --config-env "$env-edge" "${edge_template[@]}" --parameter-overrides "file://$tmp/edge-parameters.yaml")

if [ "$edge_kind" = cloudfront-function ]; then
  kvs_arn=$(stack_output "$edge_stack" "$edge_region" KeyValueStoreArn)
  secret_arn=$(stack_output "$api_stack" "$api_region" SecretArn)
  [ -n "$kvs_arn" ] && [ -n "$secret_arn" ] || { echo "the stacks have no KeyValueStoreArn / SecretArn output" >&2; exit 3; }
  # A new store is empty (the function answers 503 until it holds the key). `rotate --kvs-arn`
  # finishes a promotion the store missed and stops there; run only then, it never rotates. The
  # edge stack's store is the one the edge reads: it replaces any store recorded on the secret
  # (tag originsig:kvs-arn), which later commands without --kvs-arn and the rotator hold to.
  holds=$("$cli" status --secret-id "$secret_arn" --region "$api_region" --kvs-arn "$kvs_arn" --output json \
    | "$SAM_VENV/bin/python" -c 'import json,sys; print(str((json.load(sys.stdin).get("keyValueStore") or {}).get("matchesCurrent", False)).lower())')
  if [ "$holds" != true ]; then
    echo "==> the key value store gets AWSCURRENT"
    "$cli" rotate --secret-id "$secret_arn" --region "$api_region" --kvs-arn "$kvs_arn" --replace-recorded-kvs
  fi
  if [ "$(deploy_config parameter "$env" KeyValueStoreArn)" != "$kvs_arn" ]; then
    echo "==> $api_stack again: the rotator writes $kvs_arn at every promotion"
    deploy_config api-parameters "$env" "$kvs_arn" "$tmp/api-parameters.yaml"
    (cd infra && sam deploy --config-env "$env" --parameter-overrides "file://$tmp/api-parameters.yaml")
    echo "set KeyValueStoreArn = \"$kvs_arn\" in [$env.deploy.parameters] of infra/samconfig.toml: a deploy without it leaves the rotator without the store, and its rotations fail (KeyValueStoreMismatch) until this step"
  fi
fi

sam list stack-outputs --stack-name "$api_stack" --region "$api_region" --output table
sam list stack-outputs --stack-name "$edge_stack" --region "$edge_region" --output table
# What is left to do, with this deployment's values (docs/your-api.md).
sam list stack-outputs --stack-name "$api_stack" --region "$api_region" --output json > "$tmp/api-outputs.json"
sam list stack-outputs --stack-name "$edge_stack" --region "$edge_region" --output json > "$tmp/edge-outputs.json"
deploy_config next-steps "$env" "$tmp/api-outputs.json" "$tmp/edge-outputs.json"
