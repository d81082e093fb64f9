// originsig edge signer: the Lambda@Edge origin-request handler (runtime nodejs22.x).
//
// Signs every request CloudFront sends to the custom origin (the HTTP API) with the key staged
// AWSCURRENT, after removing any viewer-supplied x-originsig header and setting Host to the
// origin's domain. Lambda@Edge has no environment variables, so configuration comes from
// config.json in this bundle. It does not use the AWS SDK: it calls GetSecretValue itself, signed
// with the one npm package the bundle ships, `aws4` (MIT, copied by bundle.py as
// package-lock.json pins it). It fails closed: without a usable key it answers 503, never
// forwards an unsigned request, and it never logs key material.

// Only node:fs at load: every further module costs cold-start CPU. The Secrets Manager call's
// modules (aws4, node:http or node:https) are loaded when a secret is configured.
import { readFileSync } from 'node:fs';

// --- the WebAssembly signer (Rust: edge-signer/src/abi.rs) --------------------------------
// Kept in this one file on purpose: each extra module costs about a millisecond of cold start.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Compiles and instantiates the module synchronously (done once per container, at load).
 *
 * Trap-safe: a trap (a Rust panic, an allocation failure) stops the module in the middle of a
 * call, with its state -- locks included -- as it was; every later call of that instance would
 * trap too. So after a trap the instance is replaced by a new one (same compiled module, fresh
 * memory) and the key loaded again, and the call fails with SignerError `internal_error` /
 * `wasm_trap`: that one request is answered 502, the next ones are signed.
 */
export function loadSigner(wasmBytes) {
  const module = new WebAssembly.Module(wasmBytes);
  let wasm = null;
  // The fields of the loaded key, to load it into a new instance after a trap. The same text was
  // in this process's memory when the secret was parsed; it is never logged.
  let keyFields = null;
  const instantiate = () => {
    wasm = new WebAssembly.Instance(module, {}).exports;
  };
  instantiate();

  function call(fn, fields, ...args) {
    try {
      return callOnce(fn, fields, ...args);
    } catch (error) {
      if (!(error instanceof WebAssembly.RuntimeError)) throw error;
      instantiate();
      if (keyFields !== null) callOnce('load_key', keyFields);
      throw new SignerError('internal_error', `the signer module trapped in ${fn} (${error.message}); it was replaced by a new instance`, 'wasm_trap');
    }
  }

  // Writes `fields` as one message (u32 LE length + UTF-8 bytes each) into the module's input
  // buffer, calls `fn`, and returns [status, outputFields].
  function callOnce(fn, fields, ...args) {
    let capacity = 0;
    for (const field of fields) capacity += 4 + field.length * 3; // UTF-8 needs ≤ 3 bytes per UTF-16 unit
    const start = wasm.input_buffer(capacity);
    const bytes = new Uint8Array(wasm.memory.buffer);
    const view = new DataView(wasm.memory.buffer);
    let at = start;
    for (const field of fields) {
      const { written } = encoder.encodeInto(field, bytes.subarray(at + 4, start + capacity));
      view.setUint32(at, written, true);
      at += 4 + written;
    }
    const status = wasm[fn](at - start, ...args);
    return [status, readFields(wasm.memory.buffer, wasm.output_ptr(), wasm.output_len())];
  }

  return {
    /**
     * Loads the signing key from a parsed secret value
     * ({format: "originsig-key-v1", kid, key}). Returns the key id; throws on a bad key
     * (the message never contains key material).
     */
    loadKey(secret) {
      const fields = [str(secret?.format), str(secret?.kid), str(secret?.key)];
      const [status, out] = call('load_key', fields);
      if (status !== 0) throw new SignerError(out[0], out[2], out[1]);
      keyFields = fields;
      return out[0];
    },

    /**
     * Plans the signing of a CloudFront origin request (already checked by requestShapeProblem)
     * at `nowSeconds`: {signature, host, removeHeaders}. `options` says how the API presents
     * the path: {apiKind: 'http_api' | 'rest_api', gatewayPathPrefix: null (the origin path)
     * or a fixed prefix}. Throws SignerError with a stable `code` and a finer `detail`.
     */
    plan(request, nowSeconds, options = DEFAULT_SIGNING_OPTIONS) {
      const custom = request.origin?.custom;
      const kind = custom ? 'custom' : request.origin?.s3 ? 's3' : '';
      const prefix = options.gatewayPathPrefix;
      const fields = [
        request.method, request.uri, request.querystring,
        kind, str(custom?.domainName), str(custom?.path),
        options.apiKind, prefix === null ? 'origin' : 'fixed', prefix ?? '',
        ...Object.keys(request.headers),
      ];
      const [status, out] = call('sign', fields, nowSeconds);
      if (status !== 0) throw new SignerError(out[0], out[2], out[1]);
      return { signature: out[0], host: out[1], removeHeaders: out.slice(2) };
    },
  };
}

/**
 * A refusal from the signer: `code` is stable (unsignable, not_custom_origin, bad_event, no_key,
 * bad_key, internal_error); `detail` is the finer reason (for unsignable: percent_encoding, path_truncated,
 * path_rejected, path_not_utf8, too_long, host, method, ...).
 */
export class SignerError extends Error {
  constructor(code, message, detail = code) {
    super(message);
    this.name = 'SignerError';
    this.code = code;
    this.detail = detail;
  }
}

/** HTTP API, path prefix = CloudFront's origin path: an execute-api origin with its stage as origin path. */
export const DEFAULT_SIGNING_OPTIONS = Object.freeze({ apiKind: 'http_api', gatewayPathPrefix: null });

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Why `request` is not an origin request of the documented shape, or null when it is. Lambda@Edge
 * documents: method, uri and querystring as strings; headers as an object whose keys are
 * lowercase header names, each holding a list of {key?, value} with `key` that name in any case.
 * Anything else could hide a header from the plan (a list instead of an object, an x-originsig
 * entry under another key) or be signed as something it is not, so it is refused, never signed.
 */
export function requestShapeProblem(request) {
  if (!isObject(request)) return 'request is not an object';
  for (const field of ['method', 'uri', 'querystring']) {
    if (typeof request[field] !== 'string') return `request.${field} is not a string`;
  }
  if (!isObject(request.headers)) return 'request.headers is not an object';
  for (const name in request.headers) {
    if (!Object.hasOwn(request.headers, name)) continue;
    const entries = request.headers[name];
    if (UPPERCASE.test(name)) return 'a header-map key is not lowercase';
    if (!Array.isArray(entries)) return 'a header-map value is not a list';
    for (const entry of entries) {
      if (!isObject(entry) || typeof entry.value !== 'string') return 'a header entry has no string value';
      if (entry.key !== undefined && (typeof entry.key !== 'string' || !sameName(entry.key, name))) {
        return 'a header entry names another header than its map key';
      }
    }
  }
  const custom = request.origin?.custom;
  if (custom !== undefined && !(isObject(custom) && typeof custom.domainName === 'string' && typeof custom.path === 'string')) {
    return 'request.origin.custom has no string domainName and path';
  }
  return null;
}

const UPPERCASE = /[A-Z]/;

/** `key` is `lowerName` in any ASCII case (per request and per header: no string is made). */
function sameName(key, lowerName) {
  if (key.length !== lowerName.length) return false;
  for (let i = 0; i < key.length; i++) {
    let code = key.charCodeAt(i);
    if (code >= 65 && code <= 90) code += 32;
    if (code !== lowerName.charCodeAt(i)) return false;
  }
  return true;
}

function str(value) {
  return typeof value === 'string' ? value : '';
}

function readFields(buffer, pointer, length) {
  const view = new DataView(buffer, pointer, length);
  const fields = [];
  let at = 0;
  while (at + 4 <= length) {
    const size = view.getUint32(at, true);
    fields.push(decoder.decode(new Uint8Array(buffer, pointer + at + 4, size)));
    at += 4 + size;
  }
  return fields;
}

// --- configuration --------------------------------------------------------------------------

/** A file of this bundle (or an absolute path). */
const bundled = (name) => (name.startsWith('/') ? name : new URL(name, import.meta.url));
export const WASM_FILE = 'originsig_edge_signer.wasm';
const HEADER = 'x-originsig';
const KEYRING_FORMAT = 'originsig-keyring-v1';
/** "" or /segment[/segment...]: what API Gateway shows before the uri (SPEC.md §4.2). */
const PATH_PREFIX = /^(\/[^/?#]+)*$/;

/**
 * Validates config.json; every message names the field. Every timing is required: bundle.py
 * writes them all, from the one timing model (infra/timing.json), so no default lives here.
 */
export function parseConfig(raw) {
  const fail = (field, why) => {
    throw new Error(`config.json: ${field} ${why}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('(the file)', 'must be a JSON object');
  const seconds = (field) => {
    const value = raw[field];
    if (!Number.isInteger(value) || value <= 0) fail(field, `must be a positive whole number of seconds, got ${JSON.stringify(value)}`);
    return value;
  };
  const config = {
    secretId: raw.secretId ?? null,
    region: raw.region ?? null,
    replicaRegions: raw.replicaRegions ?? [],
    keyFile: raw.keyFile ?? null,
    cacheTtlSeconds: seconds('cacheTtlSeconds'),
    maxStaleSeconds: seconds('maxStaleSeconds'),
    refreshRetrySeconds: seconds('refreshRetrySeconds'),
    retryAfterSeconds: seconds('retryAfterSeconds'),
    callTimeoutSeconds: seconds('callTimeoutSeconds'),
    apiKind: raw.apiKind ?? DEFAULT_SIGNING_OPTIONS.apiKind,
    gatewayPathPrefix: raw.gatewayPathPrefix ?? null,
  };
  if (!['http_api', 'rest_api'].includes(config.apiKind)) fail('apiKind', `must be "http_api" or "rest_api", got ${JSON.stringify(config.apiKind)}`);
  if (config.gatewayPathPrefix !== null && (typeof config.gatewayPathPrefix !== 'string' || !PATH_PREFIX.test(config.gatewayPathPrefix))) {
    fail('gatewayPathPrefix', `must be null (use the origin path), "" or a path such as /v1 (no trailing slash, no ? or #), got ${JSON.stringify(config.gatewayPathPrefix)}`);
  }
  if ((config.secretId === null) === (config.keyFile === null)) fail('secretId/keyFile', 'exactly one of the two must be set');
  if (config.secretId !== null && (typeof config.secretId !== 'string' || config.secretId === '')) fail('secretId', 'must be a non-empty string');
  if (config.secretId !== null && (typeof config.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(config.region))) fail('region', 'must be the secret\'s AWS region, e.g. us-east-1');
  if (config.keyFile !== null && (typeof config.keyFile !== 'string' || config.keyFile === '')) fail('keyFile', 'must be a non-empty path');
  if (!Array.isArray(config.replicaRegions) || !config.replicaRegions.every((r) => typeof r === 'string')) fail('replicaRegions', 'must be a list of region names');
  if (config.maxStaleSeconds < config.cacheTtlSeconds) fail('maxStaleSeconds', 'must be at least cacheTtlSeconds');
  return Object.freeze(config);
}

export const config = parseConfig(JSON.parse(readFileSync(bundled('config.json'), 'utf8')));
const signer = loadSigner(readFileSync(bundled(WASM_FILE)));

// --- the key cache ------------------------------------------------------------------------
// One key (AWSCURRENT). From half of cacheTtlSeconds it is read again in the background while
// requests keep being signed; past cacheTtlSeconds it is read again *before* signing, so an idle
// container never signs with a key that may have left every label (SPEC.md §7). Only while the
// secret cannot be read does the last key sign on, up to maxStaleSeconds; then 503. A failed read
// is retried at most every refreshRetrySeconds, and every call is abandoned after
// callTimeoutSeconds, so a hung Secrets Manager never holds the next read.
// A read still in flight after half of cacheTtlSeconds started before Lambda froze the container
// (a call is bounded to seconds): after the thaw its outcome -- usually its timeout firing late --
// says nothing about Secrets Manager now, so it is not adopted: a new read starts, and the old
// one's failure does not hold the retry interval.

const cache = { keyId: null, loadedAt: 0, lastAttemptAt: -Infinity, inFlight: null, inFlightSince: 0 };
const inFlightBoundMs = () => config.cacheTtlSeconds * 500;

function log(level, message, fields = {}) {
  console.log(JSON.stringify({ level, message, component: 'originsig-edge-signer', ...fields }));
}

/** Which region to read the secret from: the replica where this edge runs, if there is one. */
export function secretLocation(cfg, runningRegion) {
  const region = cfg.replicaRegions.includes(runningRegion) ? runningRegion : cfg.region;
  // A replica keeps the secret's name; only the region part of an ARN differs.
  const parts = cfg.secretId.split(':');
  const secretId = parts.length >= 7 && parts[0] === 'arn' ? [...parts.slice(0, 3), region, ...parts.slice(4)].join(':') : cfg.secretId;
  return { region, secretId };
}

class ReadTimeout extends Error {
  constructor(seconds) {
    super(`Secrets Manager did not answer within ${seconds}s`);
    this.code = 'timeout';
  }
}

// GetSecretValue without the SDK client: loading @aws-sdk/client-secrets-manager and building a
// client was ~90% of a new container's CPU before its first signed request. One signed POST
// with the runtime's own credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN) is all this needs; `aws4` (MIT, bundled from package-lock.json) signs it,
// node:https sends it over a kept-alive connection. AWS_ENDPOINT_URL_SECRETS_MANAGER is honoured
// as every AWS SDK honours it (tests point it at moto).
let secretsManager = null;
async function secretsManagerClient(endpoint) {
  if (secretsManager) return secretsManager;
  // require(), not import(): aws4 is CommonJS, and loading it through the ESM loader costs
  // several times more CPU. Only the transport the endpoint needs is loaded (https: also TLS).
  const [{ createRequire }, transport] = await Promise.all([
    import('node:module'),
    endpoint.protocol === 'http:' ? import('node:http') : import('node:https'),
  ]);
  const aws4 = createRequire(import.meta.url)('./aws4/aws4.js');
  secretsManager = { aws4, transport, agent: new transport.Agent({ keepAlive: true }) };
  return secretsManager;
}

/** One GetSecretValue call: the SecretString staged AWSCURRENT, abandoned after callTimeoutSeconds. */
async function getSecretValue(region, secretId) {
  const endpoint = new URL(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER || `https://secretsmanager.${region}.amazonaws.com`);
  const { aws4, transport, agent } = await secretsManagerClient(endpoint);
  const body = JSON.stringify({ SecretId: secretId, VersionStage: 'AWSCURRENT' });
  const request = aws4.sign({
    host: endpoint.host, path: '/', method: 'POST', service: 'secretsmanager', region, body,
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'secretsmanager.GetSecretValue' },
  }, {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    sessionToken: process.env.AWS_SESSION_TOKEN,
  });
  const text = await new Promise((resolve, reject) => {
    const call = transport.request({
      protocol: endpoint.protocol, hostname: endpoint.hostname, port: endpoint.port || undefined,
      method: 'POST', path: '/', headers: request.headers, agent,
    }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    // The whole call, not only an idle socket, is bounded.
    const timer = setTimeout(() => call.destroy(new ReadTimeout(config.callTimeoutSeconds)), config.callTimeoutSeconds * 1000);
    call.on('close', () => clearTimeout(timer));
    call.on('error', reject);
    call.end(body);
  });
  let answer;
  try {
    answer = JSON.parse(text.body);
  } catch {
    throw new SignerError('bad_answer', `Secrets Manager answered ${text.status} with a body that is not JSON`);
  }
  if (text.status !== 200) {
    // Service errors carry their name (ResourceNotFoundException, AccessDeniedException, ...).
    const name = String(answer.__type ?? 'UnknownError').split('#').pop();
    const error = new Error(`GetSecretValue ${secretId}: ${name}: ${answer.message ?? answer.Message ?? ''}`);
    error.code = name;
    throw error;
  }
  if (typeof answer.SecretString !== 'string') throw new SignerError('bad_key', 'the secret has no SecretString (binary secrets are not supported)');
  return answer.SecretString;
}

async function readSecretString() {
  if (config.keyFile !== null) {
    return readFileSync(bundled(config.keyFile), 'utf8'); // a small local file: sync is fine
  }
  const { region, secretId } = secretLocation(config, process.env.AWS_REGION);
  return getSecretValue(region, secretId);
}

/**
 * Loads the key from a secret value. From Secrets Manager only the secret-value format
 * (SPEC.md §7) is a key; a key-ring document is accepted only from an embedded key file.
 */
function installKey(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SignerError('bad_key', 'the secret value is not JSON');
  }
  if (parsed?.format === KEYRING_FORMAT) {
    if (config.keyFile === null) throw new SignerError('bad_key', 'AWSCURRENT holds a key-ring document, not a key (SPEC.md §7)');
    return signer.loadKey(parsed.current);
  }
  return signer.loadKey(parsed);
}

function refresh() {
  const startedAt = Date.now();
  if (cache.inFlight) {
    if (startedAt - cache.inFlightSince <= inFlightBoundMs()) return cache.inFlight;
    log('info', 'a key read started before the container was frozen is not adopted; reading again', { inFlightSeconds: Math.floor((startedAt - cache.inFlightSince) / 1000) });
  }
  const read = { promise: null };
  read.promise = (async () => {
    let ok = false;
    try {
      const keyId = installKey(await readSecretString());
      if (keyId !== cache.keyId) log('info', 'signing key loaded', { keyId, previousKeyId: cache.keyId });
      cache.keyId = keyId;
      cache.loadedAt = Date.now();
      ok = true;
    } catch (error) {
      // Keep the last good key (if any); say why, never what the value was.
      log('warn', 'key refresh failed', { reason: error.code ?? error.name ?? 'error', detail: error.message, keyId: cache.keyId });
    } finally {
      // The retry interval counts from the end of the attempt: a call that hung until its
      // timeout is not followed at once by another. A read that spanned a freeze does not count.
      const endedAt = Date.now();
      if (ok || endedAt - startedAt <= inFlightBoundMs()) cache.lastAttemptAt = endedAt;
      if (cache.inFlight === read.promise) cache.inFlight = null;
    }
  })();
  cache.inFlight = read.promise;
  cache.inFlightSince = startedAt;
  return read.promise;
}

/** Makes sure a usable key is loaded; true when requests may be signed. */
async function ensureKey(nowMs) {
  const age = nowMs - cache.loadedAt;
  const mayRetry = nowMs - cache.lastAttemptAt >= config.refreshRetrySeconds * 1000;
  if (cache.keyId === null || age >= config.cacheTtlSeconds * 1000) {
    if (mayRetry || cache.inFlight) await refresh(); // before signing
  } else if (age >= config.cacheTtlSeconds * 500 && mayRetry) {
    refresh(); // in the background
  }
  return cache.keyId !== null && Date.now() - cache.loadedAt <= config.maxStaleSeconds * 1000;
}

// Read the key during the function's INIT phase, which Lambda runs before the first invocation
// with its own CPU allowance: the first request then finds the key loaded. A failure here is
// logged and retried by the first request, exactly as a failed refresh.
await refresh();

// --- responses ----------------------------------------------------------------------------

function generated(status, description, body, extraHeaders = {}) {
  return {
    status: String(status),
    statusDescription: description,
    headers: {
      'content-type': [{ key: 'Content-Type', value: 'text/plain; charset=utf-8' }],
      'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
      ...extraHeaders,
    },
    body,
  };
}

const RESPONSES = {
  no_key: () => generated(503, 'Service Unavailable', 'The origin is temporarily unavailable.\n', {
    'retry-after': [{ key: 'Retry-After', value: String(config.retryAfterSeconds) }],
  }),
  unsignable: () => generated(400, 'Bad Request', 'The request URL cannot be forwarded.\n'),
  not_custom_origin: () => generated(502, 'Bad Gateway', 'The origin is misconfigured.\n'),
  bad_event: () => generated(502, 'Bad Gateway', 'The origin is misconfigured.\n'),
  internal_error: () => generated(502, 'Bad Gateway', 'The request could not be forwarded.\n'),
};

// --- the handler --------------------------------------------------------------------------

export async function handler(event) {
  const cf = event?.Records?.[0]?.cf;
  const request = cf?.request;
  const requestId = cf?.config?.requestId;
  const shapeProblem = requestShapeProblem(request);
  if (shapeProblem !== null) {
    log('error', 'not an origin-request event of the documented shape', { reason: 'bad_event', detail: shapeProblem, requestId });
    return RESPONSES.bad_event();
  }
  const nowMs = Date.now();
  if (!(await ensureKey(nowMs))) {
    log('error', 'no usable signing key; answering 503', { reason: 'no_key', requestId, keyAgeSeconds: cache.keyId === null ? null : Math.floor((nowMs - cache.loadedAt) / 1000) });
    return RESPONSES.no_key();
  }
  let plan;
  try {
    plan = signer.plan(request, Math.floor(nowMs / 1000), config);
  } catch (error) {
    // The event's shape was checked above: an error that is not the signer's is ours, not the event's.
    const code = error instanceof SignerError ? error.code : 'internal_error';
    const detail = error instanceof SignerError ? error.detail : code;
    log(code === 'unsignable' ? 'info' : 'error', 'request not signed', { reason: code, detail, explanation: error.message, requestId });
    return (RESPONSES[code] ?? RESPONSES.bad_event)();
  }
  for (const name of plan.removeHeaders) delete request.headers[name];
  request.headers.host = [{ key: 'Host', value: plan.host }];
  request.headers[HEADER] = [{ key: 'X-Originsig', value: plan.signature }];
  return request;
}
