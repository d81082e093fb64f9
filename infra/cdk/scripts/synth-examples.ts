// `cdk synth` (the CDK CLI) of each example app into OUT/<example>/, for cfn-lint and checkov.
//   node dist/scripts/synth-examples.js OUT
import { execFileSync } from "node:child_process";
import * as path from "node:path";

import { EXAMPLES, prepareArtifacts } from "../test/artifacts";

const out = process.argv[2];
if (!out) {
  console.error("usage: node dist/scripts/synth-examples.js OUT");
  process.exit(2);
}
const cdk = path.resolve(__dirname, "..", "..", "node_modules", ".bin", "cdk");
for (const [name, example] of Object.entries(EXAMPLES)) {
  const artifacts = prepareArtifacts(name, example);
  const app = `node ${path.resolve(__dirname, "..", example.module)}`;
  execFileSync(cdk, ["synth", "--app", app, "--output", path.join(out, name), "--quiet", "--no-notices", "--no-version-reporting"], {
    env: { ...process.env, ORIGINSIG_ARTIFACTS_DIR: artifacts, CDK_DISABLE_CLI_TELEMETRY: "true" },
    stdio: "inherit",
  });
  console.log(`${name}: synthesized into ${path.join(out, name)}`);
}
