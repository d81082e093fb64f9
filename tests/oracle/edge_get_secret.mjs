// Runs the real edge bundle's INIT and one request, with its Secrets Manager call sent to a local
// listener instead of AWS: node:https.request is wrapped so the request the handler builds for
// https://secretsmanager.<region>.amazonaws.com goes, byte for byte, over plain HTTP to the
// listener (which captures it; test_edge_sigv4.py recomputes its signature with botocore).
//
//   node tests/oracle/edge_get_secret.mjs <bundle dir> <listener port>
// Prints one JSON line: the host and path the handler meant to call, and the signed request's
// x-originsig header (proof that the answer was read as Secrets Manager's).
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { originRequest } from '../../edge-signer/node/test/helpers.mjs';

const [bundleDir, port] = process.argv.slice(2);
const intended = [];
https.request = (options, callback) => {
  intended.push({ hostname: options.hostname, port: options.port ?? null, path: options.path, method: options.method });
  // Only where it goes changes: same method, path, headers and body.
  return http.request({ ...options, protocol: 'http:', hostname: '127.0.0.1', port: Number(port), agent: undefined }, callback);
};
syncBuiltinESMExports(); // the handler's `import('node:https')` sees the wrapper

const { handler } = await import(pathToFileURL(join(bundleDir, 'index.mjs')).href);
const answer = await handler(originRequest());
console.log(JSON.stringify({ intended, signature: answer.headers?.['x-originsig']?.[0]?.value ?? null, status: answer.status ?? null }));
