// The handler reading its key from Secrets Manager: a real moto server, the runtime's AWS SDK for
// JavaScript v3, AWS_ENDPOINT_URL_SECRETS_MANAGER. Covers first load, replica choice, rotation
// seen after the TTL, a malformed value (last good key kept), an outage (fail closed after the
// maximum staleness, with Retry-After).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

import { bundle, captureLogs, keyMaterialStrings, originRequest, sleep, startMoto, KEYRING, OUTSIDER } from './helpers.mjs';

let moto;
const logs = captureLogs();
const client = (region = 'us-east-1') => new SecretsManagerClient({ region });
const secretValue = (key) => JSON.stringify(key);
const keyIdOf = (out) => /;k=([^;]+);/.exec(out.headers?.['x-originsig']?.[0]?.value ?? '')?.[1];

const call = (handler, event = originRequest()) => handler(event);

before(async () => {
  moto = await startMoto();
});
after(async () => {
  await moto?.stop();
});

test('reads AWSCURRENT during INIT, reads it again in the background from half the TTL', async () => {
  await client().send(new CreateSecretCommand({ Name: 'edge/rotation', SecretString: secretValue(KEYRING.current) }));
  const { handler } = await bundle('sm-rotation', ['--secret-id', 'edge/rotation', '--region', 'us-east-1', '--cache-ttl', '2', '--max-stale', '30', '--refresh-retry', '1']);
  assert.equal(keyIdOf(await call(handler)), 'key-current');
  await client().send(new PutSecretValueCommand({ SecretId: 'edge/rotation', SecretString: secretValue(KEYRING.pending) }));
  assert.equal(keyIdOf(await call(handler)), 'key-current', 'within half the TTL the cached key signs');
  await sleep(1100);
  assert.equal(keyIdOf(await call(handler)), 'key-current', 'the read runs in the background; this request is not held');
  await sleep(300);
  assert.equal(keyIdOf(await call(handler)), 'key-pending');
});

test('an edge idle across two promotions signs its first request with the newest key, never a dropped one', async () => {
  await client().send(new CreateSecretCommand({ Name: 'edge/idle', SecretString: secretValue(KEYRING.previous) }));
  const { handler } = await bundle('sm-idle', ['--secret-id', 'edge/idle', '--region', 'us-east-1', '--cache-ttl', '1', '--max-stale', '30', '--refresh-retry', '1']);
  assert.equal(keyIdOf(await call(handler)), 'key-previous');
  // Two promotions while the container is idle: key-previous leaves every label.
  await client().send(new PutSecretValueCommand({ SecretId: 'edge/idle', SecretString: secretValue(KEYRING.current) }));
  await client().send(new PutSecretValueCommand({ SecretId: 'edge/idle', SecretString: secretValue(KEYRING.pending) }));
  await sleep(1100);
  assert.equal(keyIdOf(await call(handler)), 'key-pending', 'past the TTL the key is read before signing');
});

test('an edge in a replica region reads its local replica', async () => {
  await client('eu-west-1').send(new CreateSecretCommand({ Name: 'edge/replicated', SecretString: secretValue(OUTSIDER) }));
  await client('us-east-1').send(new CreateSecretCommand({ Name: 'edge/replicated', SecretString: secretValue(KEYRING.current) }));
  const saved = process.env.AWS_REGION;
  process.env.AWS_REGION = 'eu-west-1';
  try {
    const { handler } = await bundle('sm-replica', ['--secret-id', 'edge/replicated', '--region', 'us-east-1', '--replica-regions', 'eu-west-1']);
    assert.equal(keyIdOf(await call(handler)), 'key-outsider');
  } finally {
    process.env.AWS_REGION = saved;
  }
  process.env.AWS_REGION = 'ap-south-1'; // not a replica: the primary region is used
  try {
    const { handler } = await bundle('sm-primary', ['--secret-id', 'edge/replicated', '--region', 'us-east-1', '--replica-regions', 'eu-west-1']);
    assert.equal(keyIdOf(await call(handler)), 'key-current');
  } finally {
    process.env.AWS_REGION = saved;
  }
});

test('a malformed secret value keeps the last good key until the maximum staleness, then 503', async () => {
  await client().send(new CreateSecretCommand({ Name: 'edge/malformed', SecretString: secretValue(KEYRING.current) }));
  const { handler } = await bundle('sm-malformed', ['--secret-id', 'edge/malformed', '--region', 'us-east-1', '--cache-ttl', '1', '--max-stale', '3', '--refresh-retry', '1', '--retry-after', '7']);
  assert.equal(keyIdOf(await call(handler)), 'key-current');
  await client().send(new PutSecretValueCommand({ SecretId: 'edge/malformed', SecretString: '{"format":"originsig-key-v1","kid":"short","key":"AAAA"}' }));
  await sleep(1200);
  assert.equal(keyIdOf(await call(handler)), 'key-current');
  await sleep(300);
  assert.equal(keyIdOf(await call(handler)), 'key-current', 'the refresh failed; the last good key signs');
  assert.ok(logs.some((l) => l.includes('key refresh failed') && l.includes('bad_key')));
  await sleep(2000);
  const out = await call(handler);
  assert.equal(out.status, '503');
  assert.deepEqual(out.headers['retry-after'], [{ key: 'Retry-After', value: '7' }]);
  assert.equal(out.headers['x-originsig'], undefined);
});

test('a missing secret fails closed from the first request', async () => {
  const { handler } = await bundle('sm-missing', ['--secret-id', 'edge/does-not-exist', '--region', 'us-east-1']);
  const out = await call(handler);
  assert.equal(out.status, '503');
  assert.ok(logs.some((l) => l.includes('ResourceNotFoundException')));
});

test('Secrets Manager down: requests keep being signed until the maximum staleness, then 503', async () => {
  await client().send(new CreateSecretCommand({ Name: 'edge/outage', SecretString: secretValue(KEYRING.previous) }));
  const { handler } = await bundle('sm-outage', ['--secret-id', 'edge/outage', '--region', 'us-east-1', '--cache-ttl', '1', '--max-stale', '3', '--refresh-retry', '1']);
  assert.equal(keyIdOf(await call(handler)), 'key-previous');
  await moto.stop();
  await sleep(1200);
  assert.equal(keyIdOf(await call(handler)), 'key-previous');
  await sleep(500);
  assert.equal(keyIdOf(await call(handler)), 'key-previous', 'still within the maximum staleness');
  await sleep(2000);
  assert.equal((await call(handler)).status, '503');
});

test('no key material in any log line', () => {
  const joined = logs.join('\n');
  for (const secret of keyMaterialStrings()) assert.ok(!joined.includes(secret));
});
