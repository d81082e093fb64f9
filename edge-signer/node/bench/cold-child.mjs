// One cold edge container, measured from inside: imports the bundle (the function's INIT) and
// handles two requests. Prints one JSON line: wall and CPU (user + system, process.cpuUsage)
// of each phase in milliseconds, the RSS after the first response, and the signing key id.
//
//   node cold-child.mjs <bundle>/index.mjs
import { pathToFileURL } from 'node:url';

const event = () => ({
  Records: [{
    cf: {
      config: { distributionDomainName: 'd111111abcdef8.cloudfront.net', distributionId: 'EDFDVBD6EXAMPLE', eventType: 'origin-request', requestId: 'cold' },
      request: {
        clientIp: '203.0.113.178', method: 'GET', uri: '/api/v1/orders/12345', querystring: 'limit=50',
        headers: { host: [{ key: 'Host', value: 'd111111abcdef8.cloudfront.net' }], accept: [{ key: 'Accept', value: 'application/json' }] },
        origin: { custom: { customHeaders: {}, domainName: 'abc123defg.execute-api.us-east-1.amazonaws.com', path: '/prod', port: 443, protocol: 'https', keepaliveTimeout: 5, readTimeout: 30, sslProtocols: ['TLSv1.2'] } },
      },
    },
  }],
});
const cpuMs = (usage) => (usage.user + usage.system) / 1000;
const phase = async (work) => {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  const value = await work();
  return [value, performance.now() - wall, cpuMs(process.cpuUsage(cpu))];
};

console.log = () => {}; // the handler's own log lines are not measured output
// What any ESM handler finds already paid before its own code runs (Node's ESM loader and
// node:fs, as the Lambda runtime client loads them): not measured, as in edge.bench.mjs.
await import('./baseline.mjs');
const [mod, importWall, importCpu] = await phase(() => import(pathToFileURL(process.argv[2]).href));
const [first, firstWall, firstCpu] = await phase(() => mod.handler(event()));
const rssMb = process.memoryUsage().rss / 2 ** 20;
const [, secondWall, secondCpu] = await phase(() => mod.handler(event()));
const keyId = /;k=([^;]+);/.exec(first.headers?.['x-originsig']?.[0]?.value ?? '')?.[1] ?? null;
process.stdout.write(`${JSON.stringify({ importWall, importCpu, firstWall, firstCpu, secondWall, secondCpu, rssMb, keyId })}\n`);
process.exit(0); // the kept-alive connection would hold the process open
