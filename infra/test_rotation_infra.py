"""Offline checks of the rotation's deployment: the rotator checks a health route signed as the edge
signs it, its time bound comes from the timing model, only this secret's rotations invoke it, it may
write only the two rotation tags, and replicas are read and alarmed on.

    .venv-sam/bin/python -m unittest infra/test_rotation_infra.py     (about a second)
"""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_config  # noqa: E402
from test_template import API, TIMING, props, rust_str_consts, source, statement  # noqa: E402

SECRETS_MANAGER = rust_str_consts("hmac-authorizer/src/store/secrets_manager.rs")
ROTATOR = rust_str_consts("hmac-authorizer/src/rotation_lambda.rs")
CDK = source("infra/cdk/lib/index.ts")


class RotatorCheck(unittest.TestCase):
    def test_the_rotator_checks_the_health_route_smoke_probes(self):
        env = props(API, "RotatorFunction")["Environment"]["Variables"]
        # One formula: the rotator's URL and the output smoke.sh probes are the same value.
        self.assertEqual(env[ROTATOR["DIRECT_URL"]], API["Outputs"]["RotatorCheckUrl"]["Value"])
        url = json.dumps(env[ROTATOR["DIRECT_URL"]])
        self.assertIn("${OriginPath}${Path}", url)
        self.assertIn('"RotatorCheckPath"', url)
        # The origin path is handed over so the rotator signs as the edge does (prefix = origin path).
        self.assertEqual(env[ROTATOR["ORIGIN_PATH"]], {"Ref": "OriginPath"})
        self.assertIn("RotatorCheckUrl", source("infra/smoke.sh"))
        self.assertIn("ORIGINSIG_ORIGIN_PATH", CDK)

    def test_the_check_path_is_required_with_your_own_api(self):
        rule = API["Rules"]["CheckPathWithYourApi"]
        # Either kind of API of your own (HttpApiId or RestApiId) needs the health route.
        self.assertEqual(rule["RuleCondition"], {"Fn::Or": [
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "HttpApiId"}, ""]}]},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "RestApiId"}, ""]}]},
        ]})
        self.assertIn("RotatorCheckPath", rule["Assertions"][0]["AssertDescription"])
        pattern = re.compile(API["Parameters"]["RotatorCheckPath"]["AllowedPattern"])
        for ok in ["", "/", "/health", "/v1/health", "/a.b_c~d-e/"]:
            self.assertTrue(pattern.fullmatch(ok), ok)
        for bad in ["health", "/a%20b", "/a?b", "/a b", "//x"]:
            self.assertFalse(pattern.fullmatch(bad), bad)
        # Every environment of samconfig.toml with its own API names a health route.
        for env in deploy_config.environments():
            overrides = deploy_config.section(env)["parameter_overrides"]
            if overrides.get("HttpApiId"):
                self.assertTrue(overrides.get("RotatorCheckPath"), f"[{env}] needs RotatorCheckPath")
        self.assertEqual(deploy_config.section("estate")["parameter_overrides"]["RotatorCheckPath"], "/health")


class TimeBound(unittest.TestCase):
    def test_the_cache_ttl_bound_is_the_timing_models(self):
        ttl = API["Parameters"]["AuthorizerCacheTtlSeconds"]
        self.assertEqual(int(ttl["MaxValue"]), TIMING["maxAuthorizerCacheTtlSecs"])
        self.assertIn(str(TIMING["maxAuthorizerCacheTtlSecs"]), ttl["Description"])
        self.assertEqual(int(props(API, "RotatorFunction")["Timeout"]), TIMING["rotatorTimeoutSecs"])
        # The CDK construct reads the same numbers and types none of its own.
        self.assertIn("TIMING.maxAuthorizerCacheTtlSecs", CDK)
        self.assertIn("TIMING.rotatorTimeoutSecs", CDK)
        self.assertNotRegex(CDK, r"\b(850|860)\b")


class InvokeAndTags(unittest.TestCase):
    def test_only_this_secrets_rotations_invoke_the_rotator(self):
        permission = props(API, "RotatorInvokePermission")
        self.assertEqual(permission["SourceArn"], {"Ref": "KeySecret"})
        self.assertEqual(permission["Principal"], "secretsmanager.amazonaws.com")
        self.assertRegex(CDK, r"sourceArn: this\.secret\.secretArn")

    def test_the_rotator_writes_only_the_tags_the_code_writes(self):
        tag = statement(API, "RotatorRole", "RecordRotationTagsOnly")
        names = ["PROMOTED_AT_TAG", "FAILED_TEST_TAG", "KVS_ARN_TAG"]
        self.assertEqual(sorted(k for k in SECRETS_MANAGER if k.endswith("_TAG")), sorted(names))
        self.assertEqual(
            tag["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"],
            [SECRETS_MANAGER[name] for name in names],
        )
        for name in names:
            self.assertIn(f'{name} = "{SECRETS_MANAGER[name]}"', CDK)


class Replicas(unittest.TestCase):
    def test_the_rotator_reads_each_replica_and_decrypts_there_through_secrets_manager(self):
        read = statement(API, "RotatorRole", "ReadTheReplicasBeforePromoting")
        self.assertEqual(read["Action"], "secretsmanager:GetSecretValue")
        arns = json.dumps(read["Resource"])
        for region in ("${ReplicaRegion1}", "${ReplicaRegion2}"):
            self.assertIn(f"secretsmanager:{region}:", arns)
        decrypt = statement(API, "RotatorRole", "DecryptTheReplicasThroughSecretsManagerOnly")
        self.assertEqual(decrypt["Action"], "kms:Decrypt")
        self.assertIn("kms:ViaService", json.dumps(decrypt["Condition"]))
        self.assertIn("secretsmanager:GetSecretValue", CDK)

    def test_the_replication_alarm_counts_what_the_rotator_logs(self):
        metric = props(API, "ReplicaBehindMetric")
        self.assertEqual(metric["LogGroupName"], {"Ref": "RotatorLogGroup"})
        self.assertEqual(metric["FilterPattern"], '{ $.kind = "ReplicaBehind" }')
        # The rotator logs the error's kind as `kind`, and ReplicaBehind is a kind it has.
        self.assertIn('=> "ReplicaBehind"', source("hmac-authorizer/src/rotation_lambda.rs"))
        self.assertIn("kind = error.kind()", source("hmac-authorizer/src/bin/key-rotator.rs"))
        alarm = props(API, "ReplicationAlarm")
        transform = metric["MetricTransformations"][0]
        self.assertEqual((alarm["Namespace"], alarm["MetricName"]),
                         (transform["MetricNamespace"], transform["MetricName"]))
        self.assertEqual(API["Resources"]["ReplicationAlarm"]["Condition"], "HasReplica1")


if __name__ == "__main__":
    unittest.main()
