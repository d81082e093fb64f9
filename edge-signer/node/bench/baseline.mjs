// Benchmark baseline for module load: what Node pays before any handler code of ours runs
// (starting the ESM loader and the node:fs built-in, which the Lambda runtime client has
// loaded before it imports a handler). edge.bench.mjs imports this first, then index.mjs.
import 'node:fs';
