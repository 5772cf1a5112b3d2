// The tape the core writes results as (src/model_tape.rs) reads back in JS as exactly the objects
// JSON.parse made of serde_json's text for the same value, field order included: 5,000 random
// tokens (every optional field present and absent, every escape class, non-ASCII, astral and
// prototype-named text), lists, pages, nothing, and every provider's documented reply. The corpus
// comes from the Rust side, so a field added to the model is covered by both halves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root, cargoOnPath } from '../scripts/lib.mjs';
import { readTape } from '../pkg/tape.js';

let dir;
let corpus;

before(() => {
  cargoOnPath();
  dir = mkdtempSync(path.join(tmpdir(), 'paytokens-tape-'));
  const file = path.join(dir, 'corpus.json');
  const r = spawnSync('cargo', ['test', '--lib', '--quiet', 'model_tape::tests::write_corpus_for_the_js_reader', '--', '--ignored', '--exact'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, PAYTOKENS_TAPE_CORPUS: file },
  });
  assert.equal(r.status, 0, `the Rust side could not write the corpus:\n${r.stdout}\n${r.stderr}`);
  corpus = JSON.parse(readFileSync(file, 'utf8'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('every result in the corpus reads back as JSON.parse reads serde_json text', () => {
  assert.ok(corpus.length > 5000, `corpus of ${corpus.length}`);
  let tokens = 0;
  for (const [i, { json, text, numbers }] of corpus.entries()) {
    const expected = JSON.parse(json);
    const read = readTape([text, Uint32Array.from(numbers)]);
    assert.deepStrictEqual(read, expected === null ? undefined : expected, `entry ${i}`);
    // Same field order, so the same text when printed.
    assert.equal(JSON.stringify(read), expected === null ? undefined : JSON.stringify(expected), `entry ${i}`);
    tokens += Array.isArray(expected) ? expected.length : expected?.tokens ? expected.tokens.length : 1;
  }
  assert.ok(tokens > 5050, `${tokens} tokens`);
});

test('a "__proto__" metadata key stays data, as JSON.parse leaves it', () => {
  const withKey = corpus.map(({ text, numbers }) => readTape([text, Uint32Array.from(numbers)])).find((t) => t?.metadata && Object.hasOwn(t.metadata, '__proto__'));
  assert.ok(withKey, 'the corpus has a metadata key "__proto__"');
  assert.equal(Object.getPrototypeOf(withKey.metadata), Object.prototype);
  assert.equal(typeof withKey.metadata.__proto__, 'string');
});
