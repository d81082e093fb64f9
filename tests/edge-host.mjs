// Hosts the real edge bundle for the local chain, the way a warm Lambda@Edge container does:
// the module is loaded once, then each event arrives as one JSON line on stdin and its result
// leaves as one JSON line on stdout. The handler's own logs go to stderr.
//
//   node tests/edge-host.mjs <bundle>/index.mjs
//   ORIGINSIG_EDGE_CLOCK_SKEW_SECS=-120  skews this edge's clock (fault tests)
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const write = (line) => process.stdout.write(`${line}\n`);
console.log = (...args) => process.stderr.write(`${args.join(' ')}\n`);
const skew = Number(process.env.ORIGINSIG_EDGE_CLOCK_SKEW_SECS ?? 0) * 1000;
if (skew) {
  const realNow = Date.now;
  Date.now = () => realNow() + skew;
}

const { handler } = await import(pathToFileURL(process.argv[2]).href);
write(JSON.stringify({ ready: true }));
for await (const line of createInterface({ input: process.stdin })) {
  const { id, event } = JSON.parse(line);
  handler(event).then(
    (result) => write(JSON.stringify({ id, result })),
    (error) => write(JSON.stringify({ id, error: String(error?.stack ?? error) })),
  );
}
