// A trap inside the WebAssembly module (here: an allocation the module cannot make, which
// aborts inside `input_buffer` while it holds its input lock) must cost one request, not the
// container: the glue replaces the instance, loads the key again, and logs the truth
// (internal_error / wasm_trap), not bad_event.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bundle, captureLogs, originRequest, TESTDATA } from './helpers.mjs';

// The real module, instantiated by the real glue; only `input_buffer` can be told to ask for
// more memory than wasm32 has, once, which makes the real module trap with its lock held.
let sabotage = false;
let instances = 0;
const RealInstance = WebAssembly.Instance;
WebAssembly.Instance = function Instance(module, imports) {
  const real = new RealInstance(module, imports);
  instances += 1;
  // The instance's exports object is frozen: a copy whose input_buffer can be swapped once.
  const exports = {};
  for (const name of Object.keys(real.exports)) {
    Object.defineProperty(exports, name, {
      get() {
        if (name === 'input_buffer' && sabotage) {
          sabotage = false;
          return () => real.exports.input_buffer(0xFFFFFFF0);
        }
        return real.exports[name];
      },
    });
  }
  return { exports };
};

const logs = captureLogs();
const { handler, loadSigner, SignerError } = await bundle('trap', ['--key-file', `${TESTDATA}/keyring.json`]);
const signatureOf = (out) => out.headers?.['x-originsig']?.[0]?.value;

test('a trap costs one request (502, logged internal_error/wasm_trap); the next request is signed', async () => {
  assert.match(signatureOf(await handler(originRequest())), /^v2;t=\d+;k=key-current;/);
  const before = instances;
  sabotage = true;
  const trapped = await handler(originRequest());
  assert.equal(trapped.status, '502');
  const line = logs.map((l) => JSON.parse(l)).find((l) => l.message === 'request not signed');
  assert.equal(line.reason, 'internal_error');
  assert.equal(line.detail, 'wasm_trap');
  assert.equal(instances, before + 1, 'a new instance replaced the trapped one');
  // Without the replacement every later call would trap on the lock the trap left held.
  for (let i = 0; i < 3; i++) {
    assert.match(signatureOf(await handler(originRequest())), /;k=key-current;/, `request ${i} after the trap`);
  }
});

test('loadSigner on its own: the key survives the replacement', async () => {
  const { readFileSync } = await import('node:fs');
  const { WASM_PATH, KEYRING } = await import('./helpers.mjs');
  const signer = loadSigner(readFileSync(WASM_PATH));
  signer.loadKey(KEYRING.pending);
  const request = { method: 'GET', uri: '/', querystring: '', headers: {}, origin: { custom: { domainName: 'a.example', path: '' } } };
  sabotage = true;
  assert.throws(() => signer.plan(request, 1), (e) => e instanceof SignerError && e.code === 'internal_error' && e.detail === 'wasm_trap');
  assert.match(signer.plan(request, 1).signature, /;k=key-pending;/);
});
