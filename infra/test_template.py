"""Offline checks of the deploy: the templates match the code, the deploy configuration parses with
SAM CLI's own parser, and each defect found on a first real deploy (issue 13) stays fixed.

    .venv-sam/bin/python -m unittest infra/test_template.py     (tests/run-all.sh runs it)

It needs the SAM CLI's Python (aws-sam-cli, which brings aws-sam-translator and cfn-lint).
"""

import copy
import io
import json
import os
import random
import re
import string
import subprocess
import sys
import tempfile
from pathlib import Path
import unittest

from cfnlint.decode import decode_str

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_config  # noqa: E402
import translate  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAM_BIN = os.path.dirname(sys.executable)


def source(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def rust_str_consts(path):
    """`pub const NAME: &str = "value";` → {NAME: value}."""
    return dict(re.findall(r'pub const ([A-Z_]+): &str = "([^"]*)";', source(path)))


def load(name):
    template, matches = decode_str(source(f"infra/{name}"))
    assert not matches, matches
    return template


API = load("api-region.yaml")
EDGE = load("edge.yaml")
CORE = {**rust_str_consts("shared/src/header.rs"), **rust_str_consts("shared/src/key.rs")}
AUTHORIZER_VARS = set(rust_str_consts("hmac-authorizer/src/config.rs").values())
ROTATOR_VARS = set(rust_str_consts("hmac-authorizer/src/rotation_lambda.rs").values()) | AUTHORIZER_VARS
PROMOTED_AT_TAG = rust_str_consts("hmac-authorizer/src/store/secrets_manager.rs")["PROMOTED_AT_TAG"]
with open(os.path.join(ROOT, "infra", "timing.json"), encoding="utf-8") as _f:
    TIMING = json.load(_f)


def props(template, name):
    return template["Resources"][name]["Properties"]


def statements(template, role):
    return [s for p in props(template, role)["Policies"] for s in p["PolicyDocument"]["Statement"]]


def statement(template, role, sid):
    for s in statements(template, role):
        s = s["Fn::If"][1] if "Fn::If" in s else s
        if s.get("Sid") == sid:
            return s
    raise AssertionError(f"{role}: no statement {sid}")


class TemplatesMatchTheCode(unittest.TestCase):
    def test_identity_source_is_the_signature_header(self):
        header = CORE["HEADER_NAME"]
        self.assertEqual(header, "x-originsig")
        authorizer = props(API, "DemoApi")["Auth"]["Authorizers"]["OriginSig"]
        self.assertEqual(authorizer["Identity"]["Headers"], [header])
        self.assertEqual(authorizer["Identity"]["ReauthorizeEvery"], 0, "result caching must be off")
        self.assertEqual(authorizer["AuthorizerPayloadFormatVersion"], "2.0")
        self.assertTrue(authorizer["EnableSimpleResponses"])
        existing = props(API, "ExistingApiAuthorizer")
        self.assertEqual(existing["IdentitySource"], [f"$request.header.{header}"])
        self.assertEqual(existing["AuthorizerResultTtlInSeconds"], 0)

    def test_environments_are_what_the_binaries_read(self):
        env = props(API, "AuthorizerFunction")["Environment"]["Variables"]
        self.assertLessEqual(set(env), AUTHORIZER_VARS, set(env) - AUTHORIZER_VARS)
        self.assertIn("ORIGINSIG_SECRET_ID", env)
        mode = env["ORIGINSIG_RESPONSE_MODE"]
        for value in (mode["Fn::If"][1:] if isinstance(mode, dict) else [mode]):
            self.assertIn(value, {"simple", "iam", "rest"})
        env = props(API, "RotatorFunction")["Environment"]["Variables"]
        self.assertLessEqual(set(env), ROTATOR_VARS, set(env) - ROTATOR_VARS)

    def test_functions_match_their_artifacts(self):
        edge = props(EDGE, "EdgeSignerFunction")
        self.assertEqual((edge["Runtime"], edge["Architectures"], edge["Handler"]), ("nodejs22.x", ["x86_64"], "index.handler"))
        self.assertNotIn("Environment", edge, "Lambda@Edge has no environment variables")
        self.assertIn("export async function handler(", source("edge-signer/node/index.mjs"))
        self.assertEqual(edge["CodeUri"], "../target/lambda/edge-signer/edge-signer.zip")
        bundler = source("edge-signer/bundle.py")
        self.assertIn('"target", "lambda", "edge-signer"', bundler)
        self.assertIn('"edge-signer.zip"', bundler)
        self.assertIn("AutoPublishAlias", edge, "Lambda@Edge needs a published version")
        trust = props(EDGE, "EdgeSignerRole")["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
        self.assertEqual(sorted(trust), ["edgelambda.amazonaws.com", "lambda.amazonaws.com"])
        cargo = source("hmac-authorizer/Cargo.toml")
        for resource, binary in [("AuthorizerFunction", "hmac-authorizer"), ("RotatorFunction", "key-rotator")]:
            function = props(API, resource)
            self.assertEqual(function["CodeUri"], f"../target/lambda/{binary}/bootstrap.zip")
            self.assertIn(f'name = "{binary}"', cargo)
            self.assertEqual((function["Runtime"], function["Handler"]), ("provided.al2023", "bootstrap"))

    def test_edge_association_and_managed_policies(self):
        behavior = props(EDGE, "Distribution")["DistributionConfig"]["DefaultCacheBehavior"]
        # EdgeKind: the Lambda@Edge association is the IsLambdaEdge branch (CloudFront Functions: FunctionAssociations).
        condition, (association,), _ = behavior["LambdaFunctionAssociations"]["Fn::If"]
        self.assertEqual(condition, "IsLambdaEdge")
        self.assertEqual(association["EventType"], "origin-request")
        self.assertEqual(association["LambdaFunctionARN"], {"Ref": "EdgeSignerFunction.Version"})
        self.assertEqual(behavior["CachePolicyId"], "4135ea2d-6df8-44a3-9df3-4b5a84be39ad")  # CachingDisabled
        origin = props(EDGE, "Distribution")["DistributionConfig"]["Origins"][0]
        self.assertEqual(origin["CustomOriginConfig"]["OriginProtocolPolicy"], "https-only")

    def test_origin_request_policy_defaults_to_all_viewer_except_host(self):
        # AWS's recommendation for API Gateway origins (docs/existing-distribution.md, "Origin request policy").
        self.assertEqual(EDGE["Parameters"]["OriginRequestPolicy"]["Default"], "AllViewerExceptHostHeader")
        policy = props(EDGE, "Distribution")["DistributionConfig"]["DefaultCacheBehavior"]["OriginRequestPolicyId"]
        self.assertEqual(policy["Fn::If"][:2], ["ExceptHostPolicy", "b689b0a8-53d0-40ab-baf2-68738e2966ac"])

    def test_generated_first_key_is_in_the_spec_format(self):
        generate = props(API, "KeySecret")["GenerateSecretString"]
        # The template is joined from the stack id's UUID: render it as CloudFormation would.
        parts = generate["SecretStringTemplate"]["Fn::Join"][1]
        self.assertEqual(parts[1], {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]})
        kid = "k-init-" + "0123abcd-4567-89ef-0123-456789abcdef"
        template = json.loads(parts[0] + kid.removeprefix("k-init-") + parts[2])
        self.assertEqual(template["kid"], kid)
        self.assertRegex(kid, r"^[A-Za-z0-9_-]{1,64}$")
        self.assertEqual(template["format"], CORE["KEY_FORMAT"])
        self.assertEqual(generate["GenerateStringKey"], "key")
        alphabet = set(string.printable.strip()) - set(generate["ExcludeCharacters"])
        self.assertEqual(alphabet, set(string.ascii_letters + string.digits + "+/"), "only the base64 alphabet")
        self.assertEqual(generate["PasswordLength"] % 4, 0, "a multiple of 4: canonical base64 without padding")
        # What Secrets Manager would generate, checked by the real parser (the originsig binary).
        binary = os.path.join(ROOT, "target", "debug", "originsig")
        if not os.path.exists(binary):
            self.skipTest("target/debug/originsig not built")
        key = "".join(random.choice(sorted(alphabet)) for _ in range(generate["PasswordLength"]))
        ring = {"format": "originsig-keyring-v1", "current": dict(template, key=key)}
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "keys.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(ring, f)
            out = subprocess.run([binary, "status", "--key-file", path], capture_output=True, text=True, check=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("AWSCURRENT", out.stdout)
        self.assertNotIn("INVALID", out.stdout)

    def test_timing_defaults_come_from_the_timing_model(self):
        for template, parameter, field in [
            (EDGE, "EdgeCacheTtlSeconds", "edgeCacheTtlSecs"),
            (EDGE, "EdgeMaxStaleSeconds", "edgeMaxStaleSecs"),
            (API, "EdgeMaxStaleSeconds", "edgeMaxStaleSecs"),
            (API, "AuthorizerCacheTtlSeconds", "authorizerCacheTtlSecs"),
            (API, "AuthorizerMaxStaleSeconds", "authorizerMaxStaleSecs"),
            (API, "MaxAgeSeconds", "maxAgeSecs"),
            (API, "MaxFutureSeconds", "maxFutureSecs"),
            (API, "UnknownKeyRefreshSeconds", "authorizerUnknownKeyRefreshSecs"),
        ]:
            self.assertEqual(int(template["Parameters"][parameter]["Default"]), TIMING[field], parameter)
            # The shipped samconfig.toml lists the same defaults.
            for env in ("demo", "demo-edge"):
                overrides = deploy_config.section(env)["parameter_overrides"]
                if parameter in overrides:
                    self.assertEqual(int(overrides[parameter]), TIMING[field], f"samconfig.toml [{env}] {parameter}")
        self.assertEqual(props(API, "RotatorFunction")["Environment"]["Variables"]["ORIGINSIG_EDGE_MAX_STALE_SECS"], {"Ref": "EdgeMaxStaleSeconds"})

    def test_every_parameter_is_described(self):
        for name, template in [("api-region", API), ("edge", EDGE)]:
            for parameter, spec in template["Parameters"].items():
                self.assertGreater(len(spec.get("Description", "")), 10, f"{name}: {parameter}")

    def test_every_checkov_skip_is_justified(self):
        for template in (API, EDGE):
            for name, resource in template["Resources"].items():
                for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                    self.assertGreater(len(skip.get("comment", "")), 20, f"{name}: {skip['id']} needs a reason")


class DeployConfiguration(unittest.TestCase):
    """Defect 1: the shipped samconfig.toml, parsed by SAM CLI's own deploy command."""

    def test_every_environment_parses_and_every_value_fits_its_template(self):
        envs = deploy_config.environments()
        self.assertEqual(envs, ["demo", "estate"])
        for env in envs:
            deploy_config.bundle_parameters(env)  # raises ConfigProblem with the reason

    def test_values_with_spaces_and_empty_values_reach_sam_intact(self):
        overrides = deploy_config.section("demo")["parameter_overrides"]
        self.assertEqual(overrides["RotationSchedule"], "rate(30 days)")
        self.assertEqual(overrides["ReplicaRegion1"], "")
        self.assertEqual(overrides["WebAclArn"] if "WebAclArn" in overrides else None, None)
        edge = deploy_config.section("demo-edge")["parameter_overrides"]
        self.assertEqual(edge["WebAclArn"], "", "WebAclArn is reachable")

    def test_the_old_override_string_is_what_sam_refuses(self):
        # What deploy.sh used to build: SAM CLI splits at the space and refuses "ReplicaRegion1=".
        from samcli.cli.types import CfnParameterOverridesType

        parsed = CfnParameterOverridesType().convert("SecretName=originsig/keys RotationSchedule=rate(30 days)", None, None)
        self.assertEqual(parsed["RotationSchedule"], "rate(30", "the split that broke the schedule")
        with self.assertRaises(Exception) as refused:
            CfnParameterOverridesType().convert(("ReplicaRegion1=",), None, None)
        self.assertIn("is not a valid format", str(refused.exception))

    def test_every_template_parameter_is_in_each_section(self):
        for env in deploy_config.environments():
            for section, template, filled in [(env, API, deploy_config.FROM_EDGE_SECTION),
                                              (env + "-edge", EDGE, deploy_config.FROM_API_STACK)]:
                overrides = deploy_config.section(section)["parameter_overrides"]
                expected = set(template["Parameters"]) - set(filled)
                self.assertEqual(set(overrides), expected, section)

    def test_a_wrong_value_fails_before_cloudformation_with_its_reason(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "samconfig.toml")
            text = source("infra/samconfig.toml")
            for old, new, reason in [
                ('RotationSchedule = "rate(30 days)"', 'RotationSchedule = "rate(1 hour)"', "at least 4 hours"),
                ("AuthorizerCacheTtlSeconds = 300", "AuthorizerCacheTtlSeconds = 900", f"above the maximum {TIMING['maxAuthorizerCacheTtlSecs']}"),
                ('OriginRequestPolicy = "AllViewerExceptHostHeader"', 'OriginRequestPolicy = "Nope"', "not one of"),
                ('EdgeCacheTtlSeconds = 300\nGatewayPathPrefix', 'EdgeCacheTtlSeconds = 300\nSecretName = "x"\nGatewayPathPrefix', "comes from the API-region stack"),
                # The templates' Rules, evaluated offline as CloudFormation would before creating anything.
                ('Aliases = ""', 'Aliases = "api.example.com"', "Aliases need CertificateArn"),
                ('ReplicaRegion2 = ""', 'ReplicaRegion2 = "ap-southeast-2"', "Fill ReplicaRegion1 before ReplicaRegion2"),
            ]:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text.replace(old, new, 1))
                original = deploy_config.SAMCONFIG
                deploy_config.SAMCONFIG = path
                try:
                    with self.assertRaises(deploy_config.ConfigProblem) as problem:
                        deploy_config.bundle_parameters("demo")
                    self.assertIn(reason, str(problem.exception))
                finally:
                    deploy_config.SAMCONFIG = original

    def test_edge_parameters_come_from_the_api_stack_outputs_and_match_the_bundle(self):
        outputs = [
            {"OutputKey": "SecretName", "OutputValue": "originsig/estate"},
            {"OutputKey": "SecretRegion", "OutputValue": "eu-west-1"},
            {"OutputKey": "ReplicaRegion1", "OutputValue": "us-east-1"},
            {"OutputKey": "OriginDomain", "OutputValue": "origin-api.example.com"},
            {"OutputKey": "OriginPath", "OutputValue": "/v1"},
            {"OutputKey": "EdgeMaxStaleSeconds", "OutputValue": "3600"},
        ]
        parameters = deploy_config.edge_parameters("estate", outputs)
        self.assertEqual((parameters["ReplicaRegion2"], parameters["KmsKeyArn"]), ("", ""))
        self.assertEqual(set(parameters), set(EDGE["Parameters"]))
        for name, value in parameters.items():
            self.assertIsNone(deploy_config.check_value(name, EDGE["Parameters"][name], value))
        # The file deploy.sh hands to `sam deploy --parameter-overrides file://…`, as SAM reads it.
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "edge-parameters.yaml")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(parameters, f)
            from samcli.cli.types import CfnParameterOverridesType

            self.assertEqual(CfnParameterOverridesType().convert(f"file://{path}", None, None), parameters)
        # A bundle built for these values passes; one built for other values is named.
        config = {"secretId": "originsig/estate", "region": "eu-west-1", "replicaRegions": ["us-east-1"],
                  "cacheTtlSeconds": 300, "maxStaleSeconds": 3600, "gatewayPathPrefix": None, "apiKind": "http_api"}
        parameters = dict(parameters, ApiKind="http_api")
        self.assertEqual(deploy_config.bundle_mismatches(parameters, config), [])
        self.assertEqual(len(deploy_config.bundle_mismatches(parameters, dict(config, replicaRegions=[]))), 1)
        self.assertEqual(len(deploy_config.bundle_mismatches(parameters, dict(config, apiKind="rest_api"))), 1)
        # An API stack deployed from other values than samconfig.toml says is refused.
        drifted = [dict(o, OutputValue="eu-central-1") if o["OutputKey"] == "SecretRegion" else o for o in outputs]
        with self.assertRaises(deploy_config.ConfigProblem):
            deploy_config.edge_parameters("estate", drifted)

    def test_bundle_arguments_carry_every_replica(self):
        # Defect 12: a third replica the bundle baked in and the stack dropped. One list now.
        args = deploy_config.bundle_args(dict(deploy_config.bundle_parameters("estate"), ReplicaRegion2="ap-southeast-2"))
        self.assertEqual(args[args.index("--replica-regions") + 1], "us-east-1,ap-southeast-2")
        self.assertNotIn("--gateway-path-prefix", args)
        args = deploy_config.bundle_args(dict(deploy_config.bundle_parameters("estate"), GatewayPathPrefix=""))
        self.assertEqual(args[args.index("--gateway-path-prefix") + 1], "")

    def test_scripts_use_sam_only(self):
        for script in ("build.sh", "deploy.sh", "teardown.sh", "smoke.sh", "lib.sh"):
            text = source(f"infra/{script}")
            code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("#", "echo")))
            self.assertNotRegex(code, r"(^|[\s;(|])aws\s", f"{script} calls the AWS CLI")
            self.assertNotIn("deploy.env", text)


class TemplateDefects(unittest.TestCase):
    """One check per defect of issue 13 (numbers as in the issue)."""

    def test_2_the_secret_survives_replacement_and_deletion(self):
        secret = API["Resources"]["KeySecret"]
        self.assertEqual((secret.get("DeletionPolicy"), secret.get("UpdateReplacePolicy")), ("Retain", "Retain"))

    def test_3_the_rotator_needs_no_reserved_concurrency(self):
        # "below its minimum value of [10]" on accounts with a low concurrency quota.
        self.assertNotIn("ReservedConcurrentExecutions", props(API, "RotatorFunction"))

    def test_4_bounds_keep_rotation_possible(self):
        wait = int(API["Parameters"]["AuthorizerCacheTtlSeconds"]["MaxValue"]) + TIMING["safetyMarginSecs"]
        self.assertLessEqual(wait, int(props(API, "RotatorFunction")["Timeout"]) - 10)
        pattern = re.compile(API["Parameters"]["RotationSchedule"]["AllowedPattern"])
        for ok in ["rate(30 days)", "rate(1 day)", "rate(4 hours)", "rate(12 hours)", "cron(0 4 1 * ? *)"]:
            self.assertTrue(pattern.fullmatch(ok), ok)
        for bad in ["rate(1 hour)", "rate(3 hours)", "rate(0 days)", "rate(30 minutes)"]:
            self.assertFalse(pattern.fullmatch(bad), bad)

    # 5 (testSecret alone) is a Rust test: hmac-authorizer/tests/faults.rs.

    def test_6_kms_with_replicas_needs_a_multi_region_key(self):
        rule = API["Rules"]["KmsKeyWithoutReplicas"]
        self.assertIn("regional", rule["Assertions"][0]["AssertDescription"])
        # CloudFormation Rules may only compare values: no Fn::Select/Fn::Split in them.
        allowed = {"Fn::And", "Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn", "Fn::Equals",
                   "Fn::Not", "Fn::Or", "Fn::RefAll", "Fn::ValueOf", "Fn::ValueOfAll", "Ref", "Condition"}
        for name, template in [("api-region", API), ("edge", EDGE)]:
            used = set(re.findall(r'"((?:Fn::)?[A-Za-z:]+)":', json.dumps(template["Rules"])))
            functions = {u for u in used if u.startswith("Fn::") or u == "Ref"}
            self.assertLessEqual(functions, allowed, f"{name}: {functions - allowed}")
        self.assertTrue(re.fullmatch(API["Parameters"]["KmsMultiRegionKeyId"]["AllowedPattern"], "mrk-1234abcd12ab34cd56ef1234567890ab"))
        # Each replica is encrypted with the multi-Region key of the same id in its own region.
        replica = props(API, "KeySecret")["ReplicaRegions"][0]["Fn::If"][1]
        self.assertEqual(replica["KmsKeyId"]["Fn::If"][:2], ["HasMultiRegionKey", {"Ref": "KmsMultiRegionKeyId"}])
        # The edge may decrypt in the secret's region and each replica region, through Secrets Manager only.
        decrypt = statement(EDGE, "EdgeSignerRole", "DecryptThroughSecretsManagerOnly")
        self.assertEqual(len(decrypt["Resource"]), 3)
        self.assertIn("kms:ViaService", json.dumps(decrypt["Condition"]))

    def test_7_alarms_watch_what_the_code_emits_per_stack(self):
        emitter = source("hmac-authorizer/src/observability.rs")
        handler = source("hmac-authorizer/src/handler.rs")
        env = props(API, "AuthorizerFunction")["Environment"]["Variables"]
        self.assertEqual(env["ORIGINSIG_METRICS_DEPLOYMENT"], {"Ref": "AWS::StackName"})
        for alarm, decision in [("DenyRateAlarm", "deny"), ("AuthorizerErrorAlarm", "error")]:
            spec = props(API, alarm)
            self.assertEqual(spec["Namespace"], env["ORIGINSIG_METRICS_NAMESPACE"])
            self.assertIn(f'"Name": "{spec["MetricName"]}"', emitter)
            dimensions = {d["Name"]: d["Value"] for d in spec["Dimensions"]}
            self.assertEqual(dimensions, {"Deployment": {"Ref": "AWS::StackName"}, "Decision": decision})
            self.assertIn('["Deployment", "Decision"]', emitter)
            self.assertIn(f'self.metric("{decision}"', handler)
        self.assertNotIn("found the URL", props(API, "DenyRateAlarm")["AlarmDescription"])
        self.assertIn("401", props(API, "DenyRateAlarm")["AlarmDescription"])
        rotation = props(API, "RotationFailureAlarm")
        self.assertEqual((rotation["Namespace"], rotation["MetricName"]), ("AWS/Lambda", "Errors"))
        self.assertEqual(rotation["Dimensions"][0]["Value"], {"Ref": "RotatorFunction"})
        edge = props(EDGE, "Edge503Alarm")
        self.assertEqual((edge["Namespace"], edge["MetricName"]), ("AWS/CloudFront", "503ErrorRate"))
        self.assertIn("AdditionalMetrics", EDGE["Resources"], "503ErrorRate needs CloudFront's additional metrics")
        self.assertIn("503", source("edge-signer/node/index.mjs"))

    def test_8_edge_logs_have_a_named_group_with_retention(self):
        function = props(EDGE, "EdgeSignerFunction")
        self.assertEqual(function["LoggingConfig"]["LogGroup"], {"Ref": "EdgeLogGroup"})
        group = props(EDGE, "EdgeLogGroup")
        name = group["LogGroupName"]["Fn::Sub"]
        self.assertFalse(name.startswith("/aws/lambda/"), "a default-style name gets the us-east-1. prefix back")
        self.assertEqual(group["RetentionInDays"], {"Ref": "LogRetentionDays"})
        logs = statement(EDGE, "EdgeSignerRole", "OwnLogGroupInEveryRegion")
        self.assertTrue(all(name in r["Fn::Sub"] for r in logs["Resource"]))

    def test_9_least_privilege(self):
        # Edge: GetSecretValue of AWSCURRENT only, in the secret's region and its replicas; the code asks for AWSCURRENT by name.
        read = statement(EDGE, "EdgeSignerRole", "ReadTheSigningKeyOnly")
        self.assertEqual(read["Action"], "secretsmanager:GetSecretValue")
        self.assertEqual(read["Condition"], {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}})
        self.assertIn("VersionStage: 'AWSCURRENT'", source("edge-signer/node/index.mjs"))
        regions = json.dumps(read["Resource"])
        for region in ("${SecretRegion}", "${ReplicaRegion1}", "${ReplicaRegion2}"):
            self.assertIn(f"secretsmanager:{region}:", regions)
        self.assertNotIn("secretsmanager:*:", regions)
        # No role anywhere allows logs on every log group, or anything on "*".
        for template in (API, EDGE):
            for name, resource in template["Resources"].items():
                if resource["Type"] != "AWS::IAM::Role":
                    continue
                for s in statements(template, name):
                    s = s["Fn::If"][1] if "Fn::If" in s else s
                    self.assertNotEqual(s.get("Resource"), "*", f"{name}: {s.get('Sid')}")
                self.assertNotIn("ManagedPolicyArns", resource["Properties"], f"{name}: AWSLambdaBasicExecutionRole logs to any group")
        for role, group in [("AuthorizerRole", "AuthorizerLogGroup"), ("RotatorRole", "RotatorLogGroup"), ("DemoRole", "DemoLogGroup")]:
            self.assertEqual(statement(API, role, "OwnLogGroupOnly")["Resource"], {"Fn::Sub": f"${{{group}.Arn}}"})
        for role, sid in [("AuthorizerRole", "DecryptThroughSecretsManagerOnly"), ("RotatorRole", "EncryptAndDecryptThroughSecretsManagerOnly")]:
            self.assertIn("kms:ViaService", json.dumps(statement(API, role, sid)["Condition"]))
        # The rotator tags with the keys the code writes.
        tag = statement(API, "RotatorRole", "RecordRotationTagsOnly")
        tags = rust_str_consts("hmac-authorizer/src/store/secrets_manager.rs")
        self.assertEqual(tag["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"],
                         [PROMOTED_AT_TAG, tags["FAILED_TEST_TAG"], tags["KVS_ARN_TAG"]])
        # Invoke permissions name the authorizer (existing API) or the API (demo), never any API.
        existing = props(API, "ExistingApiAuthorizerPermission")["SourceArn"]["Fn::Sub"]
        self.assertTrue(existing.endswith("/authorizers/${ExistingApiAuthorizer}"), existing)
        self.assertFalse(props(API, "DemoApi")["Auth"]["Authorizers"]["OriginSig"]["EnableFunctionDefaultPermissions"])
        self.assertIn("${DemoApi}/authorizers/", props(API, "DemoApiAuthorizerPermission")["SourceArn"]["Fn::Sub"])

    def test_10_checkov_justifications_are_true(self):
        skips = {s["id"]: s["comment"] for s in EDGE["Resources"]["EdgeSignerFunction"]["Metadata"]["checkov"]["skip"]}
        self.assertNotIn("cannot have reserved concurrency", skips["CKV_AWS_115"])  # they can; provisioned is what they cannot
        skips = {s["id"]: s["comment"] for s in EDGE["Resources"]["Distribution"]["Metadata"]["checkov"]["skip"]}
        self.assertIn("AccessLogDelivery", skips["CKV_AWS_86"])
        delivery = EDGE["Resources"]["AccessLogSource"]["Properties"]
        self.assertEqual(delivery["LogType"], "ACCESS_LOGS")
        self.assertIn("distribution/${Distribution}", delivery["ResourceArn"]["Fn::Sub"])

    def test_11_the_translated_template_is_what_gets_linted(self):
        with tempfile.TemporaryDirectory() as folder:
            broken = copy.deepcopy(translate.packaged(API))
            broken["Resources"]["RotatorFunction"]["Properties"]["Timeout"] = 1900
            os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"
            path = os.path.join(folder, "broken.json")
            from samtranslator.translator.transform import transform

            with open(path, "w", encoding="utf-8") as f:
                json.dump(transform(broken, {}, translate.NoManagedPolicies()), f)
            lint = subprocess.run([os.path.join(SAM_BIN, "cfn-lint"), "--", path], capture_output=True, text=True, check=False)
        self.assertNotEqual(lint.returncode, 0)
        self.assertIn("E3717", lint.stdout)
        # The translation gives every function the role it names (no SAM-made role with managed policies).
        translated = translate.translate(os.path.join(ROOT, "infra", "api-region.yaml"), "eu-west-1")
        roles = [r for r in translated["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
        for role in roles:
            for arn in role["Properties"].get("ManagedPolicyArns", []):
                self.assertNotIn("AWSLambdaBasicExecutionRole", json.dumps(arn), role)

    def test_12_outputs_and_direct_url(self):
        direct = json.dumps(API["Outputs"]["DirectApiUrl"]["Value"])
        self.assertIn("${OriginPath}", direct)
        for name in ("SecretArn", "DirectApiUrl", "ApiId", "AuthorizerFunctionArn", "RotatorFunctionArn", "Alarms"):
            self.assertIn(name, API["Outputs"])
        for name in ("CloudFrontUrl", "DistributionId", "EdgeSignerVersionArn", "EdgeSignerFunctionName", "EdgeLogGroupName", "Alarms"):
            self.assertIn(name, EDGE["Outputs"])
        # Every value the edge stack takes from the API-region stack is one of its outputs.
        for name in deploy_config.FROM_API_STACK:
            self.assertIn(name, API["Outputs"])
            self.assertIn(name, EDGE["Parameters"])
        # Every value the API-region stack takes from the edge section is the same parameter there.
        for name in deploy_config.FROM_EDGE_SECTION:
            self.assertEqual(API["Parameters"][name], EDGE["Parameters"][name] | {"Description": API["Parameters"][name]["Description"]})

    def test_the_rotator_signs_its_check_with_the_edge_sections_prefix(self):
        # deploy.sh hands [ENV-edge]'s GatewayPathPrefix to the API-region stack; listed in the
        # API-region section it is refused (one place to set it).
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "samconfig.toml")
            text = source("infra/samconfig.toml")
            custom = re.sub(r'(\[estate-edge\.deploy\.parameters\.parameter_overrides\][^\[]*?)GatewayPathPrefix = "\(origin path\)"',
                            r'\1GatewayPathPrefix = "/mapped"', text, count=1, flags=re.S)
            self.assertNotEqual(custom, text)
            with open(path, "w", encoding="utf-8") as f:
                f.write(custom)
            original = deploy_config.SAMCONFIG
            deploy_config.SAMCONFIG = Path(path)
            try:
                parameters = deploy_config.api_parameters("estate")
                self.assertEqual(parameters["GatewayPathPrefix"], "/mapped")
                self.assertEqual(set(parameters), set(API["Parameters"]))
                listed = re.sub(r'(\[estate\.deploy\.parameters\.parameter_overrides\]\n)', r'\1GatewayPathPrefix = "/mapped"\n', custom, count=1)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(listed)
                with self.assertRaises(deploy_config.ConfigProblem) as refused:
                    deploy_config.bundle_parameters("estate")
                self.assertIn("GatewayPathPrefix: comes from", str(refused.exception))
            finally:
                deploy_config.SAMCONFIG = original
        env = props(API, "RotatorFunction")["Environment"]["Variables"]
        self.assertEqual(env["ORIGINSIG_GATEWAY_PATH_PREFIX"], {"Fn::If": ["PrefixIsOriginPath", {"Ref": "AWS::NoValue"}, {"Ref": "GatewayPathPrefix"}]})
        self.assertEqual(API["Conditions"]["PrefixIsOriginPath"], {"Fn::Equals": [{"Ref": "GatewayPathPrefix"}, deploy_config.ORIGIN_PATH_PREFIX]})


FAKE_SAM = """#!{python}
# A stand-in for the sam binary: records each call; answers stack outputs; fails the edge stack's
# delete as long as FAIL_EDGE_DELETES says (Lambda@Edge replicas still there).
import json, os, sys
log = os.environ["FAKE_SAM_LOG"]
with open(log, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[:1] == ["deploy"] and "--parameter-overrides" in args:
    overrides = args[args.index("--parameter-overrides") + 1]
    if overrides.startswith("file://"):
        with open(log + ".overrides", "a") as f:
            f.write(open(overrides[len("file://"):]).read().replace("\\n", " ") + "\\n")
if args[:2] == ["list", "stack-outputs"]:
    stack = args[args.index("--stack-name") + 1]
    if "--output" in args and args[args.index("--output") + 1] == "json":
        print(json.dumps(json.load(open(os.environ["FAKE_SAM_OUTPUTS"]))[stack]))
elif args[:1] == ["delete"] and args[args.index("--stack-name") + 1].endswith("-edge"):
    counter = log + ".edge-deletes"
    n = int(open(counter).read()) if os.path.exists(counter) else 0
    open(counter, "w").write(str(n + 1))
    if n < int(os.environ.get("FAIL_EDGE_DELETES", "0")):
        print("Error: Failed to delete the stack: Lambda was unable to delete ... because it is a replicated function", file=sys.stderr)
        sys.exit(1)
"""


class Scripts(unittest.TestCase):
    """deploy.sh and teardown.sh, run for real against a stand-in sam binary."""

    OUTPUTS = {
        "originsig-demo": [
            {"OutputKey": "SecretArn", "OutputValue": "arn:aws:secretsmanager:us-east-1:123456789012:secret:originsig/demo-AbCdEf"},
            {"OutputKey": "SecretName", "OutputValue": "originsig/demo"},
            {"OutputKey": "SecretRegion", "OutputValue": "us-east-1"},
            {"OutputKey": "OriginDomain", "OutputValue": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"},
            {"OutputKey": "EdgeMaxStaleSeconds", "OutputValue": "3600"},
        ],
        "originsig-demo-edge": [{"OutputKey": "CloudFrontUrl", "OutputValue": "https://d111111abcdef8.cloudfront.net/"}],
    }

    def run_script(self, script, folder, *args, **env):
        sam = os.path.join(folder, "sam")
        with open(sam, "w", encoding="utf-8") as f:
            f.write(FAKE_SAM.format(python=sys.executable))
        os.chmod(sam, 0o755)
        outputs = os.path.join(folder, "outputs.json")
        with open(outputs, "w", encoding="utf-8") as f:
            json.dump(self.OUTPUTS, f)
        log = os.path.join(folder, "calls")
        environment = dict(os.environ, ORIGINSIG_SAM=sam, FAKE_SAM_LOG=log, FAKE_SAM_OUTPUTS=outputs,
                           NO_PROXY="127.0.0.1", no_proxy="127.0.0.1", **env)
        args = args or ("demo",)
        run = subprocess.run(["bash", os.path.join(ROOT, "infra", script), *args], capture_output=True, text=True,
                             env=environment, check=False, timeout=120)
        calls = []
        if os.path.exists(log):
            with open(log, encoding="utf-8") as f:
                calls = [json.loads(line) for line in f]
        return run, calls

    def test_deploy_deploys_the_api_region_first_then_the_edge_with_its_outputs(self):
        with tempfile.TemporaryDirectory() as folder:
            bundle = os.path.join(folder, "config.json")
            with open(bundle, "w", encoding="utf-8") as f:
                json.dump({"secretId": "originsig/demo", "region": "us-east-1", "replicaRegions": [], "cacheTtlSeconds": 300,
                           "maxStaleSeconds": 3600, "gatewayPathPrefix": None, "apiKind": "http_api"}, f)
            run, calls = self.run_script("deploy.sh", folder, ORIGINSIG_EDGE_BUNDLE_CONFIG=bundle)
            self.assertEqual(run.returncode, 0, run.stderr)
            deploys = [c for c in calls if c[0] == "deploy"]
            self.assertEqual([d[d.index("--config-env") + 1] for d in deploys], ["demo", "demo-edge"])
            for deploy in deploys:
                overrides = deploy[deploy.index("--parameter-overrides") + 1]
                self.assertTrue(overrides.startswith("file://") and overrides.endswith(".yaml"), overrides)
            # A bundle built for other values stops the deploy before the edge stack.
            with open(bundle, "w", encoding="utf-8") as f:
                json.dump({"secretId": "other"}, f)
            os.remove(os.path.join(folder, "calls"))
            run, calls = self.run_script("deploy.sh", folder, ORIGINSIG_EDGE_BUNDLE_CONFIG=bundle)
            self.assertNotEqual(run.returncode, 0)
            self.assertIn("run infra/build.sh demo", run.stderr)
            self.assertEqual([c[c.index("--config-env") + 1] for c in calls if c[0] == "deploy"], ["demo"])

    def test_teardown_retries_the_edge_stack_until_the_replicas_are_gone(self):
        with tempfile.TemporaryDirectory() as folder:
            run, calls = self.run_script("teardown.sh", folder, FAIL_EDGE_DELETES="2", ORIGINSIG_TEARDOWN_RETRY_SECS="0")
            self.assertEqual(run.returncode, 0, run.stderr)
            deletes = [c[c.index("--stack-name") + 1] for c in calls if c[0] == "delete"]
            self.assertEqual(deletes, ["originsig-demo-edge"] * 3 + ["originsig-demo"], "edge first, retried; the API-region stack last")
            self.assertIn("replicas", run.stderr)
            self.assertIn("secret:originsig/demo-AbCdEf", run.stdout, "names the retained secret")

    def test_smoke_checks_the_three_answers(self):
        import http.server
        import threading

        open_api = {"value": False}

        class Api(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                if self.path.startswith("/cf/"):
                    status = 200
                elif open_api["value"]:
                    status = 200  # a bypassable API: the smoke test must fail
                else:
                    status = 403 if self.headers.get("x-originsig") else 401
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        outputs = copy.deepcopy(self.OUTPUTS)
        outputs["originsig-demo"].append({"OutputKey": "DirectApiUrl", "OutputValue": f"{base}/direct/"})
        outputs["originsig-demo-edge"] = [{"OutputKey": "CloudFrontUrl", "OutputValue": f"{base}/cf/"}]
        original, self.OUTPUTS = self.OUTPUTS, outputs
        try:
            with tempfile.TemporaryDirectory() as folder:
                run, _ = self.run_script("smoke.sh", folder)
                self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
                self.assertEqual(run.stdout.count("ok    "), 3, run.stdout)
                open_api["value"] = True
                run, _ = self.run_script("smoke.sh", folder)
                self.assertEqual(run.returncode, 1, run.stdout)
                self.assertIn("FAIL  direct, no signature", run.stdout)
        finally:
            self.OUTPUTS = original
            server.shutdown()

    def test_teardown_gives_up_without_touching_the_api_region_stack(self):
        with tempfile.TemporaryDirectory() as folder:
            run, calls = self.run_script("teardown.sh", folder, FAIL_EDGE_DELETES="99", ORIGINSIG_TEARDOWN_RETRY_SECS="1",
                                         ORIGINSIG_TEARDOWN_MAX_WAIT_SECS="2")
            self.assertEqual(run.returncode, 1)
            self.assertIn("run infra/teardown.sh demo again later", run.stderr)
            self.assertNotIn("originsig-demo", [c[c.index("--stack-name") + 1] for c in calls if c[0] == "delete"])



class Configure(unittest.TestCase):
    """Issue 21.1: infra/configure.py writes and checks an environment for your API, offline."""

    ANSWERS = ["--env", "shop", "--api-id", "a1b2c3d4e5", "--region", "eu-west-1", "--stage", "prod", "--health-path", "/health",
               "--existing-distribution", "E1EXAMPLE2ABCD", "--alarm-topic-arn", "arn:aws:sns:eu-west-1:123456789012:ops"]

    def configure(self, folder, *args, stdin=None):
        path = os.path.join(folder, "samconfig.toml")
        if not os.path.exists(path):
            with open(path, "w", encoding="utf-8") as f:
                f.write(source("infra/samconfig.toml"))
        run = subprocess.run([sys.executable, os.path.join(ROOT, "infra", "configure.py"), "--config-file", path, *args],
                             capture_output=True, text=True, check=False, input=stdin, timeout=120)
        return run, path

    def with_samconfig(self, path):
        original = deploy_config.SAMCONFIG
        deploy_config.SAMCONFIG = path
        self.addCleanup(setattr, deploy_config, "SAMCONFIG", original)

    def test_flags_write_an_environment_sam_reads_and_the_bundle_follows(self):
        with tempfile.TemporaryDirectory() as folder:
            run, path = self.configure(folder, *self.ANSWERS)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertIn("not checked", run.stdout)
            self.assertIn("a1b2c3d4e5 exists in eu-west-1", run.stdout)
            self.with_samconfig(path)
            self.assertEqual(deploy_config.environments(path), ["demo", "estate", "shop"])
            api = deploy_config.section("shop")
            self.assertEqual((api["stack_name"], api["region"], api["template_file"]), ("originsig-shop", "eu-west-1", os.path.join(ROOT, "infra", "api-region.yaml")))
            overrides = api["parameter_overrides"]
            self.assertEqual((overrides["HttpApiId"], overrides["RestApiId"], overrides["OriginPath"]), ("a1b2c3d4e5", "", "/prod"))
            self.assertEqual(overrides["SecretName"], "originsig/shop")
            self.assertEqual(overrides["AlarmTopicArn"], "arn:aws:sns:eu-west-1:123456789012:ops")
            self.assertEqual(set(overrides), set(API["Parameters"]) - set(deploy_config.FROM_EDGE_SECTION),
                             "every parameter listed, but those the edge section sets")
            edge = deploy_config.section("shop-edge")
            self.assertEqual(edge["region"], "us-east-1")
            self.assertEqual(edge["parameter_overrides"]["ExistingDistributionId"], "E1EXAMPLE2ABCD")
            args = deploy_config.bundle_args(deploy_config.bundle_parameters("shop"))
            self.assertEqual(args[args.index("--region") + 1], "eu-west-1")
            self.assertEqual(args[args.index("--api-kind") + 1], "http_api")
            # The shipped examples are untouched; running again needs --replace.
            self.assertEqual(deploy_config.section("estate")["parameter_overrides"]["HttpApiId"], "a1b2c3d4e5")
            again, _ = self.configure(folder, *self.ANSWERS)
            self.assertEqual(again.returncode, 2)
            self.assertIn("--replace", again.stderr)
            replaced, _ = self.configure(folder, *self.ANSWERS, "--replace", "--secret-name", "originsig/shop-2")
            self.assertEqual(replaced.returncode, 0, replaced.stderr)
            self.assertEqual(deploy_config.section("shop")["parameter_overrides"]["SecretName"], "originsig/shop-2")
            with open(path, encoding="utf-8") as f:
                self.assertEqual(f.read().count("[shop.deploy.parameters]"), 1)
            self.assertEqual(deploy_config.environments(path), ["demo", "estate", "shop"])

    def test_a_rest_api_on_a_custom_domain(self):
        with tempfile.TemporaryDirectory() as folder:
            run, path = self.configure(folder, "--env", "legacy", "--api-id", "f6g7h8i9j0", "--api-kind", "rest",
                                       "--region", "ap-southeast-2", "--custom-domain", "origin.example.com",
                                       "--mapping-path", "v1", "--new-distribution", "--health-path", "/health")
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertIn("originsig doctor", run.stdout)
            # Issue 23.8: several APIs on one domain with one secret accept each other's signatures.
            self.assertIn("no other API mapped on origin.example.com shares the secret", run.stdout)
            self.with_samconfig(path)
            overrides = deploy_config.section("legacy")["parameter_overrides"]
            self.assertEqual((overrides["HttpApiId"], overrides["RestApiId"]), ("", "f6g7h8i9j0"))
            # A REST API of your own needs a health route too (rule CheckPathWithYourApi).
            self.assertEqual(overrides["RotatorCheckPath"], "/health")
            self.assertEqual((overrides["ApiCustomDomain"], overrides["OriginPath"]), ("origin.example.com", "/v1"))
            args = deploy_config.bundle_args(deploy_config.bundle_parameters("legacy"))
            self.assertEqual(args[args.index("--api-kind") + 1], "rest_api")

    def test_wrong_answers_write_nothing_and_say_why(self):
        for args, reason in [
            (["--api-id", "NOT-AN-ID"], "HttpApiId='NOT-AN-ID'"),
            (["--region", "eu-west-9"], "not a region"),
            (["--alarm-topic-arn", "arn:aws:sns:us-east-1:123456789012:ops"], "must be in eu-west-1"),
            (["--existing-distribution", "nope"], "ExistingDistributionId"),
            (["--env", "demo"], "already in"),
            (["--api-kind", "rest", "--stage", "$default"], "no $default stage"),
        ]:
            answers = list(self.ANSWERS)
            for i in range(0, len(args), 2):
                if args[i] in answers:
                    answers[answers.index(args[i]) + 1] = args[i + 1]
                else:
                    answers += args[i:i + 2]
            with tempfile.TemporaryDirectory() as folder:
                run, path = self.configure(folder, *answers)
                self.assertEqual(run.returncode, 2, (args, run.stdout))
                self.assertIn(reason, run.stderr, args)
                with open(path, encoding="utf-8") as f:
                    self.assertEqual(f.read(), source("infra/samconfig.toml"), "nothing written")

    def test_without_a_terminal_a_missing_answer_names_the_flag(self):
        with tempfile.TemporaryDirectory() as folder:
            run, _ = self.configure(folder, "--env", "shop", "--region", "eu-west-1")
            self.assertEqual(run.returncode, 2)
            self.assertIn("--api-id", run.stderr)
            self.assertIn("--stage or --custom-domain", run.stderr)

    def test_on_a_terminal_it_asks(self):
        import configure

        args = configure.parser().parse_args(["--env", "shop"])
        answers = io.StringIO("a1b2c3d4e5\nHTTP\neu-west-1\nprod\nE1EXAMPLE2ABCD\n\n")
        configure.ask(args, answers, io.StringIO())
        self.assertEqual((args.api_id, args.api_kind, args.region, args.stage, args.existing_distribution, args.alarm_topic_arn),
                         ("a1b2c3d4e5", "http", "eu-west-1", "prod", "E1EXAMPLE2ABCD", ""))
        configure.require(args)
        api, edge = configure.parameters(args)
        self.assertEqual((api["OriginPath"], edge["ExistingDistributionId"]), ("/prod", "E1EXAMPLE2ABCD"))
        self.assertEqual((api["HttpApiId"], api["RestApiId"]), ("a1b2c3d4e5", ""))
        args.api_kind = "graphql"
        with self.assertRaises(configure.Usage):
            configure.require(args)

    def test_any_python3_runs_it(self):
        # Step 1 of the README runs before .venv-sam exists: a Python without the SAM CLI re-runs
        # the script with .venv-sam's (after installing it; here it exists).
        with tempfile.TemporaryDirectory() as folder:
            bare = subprocess.run(["python3", "-S", "-c", "import samcli"], capture_output=True, check=False)
            self.assertNotEqual(bare.returncode, 0, "python3 -S must be a Python without the SAM CLI")
            run = subprocess.run(["python3", "-S", os.path.join(ROOT, "infra", "deploy_config.py"), "check", "demo"],
                                 capture_output=True, text=True, check=False, timeout=120,
                                 env=dict(os.environ, PATH=os.environ["PATH"]), cwd=folder)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertIn("demo and demo-edge: every parameter valid", run.stdout)


class RestApi(unittest.TestCase):
    """Issue 21.3: a REST API origin deploys with its own authorizer and the bundle built for it."""

    def test_the_rest_authorizer(self):
        authorizer = props(API, "RestApiAuthorizer")
        self.assertEqual(API["Resources"]["RestApiAuthorizer"]["Condition"], "UseRestApi")
        self.assertEqual(authorizer["Type"], "REQUEST")
        self.assertEqual(authorizer["IdentitySource"], f"method.request.header.{CORE['HEADER_NAME']}")
        self.assertEqual(authorizer["AuthorizerResultTtlInSeconds"], 0, "result caching must be off")
        self.assertEqual(authorizer["RestApiId"], {"Ref": "RestApiId"})
        permission = props(API, "RestApiAuthorizerPermission")["SourceArn"]["Fn::Sub"]
        self.assertTrue(permission.endswith("${RestApiId}/authorizers/${RestApiAuthorizer}"), permission)
        mode = props(API, "AuthorizerFunction")["Environment"]["Variables"]["ORIGINSIG_RESPONSE_MODE"]
        self.assertEqual(mode, {"Fn::If": ["UseRestApi", "rest", "simple"]})
        self.assertIn('"rest"', source("hmac-authorizer/src/config.rs"))
        self.assertEqual(API["Outputs"]["ApiKind"]["Value"], {"Fn::If": ["UseRestApi", "rest_api", "http_api"]})
        # Neither the HTTP API authorizer nor the demo API is created for a REST API.
        self.assertEqual(API["Conditions"]["UseExistingApi"], {"Fn::Not": [{"Fn::Equals": [{"Ref": "HttpApiId"}, ""]}]})
        self.assertIn({"Fn::Equals": [{"Ref": "RestApiId"}, ""]}, API["Conditions"]["CreateApi"]["Fn::And"])

    def test_the_rest_template_translates_and_lints(self):
        from samtranslator.translator.transform import transform

        template = translate.packaged(API)
        template["Parameters"]["RestApiId"]["Default"] = "f6g7h8i9j0"
        os.environ["AWS_DEFAULT_REGION"] = "eu-west-1"
        translated = transform(template, {}, translate.NoManagedPolicies())
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "rest.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(translated, f)
            lint = subprocess.run([os.path.join(SAM_BIN, "cfn-lint"), "--ignore-checks", "W1028", "--", path],
                                  capture_output=True, text=True, check=False)
        self.assertEqual(lint.returncode, 0, lint.stdout)

    def test_deploy_refuses_a_bundle_built_for_the_other_kind(self):
        outputs = [
            {"OutputKey": "SecretName", "OutputValue": "originsig/estate"},
            {"OutputKey": "SecretRegion", "OutputValue": "eu-west-1"},
            {"OutputKey": "ReplicaRegion1", "OutputValue": "us-east-1"},
            {"OutputKey": "OriginDomain", "OutputValue": "origin-api.example.com"},
            {"OutputKey": "OriginPath", "OutputValue": "/v1"},
            {"OutputKey": "EdgeMaxStaleSeconds", "OutputValue": "3600"},
            {"OutputKey": "ApiKind", "OutputValue": "rest_api"},
        ]
        with self.assertRaises(deploy_config.ConfigProblem) as drift:
            deploy_config.edge_parameters("estate", outputs)
        self.assertIn("ApiKind", str(drift.exception))


class EveryStepWorksWhenReached(unittest.TestCase):
    """Issue 21.2: the scripts need an environment, build the CLI, and never name the AWS CLI."""

    def test_scripts_need_an_environment(self):
        for script in ("build.sh", "deploy.sh", "teardown.sh"):
            run = subprocess.run(["bash", os.path.join(ROOT, "infra", script)], capture_output=True, text=True, check=False)
            self.assertEqual(run.returncode, 2, script)
            self.assertIn("usage: infra/" + script + " ENV", run.stderr)
        run = subprocess.run(["bash", os.path.join(ROOT, "infra", "build.sh"), "demo", "wasm"], capture_output=True, text=True, check=False)
        self.assertEqual(run.returncode, 2)

    def test_build_builds_the_cli_the_readme_runs(self):
        build = source("infra/build.sh")
        self.assertIn("cargo build --release --locked --bin originsig", build)
        readme = source("README.md")
        block = readme[readme.index("<!-- protect-your-api:begin -->"):readme.index("<!-- protect-your-api:end -->")]
        self.assertIn("target/release/originsig ", block)
        self.assertIn("target/release/originsig", build)

    def test_no_aws_cli_anywhere_the_operator_reads(self):
        for path in ("infra/teardown.sh", "infra/deploy.sh", "infra/build.sh", "infra/configure.py", "docs/your-api.md"):
            self.assertNotRegex(source(path), r"(^|[\s`(])aws (secretsmanager|cloudformation|apigateway|lambda|cloudfront)", path)

    def test_teardown_says_what_a_redeploy_with_the_same_secret_name_does(self):
        with tempfile.TemporaryDirectory() as folder:
            run, _ = Scripts.run_script(Scripts(), "teardown.sh", folder)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("target/release/originsig status --secret-id arn:aws:secretsmanager:", run.stdout)
        self.assertIn("--region us-east-1", run.stdout)
        self.assertIn("scheduled for deletion", run.stdout)
        self.assertIn("python3 infra/configure.py --env demo --replace --secret-name originsig/demo-2", run.stdout)

    def test_deploy_prints_the_next_commands_with_the_deployments_values(self):
        api = [{"OutputKey": "SecretArn", "OutputValue": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:originsig/estate-AbCdEf"},
               {"OutputKey": "AuthorizerId", "OutputValue": "abc123"},
               {"OutputKey": "DirectApiUrl", "OutputValue": "https://origin-api.example.com/v1/"}]
        edge = [{"OutputKey": "EdgeSignerVersionArn", "OutputValue": "arn:aws:lambda:us-east-1:123456789012:function:x:3"}]
        text = deploy_config.next_steps("estate", api, edge)
        self.assertIn("target/release/originsig routes attach --region eu-west-1 --api-id a1b2c3d4e5 --authorizer-id abc123", text)
        self.assertIn("associate arn:aws:lambda:us-east-1:123456789012:function:x:3", text)
        self.assertIn("E1EXAMPLE2ABCD", text)
        self.assertIn("originsig doctor", text)
        self.assertIn("rotate --secret-id arn:aws:secretsmanager:eu-west-1:123456789012:secret:originsig/estate-AbCdEf --region eu-west-1", text)
        self.assertNotIn("--kvs-arn", text)

    def test_next_commands_with_a_cloudfront_functions_edge_name_the_function_and_the_store(self):
        config = re.sub(r'(\[estate-edge\.deploy\.parameters\.parameter_overrides\][^\[]*?)EdgeKind = "lambda-edge"',
                        r'\1EdgeKind = "cloudfront-function"', source("infra/samconfig.toml"), count=1, flags=re.S)
        self.assertIn('EdgeKind = "cloudfront-function"', config)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "samconfig.toml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(config)
            original = deploy_config.SAMCONFIG
            deploy_config.SAMCONFIG = path
            try:
                api = [{"OutputKey": "SecretArn", "OutputValue": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:originsig/estate-AbCdEf"}]
                edge = [{"OutputKey": "CloudFrontFunctionArn", "OutputValue": "arn:aws:cloudfront::123456789012:function/estate-signer"},
                        {"OutputKey": "KeyValueStoreArn", "OutputValue": "arn:aws:cloudfront::123456789012:key-value-store/k1"}]
                text = deploy_config.next_steps("estate", api, edge)
            finally:
                deploy_config.SAMCONFIG = original
        self.assertIn("associate arn:aws:cloudfront::123456789012:function/estate-signer (viewer request)", text)
        self.assertNotIn("EdgeSignerVersionArn", text)
        for command in ("rotate", "status"):
            line = next(l for l in text.splitlines() if f"originsig {command} " in l)
            self.assertIn("--kvs-arn arn:aws:cloudfront::123456789012:key-value-store/k1", line, "every rotate must copy the key into the store")



FAKE_CLI = """#!{python}
# A stand-in for target/release/originsig: records each call; `status` answers whether the key
# value store holds AWSCURRENT (FAKE_KVS_MATCHES).
import json, os, sys
with open(os.environ["FAKE_CLI_LOG"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1] == "status":
    print(json.dumps({{"keyValueStore": {{"matchesCurrent": os.environ["FAKE_KVS_MATCHES"] == "1"}}}}))
"""


class CloudFrontFunctionDeploy(unittest.TestCase):
    """deploy.sh with EdgeKind cloudfront-function (issue 22.5), against the stand-in sam and CLI."""

    KVS_ARN = "arn:aws:cloudfront::123456789012:key-value-store/0e7c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"

    def deploy(self, folder, matches, configured_arn="", with_cli=True):
        with open(os.path.join(ROOT, "infra", "samconfig.toml"), encoding="utf-8") as f:
            config = f.read()
        config = re.sub(r'(\[demo-edge\.deploy\.parameters\.parameter_overrides\][^\[]*?)EdgeKind = "lambda-edge"',
                        r'\1EdgeKind = "cloudfront-function"', config, count=1, flags=re.S)
        config = re.sub(r'(\[demo\.deploy\.parameters\.parameter_overrides\][^\[]*?)KeyValueStoreArn = ""',
                        lambda m: m[1] + f'KeyValueStoreArn = "{configured_arn}"', config, count=1, flags=re.S)
        self.assertIn('EdgeKind = "cloudfront-function"', config)
        samconfig = os.path.join(folder, "samconfig.toml")
        with open(samconfig, "w", encoding="utf-8") as f:
            f.write(config)
        bundle = os.path.join(folder, "config.json")
        with open(bundle, "w", encoding="utf-8") as f:
            json.dump({"secretId": "originsig/demo", "region": "us-east-1", "replicaRegions": [], "cacheTtlSeconds": 300,
                       "maxStaleSeconds": 3600, "gatewayPathPrefix": None, "apiKind": "http_api"}, f)
        cli = os.path.join(folder, "originsig")
        if with_cli:
            with open(cli, "w", encoding="utf-8") as f:
                f.write(FAKE_CLI.format(python=sys.executable))
            os.chmod(cli, 0o755)
        self.OUTPUTS = dict(Scripts.OUTPUTS)
        self.OUTPUTS["originsig-demo"] = Scripts.OUTPUTS["originsig-demo"] + [{"OutputKey": "OriginPath", "OutputValue": "/v1"}]
        self.OUTPUTS["originsig-demo-edge"] = Scripts.OUTPUTS["originsig-demo-edge"] + [
            {"OutputKey": "KeyValueStoreArn", "OutputValue": self.KVS_ARN}]
        cli_log = os.path.join(folder, "cli-calls")
        run, calls = Scripts.run_script(self, "deploy.sh", folder, ORIGINSIG_EDGE_BUNDLE_CONFIG=bundle, ORIGINSIG_SAMCONFIG=samconfig,
                                     ORIGINSIG_CLI=cli, FAKE_CLI_LOG=cli_log, FAKE_KVS_MATCHES="1" if matches else "0")
        cli_calls = []
        if os.path.exists(cli_log):
            with open(cli_log, encoding="utf-8") as f:
                cli_calls = [json.loads(line) for line in f]
        overrides = []
        if os.path.exists(os.path.join(folder, "calls.overrides")):
            with open(os.path.join(folder, "calls.overrides"), encoding="utf-8") as f:
                overrides = [json.loads(line) for line in f]
        return run, [c for c in calls if c[0] == "deploy"], cli_calls, overrides

    def test_the_function_is_built_for_the_api_rendered_and_the_store_seeded_and_given_to_the_rotator(self):
        with tempfile.TemporaryDirectory() as folder:
            run, deploys, cli_calls, overrides = self.deploy(folder, matches=False)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual([d[d.index("--config-env") + 1] for d in deploys], ["demo", "demo-edge", "demo"])
            # The edge stack from the rendered template, with the function built for the API's origin.
            edge = deploys[1]
            self.assertEqual(edge[edge.index("--template-file") + 1], "edge.rendered.yaml")
            with open(os.path.join(ROOT, "infra", "edge.rendered.yaml"), encoding="utf-8") as f:
                rendered = f.read()
            self.assertNotIn(cff_marker(), rendered)
            self.assertIn('\\"host\\":\\"a1b2c3d4e5.execute-api.us-east-1.amazonaws.com\\"', rendered)
            self.assertIn('\\"pathPrefix\\":\\"/v1\\"', rendered, "(origin path): the API-region stack's OriginPath")
            # The store gets AWSCURRENT (it did not hold it), then the rotator gets the store.
            secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:originsig/demo-AbCdEf"
            self.assertEqual([c[0] for c in cli_calls], ["status", "rotate"])
            self.assertIn("--replace-recorded-kvs", cli_calls[1], "the edge stack's store is the one the edge reads")
            for call in cli_calls:
                self.assertEqual(call[call.index("--kvs-arn") + 1], self.KVS_ARN)
                self.assertEqual(call[call.index("--secret-id") + 1], secret)
            self.assertEqual(overrides[-1]["KeyValueStoreArn"], self.KVS_ARN)
            self.assertEqual(overrides[-1]["SecretName"], "originsig/demo", "every other parameter as configured")
            self.assertIn(f'set KeyValueStoreArn = "{self.KVS_ARN}"', run.stdout)

    def test_a_store_that_holds_the_key_is_not_rotated_and_a_configured_arn_is_not_redeployed(self):
        with tempfile.TemporaryDirectory() as folder:
            run, deploys, cli_calls, _ = self.deploy(folder, matches=True, configured_arn=self.KVS_ARN)
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual([c[0] for c in cli_calls], ["status"], "a deploy never rotates")
            self.assertEqual([d[d.index("--config-env") + 1] for d in deploys], ["demo", "demo-edge"])

    def test_without_the_cli_nothing_is_deployed(self):
        with tempfile.TemporaryDirectory() as folder:
            run, deploys, _, _ = self.deploy(folder, matches=True, with_cli=False)
            self.assertEqual(run.returncode, 2)
            self.assertIn("infra/build.sh demo cli", run.stderr)
            self.assertEqual(deploys, [])


def cff_marker():
    import cff_template
    return cff_template.MARKER


if __name__ == "__main__":
    unittest.main()
