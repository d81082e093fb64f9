# Shared by infra/*.sh: the pinned SAM CLI in .venv-sam (installed on first use from
# infra/requirements.txt) and the deploy configuration reader.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SAM_VENV="$ROOT/.venv-sam"
export SAM_CLI_TELEMETRY=0

ensure_sam() {
  if ! cmp -s "$ROOT/infra/requirements.txt" "$SAM_VENV/.requirements" 2>/dev/null; then
    echo "installing the SAM CLI into .venv-sam (infra/requirements.txt)" >&2
    python3 -m venv "$SAM_VENV"
    "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/infra/requirements.txt"
    cp "$ROOT/infra/requirements.txt" "$SAM_VENV/.requirements"
  fi
}

# ORIGINSIG_SAM replaces the sam binary (infra/test_template.py runs the scripts against a fake).
sam() { "${ORIGINSIG_SAM:-$SAM_VENV/bin/sam}" "$@"; }
deploy_config() { "$SAM_VENV/bin/python" "$ROOT/infra/deploy_config.py" "$@"; }

# stack_output STACK REGION KEY: one output's value of a deployed stack ("" when it has none).
stack_output() {
  sam list stack-outputs --stack-name "$1" --region "$2" --output json \
    | "$SAM_VENV/bin/python" -c 'import json,sys; print(next((o["OutputValue"] for o in json.load(sys.stdin) if o["OutputKey"] == sys.argv[1]), ""))' "$3"
}
