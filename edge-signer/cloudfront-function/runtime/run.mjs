// Runs the built CloudFront Function under njs (Debian's `njs`, the engine closest to the
// CloudFront Functions runtime) or Node, with the `cloudfront` module stand-in and driver.js
// appended: both engines run the same text. Used by the tests, the benchmark and (through
// `node run.mjs`) the CloudFront emulator in tests/src/edge.rs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const BUILD = join(HERE, '..', 'build.py');
const STUB = readFileSync(join(HERE, 'cloudfront'), 'utf8');
const DRIVER = readFileSync(join(HERE, 'driver.js'), 'utf8');

/** build.py's output for these options ({originDomain, pathPrefix, apiKind, kvsKey, retryAfter}); throws with its message. */
export function build({ originDomain, pathPrefix = '', apiKind = 'http_api', kvsKey, retryAfter } = {}) {
  const args = [BUILD, '--origin-domain', originDomain, '--gateway-path-prefix', pathPrefix, '--api-kind', apiKind];
  if (kvsKey !== undefined) args.push('--kvs-key', kvsKey);
  if (retryAfter !== undefined) args.push('--retry-after', String(retryAfter));
  const run = spawnSync('python3', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr.trim());
  return run.stdout;
}

/** Whether the njs CLI is installed. */
export function njsAvailable() {
  return spawnSync('njs', ['-v'], { encoding: 'utf8' }).status === 0;
}

/**
 * Prepares `code` for `engine` ('njs' | 'node') in a fresh directory; returns the command that
 * runs a case file: [program, ...args] (append the case file's path).
 */
export function prepare(engine, code) {
  if (engine !== 'njs' && engine !== 'node') throw new Error(`engine must be njs or node, got ${engine}`);
  const dir = mkdtempSync(join(tmpdir(), `originsig-cff-${engine}-`));
  if (engine === 'njs') {
    const modules = join(dir, 'modules');
    mkdirSync(modules);
    writeFileSync(join(modules, 'cloudfront'), STUB);
    writeFileSync(join(dir, 'function.js'), `${code}\n${DRIVER}`);
    return { dir, command: ['njs', '-t', 'module', '-p', modules, join(dir, 'function.js')] };
  }
  const pkg = join(dir, 'node_modules', 'cloudfront');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{"type":"module","main":"index.js"}\n');
  // Node's ES modules have no `require`; CloudFront Functions (and njs) do. The stand-in's body
  // runs before the function's, so the function finds it.
  writeFileSync(join(pkg, 'index.js'), `import { createRequire } from 'node:module';\nglobalThis.require = createRequire(import.meta.url);\n${STUB}`);
  writeFileSync(join(dir, 'function.mjs'), `${code}\n${DRIVER}`);
  return { dir, command: [process.execPath, join(dir, 'function.mjs')] };
}

/** Runs `cases` (see driver.js) through the prepared function; one {result, logs} per case. */
export function runCases(prepared, cases) {
  const file = join(prepared.dir, `cases-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(cases));
  const [program, ...args] = prepared.command;
  const run = spawnSync(program, [...args, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0 || run.stderr.trim() !== '') throw new Error(`${program} failed (${run.status}): ${run.stderr}${run.stdout}`);
  const lines = readFileSync(`${file}.out`, 'utf8').trim().split('\n');
  rmSync(file);
  rmSync(`${file}.out`);
  if (lines.length !== cases.length) throw new Error(`${program}: ${lines.length} results for ${cases.length} cases:\n${run.stdout}`);
  return lines.map((line) => JSON.parse(line));
}

// Command line (the CloudFront emulator in tests/src/edge.rs uses it):
//   node run.mjs prepare <engine> <function file>   → {"dir", "command"} as JSON: run `command`
//     with a case file's path appended; the results are in <case file>.out (see driver.js)
//   node run.mjs run <engine> <function file> <case file>   → one result line per case
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [verb, engine, functionFile, caseFile] = process.argv.slice(2);
  const prepared = prepare(engine, readFileSync(functionFile, 'utf8'));
  if (verb === 'prepare') {
    process.stdout.write(`${JSON.stringify(prepared)}\n`);
  } else {
    const results = runCases(prepared, JSON.parse(readFileSync(caseFile, 'utf8')));
    process.stdout.write(results.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
}
