// The handler (index.mjs) from a real bundle with an embedded key file: what it does to
// requests, and that bad input gets a clear answer, never a crash and never an unsigned request.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bundle, captureLogs, keyMaterialStrings, originRequest, KEYRING, TESTDATA } from './helpers.mjs';

const { handler } = await bundle('key-file', ['--key-file', `${TESTDATA}/keyring.json`]);
const allLogs = captureLogs();
const run = (event) => handler(event);

test('signs with the current key, strips viewer signatures in every casing, rewrites Host', async () => {
  const event = originRequest({
    uri: '/items/caf%C3%A9', querystring: 'b=2&a=1', path: '/prod',
    headers: {
      host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }],
      'x-originsig': [{ key: 'X-Originsig', value: 'forged-1' }, { key: 'x-originsig', value: 'forged-2' }],
      'X-OriginSig': [{ key: 'X-OriginSig', value: 'forged-3' }],
      authorization: [{ key: 'Authorization', value: 'Bearer viewer' }],
      'x-custom': [{ key: 'X-Custom', value: 'a' }, { key: 'X-Custom', value: 'b' }],
    },
  });
  const out = await run(event);
  assert.deepEqual(Object.keys(out.headers).sort(), ['authorization', 'host', 'x-custom', 'x-originsig']);
  assert.deepEqual(out.headers.host, [{ key: 'Host', value: 'abc123defg.execute-api.us-east-1.amazonaws.com' }]);
  assert.equal(out.headers['x-originsig'].length, 1);
  assert.match(out.headers['x-originsig'][0].value, /^v1;t=\d+;k=key-current;s=[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(out.headers.authorization, [{ key: 'Authorization', value: 'Bearer viewer' }]);
  assert.deepEqual(out.headers['x-custom'].map((h) => h.value), ['a', 'b']);
  assert.equal(out.uri, '/items/caf%C3%A9');
  assert.equal(out.origin.custom.path, '/prod');
});

test('the body and every unknown field are returned as they came', async () => {
  const event = originRequest({ method: 'POST' });
  event.Records[0].cf.request.body = { inputTruncated: false, action: 'read-only', encoding: 'base64', data: 'eyJhIjoxfQ==' };
  event.Records[0].cf.request.futureField = { x: 1 };
  const out = await run(event);
  assert.deepEqual(out.body, event.Records[0].cf.request.body);
  assert.deepEqual(out.futureField, { x: 1 });
});

test('a request that cannot be signed gets 400, never an unsigned pass', async () => {
  for (const [uri, querystring] of [['/%FF', ''], ['/a%zz', ''], ['/', 'q=%'], [`/${'a'.repeat(17000)}`, '']]) {
    const out = await run(originRequest({ uri, querystring }));
    assert.equal(out.status, '400', uri.slice(0, 20));
    assert.equal(out.headers?.['x-originsig'], undefined);
  }
});

test('a request as long as CloudFront allows (8,192 characters) is signed', async () => {
  const out = await run(originRequest({ uri: `/${'%C3%A9'.repeat(1000)}`, querystring: `q=${'x'.repeat(2000)}` }));
  assert.match(out.headers['x-originsig'][0].value, /^v1;/);
});

test('an S3 origin or no origin is a configuration error: 502', async () => {
  const s3 = originRequest({ origin: { s3: { domainName: 'b.s3.amazonaws.com', path: '' } } });
  assert.equal((await run(s3)).status, '502');
  const none = originRequest();
  delete none.Records[0].cf.request.origin;
  assert.equal((await run(none)).status, '502');
});

test('malformed events never crash the handler', async () => {
  const events = [
    undefined, null, {}, { Records: [] }, { Records: [{}] }, { Records: [{ cf: { request: 'x' } }] },
    originRequest({ method: undefined }), originRequest({ uri: 42 }), originRequest({ headers: 'nope' }),
    originRequest({ domainName: '' }), originRequest({ domainName: 'a.example:443' }),
    { Records: [{ cf: { request: { method: 'GET', uri: '/', origin: { custom: { domainName: 'a.example' } } } } }] },
  ];
  for (const event of events) {
    const out = await run(event);
    assert.ok(out && typeof out === 'object');
    if (out.status) assert.match(out.status, /^(400|502)$/);
    else assert.match(out.headers['x-originsig'][0].value, /^v1;/); // the last one is valid: no headers object
  }
});

test('no key material ever reaches a log line', () => {
  assert.ok(allLogs.length > 0, 'the handler logged something');
  const joined = allLogs.join('\n');
  for (const secret of keyMaterialStrings()) assert.ok(!joined.includes(secret), 'a log line holds key material');
  assert.ok(!joined.includes(KEYRING.current.key));
});
