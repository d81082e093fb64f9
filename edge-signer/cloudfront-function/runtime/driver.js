// Test driver appended (by run.mjs) to the built function, so that njs and Node run the
// function's exact text. argv[2] names a JSON file: a list of cases
//   {method, uri, rawQuery (string, or null for no '?'), headers: {name: {value}}, nowMs,
//    kvs: {key: value text}, noRawQueryString (optional: an event without the helper),
//    repeat (optional, benchmark: run it that many times)}
// Each runs through `handler` with Date.now fixed at nowMs (CloudFront fixes it at the start of
// the function); one JSON line per case, {result, logs}, is written to <argv[2]>.out (njs's
// console.log cuts long output). Written for njs 0.7 too: index loops, named functions.
const __fs = require('fs');
const __cases = JSON.parse(__fs.readFileSync(process.argv[2]));
const __log = console.log;
async function __runAll() {
  const lines = [];
  for (let i = 0; i < __cases.length; i++) {
    const c = __cases[i];
    const logs = [];
    globalThis.__kvs = c.kvs;
    Date.now = function () { return c.nowMs; };
    console.log = function (line) { logs.push(line); };
    let result;
    // `repeat` (benchmark): the same request that many times, each a fresh event; the last result.
    const times = c.repeat || 1;
    for (let r = 0; r < times; r++) {
      const request = { method: c.method, uri: c.uri, querystring: {}, headers: Object.assign({}, c.headers || {}), cookies: {} };
      if (!c.noRawQueryString) request.rawQueryString = function () { return c.rawQuery === null ? undefined : c.rawQuery; };
      try {
        result = await handler({ version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '192.0.2.1' }, request: request });
      } catch (e) {
        result = { thrown: String(e) };
      }
    }
    console.log = __log;
    lines.push(JSON.stringify({ result: result, logs: logs }));
  }
  __fs.writeFileSync(process.argv[2] + '.out', lines.join('\n') + '\n');
}
__runAll();
