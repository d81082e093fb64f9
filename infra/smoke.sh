#!/usr/bin/env bash
# After infra/deploy.sh ENV: checks the deployment from the outside (needs curl).
#   through CloudFront                         → 2xx (the signer signed, the authorizer allowed)
#   the API directly, no x-originsig           → 401 (API Gateway, authorizer not invoked)
#   the API directly, a forged x-originsig     → 403 (the authorizer denied)
# "Directly" is the rotator's check URL (output RotatorCheckUrl: origin, origin path and the
# RotatorCheckPath health route), the same route the scheduled rotation checks a new key on;
# a stack from before that output falls back to DirectApiUrl.
# With an existing distribution, pass the URL to call through CloudFront: infra/smoke.sh ENV URL.
#
#   infra/smoke.sh ENV [CLOUDFRONT_URL]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ $# -ge 1 ] || { echo "usage: infra/smoke.sh ENV [CLOUDFRONT_URL]   (ENV: an environment of infra/samconfig.toml)" >&2; exit 2; }
env=$1
ensure_sam
read -r api_stack api_region < <(deploy_config stack "$env")
read -r edge_stack edge_region < <(deploy_config stack "$env-edge")
cloudfront_url=${2:-$(stack_output "$edge_stack" "$edge_region" CloudFrontUrl)}
direct_url=$(stack_output "$api_stack" "$api_region" RotatorCheckUrl)
[ -n "$direct_url" ] || direct_url=$(stack_output "$api_stack" "$api_region" DirectApiUrl)
[ -n "$cloudfront_url" ] || { echo "smoke: no CloudFrontUrl output (existing distribution): pass the URL" >&2; exit 2; }
forged="v2;t=$(date +%s);k=forged;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

failed=0
check() {  # check WHAT EXPECTED_PATTERN CURL_ARGS...
  local what=$1 expected=$2; shift 2
  local status
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@" || echo "no answer")
  if [[ "$status" =~ ^($expected)$ ]]; then
    echo "ok    $what: $status"
  else
    echo "FAIL  $what: $status, expected $expected" ; failed=1
  fi
}
check "through CloudFront ($cloudfront_url)" '2[0-9][0-9]' "$cloudfront_url"
check "direct, no signature ($direct_url)" 401 "$direct_url"
check "direct, forged signature" 403 -H "x-originsig: $forged" "$direct_url"
exit "$failed"
