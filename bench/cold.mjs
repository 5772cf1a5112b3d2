// The wasm core's CPU per call with warm and with cold caches. Between two real calls the network
// stack, undici and the sandbox run and push the core's code and data out of the caches; here an
// in-memory `fetch` first walks N MB of other memory (one read and write per 64-byte line) to do
// the same. Not part of `npm run bench` (it has no target): it explains the per-call figures.
// node bench/cold.mjs [MB ...]   (default: 0 1 4)
import { readFileSync } from 'node:fs';
import { createClient } from 'paytokens';
import { sendAttempt } from '../js/fetch.js';
import * as hand from './handwritten.mjs';
import { median } from './stats.mjs';

const body = readFileSync(new URL('../tests/fixtures/pinelabs/list_doc_example.json', import.meta.url), 'utf8');
const tokenBody = JSON.stringify({ access_token: 'x'.repeat(40), expires_at: '2099-01-01T00:00:00Z' });
const reply = (text) => new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
const url = 'https://x.example/api/v1/customer/c/tokens';
const readHeaders = ['retry-after', 'date', 'request-id', 'x-request-id'];
const decoder = new TextDecoder();
const N = 1000;

async function measure(megabytes) {
  const other = new Uint32Array((megabytes * 1048576) / 4);
  const walk = () => {
    for (let i = 0; i < other.length; i += 16) other[i]++;
  };
  const memoryFetch = async (u) => {
    walk();
    return reply(u.endsWith('/auth/v1/token') ? tokenBody : body);
  };
  const client = createClient({ provider: 'pinelabs', clientId: 'a', clientSecret: 'b', baseUrl: 'https://x.example/api', fetch: memoryFetch });
  // The SDK's own JS transport feeding the hand-written normalizer: what the core is added to.
  const transport = async () => {
    const r = await sendAttempt(memoryFetch, url, 'GET', ['Authorization', 'Bearer x', 'Request-ID', 'x'], undefined, 30000, readHeaders);
    return hand.pinelabs(decoder.decode(r[r.length - 1]));
  };
  const sdk = () => client.listTokens({ customerId: 'c' });
  const cpuPerCall = async (fn) => {
    const start = process.cpuUsage();
    for (let i = 0; i < N; i++) await fn();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / N;
  };
  const samples = { transport: [], sdk: [] };
  for (let round = 0; round < 12; round++) {
    const t = await cpuPerCall(transport);
    const s = await cpuPerCall(sdk);
    if (round >= 2) samples.transport.push(t), samples.sdk.push(s);
  }
  const [t, s] = [median(samples.transport), median(samples.sdk)];
  console.log(`${String(megabytes).padStart(3)} MB walked between calls: the core adds ${(s - t).toFixed(1)} µs of CPU per call (transport ${t.toFixed(1)} µs, SDK ${s.toFixed(1)} µs)`);
}

const sizes = process.argv.slice(2).map(Number);
for (const megabytes of sizes.length ? sizes : [0, 1, 4]) await measure(megabytes);
