// The edge under Secrets Manager faults, through a proxy in front of a real moto server: a call
// that never answers is abandoned after callTimeoutSeconds (logged), never holds the next read,
// and the edge answers 503 within the documented bound instead of waiting for the Lambda timeout.
// And only the secret-value format is a key when it comes from Secrets Manager.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

import { bundle, captureLogs, faultProxy, originRequest, sleep, startMoto, KEYRING } from './helpers.mjs';

let moto;
let proxy;
const logs = captureLogs();
const client = () => new SecretsManagerClient({ region: 'us-east-1', endpoint: moto.endpoint });
const keyIdOf = (out) => /;k=([^;]+);/.exec(out.headers?.['x-originsig']?.[0]?.value ?? '')?.[1];
const timed = async (promise) => {
  const start = Date.now();
  const value = await promise;
  return [value, Date.now() - start];
};

before(async () => {
  moto = await startMoto();
  proxy = await faultProxy(moto.endpoint);
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = proxy.endpoint; // bundles built below read through it
});
after(async () => {
  await proxy?.close();
  await moto?.stop();
});

test('a cold edge with a hung Secrets Manager answers 503 within the call timeout, and says why', { timeout: 20000 }, async () => {
  await client().send(new CreateSecretCommand({ Name: 'faults/cold', SecretString: JSON.stringify(KEYRING.current) }));
  proxy.mode = 'hang';
  // The key is read during INIT (the module's import): bounded by the call timeout too.
  const [{ handler }, importMs] = await timed(bundle('faults-cold', ['--secret-id', 'faults/cold', '--region', 'us-east-1', '--call-timeout', '1', '--refresh-retry', '2']));
  assert.ok(importMs < 2500, `INIT gave up after ${importMs} ms`);
  const [out, ms] = await timed(handler(originRequest()));
  assert.equal(out.status, '503');
  assert.ok(ms < 2500, `answered after ${ms} ms`);
  assert.ok(logs.some((l) => l.includes('key refresh failed') && l.includes('"reason":"timeout"')), 'the timeout is logged');
  const [again, msAgain] = await timed(handler(originRequest()));
  assert.equal(again.status, '503');
  assert.ok(msAgain < 200, `inside the retry interval no read is attempted (${msAgain} ms)`);
  proxy.mode = 'pass';
  await sleep(2100);
  assert.equal(keyIdOf(await handler(originRequest())), 'key-current', 'the hung call held nothing: the next read works');
});

test('a warm edge with a hung Secrets Manager signs with its last key up to the maximum staleness, then 503', { timeout: 20000 }, async () => {
  await client().send(new CreateSecretCommand({ Name: 'faults/warm', SecretString: JSON.stringify(KEYRING.pending) }));
  proxy.mode = 'pass';
  const { handler } = await bundle('faults-warm', ['--secret-id', 'faults/warm', '--region', 'us-east-1', '--cache-ttl', '1', '--max-stale', '4', '--call-timeout', '1', '--refresh-retry', '1']);
  assert.equal(keyIdOf(await handler(originRequest())), 'key-pending');
  proxy.mode = 'hang';
  await sleep(1100);
  const [stale, ms] = await timed(handler(originRequest()));
  assert.equal(keyIdOf(stale), 'key-pending', 'an outage: the last key signs');
  assert.ok(ms < 2500, `the read was abandoned after the call timeout (${ms} ms)`);
  await sleep(3200);
  const [out, msOut] = await timed(handler(originRequest()));
  assert.equal(out.status, '503', 'past the maximum staleness');
  assert.ok(msOut < 2500, `within the bound (${msOut} ms)`);
  proxy.mode = 'pass';
});

test('a key-ring document as AWSCURRENT is not a key: a cold edge fails closed, a warm one keeps its key', { timeout: 20000 }, async () => {
  const ring = JSON.stringify({ format: 'originsig-keyring-v1', current: KEYRING.previous });
  await client().send(new CreateSecretCommand({ Name: 'faults/ring', SecretString: ring }));
  const cold = await bundle('faults-ring-cold', ['--secret-id', 'faults/ring', '--region', 'us-east-1']);
  assert.equal((await cold.handler(originRequest())).status, '503');
  assert.ok(logs.some((l) => l.includes('key-ring document')));
  await client().send(new CreateSecretCommand({ Name: 'faults/ring-later', SecretString: JSON.stringify(KEYRING.current) }));
  const warm = await bundle('faults-ring-warm', ['--secret-id', 'faults/ring-later', '--region', 'us-east-1', '--cache-ttl', '1', '--max-stale', '30', '--refresh-retry', '1']);
  assert.equal(keyIdOf(await warm.handler(originRequest())), 'key-current');
  await client().send(new PutSecretValueCommand({ SecretId: 'faults/ring-later', SecretString: ring }));
  await sleep(1100);
  assert.equal(keyIdOf(await warm.handler(originRequest())), 'key-current', 'the ring document was refused; the last key signs');
});

test('a read started just before a freeze is not adopted after a long idle: a new read signs', { timeout: 20000 }, async () => {
  await client().send(new CreateSecretCommand({ Name: 'faults/frozen', SecretString: JSON.stringify(KEYRING.current) }));
  proxy.mode = 'pass';
  const { handler } = await bundle('faults-frozen', ['--secret-id', 'faults/frozen', '--region', 'us-east-1', '--cache-ttl', '4', '--max-stale', '4', '--call-timeout', '2', '--refresh-retry', '2']);
  assert.equal(keyIdOf(await handler(originRequest())), 'key-current');
  const realNow = Date.now;
  let offset = 0;
  Date.now = () => realNow() + offset;
  try {
    // Past half the TTL a background read starts, and hangs...
    proxy.mode = 'hang';
    offset = 2100;
    assert.equal(keyIdOf(await handler(originRequest())), 'key-current');
    // ...when Lambda freezes the container, for longer than the maximum staleness. Its timer
    // has not fired (frozen); the clock has moved on.
    offset = 60_000;
    proxy.mode = 'pass';
    const [out, ms] = await timed(handler(originRequest()));
    assert.equal(keyIdOf(out), 'key-current', `signed after the thaw, not ${out.status}`);
    assert.ok(ms < 1500, `a new read, not the frozen one's late timeout (${ms} ms)`);
    assert.ok(logs.some((l) => l.includes('is not adopted')), 'the log says why it read again');
  } finally {
    Date.now = realNow;
  }
});
