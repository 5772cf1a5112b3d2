// Node entry: instantiate the wasm synchronously from the file beside this module, so that
// `import { createClient } from "paytokens"` needs no init call.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initSync } from './wasm/paytokens.js';

let wasm;
try {
  // This exact expression, as a plain statement: webpack and @vercel/ncc copy the wasm into a
  // bundle only when they see it (ncc misses it under an `if`).
  wasm = readFileSync(new URL('./wasm/paytokens_bg.wasm', import.meta.url));
} catch (err) {
  wasm = readBesideBundle(err);
}
initSync({ module: wasm });

// esbuild's CommonJS output (AWS CDK NodejsFunction, serverless-esbuild) empties import.meta, so
// the URL above throws; __dirname is then the bundle's, and the wasm is looked for in wasm/ beside it.
function readBesideBundle(err) {
  let cause = err;
  if (!import.meta.url && typeof __dirname === 'string') {
    try {
      return readFileSync(join(__dirname, 'wasm', 'paytokens_bg.wasm'));
    } catch (err2) {
      cause = err2;
    }
  }
  const why = cause?.path ? `at ${cause.path} (${cause.code})` : import.meta.url ? `(${cause?.message})` : '(this build empties import.meta.url)';
  // Only a missing file is a bundle's doing; EACCES or EMFILE are the machine's, said as they are.
  const fix = cause?.code && cause.code !== 'ENOENT' ? '' : ' A bundle needs node_modules/paytokens/wasm/paytokens_bg.wasm ' +
    'copied beside it: with esbuild or Rollup, to wasm/paytokens_bg.wasm beside the bundle (or the chunk ' +
    'that holds paytokens); webpack and ncc emit it themselves, so deploy every file they write.';
  throw new Error(`paytokens cannot read its WebAssembly file ${why}.${fix}`, { cause });
}

export * from './api.js';
