// Every shared signing vector (shared/testdata/vectors/, the files the Rust core, the WASM
// build and the Python reference are held to) through the built function, under njs and Node.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ENGINES, KEYS, build, prepare, refusal, runCases, vectors, viewerCase } from './helpers.mjs';

// One build per deployment configuration the vectors use.
function groups() {
  const byConfig = new Map();
  for (const v of vectors()) {
    if (!v.sign) continue;
    const config = JSON.stringify([v.sign.origin_domain, v.sign.path_prefix, v.sign.api]);
    if (!byConfig.has(config)) byConfig.set(config, []);
    byConfig.get(config).push(v);
  }
  return byConfig;
}

for (const engine of ENGINES) {
  test(`${engine}: every signing vector gives the expected header or the expected refusal`, () => {
    let signed = 0;
    let refused = 0;
    for (const [config, list] of groups()) {
      const [originDomain, pathPrefix, apiKind] = JSON.parse(config);
      let code;
      try {
        code = build({ originDomain, pathPrefix, apiKind });
      } catch (error) {
        // A host the SPEC refuses is refused when the function is built, never at the edge.
        for (const v of list) assert.equal(v.sign_error, 'host', `${v.name}: ${error.message}`);
        assert.match(error.message, /is not a host name/);
        refused += list.length;
        continue;
      }
      const prepared = prepare(engine, code);
      const cases = list.map((v) => viewerCase({
        method: v.sign.method, uri: v.sign.uri, rawQuery: v.sign.querystring,
        // Date.now() has milliseconds: the timestamp is the whole second.
        nowMs: v.sign.at * 1000 + 999, key: KEYS[v.signing_key],
        headers: { 'x-originsig': { value: 'v1;t=1;k=viewer;s=forged' }, accept: { value: '*/*' } },
      }));
      const outcomes = runCases(prepared, cases);
      list.forEach((v, i) => {
        const { result } = outcomes[i];
        if (v.sign_error) {
          assert.equal(result.statusCode, 400, v.name);
          assert.deepEqual(refusal(outcomes[i]), { reason: 'unsignable', detail: v.sign_error }, v.name);
          refused += 1;
        } else {
          assert.equal(result.headers['x-originsig'].value, v.header, v.name);
          assert.deepEqual(Object.keys(result.headers).sort(), ['accept', 'x-originsig'], v.name);
          assert.equal(result.uri, v.sign.uri, `${v.name}: the uri is never changed`);
          signed += 1;
        }
      });
    }
    assert.ok(signed >= 25, `only ${signed} signing vectors`);
    assert.ok(refused >= 5, `only ${refused} refusal vectors`);
  });
}
