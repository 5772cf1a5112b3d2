// The SDK's own CPU per call, without a network: listTokens against an in-memory `fetch`, next to
// the hand-written path on the same fetch. Not part of `npm run bench` (it has no target); it
// separates client CPU from loopback noise when reading the per-call figures.
import { readFileSync } from 'node:fs';
import { createClient } from 'paytokens';
import * as hand from './handwritten.mjs';

const body = readFileSync(new URL('../tests/fixtures/pinelabs/list_doc_example.json', import.meta.url), 'utf8');
const tokenBody = JSON.stringify({ access_token: 'x'.repeat(40), expires_at: '2099-01-01T00:00:00Z' });
const reply = (text) => new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
const memoryFetch = async (url) => reply(url.endsWith('/auth/v1/token') ? tokenBody : body);
const client = createClient({ provider: 'pinelabs', clientId: 'a', clientSecret: 'b', baseUrl: 'https://x.example/api', fetch: memoryFetch });
const raw = async () => hand.pinelabs(await (await memoryFetch('https://x.example/api/v1/customer/c/tokens')).text());
const sdk = () => client.listTokens({ customerId: 'c' });
const N = 1000;

async function perCall(fn) {
  const t = performance.now();
  for (let i = 0; i < N; i++) await fn();
  return ((performance.now() - t) / N) * 1000;
}

for (let round = 0; round < 6; round++) {
  const [r, s] = [await perCall(raw), await perCall(sdk)];
  if (round >= 2) console.log(`raw ${r.toFixed(1)} µs, sdk ${s.toFixed(1)} µs per call: the SDK adds ${(s - r).toFixed(1)} µs`);
}
