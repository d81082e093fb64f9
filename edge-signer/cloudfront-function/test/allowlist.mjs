// An allow-list checker for CloudFront Functions code: refuses syntax, globals and methods that
// AWS does not document for runtime cloudfront-js-2.0 ("JavaScript runtime 2.0 features for
// CloudFront Functions", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-javascript-runtime-20.html;
// "General helper methods" for rawQueryString(); "Helper methods for key value stores" for
// cf.kvs().get()). Node runs much more than the runtime does, and njs somewhat more, so the
// tests passing under both proves nothing about what CloudFront will accept: this does.
//
// Method calls are checked by name only (the receiver's type is unknown without a type
// checker): a name must be documented for some built-in the runtime has. That is looser than
// the runtime for a documented name on the wrong type, and exact for every undocumented name.
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';

// Syntax: ES 5.1 plus const/let, async/await (async function declarations only: "async
// arguments and closures are not supported"), template literals, arrow functions, rest
// parameters, `**`, ES modules for `import cf from 'cloudfront'`.
const NODE_TYPES = new Set([
  'Program', 'ImportDeclaration', 'ImportDefaultSpecifier', 'VariableDeclaration', 'VariableDeclarator',
  'FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'BlockStatement', 'ExpressionStatement',
  'ReturnStatement', 'IfStatement', 'ForStatement', 'ForInStatement', 'WhileStatement', 'DoWhileStatement',
  'BreakStatement', 'ContinueStatement', 'LabeledStatement', 'SwitchStatement', 'SwitchCase', 'TryStatement',
  'CatchClause', 'ThrowStatement', 'EmptyStatement', 'Identifier', 'Literal', 'MemberExpression', 'CallExpression',
  'NewExpression', 'BinaryExpression', 'LogicalExpression', 'UnaryExpression', 'UpdateExpression',
  'AssignmentExpression', 'ConditionalExpression', 'ObjectExpression', 'Property', 'ArrayExpression',
  'SequenceExpression', 'AwaitExpression', 'TemplateLiteral', 'TemplateElement', 'ThisExpression', 'RestElement',
]);
const LOGICAL = new Set(['&&', '||']); // no `??` (ES 2020)
const ASSIGNMENT = new Set(['=', '+=', '-=', '*=', '/=', '%=', '<<=', '>>=', '>>>=', '&=', '|=', '^=', '**=']);

// Globals the page lists (ES 5.1 globals, built-in objects, error types, modules).
const GLOBALS = new Set([
  'Object', 'String', 'Number', 'Boolean', 'Math', 'Date', 'Function', 'RegExp', 'JSON', 'Array', 'ArrayBuffer',
  'DataView', 'Promise', 'Symbol', 'TextDecoder', 'TextEncoder', 'console', 'Buffer', 'require', 'globalThis',
  'Float32Array', 'Float64Array', 'Int8Array', 'Int16Array', 'Int32Array', 'Uint8Array', 'Uint8ClampedArray',
  'Uint16Array', 'Uint32Array', 'Error', 'EvalError', 'InternalError', 'RangeError', 'ReferenceError', 'SyntaxError',
  'TypeError', 'URIError', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'isFinite', 'isNaN',
  'parseFloat', 'parseInt', 'atob', 'btoa', 'NaN', 'Infinity', 'undefined', 'arguments',
]);
const STATIC = {
  Object: ['create', 'defineProperties', 'defineProperty', 'freeze', 'getOwnPropertyDescriptor', 'getOwnPropertyDescriptors',
    'getOwnPropertyNames', 'getPrototypeOf', 'isExtensible', 'isFrozen', 'isSealed', 'keys', 'preventExtensions', 'seal',
    'assign', 'entries', 'values', 'prototype'],
  String: ['fromCharCode', 'fromCodePoint'],
  Number: ['EPSILON', 'MAX_SAFE_INTEGER', 'MIN_SAFE_INTEGER', 'MAX_VALUE', 'MIN_VALUE', 'NaN', 'NEGATIVE_INFINITY',
    'POSITIVE_INFINITY', 'isFinite', 'isInteger', 'isNaN', 'isSafeInteger', 'parseInt', 'parseFloat'],
  Math: ['E', 'LN10', 'LN2', 'LOG10E', 'LOG2E', 'PI', 'SQRT1_2', 'SQRT2', 'abs', 'acos', 'acosh', 'asin', 'asinh', 'atan',
    'atan2', 'atanh', 'cbrt', 'ceil', 'clz32', 'cos', 'cosh', 'exp', 'expm1', 'floor', 'fround', 'hypot', 'imul', 'log',
    'log1p', 'log2', 'log10', 'max', 'min', 'pow', 'random', 'round', 'sign', 'sinh', 'sin', 'sqrt', 'tan', 'tanh', 'trunc'],
  Date: ['now', 'parse', 'UTC'],
  JSON: ['parse', 'stringify'],
  Array: ['isArray', 'of'],
  Promise: ['all', 'allSettled', 'any', 'reject', 'resolve', 'race'],
  Symbol: ['for', 'keyFor'],
  ArrayBuffer: ['isView'],
  Buffer: ['alloc', 'allocUnsafe', 'byteLength', 'compare', 'concat', 'from', 'isBuffer', 'isEncoding'],
  console: ['log'],
};
// Instance methods and properties documented for some built-in (String, Number, Array, typed
// arrays, RegExp, Promise, Buffer, TextEncoder/Decoder, crypto, the KVS handle, the event).
const METHODS = new Set([
  // String
  'charAt', 'concat', 'indexOf', 'lastIndexOf', 'match', 'replace', 'search', 'slice', 'split', 'substr', 'substring',
  'toLowerCase', 'trim', 'toUpperCase', 'codePointAt', 'endsWith', 'includes', 'repeat', 'startsWith', 'padStart',
  'padEnd', 'trimStart', 'trimEnd', 'replaceAll', 'length',
  // Number, Object, Function
  'toExponential', 'toFixed', 'toPrecision', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toString',
  'valueOf', 'apply', 'bind', 'call',
  // RegExp
  'exec', 'test', 'global', 'ignoreCase', 'multiline', 'source', 'sticky', 'flags', 'lastIndex',
  // Array and typed arrays
  'every', 'filter', 'forEach', 'join', 'map', 'pop', 'push', 'reduce', 'reduceRight', 'reverse', 'shift', 'some',
  'sort', 'splice', 'unshift', 'copyWithin', 'fill', 'find', 'findIndex', 'set', 'subarray',
  // Promise
  'catch', 'finally', 'then',
  // Buffer
  'compare', 'copy', 'equals', 'readUInt8', 'buffer', 'byteOffset', 'write',
  // TextEncoder / TextDecoder
  'encode', 'encodeInto', 'decode', 'encoding', 'fatal', 'ignoreBOM',
  // crypto (require('crypto')) and its hash/HMAC objects
  'createHash', 'createHmac', 'update', 'digest',
  // the cloudfront module (import cf from 'cloudfront'): cf.kvs(), handle.get/exists/meta, edgeLocation
  'kvs', 'get', 'exists', 'meta', 'edgeLocation',
  // the viewer-request event
  'request', 'response', 'context', 'viewer', 'method', 'uri', 'querystring', 'headers', 'cookies', 'value',
  'multiValue', 'rawQueryString', 'statusCode', 'statusDescription',
]);
const MODULES = { import: new Set(['cloudfront']), require: new Set(['crypto', 'querystring']) };

/** Problems with `code` as a runtime-2.0 CloudFront Function (empty when none): "line N: what". */
export function runtimeProblems(code) {
  let ast;
  try {
    ast = acorn.parse(code, { ecmaVersion: 2022, sourceType: 'module', locations: true });
  } catch (error) {
    return [`does not parse: ${error.message}`];
  }
  const problems = [];
  const at = (node, what) => problems.push(`line ${node.loc.start.line}: ${what}`);
  const declared = new Set();
  walk.full(ast, (node) => {
    if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier') declared.add(node.id.name);
    if (/Function/.test(node.type)) {
      if (node.id) declared.add(node.id.name);
      for (const p of node.params) declared.add(p.type === 'RestElement' ? p.argument.name : p.name);
    }
    if (node.type === 'CatchClause' && node.param) declared.add(node.param.name);
    if (node.type === 'ImportDefaultSpecifier') declared.add(node.local.name);
  });
  // Identifiers that are names, not references: property keys and non-computed members.
  const names = new Set();
  // Method calls are checked by name; reading a data property (CONFIG.host, value.kid) is not.
  const callees = new Set();
  walk.full(ast, (node) => {
    if (node.type === 'CallExpression') callees.add(node.callee);
  });
  walk.full(ast, (node) => {
    if (!NODE_TYPES.has(node.type)) at(node, `${node.type} is not in the documented runtime-2.0 syntax`);
    if (node.type === 'MemberExpression' && !node.computed) names.add(node.property);
    if (node.type === 'Property') {
      if (!node.computed) names.add(node.key);
      if (node.shorthand || node.method || node.kind !== 'init') at(node, 'shorthand, method and accessor properties are not documented');
    }
    if (node.type === 'MemberExpression' && node.optional) at(node, 'optional chaining is not documented');
    if (node.type === 'CallExpression' && node.optional) at(node, 'optional calls are not documented');
    if (node.type === 'LogicalExpression' && !LOGICAL.has(node.operator)) at(node, `${node.operator} is not documented`);
    if (node.type === 'AssignmentExpression' && !ASSIGNMENT.has(node.operator)) at(node, `${node.operator} is not documented`);
    if (/Function/.test(node.type)) {
      if (node.generator) at(node, 'generators are not documented');
      if (node.async && node.type !== 'FunctionDeclaration') at(node, 'async closures are not supported');
      for (const p of node.params) if (p.type !== 'Identifier' && p.type !== 'RestElement') at(p, 'default and destructured parameters are not documented');
    }
    if (node.type === 'VariableDeclarator' && node.id.type !== 'Identifier') at(node, 'destructuring is not documented');
    if (node.type === 'Literal' && node.regex && /[^gimy]/.test(node.regex.flags)) at(node, `regular expression flags ${node.regex.flags}`);
    if (node.type === 'Literal' && typeof node.value === 'bigint') at(node, 'BigInt is not documented');
    if (node.type === 'ImportDeclaration' && !MODULES.import.has(node.source.value)) at(node, `import from ${node.source.value}`);
    if (node.type === 'CallExpression' && node.callee.type === 'Identifier') {
      const name = node.callee.name;
      if (name === 'require' && !(node.arguments.length === 1 && MODULES.require.has(node.arguments[0].value))) at(node, 'require of an undocumented module');
      if (name === 'eval') at(node, 'eval is not supported');
    }
    if (node.type === 'CallExpression' && node.callee.type === 'MemberExpression' && node.callee.object.name === 'console' && node.arguments.length !== 1) {
      at(node, 'console.log takes one argument (comma syntax is not supported)');
    }
    if (node.type === 'NewExpression' && node.callee.name === 'Function') at(node, 'Function constructors are not supported');
    if (node.type === 'MemberExpression' && !node.computed) {
      const object = node.object.type === 'Identifier' && !declared.has(node.object.name) ? node.object.name : null;
      const name = node.property.name;
      if (object && STATIC[object]) {
        if (!STATIC[object].includes(name)) at(node, `${object}.${name} is not documented`);
      } else if (callees.has(node) && !METHODS.has(name)) {
        at(node, `.${name}() is not a documented method`);
      }
    }
  });
  walk.full(ast, (node) => {
    if (node.type === 'Identifier' && !names.has(node) && !declared.has(node.name) && !GLOBALS.has(node.name)) {
      at(node, `${node.name} is not a documented global`);
    }
  });
  return problems;
}
