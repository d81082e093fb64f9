#!/usr/bin/env bash
# Deploys infra/template.yaml to us-east-1 with the values of infra/deploy.env (run
# infra/build.sh first). Needs the AWS SAM CLI (pip install aws-sam-cli) and AWS credentials.
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; source infra/deploy.env; set +a
IFS=, read -r REPLICA1 REPLICA2 _ <<< "${REPLICA_REGIONS},,"
# Timings left empty in deploy.env keep the template's defaults (the timing model's).
timing=()
[ -n "${EDGE_CACHE_TTL_SECONDS:-}" ] && timing+=(EdgeCacheTtlSeconds="$EDGE_CACHE_TTL_SECONDS")
[ -n "${EDGE_MAX_STALE_SECONDS:-}" ] && timing+=(EdgeMaxStaleSeconds="$EDGE_MAX_STALE_SECONDS")
[ -n "${AUTHORIZER_CACHE_TTL_SECONDS:-}" ] && timing+=(AuthorizerCacheTtlSeconds="$AUTHORIZER_CACHE_TTL_SECONDS")
[ -n "${MAX_AGE_SECONDS:-}" ] && timing+=(MaxAgeSeconds="$MAX_AGE_SECONDS")
sam deploy --template-file infra/template.yaml --stack-name "$STACK_NAME" --region us-east-1 \
  --capabilities CAPABILITY_IAM --resolve-s3 --no-fail-on-empty-changeset \
  --parameter-overrides \
    SecretName="$SECRET_NAME" ReplicaRegion1="$REPLICA1" ReplicaRegion2="$REPLICA2" \
    HttpApiId="$HTTP_API_ID" OriginPath="$ORIGIN_PATH" \
    "${timing[@]}" RotationSchedule="$ROTATION_SCHEDULE"
aws cloudformation describe-stacks --stack-name "$STACK_NAME" --region us-east-1 --query 'Stacks[0].Outputs' --output table
