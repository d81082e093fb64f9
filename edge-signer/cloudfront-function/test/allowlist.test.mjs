// The built function stays inside what CloudFront documents for runtime cloudfront-js-2.0 and
// within its 10 KB size quota; the checker refuses what the runtime does not document.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { runtimeProblems } from './allowlist.mjs';
import { DOMAIN, build } from './helpers.mjs';

// CloudFront Functions quota "Function size" (Quotas - Amazon CloudFront:
// https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html).
const MAX_BYTES = 10 * 1024;

test('the built function uses only documented runtime-2.0 syntax, globals and methods', () => {
  for (const options of [{}, { apiKind: 'rest_api', pathPrefix: '/prod' }]) {
    assert.deepEqual(runtimeProblems(build({ originDomain: DOMAIN, ...options })), []);
  }
});

test('the built function fits the 10 KB quota, with room for the longest configuration', () => {
  const longest = build({ originDomain: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, pathPrefix: `/${'p'.repeat(200)}`, kvsKey: 'k'.repeat(512) });
  const size = Buffer.byteLength(longest);
  assert.ok(size <= MAX_BYTES, `${size} bytes`);
  console.log(`# function size: ${Buffer.byteLength(build({ originDomain: DOMAIN }))} bytes (longest configuration ${size} of ${MAX_BYTES})`);
});

test('the checker refuses what runtime 2.0 does not document', () => {
  const refused = {
    spread: 'const a = [1]; const b = [...a];',
    'object spread': 'const a = {}; const b = { ...a };',
    'optional chaining': 'const a = {}; a?.b;',
    nullish: 'const a = null; const b = a ?? 1;',
    class: 'class A {}',
    'for-of': 'for (const x of [1]) {}',
    destructuring: 'const { a } = {};',
    'default parameter': 'function f(a = 1) { return a; }',
    'async closure': 'const f = async () => 1;',
    generator: 'function* g() {}',
    'undocumented method': "const s = 'a'; s.charCodeAt(0);",
    'undocumented static': 'Object.fromEntries([]);',
    'comma console.log': "console.log('a', 'b');",
    eval: "eval('1');",
    'Function constructor': "new Function('return 1');",
    timers: 'setTimeout(function () {}, 1);',
    process: 'process.env.X;',
    'fs module': "require('fs');",
    'other import': "import x from 'node:fs';",
    shorthand: 'const a = 1; const b = { a };',
    'method property': 'const b = { f() {} };',
    bigint: 'const a = 1n;',
    'regexp unicode flag': 'const r = /a/u;',
    Map: 'const m = new Map();',
  };
  for (const [what, code] of Object.entries(refused)) {
    assert.notDeepEqual(runtimeProblems(code), [], what);
  }
  assert.deepEqual(runtimeProblems("import cf from 'cloudfront';\nconst crypto = require('crypto');\nasync function handler(event) { const v = await cf.kvs().get('k', { format: 'json' }); console.log(`${v}`); return event.request; }"), []);
});
