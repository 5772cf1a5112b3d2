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

// As the glue hands the tape over: `wides` has a hole where a part has no wide text.
const tapeOf = ({ parts, numbers, wides }) => {
  const sparse = [];
  wides.forEach((wide, i) => {
    if (wide !== null) sparse[i] = wide;
  });
  return [parts, Uint32Array.from(numbers), sparse];
};

test('every result in the corpus reads back as JSON.parse reads serde_json text', () => {
  assert.ok(corpus.length > 5000, `corpus of ${corpus.length}`);
  let tokens = 0;
  for (const [i, entry] of corpus.entries()) {
    const { json } = entry;
    const expected = JSON.parse(json);
    const read = readTape(tapeOf(entry));
    assert.deepStrictEqual(read, expected === null ? undefined : expected, `entry ${i}`);
    // Same field order, so the same text when printed.
    assert.equal(JSON.stringify(read), expected === null ? undefined : JSON.stringify(expected), `entry ${i}`);
    tokens += Array.isArray(expected) ? expected.length : expected?.tokens ? expected.tokens.length : 1;
  }
  assert.ok(tokens > 5050, `${tokens} tokens`);
  // References, counted apart in entries that hold only one kind: metadata keys (the list of key
  // shapes, whose values are "t8:constructor" and the like) and shared values (the 700 tokens
  // whose merchant may be "m•").
  const references = (entry) => entry.numbers.filter((x) => x === 0xffffffff).length;
  const keys = corpus.filter(({ json }) => json.includes('"t8:constructor"'));
  assert.ok(keys.length === 2 && keys.every((e) => references(e) >= 5), `metadata keys read as references to an earlier token's: ${keys.map(references)}`);
  const values = corpus.filter(({ json }) => json.includes('"m•"'));
  assert.ok(values.length === 2 && values.every((e) => references(e) >= 1000), `shared values read as references to the last token's: ${values.map(references)}`);
  assert.ok(corpus.some(({ parts }) => parts.length > 3), 'a result whose text comes in several parts');
  assert.ok(corpus.some(({ wides }) => wides.length > 3 && wides.every((w) => w !== null)), 'non-ASCII text in every one of several parts');
  assert.ok(corpus.some(({ wides }) => wides.includes(null) && wides.some((w) => w !== null)), 'parts with and without non-ASCII text in one result');
  assert.ok(corpus.every(({ parts }) => parts.every((p) => !/[^\x00-\x7f]/.test(p))), 'non-ASCII strings cross in the wide text');
});

test('metadata keys named like Object.prototype members stay own data, as JSON.parse makes them', () => {
  const read = corpus.flatMap((entry) => [readTape(tapeOf(entry))].flat());
  for (const key of ['__proto__', 'constructor', 'toString']) {
    const token = read.find((t) => t?.metadata && Object.hasOwn(t.metadata, key));
    assert.ok(token, `the corpus has a metadata key ${key}`);
    assert.equal(Object.getPrototypeOf(token.metadata), Object.prototype);
    assert.equal(typeof token.metadata[key], 'string');
  }
});

test('with Object.prototype frozen (a hardened app), prototype-named keys still read', () => {
  // In a child process: freezing the prototype here would freeze it for every later test.
  const script = `
    Object.freeze(Object.prototype);
    const { readTape } = await import(${JSON.stringify(new URL('../pkg/tape.js', import.meta.url).href)});
    const { readFileSync } = await import('node:fs');
    const corpus = JSON.parse(readFileSync(0, 'utf8'));
    const read = corpus.map(({ parts, numbers, wides }) => readTape([parts, Uint32Array.from(numbers), wides]));
    console.log(JSON.stringify(read) === JSON.stringify(corpus.map(({ json }) => JSON.parse(json))));
  `;
  const withConstructor = corpus.filter(({ json }) => json.includes('"constructor":'));
  assert.ok(withConstructor.length > 0);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', input: JSON.stringify(withConstructor) });
  assert.equal(r.error, undefined);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.trim(), 'true');
});

test('text the glue decodes keeps a leading byte-order mark and astral characters in place', async () => {
  await import('paytokens');
  const { normalizeTokenList } = await import('../pkg/wasm/paytokens.js');
  const reply = { result: [{ token: '\ufeffa😀b', status: 'ACTIVE', customerId: '\ufeff𝔘', merchantId: 'm😀' }] };
  const [token] = readTape(normalizeTokenList('alliancepay', new TextEncoder().encode(JSON.stringify(reply))));
  assert.deepEqual([token.id, token.customerId, token.merchantId], ['\ufeffa😀b', '\ufeff𝔘', 'm😀']);
});

// In a child process with the collector exposed: 50 lists of 1,000 Pine Labs tokens (about
// 0.75 MB of tape text each), one string kept from each.
function heapGrownKeeping(keep, reply = 'pinelabsList(1000)') {
  const script = `
    await import('paytokens');
    const { normalizeTokenList } = await import(${JSON.stringify(new URL('../pkg/wasm/paytokens.js', import.meta.url).href)});
    const { pinelabsList } = await import(${JSON.stringify(new URL('../bench/fixtures.mjs', import.meta.url).href)});
    const body = new TextEncoder().encode(${reply});
    const kept = [];
    globalThis.gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 50; i++) kept.push(readTape(normalizeTokenList('pinelabs', body))[500]${keep});
    globalThis.gc();
    console.log(JSON.stringify({ grown: process.memoryUsage().heapUsed - before, kept: new Set(kept).size, sample: kept[0].slice(0, 8) }));
  `;
  const tape = JSON.stringify(new URL('../pkg/tape.js', import.meta.url).href);
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', `const { readTape } = await import(${tape});\n${script}`], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(r.stderr, '');
  const { grown, kept, sample } = JSON.parse(r.stdout);
  assert.equal(kept, 1);
  return { grown, sample };
}

test("a token kept from a long list keeps only its part of the list's text alive", () => {
  // Slices of one text per list kept 37 MB.
  const { grown } = heapGrownKeeping('.id');
  assert.ok(grown < 5e6, `heap grew ${(grown / 1e6).toFixed(1)} MB for 50 kept ids`);
});

test('so does a string beyond ASCII, which crosses in its part\'s wide text', () => {
  // Every token's OfferData (about 510 characters) starts with ₹, so each list's wide text is
  // about 0.5 MB: one wide text per list would keep 50 lists' worth of it.
  const { grown, sample } = heapGrownKeeping('.metadata.OfferData', "pinelabsList(1000).replaceAll('\"OfferData\":\"', '\"OfferData\":\"₹')");
  assert.ok(sample.startsWith('₹'), sample);
  assert.ok(grown < 5e6, `heap grew ${(grown / 1e6).toFixed(1)} MB for 50 kept values`);
});

test('a result the reader cannot read still rejects with a PayTokensError, never a bare TypeError', async () => {
  const { createClient, PayTokensError } = await import('paytokens');
  const { WasmClient } = await import('../pkg/wasm/paytokens.js');
  const original = WasmClient.prototype.getToken;
  // Not something the core writes; stands in for a bug between the writer and the reader.
  WasmClient.prototype.getToken = () => Promise.resolve(null);
  try {
    const client = createClient({ provider: 'pinelabs', clientId: 'a', clientSecret: 'b', baseUrl: 'https://x.example/api', fetch: () => Promise.reject(new Error('not called')) });
    await assert.rejects(client.getToken({ tokenId: 't' }), (err) => err instanceof PayTokensError && err.code === 'PROVIDER_ERROR' && /^internal error/.test(err.message));
  } finally {
    WasmClient.prototype.getToken = original;
  }
});
