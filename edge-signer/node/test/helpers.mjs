// Test helpers: bundles built by the real bundler, a real moto server, captured logs.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TESTDATA = join(ROOT, 'shared', 'testdata');
export const KEYRING = JSON.parse(readFileSync(join(TESTDATA, 'keyring.json'), 'utf8'));
export const OUTSIDER = JSON.parse(readFileSync(join(TESTDATA, 'outsider-key.json'), 'utf8'));
export const WASM_PATH = join(ROOT, 'target', 'wasm32-unknown-unknown', 'wasm', 'originsig_edge_signer.wasm');

/** Every shared test vector. */
export function vectors() {
  const dir = join(TESTDATA, 'vectors');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
}

/** Builds a bundle with the real bundler (the .wasm is built once by the test command) and imports its handler. */
export async function bundle(name, args) {
  const out = join(ROOT, 'target', 'lambda', 'node-tests', name);
  execFileSync('python3', [join(ROOT, 'edge-signer', 'bundle.py'), '--no-build', '--out', out, ...args], { stdio: 'pipe' });
  return import(pathToFileURL(join(out, 'index.mjs')).href);
}

export function originRequest({ method = 'GET', uri = '/', querystring = '', headers = {}, domainName = 'abc123defg.execute-api.us-east-1.amazonaws.com', path = '', origin } = {}) {
  return {
    Records: [{
      cf: {
        config: { distributionDomainName: 'd111111abcdef8.cloudfront.net', distributionId: 'EDFDVBD6EXAMPLE', eventType: 'origin-request', requestId: 'test-request' },
        request: {
          clientIp: '203.0.113.178', method, uri, querystring, headers,
          origin: origin ?? { custom: { customHeaders: {}, domainName, path, port: 443, protocol: 'https', keepaliveTimeout: 5, readTimeout: 30, sslProtocols: ['TLSv1.2'] } },
        },
      },
    }],
  };
}

/**
 * Captures everything logged with console.log from now on (the handler logs JSON lines there,
 * including from background refreshes that finish after a request returned).
 */
export function captureLogs() {
  const lines = [];
  console.log = (...args) => lines.push(args.join(' '));
  return lines;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Starts a real moto server on 127.0.0.1 and points the AWS SDK at it. */
export async function startMoto() {
  const binary = process.env.MOTO_SERVER ?? join(ROOT, '.venv', 'bin', 'moto_server');
  const port = await freePort();
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`moto_server did not start (${binary})`);
      await sleep(100);
    }
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  return {
    endpoint,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    }),
  };
}

/**
 * A TCP proxy on 127.0.0.1 in front of `target` (host:port) whose behaviour can be switched:
 * 'pass' forwards, 'hang' accepts and never answers (also on open keep-alive connections),
 * 'drop' closes. Bounded: `close()` ends every connection.
 */
export async function faultProxy(target) {
  const { hostname, port: targetPort } = new URL(target);
  const state = { mode: 'pass' };
  const sockets = new Set();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (state.mode === 'drop') return client.destroy();
    let upstream = null;
    client.on('data', (chunk) => {
      if (state.mode === 'hang') return; // swallowed: the caller waits for an answer that never comes
      if (state.mode === 'drop') return client.destroy();
      if (!upstream) {
        upstream = connect(Number(targetPort), hostname);
        sockets.add(upstream);
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        upstream.on('data', (data) => state.mode === 'pass' && client.write(data));
      }
      upstream.write(chunk);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    set mode(mode) { state.mode = mode; },
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Every string that would betray key material if it reached a log line. */
export function keyMaterialStrings() {
  const keys = [KEYRING.current, KEYRING.pending, KEYRING.previous, OUTSIDER];
  return keys.flatMap((k) => {
    const bytes = Buffer.from(k.key, 'base64');
    return [k.key, bytes.toString('hex'), bytes.toString('base64url'), bytes.toString('base64').slice(0, 16)];
  });
}
