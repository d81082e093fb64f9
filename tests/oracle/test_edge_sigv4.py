"""AWS's own code as the oracle for the edge's one AWS call.

The real edge bundle (edge-signer/node/index.mjs, signing with aws4) reads its key with one
GetSecretValue request. A local listener captures that request as it leaves the handler; then
  * botocore's SigV4 signer (botocore.auth.SigV4Auth) recomputes the Authorization header from the
    captured method, URL, signed headers, body and X-Amz-Date, and it must be the one sent;
  * botocore's own serialization of GetSecretValue (a botocore client, stopped at before-send)
    must have the same URL, body (as JSON), X-Amz-Target and Content-Type.
Three cases: long-term credentials, temporary credentials (session token), and an edge running in
a replica region (the replica's endpoint, region and ARN). The listener's answer is held to
GetSecretValue's output shape in botocore's service model.

    .venv/bin/python -m unittest tests/oracle/test_edge_sigv4.py     # after the .wasm is built
Needs: the .wasm (target/wasm32-unknown-unknown/wasm/), node_modules (aws4), botocore (.venv, with
moto). NODE picks the Node binary (default: node on PATH).
"""

import http.server
import json
import os
import subprocess
import tempfile
import threading
import unittest
from pathlib import Path

import botocore.session
from botocore.auth import SigV4Auth
from botocore.parsers import create_parser
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "oracle" / "edge_get_secret.mjs"
KEY = json.loads((ROOT / "shared" / "testdata" / "keyring.json").read_text())["current"]
ACCOUNT_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:originsig/oracle-AbCdEf"
# Example credentials in AWS's documented format; nothing here reaches AWS.
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+test/session+token=="


def get_secret_value_answer(secret_id):
    """A GetSecretValue answer; test_the_answer_is_secrets_managers_shape holds it to botocore's model."""
    return json.dumps({"ARN": secret_id, "Name": "originsig/oracle", "VersionId": "v1", "SecretString": json.dumps(KEY),
                       "VersionStages": ["AWSCURRENT"], "CreatedDate": 1.7e9}).encode()


class Captured(http.server.BaseHTTPRequestHandler):
    """Answers GetSecretValue as Secrets Manager does, and keeps what it was sent."""

    requests = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Captured.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        answer = get_secret_value_answer(json.loads(body)["SecretId"])
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


class StopBeforeSending(Exception):
    pass


def botocore_get_secret_value(region, secret_id, token):
    """The request botocore itself would send for GetSecretValue (not sent)."""
    session = botocore.session.Session()
    client = session.create_client("secretsmanager", region_name=region, aws_access_key_id=ACCESS_KEY,
                                   aws_secret_access_key=SECRET_KEY, aws_session_token=token)
    seen = {}

    def before_send(request, **_):
        seen["request"] = request
        raise StopBeforeSending()

    client.meta.events.register("before-send", before_send)
    try:
        client.get_secret_value(SecretId=secret_id, VersionStage="AWSCURRENT")
    except StopBeforeSending:
        pass
    return seen["request"]


class EdgeGetSecretValueTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Captured)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.bundles = tempfile.TemporaryDirectory(prefix="originsig-oracle-", dir=ROOT / "target")
        # botocore must not be pointed anywhere by the developer's environment.
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            os.environ.pop(name)
        os.environ["AWS_CONFIG_FILE"] = os.devnull
        os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.bundles.cleanup()

    def run_edge(self, name, bundle_args, running_region, token):
        out = Path(self.bundles.name) / name
        subprocess.run(["python3", str(ROOT / "edge-signer" / "bundle.py"), "--no-build", "--out", str(out), *bundle_args],
                       check=True, capture_output=True)
        env = {"PATH": os.environ["PATH"], "AWS_REGION": running_region, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
               "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        if token:
            env["AWS_SESSION_TOKEN"] = token
        Captured.requests.clear()
        run = subprocess.run([os.environ.get("NODE", "node"), str(DRIVER), str(out), str(self.server.server_port)],
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        result = json.loads(run.stdout.strip().splitlines()[-1])
        self.assertEqual(len(Captured.requests), 1, "one GetSecretValue call during INIT")
        self.assertEqual(len(result["intended"]), 1)
        self.assertTrue(result["signature"] and result["signature"].split(";")[2] == f"k={KEY['kid']}",
                        f"the edge signed with the key it read: {result}")
        return result["intended"][0], Captured.requests[0]

    def check_against_botocore(self, intended, sent, region, secret_id, token):
        expected = botocore_get_secret_value(region, secret_id, token)
        # Where it goes and what it says: botocore's serialization of the same operation.
        port = f":{intended['port']}" if intended["port"] not in (None, 443, "443") else ""
        self.assertEqual(f"https://{intended['hostname']}{port}{intended['path']}", expected.url)
        self.assertEqual(intended["method"], expected.method)
        self.assertEqual(json.loads(sent["body"]), json.loads(expected.body))
        for header in ("X-Amz-Target", "Content-Type"):
            value = expected.headers[header]
            self.assertEqual(sent["headers"][header.lower()], value.decode() if isinstance(value, bytes) else value, header)
        if token:
            self.assertEqual(sent["headers"]["x-amz-security-token"], token)
        else:
            self.assertNotIn("x-amz-security-token", sent["headers"])

        # The signature: botocore's SigV4 over exactly the headers the edge says it signed.
        authorization = sent["headers"]["authorization"]
        signed_names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
        for required in ("host", "x-amz-date", "x-amz-target", "content-type") + (("x-amz-security-token",) if token else ()):
            self.assertIn(required, signed_names, f"{required} must be signed")
        request = AWSRequest(method=intended["method"], url=expected.url, data=sent["body"],
                             headers={n: sent["headers"][n] for n in signed_names if n != "host"})
        request.context["timestamp"] = sent["headers"]["x-amz-date"]
        signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, token), "secretsmanager", region)
        canonical = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical)
        recomputed = (f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{signer.credential_scope(request)}, "
                      f"SignedHeaders={signer.signed_headers(signer.headers_to_sign(request))}, "
                      f"Signature={signer.signature(string_to_sign, request)}")
        self.assertEqual(authorization, recomputed, f"botocore's canonical request:\n{canonical}")

    def test_long_term_credentials(self):
        intended, sent = self.run_edge("plain", ["--secret-id", "originsig/oracle", "--region", "us-east-1"], "us-east-1", None)
        self.check_against_botocore(intended, sent, "us-east-1", "originsig/oracle", None)

    def test_temporary_credentials_with_a_session_token(self):
        intended, sent = self.run_edge("token", ["--secret-id", "originsig/oracle", "--region", "eu-west-1"], "us-east-1", SESSION_TOKEN)
        self.check_against_botocore(intended, sent, "eu-west-1", "originsig/oracle", SESSION_TOKEN)

    def test_an_edge_in_a_replica_region_reads_the_replica(self):
        args = ["--secret-id", ACCOUNT_ARN, "--region", "us-east-1", "--replica-regions", "eu-west-1,ap-southeast-2"]
        intended, sent = self.run_edge("replica", args, "ap-southeast-2", SESSION_TOKEN)
        replica_arn = ACCOUNT_ARN.replace(":us-east-1:", ":ap-southeast-2:")
        self.check_against_botocore(intended, sent, "ap-southeast-2", replica_arn, SESSION_TOKEN)

    def test_the_answer_is_secrets_managers_shape(self):
        # The listener stands for Secrets Manager: its answer has only members of GetSecretValue's
        # output shape (botocore's service model), and botocore's own parser reads the key from it.
        output = botocore.session.Session().get_service_model("secretsmanager").operation_model("GetSecretValue").output_shape
        answer = get_secret_value_answer(ACCOUNT_ARN)
        self.assertLessEqual(set(json.loads(answer)), set(output.members))
        parsed = create_parser("json").parse({"status_code": 200, "headers": {}, "body": answer}, output)
        self.assertEqual(json.loads(parsed["SecretString"]), KEY)
        self.assertEqual(parsed["VersionStages"], ["AWSCURRENT"])

    def test_the_oracle_refuses_a_wrong_signature(self):
        # The comparison can fail: the same capture checked for another region or key does not pass.
        intended, sent = self.run_edge("control", ["--secret-id", "originsig/oracle", "--region", "us-east-1"], "us-east-1", None)
        with self.assertRaises(AssertionError):
            self.check_against_botocore(intended, sent, "us-west-2", "originsig/oracle", None)
        tampered = dict(sent, body=sent["body"].replace(b"AWSCURRENT", b"AWSPENDING"))
        with self.assertRaises(AssertionError):
            self.check_against_botocore(intended, tampered, "us-east-1", "originsig/oracle", None)
        headers = dict(sent["headers"], **{"x-amz-date": sent["headers"]["x-amz-date"][:-2] + "59Z"})
        if headers["x-amz-date"] == sent["headers"]["x-amz-date"]:
            headers["x-amz-date"] = headers["x-amz-date"][:-2] + "58Z"
        with self.assertRaises(AssertionError):  # only the signature can tell
            self.check_against_botocore(intended, dict(sent, headers=headers), "us-east-1", "originsig/oracle", None)


if __name__ == "__main__":
    unittest.main()
