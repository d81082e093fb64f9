#!/usr/bin/env python3
"""Build the Lambda@Edge bundle: target/lambda/edge-signer/ and edge-signer.zip inside it.

Lambda@Edge has no environment variables, so the configuration is baked into the bundle as
config.json. Exactly one key source:

  --secret-id ID --region REGION   read AWSCURRENT from Secrets Manager (production)
  --key-file PATH                  embed a key file in the bundle (local chain and tests only)

How the API presents the path to its authorizer (SPEC.md §4):

  --api-kind http_api|rest_api     HTTP APIs decode the path twice, REST APIs keep its encoding
  --gateway-path-prefix PREFIX     what API Gateway shows before the uri, when it is not the
                                   CloudFront origin path (custom domains: docs/existing-distribution.md, "Path prefix")

Examples:
  edge-signer/bundle.py --secret-id originsig/prod --region us-east-1 --replica-regions eu-west-1,ap-southeast-2
  edge-signer/bundle.py --key-file shared/testdata/keyring.json --out target/lambda/edge-signer-local
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WASM_NAME = "originsig_edge_signer.wasm"
WASM_BUILT = os.path.join(ROOT, "target", "wasm32-unknown-unknown", "wasm", WASM_NAME)
NODE_FILES = ("index.mjs",)
# The one npm package the bundle ships (signs the GetSecretValue call), as package-lock.json pins it.
AWS4_DIR = os.path.join(ROOT, "node_modules", "aws4")
# In a folder of its own with its own package.json, so Node loads it as CommonJS wherever the
# bundle sits (this repository's package.json says "type": "module").
AWS4_FILES = {name: f"aws4/{name}" for name in ("aws4.js", "lru.js", "LICENSE", "package.json")}
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
# "" or /segment[/segment...]: no trailing slash, no query or fragment (index.mjs checks the same).
PATH_PREFIX_RE = re.compile(r"^(/[^/?#]+)*$")
# The timing model's defaults (written by `originsig timing --json`; a Rust test keeps it current).
with open(os.path.join(ROOT, "infra", "timing.json"), encoding="utf-8") as _f:
    TIMING = json.load(_f)
# Fixed timestamp so the same inputs give the same zip, byte for byte.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be greater than 0")
    return value


def region(text):
    if not REGION_RE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an AWS region name such as us-east-1")
    return text


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="edge-signer/bundle.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--secret-id", help="Secrets Manager secret name or ARN holding the key (see SPEC.md §7)")
    source.add_argument("--key-file", help="key-ring or secret-value JSON file to embed (local use only)")
    parser.add_argument("--region", type=region, help="the secret's primary region (required with --secret-id)")
    parser.add_argument("--replica-regions", default="", help="comma-separated regions holding replicas of the secret; "
                        "an edge running in one of them reads its local replica")
    parser.add_argument("--cache-ttl", type=positive_int, default=TIMING["edgeCacheTtlSecs"], metavar="SECS",
                        help="read the key again after this long, before signing (in the background from half of it) "
                        "(default %(default)s)")
    parser.add_argument("--max-stale", type=positive_int, default=TIMING["edgeMaxStaleSecs"], metavar="SECS",
                        help="while Secrets Manager cannot be read, sign with the last key up to this age, then answer "
                        "503 (default %(default)s; the rotation guard waits this long after a promotion)")
    parser.add_argument("--refresh-retry", type=positive_int, default=TIMING["edgeRefreshRetrySecs"], metavar="SECS",
                        help="after a failed read, wait this long before the next attempt (default %(default)s)")
    parser.add_argument("--retry-after", type=positive_int, default=TIMING["edgeRetryAfterSecs"], metavar="SECS",
                        help="Retry-After of the 503 answer (default %(default)s)")
    parser.add_argument("--call-timeout", type=positive_int, default=TIMING["edgeCallTimeoutSecs"], metavar="SECS",
                        help="abandon a Secrets Manager call after this long (default %(default)s)")
    parser.add_argument("--api-kind", choices=("http_api", "rest_api"), default="http_api",
                        help="the kind of API Gateway API behind the distribution (default http_api): HTTP APIs "
                        "decode the path twice before the authorizer sees it, REST APIs keep its encoding")
    parser.add_argument("--gateway-path-prefix", metavar="PREFIX", default=None,
                        help="the path API Gateway shows before the uri, e.g. '' or /v1 (default: the CloudFront "
                        "origin path, right for an execute-api origin whose origin path is the stage). Run "
                        "'originsig doctor' after deploying to see which prefix your API shows")
    parser.add_argument("--out", default=os.path.join(ROOT, "target", "lambda", "edge-signer"),
                        help="output folder: new, empty, or a previous bundle, which is replaced as a whole "
                        "(default target/lambda/edge-signer)")
    parser.add_argument("--no-build", action="store_true", help="reuse the already built .wasm")
    args = parser.parse_args(argv)
    if args.secret_id is not None and args.region is None:
        parser.error("--region is required with --secret-id (the secret's primary region)")
    if args.key_file is not None and args.region is not None:
        parser.error("--region only applies to --secret-id")
    if args.key_file is not None and not os.path.isfile(args.key_file):
        parser.error(f"--key-file {args.key_file}: no such file")
    if args.max_stale < args.cache_ttl:
        parser.error("--max-stale must be at least --cache-ttl")
    if args.gateway_path_prefix is not None and not PATH_PREFIX_RE.match(args.gateway_path_prefix):
        parser.error(f"--gateway-path-prefix {args.gateway_path_prefix!r}: use '' or a path such as /v1 "
                     "(leading slash, no trailing slash, no ? or #)")
    replicas = [r for r in args.replica_regions.split(",") if r]
    for name in replicas:
        try:
            region(name)
        except argparse.ArgumentTypeError as error:
            parser.error(f"--replica-regions: {error}")
    args.replica_regions = replicas
    return args


def build_wasm():
    subprocess.run(
        ["cargo", "build", "--locked", "-p", "originsig-edge-signer", "--target", "wasm32-unknown-unknown", "--profile", "wasm"],
        cwd=ROOT, check=True,
    )


def pinned_aws4_version():
    with open(os.path.join(ROOT, "package-lock.json"), encoding="utf-8") as f:
        return json.load(f)["packages"]["node_modules/aws4"]["version"]


def ensure_aws4():
    """node_modules/aws4 at the version package-lock.json pins (npm ci installs it)."""
    wanted = pinned_aws4_version()
    manifest = os.path.join(AWS4_DIR, "package.json")
    installed = None
    if os.path.isfile(manifest):
        with open(manifest, encoding="utf-8") as f:
            installed = json.load(f).get("version")
    if installed != wanted:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)


# Every name a bundle directory holds: what --out may replace without losing anything else.
BUNDLE_ENTRIES = frozenset(NODE_FILES) | {"aws4", WASM_NAME, "config.json", "keys.json", "edge-signer.zip"}


def check_out_dir(out):
    """--out is replaced as a whole, so it must be new, empty, or a previous bundle (nothing in it
    but what a bundle holds, index.mjs and config.json among them). Anything else -- `.`, a home
    directory, a folder with other files -- is refused, never deleted."""
    if not os.path.exists(out):
        return
    if not os.path.isdir(out) or os.path.islink(out):
        sys.exit(f"bundle.py: --out {out} exists and is not a directory; give a new or empty directory")
    entries = set(os.listdir(out))
    if not entries:
        return
    foreign = sorted(entries - BUNDLE_ENTRIES)
    if foreign or not {"index.mjs", "config.json"} <= entries:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "") if foreign else "no index.mjs/config.json"
        sys.exit(f"bundle.py: --out {out} is not empty and not a previous edge bundle ({shown}); "
                 "it would be replaced as a whole: give a new or empty directory")


def main(argv):
    args = parse_args(argv)
    check_out_dir(os.path.abspath(args.out))  # before any work
    ensure_aws4()
    if not args.no_build:
        build_wasm()
    if not os.path.isfile(WASM_BUILT):
        sys.exit(f"bundle.py: {WASM_BUILT} is missing; run without --no-build")
    out = os.path.abspath(args.out)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    files = list(NODE_FILES) + list(AWS4_FILES.values()) + [WASM_NAME, "config.json"]
    for name in NODE_FILES:
        shutil.copyfile(os.path.join(ROOT, "edge-signer", "node", name), os.path.join(out, name))
    os.makedirs(os.path.join(out, "aws4"))
    for source, target in AWS4_FILES.items():
        shutil.copyfile(os.path.join(AWS4_DIR, source), os.path.join(out, target))
    shutil.copyfile(WASM_BUILT, os.path.join(out, WASM_NAME))
    config = {
        "cacheTtlSeconds": args.cache_ttl,
        "maxStaleSeconds": args.max_stale,
        "refreshRetrySeconds": args.refresh_retry,
        "retryAfterSeconds": args.retry_after,
        "callTimeoutSeconds": args.call_timeout,
        "apiKind": args.api_kind,
        "gatewayPathPrefix": args.gateway_path_prefix,
    }
    if args.secret_id is not None:
        config.update(secretId=args.secret_id, region=args.region, replicaRegions=args.replica_regions)
    else:
        shutil.copyfile(args.key_file, os.path.join(out, "keys.json"))
        files.append("keys.json")
        config["keyFile"] = "keys.json"
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    zip_path = os.path.join(out, "edge-signer.zip")
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in files:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with open(os.path.join(out, name), "rb") as f:
                archive.writestr(info, f.read())
    sizes = {name: os.path.getsize(os.path.join(out, name)) for name in (WASM_NAME, "edge-signer.zip")}
    print(f"edge bundle: {out}")
    print(f"  {WASM_NAME}: {sizes[WASM_NAME]} bytes; edge-signer.zip: {sizes['edge-signer.zip']} bytes")
    if args.key_file is not None:
        print("  key source: embedded key file (local use only: never deploy a bundle with a key in it)")
    else:
        print(f"  key source: Secrets Manager {args.secret_id} in {args.region}"
              + (f" (replicas: {', '.join(args.replica_regions)})" if args.replica_regions else ""))


if __name__ == "__main__":
    main(sys.argv[1:])
