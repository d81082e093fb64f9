// The node:crypto benchmark peer implements the same protocol: it reproduces every vector.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createPeerSigner } from '../bench/peer-node-crypto.mjs';
import { KEYRING, OUTSIDER, vectors } from './helpers.mjs';

test('the node:crypto peer signs every vector as the Rust core does', () => {
  const keys = { ...KEYRING, outsider: OUTSIDER };
  let count = 0;
  for (const v of vectors()) {
    if (!v.sign) continue;
    const peer = createPeerSigner(keys[v.signing_key], v.sign.api);
    const request = { method: v.sign.method, uri: v.sign.uri, querystring: v.sign.querystring, origin: { custom: { domainName: v.sign.origin_domain, path: v.sign.path_prefix } } };
    if (v.sign_error) {
      assert.throws(() => peer.sign(request, v.sign.at), (e) => e.message === v.sign_error, v.name);
      continue;
    }
    assert.equal(peer.sign(request, v.sign.at), v.header, v.name);
    count += 1;
  }
  assert.ok(count >= 25);
});
