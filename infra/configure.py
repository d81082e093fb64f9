#!/usr/bin/env python3
"""Write one environment of infra/samconfig.toml for YOUR API, from a few answers, and check it offline.

    python3 infra/configure.py --env shop --api-id a1b2c3d4e5 --region eu-west-1 --stage prod \\
        --existing-distribution E1EXAMPLE2ABCD --alarm-topic-arn arn:aws:sns:eu-west-1:123456789012:ops

Any python3 will do: the first run installs the pinned SAM CLI into .venv-sam (infra/sam_python.py),
whose own parser then reads what was written, exactly as `sam deploy --config-env ENV` will
(infra/deploy_config.py). Without flags on a terminal it asks; without a terminal, a missing answer
is a usage error (exit 2) naming the flag.

The environment is two sections, `[ENV.deploy.parameters]` (infra/api-region.yaml, in the API's
region) and `[ENV-edge.deploy.parameters]` (infra/edge.yaml, us-east-1), with every template
parameter listed: the answers, and the templates' defaults for the rest (edit them later and run
`python3 infra/deploy_config.py check ENV`). Nothing here talks to AWS, so what only AWS knows is
listed as not checked (the API exists and is of that kind, the stage or mapping, the distribution).

Exit codes: 0 written and valid; 2 usage, or an answer the templates refuse (nothing written).
"""

import argparse
import io
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import sam_python

INFRA = Path(__file__).resolve().parent
EXAMPLES = ("demo", "estate")  # shipped environments: replaced only with --replace
API_OPTIONS = {"template_file": "api-region.yaml"}
EDGE_OPTIONS = {"region": "us-east-1", "template_file": "edge.yaml"}  # Lambda@Edge lives in us-east-1
COMMON_OPTIONS = {"capabilities": "CAPABILITY_IAM", "resolve_s3": True, "confirm_changeset": False,
                  "fail_on_empty_changeset": False}


class Usage(Exception):
    pass


def parser():
    p = argparse.ArgumentParser(
        prog="python3 infra/configure.py",
        description="Write and check one environment of infra/samconfig.toml for your API (offline).",
        epilog="Exit codes: 0 written and valid; 2 usage or a value the templates refuse (nothing written). "
               "Guide: docs/your-api.md.")
    p.add_argument("--env", help="environment name (lower-case letters, digits, '-'), e.g. shop; "
                                 "used by infra/build.sh ENV and infra/deploy.sh ENV")
    p.add_argument("--api-id", help="your API's id (10 characters, the first label of its execute-api domain)")
    p.add_argument("--api-kind", choices=("http", "rest"), help="HTTP API (default) or REST API")
    p.add_argument("--region", help="your API's region, e.g. eu-west-1: the key secret, authorizer and rotator go there")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--stage", help="the stage CloudFront calls on the execute-api domain: a name such as prod, "
                                       "or $default (HTTP APIs only; no path)")
    where.add_argument("--custom-domain", help="your API's regional custom domain as origin instead, e.g. origin-api.example.com")
    p.add_argument("--mapping-path", default=None,
                   help="with --custom-domain: the API mapping's path (e.g. v1), empty for none")
    dist = p.add_mutually_exclusive_group()
    dist.add_argument("--existing-distribution", metavar="ID",
                      help="your CloudFront distribution's id: the signer is created for you to associate with it")
    dist.add_argument("--new-distribution", action="store_true", help="create a distribution in front of the API")
    p.add_argument("--alarm-topic-arn", default=None,
                   help="SNS topic in the API's region for the authorizer and rotation alarms (empty: alarms without notification)")
    p.add_argument("--edge-alarm-topic-arn", default=None,
                   help="SNS topic in us-east-1 for the edge alarm (the edge stack's region)")
    p.add_argument("--secret-name", help="the key secret's name, created by the stack (default: originsig/ENV)")
    p.add_argument("--replica-region", action="append", default=[], metavar="REGION",
                   help="replicate the secret there (at most 2; repeat the flag), e.g. us-east-1 near North American edges")
    p.add_argument("--health-path", default=None, metavar="PATH",
                   help="a GET route of your API behind the authorizer, e.g. /health: the scheduled rotator checks "
                        "a new key there (RotatorCheckPath, where the template has it)")
    p.add_argument("--test-url", default=None,
                   help="an https URL through CloudFront the rotator calls after staging a key (RotatorTestUrl)")
    p.add_argument("--config-file", default=str(INFRA / "samconfig.toml"), help="default: infra/samconfig.toml")
    p.add_argument("--replace", action="store_true", help="overwrite the environment if it exists")
    p.add_argument("--no-input", action="store_true", help="never ask, even on a terminal")
    return p


# ------------------------------------------------------------------ answers → parameters

ASKED = [  # (attribute, question, default) in the order a person answers them
    ("env", "Environment name (used by infra/build.sh ENV)", None),
    ("api_id", "Your API's id (the first label of <id>.execute-api.<region>.amazonaws.com)", None),
    ("api_kind", "HTTP API or REST API? [http/rest]", "http"),
    ("region", "Your API's region", None),
    ("stage", "Stage CloudFront calls ($default, or a name such as prod; '-' to use a custom domain)", "$default"),
    ("existing_distribution", "Your CloudFront distribution's id (empty: create a new one)", ""),
    ("alarm_topic_arn", "SNS topic ARN for alarms in the API's region (empty: none)", ""),
]


def ask(args, stdin=sys.stdin, stdout=sys.stderr):
    """Fill unanswered questions from a terminal."""
    for attribute, question, default in ASKED:
        if attribute == "stage" and args.custom_domain:
            continue
        if attribute == "existing_distribution" and args.new_distribution:
            continue
        if getattr(args, attribute) is not None:
            continue
        suffix = f" [{default}]" if default else ""
        stdout.write(f"{question}{suffix}: ")
        stdout.flush()
        answer = stdin.readline().strip() or (default or "")
        if attribute == "stage" and answer == "-":
            stdout.write("Custom domain (e.g. origin-api.example.com): ")
            stdout.flush()
            args.custom_domain = stdin.readline().strip()
            stdout.write("API mapping path (empty for none): ")
            stdout.flush()
            args.mapping_path = stdin.readline().strip()
            continue
        setattr(args, attribute, answer.lower() if attribute == "api_kind" else answer)
    return args


def require(args):
    missing = [f"--{name.replace('_', '-')}" for name in ("env", "api_id", "region") if not getattr(args, name)]
    if args.stage is None and args.custom_domain is None:
        missing.append("--stage or --custom-domain")
    if missing:
        raise Usage(f"missing {', '.join(missing)} (run on a terminal to be asked, or see --help)")
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,40}", args.env) or args.env.endswith("-edge"):
        raise Usage(f"--env {args.env!r}: lower-case letters, digits and '-', starting with a letter, not ending in -edge")
    if args.mapping_path is not None and args.custom_domain is None:
        raise Usage("--mapping-path goes with --custom-domain")
    if len(args.replica_region) > 2:
        raise Usage("--replica-region: at most 2")
    kind = args.api_kind or "http"
    if kind not in ("http", "rest"):
        raise Usage(f"API kind {kind!r}: http or rest")
    if kind == "rest" and (args.stage in (None, "$default")) and args.custom_domain is None:
        raise Usage("a REST API has no $default stage: give --stage NAME (or --custom-domain)")


def parameters(args):
    """The two sections' parameter overrides the answers decide; everything else keeps its default."""
    kind = args.api_kind or "http"
    if args.custom_domain is not None:
        mapping = (args.mapping_path or "").strip("/")
        origin_path = f"/{mapping}" if mapping else ""
    else:
        origin_path = "" if args.stage == "$default" else "/" + args.stage.strip("/")
    replicas = args.replica_region + ["", ""]
    api = {
        "SecretName": args.secret_name or f"originsig/{args.env}",
        "ReplicaRegion1": replicas[0],
        "ReplicaRegion2": replicas[1],
        "HttpApiId": args.api_id if kind == "http" else "",
        "RestApiId": args.api_id if kind == "rest" else "",
        "ApiCustomDomain": args.custom_domain or "",
        "OriginPath": origin_path,
        "RotatorTestUrl": args.test_url or "",
        "AlarmTopicArn": args.alarm_topic_arn or "",
        "RotatorCheckPath": args.health_path or "",
    }
    edge = {
        "ExistingDistributionId": args.existing_distribution or "",
        "AlarmTopicArn": args.edge_alarm_topic_arn or "",
    }
    return api, edge


# ------------------------------------------------------------------ writing TOML

def toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string for these characters


def section_text(name, options, overrides, comment):
    out = io.StringIO()
    out.write(f"# {comment}\n[{name}.deploy.parameters]\n")
    for key, value in options.items():
        out.write(f"{key} = {toml_value(value)}\n")
    out.write(f"\n[{name}.deploy.parameters.parameter_overrides]\n")
    for key, value in overrides.items():
        out.write(f"{key} = {toml_value(value)}\n")
    return out.getvalue()


def environment_text(args, api_overrides, edge_overrides):
    import deploy_config

    def full(template_file, overrides, skip=()):
        spec = deploy_config.template_parameters(template_file)
        values = {}
        for name, parameter in spec.items():
            if name in skip:
                continue
            if name in overrides:
                values[name] = overrides[name]
            elif "Default" in parameter:
                values[name] = parameter["Default"]
        return values

    api_section = dict(stack_name=f"originsig-{args.env}", region=args.region, **API_OPTIONS, **COMMON_OPTIONS)
    edge_section = dict(stack_name=f"originsig-{args.env}-edge", **EDGE_OPTIONS, **COMMON_OPTIONS)
    kind = "REST" if api_overrides["RestApiId"] else "HTTP"
    header = (f"\n# ---------------------------------------------------------------- {args.env}\n"
              f"# Written by infra/configure.py: your {kind} API {args.api_id} in {args.region}. Every template\n"
              f"# parameter is listed; after editing, run `python3 infra/deploy_config.py check {args.env}`.\n")
    return (header
            + section_text(args.env, api_section, full("api-region.yaml", api_overrides, deploy_config.FROM_EDGE_SECTION),
                           "API-region stack (infra/api-region.yaml)")
            + "\n"
            + section_text(args.env + deploy_config.EDGE_SUFFIX, edge_section,
                           full("edge.yaml", edge_overrides, deploy_config.FROM_API_STACK),
                           "edge stack (infra/edge.yaml), us-east-1; its key and origin parameters come from the API-region stack's outputs"))


def without_environment(text, env):
    """The file's text with ENV's two sections (and configure.py's header of them) removed."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        header = re.match(r"\s*\[([^\].]+)\.", line)
        if header:
            skipping = header.group(1) in (env, env + "-edge")
        elif line.startswith("# ----"):
            skipping = line.rstrip().endswith(f" {env}")
        if not skipping:
            kept.append(line)
    return "".join(kept).rstrip("\n") + "\n"


# ------------------------------------------------------------------ offline checks

def offline_problems(args):
    """What can be checked without AWS beyond the templates' own patterns (deploy_config checks those)."""
    import botocore.session

    problems = []
    session = botocore.session.get_session()
    regions = set()
    for partition in session.get_available_partitions():
        regions |= set(session.get_available_regions("apigateway", partition))
    if regions and args.region not in regions:
        problems.append(f"--region {args.region}: not a region with API Gateway in botocore's endpoint data")
    for replica in args.replica_region:
        if replica == args.region:
            problems.append(f"--replica-region {replica}: the API's region holds the secret itself")
        elif regions and replica not in regions:
            problems.append(f"--replica-region {replica}: not a known region")
    for flag, arn, region in [("--alarm-topic-arn", args.alarm_topic_arn, args.region),
                              ("--edge-alarm-topic-arn", args.edge_alarm_topic_arn, "us-east-1")]:
        if arn and arn.split(":")[3:4] != [region]:
            problems.append(f"{flag}: the topic must be in {region}, the region of the stack whose alarms notify it")
    return problems


def not_checked(args, api, edge):
    kind = "REST" if api["RestApiId"] else "HTTP"
    lines = [f"that API {args.api_id} exists in {args.region} and is {'an HTTP' if kind == 'HTTP' else 'a REST'} API"]
    if api["ApiCustomDomain"]:
        lines.append(f"that {api['ApiCustomDomain']} is a regional custom domain mapping "
                     f"{api['OriginPath'] or '(no path)'} to that API (then run `originsig doctor` once: docs/your-api.md)")
        # The signature binds the host and the path the authorizer sees, not the API (SPEC.md §10):
        # another API mapped on the same domain with the same key would accept these signatures.
        lines.append(f"that no other API mapped on {api['ApiCustomDomain']} shares the secret {api['SecretName']} "
                     "(a signature binds the host and path, not the API: give each API its own secret; "
                     "docs/security-model.md)")
    else:
        lines.append(f"that the stage {args.stage} exists")
    if edge["ExistingDistributionId"]:
        lines.append(f"that distribution {edge['ExistingDistributionId']} exists; you associate the signer with it after deploying")
    if api["AlarmTopicArn"] or edge["AlarmTopicArn"]:
        lines.append("that the SNS topics exist and CloudWatch may publish to them")
    lines.append(f"that no secret named {api['SecretName']} exists in {args.region} (or is scheduled for deletion): "
                 "the stack creates it")
    return lines


# ------------------------------------------------------------------ main

def run(argv, stdin=sys.stdin):
    args = parser().parse_args(argv)
    interactive = not args.no_input and stdin.isatty()
    if interactive:
        ask(args, stdin)
    require(args)
    import deploy_config

    path = Path(args.config_file)
    text = path.read_text(encoding="utf-8") if path.exists() else "version = 0.1\n"
    present = args.env in deploy_config.environments(path) if path.exists() else False
    if present and not args.replace:
        raise Usage(f"{args.env} is already in {path}: pass --replace to overwrite it, or choose another --env")
    if args.env in EXAMPLES and not args.replace:
        raise Usage(f"{args.env} is a shipped example; choose another --env")
    problems = offline_problems(args)
    api, edge = parameters(args)
    new_text = without_environment(text, args.env) + environment_text(args, api, edge)
    # Checked as `sam deploy` will read it, before anything is written.
    with tempfile.TemporaryDirectory() as folder:
        candidate = Path(folder) / "samconfig.toml"
        candidate.write_text(new_text, encoding="utf-8")
        original = deploy_config.SAMCONFIG
        deploy_config.SAMCONFIG = candidate
        try:
            deploy_config.bundle_parameters(args.env)
        except deploy_config.ConfigProblem as problem:
            problems.append(str(problem))
        finally:
            deploy_config.SAMCONFIG = original
        if problems:
            raise Usage("nothing written:\n  " + "\n  ".join(problems))
        shutil.copyfile(candidate, path)
    shown = os.path.relpath(path)
    print(f"{shown}: wrote [{args.env}] and [{args.env}-edge]; every value checked against its template by SAM CLI's parser")
    if args.health_path and "RotatorCheckPath" not in deploy_config.template_parameters("api-region.yaml"):
        print("note: --health-path ignored: infra/api-region.yaml has no RotatorCheckPath parameter")
    print("not checked (only AWS knows):")
    for line in not_checked(args, api, edge):
        print(f"  - {line}")
    print(f"next: infra/build.sh {args.env} && infra/deploy.sh {args.env}   (docs/your-api.md)")
    return 0


def main(argv):
    try:
        return run(argv)
    except Usage as problem:
        sys.stderr.write(f"configure: {problem}\n")
        return 2


if __name__ == "__main__":
    sam_python.ensure()
    sys.exit(main(sys.argv[1:]))
