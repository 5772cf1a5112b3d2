// Every test, in order of speed: native cargo tests, wasm tests in Node, then the node:test
// suites against the built package and the sandbox (browser suites need Chromium). Prints one
// closing line "N passed, N failed" over all of them.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root, hasChromium, run, cargoOnPath } from './lib.mjs';

cargoOnPath();

const STEP_TIMEOUT_MS = 30 * 60 * 1000;
// Per test, generous (npm pack + tsc + bundling take about a minute); --test-force-exit ends a
// suite whose hooks left a handle open instead of waiting on it forever.
const NODE_TEST = ['--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=600000', '--test-force-exit'];

let passed = 0;
let failed = 0;

function step(title, cmd, args, parse, env = {}) {
  console.log(`\n=== ${title}`);
  // A step that hangs (a server a failed hook could not close) is stopped, and counts as failed.
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024, timeout: STEP_TIMEOUT_MS, killSignal: 'SIGKILL' });
  if (r.error) console.error(`${title}: ${r.error.code === 'ETIMEDOUT' ? `stopped after ${STEP_TIMEOUT_MS / 60000} minutes` : r.error.message}`);
  process.stdout.write(r.stdout || '');
  process.stderr.write(r.stderr || '');
  const counts = parse(`${r.stdout}\n${r.stderr}`);
  passed += counts.passed;
  failed += counts.failed;
  if (r.status !== 0 && counts.failed === 0) failed += 1;
  // A step that ran nothing (every test skipped, a runner that found none) proves nothing.
  const noTests = r.status === 0 && counts.passed === 0;
  if (noTests) failed += 1;
  const skipped = counts.skipped ? `, ${counts.skipped} skipped` : '';
  console.log(`--- ${title}: ${counts.passed} passed, ${counts.failed} failed${skipped}${r.status !== 0 ? ` (exit ${r.status})` : ''}${noTests ? ' (no tests ran)' : ''}`);
}

function cargoCounts(out) {
  let p = 0;
  let f = 0;
  for (const m of out.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    p += Number(m[1]);
    f += Number(m[2]);
  }
  return { passed: p, failed: f };
}

function nodeCounts(out) {
  const p = out.match(/^ℹ pass (\d+)/m);
  const f = out.match(/^ℹ fail (\d+)/m);
  const s = out.match(/^ℹ skipped (\d+)/m);
  return { passed: Number(p?.[1] ?? 0), failed: Number(f?.[1] ?? 0), skipped: Number(s?.[1] ?? 0) };
}

step('native core (cargo test)', 'cargo', ['test', '--lib', '--tests'], cargoCounts);
step('wasm boundary (wasm-bindgen-test in Node)', 'cargo', ['test', '--target', 'wasm32-unknown-unknown', '--test', 'wasm'], cargoCounts);

const suites = readdirSync(path.join(root, 'js-tests')).filter((f) => f.endsWith('.test.js')).sort();
const node = suites.filter((f) => !f.startsWith('browser'));
const browser = suites.filter((f) => f.startsWith('browser'));
step('node suites', 'node', [...NODE_TEST, ...node.map((f) => `js-tests/${f}`)], nodeCounts);
if (browser.length) {
  if (!hasChromium()) run('node', ['scripts/setup.mjs', '--browser'], { allowFail: true });
  if (hasChromium()) {
    step('browser suites (Chromium)', 'node', [...NODE_TEST, ...browser.map((f) => `js-tests/${f}`)], nodeCounts);
  } else {
    // Counted as a failure, not skipped: a run without them proves less than it says.
    console.log('\n--- browser suites (Chromium): not run, /usr/bin/chromium is missing and could not be installed (see above)');
    failed += 1;
  }
}

console.log(`\nall suites: ${passed} passed, ${failed} failed`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
