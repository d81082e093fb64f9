// Example app 2: an HTTP API that already exists in eu-west-1 (another team's IaC owns its routes),
// behind a distribution of your own that takes the signer through `originsig.behavior()`.
import { App, Stack } from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";

import { OriginSig, skip } from "../lib";

export function existingApiApp(app = new App()): App {
  const stack = new Stack(app, "ShopProtection", { env: { account: "123456789012", region: "eu-west-1" } });
  const api = apigwv2.HttpApi.fromHttpApiAttributes(stack, "Api", { httpApiId: "a1b2c3d4e5" });
  const originsig = new OriginSig(stack, "OriginSig", {
    api,
    originPath: "/prod",
    secretName: "originsig/shop",
    replicaRegions: ["us-east-1"],
    createDistribution: false,
    artifactsDir: process.env.ORIGINSIG_ARTIFACTS_DIR,
  });
  // Your distribution: the API behind it gets the signer, caching off, the right policies.
  const distribution = new cloudfront.Distribution(stack, "Distribution", {
    defaultBehavior: originsig.behavior(),
    comment: "shop",
  });
  skip(distribution, [
    { id: "CKV_AWS_68", comment: "Example: your distribution's WAF web ACL is yours to attach." },
    { id: "CKV_AWS_86", comment: "Example: access logging is your distribution's choice." },
    { id: "CKV_AWS_174", comment: "Example without a custom certificate: the default one allows no minimum." },
  ]);
  // Then attach the authorizer to the API's routes where they are defined, or:
  //   originsig routes attach --api-id a1b2c3d4e5 --authorizer-id <AuthorizerId output>
  return app;
}

if (require.main === module) existingApiApp().synth();
