"""IAM, checked against AWS's own service authorization data with parliament (PyPI): the operators'
policies (infra/iam/*.json) and every policy of both templates (as aws-sam-translator translates
them) and of the synthesized CDK example apps. An unknown action, a condition key the action does
not support or a resource ARN of the wrong shape fails. The operators' policies are also held to
the code: every AWS SDK operation the Rust code calls must be allowed to the role that runs it.

    .venv/bin/python -m unittest infra/test_iam.py

Inputs (tests/run-all.sh passes what it already made; without them this test makes them):
  ORIGINSIG_TRANSLATED_DIR  infra/translate.py's output (made with .venv-sam/bin/python otherwise)
  ORIGINSIG_CDK_OUT         infra/cdk's synth-examples output (made with node otherwise; needs
                            infra/cdk built: npx tsc)
"""

import fnmatch
import glob
import json
import os
import re
import subprocess
import tempfile
import unittest

from parliament import analyze_policy_string

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IAM = os.path.join(ROOT, "infra", "iam")

# Concrete values of the right shape for the operators' placeholders (docs/your-api.md lists them).
PLACEHOLDERS = {
    "Partition": "aws",
    "Region": "eu-west-1",
    "AccountId": "123456789012",
    "SecretName": "originsig/shop",
    "ApiId": "a1b2c3d4e5",
    "KmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}

# Which operator policy runs which AWS SDK operations (docs/your-api.md, "The operator's permissions").
#   read-only:      status, doctor, verify, sign (timing needs none)
#   rotate:         rotate, rollback, init (init creates a secret only where no stack does)
#   routes-audit:   routes audit;  routes-attach: routes attach
# With a CloudFront Functions edge (`--kvs-arn`): status and doctor read the key value store's copy,
# rotate, rollback and init write it (hmac-authorizer/src/store/kvs.rs).
KVS_READ = {("cloudfrontkeyvaluestore", "describe_key_value_store"), ("cloudfrontkeyvaluestore", "get_key")}
ROLE_OPERATIONS = {
    "read-only.json": {("secretsmanager", "describe_secret"), ("secretsmanager", "get_secret_value")} | KVS_READ,
    "rotate.json": {("secretsmanager", op) for op in (
        "describe_secret", "get_secret_value", "put_secret_value", "update_secret_version_stage",
        "tag_resource", "create_secret")} | KVS_READ | {("cloudfrontkeyvaluestore", "put_key")},
    "routes-audit.json": {("apigatewayv2", "get_routes"), ("apigatewayv2", "get_authorizer"),
                          ("apigatewayv2", "get_authorizers")},
    "routes-attach.json": {("apigatewayv2", "get_routes"), ("apigatewayv2", "get_authorizer"),
                           ("apigatewayv2", "get_authorizers"), ("apigatewayv2", "update_route")},
}
# API Gateway's management API is authorized by HTTP verb on a resource path, not by operation name
# ("Control access to API Gateway management", https://docs.aws.amazon.com/apigateway/latest/developerguide/security-iam.html).
APIGATEWAYV2_RESOURCES = {
    "get_routes": "/apis/{ApiId}/routes",
    "get_authorizer": "/apis/{ApiId}/authorizers/abc123",
    "get_authorizers": "/apis/{ApiId}/authorizers",
    "update_route": "/apis/{ApiId}/routes/abc123",
}
VERBS = {"get": "GET", "update": "PATCH", "create": "POST", "delete": "DELETE"}
READ_ONLY_ACTIONS = {"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "kms:Decrypt", "apigateway:GET",
                     "cloudfront-keyvaluestore:DescribeKeyValueStore", "cloudfront-keyvaluestore:GetKey"}


def findings(document):
    policy = analyze_policy_string(json.dumps(document), include_community_auditors=False)
    return [f"{f.issue}: {f.detail}" for f in policy.findings]


def operator_policy(name, values=PLACEHOLDERS):
    with open(os.path.join(IAM, name), encoding="utf-8") as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace("${" + key + "}", value)
    left = re.findall(r"\$\{(\w+)\}", text)
    assert not left, f"infra/iam/{name}: undocumented placeholders {left}"
    return json.loads(text)


def as_list(value):
    return value if isinstance(value, list) else [value]


def allows(document, action, resource):
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        if any(fnmatch.fnmatchcase(action, a) for a in as_list(statement["Action"])) and \
                any(fnmatch.fnmatchcase(resource, r) for r in as_list(statement["Resource"])):
            return True
    return False


def sdk_operations():
    """Every AWS SDK operation the shipped Rust code calls: `<...client>.op()` in a file that uses
    an `aws_sdk_<service>` crate (tests and test helpers excluded: they set up moto)."""
    found = {}
    for path in glob.glob(os.path.join(ROOT, "**", "src", "**", "*.rs"), recursive=True):
        relative = os.path.relpath(path, ROOT)
        if relative.startswith(("target", "tests" + os.sep)) or os.sep + "tests" + os.sep in relative:
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        services = set(re.findall(r"\baws_sdk_(\w+)", text))
        if not services:
            continue
        for op in re.findall(r"client\s*\.\s*([a-z][a-z0-9_]*)\s*\(\s*\)", text):
            if op in ("clone", "config", "as_ref"):
                continue
            service = next(iter(services)) if len(services) == 1 else None
            assert service, f"{relative}: uses several AWS SDKs ({services}); teach infra/test_iam.py which client is which"
            found.setdefault((service, op), set()).add(relative)
    return found


def action_of(service, op):
    """The IAM action and resource an SDK operation needs (placeholders filled)."""
    secret = f"arn:aws:secretsmanager:{PLACEHOLDERS['Region']}:{PLACEHOLDERS['AccountId']}:secret:{PLACEHOLDERS['SecretName']}-AbCdEf"
    if service == "secretsmanager":
        return "secretsmanager:" + "".join(part.title() for part in op.split("_")), secret
    if service == "apigatewayv2":
        path = APIGATEWAYV2_RESOURCES.get(op)
        assert path, f"apigatewayv2 {op}: add its resource path to APIGATEWAYV2_RESOURCES and a policy line"
        return "apigateway:" + VERBS[op.split("_")[0]], f"arn:aws:apigateway:{PLACEHOLDERS['Region']}::" + path.format(**PLACEHOLDERS)
    if service == "cloudfrontkeyvaluestore":
        # The store's actions are named as its operations; a store is global (no region in its ARN).
        store = f"arn:aws:cloudfront::{PLACEHOLDERS['AccountId']}:key-value-store/0123abcd-4567-89ef-0123-456789abcdef"
        return "cloudfront-keyvaluestore:" + "".join(part.title() for part in op.split("_")), store
    raise AssertionError(f"aws_sdk_{service} {op}: no operator policy covers this service yet (infra/iam/, docs/your-api.md)")


class OperatorPolicies(unittest.TestCase):
    def test_every_policy_passes_parliament(self):
        names = sorted(os.listdir(IAM))
        self.assertGreaterEqual(len(names), 6, names)
        for name in names:
            if name.endswith(".json"):
                self.assertEqual(findings(operator_policy(name)), [], f"infra/iam/{name}")

    def test_every_operation_the_code_calls_is_allowed_to_its_role(self):
        calls = sdk_operations()
        # The scan finds what is known to be there (a broken pattern would find nothing).
        self.assertIn(("secretsmanager", "get_secret_value"), calls)
        self.assertIn(("apigatewayv2", "update_route"), calls)
        declared = set().union(*ROLE_OPERATIONS.values())
        for call, files in sorted(calls.items()):
            self.assertIn(call, declared, f"{call} (called in {sorted(files)}) is in no operator role: "
                                          "add it to ROLE_OPERATIONS and to the policy in infra/iam/")
        for name, operations in ROLE_OPERATIONS.items():
            document = operator_policy(name)
            for service, op in sorted(operations):
                action, resource = action_of(service, op)
                self.assertTrue(allows(document, action, resource), f"infra/iam/{name} does not allow {action} on {resource} ({op})")

    def test_rotate_may_write_exactly_the_tags_the_code_writes(self):
        # The store's tag keys (`pub const *_TAG`): each must be allowed; TagResource stays limited to them.
        with open(os.path.join(ROOT, "hmac-authorizer", "src", "store", "secrets_manager.rs"), encoding="utf-8") as f:
            written = set(re.findall(r'pub const \w+_TAG: &str = "([^"]+)";', f.read()))
        self.assertIn("originsig:promoted-at", written)
        (tagging,) = [s for s in operator_policy("rotate.json")["Statement"] if "secretsmanager:TagResource" in as_list(s["Action"])]
        allowed = set(tagging["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"])
        self.assertLessEqual(written, allowed, "infra/iam/rotate.json must allow every tag key the code writes")
        self.assertTrue(all(key.startswith("originsig:") for key in allowed), allowed)

    def test_read_only_means_read_only(self):
        for name in ("read-only.json", "routes-audit.json", "kms-read.json"):
            for statement in operator_policy(name)["Statement"]:
                self.assertLessEqual(set(as_list(statement["Action"])), READ_ONLY_ACTIONS, name)

    def test_a_broken_policy_fails_parliament(self):
        # The checker itself: an unknown action and a condition key the action does not support.
        document = operator_policy("read-only.json")
        document["Statement"][0]["Action"].append("secretsmanager:GetSecretValues")
        self.assertTrue(any("UNKNOWN_ACTION" in f for f in findings(document)))
        document = operator_policy("read-only.json")
        document["Statement"][0]["Condition"] = {"StringEquals": {"apigateway:Request/AccessLoggingDestination": "x"}}
        self.assertTrue(any("UNKNOWN_CONDITION_FOR_ACTION" in f for f in findings(document)))

    def test_the_guide_documents_every_file_and_placeholder(self):
        with open(os.path.join(ROOT, "docs", "your-api.md"), encoding="utf-8") as f:
            guide = f.read()
        for name in os.listdir(IAM):
            self.assertIn(f"infra/iam/{name}", guide)
        for key in PLACEHOLDERS:
            self.assertIn("${" + key + "}", guide)


# ------------------------------------------------------------------ templates

ACCOUNT, PARTITION = "123456789012", "aws"
PSEUDO = {"AWS::AccountId": ACCOUNT, "AWS::Partition": PARTITION, "AWS::URLSuffix": "amazonaws.com",
          "AWS::StackName": "originsig-shop", "AWS::NoValue": None,
          "AWS::StackId": f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/originsig-shop/0123abcd-4567-89ef-0123-456789abcdef"}
# Parameters with an empty default get a concrete value of their shape, so every optional
# statement (KMS, replicas) is checked with a real ARN in it.
PARAMETER_VALUES = {
    "KmsKeyArn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "KmsMultiRegionKeyId": "mrk-1234abcd12ab34cd56ef1234567890ab",
    "ReplicaRegion1": "us-east-1",
    "ReplicaRegion2": "ap-southeast-2",
    "SecretRegion": "eu-west-1",
    "HttpApiId": "a1b2c3d4e5",
    "RestApiId": "f6g7h8i9j0",
    "AlarmTopicArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:ops",
    "ExistingDistributionId": "E1EXAMPLE2ABCD",
    "KeyValueStoreArn": f"arn:aws:cloudfront::{ACCOUNT}:key-value-store/0123abcd-4567-89ef-0123-456789abcdef",
}


class Resolver:
    """Replaces a template's intrinsics by concrete values: parameters, pseudo parameters, the ARN
    each resource type has (Ref / Fn::GetAtt), Fn::Sub/Join/Select/Split/If (the branch with a value)."""

    def __init__(self, template, region):
        self.template, self.region = template, region
        self.resources = template.get("Resources", {})
        self.parameters = template.get("Parameters", {})

    def arn(self, logical, attribute):
        kind = self.resources[logical]["Type"]
        name = f"{logical.lower()}-name"
        region, account = self.region, ACCOUNT
        shapes = {
            "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:/originsig/{name}:*",
            "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{account}:function:{name}",
            "AWS::Lambda::Version": f"arn:aws:lambda:{region}:{account}:function:{name}:1",
            "AWS::SecretsManager::Secret": f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf",
            "AWS::SNS::Topic": f"arn:aws:sns:{region}:{account}:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{account}:role/{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{region}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "AWS::CloudFront::Distribution": f"arn:aws:cloudfront::{account}:distribution/E1EXAMPLE2ABCD",
            "AWS::CloudFront::KeyValueStore": f"arn:aws:cloudfront::{account}:key-value-store/0123abcd-4567-89ef-0123-456789abcdef",
            "AWS::CloudFront::Function": f"arn:aws:cloudfront::{account}:function/{name}",
            "AWS::ApiGatewayV2::Api": "a1b2c3d4e5",
            "AWS::ApiGatewayV2::Authorizer": "abc123",
            "AWS::ApiGateway::Authorizer": "abc123",
            "AWS::ApiGateway::RestApi": "f6g7h8i9j0",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
        }
        if attribute in (None, "Arn") and kind in shapes:
            return shapes[kind]
        if attribute == "TopicName":
            return name
        if attribute in ("Id", "ApiId", "DomainName"):
            return shapes.get(kind, name)
        raise AssertionError(f"teach infra/test_iam.py the value of {kind} {logical}.{attribute or 'Ref'}")

    def ref(self, name):
        if name in PSEUDO:
            return PSEUDO[name]
        if name == "AWS::Region":
            return self.region
        if name in self.parameters:
            default = self.parameters[name].get("Default", "")
            return PARAMETER_VALUES.get(name, str(default) if default != "" else f"{name.lower()}-value")
        if name in self.resources:
            kind = self.resources[name]["Type"]
            if kind in ("AWS::Lambda::Function", "AWS::IAM::Role", "AWS::Logs::LogGroup", "AWS::Lambda::LayerVersion"):
                return f"{name.lower()}-name"
            return self.arn(name, None)
        raise AssertionError(f"Ref {name}: unknown")

    def sub(self, text, variables):
        def one(match):
            key = match.group(1)
            if key in variables:
                return str(variables[key])
            if "." in key:
                logical, attribute = key.split(".", 1)
                return self.arn(logical, attribute)
            return str(self.ref(key))

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def resolve(self, value):
        if isinstance(value, list):
            return [v for v in (self.resolve(v) for v in value) if v is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.arn(logical, attribute)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], {k: self.resolve(v) for k, v in arg[1].items()})
                return self.sub(text, variables)
            if key == "Fn::Join":
                return arg[0].join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::Split":
                return self.resolve(arg[1]).split(arg[0])
            if key == "Fn::If":
                chosen = self.resolve(arg[1])
                return chosen if chosen is not None else self.resolve(arg[2])
        return {k: self.resolve(v) for k, v in value.items()}


def template_policies(template, region):
    """(where, policy document) for every identity policy in a CloudFormation template."""
    resolver = Resolver(template, region)
    for logical, resource in template.get("Resources", {}).items():
        props = resource.get("Properties", {})
        kind = resource.get("Type")
        documents = []
        if kind == "AWS::IAM::Role":
            documents = [(p.get("PolicyName"), p["PolicyDocument"]) for p in props.get("Policies", [])]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [(props.get("PolicyName", logical), props["PolicyDocument"])]
        for name, document in documents:
            yield f"{logical}/{resolver.resolve(name)}", resolver.resolve(document)


def translated_templates():
    folder = os.environ.get("ORIGINSIG_TRANSLATED_DIR")
    if not folder:
        folder = tempfile.mkdtemp(prefix="originsig-translated-")
        subprocess.run([os.path.join(ROOT, ".venv-sam", "bin", "python"), os.path.join(ROOT, "infra", "translate.py"), folder],
                       check=True, capture_output=True)
    regions = {"api-region.json": "eu-west-1", "edge.json": "us-east-1"}
    return [(name, region, os.path.join(folder, name)) for name, region in regions.items()]


def cdk_templates():
    folder = os.environ.get("ORIGINSIG_CDK_OUT")
    if not folder:
        script = os.path.join(ROOT, "infra", "cdk", "dist", "scripts", "synth-examples.js")
        if not os.path.exists(script):
            return None
        folder = tempfile.mkdtemp(prefix="originsig-cdk-")
        subprocess.run(["node", script, folder], cwd=os.path.join(ROOT, "infra", "cdk"), check=True, capture_output=True)
    found = []
    for path in sorted(glob.glob(os.path.join(folder, "*", "*.template.json"))):
        with open(path, encoding="utf-8") as f:
            template = json.load(f)
        # A CDK stack's region is in its name where it matters (edge stacks: us-east-1).
        region = "us-east-1" if "edge" in os.path.basename(path).lower() or "us-east-1" in path else "eu-west-1"
        found.append((os.path.relpath(path, folder), region, template))
    return found


class TemplatePolicies(unittest.TestCase):
    def check(self, where, template, region):
        checked = 0
        for name, document in template_policies(template, region):
            self.assertEqual(findings(document), [], f"{where}: {name}: {json.dumps(document)}")
            checked += 1
        return checked

    def test_both_templates_as_translated(self):
        for name, region, path in translated_templates():
            with open(path, encoding="utf-8") as f:
                template = json.load(f)
            self.assertGreaterEqual(self.check(f"infra/{name}", template, region), 1, name)

    def test_synthesized_cdk_apps(self):
        templates = cdk_templates()
        if templates is None:
            self.skipTest("infra/cdk is not built (cd infra/cdk && npm ci && npx tsc); tests/run-all.sh builds it")
        self.assertGreaterEqual(len(templates), 1)
        checked = sum(self.check(f"cdk {name}", template, region) for name, region, template in templates)
        self.assertGreaterEqual(checked, len(templates))

    def test_the_resolver_keeps_a_wrong_action_visible(self):
        # An intrinsic-built statement with an unknown action and a wrong condition key must fail.
        template = {"Parameters": {"SecretName": {"Type": "String", "Default": "originsig/keys"}}, "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyName": "p", "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "secretsmanager:GetSecretValu",
                    "Resource": {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${SecretName}-??????"},
                    "Condition": {"StringEquals": {"kms:ViaService": "x"}}}]}}]}}}}
        (_, document), = template_policies(template, "eu-west-1")
        self.assertIn("arn:aws:secretsmanager:eu-west-1:123456789012:secret:originsig/keys-??????", json.dumps(document))
        self.assertTrue(any("UNKNOWN_ACTION" in f for f in findings(document)))


if __name__ == "__main__":
    unittest.main()
