#!/usr/bin/env python3
"""Build the CloudFront Functions signer: function.js with its configuration baked in.

A CloudFront Function has no environment and sees neither the origin's domain nor its origin
path, so what it signs for is written into the code, as bundle.py writes the Lambda@Edge
config.json:

  --origin-domain DOMAIN          the API's domain: the Host the API will see (CloudFront sends
                                  the origin's own domain with the AllViewerExceptHostHeader
                                  origin request policy) and the host that is signed
  --gateway-path-prefix PREFIX    what API Gateway shows before the uri: the stage of an
                                  execute-api origin (/prod), "" for $default (SPEC.md §4.2)
  --api-kind http_api|rest_api    HTTP APIs decode the path twice, REST APIs keep its encoding
  --kvs-key KEY                   the KeyValueStore item holding the signing key
  --retry-after SECS              Retry-After of the 503 answered without a key

Full-line comments and indentation are removed (code lines are kept as written); the result
must fit CloudFront's 10 KB function size limit, which this script checks.

Examples:
  edge-signer/cloudfront-function/build.py --origin-domain abc123.execute-api.eu-west-1.amazonaws.com --gateway-path-prefix /prod
  edge-signer/cloudfront-function/build.py --origin-domain api.example.com --gateway-path-prefix "" --out fn.js
"""

import argparse
import importlib.util
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "function.js")
# The one KeyValueStore item the signer reads (the rotation writes it; docs/cloudfront-functions.md).
# Its one source is infra/kvs-item-key.txt, which the Rust writer (hmac-authorizer/src/store/kvs.rs
# KVS_ITEM_KEY) includes too.
with open(os.path.join(HERE, "..", "..", "infra", "kvs-item-key.txt"), encoding="utf-8") as _f:
    DEFAULT_KVS_KEY = _f.read().strip()
# CloudFront Functions quota: function size (docs: "Quotas - Amazon CloudFront", functions).
MAX_FUNCTION_BYTES = 10 * 1024
# KeyValueStore quota: key size (docs: "Quotas - Amazon CloudFront", key value stores).
MAX_KVS_KEY_BYTES = 512
CONFIG_RE = re.compile(r"/\*config\*/.*?/\*end\*/")

# The Lambda@Edge bundle's rules, not a second copy: the path-prefix pattern and the timing
# model (infra/timing.json).
_spec = importlib.util.spec_from_file_location("bundle", os.path.join(os.path.dirname(HERE), "bundle.py"))
bundle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bundle)


def host(text):
    """SPEC.md §3.1: one trailing dot removed, 1-253 of A-Z a-z 0-9 . -, lowercased."""
    value = text[:-1] if text.endswith(".") else text
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", value):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a host name (1-253 letters, digits, dots and hyphens; no scheme, port or path)")
    return value.lower()


def path_prefix(text):
    if not bundle.PATH_PREFIX_RE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} must be \"\" or a path such as /prod (no trailing slash, no ? or #)")
    return text


def kvs_key(text):
    if not text or len(text.encode()) > MAX_KVS_KEY_BYTES:
        raise argparse.ArgumentTypeError(f"the KeyValueStore key must be 1-{MAX_KVS_KEY_BYTES} bytes")
    return text


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="edge-signer/cloudfront-function/build.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--origin-domain", type=host, required=True, help="the API's domain name (signed, and the Host it sees)")
    parser.add_argument("--gateway-path-prefix", type=path_prefix, required=True,
                        help="what API Gateway shows before the uri: /STAGE for an execute-api origin, \"\" for $default")
    parser.add_argument("--api-kind", choices=("http_api", "rest_api"), default="http_api", help="(default %(default)s)")
    parser.add_argument("--kvs-key", type=kvs_key, default=DEFAULT_KVS_KEY, help="(default %(default)s)")
    parser.add_argument("--retry-after", type=bundle.positive_int, default=bundle.TIMING["edgeRetryAfterSecs"], metavar="SECS",
                        help="Retry-After of the 503 without a key (default %(default)s, infra/timing.json)")
    parser.add_argument("--out", help="write the function here (default: standard output)")
    return parser.parse_args(argv)


def assemble(config):
    """function.js with `config` baked in, full-line comments and indentation removed."""
    with open(SOURCE, encoding="utf-8") as f:
        source = f.read()
    baked, count = CONFIG_RE.subn(lambda _m: json.dumps(config, separators=(",", ":")), source)
    if count != 1:
        raise SystemExit(f"{SOURCE}: expected one /*config*/…/*end*/ block, found {count}")
    lines = []
    for line in baked.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("//"):
            lines.append(stripped)
    return "\n".join(lines) + "\n"


def main(argv):
    args = parse_args(argv)
    code = assemble({
        "host": args.origin_domain,
        "pathPrefix": args.gateway_path_prefix,
        "apiKind": args.api_kind,
        "kvsKey": args.kvs_key,
        "retryAfterSeconds": args.retry_after,
    })
    size = len(code.encode("utf-8"))
    if size > MAX_FUNCTION_BYTES:
        raise SystemExit(f"the function is {size} bytes; CloudFront Functions allow {MAX_FUNCTION_BYTES}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(code)
        print(f"{args.out}: {size} bytes", file=sys.stderr)
    else:
        sys.stdout.write(code)


if __name__ == "__main__":
    main(sys.argv[1:])
