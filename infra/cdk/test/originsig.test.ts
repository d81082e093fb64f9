// The OriginSig construct, synthesized (the two example apps) and held to the properties that
// matter: edge association, identity source, result caching off, least privilege, alarms; and
// its refusals (a bundle built for other values, an unprotected route, a too-short schedule).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";

import { App, Duration, Stack } from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpUrlIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";

import { cloudFrontFunctionApp } from "../examples/cloudfront-function";
import { existingApiApp } from "../examples/existing-api-eu-west-1";
import { newDistributionApp } from "../examples/new-distribution";
import {
  DEFERRED_ORIGIN_DOMAIN,
  FAILED_TEST_TAG,
  KVS_ARN_TAG,
  FUNCTION_COMPUTE_ALARM_PERCENT,
  HEADER_NAME,
  KVS_ITEM_KEY,
  OriginSig,
  PROMOTED_AT_TAG,
  TIMING,
} from "../lib";
import { EXAMPLES, prepareArtifacts } from "./artifacts";

const REPO = path.resolve(__dirname, "..", "..", "..", "..");
const rust = (file: string, name: string) =>
  new RegExp(`pub const ${name}: &str = "([^"]*)";`).exec(fs.readFileSync(path.join(REPO, file), "utf8"))?.[1];

function synth(name: string, build: (app: App) => App): App {
  process.env.ORIGINSIG_ARTIFACTS_DIR = prepareArtifacts(name, EXAMPLES[name]);
  return build(new App());
}

/** Every statement of every IAM policy in a template. */
function statements(template: Template): any[] {
  return Object.values(template.findResources("AWS::IAM::Policy")).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe("the construct's names are the code's", () => {
  it("header and tag key", () => {
    assert.equal(HEADER_NAME, rust("shared/src/header.rs", "HEADER_NAME"));
    assert.equal(PROMOTED_AT_TAG, rust("hmac-authorizer/src/store/secrets_manager.rs", "PROMOTED_AT_TAG"));
    assert.equal(FAILED_TEST_TAG, rust("hmac-authorizer/src/store/secrets_manager.rs", "FAILED_TEST_TAG"));
    assert.equal(KVS_ARN_TAG, rust("hmac-authorizer/src/store/secrets_manager.rs", "KVS_ARN_TAG"));
  });

  it("the key value store item and the function alarm threshold are the code's and edge.yaml's", () => {
    // One source, infra/kvs-item-key.txt: the construct, the Rust writer and build.py read it.
    assert.equal(KVS_ITEM_KEY, fs.readFileSync(path.join(REPO, "infra", "kvs-item-key.txt"), "utf8").trim());
    assert.equal(KVS_ITEM_KEY, "originsig-current");
    const writer = fs.readFileSync(path.join(REPO, "hmac-authorizer", "src", "store", "kvs.rs"), "utf8");
    assert.match(writer, /KVS_ITEM_KEY: &str = include_str!\("[./]*infra\/kvs-item-key\.txt"\)/);
    const build = fs.readFileSync(path.join(REPO, "edge-signer", "cloudfront-function", "build.py"), "utf8");
    assert.match(build, /"infra", "kvs-item-key\.txt"/);
    const edge = fs.readFileSync(path.join(REPO, "infra", "edge.yaml"), "utf8");
    const threshold = /^  FunctionComputeAlarmThresholdPercent:\n(?:    .*\n)*?    Default: (\d+)$/m.exec(edge)?.[1];
    assert.equal(String(FUNCTION_COMPUTE_ALARM_PERCENT), threshold);
  });
});

describe("example 1: new API and distribution in us-east-1", () => {
  let main: Template;
  before(() => {
    const app = synth("new-distribution", newDistributionApp);
    main = Template.fromStack(app.node.findChild("ShopApi") as Stack);
  });

  it("creates the authorizer with the signature header as identity source and caching off", () => {
    main.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "REQUEST",
      IdentitySource: [`$request.header.${HEADER_NAME}`],
      AuthorizerResultTtlInSeconds: 0,
      AuthorizerPayloadFormatVersion: "2.0",
      EnableSimpleResponses: true,
    });
    main.hasResourceProperties("AWS::ApiGatewayV2::Route", { AuthorizationType: "CUSTOM", AuthorizerId: Match.anyValue() });
  });

  it("associates the signer on origin-request, caching disabled, HTTPS to the origin", () => {
    main.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({
          CachePolicyId: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
          OriginRequestPolicyId: "b689b0a8-53d0-40ab-baf2-68738e2966ac",
          LambdaFunctionAssociations: [Match.objectLike({ EventType: "origin-request", IncludeBody: false })],
        }),
        Origins: [Match.objectLike({ CustomOriginConfig: Match.objectLike({ OriginProtocolPolicy: "https-only" }) })],
      }),
    });
  });

  it("grants least privilege, statement by statement", () => {
    const all = statements(main);
    const read = all.find((s) => s.Sid === "ReadTheSigningKeyOnly");
    assert.deepEqual(read.Condition, { StringEquals: { "secretsmanager:VersionStage": "AWSCURRENT" } });
    const tag = all.find((s) => s.Action === "secretsmanager:TagResource");
    assert.deepEqual(tag.Condition["ForAllValues:StringEquals"], { "aws:TagKeys": [PROMOTED_AT_TAG, FAILED_TEST_TAG, KVS_ARN_TAG] });
    for (const s of all) assert.notEqual(s.Resource, "*", JSON.stringify(s));
    for (const [id, role] of Object.entries(main.findResources("AWS::IAM::Role")) as [string, any][]) {
      if (!id.startsWith("OriginSig")) continue;
      assert.equal(role.Properties.ManagedPolicyArns, undefined, `${id}: no managed policy`);
    }
    const permissions = Object.values(main.findResources("AWS::Lambda::Permission")) as any[];
    const invoke = permissions.find((p) => p.Properties.Principal === "apigateway.amazonaws.com" && JSON.stringify(p.Properties.SourceArn).includes("/authorizers/"));
    assert.ok(invoke, "the authorizer may be invoked by its own authorizer only");
    assert.ok(!JSON.stringify(invoke.Properties.SourceArn).includes("/authorizers/*"));
    const rotatorInvoke = permissions.find((p) => p.Properties.Principal === "secretsmanager.amazonaws.com");
    assert.ok(rotatorInvoke.Properties.SourceAccount, "Secrets Manager from this account only");
  });

  it("keeps the secret, with a first key id unique to the stack", () => {
    main.hasResource("AWS::SecretsManager::Secret", { DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
    main.hasResourceProperties("AWS::SecretsManager::RotationSchedule", {
      RotationRules: { ScheduleExpression: "rate(30 days)" },
    });
  });

  it("alarms on denies and errors of this stack, rotation failures and edge 503s", () => {
    for (const decision of ["deny", "error"]) {
      main.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "originsig",
        MetricName: "Decisions",
        Dimensions: Match.arrayWith([{ Name: "Decision", Value: decision }, { Name: "Deployment", Value: "ShopApi" }]),
      });
    }
    main.hasResourceProperties("AWS::CloudWatch::Alarm", { Namespace: "AWS/Lambda", MetricName: "Errors" });
    main.hasResourceProperties("AWS::CloudWatch::Alarm", { Namespace: "AWS/CloudFront", MetricName: "503ErrorRate" });
    main.resourceCountIs("AWS::CloudFront::MonitoringSubscription", 1);
  });
});

describe("example 2: an existing API in eu-west-1 behind your distribution", () => {
  let main: Template;
  let edge: Template;
  before(() => {
    const app = synth("existing-api-eu-west-1", existingApiApp);
    main = Template.fromStack(app.node.findChild("ShopProtection") as Stack);
    edge = Template.fromStack(app.node.findChild("ShopProtection-edge") as Stack);
  });

  it("puts the authorizer on the existing API and the signer in us-east-1", () => {
    main.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", { ApiId: "a1b2c3d4e5", AuthorizerResultTtlInSeconds: 0 });
    edge.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs22.x",
      Handler: "index.handler",
      Architectures: ["x86_64"],
      LoggingConfig: Match.objectLike({ LogGroup: Match.anyValue() }),
    });
    edge.hasResourceProperties("AWS::Logs::LogGroup", { LogGroupName: "/originsig/ShopProtection/edge-signer", RetentionInDays: 30 });
    main.hasResourceProperties("AWS::CloudFront::Distribution", {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ LambdaFunctionAssociations: [Match.objectLike({ EventType: "origin-request" })] }),
        Origins: [Match.objectLike({ DomainName: Match.anyValue(), OriginPath: "/prod" })],
      }),
    });
  });

  it("lets the edge read the secret in its region and each replica region only", () => {
    const read = statements(edge).find((s) => s.Sid === "ReadTheSigningKeyOnly");
    const resources = JSON.stringify(read.Resource);
    assert.match(resources, /secretsmanager:eu-west-1:/);
    assert.match(resources, /secretsmanager:us-east-1:/);
    assert.doesNotMatch(resources, /secretsmanager:\*:/);
    main.hasResourceProperties("AWS::SecretsManager::Secret", { ReplicaRegions: [{ Region: "us-east-1" }] });
  });
});

describe("example 3: a CloudFront function edge with its key value store (edgeKind cloudfront-function)", () => {
  let app: App;
  let main: Template;
  before(() => {
    app = synth("cloudfront-function", cloudFrontFunctionApp);
    main = Template.fromStack(app.node.findChild("ShopApiCff") as Stack);
  });

  it("creates the function (runtime 2.0, the built code, the store associated) and no Lambda@Edge", () => {
    const functions = Object.values(main.findResources("AWS::CloudFront::Function")) as any[];
    assert.equal(functions.length, 1);
    const fn = functions[0].Properties;
    assert.equal(fn.Name, "ShopApiCff-signer");
    assert.equal(fn.AutoPublish, true);
    assert.equal(fn.FunctionConfig.Runtime, "cloudfront-js-2.0");
    const store = Object.keys(main.findResources("AWS::CloudFront::KeyValueStore"));
    assert.equal(store.length, 1);
    assert.deepEqual(fn.FunctionConfig.KeyValueStoreAssociations, [{ KeyValueStoreARN: { "Fn::GetAtt": [store[0], "Arn"] } }]);
    // The built function, with the new API's domain written over the deferred host at deploy time.
    const code = JSON.stringify(fn.FunctionCode);
    assert.match(code, /Fn::Join/);
    assert.match(code, /\.execute-api\./);
    assert.doesNotMatch(code, new RegExp(DEFERRED_ORIGIN_DOMAIN.replace(".", "\\.")));
    assert.match(code, new RegExp(`"kvsKey\\\\":\\\\"${KVS_ITEM_KEY}`));
    assert.match(code, /rawQueryString/);
    main.resourceCountIs("Custom::CrossRegionStringParameterReader", 0);
    assert.equal(Object.keys(main.findResources("AWS::Lambda::Function")).filter((id) => id.includes("EdgeSigner")).length, 0);
    assert.equal(app.node.tryFindChild("ShopApiCff-edge"), undefined, "no us-east-1 support stack in us-east-1");
  });

  it("associates the function on viewer-request, with AllViewerExceptHostHeader and caching disabled", () => {
    const distribution = Object.values(main.findResources("AWS::CloudFront::Distribution"))[0] as any;
    const behavior = distribution.Properties.DistributionConfig.DefaultCacheBehavior;
    assert.equal(behavior.LambdaFunctionAssociations, undefined);
    const fnId = Object.keys(main.findResources("AWS::CloudFront::Function"))[0];
    assert.deepEqual(behavior.FunctionAssociations, [{ EventType: "viewer-request", FunctionARN: { "Fn::GetAtt": [fnId, "FunctionARN"] } }]);
    assert.equal(behavior.OriginRequestPolicyId, "b689b0a8-53d0-40ab-baf2-68738e2966ac");
    assert.equal(behavior.CachePolicyId, "4135ea2d-6df8-44a3-9df3-4b5a84be39ad");
  });

  it("lets the rotator write this store only, and tells it the store and its propagation time", () => {
    const storeId = Object.keys(main.findResources("AWS::CloudFront::KeyValueStore"))[0];
    const write = statements(main).filter((s) => JSON.stringify(s.Action).includes("cloudfront-keyvaluestore"));
    assert.equal(write.length, 1);
    assert.deepEqual(write[0].Action, [
      "cloudfront-keyvaluestore:DescribeKeyValueStore",
      "cloudfront-keyvaluestore:GetKey",
      "cloudfront-keyvaluestore:PutKey",
    ]);
    assert.deepEqual(write[0].Resource, { "Fn::GetAtt": [storeId, "Arn"] });
    const rotator = Object.values(main.findResources("AWS::Lambda::Function")).find((f: any) =>
      JSON.stringify(f.Properties.Environment ?? {}).includes("ORIGINSIG_DIRECT_URL"),
    ) as any;
    const env = rotator.Properties.Environment.Variables;
    assert.deepEqual(env.ORIGINSIG_KVS_ARN, { "Fn::GetAtt": [storeId, "Arn"] });
    assert.equal(env.ORIGINSIG_KVS_PROPAGATION_SECS, String(TIMING.kvsPropagationSecs));
    main.hasOutput("*", { Value: { "Fn::GetAtt": [storeId, "Arn"] } });
  });

  it("alarms on function errors and compute utilisation, in us-east-1 with the function's name", () => {
    for (const [metric, threshold] of [["FunctionExecutionErrors", 0], ["FunctionComputeUtilization", FUNCTION_COMPUTE_ALARM_PERCENT]] as const) {
      main.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "AWS/CloudFront",
        MetricName: metric,
        Threshold: threshold,
        Dimensions: Match.arrayWith([{ Name: "FunctionName", Value: "ShopApiCff-signer" }, { Name: "Region", Value: "Global" }]),
      });
    }
  });

  it("puts the function alarms in a us-east-1 stack when the API is elsewhere", () => {
    const app = new App();
    const stack = new Stack(app, "Eu", { env: { account: "123456789012", region: "eu-west-1" } });
    const api = apigwv2.HttpApi.fromHttpApiAttributes(stack, "Api", { httpApiId: "a1b2c3d4e5" });
    const artifactsDir = prepareArtifacts("cff-eu", {
      functionArgs: ["--origin-domain", "api.example.com", "--gateway-path-prefix", "/prod"],
    });
    new OriginSig(stack, "OriginSig", {
      api,
      edgeKind: "cloudfront-function",
      originDomain: "api.example.com",
      originPath: "/prod",
      artifactsDir,
    });
    const edge = Template.fromStack(app.node.findChild("Eu-edge") as Stack);
    edge.resourceCountIs("AWS::CloudWatch::Alarm", 2);
    edge.resourceCountIs("AWS::Lambda::Function", 0);
    const main = Template.fromStack(stack);
    main.resourceCountIs("AWS::CloudFront::Function", 1);
    // A concrete origin domain: the code is the built file as it is.
    const fn = Object.values(main.findResources("AWS::CloudFront::Function"))[0] as any;
    assert.equal(typeof fn.Properties.FunctionCode, "string");
    assert.match(fn.Properties.FunctionCode, /"host":"api\.example\.com","pathPrefix":"\/prod"/);
  });
});

describe("refusals", () => {
  const cffStack = (name: string) => {
    const app = new App();
    const stack = new Stack(app, name, { env: { account: "123456789012", region: "us-east-1" } });
    return { stack, api: apigwv2.HttpApi.fromHttpApiAttributes(stack, "Api", { httpApiId: "a1b2c3d4e5" }) };
  };

  it("refuses a CloudFront function built for another host, prefix or store key, naming the command that rebuilds it", () => {
    const cases: [string[], RegExp][] = [
      [["--origin-domain", "other.example.com", "--gateway-path-prefix", "/prod"], /host: function "other\.example\.com", construct "api\.example\.com"/],
      [["--origin-domain", "api.example.com", "--gateway-path-prefix", ""], /pathPrefix: function "", construct "\/prod"/],
      [["--origin-domain", "api.example.com", "--gateway-path-prefix", "/prod", "--kvs-key", "other"], /kvsKey: function "other", construct "originsig-current"/],
      [["--origin-domain", "api.example.com", "--gateway-path-prefix", "/prod", "--api-kind", "rest_api"], /apiKind: function "rest_api", construct "http_api"/],
    ];
    for (const [args, reason] of cases) {
      const { stack, api } = cffStack("Mismatch");
      const artifactsDir = prepareArtifacts("cff-mismatch", { functionArgs: args });
      assert.throws(
        () => new OriginSig(stack, "OriginSig", { api, edgeKind: "cloudfront-function", originDomain: "api.example.com", originPath: "/prod", artifactsDir }),
        (e: Error) => reason.test(e.message) && /rebuild: edge-signer\/cloudfront-function\/build.py --origin-domain api.example.com --gateway-path-prefix '\/prod'/.test(e.message),
      );
    }
  });

  it("refuses a concrete function host when the origin domain is only known at deploy time, and a missing or unbuilt function", () => {
    const { stack, api } = cffStack("Deferred");
    const built = prepareArtifacts("cff-deferred", { functionArgs: ["--origin-domain", "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "--gateway-path-prefix", ""] });
    assert.throws(() => new OriginSig(stack, "A", { api, edgeKind: "cloudfront-function", artifactsDir: built, createDistribution: false }),
      new RegExp(`known at deploy time \\(build with ${DEFERRED_ORIGIN_DOMAIN.replace(".", "\\.")}, or give originDomain\\)`));
    const none = prepareArtifacts("cff-none", {});
    assert.throws(() => new OriginSig(stack, "B", { api, edgeKind: "cloudfront-function", artifactsDir: none, createDistribution: false }),
      /no CloudFront function at .*; build it: edge-signer\/cloudfront-function\/build.py --origin-domain origin-domain\.invalid/);
    fs.mkdirSync(path.join(none, "cloudfront-function"), { recursive: true });
    const withoutConfig = fs.readFileSync(path.join(built, "cloudfront-function", "function.js"), "utf8").replace(/^const CONFIG = .*$/m, "");
    fs.writeFileSync(path.join(none, "cloudfront-function", "function.js"), withoutConfig);
    assert.throws(() => new OriginSig(stack, "C", { api, edgeKind: "cloudfront-function", artifactsDir: none, createDistribution: false }),
      /not a built originsig function/);
    fs.writeFileSync(path.join(none, "cloudfront-function", "function.js"), "x".repeat(10 * 1024 + 1));
    assert.throws(() => new OriginSig(stack, "D", { api, edgeKind: "cloudfront-function", artifactsDir: none, createDistribution: false }),
      /over CloudFront's 10240-byte function limit/);
  });

  it("refuses an unknown edge kind", () => {
    const { stack, api } = cffStack("Kind");
    const artifactsDir = prepareArtifacts("kind", EXAMPLES["new-distribution"]);
    assert.throws(() => new OriginSig(stack, "OriginSig", { api, artifactsDir, edgeKind: "lambda" as any }), /edgeKind must be one of lambda-edge, cloudfront-function/);
  });

  it("refuses an edge bundle built for another secret, naming the command that rebuilds it", () => {
    process.env.ORIGINSIG_ARTIFACTS_DIR = prepareArtifacts("refusal", { bundleArgs: ["--secret-id", "other/keys", "--region", "us-east-1"] });
    assert.throws(() => newDistributionApp(new App()), /built for other values \(secretId: bundle "other\/keys".*rebuild: edge-signer\/bundle.py --secret-id 'originsig\/keys'/);
  });

  it("fails synth for a route without the originsig authorizer", () => {
    const app = new App();
    const stack = new Stack(app, "Open", { env: { account: "123456789012", region: "us-east-1" } });
    const api = new apigwv2.HttpApi(stack, "Api");
    new OriginSig(stack, "OriginSig", { api, artifactsDir: prepareArtifacts("open", EXAMPLES["new-distribution"]) });
    api.addRoutes({ path: "/open", integration: new HttpUrlIntegration("Url", "https://example.com") });
    app.synth();
    const errors = Annotations.fromStack(stack).findError("*", Match.stringLikeRegexp("does not use the originsig authorizer"));
    assert.equal(errors.length, 1);
  });

  it("refuses a rotation schedule under Secrets Manager's 4 hours", () => {
    const app = new App();
    const stack = new Stack(app, "Fast", { env: { account: "123456789012", region: "us-east-1" } });
    const api = new apigwv2.HttpApi(stack, "Api");
    const artifactsDir = prepareArtifacts("fast", EXAMPLES["new-distribution"]);
    assert.throws(() => new OriginSig(stack, "OriginSig", { api, artifactsDir, rotationSchedule: Duration.hours(1) }), /at least 4 hours/);
  });

  it("bounds the authorizer cache TTL by the timing model, and only this secret's rotations invoke the rotator", () => {
    const timing = JSON.parse(fs.readFileSync(path.join(REPO, "infra", "timing.json"), "utf8"));
    const app = new App();
    const stack = new Stack(app, "Ttl", { env: { account: "123456789012", region: "us-east-1" } });
    const api = new apigwv2.HttpApi(stack, "Api");
    const artifactsDir = prepareArtifacts("ttl", EXAMPLES["new-distribution"]);
    const over = Duration.seconds(timing.maxAuthorizerCacheTtlSecs + 1);
    assert.throws(
      () => new OriginSig(stack, "TooLong", { api, artifactsDir, authorizerCacheTtl: over, createDistribution: false }),
      new RegExp(`at most ${timing.maxAuthorizerCacheTtlSecs} s`),
    );
    new OriginSig(stack, "OriginSig", {
      api,
      artifactsDir,
      authorizerCacheTtl: Duration.seconds(timing.maxAuthorizerCacheTtlSecs),
      rotatorCheckPath: "/health",
      createDistribution: false,
    });
    const template = Template.fromStack(stack);
    const permission = Object.values(template.findResources("AWS::Lambda::Permission")).find(
      (p: any) => p.Properties.Principal === "secretsmanager.amazonaws.com",
    ) as any;
    assert.ok(permission?.Properties.SourceArn, "the rotator's invoke permission names the secret");
    const rotator = Object.values(template.findResources("AWS::Lambda::Function")).find((f: any) =>
      JSON.stringify(f.Properties.Environment ?? {}).includes("ORIGINSIG_DIRECT_URL"),
    ) as any;
    assert.match(JSON.stringify(rotator.Properties.Environment.Variables.ORIGINSIG_DIRECT_URL), /\/health/);
  });
});
