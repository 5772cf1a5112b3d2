// Node entry: instantiate the wasm synchronously from the file beside this module, so that
// `import { createClient } from "paytokens"` needs no init call.
import { readFileSync } from 'node:fs';
import { initSync } from './wasm/paytokens.js';

initSync({ module: readFileSync(new URL('./wasm/paytokens_bg.wasm', import.meta.url)) });

export * from './api.js';
