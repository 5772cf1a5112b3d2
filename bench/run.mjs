// `npm run bench`: every benchmark in one run, written to bench/RESULTS.md with the machine,
// the commands, and each figure against its target.
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import * as normalize from './normalize.mjs';
import * as calls from './calls.mjs';
import * as jwe from './jwe.mjs';
import * as coldstart from './coldstart.mjs';
import * as size from './size.mjs';
import * as soak from './soak.mjs';
import { cargoOnPath } from '../scripts/lib.mjs';

// Read before the long run, so a missing toolchain fails at once rather than after it.
cargoOnPath();
const rustc = execFileSync('rustc', ['--version'], { encoding: 'utf8' }).trim();

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3));
const rows = [];
const log = (line) => console.log(line);

log('normalization…');
for (const r of normalize.run()) rows.push([r.name, `${fmt(r.sdkMs)} ms`, `${fmt(r.baselineMs)} ms (hand-written JS)`, `${r.ratio.toFixed(2)} (speed)`, r.target, r.met, r.detail]);
log('per-call and concurrency…');
const callSteps = await calls.run();
for (const r of callSteps.rows) rows.push([r.name, `${fmt(r.sdkMs)} ms`, `${fmt(r.baselineMs)} ms (fetch + JSON.parse + hand-written)`, `${r.ratio.toFixed(2)}×`, r.target, r.met, '']);
log('JWE…');
const j = await jwe.run();
rows.push([j.name, `${fmt(j.sdkMs)} ms`, `${fmt(j.baselineMs)} ms (jose)`, `${j.ratio.toFixed(2)}×`, j.target, j.met, '']);
log('cold start…');
const c = coldstart.run();
rows.push([c.name, `${fmt(c.sdkMs)} ms`, `${fmt(c.baselineMs)} ms (import jose)`, `${c.ratio.toFixed(2)}×`, c.target, c.met, '']);
log('size…');
const s = size.run();
rows.push(['Size: wasm + JS shipped', `${(s.total.raw / 1024).toFixed(1)} KB raw, ${(s.total.gzip / 1024).toFixed(1)} KB gzip`, '—', '—', '≤ 150 KB gzip', s.met, '']);
log('soak (100,000 calls)…');
const m = await soak.run();
const last = m.samples[m.samples.length - 1];
rows.push([m.name, `RSS ${last.rssMb.toFixed(1)} MB, wasm ${last.wasmMb.toFixed(2)} MB after`, `RSS ${m.samples[0].rssMb.toFixed(1)} MB, wasm ${m.samples[0].wasmMb.toFixed(2)} MB before`, '—', 'bounded: no growth per call after warm-up', m.met, `after warm-up: wasm +${m.wasmGrowth.toFixed(2)} MB, RSS ${m.rssGrowth >= 0 ? '+' : ''}${m.rssGrowth.toFixed(1)} MB (${m.perCallBytes.toFixed(1)} B/call); ${m.failed} failed; ${m.seconds.toFixed(0)} s`]);

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '# Benchmark results',
  '',
  `Measured by \`npm run bench\` (\`node bench/run.mjs\` after the build) on ${new Date().toISOString().slice(0, 10)}:`,
  `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${rustc}.`,
  'Every comparison ran side by side in the same process and run; times are medians over repeated rounds.',
  'The sandbox runs in its own process for the call benchmarks (bench/sandbox-process.mjs).',
  '',
  '| benchmark | paytokens | baseline | ratio | target | met | notes |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r[0]} | ${r[1]} | ${r[2]} | ${r[3]} | ${r[4]} | ${r[5] === null ? '—' : r[5] ? 'yes' : '**no**'} | ${r[6]} |`),
  '',
  '### Per-call and concurrency, step by step (the same rounds as the table)',
  '',
  'Each step adds one part of what the SDK does to the raw baseline; the ratios are against the raw baseline.',
  '',
  `| step | per call | ratio | ${calls.N.toLocaleString('en')} concurrent | ratio |`,
  '|---|---|---|---|---|',
  ...callSteps.steps.map((st) => `| ${st.what} | ${(st.perCallMs * 1000).toFixed(0)} µs | ${st.perCallRatio.toFixed(2)}× | ${st.batchMs.toFixed(0)} ms | ${st.batchRatio.toFixed(2)}× |`),
  '',
  readFileSync(new URL('./analysis.md', import.meta.url), 'utf8').trim(),
  '',
  '## Soak samples',
  '',
  '| calls | RSS MB | JS heap MB | wasm MB |',
  '|---|---|---|---|',
  ...m.samples.map((x) => `| ${x.label ?? x.calls} | ${x.rssMb.toFixed(1)} | ${x.heapMb.toFixed(1)} | ${x.wasmMb.toFixed(2)} |`),
  '',
  '## What each dependency costs in the wasm (code bytes before wasm-opt, by crate)',
  '',
  '| crate | KB | share |',
  '|---|---|---|',
  ...s.crates.slice(0, 20).map((x) => `| ${x.crate} | ${(x.bytes / 1024).toFixed(1)} | ${(x.share * 100).toFixed(1)}% |`),
  '',
  '## Shipped files',
  '',
  '| file | raw B | gzip B |',
  '|---|---|---|',
  ...s.files.map((f) => `| ${f.path} | ${f.raw} | ${f.gzip} |`),
  '',
];
writeFileSync(new URL('./RESULTS.md', import.meta.url), lines.join('\n'));
console.log(lines.join('\n'));
console.log('\nwrote bench/RESULTS.md');
