// Helpers of the CloudFront Function tests: the engines, the shared keys and vectors, cases.
import { build, njsAvailable, prepare, runCases } from '../runtime/run.mjs';
import { KEYRING, OUTSIDER, ROOT, vectors } from '../../node/test/helpers.mjs';

export { build, prepare, runCases, KEYRING, OUTSIDER, ROOT, vectors };
export const KEYS = { ...KEYRING, outsider: OUTSIDER };
export const KVS_KEY = 'originsig-current';
export const DOMAIN = 'abc123defg.execute-api.us-east-1.amazonaws.com';

// Every test runs under both engines: njs is the closest engine to the CloudFront Functions
// runtime (it refuses what Node accepts), Node is what developers run.
if (!njsAvailable()) {
  throw new Error('the njs CLI is missing: install Debian\'s njs (apt-get update && apt-get install -y njs); tests/run-all.sh does');
}
export const ENGINES = ['njs', 'node'];

/** A case for driver.js: a viewer request at `nowMs` with `kvs` as the edge location's store. */
export function viewerCase({ method = 'GET', uri = '/', rawQuery = null, headers = {}, nowMs = 1763715900000, key = KEYRING.current, kvs } = {}) {
  return { method, uri, rawQuery, headers, nowMs, kvs: kvs ?? { [KVS_KEY]: JSON.stringify(key) } };
}

/** Builds the function for `options` and runs `cases` under `engine`. */
export function run(engine, options, cases) {
  return runCases(prepare(engine, build({ originDomain: DOMAIN, ...options })), cases);
}

/** The reason logged with a refusal ({reason, detail}), or null. */
export function refusal(outcome) {
  const line = outcome.logs.map((l) => JSON.parse(l)).find((l) => l.reason);
  return line ? { reason: line.reason, detail: line.detail } : null;
}
