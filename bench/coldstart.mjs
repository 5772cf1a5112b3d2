// Cold start: a fresh Node process imports the package (module load + wasm compile and
// instantiate) — median over 20 processes, against importing jose the same way.
import { execFileSync } from 'node:child_process';
import { median } from './stats.mjs';

const RUNS = Number(process.env.COLD_RUNS || 20);
const probe = (specifier) =>
  `const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;

function measure(specifier) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe(specifier)], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8' });
    times.push(Number(out));
  }
  return median(times);
}

export function run() {
  const sdk = measure('paytokens');
  const jose = measure('jose');
  return { name: `Cold start: import + instantiate in a fresh Node process (median of ${RUNS})`, sdkMs: sdk, baselineMs: jose, ratio: sdk / jose, target: 'none: reported against importing jose', met: null };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = run();
  console.log(`${r.name}: paytokens ${r.sdkMs.toFixed(1)} ms, jose ${r.baselineMs.toFixed(1)} ms (${r.ratio.toFixed(2)}×)`);
}
