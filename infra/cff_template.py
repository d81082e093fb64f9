#!/usr/bin/env python3
"""The edge template with the CloudFront function's code in it.

CloudFormation takes a CloudFront function's code only inline (`AWS::CloudFront::Function`
`FunctionCode`), and neither `sam package` nor `cloudformation package` uploads it from a file.
infra/edge.yaml therefore carries a placeholder that answers 503 and says what to do; this
writes a copy of the template, next to it (relative CodeUri paths keep working), with the built
function (`target/lambda/cloudfront-function/function.js`, the cff build's output) in its place.

    python3 infra/cff_template.py [--code PATH] [OUT]      (default OUT: infra/edge.rendered.yaml)

The code goes in as one double-quoted scalar (JSON string syntax is valid YAML), so no character
of it can change the template's structure. Refused: a missing file, an empty one, one over the
10 KB function size limit (CloudFront Developer Guide, "Quotas": function size 10 KB), and a
template whose placeholder is not found exactly once.
"""

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE = os.path.join(ROOT, "infra", "edge.yaml")
CODE = os.path.join(ROOT, "target", "lambda", "cloudfront-function", "function.js")
OUT = os.path.join(ROOT, "infra", "edge.rendered.yaml")
MAX_FUNCTION_BYTES = 10 * 1024
MARKER = "// originsig:function.js"
# The placeholder: the `FunctionCode: |` block scalar whose first line is the marker, up to the
# next line indented less than its content.
PLACEHOLDER = re.compile(
    r"^(?P<indent> +)FunctionCode: \|\n(?P<body>(?P<inner>(?P=indent) +)" + re.escape(MARKER) + r".*\n(?:(?P=inner).*\n|\n)*)",
    re.MULTILINE,
)


class RenderProblem(Exception):
    pass


def render(template, code):
    """`template` (edge.yaml's text) with the placeholder replaced by `code`."""
    size = len(code.encode("utf-8"))
    if size == 0:
        raise RenderProblem("the function code is empty")
    if size > MAX_FUNCTION_BYTES:
        raise RenderProblem(f"the function is {size} bytes, over CloudFront's {MAX_FUNCTION_BYTES}-byte limit")
    if MARKER in code:
        raise RenderProblem("the code is the template's placeholder, not a built function")
    found = list(PLACEHOLDER.finditer(template))
    if len(found) != 1:
        raise RenderProblem(f"expected the FunctionCode placeholder once in the template, found it {len(found)} times")
    match = found[0]
    replacement = f"{match['indent']}FunctionCode: {json.dumps(code)}\n"
    return template[: match.start()] + replacement + template[match.end():]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", default=CODE, help="the built function (default: %(default)s)")
    parser.add_argument("out", nargs="?", default=OUT, help="where to write the template (default: %(default)s)")
    args = parser.parse_args(argv[1:])
    try:
        with open(args.code, encoding="utf-8") as f:
            code = f.read()
    except OSError as e:
        sys.exit(f"cff_template: {args.code}: {e.strerror}; build the CloudFront function first (infra/build.sh)")
    with open(TEMPLATE, encoding="utf-8") as f:
        template = f.read()
    try:
        rendered = render(template, code)
    except RenderProblem as e:
        sys.exit(f"cff_template: {e}")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(rendered)
    print(f"wrote {args.out} ({len(code.encode('utf-8'))} bytes of function code)")


if __name__ == "__main__":
    main(sys.argv)
