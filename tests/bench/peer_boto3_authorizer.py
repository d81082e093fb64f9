"""Benchmark peer for cold start: the same authorizer as a Python Lambda using boto3, running the
Lambda Runtime API loop itself (what the python3.x runtime does before calling a handler).
Reads the key from Secrets Manager at init (AWS_ENDPOINT_URL_SECRETS_MANAGER honoured by boto3).
"""

import json
import os
import sys
import time
import urllib.request

import boto3

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "shared", "testdata"))
import reference as ref  # noqa: E402

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
client = boto3.client("secretsmanager")
secret = json.loads(client.get_secret_value(SecretId=os.environ["ORIGINSIG_SECRET_ID"])["SecretString"])
kid, key = ref.load_key(secret)
RING = {kid: ("current", key)}

while True:
    with urllib.request.urlopen(f"http://{API}/2018-06-01/runtime/invocation/next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(response.read())
    context = event["requestContext"]
    try:
        target = ref.gateway_target(context["http"]["method"], context["domainName"], event["rawPath"], event.get("rawQueryString", ""))
        value = event["headers"].get("x-originsig")
        ref.verify([] if value is None else [value], target, RING, int(time.time()))
        answer = {"isAuthorized": True, "context": {}}
    except ref.Rejected:
        answer = {"isAuthorized": False, "context": {}}
    body = json.dumps(answer).encode()
    urllib.request.urlopen(urllib.request.Request(f"http://{API}/2018-06-01/runtime/invocation/{request_id}/response", data=body, method="POST")).read()
