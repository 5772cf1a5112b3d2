// Soak: 100,000 listTokens calls through the sandbox (its own process), reporting RSS and
// wasm linear memory before, during and after. A leak per call shows as growth that keeps
// rising with the call count; bounded growth flattens after warm-up.
import { createClient } from 'paytokens';
import { initSync } from '../pkg/wasm/paytokens.js';
import { startSandboxProcess } from './sandbox-process.mjs';

const CALLS = Number(process.env.SOAK_CALLS || 100_000);
const CONCURRENCY = 50;
const CUSTOMER = 'cust-v1-0811030624-aa-RBDgpR';
const MB = 1024 * 1024;

// initSync returns the already-instantiated module's exports (the package instantiated it).
const wasm = initSync({ module: new Uint8Array() });
const sample = (calls) => {
  globalThis.gc?.();
  return { calls, rssMb: process.memoryUsage().rss / MB, heapMb: process.memoryUsage().heapUsed / MB, wasmMb: wasm.memory.buffer.byteLength / MB };
};

export async function run() {
  const sandbox = await startSandboxProcess();
  try {
    const client = createClient({ provider: 'pinelabs', ...sandbox.credentials.pinelabs, baseUrl: sandbox.baseUrls.pinelabs });
    const samples = [sample(0)];
    let started_ = 0;
    let done = 0;
    let failed = 0;
    const started = performance.now();
    async function worker() {
      while (started_ < CALLS) {
        started_ += 1;
        try {
          await client.listTokens({ customerId: CUSTOMER });
        } catch {
          failed += 1;
        }
        done += 1;
        if (done % (CALLS / 10) === 0) samples.push(sample(done));
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    // Also the failure path: bad input and provider errors must not leak either.
    for (let i = 0; i < 10_000; i++) await client.listTokens({ customerId: 'a/b' }).catch(() => {});
    samples.push({ ...sample(done), label: `${done} + 10,000 rejected` });
    const seconds = (performance.now() - started) / 1000;
    const warm = samples[2] ?? samples[1];
    const last = samples[samples.length - 1];
    const wasmGrowth = last.wasmMb - warm.wasmMb;
    const rssGrowth = last.rssMb - warm.rssMb;
    const perCallBytes = (rssGrowth * MB) / Math.max(1, last.calls - warm.calls);
    return {
      name: `Soak/memory: ${CALLS.toLocaleString('en')} listTokens (+10,000 rejected inputs)`,
      samples,
      seconds,
      failed,
      wasmGrowth,
      rssGrowth,
      perCallBytes,
      met: wasmGrowth === 0 && perCallBytes < 100 && failed === 0,
    };
  } finally {
    await sandbox.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await run();
  for (const s of r.samples) console.log(`${String(s.calls).padStart(7)} calls: RSS ${s.rssMb.toFixed(1)} MB, JS heap ${s.heapMb.toFixed(1)} MB, wasm ${s.wasmMb.toFixed(2)} MB`);
  console.log(`${r.seconds.toFixed(1)} s, ${r.failed} failed; after warm-up: wasm +${r.wasmGrowth.toFixed(2)} MB, RSS +${r.rssGrowth.toFixed(1)} MB (${r.perCallBytes.toFixed(1)} B/call) → ${r.met ? 'bounded' : 'GROWING'}`);
}
