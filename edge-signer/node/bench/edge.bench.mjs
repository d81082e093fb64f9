// Edge benchmark: the real bundle (index.mjs + .wasm) against the node:crypto peer, side by
// side in one process, on a realistic origin-request event. Prints one JSON object.
//
//   node edge-signer/node/bench/edge.bench.mjs [BUNDLE_DIR]   (default target/lambda/edge-signer-local)
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { createPeerSigner } from './peer-node-crypto.mjs';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BUNDLE = process.argv[2] ?? join(ROOT, 'target', 'lambda', 'edge-signer-local');
const KEY = JSON.parse(readFileSync(join(ROOT, 'shared', 'testdata', 'keyring.json'), 'utf8')).current;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function realisticEvent() {
  const h = (key, value) => [{ key, value }];
  return {
    Records: [{
      cf: {
        config: { distributionDomainName: 'd111111abcdef8.cloudfront.net', distributionId: 'EDFDVBD6EXAMPLE', eventType: 'origin-request', requestId: 'bench' },
        request: {
          clientIp: '203.0.113.178',
          method: 'GET',
          uri: '/api/v1/orders/12345/items/caf%C3%A9',
          querystring: 'limit=50&cursor=eyJpZCI6MTIzfQ%3D%3D&sort=desc&fields=id,name,price',
          headers: {
            host: h('Host', 'd111111abcdef8.cloudfront.net'),
            'user-agent': h('User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'),
            accept: h('Accept', 'application/json'),
            'accept-encoding': h('Accept-Encoding', 'gzip, deflate, br'),
            'accept-language': h('Accept-Language', 'en-GB,en;q=0.9'),
            authorization: h('Authorization', 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl'),
            cookie: h('Cookie', 'session=abc123; theme=dark'),
            via: h('Via', '2.0 2afae0d44e2540f472c0635ab62c232b.cloudfront.net (CloudFront)'),
            'x-forwarded-for': h('X-Forwarded-For', '203.0.113.178'),
            'cloudfront-viewer-country': h('CloudFront-Viewer-Country', 'GB'),
            'cloudfront-is-mobile-viewer': h('CloudFront-Is-Mobile-Viewer', 'false'),
            'x-amz-cf-id': h('X-Amz-Cf-Id', '4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=='),
          },
          origin: { custom: { customHeaders: {}, domainName: 'abc123defg.execute-api.us-east-1.amazonaws.com', keepaliveTimeout: 5, path: '/prod', port: 443, protocol: 'https', readTimeout: 30, sslProtocols: ['TLSv1.2'] } },
        },
      },
    }],
  };
}

// Each sample is a fresh process: V8 caches compiled WebAssembly within a process, so a second
// measurement in the same process would see no compilation at all.
function freshProcess(script) {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

function loadTimes(runs) {
  const index = JSON.stringify(pathToFileURL(join(BUNDLE, 'index.mjs')).href);
  const empty = JSON.stringify(pathToFileURL(join(ROOT, 'edge-signer', 'node', 'bench', 'baseline.mjs')).href);
  const wasm = JSON.stringify(join(BUNDLE, 'originsig_edge_signer.wasm'));
  const load = [];
  const baseline = [];
  const instantiate = [];
  for (let i = 0; i < runs; i++) {
    // Module load: importing the handler (config, wasm compile + instantiate, glue) after
    // baseline.mjs has paid for Node's ESM loader and node:fs (see baseline.mjs).
    const l = freshProcess(`
      const t0 = performance.now(); await import(${empty});
      const t1 = performance.now(); const m = await import(${index});
      const t2 = performance.now(); console.log(JSON.stringify({ baseline: t1 - t0, load: t2 - t1 }));`);
    load.push(l.load);
    baseline.push(l.baseline);
    const w = freshProcess(`
      const bytes = (await import('node:fs')).readFileSync(${wasm});
      const t0 = performance.now(); new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      console.log(JSON.stringify({ instantiate: performance.now() - t0 }));`);
    instantiate.push(w.instantiate);
  }
  return { loadMs: median(load), baselineMs: median(baseline), instantiateMs: median(instantiate) };
}

async function perRequest(rounds, iterations) {
  const log = console.log;
  console.log = () => {}; // the handler logs its key load, during import (INIT) and at the first request
  const ours = await import(pathToFileURL(join(BUNDLE, 'index.mjs')).href);
  const peer = createPeerSigner(KEY);
  const ourEvent = realisticEvent();
  const peerEvent = realisticEvent();
  await ours.handler(ourEvent);
  console.log = log;
  const run = async (fn, event) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await fn(event);
    return Number(process.hrtime.bigint() - t0) / iterations;
  };
  const oursNs = [];
  const peerNs = [];
  for (let i = 0; i < 2; i++) { await run(ours.handler, ourEvent); await run((e) => peer.handler(e), peerEvent); } // warm-up
  for (let r = 0; r < rounds; r++) {
    oursNs.push(await run(ours.handler, ourEvent));
    peerNs.push(await run((e) => peer.handler(e), peerEvent));
  }
  return { oursNs: median(oursNs), peerNs: median(peerNs), rounds, iterations };
}

const quick = process.env.BENCH_QUICK === '1';
const load = loadTimes(quick ? 3 : 15);
const request = await perRequest(quick ? 2 : 7, quick ? 2000 : 50000);
const sizes = {
  wasmBytes: statSync(join(BUNDLE, 'originsig_edge_signer.wasm')).size,
  zipBytes: statSync(join(BUNDLE, 'edge-signer.zip')).size,
};
console.log(JSON.stringify({ node: process.version, ...load, ...request, ...sizes }));
