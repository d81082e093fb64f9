// Example app 3: a new HTTP API and a new distribution in us-east-1, signed by a CloudFront
// function that reads its key from a KeyValueStore (edgeKind "cloudfront-function"). The function
// is built with the deferred origin domain (the new API's id is only known at deploy time):
//   edge-signer/cloudfront-function/build.py --origin-domain origin-domain.invalid \
//     --gateway-path-prefix "" --out target/lambda/cloudfront-function/function.js
// After the first deploy, copy the key into the (empty) store once:
//   originsig rotate --secret-id originsig/keys --kvs-arn <KeyValueStoreArn output>
import { App, Stack } from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as lambda from "aws-cdk-lib/aws-lambda";

import { OriginSig, skip } from "../lib";

export function cloudFrontFunctionApp(app = new App()): App {
  const stack = new Stack(app, "ShopApiCff", { env: { account: "123456789012", region: "us-east-1" } });
  const backend = new lambda.Function(stack, "Backend", {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "hello" });'),
  });
  skip(backend, [
    { id: "CKV_AWS_116", comment: "Example backend, invoked synchronously." },
    { id: "CKV_AWS_117", comment: "Example backend with nothing to reach." },
    { id: "CKV_AWS_115", comment: "Example backend; no concurrency budget to protect." },
    { id: "CKV_AWS_173", comment: "Example backend without environment variables." },
  ]);
  const api = new apigwv2.HttpApi(stack, "Api");
  skip(api.defaultStage!, [{ id: "CKV_AWS_95", comment: "Example API; access logs are the API owner's choice." }]);
  const originsig = new OriginSig(stack, "OriginSig", {
    api,
    edgeKind: "cloudfront-function",
    artifactsDir: process.env.ORIGINSIG_ARTIFACTS_DIR,
  });
  api.addRoutes({
    path: "/{proxy+}",
    methods: [apigwv2.HttpMethod.ANY],
    integration: new HttpLambdaIntegration("Backend", backend),
    authorizer: originsig.authorizer,
  });
  return app;
}

if (require.main === module) cloudFrontFunctionApp().synth();
