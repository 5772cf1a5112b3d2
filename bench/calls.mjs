// Per-call overhead and concurrency over loopback: the SDK's listTokens against raw fetch +
// JSON.parse + the hand-written normalizer, same sandbox, same customer, same process.
import { createClient } from 'paytokens';
import { startSandboxProcess } from './sandbox-process.mjs';
import * as hand from './handwritten.mjs';
import { median } from './stats.mjs';

const CUSTOMER = 'cust-v1-0811030624-aa-RBDgpR';
const ROUNDS = Number(process.env.ROUNDS || 5);
const N = Number(process.env.CALLS || 1000);

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
  return { sandbox, raw, sdk };
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

export async function run() {
  const { sandbox, raw, sdk } = await setup();
  try {
    const seq = { sdk: [], raw: [] };
    const conc = { sdk: [], raw: [], failed: 0 };
    await sequential(raw);
    await sequential(sdk);
    for (let r = 0; r < ROUNDS; r++) {
      // Alternate the order so neither side always runs on a warmer server.
      const order = r % 2 ? [['raw', raw], ['sdk', sdk]] : [['sdk', sdk], ['raw', raw]];
      for (const [name, fn] of order) seq[name].push(await sequential(fn));
      for (const [name, fn] of order) {
        const { ms, failed } = await concurrent(fn);
        conc[name].push(ms);
        conc.failed += failed;
      }
    }
    const s = median(seq.sdk) / N;
    const b = median(seq.raw) / N;
    const cs = median(conc.sdk);
    const cb = median(conc.raw);
    return [
      { name: `Per-call overhead: ${N} sequential listTokens over loopback (per call)`, sdkMs: s, baselineMs: b, ratio: s / b, target: '≤ 1.10×', met: s / b <= 1.1 },
      { name: `Concurrency: ${N} concurrent listTokens (whole batch)`, sdkMs: cs, baselineMs: cb, ratio: cs / cb, target: `≤ 1.10×, no errors (errors: ${conc.failed})`, met: cs / cb <= 1.1 && conc.failed === 0 },
    ];
  } finally {
    await sandbox.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(`${r.name}: sdk ${r.sdkMs.toFixed(3)} ms, raw ${r.baselineMs.toFixed(3)} ms, ratio ${r.ratio.toFixed(3)} ${r.met ? 'MET' : 'MISSED'}`);
}
