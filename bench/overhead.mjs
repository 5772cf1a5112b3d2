// The SDK's own CPU per call, without a network: listTokens against an in-memory `fetch`, next to
// the hand-written path on the same fetch. Not part of `npm run bench` (it has no target); it
// separates client CPU from loopback noise when reading the per-call figures. Then the same as
// batches of 1,000 concurrent calls, with the reply a macrotask later, as from a socket; the
// SDK's JS transport (js/fetch.js) feeding the hand-written normalizer is measured there too, so
// that the wasm core's share of a batch shows apart from the transport's.
import { readFileSync } from 'node:fs';
import { createClient } from 'paytokens';
import { sendAttempt } from '../js/fetch.js';
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

const later = () => new Promise((resolve) => setImmediate(resolve));
const socketFetch = async (url) => {
  await later();
  return memoryFetch(url);
};
const batchClient = createClient({ provider: 'pinelabs', clientId: 'a', clientSecret: 'b', baseUrl: 'https://x.example/api', fetch: socketFetch });
const url = 'https://x.example/api/v1/customer/c/tokens';
const decoder = new TextDecoder();
// As src/http.rs READ_HEADERS, which JS cannot import.
const readHeaders = ['retry-after', 'date', 'request-id', 'x-request-id'];
const batchVariants = {
  raw: async () => hand.pinelabs(await (await socketFetch(url)).text()),
  transport: async () => {
    const reply = await sendAttempt(socketFetch, url, 'GET', ['Authorization', 'Bearer x', 'Request-ID', 'r'], undefined, 30000, readHeaders);
    return hand.pinelabs(decoder.decode(reply[reply.length - 1]));
  },
  sdk: () => batchClient.listTokens({ customerId: 'c' }),
};

async function batch(fn) {
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: N }, fn));
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000;
}

const cpuMs = {};
for (let round = 0; round < 12; round++) {
  for (const [name, fn] of Object.entries(batchVariants)) {
    const ms = await batch(fn);
    if (round >= 2) (cpuMs[name] ??= []).push(ms);
  }
}
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const [rawCpu, transportCpu, sdkCpu] = ['raw', 'transport', 'sdk'].map((k) => median(cpuMs[k]));
console.log(`${N} concurrent, CPU per batch: raw ${rawCpu.toFixed(1)} ms, JS transport ${transportCpu.toFixed(1)} ms, sdk ${sdkCpu.toFixed(1)} ms: the wasm core with its glue, pkg/api.js and pkg/tape.js adds ${(sdkCpu - transportCpu).toFixed(1)} ms to the transport`);
