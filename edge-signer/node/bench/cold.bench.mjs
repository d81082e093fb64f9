// The cold edge: a new Lambda@Edge container's first signed request, in fresh Node processes,
// keys from Secrets Manager on a real moto server. Side by side in one run:
//
// - ours: the real bundle (edge-signer/bundle.py) — the key read during INIT with one signed
//   GetSecretValue (aws4 + node:https);
// - today's design (the peer, peer-sdk-index.mjs): the same bundle with the handler of the
//   previous release, which imports @aws-sdk/client-secrets-manager and builds its client at the
//   first request;
// - module load alone: the real bundle with an embedded key file (no network), to split the
//   total into module load, key fetch and first signing.
//
// Each is also run under a CPU limit that approximates a 128 MB Lambda function (cgroup v1
// cpu.cfs_quota_us = 7.2 % of one CPU, Lambda's 1,769 MB = 1 vCPU scaled to 128 MB). That is
// an approximation: Lambda's real scheduler, CPU and network differ. Skipped, with a note, when
// no cgroup can be created. Prints one JSON object.
//
//   node edge-signer/node/bench/cold.bench.mjs [RUNS]
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

import { KEYRING, ROOT, startMoto } from '../test/helpers.mjs';

const RUNS = Number(process.argv[2] ?? 15);
const CHILD = join(ROOT, 'edge-signer', 'node', 'bench', 'cold-child.mjs');
const OUT = join(ROOT, 'target', 'bench', 'cold-edge');
const QUOTA = { periodUs: 100000, quotaUs: 7200 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function bundle(name, args) {
  const out = join(OUT, name);
  execFileSync('python3', [join(ROOT, 'edge-signer', 'bundle.py'), '--no-build', '--out', out, ...args], { stdio: 'pipe' });
  return out;
}

/** A cgroup v1 CPU quota for the children, or null (with why) when none can be made. */
function cpuLimit() {
  const dir = `/sys/fs/cgroup/cpu/originsig-cold-edge-${process.pid}`;
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(QUOTA.periodUs));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(QUOTA.quotaUs));
    return { dir, remove: () => rmdirSync(dir) }; // a cgroup is removed with rmdir, once empty
  } catch (error) {
    return { dir: null, why: `no cgroup v1 CPU controller to write (${error.code ?? error.message})`, remove: () => {} };
  }
}

function run(index, limitDir) {
  // Under the limit the child first moves itself into the cgroup, then becomes node.
  const command = limitDir
    ? ['sh', ['-c', `echo $$ > ${limitDir}/cgroup.procs && exec "$0" "$@"`, process.execPath, CHILD, index]]
    : [process.execPath, [CHILD, index]];
  const child = spawnSync(command[0], command[1], { encoding: 'utf8', env: process.env, timeout: 120000 });
  if (child.status !== 0) throw new Error(`cold child failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop());
}

function summarise(samples) {
  const pick = (field) => median(samples.map((s) => s[field]));
  const total = (kind) => median(samples.map((s) => s[`import${kind}`] + s[`first${kind}`]));
  return {
    runs: samples.length,
    importWallMs: pick('importWall'), importCpuMs: pick('importCpu'),
    firstWallMs: pick('firstWall'), firstCpuMs: pick('firstCpu'),
    toFirstResponseWallMs: total('Wall'), toFirstResponseCpuMs: total('Cpu'),
    secondWallMs: pick('secondWall'), secondCpuMs: pick('secondCpu'),
    rssMb: pick('rssMb'),
    keyIds: [...new Set(samples.map((s) => s.keyId))],
  };
}

const moto = await startMoto();
try {
  await new SecretsManagerClient({ region: 'us-east-1' })
    .send(new CreateSecretCommand({ Name: 'bench/cold-edge', SecretString: JSON.stringify(KEYRING.current) }));
  rmSync(OUT, { recursive: true, force: true });
  const secretArgs = ['--secret-id', 'bench/cold-edge', '--region', 'us-east-1'];
  const ours = bundle('ours', secretArgs);
  const peer = bundle('today', secretArgs);
  copyFileSync(join(ROOT, 'edge-signer', 'node', 'bench', 'peer-sdk-index.mjs'), join(peer, 'index.mjs'));
  const loadOnly = bundle('module-load', ['--key-file', join(ROOT, 'shared', 'testdata', 'keyring.json')]);
  const designs = { ours, today: peer, moduleLoad: loadOnly };

  const limit = cpuLimit();
  const result = { runs: RUNS, cpuLimit: limit.dir ? `${(QUOTA.quotaUs / QUOTA.periodUs * 100).toFixed(1)} % of one CPU (cgroup v1 cpu.cfs_quota_us ${QUOTA.quotaUs} / period ${QUOTA.periodUs})` : `not applied: ${limit.why}` };
  try {
    for (const [mode, dir] of [['unlimited', null], ['limited', limit.dir]]) {
      if (mode === 'limited' && !dir) continue;
      const runs = mode === 'limited' ? Math.max(1, Math.ceil(RUNS / 3)) : RUNS;
      const samples = Object.fromEntries(Object.keys(designs).map((name) => [name, []]));
      // Interleaved, so drift on a noisy machine hits every design alike.
      for (let i = 0; i < runs; i++) {
        for (const [name, bundleDir] of Object.entries(designs)) samples[name].push(run(join(bundleDir, 'index.mjs'), dir));
      }
      result[mode] = Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, summarise(s)]));
    }
  } finally {
    limit.remove();
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await moto.stop();
}
