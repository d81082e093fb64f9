import cf from 'cloudfront';
// originsig viewer-request signer: a CloudFront Function (runtime cloudfront-js-2.0).
//
// Signs every viewer request with the key the KeyValueStore holds (SPEC.md §3-§6), as the
// Lambda@Edge signer (edge-signer/src/signer.rs) signs origin requests: method, the configured
// host, configured prefix + uri under the API's path rule (§4.1), the query as the viewer sent
// it (rawQueryString()). Viewer-supplied x-originsig headers are dropped. What cannot be signed
// is answered here (400/502/503), never forwarded unsigned. request.uri and
// request.querystring are never assigned: CloudFront forwards them as received only while the
// function leaves them alone.
//
// A function sees neither the origin's domain nor its origin path, so both come from CONFIG,
// which build.py writes between the markers below (docs/cloudfront-functions.md). Only the
// runtime-2.0 features AWS documents are used; test/allowlist.mjs refuses anything else.
// Full-line comments are stripped by build.py.
const crypto = require('crypto');

const CONFIG = /*config*/{"host":"example.execute-api.us-east-1.amazonaws.com","pathPrefix":"","apiKind":"http_api","kvsKey":"originsig-current","retryAfterSeconds":5}/*end*/;

// --- protocol version: the only lines that differ between versions (SPEC.md §3, §5, §6) ---
// The function only ever signs v2.
const TAG = 'v2';
const ALGORITHM = 'ORIGINSIG-HMAC-SHA256-V2';
// v2 §5 step 5: a stable sort by encoded key only; a repeated key's values stay in the order
// sent. Each pair carries its position (third member) as the tie-breaker, so the order does not
// depend on whether the engine's sort is stable. Encoded text is ASCII: string order is byte order.
function orderPairs(pairs) {
  return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[2] - b[2]));
}
// --- end of the version-dependent part ---

const kvs = cf.kvs();
const HEADER = 'x-originsig';
const MAX_PART = 16384;
const HEX = '0123456789ABCDEF';
const encoder = new TextEncoder();
// encodeURIComponent leaves these five unescaped; SPEC §2 escapes every reserved byte.
const EXTRA = /[!'()*]/g;
const EXTRA_ESCAPED = { '!': '%21', "'": '%27', '(': '%28', ')': '%29', '*': '%2A' };

// Every character of `text` is one of `allowed` (a few ASCII ranges as [low, high] code
// pairs). A loop, not a regular expression: under njs a regular expression costs several
// microseconds per use, more than the rest of a request.
function only(text, min, max, allowed) {
  if (text.length < min || text.length > max) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i);
    let ok = false;
    for (let k = 0; k < allowed.length && !ok; k += 2) ok = c >= allowed[k] && c <= allowed[k + 1];
    if (!ok) return false;
  }
  return true;
}
const UPPER = [65, 90];
// A-Z a-z 0-9 _ -
const KID_CHARS = [65, 90, 97, 122, 48, 57, 95, 95, 45, 45];

function hasExtra(text) {
  return text.indexOf('!') >= 0 || text.indexOf("'") >= 0 || text.indexOf('(') >= 0 || text.indexOf(')') >= 0 || text.indexOf('*') >= 0;
}

// The engine's own URI functions are the fast path (the byte loops below are slow in the
// function runtime's interpreter). They throw on a bad escape and on bytes that are not UTF-8;
// then the byte loops decide, exactly and with the precise reason.
function encodeText(text) {
  const encoded = encodeURIComponent(text);
  return hasExtra(encoded) ? encoded.replace(EXTRA, (c) => EXTRA_ESCAPED[c]) : encoded;
}

function refuse(code) {
  const error = new Error(code);
  error.code = code;
  throw error;
}

function hexValue(b) {
  return b >= 48 && b <= 57 ? b - 48 : b >= 65 && b <= 70 ? b - 55 : b >= 97 && b <= 102 ? b - 87 : -1;
}

// SPEC §2 percent-decoding, appended to `out` (a list of bytes). A bad escape is refused.
function decodeInto(out, bytes, plusIsSpace) {
  for (let i = 0; i < bytes.length; i++) {
    let b = bytes[i];
    if (b === 37) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi < 0 || lo < 0) refuse('percent_encoding');
      b = hi * 16 + lo;
      i += 2;
    } else if (b === 43 && plusIsSpace) {
      b = 32;
    }
    out.push(b);
  }
  return out;
}

// SPEC §2 canonical percent-encoding (unreserved bytes as themselves, `/` too when keeping slash).
function encode(bytes, keepSlash) {
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const plain = (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || (b >= 48 && b <= 57) || b === 45 || b === 46 || b === 95 || b === 126 || (keepSlash && b === 47);
    text += plain ? String.fromCharCode(b) : '%' + HEX.charAt(b >> 4) + HEX.charAt(b & 15);
  }
  return text;
}

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF), as Rust's
// String::from_utf8 checks it.
function isUtf8(bytes) {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i++];
    if (b < 128) continue;
    const n = b >= 240 ? 3 : b >= 224 ? 2 : b >= 192 ? 1 : 0;
    if (n === 0 || b > 244) return false;
    let cp = b & (127 >> (n + 1));
    for (let k = 0; k < n; k++) {
      const c = bytes[i++];
      if ((c & 192) !== 128) return false;
      cp = cp * 64 + (c & 63);
    }
    if (cp < [0, 128, 2048, 65536][n] || cp > 1114111 || (cp >= 55296 && cp <= 57343)) return false;
  }
  return true;
}

// SPEC §4.1 rules 1-3, 5, 6 at the edge: the path as the API will hand it to its authorizer.
function canonicalPath(uri) {
  const fast = fastPath(uri);
  if (fast !== null) return fast;
  const prefix = encoder.encode(CONFIG.pathPrefix);
  const raw = encoder.encode(uri);
  if (prefix.length + raw.length > MAX_PART) refuse('too_long');
  let bytes = decodeInto(decodeInto([], prefix, false), raw, false);
  if (CONFIG.apiKind === 'http_api') {
    if (bytes.indexOf(63) >= 0) refuse('path_truncated');
    if (bytes.indexOf(37) >= 0) {
      try {
        bytes = decodeInto([], bytes, false);
      } catch (e) {
        refuse('path_rejected');
      }
    }
  }
  if (!isUtf8(bytes)) refuse('path_not_utf8');
  if (bytes.length === 0) return '/';
  if (bytes[0] !== 47) refuse('path_not_absolute');
  return encode(bytes, true);
}

// canonicalPath through decodeURIComponent, or null for the byte loops to decide.
function fastPath(uri) {
  let decoded;
  try {
    decoded = decodeURIComponent(CONFIG.pathPrefix) + decodeURIComponent(uri);
    if (CONFIG.apiKind === 'http_api') {
      if (decoded.indexOf('?') >= 0) return null;
      if (decoded.indexOf('%') >= 0) decoded = decodeURIComponent(decoded);
    }
  } catch (e) {
    return null;
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes: only long input needs counting.
  const length = CONFIG.pathPrefix.length + uri.length;
  if ((length * 3 > MAX_PART && encoder.encode(CONFIG.pathPrefix + uri).length > MAX_PART) || decoded.charAt(0) !== '/') return null;
  return encodeText(decoded).split('%2F').join('/');
}

function recode(text) {
  try {
    return encodeText(decodeURIComponent(text.indexOf('+') < 0 ? text : text.split('+').join(' ')));
  } catch (e) {
    // a bad escape, or bytes that are not UTF-8 (allowed in a query): the byte loops
  }
  return encode(decodeInto([], encoder.encode(text), true), false);
}

// SPEC §5 steps 1-4 and 6; the order (step 5) is the version's.
function canonicalQuery(raw) {
  if (encoder.encode(raw).length > MAX_PART) refuse('too_long');
  const pairs = [];
  const pieces = raw.split('&');
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i];
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    pairs.push(eq < 0 ? [recode(piece), '', pairs.length] : [recode(piece.slice(0, eq)), recode(piece.slice(eq + 1)), pairs.length]);
  }
  return orderPairs(pairs).map((p) => p[0] + '=' + p[1]).join('&');
}

// The signed lines after time and key id: method, host, path, query (SPEC §3), checked in the
// order the Rust core checks them, so a request gets the same refusal code from both.
function canonicalTarget(request) {
  const method = request.method;
  if (typeof method !== 'string' || !only(method, 1, 16, UPPER)) refuse('method');
  const query = request.rawQueryString();
  return [method, CONFIG.host, canonicalPath(request.uri), canonicalQuery(query === undefined ? '' : query)].join('\n');
}

// The KeyValueStore item is SPEC §7's secret value; anything else is no usable key.
function signingKey(value) {
  if (value === null || typeof value !== 'object' || value.format !== 'originsig-key-v1') refuse('bad_key');
  if (typeof value.kid !== 'string' || !only(value.kid, 1, 64, KID_CHARS)) refuse('bad_key');
  if (typeof value.key !== 'string') refuse('bad_key');
  const bytes = Buffer.from(value.key, 'base64');
  // Canonical standard base64 with padding only: decoding is lenient, so the text must be
  // exactly what the bytes encode to.
  if (bytes.toString('base64') !== value.key || bytes.length < 32 || bytes.length > 64) refuse('bad_key');
  return { kid: value.kid, bytes: bytes };
}

function log(fields) {
  fields.component = 'originsig-cloudfront-function';
  console.log(JSON.stringify(fields));
}

function answer(status, description, extra) {
  const headers = { 'content-type': { value: 'text/plain; charset=utf-8' }, 'cache-control': { value: 'no-store' } };
  if (extra) headers['retry-after'] = { value: String(CONFIG.retryAfterSeconds) };
  return { statusCode: status, statusDescription: description, headers: headers };
}

function documentedShape(request) {
  return request !== null && typeof request === 'object' && typeof request.method === 'string' && typeof request.uri === 'string' &&
    request.headers !== null && typeof request.headers === 'object' && typeof request.rawQueryString === 'function';
}

async function handler(event) {
  const request = event.request;
  if (!documentedShape(request)) {
    log({ level: 'error', reason: 'bad_event', hint: 'the event lacks request.method, uri, headers or rawQueryString(); publish the function with runtime cloudfront-js-2.0 as a viewer-request function' });
    return answer(502, 'Bad Gateway', false);
  }
  let target;
  try {
    target = canonicalTarget(request);
  } catch (e) {
    log({ level: 'warn', reason: 'unsignable', detail: e.code || 'error' });
    return answer(400, 'Bad Request', false);
  }
  let key;
  try {
    // One read per request. The value is awaited into a variable of its own: njs 0.7 crashes
    // on an `await` inside call arguments (found by the njs tests).
    const value = await kvs.get(CONFIG.kvsKey, { format: 'json' });
    key = signingKey(value);
  } catch (e) {
    // A missing item (the store not yet propagated here), a value that is not JSON, or not a
    // key: never sign without a key, never say what the value was.
    log({ level: 'error', reason: 'no_key', detail: e.code === 'bad_key' ? 'bad_key' : 'kvs_read_failed', kvsKey: CONFIG.kvsKey });
    return answer(503, 'Service Unavailable', true);
  }
  const now = Math.floor(Date.now() / 1000);
  const canonical = ALGORITHM + '\n' + now + '\n' + key.kid + '\n' + target;
  const signature = crypto.createHmac('sha256', key.bytes).update(canonical).digest('base64url');
  const headers = request.headers;
  const names = Object.keys(headers);
  for (let i = 0; i < names.length; i++) {
    if (names[i].toLowerCase() === HEADER) delete headers[names[i]];
  }
  headers[HEADER] = { value: TAG + ';t=' + now + ';k=' + key.kid + ';s=' + signature };
  return request;
}
