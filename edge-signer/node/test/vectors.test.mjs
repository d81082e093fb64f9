// The WASM build signs every shared vector byte for byte as the native Rust core does
// (shared/tests/vectors.rs checks the same files natively).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { bundle, KEYRING, OUTSIDER, TESTDATA, WASM_PATH, vectors } from './helpers.mjs';

// The signer glue as shipped: index.mjs of a real bundle.
const { loadSigner, SignerError } = await bundle('vectors', ['--key-file', `${TESTDATA}/keyring.json`]);

const KEYS = { ...KEYRING, outsider: OUTSIDER };

test('every signing vector: the WASM signer produces the expected header', () => {
  const signer = loadSigner(readFileSync(WASM_PATH));
  let signed = 0;
  let refused = 0;
  for (const v of vectors()) {
    if (!v.sign) continue;
    assert.equal(signer.loadKey(KEYS[v.signing_key]), KEYS[v.signing_key].kid);
    const request = {
      method: v.sign.method, uri: v.sign.uri, querystring: v.sign.querystring, headers: {},
      origin: { custom: { domainName: v.sign.origin_domain, path: v.sign.path_prefix } },
    };
    const options = { apiKind: v.sign.api, gatewayPathPrefix: null };
    if (v.sign_error) {
      assert.throws(() => signer.plan(request, v.sign.at, options), (e) => e instanceof SignerError && e.code === 'unsignable' && e.detail === v.sign_error, v.name);
      refused += 1;
    } else {
      const plan = signer.plan(request, v.sign.at, options);
      // The same prefix given as a fixed option, with no origin path, signs the same.
      const fixed = { ...request, origin: { custom: { domainName: v.sign.origin_domain, path: '' } } };
      assert.equal(signer.plan(fixed, v.sign.at, { ...options, gatewayPathPrefix: v.sign.path_prefix }).signature, v.header, v.name);
      assert.equal(plan.signature, v.header, v.name);
      assert.equal(plan.host, v.sign.origin_domain, v.name);
      signed += 1;
    }
  }
  assert.ok(signed >= 25, `only ${signed} signing vectors`);
  assert.ok(refused >= 3);
});

test('bad keys are refused with a reason and the loaded key stays', () => {
  const signer = loadSigner(readFileSync(WASM_PATH));
  signer.loadKey(KEYRING.current);
  const bad = [
    { ...KEYRING.current, key: 'AAAA' },
    { ...KEYRING.current, format: 'v0' },
    { ...KEYRING.current, kid: 'no spaces' },
    { ...KEYRING.current, key: `${KEYRING.current.key}!` },
    null,
    {},
  ];
  for (const secret of bad) {
    assert.throws(() => signer.loadKey(secret), (e) => e.code === 'bad_key' && !e.message.includes(KEYRING.current.key));
  }
  const plan = signer.plan({ method: 'GET', uri: '/', querystring: '', headers: {}, origin: { custom: { domainName: 'a.example', path: '' } } }, 1);
  assert.match(plan.signature, /;k=key-current;/);
});

test('a module with no key refuses to sign', () => {
  const signer = loadSigner(readFileSync(WASM_PATH));
  assert.throws(() => signer.plan({ method: 'GET', uri: '/', querystring: '', headers: {}, origin: { custom: { domainName: 'a.example', path: '' } } }, 1), (e) => e.code === 'no_key');
});
