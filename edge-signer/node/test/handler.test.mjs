// The handler (index.mjs) from a real bundle with an embedded key file: what it does to
// requests, and that bad input gets a clear answer, never a crash and never an unsigned request.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { bundle, captureLogs, keyMaterialStrings, originRequest, KEYRING, ROOT, TESTDATA } from './helpers.mjs';

const { handler } = await bundle('key-file', ['--key-file', `${TESTDATA}/keyring.json`]);
const allLogs = captureLogs();
const run = (event) => handler(event);
/** An origin request with one change made to its `request`. */
const changed = (change) => {
  const event = originRequest();
  change(event.Records[0].cf.request);
  return event;
};

test('signs with the current key, strips viewer signatures in every casing, rewrites Host', async () => {
  const event = originRequest({
    uri: '/items/caf%C3%A9', querystring: 'b=2&a=1', path: '/prod',
    headers: {
      host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }],
      'x-originsig': [{ key: 'X-Originsig', value: 'forged-1' }, { key: 'x-originsig', value: 'forged-2' }, { key: 'X-ORIGINSIG', value: 'forged-3' }],
      authorization: [{ key: 'Authorization', value: 'Bearer viewer' }],
      'x-custom': [{ key: 'X-Custom', value: 'a' }, { key: 'X-Custom', value: 'b' }],
    },
  });
  const out = await run(event);
  assert.deepEqual(Object.keys(out.headers).sort(), ['authorization', 'host', 'x-custom', 'x-originsig']);
  assert.deepEqual(out.headers.host, [{ key: 'Host', value: 'abc123defg.execute-api.us-east-1.amazonaws.com' }]);
  assert.equal(out.headers['x-originsig'].length, 1);
  assert.match(out.headers['x-originsig'][0].value, /^v2;t=\d+;k=key-current;s=[A-Za-z0-9_-]{43}$/);
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
  assert.match(out.headers['x-originsig'][0].value, /^v2;/);
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
    changed((r) => { r.method = undefined; }), originRequest({ uri: 42 }), originRequest({ headers: 'nope' }),
    originRequest({ domainName: '' }), originRequest({ domainName: 'a.example:443' }),
    { Records: [{ cf: { request: { method: 'GET', uri: '/', origin: { custom: { domainName: 'a.example' } } } } }] },
  ];
  for (const event of events) {
    const out = await run(event);
    assert.ok(out && typeof out === 'object');
    assert.match(out.status, /^(400|502)$/);
    assert.equal(out.headers?.['x-originsig'], undefined);
  }
});

test('anything but the documented event shape is refused with 502 bad_event, never returned unsigned', async () => {
  const signature = [{ key: 'X-Originsig', value: 'v1;t=1;k=key-current;s=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }];
  const shapes = {
    'headers as a list': originRequest({ headers: [{ key: 'X-Originsig', value: 'viewer' }] }),
    'numeric uri': originRequest({ uri: 42 }),
    'querystring missing': changed((r) => delete r.querystring),
    'method missing': changed((r) => delete r.method),
    'x-originsig under another key': originRequest({ headers: { 'x-innocent': signature } }),
    'an uppercase map key': originRequest({ headers: { 'X-Originsig': signature } }),
    'an entry that is not an object': originRequest({ headers: { accept: ['*/*'] } }),
    'a value that is not a string': originRequest({ headers: { accept: [{ key: 'Accept', value: 1 }] } }),
    'a header map value that is not a list': originRequest({ headers: { accept: { key: 'Accept', value: '*/*' } } }),
    'custom origin without a path': originRequest({ origin: { custom: { domainName: 'a.example' } } }),
  };
  const before = allLogs.length;
  for (const [name, event] of Object.entries(shapes)) {
    const out = await run(event);
    assert.equal(out.status, '502', name);
    assert.equal(out.headers['x-originsig'], undefined, name);
    assert.ok(!JSON.stringify(out).includes('viewer'), name);
  }
  const logged = allLogs.slice(before).map((line) => JSON.parse(line));
  assert.ok(logged.every((line) => line.reason === 'bad_event' && typeof line.detail === 'string'));
});

test('paths the HTTP API would cut or reject get 400 with the reason logged; doubly encoded ones are signed', async () => {
  const before = allLogs.length;
  for (const [uri, detail] of [['/a%3Fb', 'path_truncated'], ['/percent%25done', 'path_rejected'], ['/%25FF', 'path_not_utf8']]) {
    const out = await run(originRequest({ uri }));
    assert.equal(out.status, '400', uri);
    assert.equal(out.headers['x-originsig'], undefined);
    const line = allLogs.slice(before).map((l) => JSON.parse(l)).find((l) => l.detail === detail);
    assert.ok(line, `a log line with detail ${detail}`);
    assert.equal(line.reason, 'unsignable');
  }
  const out = await run(originRequest({ uri: '/literal%252Fvalue' }));
  assert.match(out.headers['x-originsig'][0].value, /^v2;/);
  assert.equal(out.uri, '/literal%252Fvalue', 'the uri is forwarded as the viewer sent it');
});

test('every example event: signed for a custom origin with nothing else changed, 502 for S3', async () => {
  const dir = join(ROOT, 'edge-signer', 'testdata', 'events');
  for (const file of readdirSync(dir)) {
    const event = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const original = structuredClone(event.Records[0].cf.request);
    const out = await run(event);
    if (original.origin?.s3) {
      assert.equal(out.status, '502', file);
      continue;
    }
    const { host, 'x-originsig': signature, ...rest } = out.headers;
    assert.deepEqual(host, [{ key: 'Host', value: original.origin.custom.domainName }], file);
    assert.equal(signature.length, 1, file);
    assert.match(signature[0].value, /^v2;t=\d+;k=key-current;s=/, file);
    const { host: _h, 'x-originsig': _s, ...originalRest } = original.headers;
    assert.deepEqual(rest, originalRest, `${file}: every other header as it came`);
    assert.deepEqual({ ...out, headers: null }, { ...original, headers: null }, `${file}: every other field as it came`);
  }
});

test('no key material ever reaches a log line', () => {
  assert.ok(allLogs.length > 0, 'the handler logged something');
  const joined = allLogs.join('\n');
  for (const secret of keyMaterialStrings()) assert.ok(!joined.includes(secret), 'a log line holds key material');
  assert.ok(!joined.includes(KEYRING.current.key));
});

test('the header comment of index.mjs names the npm packages the bundle ships, and no SDK', () => {
  const dir = join(ROOT, 'target', 'lambda', 'node-tests', 'key-file');
  const source = readFileSync(join(dir, 'index.mjs'), 'utf8');
  const header = source.slice(0, source.search(/^[^/\n]/m)); // the leading // comment block
  const packages = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.ok(packages.length > 0, 'the bundle ships aws4');
  for (const name of packages) assert.ok(header.includes(name), `header comment does not name ${name}`);
  assert.doesNotMatch(header, /no npm dependencies/i);
  assert.doesNotMatch(header, /runtime provides the AWS\s*(\/\/\s*)?SDK/i);
  assert.doesNotMatch(source, /from '@aws-sdk\//, 'the handler imports no AWS SDK module');
});
