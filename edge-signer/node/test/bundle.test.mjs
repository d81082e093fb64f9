// bundle.py replaces its --out folder as a whole: it must refuse any folder that is not new,
// empty or a previous bundle, and leave such a folder untouched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { ROOT, TESTDATA } from './helpers.mjs';

const bundlePy = (out) => spawnSync('python3', [join(ROOT, 'edge-signer', 'bundle.py'), '--no-build', '--key-file', `${TESTDATA}/keyring.json`, '--out', out], { encoding: 'utf8' });

test('--out: new, empty and previous-bundle folders are (re)built; anything else is refused untouched', () => {
  const base = mkdtempSync(join(tmpdir(), 'originsig-bundle-'));
  try {
    const fresh = join(base, 'new');
    assert.equal(bundlePy(fresh).status, 0);
    assert.ok(existsSync(join(fresh, 'index.mjs')));
    assert.equal(bundlePy(fresh).status, 0, 'a previous bundle is replaced');
    const empty = join(base, 'empty');
    mkdirSync(empty);
    assert.equal(bundlePy(empty).status, 0);

    const mine = join(base, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'keep me');
    const refused = bundlePy(mine);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /not empty and not a previous edge bundle \(notes\.txt\)/);
    assert.equal(readFileSync(join(mine, 'notes.txt'), 'utf8'), 'keep me');

    // A bundle with something of the user's added is not a bundle any more.
    writeFileSync(join(fresh, 'extra.js'), '');
    assert.notEqual(bundlePy(fresh).status, 0);
    assert.ok(existsSync(join(fresh, 'extra.js')));

    // The repository root (`--out .` from there) is refused, and nothing in it is touched.
    const root = bundlePy(ROOT);
    assert.notEqual(root.status, 0);
    assert.ok(existsSync(join(ROOT, 'Cargo.toml')));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
