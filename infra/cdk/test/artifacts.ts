// The artifacts an example app synthesizes with: the real edge bundle (edge-signer/bundle.py,
// from the already built wasm) for the app's secret and region, and stand-ins for the two arm64
// bootstrap.zip files (synth only stages them; their code is tested in Rust).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "..", "..", "..", "..");

export const EXAMPLES: Record<string, { module: string; bundleArgs: string[] }> = {
  "new-distribution": {
    module: "examples/new-distribution.js",
    bundleArgs: ["--secret-id", "originsig/keys", "--region", "us-east-1"],
  },
  "existing-api-eu-west-1": {
    module: "examples/existing-api-eu-west-1.js",
    bundleArgs: ["--secret-id", "originsig/shop", "--region", "eu-west-1", "--replica-regions", "us-east-1"],
  },
};

export function prepareArtifacts(name: string, bundleArgs: string[]): string {
  const dir = path.join(REPO, "target", "cdk-examples", name);
  fs.rmSync(dir, { recursive: true, force: true });
  execFileSync("python3", [path.join(REPO, "edge-signer", "bundle.py"), "--no-build", ...bundleArgs, "--out", path.join(dir, "edge-signer")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (const binary of ["hmac-authorizer", "key-rotator"]) {
    fs.mkdirSync(path.join(dir, binary), { recursive: true });
    fs.writeFileSync(path.join(dir, binary, "bootstrap.zip"), "stand-in: synth stages this file, nothing runs it");
  }
  return dir;
}
