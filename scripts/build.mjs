// Builds the wasm core into pkg/wasm: cargo (release, wasm32) → wasm-bindgen (--target web,
// loaded by pkg/node.js or pkg/browser.js) → wasm-opt from the npm `binaryen` (Debian's is too old).
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { root, run, cargoOnPath } from './lib.mjs';

cargoOnPath();

run('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '--lib']);
const built = path.join(root, 'target/wasm32-unknown-unknown/release/paytokens.wasm');
const out = path.join(root, 'pkg/wasm');
const shipped = path.join(out, 'paytokens_bg.wasm');
const indexTypes = path.join(root, 'pkg/index.d.ts');
const upToDate = (file, ...sources) => existsSync(file) && sources.every((s) => statSync(file).mtimeMs >= statSync(s).mtimeMs);
// The recipe (this file, the wasm-opt version in the lockfile) counts as a source too.
const recipe = [fileURLToPath(import.meta.url), path.join(root, 'package-lock.json')].filter(existsSync);
const outputs = ['paytokens.js', 'types.d.ts', 'types.d.cts'].map((f) => path.join(out, f));
if (!upToDate(shipped, built, ...recipe) || !outputs.every(existsSync)) buildWasm();
// Made from index.d.ts alone, so a stale copy needs no wasm rebuild.
const cjsIndexFile = path.join(root, 'pkg/index.d.cts');
if (!upToDate(cjsIndexFile, indexTypes, fileURLToPath(import.meta.url))) writeCjsIndex();

function buildWasm() {
  // Start clean: stale snippet folders from older builds must not ship.
  rmSync(out, { recursive: true, force: true });
  // The reset function gives pkg/api.js a fresh instance after the core failed mid-call.
  run('wasm-bindgen', [built, '--out-dir', out, '--out-name', 'paytokens', '--target', 'web', '--experimental-reset-state-function']);
  containCoreFailures(path.join(out, 'paytokens.js'));
  run(path.join(root, 'node_modules/.bin/wasm-opt'), [shipped, '-Os', '--strip-debug', '--strip-producers', '-o', shipped]);

  // The data types alone (tsify's output, which wasm-bindgen puts first), without the glue's
  // declarations: those need the DOM and esnext.disposable libs, which a Node project may not have.
  const glue = readFileSync(path.join(out, 'paytokens.d.ts'), 'utf8');
  const glueStart = glue.search(/^export (class|function|default|type InitInput)\b/m);
  // The doc comment of the first glue declaration stays behind the cut: it is dropped. Optional
  // fields also take an explicit `undefined` (inputs cross as JSON text, which drops it), so that
  // projects with `exactOptionalPropertyTypes` can pass `{ timeoutMs: maybe }`.
  const types = (glueStart < 0 ? '' : glue.slice(0, glueStart))
    .replace(/\s*\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*$/, '')
    .replace(/^(\s+[\w$]+\?: )(.+);$/gm, '$1$2 | undefined;')
    .trimEnd();
  if (!/^export interface Token \{/m.test(types) || /^export (class|function)/m.test(types)) {
    throw new Error('wasm-bindgen output changed: cannot find the generated data types in pkg/wasm/paytokens.d.ts');
  }
  writeFileSync(path.join(out, 'types.d.ts'), `${types}\n`);
  // CommonJS twins for `import x = require('paytokens')` under every `module` setting: TypeScript
  // reads a declaration file's format from its extension and the package's "type": "module", so
  // one .d.ts cannot serve both. The content is the same; only the relative import differs.
  writeFileSync(path.join(out, 'types.d.cts'), `${types}\n`);
}

// Two edits to the generated glue (wasm-bindgen is pinned; an edit that no longer applies stops the
// build rather than shipping without it):
// - The core's async calls run in queueMicrotask tasks. Something thrown there (a trap, or an
//   exception from the host inside the core) would be an uncaught exception, which ends a Node
//   process, and the call would never settle. It goes to pkg/api.js instead (`onCoreFailure`).
// - After a reset, a callback of the old instance (the reply of a request it had sent) must do
//   nothing: the generated glue throws there, an unhandled rejection in a promise reaction.
function containCoreFailures(glueFile) {
  let glue = readFileSync(glueFile, 'utf8');
  const edits = [
    [/(__wbg_queueMicrotask_[0-9a-f]+: function\(arg0\) \{\s*)queueMicrotask\(arg0\);/, '$1queueMicrotask(() => { try { arg0(); } catch (e) { coreFailed(e); } });'],
    [/throw new Error\('Cannot invoke closure from previous WASM instance'\);/, 'return;'],
  ];
  for (const [pattern, replacement] of edits) {
    if (!pattern.test(glue)) throw new Error(`wasm-bindgen output changed: ${pattern} not found in the generated glue`);
    glue = glue.replace(pattern, replacement);
  }
  glue += '\nlet coreFailed = (error) => { throw error; };\n/** Where a failure inside a queued task of the core goes (pkg/api.js). */\nexport function onCoreFailure(handler) { coreFailed = handler; }\n';
  writeFileSync(glueFile, glue);
}

function writeCjsIndex() {
  const esmIndex = readFileSync(indexTypes, 'utf8');
  const cjsIndex = esmIndex.replaceAll("from './wasm/types.js'", "from './wasm/types.cjs'");
  if (cjsIndex === esmIndex) throw new Error("pkg/index.d.ts no longer imports './wasm/types.js'");
  writeFileSync(cjsIndexFile, `// Generated from index.d.ts by scripts/build.mjs: the CommonJS view of the same types.\n${cjsIndex}`);
}
