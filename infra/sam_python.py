"""Run an infra/*.py script with the SAM CLI's Python, whatever `python3` started it.

The deploy configuration is read with SAM CLI's own parser, which lives in .venv-sam (its boto3 pin
conflicts with the test tools'). A first-time user runs `python3 infra/configure.py …` before
anything else exists, so each script calls `ensure()` first: without the SAM CLI importable, it
installs .venv-sam (infra/lib.sh's ensure_sam, pinned by infra/requirements.txt) and runs itself
again under .venv-sam/bin/python with the same arguments.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
# Set on the re-run: a second miss is a broken .venv-sam, not a first run.
RERUN = "ORIGINSIG_SAM_PYTHON_RERUN"


def ensure():
    try:
        import samcli  # noqa: F401  (the SAM CLI's own package)

        return
    except ImportError:
        pass
    if os.environ.get(RERUN):
        sys.exit(f"{SAM_PYTHON} has no SAM CLI: delete .venv-sam and run again (infra/requirements.txt)")
    # ensure_sam prints its progress on stderr; stdout stays the script's.
    subprocess.run(["bash", "-c", 'source "$1/infra/lib.sh" && ensure_sam', "ensure_sam", str(ROOT)],
                   check=True, stdout=sys.stderr)
    script = os.path.abspath(sys.argv[0])
    os.execve(SAM_PYTHON, [str(SAM_PYTHON), script, *sys.argv[1:]], dict(os.environ, **{RERUN: "1"}))
