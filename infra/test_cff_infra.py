"""Offline checks of the CloudFront Functions edge in the templates (issue 22.5): the EdgeKind
parameter and what each kind creates, the function (runtime, store association, viewer-request
association, the origin request policy it needs), the rotator's least-privilege access to the store
(exactly the calls the Rust writer makes), the variables and timing defaults it shares with the code,
the alarms on function errors and compute utilisation, and infra/cff_template.py, which puts the
built function into the template.

    .venv-sam/bin/python -m unittest infra/test_cff_infra.py
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from cfnlint.decode import decode_str

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cff_template  # noqa: E402
import deploy_config  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def source(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def load_text(text):
    template, matches = decode_str(text)
    assert not matches, matches
    return template


API = load_text(source("infra/api-region.yaml"))
EDGE = load_text(source("infra/edge.yaml"))
TIMING = json.loads(source("infra/timing.json"))
WRITER = source("hmac-authorizer/src/store/kvs.rs")


def rust_str_consts(path):
    return dict(re.findall(r'pub const ([A-Z_]+): &str = "([^"]*)";', source(path)))


def resource(template, name):
    return template["Resources"][name]


def rotator_statement(sid):
    for policy in resource(API, "RotatorRole")["Properties"]["Policies"]:
        for s in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in s and s["Fn::If"][1].get("Sid") == sid:
                return s
    raise AssertionError(f"no statement {sid}")


class EdgeKind(unittest.TestCase):
    def test_the_parameter_chooses_one_edge(self):
        kind = EDGE["Parameters"]["EdgeKind"]
        self.assertEqual(kind["AllowedValues"], ["lambda-edge", "cloudfront-function"])
        self.assertEqual(kind["Default"], "lambda-edge", "existing deployments keep their edge")
        conditions = EDGE["Conditions"]
        self.assertEqual(conditions["IsLambdaEdge"], {"Fn::Equals": [{"Ref": "EdgeKind"}, "lambda-edge"]})
        self.assertEqual(conditions["IsCloudFrontFunction"], {"Fn::Equals": [{"Ref": "EdgeKind"}, "cloudfront-function"]})
        for name in ("EdgeSignerRole", "EdgeLogGroup", "EdgeSignerFunction"):
            self.assertEqual(resource(EDGE, name)["Condition"], "IsLambdaEdge", name)
        for name in ("EdgeKeyValueStore", "EdgeSignerCloudFrontFunction", "FunctionErrorsAlarm", "FunctionComputeAlarm"):
            self.assertEqual(resource(EDGE, name)["Condition"], "IsCloudFrontFunction", name)
        # Every output naming a resource of one kind exists only with it.
        for name, output in EDGE["Outputs"].items():
            text = json.dumps(output["Value"])
            if "EdgeSigner" in text and "CloudFrontFunction" not in text:
                self.assertEqual(output.get("Condition"), "IsLambdaEdge", name)
            if "EdgeKeyValueStore" in text or "EdgeSignerCloudFrontFunction" in text:
                self.assertEqual(output.get("Condition"), "IsCloudFrontFunction", name)

    def test_the_distribution_associates_the_chosen_edge(self):
        behavior = resource(EDGE, "Distribution")["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
        lambda_edge = behavior["LambdaFunctionAssociations"]["Fn::If"]
        self.assertEqual(lambda_edge[0], "IsLambdaEdge")
        self.assertEqual(lambda_edge[1][0]["EventType"], "origin-request")
        self.assertEqual(lambda_edge[2], {"Ref": "AWS::NoValue"})
        function = behavior["FunctionAssociations"]["Fn::If"]
        self.assertEqual(function[0], "IsCloudFrontFunction")
        self.assertEqual(
            function[1],
            [{"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": ["EdgeSignerCloudFrontFunction", "FunctionARN"]}}],
        )
        self.assertEqual(function[2], {"Ref": "AWS::NoValue"})

    def test_the_function_needs_the_policy_that_keeps_the_origins_host(self):
        # A viewer-request function cannot set Host (issue 22, "Facts to design on").
        rule = EDGE["Rules"]["CloudFrontFunctionKeepsTheOriginsHost"]
        self.assertEqual(rule["RuleCondition"], {"Fn::Equals": [{"Ref": "EdgeKind"}, "cloudfront-function"]})
        self.assertEqual(
            rule["Assertions"][0]["Assert"],
            {"Fn::Equals": [{"Ref": "OriginRequestPolicy"}, "AllViewerExceptHostHeader"]},
        )

    def test_the_function_reads_its_one_store(self):
        props = resource(EDGE, "EdgeSignerCloudFrontFunction")["Properties"]
        self.assertEqual(props["FunctionConfig"]["Runtime"], "cloudfront-js-2.0")
        self.assertTrue(props["AutoPublish"], "an association needs the LIVE stage")
        self.assertEqual(
            props["FunctionConfig"]["KeyValueStoreAssociations"],
            [{"KeyValueStoreARN": {"Fn::GetAtt": ["EdgeKeyValueStore", "Arn"]}}],
        )
        self.assertEqual(resource(EDGE, "EdgeKeyValueStore")["Type"], "AWS::CloudFront::KeyValueStore")
        self.assertNotIn("ImportSource", resource(EDGE, "EdgeKeyValueStore")["Properties"], "no key material in S3")
        self.assertEqual(EDGE["Outputs"]["KeyValueStoreArn"]["Value"], {"Fn::GetAtt": ["EdgeKeyValueStore", "Arn"]})

    def test_alarms_watch_the_functions_metrics_in_us_east_1(self):
        self.assertIn("EdgeNeedsUsEast1", EDGE["Rules"], "CloudFront function metrics live in us-east-1")
        for alarm, metric in [("FunctionErrorsAlarm", "FunctionExecutionErrors"), ("FunctionComputeAlarm", "FunctionComputeUtilization")]:
            props = resource(EDGE, alarm)["Properties"]
            self.assertEqual((props["Namespace"], props["MetricName"]), ("AWS/CloudFront", metric))
            dimensions = {d["Name"]: d["Value"] for d in props["Dimensions"]}
            self.assertEqual(dimensions, {"FunctionName": {"Ref": "EdgeSignerCloudFrontFunction"}, "Region": "Global"})
        self.assertEqual(resource(EDGE, "FunctionComputeAlarm")["Properties"]["Threshold"], {"Ref": "FunctionComputeAlarmThresholdPercent"})


class RotatorAndStore(unittest.TestCase):
    def test_least_privilege_is_exactly_what_the_writer_calls(self):
        statement = rotator_statement("CopyTheKeyToTheEdgeStoreOnly")
        self.assertEqual(statement["Fn::If"][0], "HasKeyValueStore")
        self.assertEqual(statement["Fn::If"][2], {"Ref": "AWS::NoValue"})
        allowed = statement["Fn::If"][1]
        self.assertEqual(allowed["Resource"], {"Ref": "KeyValueStoreArn"})
        # The SDK calls in store/kvs.rs, as IAM actions.
        calls = set(re.findall(r"\.(describe_key_value_store|get_key|put_key|update_keys|delete_key|list_keys)\(\)", WRITER))
        actions = {"cloudfront-keyvaluestore:" + "".join(part.title() for part in call.split("_")) for call in calls}
        self.assertEqual(set(allowed["Action"]), actions)
        self.assertEqual(API["Conditions"]["HasKeyValueStore"], {"Fn::Not": [{"Fn::Equals": [{"Ref": "KeyValueStoreArn"}, ""]}]})

    def test_the_rotator_reads_the_variables_the_code_defines(self):
        env = resource(API, "RotatorFunction")["Properties"]["Environment"]["Variables"]
        names = rust_str_consts("hmac-authorizer/src/rotation_lambda.rs")
        self.assertEqual(env[names["KVS_ARN"]], {"Ref": "KeyValueStoreArn"})
        self.assertEqual(env[names["KVS_PROPAGATION_SECS"]], {"Ref": "KvsPropagationSeconds"})
        self.assertIn("crate::rotation_lambda::KVS_ARN", WRITER, "the CLI's --kvs-arn reads the same variable")

    def test_the_arn_parameter_takes_what_cloudfront_makes(self):
        pattern = re.compile(API["Parameters"]["KeyValueStoreArn"]["AllowedPattern"])
        self.assertTrue(pattern.match(""))
        self.assertTrue(pattern.match("arn:aws:cloudfront::123456789012:key-value-store/0d3c3a9e-5b1c-4b65-9f0e-2f6b2f6f1d7a"))
        self.assertFalse(pattern.match("arn:aws:cloudfront:us-east-1:123456789012:key-value-store/x"))

    def test_propagation_default_is_the_timing_models(self):
        self.assertEqual(int(API["Parameters"]["KvsPropagationSeconds"]["Default"]), TIMING["kvsPropagationSecs"])
        for env in deploy_config.environments():
            overrides = deploy_config.section(env)["parameter_overrides"]
            self.assertEqual(int(overrides["KvsPropagationSeconds"]), TIMING["kvsPropagationSecs"], env)
            self.assertIn(deploy_config.section(env + "-edge")["parameter_overrides"]["EdgeKind"], ("lambda-edge", "cloudfront-function"))
        self.assertIn("kvs_propagation_secs: 600", source("hmac-authorizer/src/timing.rs"))


class RenderedTemplate(unittest.TestCase):
    CODE = "import cf from 'cloudfront';\nasync function handler(event) {\n  return event.request; // \"quoted\" and: colons\n}\n"

    def test_the_built_function_replaces_the_placeholder(self):
        rendered = cff_template.render(source("infra/edge.yaml"), self.CODE)
        template = load_text(rendered)
        self.assertEqual(resource(template, "EdgeSignerCloudFrontFunction")["Properties"]["FunctionCode"], self.CODE)
        # Nothing else changed.
        template["Resources"]["EdgeSignerCloudFrontFunction"]["Properties"]["FunctionCode"] = None
        original = json.loads(json.dumps(EDGE))
        original["Resources"]["EdgeSignerCloudFrontFunction"]["Properties"]["FunctionCode"] = None
        self.assertEqual(template, original)

    def test_what_cannot_be_deployed_is_refused(self):
        template = source("infra/edge.yaml")
        for code, reason in [("", "empty"), ("x" * (10 * 1024 + 1), "10240-byte"), (cff_template.MARKER, "placeholder")]:
            with self.assertRaisesRegex(cff_template.RenderProblem, reason):
                cff_template.render(template, code)
        with self.assertRaisesRegex(cff_template.RenderProblem, "found it 0 times"):
            cff_template.render(cff_template.render(template, self.CODE), self.CODE)

    def test_the_command_writes_the_template_or_says_what_to_build(self):
        with tempfile.TemporaryDirectory() as folder:
            code = os.path.join(folder, "function.js")
            out = os.path.join(folder, "edge.yaml")
            missing = subprocess.run([sys.executable, "infra/cff_template.py", "--code", code, out], cwd=ROOT, capture_output=True, text=True, check=False)
            self.assertNotEqual(missing.returncode, 0)
            self.assertIn("build the CloudFront function first", missing.stderr)
            with open(code, "w", encoding="utf-8") as f:
                f.write(self.CODE)
            done = subprocess.run([sys.executable, "infra/cff_template.py", "--code", code, out], cwd=ROOT, capture_output=True, text=True, check=False)
            self.assertEqual(done.returncode, 0, done.stderr)
            with open(out, encoding="utf-8") as f:
                self.assertIn(json.dumps(self.CODE), f.read())
        self.assertIn("target/lambda/cloudfront-function/function.js", cff_template.CODE.replace(os.sep, "/"))

    @unittest.skipUnless(shutil.which("node"), "node is not installed")
    def test_the_unrendered_placeholder_fails_closed_with_a_hint(self):
        code = resource(EDGE, "EdgeSignerCloudFrontFunction")["Properties"]["FunctionCode"]
        script = code + "\nhandler({request: {}}).then(r => console.log(JSON.stringify(r)));\n"
        out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
        answer = json.loads(out.stdout)
        self.assertEqual(answer["statusCode"], 503)
        self.assertIn("infra/deploy.sh", answer["headers"]["x-originsig-error"]["value"])


if __name__ == "__main__":
    unittest.main()
