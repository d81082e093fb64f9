// Hostile and broken input through the built function, under njs and Node: it signs exactly
// what it should, refuses (400/502/503) what it cannot sign, never forwards an unsigned
// request, never changes uri or query, and never logs key material.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ENGINES, KEYRING, KVS_KEY, ROOT, refusal, run, viewerCase } from './helpers.mjs';

const TIMING = JSON.parse(readFileSync(join(ROOT, 'infra', 'timing.json'), 'utf8'));
const signed = (outcome) => outcome.result.headers?.['x-originsig']?.value;

for (const engine of ENGINES) {
  test(`${engine}: viewer signature headers are dropped, whatever their case, and one signature is added`, () => {
    const headers = {
      'x-originsig': { value: 'v1;t=1;k=key-current;s=AAAA', multiValue: [{ value: 'a' }, { value: 'b' }] },
      'X-OriginSig': { value: 'upper' },
      'x-originsig-extra': { value: 'kept' },
    };
    const [outcome] = run(engine, {}, [viewerCase({ headers })]);
    assert.match(signed(outcome), /^v2;t=1763715900;k=key-current;s=[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(Object.keys(outcome.result.headers).sort(), ['x-originsig', 'x-originsig-extra']);
    assert.equal(outcome.result.headers['x-originsig'].multiValue, undefined);
  });

  test(`${engine}: what the API would cut, reject or mis-read is refused with 400 and the SPEC's reason`, () => {
    const cases = [
      ['/a%zz', 'percent_encoding'],
      ['/a%3Fb', 'path_truncated'],
      ['/a%3fb', 'path_truncated'],
      ['/100%25', 'path_rejected'],
      ['/%C3', 'path_not_utf8'],
      ['/%ED%A0%80', 'path_not_utf8'], // an encoded surrogate
      ['/%C0%AF', 'path_not_utf8'], // an overlong '/'
      [`/${'a'.repeat(16384)}`, 'too_long'],
      ['a', 'path_not_absolute'],
    ];
    const outcomes = run(engine, {}, cases.map(([uri]) => viewerCase({ uri })));
    cases.forEach(([uri, detail], i) => {
      assert.equal(outcomes[i].result.statusCode, 400, uri.slice(0, 20));
      assert.deepEqual(refusal(outcomes[i]), { reason: 'unsignable', detail }, uri.slice(0, 20));
      assert.equal(signed(outcomes[i]), undefined);
    });
    const [query, method] = run(engine, {}, [viewerCase({ rawQuery: 'a=%G1' }), viewerCase({ method: 'get' })]);
    assert.deepEqual(refusal(query), { reason: 'unsignable', detail: 'percent_encoding' });
    assert.deepEqual(refusal(method), { reason: 'unsignable', detail: 'method' });
  });

  test(`${engine}: a missing, unreadable or malformed KeyValueStore item is a 503 with Retry-After, and no key reaches a log`, () => {
    const current = KEYRING.current;
    const stores = [
      {}, // not (yet) propagated to this edge location
      { [KVS_KEY]: 'not json' },
      { [KVS_KEY]: JSON.stringify({ ...current, format: 'originsig-keyring-v1' }) },
      { [KVS_KEY]: JSON.stringify({ ...current, kid: 'has space' }) },
      { [KVS_KEY]: JSON.stringify({ ...current, key: 'AAAA' }) }, // 3 bytes
      { [KVS_KEY]: JSON.stringify({ ...current, key: current.key.replace(/=*$/, '') }) }, // unpadded
      { [KVS_KEY]: JSON.stringify({ ...current, key: `${current.key}!` }) },
      { [KVS_KEY]: JSON.stringify([current]) },
      { [KVS_KEY]: 'null' },
      { 'another-key': JSON.stringify(current) },
    ];
    const outcomes = run(engine, {}, stores.map((kvs) => viewerCase({ kvs })));
    outcomes.forEach((outcome, i) => {
      assert.equal(outcome.result.statusCode, 503, `store ${i}`);
      assert.equal(outcome.result.headers['retry-after'].value, String(TIMING.edgeRetryAfterSecs), `store ${i}`);
      assert.equal(refusal(outcome).reason, 'no_key', `store ${i}`);
      const logs = outcome.logs.join('\n');
      for (const secret of Object.values(KEYRING).filter((k) => k?.key).map((k) => k.key)) {
        assert.ok(!logs.includes(secret.slice(0, 16)), `store ${i}: key material in a log line`);
      }
    });
    const [custom] = run(engine, { retryAfter: 17, kvsKey: 'other' }, [viewerCase({ kvs: { other: JSON.stringify(current) } })]);
    assert.ok(signed(custom));
  });

  test(`${engine}: uri and querystring are never changed; no '?' and a bare '?' sign alike`, () => {
    const [none, bare, some] = run(engine, {}, [viewerCase({ rawQuery: null }), viewerCase({ rawQuery: '' }), viewerCase({ uri: '/a%20b', rawQuery: 'b=2&a=1' })]);
    assert.equal(signed(none), signed(bare));
    assert.equal(some.result.uri, '/a%20b');
    assert.deepEqual(some.result.querystring, {});
  });

  test(`${engine}: v2 signs the order of a repeated key's values, not the order of different keys`, () => {
    const [a, b, c, d] = run(engine, {}, ['x=1&x=2', 'x=2&x=1', 'a=1&b=2', 'b=2&a=1'].map((rawQuery) => viewerCase({ rawQuery })));
    assert.notEqual(signed(a), signed(b));
    assert.equal(signed(c), signed(d));
  });

  test(`${engine}: an event without rawQueryString() (runtime 1.0, or not a viewer request) is refused with a hint, never signed`, () => {
    const [outcome] = run(engine, {}, [{ ...viewerCase(), noRawQueryString: true }]);
    assert.equal(outcome.result.statusCode, 502);
    assert.match(JSON.parse(outcome.logs[0]).hint, /cloudfront-js-2\.0/);
  });

  test(`${engine}: the timestamp is Date.now() in whole seconds; REST APIs decode the path once`, () => {
    const [early, late] = run(engine, {}, [viewerCase({ nowMs: 1763715900000 }), viewerCase({ nowMs: 1763715900999 })]);
    assert.equal(signed(early), signed(late));
    const [rest] = run(engine, { apiKind: 'rest_api', pathPrefix: '/prod' }, [viewerCase({ uri: '/100%25' })]);
    assert.ok(signed(rest));
  });
}
