// Browser consumers of the packed package, in Chromium (playwright-core, /usr/bin/chromium):
// an esbuild bundle and a plain <script type="module"> page with no bundler, both served from a
// fresh temporary project by a tiny static server, listing the Pine Labs documentation customer
// at the sandbox. Any page error, console error or warning, or failed request fails the test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, copyFileSync, createReadStream, statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startSandbox } from '../sandbox/server.js';
import { packOnce, mustExec, bin, fixtures } from './pack-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed`;
const DOC_CUSTOMER = 'cust-v1-0811030624-aa-RBDgpR';
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json' };

let pack;
let sandbox;
let server;
let origin;
let browser;
let proj;
let served;

/** Static files from `dir` on 127.0.0.1, with the MIME types browsers insist on (application/wasm). */
function serve(dir) {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      const file = path.join(dir, decodeURIComponent(url.pathname));
      const type = TYPES[path.extname(file)];
      if (!file.startsWith(dir + path.sep) || !type || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      served.push(url.pathname);
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      createReadStream(file).pipe(res);
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

before(async () => {
  if (skip) return;
  // Each is kept as soon as it is ready, so after() stops the one that started when the other fails.
  await Promise.all([packOnce().then((p) => { pack = p; }), startSandbox().then((s) => { sandbox = s; })]);
  proj = await pack.project('browser', {
    files: {
      'entry.js': readFixture('bundle-entry.js'),
      'render.js': readFixture('render.js'),
      'plain.html': readFixture('plain.html'),
      'dist/index.html': readFixture('bundle.html'),
    },
  });
  // esbuild picks the "default" condition (browser.js). It bundles the JS but leaves
  // `new URL('./wasm/paytokens_bg.wasm', import.meta.url)` as is, now relative to the bundle,
  // so the wasm is copied to dist/wasm/ beside app.js (what Vite does by itself for this pattern).
  await mustExec(bin('esbuild'), ['entry.js', '--bundle', '--format=esm', '--platform=browser', '--target=es2022', '--outfile=dist/app.js', '--log-level=warning'], { cwd: proj });
  mkdirSync(path.join(proj, 'dist', 'wasm'));
  copyFileSync(path.join(proj, 'node_modules/paytokens/wasm/paytokens_bg.wasm'), path.join(proj, 'dist/wasm/paytokens_bg.wasm'));
  server = await serve(proj);
  origin = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  await sandbox?.close();
  pack?.dispose();
});

const readFixture = (name) => readFileSync(path.join(fixtures, name), 'utf8');

/**
 * Opens a page with the sandbox settings, waits until it has rendered, returns what it shows,
 * and what `more(page)` returns when given.
 */
async function visit(pathname, more) {
  served = [];
  const problems = [];
  const page = await browser.newPage();
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  const q = new URLSearchParams({ ...sandbox.credentials.pinelabs, baseUrl: sandbox.baseUrls.pinelabs, customerId: DOC_CUSTOMER });
  try {
    await page.goto(`${origin}${pathname}?${q}`);
    await page.waitForSelector('body[data-state]', { timeout: 20_000 });
    return {
      state: await page.getAttribute('body', 'data-state'),
      error: await page.textContent('#error'),
      items: await page.$$eval('#tokens li', (lis) => lis.map((li) => li.textContent)),
      more: await more?.(page),
      problems,
      served: [...served],
    };
  } finally {
    await page.close();
  }
}

test('an esbuild bundle of `import { createClient } from "paytokens"` lists the sandbox tokens in Chromium', { skip }, async () => {
  const r = await visit('/dist/index.html');
  assert.equal(r.state, 'ready', r.error);
  assert.deepEqual(r.items, ['token-v1-1234567890-aa-ABCDEF ACTIVE Visa x1112']);
  assert.deepEqual(r.problems, [], 'no page errors, console errors or warnings, or failed requests');
  // Self-contained: the bundle and its wasm, nothing from node_modules.
  assert.deepEqual(r.served.sort(), ['/dist/app.js', '/dist/index.html', '/dist/wasm/paytokens_bg.wasm']);
});

test('a plain <script type="module"> page importing /node_modules/paytokens/browser.js lists the sandbox tokens', { skip }, async () => {
  const r = await visit('/plain.html');
  assert.equal(r.state, 'ready', r.error);
  assert.deepEqual(r.items, ['token-v1-1234567890-aa-ABCDEF ACTIVE Visa x1112']);
  assert.deepEqual(r.problems, [], 'no page errors, console errors or warnings, or failed requests');
  assert.ok(r.served.includes('/node_modules/paytokens/browser.js'));
  assert.ok(r.served.includes('/node_modules/paytokens/wasm/paytokens_bg.wasm'));
  assert.ok(!r.served.some((p) => p.startsWith('/dist/')));
});

test('in Chromium too, a failure inside the core ends its call with INTERNAL and nothing escapes; the clients work after it', { skip }, async () => {
  const settings = { ...sandbox.credentials.pinelabs, baseUrl: sandbox.baseUrls.pinelabs, customerId: DOC_CUSTOMER };
  const r = await visit('/plain.html', (page) => page.evaluate(async ({ customerId, ...config }) => {
    // The same module instance as the page's own, which has already listed once.
    const { createClient } = await import('/node_modules/paytokens/browser.js');
    const escaped = [];
    addEventListener('unhandledrejection', (event) => escaped.push(String(event.reason)));
    addEventListener('error', (event) => escaped.push(String(event.message)));
    const client = createClient({ provider: 'pinelabs', ...config });
    const ids = (tokens) => tokens.map((t) => t.id);
    const before = ids(await client.listTokens({ customerId }));
    // A host function that throws inside the core: the stand-in for a trap.
    const now = Date.now;
    let left = 1;
    Date.now = () => {
      if (left-- > 0) throw new Error('the clock broke');
      return now();
    };
    let failed;
    try {
      await client.listTokens({ customerId });
    } catch (err) {
      failed = { name: err.name, code: err.code, retryable: err.retryable, cause: err.cause?.message };
    } finally {
      Date.now = now;
    }
    const after = ids(await client.listTokens({ customerId }));
    const fresh = ids(await createClient({ provider: 'pinelabs', ...config }).listTokens({ customerId }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { before, failed, after, fresh, escaped };
  }, settings));
  assert.equal(r.state, 'ready', r.error);
  const listed = ['token-v1-1234567890-aa-ABCDEF'];
  assert.deepEqual(r.more, {
    before: listed,
    failed: { name: 'PayTokensError', code: 'INTERNAL', retryable: true, cause: 'the clock broke' },
    after: listed,
    fresh: listed,
    escaped: [],
  });
  assert.deepEqual(r.problems, [], 'no page errors, console errors or warnings, or failed requests');
});
