// Browser and bundler entry: fetch and instantiate the wasm beside this module before any export
// is used (top-level await), so callers need no init call. Bundlers see the `new URL(…)` asset.
import init from './wasm/paytokens.js';

await init({ module_or_path: new URL('./wasm/paytokens_bg.wasm', import.meta.url) });

export * from './api.js';
