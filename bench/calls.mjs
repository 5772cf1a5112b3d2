// Per-call overhead and concurrency over loopback: the SDK's listTokens against raw fetch +
// JSON.parse + the hand-written normalizer, same sandbox, same customer, same process.
// Two steps in between are measured in the same rounds, to show where the SDK's time goes: raw
// fetch with the SDK's request options, and the SDK's own JS transport (js/fetch.js: abort timer,
// no redirects, body as bytes) feeding the hand-written normalizer, without the wasm core.
import { createClient } from 'paytokens';
import { sendAttempt } from '../js/fetch.js';
import { startSandboxProcess } from './sandbox-process.mjs';
import * as hand from './handwritten.mjs';
import { median } from './stats.mjs';

const CUSTOMER = 'cust-v1-0811030624-aa-RBDgpR';
const ROUNDS = Number(process.env.ROUNDS || 5);
export const N = Number(process.env.CALLS || 1000);

async function setup() {
  const sandbox = await startSandboxProcess();
  const base = sandbox.baseUrls.pinelabs;
  const client = createClient({ provider: 'pinelabs', ...sandbox.credentials.pinelabs, baseUrl: base });
  await client.listTokens({ customerId: CUSTOMER }); // access token cached, as in steady state
  const tokenReply = await fetch(`${base}/auth/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: sandbox.credentials.pinelabs.clientId, client_secret: sandbox.credentials.pinelabs.clientSecret, grant_type: 'client_credentials' }),
  });
  const { access_token: accessToken } = await tokenReply.json();
  const url = `${base}/v1/customer/${encodeURIComponent(CUSTOMER)}/tokens`;
  const raw = async () => {
    const resp = await fetch(url, { headers: { authorization: `Bearer ${accessToken}` } });
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    return hand.pinelabs(await resp.text());
  };
  const sdk = () => client.listTokens({ customerId: CUSTOMER });
  // The request the SDK sends (headers, options, a fresh request id each time), read as it does.
  let sequence = 0;
  const requestId = () => `00dff688-3ff6-425f-ba7f-${String(++sequence).padStart(12, '0')}`;
  const decoder = new TextDecoder();
  const options = async () => {
    const init = { method: 'GET', headers: { Authorization: `Bearer ${accessToken}`, 'Request-ID': requestId() }, cache: 'no-store', redirect: 'manual' };
    const resp = await fetch(url, init);
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    return hand.pinelabs(decoder.decode(await resp.arrayBuffer()));
  };
  // As src/http.rs READ_HEADERS, which JS cannot import.
  const readHeaders = ['retry-after', 'date', 'request-id', 'x-request-id'];
  const transport = async () => {
    const reply = await sendAttempt(fetch, url, 'GET', ['Authorization', `Bearer ${accessToken}`, 'Request-ID', requestId()], undefined, 30000, readHeaders);
    if (!Array.isArray(reply) || reply[0] !== 200) throw new Error(`attempt failed: ${reply.kind ?? reply[0]}`);
    return hand.pinelabs(decoder.decode(reply[reply.length - 1]));
  };
  return { sandbox, variants: { raw, options, transport, sdk } };
}

async function sequential(fn) {
  const t = performance.now();
  for (let i = 0; i < N; i++) await fn();
  return performance.now() - t;
}

async function concurrent(fn) {
  const t = performance.now();
  const results = await Promise.allSettled(Array.from({ length: N }, fn));
  const failed = results.filter((r) => r.status === 'rejected').length;
  return { ms: performance.now() - t, failed };
}

/** What each variant costs, for the table of steps: per call (sequential) and per batch. */
export const STEPS = [
  ['raw', 'raw fetch + JSON.parse + hand-written (the baseline)'],
  ['options', "+ the SDK's request: its headers (a request id), cache: 'no-store', redirect: 'manual', body read as bytes"],
  ['transport', "+ the SDK's JS transport (js/fetch.js): an abort signal and timer per attempt, the one promise that settles it"],
  ['sdk', '+ the wasm core: listTokens (auth, retry policy, parsing, the result as a tape) and pkg/api.js with pkg/tape.js'],
];

export async function run() {
  const { sandbox, variants } = await setup();
  try {
    const seq = {};
    const conc = {};
    let failed = 0;
    for (const fn of Object.values(variants)) await sequential(fn);
    for (let r = 0; r < ROUNDS; r++) {
      // Reverse the order every other round so no variant always runs on a warmer server.
      const order = Object.entries(variants);
      if (r % 2) order.reverse();
      for (const [name, fn] of order) (seq[name] ??= []).push(await sequential(fn));
      for (const [name, fn] of order) {
        // An unmeasured batch first: the first batch after the sequential calls opens the
        // connections the later ones reuse, and whichever variant ran first paid for them (the
        // raw baseline in three rounds of five, which once made it take 768 ms against 369 ms
        // for the same code with the SDK's request options).
        const warm = await concurrent(fn);
        const batch = await concurrent(fn);
        (conc[name] ??= []).push(batch.ms);
        if (name === 'sdk' || name === 'raw') failed += warm.failed + batch.failed;
        else if (warm.failed + batch.failed) throw new Error(`the ${name} variant failed ${warm.failed + batch.failed} calls`);
      }
    }
    const perCall = (name) => median(seq[name]) / N;
    const batch = (name) => median(conc[name]);
    const s = perCall('sdk');
    const b = perCall('raw');
    const cs = batch('sdk');
    const cb = batch('raw');
    return {
      rows: [
        { name: `Per-call overhead: ${N} sequential listTokens over loopback (per call)`, sdkMs: s, baselineMs: b, ratio: s / b, target: '≤ 1.10×', met: s / b <= 1.1 },
        { name: `Concurrency: ${N} concurrent listTokens (whole batch)`, sdkMs: cs, baselineMs: cb, ratio: cs / cb, target: `≤ 1.10×, no errors (errors: ${failed})`, met: cs / cb <= 1.1 && failed === 0 },
      ],
      steps: STEPS.map(([name, what]) => ({ name, what, perCallMs: perCall(name), perCallRatio: perCall(name) / b, batchMs: batch(name), batchRatio: batch(name) / cb })),
    };
  } finally {
    await sandbox.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { rows, steps } = await run();
  for (const r of rows) console.log(`${r.name}: sdk ${r.sdkMs.toFixed(3)} ms, raw ${r.baselineMs.toFixed(3)} ms, ratio ${r.ratio.toFixed(3)} ${r.met ? 'MET' : 'MISSED'}`);
  for (const st of steps) console.log(`${st.name.padEnd(10)} ${(st.perCallMs * 1000).toFixed(0)} µs/call (${st.perCallRatio.toFixed(2)}×), batch ${st.batchMs.toFixed(0)} ms (${st.batchRatio.toFixed(2)}×)`);
}
