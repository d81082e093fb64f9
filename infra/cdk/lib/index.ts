/**
 * `OriginSig`: the pieces of infra/api-region.yaml and infra/edge.yaml as one CDK construct.
 *
 * In the stack of your HTTP API (any region): the key secret, the authorizer, the rotator and
 * their alarms. In us-east-1, through CDK's cross-region `cloudfront.experimental.EdgeFunction`
 * (its own support stack): the Lambda@Edge signer. Optionally a new distribution; otherwise
 * `behavior()` gives your own distribution's behaviour everything it needs.
 *
 * The artifacts come from `target/lambda/` (infra/build.sh, or edge-signer/bundle.py for the
 * edge bundle). The edge bundle has its configuration baked in; the construct reads its
 * config.json at synth time and refuses a bundle built for another secret, region, replica
 * set or timing, with the command that rebuilds it.
 *
 * `edgeKind: "cloudfront-function"` signs with a viewer-request CloudFront function instead
 * (edge-signer/cloudfront-function/, built into `target/lambda/cloudfront-function/function.js`)
 * that reads its key from a CloudFront KeyValueStore created here; the rotator copies AWSCURRENT
 * into the store at every promotion. The function and the store are global resources and live
 * in this stack; their alarms live in us-east-1, where CloudFront publishes function metrics.
 * The built function's configuration (host, path prefix, API kind, store key) is checked at
 * synth as the edge bundle's is.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import {
  Annotations,
  Aspects,
  Aws,
  CfnOutput,
  CfnResource,
  Duration,
  Fn,
  IAspect,
  RemovalPolicy,
  Stack,
  Stage,
  Token,
} from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import { Construct, IConstruct } from "constructs";

const REPO = path.resolve(__dirname, "..", "..", "..", "..");
/** The timing model's defaults (written by `originsig timing --json`; a Rust test keeps it current). */
export const TIMING: Record<string, number> = JSON.parse(
  fs.readFileSync(path.join(REPO, "infra", "timing.json"), "utf8"),
);
/** The signature header (shared/src/header.rs HEADER_NAME; infra/cdk/test/originsig.test.ts holds them equal). */
export const HEADER_NAME = "x-originsig";
/** The tag the rotator records promotions in (hmac-authorizer/src/store/secrets_manager.rs). */
export const PROMOTED_AT_TAG = "originsig:promoted-at";
/** The tag a failed rotation test is recorded in (same file; test.ts holds them equal). */
export const FAILED_TEST_TAG = "originsig:failed-test";
/** The tag that records the key value store the edge reads (same file; test.ts holds them equal). */
export const KVS_ARN_TAG = "originsig:kvs-arn";
/** Which edge signs (infra/edge.yaml `EdgeKind`). */
export type EdgeKind = "lambda-edge" | "cloudfront-function";
export const EDGE_KINDS: readonly EdgeKind[] = ["lambda-edge", "cloudfront-function"];
/** The KeyValueStore item the function reads and the rotator writes: its one source is
 * infra/kvs-item-key.txt, which the Rust writer (KVS_ITEM_KEY) and build.py (DEFAULT_KVS_KEY) read too. */
export const KVS_ITEM_KEY = fs.readFileSync(path.join(REPO, "infra", "kvs-item-key.txt"), "utf8").trim();
/** The host to build the function with when the origin domain is only known at deploy time (a new
 * API in this app): the construct writes the origin domain in its place. `.invalid` (RFC 2606)
 * can never be a real origin, so a function built with it that escaped the construct fails closed. */
export const DEFERRED_ORIGIN_DOMAIN = "origin-domain.invalid";
/** CloudFront Functions' code size limit (CloudFront Developer Guide, "Quotas"; infra/cff_template.py). */
export const MAX_FUNCTION_BYTES = 10 * 1024;
/** Alarm when the function's compute utilisation averages above this (infra/edge.yaml
 * FunctionComputeAlarmThresholdPercent's default; test.ts holds them equal). */
export const FUNCTION_COMPUTE_ALARM_PERCENT = 70;
/** Secrets Manager's shortest rotation interval. */
const MIN_ROTATION = Duration.hours(4);
/** The rotator's Lambda timeout; the rotation wait (authorizer cache TTL + margin) and the URL
 * checks must fit (infra/timing.json: rotatorTimeoutSecs, maxAuthorizerCacheTtlSecs). */
const ROTATOR_TIMEOUT = Duration.seconds(TIMING.rotatorTimeoutSecs);

export interface OriginSigProps {
  /** The HTTP API to protect, in this stack's region. */
  readonly api: apigwv2.IHttpApi;
  /** The domain CloudFront forwards to (default: the API's execute-api domain). */
  readonly originDomain?: string;
  /** CloudFront origin path: a named stage (`/prod`), or the mapping key on a custom domain. */
  readonly originPath?: string;
  /** A GET route with the originsig authorizer, after the origin path (e.g. `/health`), where the
   * scheduled rotation checks a new key before promoting it (default `/`). */
  readonly rotatorCheckPath?: string;
  /** Name of the key secret the construct creates (default `originsig/keys`). */
  readonly secretName?: string;
  /** Regions to replicate the secret to; an edge running there reads its replica. */
  readonly replicaRegions?: string[];
  /** How often the rotator rotates the key (default 30 days; at least 4 hours). */
  readonly rotationSchedule?: Duration;
  /** Create a distribution in front of the API (default true). Otherwise use `behavior()`. */
  readonly createDistribution?: boolean;
  /** Viewer domain names on the new distribution (need `certificate`, in us-east-1). */
  readonly domainNames?: string[];
  readonly certificate?: acm.ICertificate;
  /** A WAFv2 web ACL (CLOUDFRONT scope) for the new distribution. */
  readonly webAclId?: string;
  /** Authorizer timings (default: infra/timing.json). */
  readonly authorizerCacheTtl?: Duration;
  readonly maxAge?: Duration;
  /** The edge's max staleness; the bundle must be built with it (default: infra/timing.json). */
  readonly edgeMaxStale?: Duration;
  /** Alarm when more than this many signed requests are denied in 5 minutes (default 100). */
  readonly denyAlarmThreshold?: number;
  readonly alarmTopic?: sns.ITopic;
  /** Folder with edge-signer/, hmac-authorizer/bootstrap.zip, key-rotator/bootstrap.zip (default target/lambda). */
  readonly artifactsDir?: string;
  /** Fail synth when a route of `api` does not use the originsig authorizer (default true). */
  readonly requireEveryRoute?: boolean;
  /** Which edge signs (default `lambda-edge`). `cloudfront-function`: a viewer-request CloudFront
   * function reading a KeyValueStore; build it first (edge-signer/cloudfront-function/build.py). */
  readonly edgeKind?: EdgeKind;
  /** CloudFront function edge: how long a KeyValueStore update may take to reach every edge
   * location (unconfirmed; default: infra/timing.json kvsPropagationSecs). The rotator keeps the
   * previous key accepted at least this long. */
  readonly kvsPropagation?: Duration;
}

/** What an edge bundle was built with (its config.json). */
interface BundleConfig {
  secretId?: string;
  region?: string;
  replicaRegions?: string[];
  maxStaleSeconds?: number;
  apiKind?: string;
}

export class OriginSig extends Construct {
  /** Put this on every route (or as the API's default authorizer). */
  public readonly authorizer: apigwv2.IHttpRouteAuthorizer;
  /** The authorizer on the API (its id: `originsig routes attach --authorizer-id`). */
  public readonly httpAuthorizer: apigwv2.HttpAuthorizer;
  public readonly authorizerFunction: lambda.Function;
  public readonly rotator: lambda.Function;
  public readonly secret: secretsmanager.Secret;
  /** The Lambda@Edge signer (edgeKind `lambda-edge`). */
  public readonly edgeFunction?: cloudfront.experimental.EdgeFunction;
  /** The CloudFront function signer and its key store (edgeKind `cloudfront-function`). */
  public readonly signerFunction?: cloudfront.Function;
  public readonly keyValueStore?: cloudfront.KeyValueStore;
  public readonly edgeKind: EdgeKind;
  public readonly distribution?: cloudfront.Distribution;
  public readonly alarms: cloudwatch.Alarm[] = [];
  private readonly originDomain: string;
  private readonly originPath?: string;

  constructor(scope: Construct, id: string, props: OriginSigProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region)) {
      throw new Error("OriginSig: give the stack an explicit env.region (the edge bundle is built for it)");
    }
    const artifacts = props.artifactsDir ?? path.join(REPO, "target", "lambda");
    const secretName = props.secretName ?? "originsig/keys";
    const replicas = props.replicaRegions ?? [];
    const edgeMaxStale = props.edgeMaxStale ?? Duration.seconds(TIMING.edgeMaxStaleSecs);
    const cacheTtl = props.authorizerCacheTtl ?? Duration.seconds(TIMING.authorizerCacheTtlSecs);
    const maxAge = props.maxAge ?? Duration.seconds(TIMING.maxAgeSecs);
    const schedule = props.rotationSchedule ?? Duration.days(30);
    if (schedule.toSeconds() < MIN_ROTATION.toSeconds()) {
      throw new Error(`OriginSig: rotationSchedule must be at least 4 hours (Secrets Manager's minimum)`);
    }
    if (cacheTtl.toSeconds() > TIMING.maxAuthorizerCacheTtlSecs) {
      throw new Error(
        `OriginSig: authorizerCacheTtl must be at most ${TIMING.maxAuthorizerCacheTtlSecs} s: the rotation waits it + ` +
          `${TIMING.safetyMarginSecs} s, then checks URLs, inside the rotator's ${TIMING.rotatorTimeoutSecs} s ` +
          `(maxAuthorizerCacheTtlSecs, infra/timing.json)`,
      );
    }
    const checkPath = props.rotatorCheckPath ?? "/";
    if (!/^(\/|(\/[A-Za-z0-9._~-]+)+\/?)$/.test(checkPath)) {
      throw new Error(`OriginSig: rotatorCheckPath must be a path such as /health (no percent-escapes, no query)`);
    }
    this.edgeKind = props.edgeKind ?? "lambda-edge";
    if (!EDGE_KINDS.includes(this.edgeKind)) {
      throw new Error(`OriginSig: edgeKind must be one of ${EDGE_KINDS.join(", ")}, got ${JSON.stringify(this.edgeKind)}`);
    }
    const cff = this.edgeKind === "cloudfront-function";
    this.originDomain = props.originDomain ?? `${props.api.apiId}.execute-api.${stack.region}.${Aws.URL_SUFFIX}`;
    this.originPath = props.originPath;
    const kvsPropagation = props.kvsPropagation ?? Duration.seconds(TIMING.kvsPropagationSecs);
    // Read (and checked) before anything is created, as the edge bundle is.
    const functionCode = cff
      ? loadFunction(path.join(artifacts, "cloudfront-function", "function.js"), {
          host: this.originDomain,
          pathPrefix: this.originPath ?? "",
          apiKind: "http_api",
          kvsKey: KVS_ITEM_KEY,
        })
      : undefined;
    if (!cff) {
      checkBundle(path.join(artifacts, "edge-signer"), {
        secretId: secretName,
        region: stack.region,
        replicaRegions: replicas,
        maxStaleSeconds: edgeMaxStale.toSeconds(),
        apiKind: "http_api",
      });
    }

    // ---------------------------------------------------------------- keys
    this.secret = new secretsmanager.Secret(this, "Keys", {
      secretName,
      description: "originsig HMAC keys, one per version (SPEC.md §7)",
      // A first key id unique to this stack, so a regenerated first key never shares an id.
      generateSecretString: {
        secretStringTemplate: Fn.join("", [
          '{"format":"originsig-key-v1","kid":"k-init-',
          Fn.select(2, Fn.split("/", Aws.STACK_ID)),
          '"}',
        ]),
        generateStringKey: "key",
        passwordLength: 64,
        excludeCharacters: "!\"#$%&'()*,-.:;<=>?@[\\]^_`{|}~",
        requireEachIncludedType: false,
      },
      replicaRegions: replicas.map((region) => ({ region })),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // ---------------------------------------------------------------- authorizer
    const authorizer = rustFunction(this, "Authorizer", {
      description: "originsig HMAC authorizer (HTTP API, payload 2.0, simple responses)",
      zip: path.join(artifacts, "hmac-authorizer", "bootstrap.zip"),
      timeout: Duration.seconds(5),
      environment: {
        ORIGINSIG_SECRET_ID: this.secret.secretArn,
        ORIGINSIG_RESPONSE_MODE: "simple",
        ORIGINSIG_CACHE_TTL_SECS: String(cacheTtl.toSeconds()),
        ORIGINSIG_MAX_AGE_SECS: String(maxAge.toSeconds()),
        ORIGINSIG_METRICS_NAMESPACE: "originsig",
        ORIGINSIG_METRICS_DEPLOYMENT: stack.stackName,
      },
    });
    this.authorizerFunction = authorizer.function;
    this.authorizerFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [this.secret.secretArn] }),
    );
    // Created on the API explicitly (not bound lazily by a route), so an imported API gets it too
    // and the invoke permission can name this one authorizer.
    this.httpAuthorizer = new apigwv2.HttpAuthorizer(this, "OriginSigAuthorizer", {
      httpApi: props.api,
      authorizerName: "originsig",
      type: apigwv2.HttpAuthorizerType.LAMBDA,
      identitySource: [`$request.header.${HEADER_NAME}`],
      authorizerUri: `arn:${Aws.PARTITION}:apigateway:${stack.region}:lambda:path/2015-03-31/functions/${this.authorizerFunction.functionArn}/invocations`,
      payloadFormatVersion: apigwv2.AuthorizerPayloadVersion.VERSION_2_0,
      enableSimpleResponses: true,
      resultsCacheTtl: Duration.seconds(0),
    });
    const authorizerId = this.httpAuthorizer.authorizerId;
    this.authorizer = {
      bind: () => ({ authorizerId, authorizationType: "CUSTOM" }),
    };
    this.authorizerFunction.addPermission("InvokedByThisAuthorizerOnly", {
      principal: new iam.ServicePrincipal("apigateway.amazonaws.com"),
      sourceArn: `arn:${Aws.PARTITION}:execute-api:${stack.region}:${Aws.ACCOUNT_ID}:${props.api.apiId}/authorizers/${authorizerId}`,
    });
    new CfnOutput(this, "AuthorizerId", { value: authorizerId });

    // ---------------------------------------------------------------- rotator
    // The CloudFront function's key store, created empty: `originsig rotate --kvs-arn` copies
    // AWSCURRENT into it once after the first deploy; the rotator writes it at every promotion.
    this.keyValueStore = cff
      ? new cloudfront.KeyValueStore(this, "EdgeKeyValueStore", {
          keyValueStoreName: `${stack.stackName}-keys`,
          comment: "originsig signing key for the CloudFront function (a copy of the secret's AWSCURRENT)",
        })
      : undefined;
    const storeEnvironment: Record<string, string> = this.keyValueStore
      ? {
          ORIGINSIG_KVS_ARN: this.keyValueStore.keyValueStoreArn,
          ORIGINSIG_KVS_PROPAGATION_SECS: String(kvsPropagation.toSeconds()),
        }
      : {};
    const rotator = rustFunction(this, "Rotator", {
      description: "originsig scheduled rotator (Secrets Manager rotation function)",
      zip: path.join(artifacts, "key-rotator", "bootstrap.zip"),
      timeout: ROTATOR_TIMEOUT,
      environment: {
        ORIGINSIG_CACHE_TTL_SECS: String(cacheTtl.toSeconds()),
        ORIGINSIG_EDGE_MAX_STALE_SECS: String(edgeMaxStale.toSeconds()),
        ORIGINSIG_MAX_AGE_SECS: String(maxAge.toSeconds()),
        // The health route, signed as the edge signs it (prefix: the origin path).
        ORIGINSIG_DIRECT_URL: `https://${this.originDomain}${this.originPath ?? ""}${checkPath}`,
        ORIGINSIG_ORIGIN_PATH: this.originPath ?? "",
        ...storeEnvironment,
      },
    });
    this.rotator = rotator.function;
    if (this.keyValueStore) {
      // What the store client calls (hmac-authorizer/src/store/kvs.rs), on this store only.
      this.rotator.addToRolePolicy(
        new iam.PolicyStatement({
          sid: "CopyTheKeyToTheEdgeStoreOnly",
          actions: [
            "cloudfront-keyvaluestore:DescribeKeyValueStore",
            "cloudfront-keyvaluestore:GetKey",
            "cloudfront-keyvaluestore:PutKey",
          ],
          resources: [this.keyValueStore.keyValueStoreArn],
        }),
      );
    }
    this.rotator.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          "secretsmanager:DescribeSecret",
          "secretsmanager:GetSecretValue",
          "secretsmanager:PutSecretValue",
          "secretsmanager:UpdateSecretVersionStage",
        ],
        resources: [this.secret.secretArn],
      }),
    );
    this.rotator.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["secretsmanager:TagResource"],
        resources: [this.secret.secretArn],
        conditions: {
          "ForAllValues:StringEquals": { "aws:TagKeys": [PROMOTED_AT_TAG, FAILED_TEST_TAG, KVS_ARN_TAG] },
          Null: { "aws:TagKeys": "false" },
        },
      }),
    );
    if (replicas.length > 0) {
      // Before promoting, the rotator reads the new version in each replica region.
      this.rotator.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ["secretsmanager:GetSecretValue"],
          resources: replicas.map(
            (region) => `arn:${Aws.PARTITION}:secretsmanager:${region}:${Aws.ACCOUNT_ID}:secret:${secretName}-??????`,
          ),
        }),
      );
    }
    // At the CloudFormation level: addRotationSchedule would also grant the rotator
    // secretsmanager:GetRandomPassword on "*" and read/write beyond what it calls.
    const invokedBySecretsManager = new lambda.CfnPermission(this, "RotatorInvokedBySecretsManager", {
      action: "lambda:InvokeFunction",
      functionName: this.rotator.functionArn,
      principal: "secretsmanager.amazonaws.com",
      sourceAccount: Aws.ACCOUNT_ID,
      // Only rotations of this secret may invoke the rotator.
      sourceArn: this.secret.secretArn,
    });
    const rotation = new secretsmanager.CfnRotationSchedule(this, "Rotation", {
      secretId: this.secret.secretArn,
      rotationLambdaArn: this.rotator.functionArn,
      rotateImmediatelyOnUpdate: false,
      rotationRules: { scheduleExpression: rateExpression(schedule) },
    });
    rotation.addDependency(invokedBySecretsManager);

    // ---------------------------------------------------------------- edge signer
    const edgeLogGroupName = `/originsig/${stack.stackName}/edge-signer`;
    // The us-east-1 stack: EdgeFunction puts the Lambda@Edge function in it, made here first so the
    // role and the log group (with retention) live next to the function (no cross-region
    // references); the CloudFront function's alarms go there too. In us-east-1: this stack.
    const stage = Stage.of(this);
    if (!stage) throw new Error("OriginSig: the stack must be part of a CDK app");
    const edgeStackId = `${stack.stackName}-edge`;
    const usEast1Stack = () =>
      stack.region === "us-east-1"
        ? stack
        : ((stage.node.tryFindChild(edgeStackId) as Stack | undefined) ??
          new Stack(stage, edgeStackId, { env: { region: "us-east-1", account: stack.account } }));
    let edgeLogs: logs.LogGroup | undefined;
    if (functionCode !== undefined) {
      // Global resources, in this stack (a CloudFront function is not regional, unlike Lambda@Edge).
      this.signerFunction = new cloudfront.Function(this, "EdgeSignerFunction", {
        functionName: `${stack.stackName}-signer`,
        comment: "originsig viewer-request signer (configuration built into the code)",
        runtime: cloudfront.FunctionRuntime.JS_2_0,
        code: cloudfront.FunctionCode.fromInline(functionCode),
        keyValueStore: this.keyValueStore,
        autoPublish: true,
      });
    } else {
      const edgeStack = usEast1Stack();
      edgeLogs = new logs.LogGroup(edgeStack, `${id}EdgeSignerLogs`, {
        // Not /aws/lambda/…: with a name of its own, Lambda@Edge logs to this same name in every region.
        logGroupName: edgeLogGroupName,
        retention: logs.RetentionDays.ONE_MONTH,
      });
      const edgeRole = new iam.Role(edgeStack, `${id}EdgeSignerRole`, {
        description: "originsig edge signer; reads AWSCURRENT of one secret in its regions, writes its named log group",
        assumedBy: new iam.CompositePrincipal(
          new iam.ServicePrincipal("lambda.amazonaws.com"),
          new iam.ServicePrincipal("edgelambda.amazonaws.com"),
        ),
      });
      edgeRole.addToPolicy(
        new iam.PolicyStatement({
          sid: "ReadTheSigningKeyOnly",
          actions: ["secretsmanager:GetSecretValue"],
          resources: [stack.region, ...replicas].map(
            (region) => `arn:${Aws.PARTITION}:secretsmanager:${region}:${Aws.ACCOUNT_ID}:secret:${secretName}-??????`,
          ),
          conditions: { StringEquals: { "secretsmanager:VersionStage": "AWSCURRENT" } },
        }),
      );
      edgeRole.addToPolicy(
        new iam.PolicyStatement({
          sid: "OwnLogGroupInEveryRegion",
          actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [
            `arn:${Aws.PARTITION}:logs:*:${Aws.ACCOUNT_ID}:log-group:${edgeLogGroupName}`,
            `arn:${Aws.PARTITION}:logs:*:${Aws.ACCOUNT_ID}:log-group:${edgeLogGroupName}:*`,
          ],
        }),
      );
      this.edgeFunction = new cloudfront.experimental.EdgeFunction(this, "EdgeSigner", {
        description: "originsig edge signer (origin-request); configuration is baked into the bundle",
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.X86_64,
        handler: "index.handler",
        code: lambda.Code.fromAsset(path.join(artifacts, "edge-signer"), { exclude: ["edge-signer.zip"] }),
        memorySize: 128,
        timeout: Duration.seconds(5),
        role: edgeRole,
        logGroup: edgeLogs,
        stackId: edgeStack === stack ? undefined : edgeStackId,
      });
    }

    // ---------------------------------------------------------------- distribution
    if (props.createDistribution ?? true) {
      this.distribution = new cloudfront.Distribution(this, "Distribution", {
        comment: `originsig ${stack.stackName}`,
        defaultBehavior: this.behavior(),
        domainNames: props.domainNames,
        certificate: props.certificate,
        minimumProtocolVersion: props.certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
        httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
        priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
        webAclId: props.webAclId,
      });
      new CfnOutput(this, "CloudFrontUrl", { value: `https://${this.distribution.distributionDomainName}/` });
    }
    const edge503 = this.distribution && stack.region === "us-east-1";

    // ---------------------------------------------------------------- alarms
    // `scope`: this construct, or the us-east-1 stack for metrics published only there (then under
    // `id`); the alarm topic is this stack's, so only alarms here get its action.
    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, description: string,
                   scope: Construct = this, id: string = name) => {
      const created = new cloudwatch.Alarm(scope, id, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic && scope === this) created.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.alarms.push(created);
    };
    const decisions = (decision: string) =>
      new cloudwatch.Metric({
        namespace: "originsig",
        metricName: "Decisions",
        dimensionsMap: { Deployment: stack.stackName, Decision: decision },
        statistic: "Sum",
        period: Duration.minutes(5),
      });
    alarm("SignedRequestsDenied", decisions("deny"), props.denyAlarmThreshold ?? 100,
      "Signed requests denied above the threshold (requests without the header get 401 and are not counted): path prefix, keys, clocks, or forged signatures; see the decision logs' reason.");
    alarm("AuthorizerErrors", decisions("error"), 0,
      "The originsig authorizer answered errors (500): no usable keys or a misconfigured authorizer.");
    alarm("RotationFailed", this.rotator.metricErrors({ period: Duration.hours(1), statistic: "Sum" }), 0,
      "A rotation step failed; the keys in use are unchanged. Read the rotator's logs, then `originsig status`.");
    if (this.signerFunction) {
      // CloudFront publishes function metrics in us-east-1 only (AWS/CloudFront, FunctionName and
      // Region=Global: CloudFront Developer Guide, "Monitor CloudFront Functions metrics"). The
      // function's name is literal, so an alarm there needs no cross-region reference.
      const alarmStack = usEast1Stack();
      const functionMetric = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: "AWS/CloudFront",
          metricName,
          dimensionsMap: { FunctionName: `${stack.stackName}-signer`, Region: "Global" },
          statistic,
          period: Duration.minutes(5),
        });
      const functionAlarms: [string, cloudwatch.IMetric, number, string][] = [
        ["FunctionErrors", functionMetric("FunctionExecutionErrors", "Sum"), 0,
          "The CloudFront signer function failed (an exception, or its key value store read failing): viewers got 503. Check that the key value store holds AWSCURRENT (`originsig status --kvs-arn …`)."],
        ["FunctionCompute", functionMetric("FunctionComputeUtilization", "Average"), FUNCTION_COMPUTE_ALARM_PERCENT,
          "The CloudFront signer function is near its compute budget (CloudFront throttles it, 503, near 100%)."],
      ];
      for (const [name, metric, threshold, description] of functionAlarms) {
        if (alarmStack === stack) alarm(name, metric, threshold, description);
        else alarm(name, metric, threshold, description, alarmStack, `${id}${name}`);
      }
      if (alarmStack !== stack && props.alarmTopic) {
        Annotations.of(this).addWarning(
          `OriginSig: the CloudFront function's alarms are in us-east-1 (stack ${alarmStack.stackName}, where its metrics are) and alarmTopic is not; add an action with a us-east-1 topic to them`,
        );
      }
    }
    if (this.distribution && edge503) {
      // CloudFront's metrics live in us-east-1 only, and 503ErrorRate needs its additional metrics.
      new cloudfront.CfnMonitoringSubscription(this, "AdditionalMetrics", {
        distributionId: this.distribution.distributionId,
        monitoringSubscription: { realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: "Enabled" } },
      });
      alarm("Edge503", new cloudwatch.Metric({
        namespace: "AWS/CloudFront",
        metricName: "503ErrorRate",
        dimensionsMap: { DistributionId: this.distribution.distributionId, Region: "Global" },
        statistic: "Average",
        period: Duration.minutes(5),
      }), 1, "Viewers got 503 above 1 %: the edge signer has no key, or the backend is unavailable.");
    } else if (this.distribution) {
      Annotations.of(this).addWarning(
        "OriginSig: no 503 alarm: CloudFront's metrics are in us-east-1 and this stack is not; create the alarm on 503ErrorRate there",
      );
    }

    // The same justified checkov skips as infra/*.yaml.
    const noDlqVpc = (what: string) => [
      { id: "CKV_AWS_116", comment: `${what}: invoked synchronously; a dead-letter queue only applies to asynchronous invocations.` },
      { id: "CKV_AWS_117", comment: `${what}: needs only Secrets Manager; no VPC resources to reach.` },
      { id: "CKV_AWS_115", comment: `${what}: reserved concurrency would turn traffic peaks into throttles; left to the account limit.` },
    ];
    skip(this.authorizerFunction, [...noDlqVpc("The authorizer"),
      { id: "CKV_AWS_173", comment: "The environment holds configuration only (names and numbers), no secrets." }]);
    skip(this.rotator, [...noDlqVpc("The rotator"),
      { id: "CKV_AWS_173", comment: "The environment holds configuration only (names, numbers, URLs), no secrets." }]);
    if (this.edgeFunction) skip(this.edgeFunction.lambda, [
      { id: "CKV_AWS_116", comment: "Lambda@Edge functions cannot have a dead-letter queue." },
      { id: "CKV_AWS_117", comment: "Lambda@Edge functions cannot run in a VPC." },
      { id: "CKV_AWS_115", comment: "Left unreserved on purpose: Lambda@Edge shares each region's account concurrency; a reservation turns peaks into CloudFront 5xx." },
      { id: "CKV_AWS_173", comment: "Lambda@Edge functions have no environment variables at all." },
    ]);
    // CDK's own reader of the edge function's version ARN across regions (EdgeFunction makes it).
    const reader = stack.node.tryFindChild("Custom::CrossRegionStringParameterReaderCustomResourceProvider");
    const readerHandler = reader?.node.tryFindChild("Handler") as CfnResource | undefined;
    readerHandler?.addMetadata("checkov", {
      skip: noDlqVpc("CDK's cross-region parameter reader (a deploy-time custom resource)"),
    });
    for (const group of [authorizer.logs, rotator.logs, ...(edgeLogs ? [edgeLogs] : [])]) {
      skip(group, [{ id: "CKV_AWS_158", comment: "Logs hold reasons, key ids and times, never key material (tested); CloudWatch's default encryption applies." }]);
    }
    skip(this.secret, [{ id: "CKV_AWS_149", comment: "The aws/secretsmanager key encrypts the secret; a customer-managed key is the user's choice (secret prop)." }]);
    if (this.distribution) {
      skip(this.distribution, [
        { id: "CKV_AWS_68", comment: "A WAF web ACL is optional (webAclId); originsig makes sure nothing bypasses it once attached." },
        { id: "CKV_AWS_86", comment: "Access logging is the distribution owner's choice (standard logging v2); not part of origin protection." },
        { id: "CKV_AWS_174", comment: "With a certificate the minimum is TLSv1.2_2021; the default certificate allows no minimum to be set." },
        { id: "CKV_AWS_310", comment: "One origin (the HTTP API); failover would need a second API." },
        { id: "CKV_AWS_374", comment: "Geo restriction is a business decision, not part of origin protection." },
        { id: "CKV2_AWS_32", comment: "Response headers are the backend's business." },
        { id: "CKV2_AWS_42", comment: "A custom certificate with domainNames; otherwise the default certificate is the only one possible." },
        { id: "CKV2_AWS_47", comment: "The WAF web ACL and its rules are brought by the user (webAclId)." },
      ]);
    }

    new CfnOutput(this, "SecretArn", { value: this.secret.secretArn });
    if (this.edgeFunction) {
      new CfnOutput(this, "EdgeSignerVersionArn", { value: this.edgeFunction.currentVersion.edgeArn });
    }
    if (this.signerFunction && this.keyValueStore) {
      new CfnOutput(this, "CloudFrontFunctionArn", { value: this.signerFunction.functionArn });
      new CfnOutput(this, "KeyValueStoreArn", {
        description: "The signer function's key store (created empty): copy the key in once with `originsig rotate --secret-id … --kvs-arn <this>`",
        value: this.keyValueStore.keyValueStoreArn,
      });
    }

    if (props.requireEveryRoute ?? true) {
      Aspects.of(props.api).add(new EveryRouteUsesTheAuthorizer(authorizerId));
    }
  }

  /**
   * A distribution behaviour for the API: the signer on origin-request (Lambda@Edge) or
   * viewer-request (CloudFront function), caching disabled,
   * AllViewerExceptHostHeader (AWS's choice for API Gateway origins), HTTPS only. Use it as the
   * default (or a path's) behaviour of your own distribution.
   */
  public behavior(): cloudfront.BehaviorOptions {
    return {
      origin: new origins.HttpOrigin(this.originDomain, {
        originPath: this.originPath,
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      }),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      edgeLambdas: this.edgeFunction && [
        {
          functionVersion: this.edgeFunction.currentVersion,
          eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST,
          includeBody: false,
        },
      ],
      // The function cannot set Host: the origin must get its own (AllViewerExceptHostHeader, above).
      functionAssociations: this.signerFunction && [
        { function: this.signerFunction, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
      ],
    };
  }
}

/** A Secrets Manager schedule: whole days as days, otherwise whole hours. */
function rateExpression(every: Duration): string {
  const hours = every.toHours({ integral: false });
  if (hours % 24 === 0) return `rate(${hours / 24} ${hours === 24 ? "day" : "days"})`;
  if (Number.isInteger(hours)) return `rate(${hours} hours)`;
  throw new Error(`OriginSig: rotationSchedule must be whole hours, got ${every.toHumanString()}`);
}

/** checkov skips, each with its reason, on a construct's CloudFormation resource. */
export function skip(construct: IConstruct, checks: { id: string; comment: string }[]): void {
  const resource = construct.node.defaultChild as CfnResource | undefined;
  resource?.addMetadata("checkov", { skip: checks });
}

/**
 * One of the Rust binaries (arm64, provided.al2023) with a log group of its own and a role that
 * may write to that group only (no AWSLambdaBasicExecutionRole: it allows any group). Logical ids:
 * `<id>`, `<id>Logs`, `<id>Role`.
 */
function rustFunction(
  scope: Construct,
  id: string,
  props: { description: string; zip: string; timeout: Duration; environment: Record<string, string> },
): { function: lambda.Function; logs: logs.LogGroup } {
  const group = new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH });
  const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com") });
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: "OwnLogGroupOnly",
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [group.logGroupArn],
    }),
  );
  const created = new lambda.Function(scope, id, {
    description: props.description,
    runtime: lambda.Runtime.PROVIDED_AL2023,
    architecture: lambda.Architecture.ARM_64,
    handler: "bootstrap",
    code: lambda.Code.fromAsset(props.zip),
    memorySize: 128,
    timeout: props.timeout,
    logGroup: group,
    role,
    environment: props.environment,
  });
  return { function: created, logs: group };
}

/** Refuses an edge bundle built for other values than the construct deploys. */
function checkBundle(dir: string, expected: Required<BundleConfig>): void {
  const file = path.join(dir, "config.json");
  const rebuild =
    `edge-signer/bundle.py --secret-id '${expected.secretId}' --region ${expected.region}` +
    ` --replica-regions '${expected.replicaRegions.join(",")}' --max-stale ${expected.maxStaleSeconds}` +
    (dir === path.join(REPO, "target", "lambda", "edge-signer") ? "" : ` --out '${dir}'`);
  if (!fs.existsSync(file)) {
    throw new Error(`OriginSig: no edge bundle at ${dir}; build it: ${rebuild}`);
  }
  const built: BundleConfig = JSON.parse(fs.readFileSync(file, "utf8"));
  const differences = (Object.keys(expected) as (keyof BundleConfig)[])
    .filter((key) => JSON.stringify(built[key]) !== JSON.stringify(expected[key]))
    .map((key) => `${key}: bundle ${JSON.stringify(built[key])}, construct ${JSON.stringify(expected[key])}`);
  if (differences.length > 0) {
    throw new Error(`OriginSig: the edge bundle was built for other values (${differences.join("; ")}); rebuild: ${rebuild}`);
  }
}

/** What a built CloudFront function signs for (the CONFIG build.py bakes into it). */
interface FunctionConfig {
  host: string;
  pathPrefix: string;
  apiKind: string;
  kvsKey: string;
}

/**
 * The built CloudFront function's code, refused when built for other values than the construct
 * deploys (as checkBundle refuses an edge bundle), with the command that rebuilds it. A function
 * built with DEFERRED_ORIGIN_DOMAIN gets the origin domain written in (at deploy time when it is a
 * token, e.g. a new API's id).
 */
function loadFunction(file: string, expected: FunctionConfig): string {
  const deferred = Token.isUnresolved(expected.host);
  const rebuild =
    `edge-signer/cloudfront-function/build.py --origin-domain ${deferred ? DEFERRED_ORIGIN_DOMAIN : expected.host}` +
    ` --gateway-path-prefix '${expected.pathPrefix}' --api-kind ${expected.apiKind} --kvs-key ${expected.kvsKey}` +
    ` --out ${file}`;
  if (!fs.existsSync(file)) {
    throw new Error(`OriginSig: no CloudFront function at ${file}; build it: ${rebuild}`);
  }
  const code = fs.readFileSync(file, "utf8");
  const size = Buffer.byteLength(code, "utf8");
  if (size > MAX_FUNCTION_BYTES) {
    throw new Error(`OriginSig: ${file} is ${size} bytes, over CloudFront's ${MAX_FUNCTION_BYTES}-byte function limit`);
  }
  // build.py writes the configuration as one compact JSON object on its own line.
  const configs = [...code.matchAll(/^const CONFIG = (\{.*\});$/gm)];
  if (configs.length !== 1) {
    throw new Error(`OriginSig: ${file} is not a built originsig function (no CONFIG line; the source, not the build?); build it: ${rebuild}`);
  }
  let built: FunctionConfig;
  try {
    built = JSON.parse(configs[0][1]);
  } catch {
    throw new Error(`OriginSig: ${file}: its CONFIG is not JSON; build it again: ${rebuild}`);
  }
  const hostMatches = built.host === DEFERRED_ORIGIN_DOMAIN || (!deferred && built.host === expected.host);
  const differences = (Object.keys(expected) as (keyof FunctionConfig)[])
    .filter((key) => (key === "host" ? !hostMatches : JSON.stringify(built[key]) !== JSON.stringify(expected[key])))
    .map((key) =>
      key === "host" && deferred
        ? `host: function ${JSON.stringify(built.host)}, construct: the origin domain known at deploy time (build with ${DEFERRED_ORIGIN_DOMAIN}, or give originDomain)`
        : `${key}: function ${JSON.stringify(built[key])}, construct ${JSON.stringify(expected[key])}`,
    );
  if (differences.length > 0) {
    throw new Error(`OriginSig: the CloudFront function was built for other values (${differences.join("; ")}); rebuild: ${rebuild}`);
  }
  if (built.host !== DEFERRED_ORIGIN_DOMAIN) return code;
  // The host is a JSON string in CONFIG; a host name (build.py: letters, digits, dots, hyphens)
  // needs no escaping, so the domain goes in as it is.
  const parts = code.split(`"host":"${DEFERRED_ORIGIN_DOMAIN}"`);
  if (parts.length !== 2) {
    throw new Error(`OriginSig: ${file}: expected the deferred host once in its CONFIG; build it again: ${rebuild}`);
  }
  const [before, after] = parts;
  return Fn.join("", [`${before}"host":"`, expected.host, `"${after}`]);
}

/** Every route of the API must use the originsig authorizer: an error at synth otherwise. */
class EveryRouteUsesTheAuthorizer implements IAspect {
  constructor(private readonly authorizerId: string) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof apigwv2.CfnRoute)) return;
    const stack = Stack.of(node);
    const protectedByUs =
      stack.resolve(node.authorizationType) === "CUSTOM" &&
      JSON.stringify(stack.resolve(node.authorizerId)) === JSON.stringify(stack.resolve(this.authorizerId));
    if (!protectedByUs) {
      Annotations.of(node).addError(
        `route ${node.routeKey} does not use the originsig authorizer: pass originsig.authorizer to addRoutes() ` +
          `(or as the API's defaultAuthorizer), or set requireEveryRoute: false and audit with \`originsig routes audit\``,
      );
    }
  }
}
