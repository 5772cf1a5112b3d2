// The normalization benchmark compares like with like: the hand-written normalizers it races
// against (bench/handwritten.mjs) give exactly the tokens the SDK gives for the same replies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import 'paytokens';
import { normalizeTokenList } from '../pkg/wasm/paytokens.js';
import { readTape } from '../pkg/tape.js';
import * as hand from '../bench/handwritten.mjs';
import { pinelabsList, chargeoverPage, alliancepayList } from '../bench/fixtures.mjs';

test("the benchmark's hand-written normalizers give the SDK's tokens", () => {
  const encoder = new TextEncoder();
  for (const [provider, body, normalize] of [
    ['pinelabs', pinelabsList(200), hand.pinelabs],
    ['chargeover', chargeoverPage(200), hand.chargeover],
    ['alliancepay', alliancepayList(200), hand.alliancepay],
  ]) {
    const sdk = readTape(normalizeTokenList(provider, encoder.encode(body)));
    // Through JSON, so that undefined fields drop out as they are absent from the SDK's tokens.
    const handWritten = JSON.parse(JSON.stringify(normalize(body)));
    assert.equal(sdk.length, 200, provider);
    assert.deepEqual(handWritten, sdk, provider);
  }
});
