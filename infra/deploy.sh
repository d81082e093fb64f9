#!/usr/bin/env bash
# Deploys one environment of infra/samconfig.toml: first the API-region stack
# (infra/api-region.yaml, in the section's region), then the us-east-1 edge stack (infra/edge.yaml)
# with its key and origin parameters taken from the first stack's outputs. Run infra/build.sh ENV
# first: the edge bundle must have been built for the same values (checked before deploying).
# Needs AWS credentials; installs the pinned SAM CLI into .venv-sam. No AWS CLI.
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
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "==> $api_stack in $api_region (keys, authorizer, rotator, alarms)"
(cd infra && sam deploy --config-env "$env")
sam list stack-outputs --stack-name "$api_stack" --region "$api_region" --output json > "$tmp/api-outputs.json"

# The edge stack's parameters: its own section + the API-region stack's outputs, checked against
# the built bundle's config.json.
deploy_config edge-parameters "$env" "$tmp/api-outputs.json" "$tmp/edge-parameters.yaml"
read -r edge_stack edge_region < <(deploy_config stack "$env-edge")
echo "==> $edge_stack in $edge_region (edge signer, distribution)"
(cd infra && sam deploy --config-env "$env-edge" --parameter-overrides "file://$tmp/edge-parameters.yaml")

sam list stack-outputs --stack-name "$api_stack" --region "$api_region" --output table
sam list stack-outputs --stack-name "$edge_stack" --region "$edge_region" --output table
# What is left to do, with this deployment's values (docs/your-api.md).
sam list stack-outputs --stack-name "$api_stack" --region "$api_region" --output json > "$tmp/api-outputs.json"
sam list stack-outputs --stack-name "$edge_stack" --region "$edge_region" --output json > "$tmp/edge-outputs.json"
deploy_config next-steps "$env" "$tmp/api-outputs.json" "$tmp/edge-outputs.json"
