// Example app 1: a new HTTP API and a new distribution, all in us-east-1 (the README's example).
import { App, Stack } from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as lambda from "aws-cdk-lib/aws-lambda";

import { OriginSig, skip } from "../lib";

export function newDistributionApp(app = new App()): App {
  const stack = new Stack(app, "ShopApi", { env: { account: "123456789012", region: "us-east-1" } });
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

if (require.main === module) newDistributionApp().synth();
