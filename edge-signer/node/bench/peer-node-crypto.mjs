// Benchmark peer: the originsig v1 edge signer written by hand in JavaScript with node:crypto,
// the way a team would write it without WebAssembly. Same protocol (SPEC.md), same handler
// work (refuse an event that is not of the documented shape, strip viewer signatures, rewrite
// Host, add the header). Checked against the shared
// vectors by edge-signer/node/test/peer.test.mjs so the comparison is like for like.
import { createHmac } from 'node:crypto';

const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';
const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

class Unsignable extends Error {}

function decode(text, plusIsSpace) {
  const bytes = typeof text === 'string' ? encoder.encode(text) : text;
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x25) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi < 0 || lo < 0) throw new Unsignable('percent_encoding');
      out[n++] = (hi << 4) | lo;
      i += 2;
    } else if (b === 0x2b && plusIsSpace) out[n++] = 0x20;
    else out[n++] = b;
  }
  return out.subarray(0, n);
}

function hexValue(b) {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

function encode(bytes, keepSlash) {
  let out = '';
  for (const b of bytes) {
    if (UNRESERVED[b] || (keepSlash && b === 0x2f)) out += String.fromCharCode(b);
    else out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

// Fast path: the engine's own URI functions; they throw on non-UTF-8 or bad escapes, and then
// the byte-level path above decides (and gives the precise error).
const EXTRA = /[!'()*]/g;
const escapeExtra = (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase();

// HTTP APIs decode the path twice and cut it at a '?' from the first decoding; REST APIs decode
// once (SPEC.md §4).
function canonicalPath(prefix, uri, apiKind) {
  if (prefix.length + uri.length > 16384) throw new Unsignable('too_long');
  const raw = prefix + uri;
  const twice = apiKind === 'http_api';
  let decoded;
  try {
    const once = decodeURIComponent(raw);
    if (twice && once.includes('?')) throw new Unsignable('path_truncated');
    decoded = twice && once.includes('%') ? decodeURIComponent(once) : once;
  } catch (error) {
    if (error instanceof Unsignable) throw error;
    let bytes = decode(raw, false);
    if (twice) {
      if (bytes.includes(0x3f)) throw new Unsignable('path_truncated');
      try {
        bytes = decode(bytes, false);
      } catch {
        throw new Unsignable('path_rejected');
      }
    }
    try {
      decoded = utf8.decode(bytes);
    } catch {
      throw new Unsignable('path_not_utf8');
    }
  }
  if (decoded === '') return '/';
  if (decoded[0] !== '/') throw new Unsignable('path_not_absolute');
  return encodeURIComponent(decoded).replace(EXTRA, escapeExtra).replaceAll('%2F', '/');
}

function canonicalComponent(text) {
  try {
    return encodeURIComponent(decodeURIComponent(text.replaceAll('+', ' '))).replace(EXTRA, escapeExtra);
  } catch {
    return encode(decode(text, true), false);
  }
}

function canonicalQuery(raw) {
  if (raw.length > 16384) throw new Unsignable('too_long');
  const pairs = [];
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    pairs.push(eq < 0 ? [canonicalComponent(piece), ''] : [canonicalComponent(piece.slice(0, eq)), canonicalComponent(piece.slice(eq + 1))]);
  }
  // v2: by key only; Array.prototype.sort is stable, so a repeated key's values keep their order.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

// The documented origin-request shape: string method/uri/querystring; headers keyed by the
// lowercase name, each a list of {key?, value} whose key is that name in any case.
function documentedShape(request) {
  if (typeof request?.method !== 'string' || typeof request.uri !== 'string' || typeof request.querystring !== 'string') return false;
  const headers = request.headers;
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return false;
  for (const [name, entries] of Object.entries(headers)) {
    if (name !== name.toLowerCase() || !Array.isArray(entries)) return false;
    for (const entry of entries) {
      if (typeof entry?.value !== 'string') return false;
      if (entry.key !== undefined && (typeof entry.key !== 'string' || entry.key.toLowerCase() !== name)) return false;
    }
  }
  return true;
}

export function createPeerSigner({ kid, key }, apiKind = 'http_api') {
  const keyBytes = Buffer.from(key, 'base64');
  const sign = (request, now) => {
    const origin = request.origin?.custom;
    if (!origin?.domainName) throw new Unsignable('not_custom_origin');
    if (!/^[A-Z]{1,16}$/.test(request.method)) throw new Unsignable('method');
    const host = origin.domainName.replace(/\.$/, '');
    if (!/^[A-Za-z0-9.-]{1,253}$/.test(host)) throw new Unsignable('host');
    const canonical = ['ORIGINSIG-HMAC-SHA256-V2', String(now), kid, request.method, host.toLowerCase(),
      canonicalPath(origin.path ?? '', request.uri, apiKind), canonicalQuery(request.querystring ?? '')].join('\n');
    const signature = createHmac('sha256', keyBytes).update(canonical).digest('base64url');
    return `v2;t=${now};k=${kid};s=${signature}`;
  };
  return {
    sign,
    handler(event, now = Math.floor(Date.now() / 1000)) {
      const request = event.Records[0].cf.request;
      if (!documentedShape(request)) return { status: '502', statusDescription: 'Bad Gateway' };
      let value;
      try {
        value = sign(request, now);
      } catch {
        return { status: '400', statusDescription: 'Bad Request' };
      }
      const headers = (request.headers ??= {});
      for (const name of Object.keys(headers)) {
        const lower = name.toLowerCase();
        if (lower === 'x-originsig' || lower === 'host') delete headers[name];
      }
      headers.host = [{ key: 'Host', value: request.origin.custom.domainName }];
      headers['x-originsig'] = [{ key: 'X-Originsig', value }];
      return request;
    },
  };
}
