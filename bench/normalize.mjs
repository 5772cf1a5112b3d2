// Normalization throughput: reply bytes → Token[] in JS, the SDK's wasm core against a
// hand-written JS normalizer, in one process. The SDK's boundary is the one its client uses: reply
// bytes in, a tape out that pkg/tape.js reads. The variants measured against it (JSON text out +
// JSON.parse, objects built through serde-wasm-bindgen, text in) are in analysis.md.
import 'paytokens';
import { normalizeTokenList } from '../pkg/wasm/paytokens.js';
import { readTape } from '../pkg/tape.js';
import * as hand from './handwritten.mjs';
import { pinelabsList, chargeoverPage, alliancepayList } from './fixtures.mjs';
import { median } from './stats.mjs';

const ROUNDS = Number(process.env.ROUNDS || 15);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const cases = [
  { name: 'Pine Labs 1,000-token list', provider: 'pinelabs', body: encoder.encode(pinelabsList(1000)), hand: hand.pinelabs, reps: 20 },
  { name: 'ChargeOver 500-row page', provider: 'chargeover', body: encoder.encode(chargeoverPage(500)), hand: hand.chargeover, reps: 40 },
  { name: 'AlliancePay 100-token reply', provider: 'alliancepay', body: encoder.encode(alliancepayList(100)), hand: hand.alliancepay, reps: 200 },
];

// The two sides take turns, round by round and in alternating order, so that the machine speeding
// up or slowing down (this 2-core machine moves by several percent between seconds) falls on both.
function race(a, b, reps) {
  a();
  b();
  const samples = [[], []];
  const once = (fn, into) => {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    into.push((performance.now() - t) / reps);
  };
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      once(a, samples[0]);
      once(b, samples[1]);
    } else {
      once(b, samples[1]);
      once(a, samples[0]);
    }
  }
  return samples.map(median);
}

export function run() {
  const results = [];
  for (const c of cases) {
    // Both sides start from the same bytes, as a fetch Response gives them.
    const [handMs, sdkMs] = race(() => c.hand(decoder.decode(c.body)), () => readTape(normalizeTokenList(c.provider, c.body)), c.reps);
    results.push({
      name: `Normalize ${c.name}`,
      sdkMs,
      baselineMs: handMs,
      ratio: handMs / sdkMs,
      target: 'speed ratio ≥ 1.0 (hand-written ms / SDK ms)',
      met: handMs / sdkMs >= 1.0,
      detail: `bytes in, tape out ${sdkMs.toFixed(3)} ms, hand-written ${handMs.toFixed(3)} ms`,
    });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of run()) console.log(`${r.name}: ${r.detail} → ratio ${r.ratio.toFixed(2)} ${r.met ? 'MET' : 'MISSED'}`);
}
