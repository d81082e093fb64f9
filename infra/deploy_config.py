#!/usr/bin/env python3
"""The deploy configuration, infra/samconfig.toml, read with SAM CLI's own parser.

One environment is two sections: `<env>` deploys infra/api-region.yaml next to the API,
`<env>-edge` deploys infra/edge.yaml in us-east-1. The edge stack's key and origin parameters come
from the API-region stack's outputs (never typed twice), and the edge bundle is built from the same
values, so the bundle, the two stacks and the rotator cannot disagree.

    deploy_config.py check [ENV ...]                  every parameter against its template (default: all)
    deploy_config.py stack ENV                        "<stack name> <region>" of ENV's section
    deploy_config.py bundle-args ENV                  edge-signer/bundle.py arguments, one per line
    deploy_config.py parameter ENV NAME               one API-region parameter's value (samconfig.toml, ENV-edge for
                                                      GatewayPathPrefix, or the template's default)
    deploy_config.py next-steps ENV API_OUTPUTS EDGE_OUTPUTS   after a deploy: the commands left to run, with
                                                      this deployment's values (both stacks' outputs as JSON)
    deploy_config.py edge-parameters ENV OUTPUTS OUT  write the edge stack's parameters (OUT.yaml) from ENV-edge
                                                      and the API-region stack's outputs (`sam list
                                                      stack-outputs --output json`), after checking that
                                                      the built bundle has the same values
    deploy_config.py edge-kind ENV                    ENV-edge's EdgeKind (lambda-edge | cloudfront-function)
    deploy_config.py function-args ENV OUTPUTS        edge-signer/cloudfront-function/build.py arguments, one per
                                                      line, from ENV-edge and the API-region stack's outputs
    deploy_config.py api-parameters ENV [KVS_ARN] OUT write the API-region stack's parameters (OUT.yaml):
                                                      samconfig.toml's, GatewayPathPrefix from ENV-edge (the
                                                      rotator signs as the edge does), KeyValueStoreArn set
                                                      to KVS_ARN if given

Run it with any python3: without the SAM CLI it installs .venv-sam and runs again with its Python
(infra/sam_python.py). Exit 2 and a message naming the section and parameter on any problem.
"""

import inspect
import json
import os
import re
import sys
from pathlib import Path

import sam_python

INFRA = Path(__file__).resolve().parent
ROOT = INFRA.parent
# ORIGINSIG_SAMCONFIG: the script tests' stand-in (infra/test_template.py); sam itself reads infra/samconfig.toml.
SAMCONFIG = Path(os.environ.get("ORIGINSIG_SAMCONFIG") or INFRA / "samconfig.toml")
EDGE_SUFFIX = "-edge"
# The built edge bundle's configuration (ORIGINSIG_EDGE_BUNDLE_CONFIG: the script tests' stand-in).
BUNDLE_CONFIG = Path(os.environ.get("ORIGINSIG_EDGE_BUNDLE_CONFIG") or ROOT / "target" / "lambda" / "edge-signer" / "config.json")
# The edge stack's parameters that the API-region stack's outputs of the same name provide.
FROM_API_STACK = ("SecretName", "SecretRegion", "ReplicaRegion1", "ReplicaRegion2", "KmsKeyArn",
                  "OriginDomain", "OriginPath", "EdgeMaxStaleSeconds")
# The API-region stack's parameters that ENV-edge's values of the same name provide: the rotator signs
# its check as the edge signs (the edge's prefix), and the value is set in one place, the edge section.
FROM_EDGE_SECTION = ("GatewayPathPrefix",)
# Outputs only when set (an output cannot be empty): absent means "".
OPTIONAL_OUTPUTS = ("ReplicaRegion1", "ReplicaRegion2", "KmsKeyArn", "OriginPath")
# The GatewayPathPrefix value meaning "the origin path" (bundle.py's default, no option).
ORIGIN_PATH_PREFIX = "(origin path)"
# The API kind is not a parameter of its own: it is which id the API-region section sets (RestApiId
# or HttpApiId), and the stack outputs it as ApiKind (absent from stacks older than RestApiId).
HTTP_API, REST_API = "http_api", "rest_api"


class ConfigProblem(Exception):
    pass


def environments(path=None):
    """The environments of samconfig.toml: names whose `<name>-edge` section exists too."""
    import tomllib

    with open(path or SAMCONFIG, "rb") as f:
        sections = {name for name, value in tomllib.load(f).items() if isinstance(value, dict)}
    return sorted(name for name in sections if not name.endswith(EDGE_SUFFIX) and name + EDGE_SUFFIX in sections)


def section(env, path=None):
    """What `sam deploy --config-file samconfig.toml --config-env ENV` receives: SAM CLI's own
    deploy command parses the section (config file, option types, parameter overrides); only its
    last step, talking to CloudFormation, is replaced by keeping the parsed options."""
    import click
    import samcli.commands.deploy.command as deploy
    from samcli.cli.main import cli

    os.environ.setdefault("SAM_CLI_TELEMETRY", "0")
    received = {}
    signature = inspect.signature(deploy.do_cli)

    def keep(*args, **kwargs):
        received.update(signature.bind(*args, **kwargs).arguments)

    original, deploy.do_cli = deploy.do_cli, keep
    cwd = os.getcwd()
    os.chdir(INFRA)  # template_file is relative to where `sam deploy` runs: infra/ (deploy.sh)
    try:
        cli.main(["deploy", "--config-file", str(path or SAMCONFIG), "--config-env", env], standalone_mode=False)
    except (click.ClickException, click.exceptions.Exit, Exception) as error:  # SAM's own message
        message = error.format_message() if isinstance(error, click.ClickException) else str(error)
        raise ConfigProblem(f"[{env}.deploy.parameters]: {message}") from None
    finally:
        deploy.do_cli = original
        os.chdir(cwd)
    if not received:
        raise ConfigProblem(f"no [{env}.deploy.parameters] section")
    for required in ("stack_name", "region", "template_file"):
        if not received.get(required):
            raise ConfigProblem(f"[{env}.deploy.parameters]: {required} is not set")
    received["parameter_overrides"] = dict(received.get("parameter_overrides") or {})
    return received


def template(template_file):
    from samtranslator.yaml_helper import yaml_parse

    with open(INFRA / template_file, encoding="utf-8") as f:  # absolute after SAM's parsing
        return yaml_parse(f.read())


def template_parameters(template_file):
    return template(template_file)["Parameters"]


class Unknown(Exception):
    """A rule function this offline check does not evaluate: CloudFormation still will."""


def rule_value(expression, values):
    """A CloudFormation Rules expression over parameter values (the functions Rules allow that
    compare plain strings; anything else is left to CloudFormation)."""
    if isinstance(expression, (str, int, float)):
        return str(expression)
    if not isinstance(expression, dict) or len(expression) != 1:
        raise Unknown(expression)
    (function, argument), = expression.items()
    if function == "Ref":
        if argument not in values:
            raise Unknown(argument)
        return values[argument]
    if function == "Fn::Equals":
        return rule_value(argument[0], values) == rule_value(argument[1], values)
    if function == "Fn::Not":
        return not rule_value(argument[0], values)
    if function == "Fn::And":
        return all(rule_value(a, values) for a in argument)
    if function == "Fn::Or":
        return any(rule_value(a, values) for a in argument)
    raise Unknown(expression)


def rule_problems(rules, values):
    """The template's Rules as CloudFormation evaluates them before creating anything."""
    problems = []
    for name, rule in (rules or {}).items():
        try:
            if "RuleCondition" in rule and not rule_value(rule["RuleCondition"], values):
                continue
            for assertion in rule.get("Assertions", []):
                if not rule_value(assertion["Assert"], values):
                    problems.append(f"rule {name}: {assertion.get('AssertDescription', 'fails')}")
        except Unknown:
            continue
    return problems


def check_value(name, spec, value):
    """A value as CloudFormation would check it: AllowedPattern, AllowedValues, MinValue/MaxValue."""
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return f"{name}={value!r}: not a number"
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"{name}={value}: below the minimum {spec['MinValue']}. {spec.get('Description', '')}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"{name}={value}: above the maximum {spec['MaxValue']}. {spec.get('Description', '')}"
    if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
        return f"{name}={value!r}: not one of {', '.join(str(v) for v in spec['AllowedValues'])}"
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        return f"{name}={value!r}: {spec.get('ConstraintDescription', 'does not match ' + spec['AllowedPattern'])}"
    return None


def effective(env, provided=(), provider="the API-region stack's outputs"):
    """ENV's parameters: the template's defaults, overridden by samconfig.toml. `provided` names
    parameters filled later (from `provider`): neither required nor allowed here."""
    options = section(env)
    whole = template(options["template_file"])
    spec = whole["Parameters"]
    overrides = options["parameter_overrides"]
    problems = []
    for name in overrides:
        if name not in spec:
            problems.append(f"{name}: not a parameter of infra/{options['template_file']}")
        elif name in provided:
            problems.append(f"{name}: comes from {provider}; remove it here")
    values = {}
    for name, parameter in spec.items():
        if name in provided:
            continue
        if name in overrides:
            values[name] = overrides[name]
        elif "Default" in parameter:
            values[name] = str(parameter["Default"])
        else:
            problems.append(f"{name}: required (no default in infra/{options['template_file']})")
            continue
        problem = check_value(name, parameter, values[name])
        if problem:
            problems.append(problem)
    # A rule naming a value filled later (`provided`) is left to CloudFormation.
    problems += rule_problems(whole.get("Rules"), dict(values, **{"AWS::Region": options["region"]}))
    if problems:
        raise ConfigProblem(f"[{env}.deploy.parameters]:\n  " + "\n  ".join(problems))
    return options, values


def api_effective(env):
    """ENV's API-region parameters as samconfig.toml sets them (those of FROM_EDGE_SECTION left out)."""
    return effective(env, FROM_EDGE_SECTION,
                     f"[{env}{EDGE_SUFFIX}.deploy.parameters.parameter_overrides] (infra/deploy.sh copies it)")


def bundle_parameters(env):
    """The values the edge bundle bakes in, as the edge stack's parameters (from samconfig.toml)."""
    api_options, api = api_effective(env)
    _, edge = effective(env + EDGE_SUFFIX, FROM_API_STACK)
    return {
        "SecretName": api["SecretName"],
        "SecretRegion": api_options["region"],
        "ReplicaRegion1": api["ReplicaRegion1"],
        "ReplicaRegion2": api["ReplicaRegion2"],
        "EdgeMaxStaleSeconds": api["EdgeMaxStaleSeconds"],
        "EdgeCacheTtlSeconds": edge["EdgeCacheTtlSeconds"],
        "GatewayPathPrefix": edge["GatewayPathPrefix"],
        "ApiKind": REST_API if api.get("RestApiId") else HTTP_API,
    }


def bundle_args(parameters):
    replicas = ",".join(r for r in (parameters["ReplicaRegion1"], parameters["ReplicaRegion2"]) if r)
    args = ["--secret-id", parameters["SecretName"], "--region", parameters["SecretRegion"],
            "--replica-regions", replicas, "--cache-ttl", parameters["EdgeCacheTtlSeconds"],
            "--max-stale", parameters["EdgeMaxStaleSeconds"], "--api-kind", parameters["ApiKind"]]
    if parameters["GatewayPathPrefix"] != ORIGIN_PATH_PREFIX:
        args += ["--gateway-path-prefix", parameters["GatewayPathPrefix"]]
    return args


def bundle_mismatches(parameters, config):
    """Where a built bundle's config.json differs from the parameters it must have been built with."""
    expected = {
        "secretId": parameters["SecretName"],
        "region": parameters["SecretRegion"],
        "replicaRegions": [r for r in (parameters["ReplicaRegion1"], parameters["ReplicaRegion2"]) if r],
        "cacheTtlSeconds": int(parameters["EdgeCacheTtlSeconds"]),
        "maxStaleSeconds": int(parameters["EdgeMaxStaleSeconds"]),
        "gatewayPathPrefix": None if parameters["GatewayPathPrefix"] == ORIGIN_PATH_PREFIX else parameters["GatewayPathPrefix"],
        "apiKind": parameters["ApiKind"],
    }
    return [f"{key}: bundle has {config.get(key)!r}, the stacks {value!r}"
            for key, value in expected.items() if config.get(key) != value]


def edge_parameters(env, outputs):
    """The edge stack's parameters: ENV-edge's own, plus the API-region stack's outputs."""
    _, edge = effective(env + EDGE_SUFFIX, FROM_API_STACK)
    by_key = {o["OutputKey"]: o.get("OutputValue", "") for o in outputs}
    for name in OPTIONAL_OUTPUTS:
        by_key.setdefault(name, "")
    missing = [name for name in FROM_API_STACK if name not in by_key]
    if missing:
        raise ConfigProblem(f"the API-region stack has no output {', '.join(missing)}: deploy it first (infra/deploy.sh {env})")
    parameters = dict(edge, **{name: by_key[name] for name in FROM_API_STACK})
    deployed = dict(parameters, ApiKind=by_key.get("ApiKind", HTTP_API))
    expected = bundle_parameters(env)
    drift = [f"{k}: samconfig.toml says {v!r}, the deployed API-region stack {deployed[k]!r}"
             for k, v in expected.items() if deployed[k] != v]
    if drift:
        raise ConfigProblem("the API-region stack does not match samconfig.toml:\n  " + "\n  ".join(drift))
    return parameters


def edge_kind(env):
    return effective(env + EDGE_SUFFIX, FROM_API_STACK)[1]["EdgeKind"]


def function_args(env, outputs):
    """build.py arguments for the CloudFront function: it signs for the host and path prefix the API
    sees, which it cannot read at the edge (the API-region stack's OriginDomain, OriginPath, ApiKind)."""
    _, edge = effective(env + EDGE_SUFFIX, FROM_API_STACK)
    by_key = {o["OutputKey"]: o.get("OutputValue", "") for o in outputs}
    if "OriginDomain" not in by_key:
        raise ConfigProblem(f"the API-region stack has no output OriginDomain: deploy it first (infra/deploy.sh {env})")
    prefix = edge["GatewayPathPrefix"]
    if prefix == ORIGIN_PATH_PREFIX:
        prefix = by_key.get("OriginPath", "")
    return ["--origin-domain", by_key["OriginDomain"], "--gateway-path-prefix", prefix,
            "--api-kind", by_key.get("ApiKind", HTTP_API)]


def api_parameters(env, kvs_arn=None):
    """The API-region stack's parameters: samconfig.toml's (with the templates' defaults), those of
    FROM_EDGE_SECTION from ENV-edge, and the key value store the rotator writes (default: as
    configured)."""
    spec = template(section(env)["template_file"])["Parameters"]
    _, api = api_effective(env)
    _, edge = effective(env + EDGE_SUFFIX, FROM_API_STACK)
    # Checked as ENV-edge's values; test_template holds the two templates' parameters equal.
    parameters = dict(api, **{name: edge[name] for name in FROM_EDGE_SECTION})
    if kvs_arn is not None:
        problem = check_value("KeyValueStoreArn", spec["KeyValueStoreArn"], kvs_arn)
        if problem:
            raise ConfigProblem(problem)
        parameters["KeyValueStoreArn"] = kvs_arn
    return parameters


CLI = "target/release/originsig"  # infra/build.sh builds it


def next_steps(env, api_outputs, edge_outputs):
    """What is left after infra/deploy.sh ENV, as commands with this deployment's values."""
    api_options, api = api_effective(env)
    _, edge = effective(env + EDGE_SUFFIX, FROM_API_STACK)
    out = {o["OutputKey"]: o.get("OutputValue", "") for o in list(api_outputs) + list(edge_outputs)}
    region = api_options["region"]
    secret = out.get("SecretArn", api["SecretName"])
    lines = ["next steps (docs/your-api.md):"]
    # A CloudFront Functions edge: a viewer-request function, and every rotate must copy the key
    # into its store (docs/cloudfront-functions.md, "Deploy it").
    function_edge = edge["EdgeKind"] == "cloudfront-function"
    store = f" --kvs-arn {out.get('KeyValueStoreArn') or '<KeyValueStoreArn>'}" if function_edge else ""
    if api["HttpApiId"]:
        lines.append(f"  {CLI} routes attach --region {region} --api-id {api['HttpApiId']} --authorizer-id {out.get('AuthorizerId', '<AuthorizerId>')}")
    elif api.get("RestApiId"):
        lines.append(f"  attach the authorizer {out.get('AuthorizerId', '<AuthorizerId>')} (CUSTOM) to every method of REST API "
                     f"{api['RestApiId']}, then deploy its stage (docs/your-api.md, \"A REST API\")")
    if edge["ExistingDistributionId"] and function_edge:
        lines.append(f"  associate {out.get('CloudFrontFunctionArn', '<CloudFrontFunctionArn>')} (viewer request) with the cache "
                     f"behaviour of {edge['ExistingDistributionId']} that forwards to {out.get('OriginDomain', 'the API')}, origin request "
                     f"policy AllViewerExceptHostHeader (docs/cloudfront-functions.md)")
    elif edge["ExistingDistributionId"]:
        lines.append(f"  associate {out.get('EdgeSignerVersionArn', '<EdgeSignerVersionArn>')} (origin request) with the cache "
                     f"behaviour of {edge['ExistingDistributionId']} that forwards to {out.get('OriginDomain', 'the API')} (docs/your-api.md)")
    if edge["ExistingDistributionId"]:
        viewer = "https://<your distribution's domain>/"
        lines.append(f"  infra/smoke.sh {env} {viewer}")
    else:
        viewer = out.get("CloudFrontUrl", "<CloudFrontUrl>")
        lines.append(f"  infra/smoke.sh {env}")
    if api["ApiCustomDomain"]:
        lines.append(f"  {CLI} doctor --secret-id {secret} --region {region} --direct-url {out.get('DirectApiUrl', '<DirectApiUrl>')}<a GET route> "
                     f"--origin-path '{api['OriginPath']}'{store}")
    # The health route: the stage root (DirectApiUrl) has no route on most APIs, and API Gateway
    # answers 404 there before any authorizer, which fails the rotation test.
    lines.append(f"  {CLI} rotate --secret-id {secret} --region {region} --test-url {viewer} --direct-url {out.get('RotatorCheckUrl', '<RotatorCheckUrl>')}{store}")
    lines.append(f"  {CLI} status --secret-id {secret} --region {region}{store}")
    return "\n".join(lines)


def main(argv):
    command, args = (argv[1], argv[2:]) if len(argv) > 1 else ("", [])
    try:
        if command == "check":
            envs = args or environments()
            for env in envs:
                bundle_parameters(env)
                print(f"{env} and {env}{EDGE_SUFFIX}: every parameter valid")
        elif command == "stack" and len(args) == 1:
            options = section(args[0])
            print(options["stack_name"], options["region"])
        elif command == "parameter" and len(args) == 2:
            values = api_parameters(args[0])
            print(values.get(args[1], ""))
        elif command == "next-steps" and len(args) == 3:
            outputs = []
            for name in args[1:]:
                with open(name, encoding="utf-8") as f:
                    outputs.append(json.load(f))
            print(next_steps(args[0], *outputs))
        elif command == "edge-kind" and len(args) == 1:
            print(edge_kind(args[0]))
        elif command == "function-args" and len(args) == 2:
            with open(args[1], encoding="utf-8") as f:
                print("\n".join(function_args(args[0], json.load(f))))
        elif command == "api-parameters" and len(args) in (2, 3):
            env, kvs_arn, out = args if len(args) == 3 else (args[0], None, args[1])
            parameters = api_parameters(env, kvs_arn)
            with open(out, "w", encoding="utf-8") as f:
                json.dump(parameters, f, indent=2)
        elif command == "bundle-args" and len(args) == 1:
            print("\n".join(bundle_args(bundle_parameters(args[0]))))
        elif command == "edge-parameters" and len(args) == 3:
            env, outputs_file, out = args
            with open(outputs_file, encoding="utf-8") as f:
                parameters = edge_parameters(env, json.load(f))
            if not BUNDLE_CONFIG.is_file():
                raise ConfigProblem(f"{BUNDLE_CONFIG} is missing: run infra/build.sh {env}")
            with open(BUNDLE_CONFIG, encoding="utf-8") as f:
                mismatches = bundle_mismatches(dict(parameters, ApiKind=bundle_parameters(env)["ApiKind"]), json.load(f))
            if mismatches:
                raise ConfigProblem(f"the edge bundle was built for other values; run infra/build.sh {env}:\n  "
                                    + "\n  ".join(mismatches))
            # JSON text in a .yaml file: `--parameter-overrides file://` reads .yaml and .toml only.
            with open(out, "w", encoding="utf-8") as f:
                json.dump(parameters, f, indent=2)
        else:
            sys.stderr.write(__doc__)
            return 2
    except ConfigProblem as problem:
        sys.stderr.write(f"infra/samconfig.toml: {problem}\n")
        return 2
    return 0


if __name__ == "__main__":
    sam_python.ensure()
    sys.exit(main(sys.argv))
