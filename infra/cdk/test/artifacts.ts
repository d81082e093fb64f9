// The artifacts an example app synthesizes with: the real edge bundle (edge-signer/bundle.py,
// from the already built wasm) for the app's secret and region, or the real CloudFront function
// (edge-signer/cloudfront-function/build.py) for the app's origin, and stand-ins for the two arm64
// bootstrap.zip files (synth only stages them; their code is tested in Rust).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..", "..", "..");

export interface Example {
  module: string;
  /** edge-signer/bundle.py arguments (a Lambda@Edge edge). */
  bundleArgs?: string[];
  /** edge-signer/cloudfront-function/build.py arguments (a CloudFront function edge). */
  functionArgs?: string[];
}

export const EXAMPLES: Record<string, Example> = {
  "new-distribution": {
    module: "examples/new-distribution.js",
    bundleArgs: ["--secret-id", "originsig/keys", "--region", "us-east-1"],
  },
  "existing-api-eu-west-1": {
    module: "examples/existing-api-eu-west-1.js",
    bundleArgs: ["--secret-id", "originsig/shop", "--region", "eu-west-1", "--replica-regions", "us-east-1"],
  },
  "cloudfront-function": {
    module: "examples/cloudfront-function.js",
    functionArgs: ["--origin-domain", "origin-domain.invalid", "--gateway-path-prefix", ""],
  },
};

export function prepareArtifacts(name: string, example: Omit<Example, "module">): string {
  const dir = path.join(REPO, "target", "cdk-examples", name);
  fs.rmSync(dir, { recursive: true, force: true });
  if (example.bundleArgs) {
    execFileSync("python3", [path.join(REPO, "edge-signer", "bundle.py"), "--no-build", ...example.bundleArgs, "--out", path.join(dir, "edge-signer")], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  if (example.functionArgs) {
    fs.mkdirSync(path.join(dir, "cloudfront-function"), { recursive: true });
    const out = path.join(dir, "cloudfront-function", "function.js");
    execFileSync("python3", [path.join(REPO, "edge-signer", "cloudfront-function", "build.py"), ...example.functionArgs, "--out", out], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  for (const binary of ["hmac-authorizer", "key-rotator"]) {
    fs.mkdirSync(path.join(dir, binary), { recursive: true });
    fs.writeFileSync(path.join(dir, binary, "bootstrap.zip"), "stand-in: synth stages this file, nothing runs it");
  }
  return dir;
}
