// Where the client's CPU goes in the concurrency benchmark, by part: 18 batches of 1,000
// concurrent listTokens with the SDK and with the raw baseline, each in its own process under
// V8's sampling profiler (the whole process: import, sign-in and all batches), self time per call
// grouped by where the code lives. A diagnostic for bench/analysis.md, not part of `npm run bench`: the profiler slows both.
//   node bench/cpu-by-part.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const WARM = 3;
const BATCHES = 15;
const SIZE = 1000;
const CUSTOMER = 'cust-v1-0811030624-aa-RBDgpR';

async function child(which) {
  const { startSandboxProcess } = await import('./sandbox-process.mjs');
  const sandbox = await startSandboxProcess();
  try {
    const base = sandbox.baseUrls.pinelabs;
    let call;
    if (which === 'sdk') {
      const { createClient } = await import('paytokens');
      const client = createClient({ provider: 'pinelabs', ...sandbox.credentials.pinelabs, baseUrl: base });
      call = () => client.listTokens({ customerId: CUSTOMER });
    } else {
      const hand = await import('./handwritten.mjs');
      const { clientId, clientSecret } = sandbox.credentials.pinelabs;
      const reply = await fetch(`${base}/auth/v1/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: clientId, client_secret: clientSecret, grant_type: 'client_credentials' }),
      });
      const { access_token: accessToken } = await reply.json();
      const url = `${base}/v1/customer/${encodeURIComponent(CUSTOMER)}/tokens`;
      call = async () => {
        const resp = await fetch(url, { headers: { authorization: `Bearer ${accessToken}` } });
        if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
        return hand.pinelabs(await resp.text());
      };
    }
    for (let i = 0; i < WARM + BATCHES; i++) await Promise.all(Array.from({ length: SIZE }, call));
  } finally {
    await sandbox.close();
  }
}

// The part of the client a profile node belongs to, from its function and script.
function partOf({ functionName: fn, url }) {
  if (fn === '(idle)') return null;
  if (fn === '(garbage collector)') return 'garbage collection';
  if (url.includes('undici')) return "undici (Node's fetch), in JS";
  // Profiles name a wasm module by a hash: undici's HTTP parser is wasm too (the raw column).
  if (url.startsWith('wasm://')) return "wasm: the SDK core, and undici's HTTP parser";
  if (url.includes('/pkg/wasm/paytokens.js')) return 'wasm-bindgen glue';
  if (url.includes('/pkg/wasm/snippets/')) return "the SDK's transport (js/*.js)";
  if (url.includes('/pkg/')) return 'pkg/api.js, tape.js, options.js';
  if (url.includes('handwritten')) return 'the hand-written normalizer';
  if (/abort_controller|js_transferable|event_target/.test(url) || fn === 'JSTransferable') return 'AbortSignal and EventTarget';
  if (fn === 'writeLatin1String' || /node:net|stream|node:buffer/.test(url) || fn === 'close') return 'sockets and streams';
  if (fn === 'runMicrotasks' || url.includes('task_queues')) return 'microtasks, ticks';
  return 'other';
}

function profile(which) {
  const dir = mkdtempSync(path.join(tmpdir(), 'paytokens-cpu-'));
  try {
    const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, new URL(import.meta.url).pathname, '--child', which], { stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`the ${which} run failed`);
    const p = JSON.parse(readFileSync(path.join(dir, readdirSync(dir)[0]), 'utf8'));
    const time = new Map();
    p.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
    const parts = new Map();
    const calls = (WARM + BATCHES) * SIZE;
    for (const node of p.nodes) {
      const part = partOf(node.callFrame);
      if (part) parts.set(part, (parts.get(part) ?? 0) + (time.get(node.id) ?? 0) / calls);
    }
    return parts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]);
} else {
  const raw = profile('raw');
  const sdk = profile('sdk');
  const parts = [...new Set([...raw.keys(), ...sdk.keys()])];
  const gap = (k) => (sdk.get(k) ?? 0) - (raw.get(k) ?? 0);
  parts.sort((a, b) => gap(b) - gap(a));
  const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
  console.log('| part of the client | raw µs/call | SDK µs/call | SDK − raw |\n|---|---|---|---|');
  const fmt = (v) => v.toFixed(1);
  for (const k of parts) console.log(`| ${k} | ${fmt(raw.get(k) ?? 0)} | ${fmt(sdk.get(k) ?? 0)} | ${gap(k) >= 0 ? '+' : ''}${fmt(gap(k))} |`);
  console.log(`| all busy time | ${fmt(sum(raw))} | ${fmt(sum(sdk))} | +${fmt(sum(sdk) - sum(raw))} |`);
}
