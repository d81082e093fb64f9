// The WebAssembly signer (Rust: edge-signer/src/abi.rs) behind two plain functions.
// No dependencies; shipped in the Lambda@Edge bundle next to index.mjs and the .wasm.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Compiles and instantiates the module synchronously (done once per container, at load). */
export function loadSigner(wasmBytes) {
  const { exports: wasm } = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes), {});

  // Writes `fields` as one message (u32 LE length + UTF-8 bytes each) into the module's input
  // buffer, calls `fn`, and returns [status, outputFields].
  function call(fn, fields, ...args) {
    let capacity = 0;
    for (const field of fields) capacity += 4 + field.length * 3; // UTF-8 needs ≤ 3 bytes per UTF-16 unit
    const start = wasm.input_buffer(capacity);
    const bytes = new Uint8Array(wasm.memory.buffer);
    const view = new DataView(wasm.memory.buffer);
    let at = start;
    for (const field of fields) {
      const { written } = encoder.encodeInto(field, bytes.subarray(at + 4, start + capacity));
      view.setUint32(at, written, true);
      at += 4 + written;
    }
    const status = wasm[fn](at - start, ...args);
    return [status, readFields(wasm.memory.buffer, wasm.output_ptr(), wasm.output_len())];
  }

  return {
    /**
     * Loads the signing key from a parsed secret value
     * ({format: "originsig-key-v1", kid, key}). Returns the key id; throws on a bad key
     * (the message never contains key material).
     */
    loadKey(secret) {
      const fields = [str(secret?.format), str(secret?.kid), str(secret?.key)];
      const [status, out] = call('load_key', fields);
      if (status !== 0) throw new SignerError(out[0], out[1]);
      return out[0];
    },

    /**
     * Plans the signing of a CloudFront origin request at `nowSeconds`:
     * {signature, host, removeHeaders}. Throws SignerError with a stable `code`.
     */
    plan(request, nowSeconds) {
      const custom = request.origin?.custom;
      const kind = custom ? 'custom' : request.origin?.s3 ? 's3' : '';
      const fields = [
        str(request.method), str(request.uri), str(request.querystring),
        kind, str(custom?.domainName), str(custom?.path),
        ...Object.keys(request.headers ?? {}),
      ];
      const [status, out] = call('sign', fields, nowSeconds);
      if (status !== 0) throw new SignerError(out[0], out[1]);
      return { signature: out[0], host: out[1], removeHeaders: out.slice(2) };
    },
  };
}

/** A refusal from the signer: `code` is stable (unsignable, not_custom_origin, bad_event, no_key, bad_key). */
export class SignerError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'SignerError';
    this.code = code;
  }
}

function str(value) {
  return typeof value === 'string' ? value : '';
}

function readFields(buffer, pointer, length) {
  const view = new DataView(buffer, pointer, length);
  const fields = [];
  let at = 0;
  while (at + 4 <= length) {
    const size = view.getUint32(at, true);
    fields.push(decoder.decode(new Uint8Array(buffer, pointer + at + 4, size)));
    at += 4 + size;
  }
  return fields;
}
