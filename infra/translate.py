#!/usr/bin/env python3
"""Translate the SAM templates into the CloudFormation that CloudFormation will actually see.

cfn-lint checks AWS::Serverless::* resources only against the SAM schema; a property that is
valid SAM but invalid once translated (a rotator `Timeout: 1900`) passes it. This writes
<out>/<template>.json with aws-sam-translator (the library `sam deploy` uses), so cfn-lint and
checkov can read the translated templates too (tests/run-all.sh).

    .venv-sam/bin/python infra/translate.py OUT_DIR

Local CodeUri paths are replaced by an S3 location first, as `sam package` does.
"""

import copy
import json
import os
import sys

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Each in a region it deploys to: the API-region stack in a region other than us-east-1 on purpose.
TEMPLATES = {"api-region.yaml": "eu-west-1", "edge.yaml": "us-east-1"}


class NoManagedPolicies:
    """The templates name no managed policies by short name, so the translator needs no IAM lookup."""

    def load(self):
        return {}


def packaged(template):
    """The template as `sam package` would upload it: each local CodeUri becomes an S3 object."""
    template = copy.deepcopy(template)
    for name, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = f"s3://originsig-artifacts/{name}.zip"
    return template


def translate(path, region):
    # The translator reads the region (for ARNs) from the standard AWS environment.
    os.environ["AWS_DEFAULT_REGION"] = region
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    return transform(packaged(template), {}, NoManagedPolicies())


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for name, region in TEMPLATES.items():
        try:
            translated = translate(os.path.join(ROOT, "infra", name), region)
        except InvalidDocumentException as error:
            sys.exit(f"infra/{name}: {'; '.join(cause.message for cause in error.causes)}")
        target = os.path.join(out, name.replace(".yaml", ".json"))
        with open(target, "w", encoding="utf-8") as f:
            json.dump(translated, f, indent=1, sort_keys=True)
        print(f"infra/{name} -> {target}")


if __name__ == "__main__":
    main(sys.argv)
