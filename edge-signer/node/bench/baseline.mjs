// Benchmark baseline for module load: what Node pays before any handler code of ours runs
// (starting the ESM loader, the node:fs built-in and the stdout stream, which the Lambda runtime
// client has all set up — it logs and patches console — before it imports a handler).
// edge.bench.mjs and cold-child.mjs import this first, then index.mjs.
import 'node:fs';

process.stdout.write('');
