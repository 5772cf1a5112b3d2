// The package as consumers get it: `npm pack` of pkg/ once, installed into fresh temporary
// projects; Node ESM and CommonJS against the sandbox, TypeScript strict type-checks (positive
// and negative), the published file list and package.json fields, a bundler keeping the wasm
// init, Node bundles (esbuild CommonJS, the browser entry picked for Node), and two copies of the
// package in one process. The browser consumers are in browser-consumers.test.js.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, copyFileSync, writeFileSync, mkdirSync, cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import ts from 'typescript';
import { startSandbox } from '../sandbox/server.js';
import { packOnce, exec, mustExec, bin, fixtures, pkgDir } from './pack-helpers.js';

const DOC_CUSTOMER = 'cust-v1-0811030624-aa-RBDgpR';
const DOC_TOKEN = { id: 'token-v1-1234567890-aa-ABCDEF', status: 'ACTIVE', last4: '1112' };
const RUNTIME_FILES = [
  'LICENSE', 'README.md', 'package.json',
  'api.js', 'errors.js', 'options.js', 'tape.js', 'browser.js', 'node.js', 'node.cjs', 'hub.js', 'cli.js', 'index.d.ts', 'index.d.cts',
  'wasm/paytokens.js', 'wasm/paytokens_bg.wasm', 'wasm/types.d.ts', 'wasm/types.d.cts',
  // The transport's JS half, placed by wasm-bindgen under a crate-hash folder.
  ...readdirSync(new URL('../pkg/wasm/snippets/', import.meta.url), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => `wasm/snippets/${path.relative(fileURLToPath(new URL('../pkg/wasm/snippets/', import.meta.url)), path.join(entry.parentPath ?? entry.path, entry.name))}`),
].sort();

let pack;
let sandbox;
let env;

before(async () => {
  // Each is kept as soon as it is ready, so after() stops the one that started when the other fails.
  await Promise.all([packOnce().then((p) => { pack = p; }), startSandbox().then((s) => { sandbox = s; })]);
  env = {
    ...process.env,
    PAYTOKENS_SANDBOX: JSON.stringify({ ...sandbox.credentials.pinelabs, baseUrl: sandbox.baseUrls.pinelabs, customerId: DOC_CUSTOMER }),
  };
});

after(async () => {
  pack?.dispose();
  await sandbox?.close();
});

const fixture = (name) => readFileSync(path.join(fixtures, name), 'utf8');

/** Every export of the package's index.d.ts, from the compiler, split into values and types. */
function declaredExports(dts) {
  const program = ts.createProgram([dts], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [] });
  const checker = program.getTypeChecker();
  const symbols = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(dts)));
  const flags = (s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s).flags : s.flags);
  return {
    all: symbols.map((s) => s.name).sort(),
    values: symbols.filter((s) => flags(s) & ts.SymbolFlags.Value).map((s) => s.name).sort(),
  };
}

test('npm pack --dry-run publishes exactly the runtime files: no sources, tests, maps, keys or fixtures', async () => {
  const { stdout } = await mustExec('npm', ['pack', '--dry-run', '--json', '--silent', pkgDir], { cwd: pack.dir });
  const files = JSON.parse(stdout)[0].files.map((f) => f.path).sort();
  assert.deepEqual(files, RUNTIME_FILES);
  for (const f of files) {
    assert.doesNotMatch(f, /(^|\/)(src|tests?|js-tests|fixtures?|sandbox|keys|bench|www|target)(\/|$)|\.rs$|\.map$|\.jwk$|\.pem$|\.key$|test|fixture|secret|credential/i, f);
  }
  // The real tarball holds what the dry run promised.
  const { stdout: listing } = await mustExec('tar', ['-tzf', pack.tarball]);
  assert.deepEqual(listing.trim().split('\n').map((l) => l.replace(/^package\//, '')).sort(), RUNTIME_FILES);
});

test('package.json: types, exports (types first), sideEffects, license, and every referenced file is published', () => {
  const pj = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  assert.equal(pj.name, 'paytokens');
  assert.equal(pj.license, 'MIT');
  assert.match(readFileSync(path.join(pkgDir, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} paytokens contributors\n/);
  assert.equal(pj.type, 'module');
  assert.equal(pj.types, './index.d.ts');
  const dot = pj.exports['.'];
  assert.deepEqual(Object.keys(dot), ['types', 'node', 'default'], 'types condition first, default last');
  // ESM and CommonJS declarations (TypeScript takes a declaration file's format from its name).
  assert.deepEqual(dot.types, { require: './index.d.cts', default: './index.d.ts' });
  assert.deepEqual(dot.node, { require: './node.cjs', default: './node.js' });
  assert.equal(dot.default, './browser.js');
  // Resolvers that skip "exports" (Parcel 2 by default) take "browser" for a browser build: "main"
  // is node.js, which reads the wasm with node:fs (helper-124).
  assert.equal(pj.browser, './browser.js');
  assert.equal(pj.exports['./package.json'], './package.json');
  // The wasm file bundler users are told to copy or serve can be resolved by name.
  assert.equal(pj.exports['./wasm/paytokens_bg.wasm'], './wasm/paytokens_bg.wasm');
  // The two entries instantiate the wasm at load (that is their job); everything else is pure.
  // `false` would let bundlers skip browser.js and reach api.js without the init (see the bundle test).
  assert.deepEqual([...pj.sideEffects].sort(), ['./browser.js', './node.js']);
  const referenced = [pj.main, pj.types, ...Object.values(pj.bin), dot.types.require, dot.types.default, dot.node.require, dot.node.default, dot.default, pj.exports['./wasm/paytokens_bg.wasm']];
  for (const ref of referenced) assert.ok(RUNTIME_FILES.includes(ref.replace(/^\.\//, '')), `${ref} is published`);
});

test('Node ESM: import from the installed package lists the sandbox tokens', async () => {
  const proj = await pack.project('esm', { files: { 'consumer.mjs': fixture('esm.mjs') } });
  const r = await mustExec(process.execPath, ['consumer.mjs'], { cwd: proj, env });
  assert.equal(r.stderr, '');
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.tokens, [DOC_TOKEN]);
  assert.deepEqual(out.invalid, { isPayTokensError: true, code: 'INVALID_INPUT' });
  assert.equal(out.deletedToActive, false);
  // What the module provides at runtime is what index.d.ts declares as values.
  assert.deepEqual(out.exports, declaredExports(path.join(proj, 'node_modules/paytokens/index.d.ts')).values);
  const wasm = await mustExec(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('paytokens/wasm/paytokens_bg.wasm'))"], { cwd: proj });
  assert.match(wasm.stdout.trim(), /\/node_modules\/paytokens\/wasm\/paytokens_bg\.wasm$/);
});

const requireEsm = process.features.require_module === true;

test('Node CommonJS: require works (Node >= 20.19) and is the same module as import', { skip: !requireEsm && 'this Node cannot require() an ES module' }, async () => {
  const proj = await pack.project('cjs', { type: 'commonjs', files: { 'consumer.cjs': fixture('cjs.cjs') } });
  const direct = await mustExec(process.execPath, ['-e', "const p = require('paytokens'); if (typeof p.createClient !== 'function') process.exit(3)"], { cwd: proj });
  assert.equal(direct.stderr, '', 'no warning on require');
  const r = await mustExec(process.execPath, ['consumer.cjs'], { cwd: proj, env });
  assert.equal(r.stderr, '');
  assert.deepEqual(JSON.parse(r.stdout), { tokens: [DOC_TOKEN], sameErrorClass: true, sameCreateClient: true, resolved: 'paytokens/node.cjs' });
});

test('Node CommonJS where require(esm) is unavailable: a clear error saying to use import', async () => {
  const proj = await pack.project('cjs-old');
  const flags = requireEsm ? ['--no-experimental-require-module'] : [];
  const r = await exec(process.execPath, [...flags, '-e', "require('paytokens')"], { cwd: proj });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Error: paytokens is an ES module: use `import` or `await import\('paytokens'\)`/);
  // The Node version is blamed only when it is too old; a new enough one is failing under a loader
  // of its own (Jest's, which says ERR_REQUIRE_ESM too) or with require(esm) turned off.
  const OLD = /require\(\) of it needs Node >= 20\.19 or >= 22\.12, and this is Node 20\.18\.3\./;
  const LOADER = /This runtime's require\(\) cannot load ES modules \(Jest's module loader, or Node with --no-experimental-require-module\); under Jest, import it from an ES module test run with NODE_OPTIONS=--experimental-vm-modules\./;
  if (requireEsm) {
    assert.match(r.stderr, LOADER);
    assert.doesNotMatch(r.stderr, /needs Node/);
  }
  const old = await exec(process.execPath, [...flags, '-e', "Object.defineProperty(process.versions, 'node', { value: '20.18.3' }); require('paytokens')"], { cwd: proj });
  assert.match(old.stderr, OLD);
  // And the advice works in that same Node.
  const ok = await mustExec(process.execPath, [...flags, '-e', "import('paytokens').then((p) => console.log(typeof p.createClient))"], { cwd: proj });
  assert.equal(ok.stdout.trim(), 'function');
});

test('TypeScript: tsc --noEmit --strict accepts a consumer using every export and rejects invalid use', async () => {
  const proj = await pack.project('typescript', {
    files: {
      'consumer.ts': fixture('typecheck.ts'),
      'consumer.cts': fixture('typecheck.cts'),
      'minimal.ts': fixture('typecheck-minimal.ts'),
      'exact.ts': fixture('typecheck-exact.ts'),
      'invalid.ts': fixture('invalid.ts'),
      'tsconfig.nodenext.json': fixture('tsconfig.nodenext.json'),
      'tsconfig.node16.json': fixture('tsconfig.node16.json'),
      'tsconfig.minimal.json': fixture('tsconfig.minimal.json'),
      'tsconfig.exact.json': fixture('tsconfig.exact.json'),
      'tsconfig.bundler.json': fixture('tsconfig.bundler.json'),
      'tsconfig.invalid.json': fixture('tsconfig.invalid.json'),
    },
  });
  // The consumer names every export the compiler sees in the installed index.d.ts.
  const { all } = declaredExports(path.join(proj, 'node_modules/paytokens/index.d.ts'));
  assert.ok(all.length >= 40, `index.d.ts exports ${all.length} names`);
  assert.deepEqual(declaredExports(path.join(proj, 'node_modules/paytokens/index.d.cts')).all, all, 'index.d.cts declares the same names');
  const source = fixture('typecheck.ts');
  assert.deepEqual(all.filter((name) => !new RegExp(`\\b${name}\\b`).test(source)), [], 'every export is used by the consumer');
  // @ts-expect-error directives present for the cases the issue names.
  assert.match(source, /@ts-expect-error an invalid status\n.*'PAUSED'/);
  assert.match(source, /@ts-expect-error a missing required config field/);

  const [nodenext, node16, minimal, exact, bundler, invalid] = await Promise.all([
    exec(bin('tsc'), ['-p', 'tsconfig.nodenext.json', '--noEmit', '--strict', '--pretty', 'false'], { cwd: proj }),
    exec(bin('tsc'), ['-p', 'tsconfig.node16.json', '--noEmit', '--strict', '--pretty', 'false'], { cwd: proj }),
    exec(bin('tsc'), ['-p', 'tsconfig.minimal.json', '--noEmit', '--strict', '--pretty', 'false'], { cwd: proj }),
    exec(bin('tsc'), ['-p', 'tsconfig.exact.json', '--noEmit', '--strict', '--pretty', 'false'], { cwd: proj }),
    exec(bin('tsc'), ['-p', 'tsconfig.bundler.json', '--noEmit', '--strict', '--pretty', 'false'], { cwd: proj }),
    exec(bin('tsc'), ['-p', 'tsconfig.invalid.json', '--noEmit', '--strict', '--pretty', 'false'], { cwd: proj }),
  ]);
  assert.equal(nodenext.code, 0, `moduleResolution nodenext (ESM + CJS consumers):\n${nodenext.stdout}${nodenext.stderr}`);
  assert.equal(node16.code, 0, `module node16 (ESM + CJS consumers; CJS through index.d.cts):\n${node16.stdout}${node16.stderr}`);
  assert.equal(minimal.code, 0, `lib es2022 only, no DOM, no @types/node:\n${minimal.stdout}${minimal.stderr}`);
  assert.equal(exact.code, 0, `exactOptionalPropertyTypes, an explicit undefined where the SDK takes one:\n${exact.stdout}${exact.stderr}`);
  assert.equal(bundler.code, 0, `moduleResolution bundler:\n${bundler.stdout}${bundler.stderr}`);
  // The negative control: the same mistakes without @ts-expect-error are compile errors.
  assert.notEqual(invalid.code, 0);
  const lines = [...invalid.stdout.matchAll(/^invalid\.ts\((\d+),\d+\): error TS\d+/gm)].map((m) => m[1]);
  assert.deepEqual(lines, ['5', '6', '7'], invalid.stdout);
  assert.match(invalid.stdout, /clientSecret/);
  assert.match(invalid.stdout, /"PAUSED"/);
});

test('a bundle keeps the wasm init: sideEffects marks the entry files, so esbuild cannot drop browser.js', async () => {
  const proj = await pack.project('bundle-check', { files: { 'entry.js': "import { createClient } from 'paytokens';\nglobalThis.createClient = createClient;\n" } });
  const bundle = async (out) => {
    await mustExec(bin('esbuild'), ['entry.js', '--bundle', '--format=esm', '--platform=browser', '--target=es2022', `--outfile=${out}`, '--log-level=error'], { cwd: proj });
    return readFileSync(path.join(proj, out), 'utf8');
  };
  const kept = await bundle('out.js');
  assert.match(kept, /var wasmUrl = new URL\("\.\/wasm\/paytokens_bg\.wasm", import\.meta\.url\);/);
  assert.match(kept, /await __wbg_init\(\{ module_or_path: wasmUrl \}\)/);
  // Why not `"sideEffects": false`: esbuild (like webpack) then skips browser.js, whose only job
  // is the init, and createClient would run against an uninstantiated module.
  const installed = path.join(proj, 'node_modules/paytokens/package.json');
  const pj = JSON.parse(readFileSync(installed, 'utf8'));
  writeFileSync(installed, JSON.stringify({ ...pj, sideEffects: false }));
  const broken = await bundle('out-false.js');
  assert.doesNotMatch(broken, /__wbg_init\(\{ module_or_path/);
  assert.match(broken, /function createClient/);
});

// What AWS CDK's NodejsFunction and serverless-esbuild build: CommonJS, where esbuild empties
// import.meta. Written as such a function's source would be, `import` without top-level await.
const NODE_BUNDLE_ENTRY = `import { createClient, PayTokensError, canTransition } from 'paytokens';
const sbx = JSON.parse(process.env.PAYTOKENS_SANDBOX);
const client = createClient({ provider: 'pinelabs', clientId: sbx.clientId, clientSecret: sbx.clientSecret, baseUrl: sbx.baseUrl });
client.listTokens({ customerId: sbx.customerId }).then((tokens) => {
  let invalid;
  try {
    createClient({ provider: 'pinelabs', clientId: sbx.clientId });
  } catch (err) {
    invalid = { isPayTokensError: err instanceof PayTokensError, code: err.code };
  }
  console.log(JSON.stringify({ tokens: tokens.map((t) => ({ id: t.id, status: t.status, last4: t.card?.last4 })), invalid, deletedToActive: canTransition('DELETED', 'ACTIVE') }));
});
`;

test('esbuild --platform=node --format=cjs: the bundle lists the sandbox tokens with wasm/ copied beside it, and without it names the path and the fix', async () => {
  const proj = await pack.project('node-bundle-cjs', {
    files: { 'entry.js': NODE_BUNDLE_ENTRY, 'entry-require.cjs': "const p = require('paytokens');\nconsole.log(typeof p.createClient, p.canTransition('ACTIVE', 'DELETED'));\n" },
  });
  for (const [entry, out] of [['entry.js', 'dist/index.cjs'], ['entry-require.cjs', 'dist/require.cjs']]) {
    await mustExec(bin('esbuild'), [entry, '--bundle', '--platform=node', '--format=cjs', `--outfile=${out}`, '--log-level=error'], { cwd: proj });
  }
  mkdirSync(path.join(proj, 'dist', 'wasm'));
  copyFileSync(path.join(proj, 'node_modules/paytokens/wasm/paytokens_bg.wasm'), path.join(proj, 'dist/wasm/paytokens_bg.wasm'));
  const r = await mustExec(process.execPath, ['dist/index.cjs'], { cwd: proj, env });
  assert.equal(r.stderr, '');
  assert.deepEqual(JSON.parse(r.stdout), { tokens: [DOC_TOKEN], invalid: { isPayTokensError: true, code: 'INVALID_INPUT' }, deletedToActive: false });
  // Through the "require" condition too (node.cjs, which esbuild bundles with node.js).
  assert.equal((await mustExec(process.execPath, ['dist/require.cjs'], { cwd: proj })).stdout, 'function true\n');
  // The bundle deployed without its wasm: the error says which file and what to copy where.
  mkdirSync(path.join(proj, 'moved'));
  copyFileSync(path.join(proj, 'dist/index.cjs'), path.join(proj, 'moved/index.cjs'));
  const moved = await exec(process.execPath, ['moved/index.cjs'], { cwd: proj, env });
  assert.notEqual(moved.code, 0);
  const expected = path.join(proj, 'moved', 'wasm', 'paytokens_bg.wasm');
  assert.ok(moved.stderr.includes(`Error: paytokens cannot read its WebAssembly file at ${expected} (ENOENT). A bundle needs node_modules/paytokens/wasm/paytokens_bg.wasm copied beside it: with esbuild or Rollup, to wasm/paytokens_bg.wasm beside the bundle`), moved.stderr);
});

test('the browser entry bundled for Node (Rollup nodeResolve() without exportConditions) says to use the "node" condition, not "fetch failed"', async () => {
  // esbuild's browser platform takes the same "default" condition (browser.js) that Rollup does.
  const proj = await pack.project('browser-entry-in-node', { files: { 'entry.js': "import { createClient } from 'paytokens';\nconsole.log(typeof createClient);\n" } });
  await mustExec(bin('esbuild'), ['entry.js', '--bundle', '--platform=browser', '--format=esm', '--target=es2022', '--outfile=dist/index.mjs', '--log-level=error'], { cwd: proj });
  mkdirSync(path.join(proj, 'dist', 'wasm'));
  copyFileSync(path.join(proj, 'node_modules/paytokens/wasm/paytokens_bg.wasm'), path.join(proj, 'dist/wasm/paytokens_bg.wasm'));
  const r = await exec(process.execPath, ['dist/index.mjs'], { cwd: proj });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Error: paytokens: this is its browser entry \(browser\.js\), which cannot load file:\/\/\S+\/dist\/wasm\/paytokens_bg\.wasm in Node\. A bundler picked it for a Node build: resolve the "node" export condition instead \(Rollup: nodeResolve\(\{ exportConditions: \['node'\] \}\)/);
  assert.doesNotMatch(r.stderr, /fetch failed/);
});

test('two copies of the package in one process: an error from either is instanceof both classes, across a hub too', async () => {
  // As with a bundled copy beside an installed one, or two versions: each has its own class.
  const proj = await pack.project('two-copies', {
    files: {
      'two.mjs': `import * as a from 'paytokens';
const b = await import(new URL('./copy/node_modules/paytokens/node.js', import.meta.url));
const sbx = JSON.parse(process.env.PAYTOKENS_SANDBOX);
const thrown = (f) => { try { f(); } catch (err) { return err; } };
const fromA = thrown(() => a.createClient({ provider: 'pinelabs' }));
const fromB = thrown(() => b.createClient({ provider: 'pinelabs' }));
// copy b's hub over copy a's client, whose core reports the customer unknown
const client = a.createClient({ provider: 'pinelabs', clientId: sbx.clientId, clientSecret: sbx.clientSecret, baseUrl: sbx.baseUrl });
const { error } = (await b.createHub([client]).listTokens({ customers: { pinelabs: 'cust-v1-nobody' } })).outcomes.pinelabs;
client.close();
console.log(JSON.stringify({
  distinct: a.PayTokensError !== b.PayTokensError,
  aIsB: fromA instanceof b.PayTokensError, bIsA: fromB instanceof a.PayTokensError,
  hub: [error.code, error.provider, error instanceof a.PayTokensError, error instanceof b.PayTokensError],
  json: JSON.stringify(fromB) === JSON.stringify(fromA),
}));
`,
    },
  });
  cpSync(path.join(proj, 'node_modules/paytokens'), path.join(proj, 'copy/node_modules/paytokens'), { recursive: true });
  const r = await mustExec(process.execPath, ['two.mjs'], { cwd: proj, env });
  assert.equal(r.stderr, '');
  assert.deepEqual(JSON.parse(r.stdout), { distinct: true, aIsB: true, bIsA: true, hub: ['NOT_FOUND', 'pinelabs', true, true], json: true });
});
