"""The template's names match what the code reads: a rename in code breaks this test, not a deploy.

    .venv/bin/python -m unittest infra/test_template.py     (tests/run-all.sh runs it)
"""

import json
import os
import random
import re
import string
import subprocess
import tempfile
import unittest

from cfnlint.decode import decode_str

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def source(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def rust_str_consts(path):
    """`pub const NAME: &str = "value";` → {NAME: value}."""
    return dict(re.findall(r'pub const ([A-Z_]+): &str = "([^"]*)";', source(path)))


TEMPLATE, MATCHES = decode_str(source("infra/template.yaml"))
RESOURCES = TEMPLATE["Resources"]
CORE = {**rust_str_consts("shared/src/header.rs"), **rust_str_consts("shared/src/key.rs")}
AUTHORIZER_VARS = set(rust_str_consts("hmac-authorizer/src/config.rs").values())
ROTATOR_VARS = set(rust_str_consts("hmac-authorizer/src/rotation_lambda.rs").values()) | AUTHORIZER_VARS


def props(name):
    return RESOURCES[name]["Properties"]


class TemplateMatchesCode(unittest.TestCase):
    def test_template_parses(self):
        self.assertFalse(MATCHES, MATCHES)

    def test_identity_source_is_the_signature_header(self):
        header = CORE["HEADER_NAME"]
        self.assertEqual(header, "x-originsig")
        authorizer = props("DemoApi")["Auth"]["Authorizers"]["OriginSig"]
        self.assertEqual(authorizer["Identity"]["Headers"], [header])
        self.assertEqual(authorizer["Identity"]["ReauthorizeEvery"], 0, "result caching must be off")
        self.assertEqual(authorizer["AuthorizerPayloadFormatVersion"], "2.0")
        self.assertTrue(authorizer["EnableSimpleResponses"])
        existing = props("ExistingApiAuthorizer")
        self.assertEqual(existing["IdentitySource"], [f"$request.header.{header}"])
        self.assertEqual(existing["AuthorizerResultTtlInSeconds"], 0)

    def test_authorizer_environment_is_what_the_binary_reads(self):
        env = props("AuthorizerFunction")["Environment"]["Variables"]
        self.assertLessEqual(set(env), AUTHORIZER_VARS, set(env) - AUTHORIZER_VARS)
        self.assertIn("ORIGINSIG_SECRET_ID", env)
        self.assertIn(env["ORIGINSIG_RESPONSE_MODE"], {"simple", "iam", "rest"})

    def test_rotator_environment_is_what_the_binary_reads(self):
        env = props("RotatorFunction")["Environment"]["Variables"]
        self.assertLessEqual(set(env), ROTATOR_VARS, set(env) - ROTATOR_VARS)

    def test_functions_match_their_artifacts(self):
        edge = props("EdgeSignerFunction")
        self.assertEqual((edge["Runtime"], edge["Architectures"], edge["Handler"]), ("nodejs22.x", ["x86_64"], "index.handler"))
        self.assertNotIn("Environment", edge, "Lambda@Edge has no environment variables")
        self.assertIn("export async function handler(", source("edge-signer/node/index.mjs"))
        self.assertEqual(edge["CodeUri"], "../target/lambda/edge-signer/edge-signer.zip")
        bundler = source("edge-signer/bundle.py")
        self.assertIn('"target", "lambda", "edge-signer"', bundler)
        self.assertIn('"edge-signer.zip"', bundler)
        self.assertIn("AutoPublishAlias", edge, "Lambda@Edge needs a published version")
        trust = props("EdgeSignerRole")["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
        self.assertEqual(sorted(trust), ["edgelambda.amazonaws.com", "lambda.amazonaws.com"])
        cargo = source("hmac-authorizer/Cargo.toml")
        for resource, binary in [("AuthorizerFunction", "hmac-authorizer"), ("RotatorFunction", "key-rotator")]:
            function = props(resource)
            self.assertEqual(function["CodeUri"], f"../target/lambda/{binary}/bootstrap.zip")
            self.assertIn(f'name = "{binary}"', cargo)
            self.assertEqual((function["Runtime"], function["Handler"]), ("provided.al2023", "bootstrap"))

    def test_edge_association_and_managed_policies(self):
        behavior = props("Distribution")["DistributionConfig"]["DefaultCacheBehavior"]
        association = behavior["LambdaFunctionAssociations"][0]
        self.assertEqual(association["EventType"], "origin-request")
        self.assertEqual(behavior["CachePolicyId"], "4135ea2d-6df8-44a3-9df3-4b5a84be39ad")  # CachingDisabled
        origin = props("Distribution")["DistributionConfig"]["Origins"][0]
        self.assertEqual(origin["CustomOriginConfig"]["OriginProtocolPolicy"], "https-only")

    def test_alarm_watches_the_metric_the_authorizer_emits(self):
        alarm = props("DenyRateAlarm")
        env = props("AuthorizerFunction")["Environment"]["Variables"]
        self.assertEqual(alarm["Namespace"], env["ORIGINSIG_METRICS_NAMESPACE"])
        emitter = source("hmac-authorizer/src/observability.rs")
        self.assertIn(f'"Name": "{alarm["MetricName"]}"', emitter)
        self.assertIn(f'"{alarm["Dimensions"][0]["Name"]}"', emitter)

    def test_generated_first_key_is_in_the_spec_format(self):
        generate = props("KeySecret")["GenerateSecretString"]
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
        with open(os.path.join(ROOT, "infra", "timing.json"), encoding="utf-8") as f:
            timing = json.load(f)
        parameters = TEMPLATE["Parameters"]
        for parameter, field in [
            ("EdgeCacheTtlSeconds", "edgeCacheTtlSecs"),
            ("EdgeMaxStaleSeconds", "edgeMaxStaleSecs"),
            ("AuthorizerCacheTtlSeconds", "authorizerCacheTtlSecs"),
            ("AuthorizerMaxStaleSeconds", "authorizerMaxStaleSecs"),
            ("MaxAgeSeconds", "maxAgeSecs"),
            ("MaxFutureSeconds", "maxFutureSecs"),
            ("UnknownKeyRefreshSeconds", "authorizerUnknownKeyRefreshSecs"),
        ]:
            self.assertEqual(int(parameters[parameter]["Default"]), timing[field], parameter)
        # The rotation wait must fit the rotator's timeout (minus the 10 s it keeps for the checks).
        wait = int(parameters["AuthorizerCacheTtlSeconds"]["MaxValue"]) + timing["safetyMarginSecs"]
        self.assertLessEqual(wait, int(props("RotatorFunction")["Timeout"]) - 10)
        self.assertEqual(props("RotatorFunction")["Environment"]["Variables"]["ORIGINSIG_EDGE_MAX_STALE_SECS"], {"Ref": "EdgeMaxStaleSeconds"})

    def test_the_secret_survives_replacement_and_deletion(self):
        secret = RESOURCES["KeySecret"]
        self.assertEqual((secret.get("DeletionPolicy"), secret.get("UpdateReplacePolicy")), ("Retain", "Retain"))

    def test_the_rotator_needs_no_reserved_concurrency(self):
        # "below its minimum value of [10]" on accounts with a low concurrency quota.
        self.assertNotIn("ReservedConcurrentExecutions", props("RotatorFunction"))

    def test_rotation_schedules_below_four_hours_are_refused(self):
        pattern = re.compile(TEMPLATE["Parameters"]["RotationSchedule"]["AllowedPattern"])
        for ok in ["rate(30 days)", "rate(1 day)", "rate(4 hours)", "rate(12 hours)", "cron(0 4 1 * ? *)"]:
            self.assertTrue(pattern.match(ok), ok)
        for bad in ["rate(1 hour)", "rate(3 hours)", "rate(0 days)", "rate(30 minutes)"]:
            self.assertFalse(pattern.match(bad), bad)

    def test_a_kms_key_with_replicas_is_refused_at_deploy(self):
        rule = TEMPLATE["Rules"]["KmsKeyWithoutReplicas"]
        self.assertEqual(rule["RuleCondition"], {"Fn::Not": [{"Fn::Equals": [{"Ref": "KmsKeyArn"}, ""]}]})
        self.assertIn("regional", rule["Assertions"][0]["AssertDescription"])

    def test_every_checkov_skip_is_justified(self):
        for name, resource in RESOURCES.items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                self.assertGreater(len(skip.get("comment", "")), 20, f"{name}: {skip['id']} needs a reason")


if __name__ == "__main__":
    unittest.main()
