#!/usr/bin/env bash
# Deletes one environment's stacks: the us-east-1 edge stack first, then the API-region stack. The
# key secret is retained (DeletionPolicy: Retain): its ARN is printed with what to do with it, in
# `originsig` commands (no AWS CLI).
#
# Lambda@Edge: CloudFront keeps replicas of the function for a while after the distribution stops
# using it (usually a few hours), and until they are gone the function cannot be deleted, so the
# first delete of the edge stack ends DELETE_FAILED on EdgeSignerFunction. This script retries it
# every ORIGINSIG_TEARDOWN_RETRY_SECS (900) for up to ORIGINSIG_TEARDOWN_MAX_WAIT_SECS (28800);
# it is safe to stop and run again later. With an existing distribution, remove the signer's
# association from its cache behaviour first.
#
#   infra/teardown.sh ENV
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ $# -eq 1 ] || { echo "usage: infra/teardown.sh ENV   (an environment of infra/samconfig.toml)" >&2; exit 2; }
env=$1
retry_secs=${ORIGINSIG_TEARDOWN_RETRY_SECS:-900}
max_wait_secs=${ORIGINSIG_TEARDOWN_MAX_WAIT_SECS:-28800}
ensure_sam
read -r api_stack api_region < <(deploy_config stack "$env")
read -r edge_stack edge_region < <(deploy_config stack "$env-edge")

secret_arn=$(stack_output "$api_stack" "$api_region" SecretArn 2>/dev/null || true)

waited=0
until sam delete --stack-name "$edge_stack" --region "$edge_region" --no-prompts; do
  if [ "$waited" -ge "$max_wait_secs" ]; then
    echo "teardown: $edge_stack still cannot be deleted after ${waited}s (Lambda@Edge replicas remain)." >&2
    echo "teardown: run infra/teardown.sh $env again later; nothing else was deleted." >&2
    exit 1
  fi
  echo "teardown: $edge_stack not deleted yet: CloudFront is removing the Lambda@Edge replicas (usually a few hours)." >&2
  echo "teardown: retrying in ${retry_secs}s (waited ${waited}s of at most ${max_wait_secs}s; safe to stop and rerun)." >&2
  sleep "$retry_secs"
  waited=$((waited + retry_secs))
done

sam delete --stack-name "$api_stack" --region "$api_region" --no-prompts
echo "teardown: both stacks deleted."
if [ -n "$secret_arn" ]; then
  secret_name=$(deploy_config parameter "$env" SecretName)
  cat <<EOF
teardown: the key secret was kept on purpose: $secret_arn
  its keys:      target/release/originsig status --secret-id $secret_arn --region $api_region
  deploy again:  CloudFormation cannot create a secret whose name exists or is scheduled for deletion
                 (a deleted secret's name stays taken for its 7-30 day recovery window) and cannot import
                 one, so infra/deploy.sh $env with SecretName "$secret_name" would fail. Choose a new name:
                 python3 infra/configure.py --env $env --replace --secret-name $secret_name-2 ...
                 (or edit SecretName in infra/samconfig.toml), then infra/build.sh $env && infra/deploy.sh $env
  delete it:     in the Secrets Manager console ($api_region), once nothing needs its keys
EOF
fi
