// Browser and bundler entry: fetch and instantiate the wasm beside this module before any export
// is used (top-level await), so callers need no init call. Bundlers see the `new URL(…)` asset.
import init from './wasm/paytokens.js';

const wasmUrl = new URL('./wasm/paytokens_bg.wasm', import.meta.url);
// Node's fetch cannot read a file: URL (Bun's and Deno's can): here only when a bundler resolved
// the "default" condition for a Node build, e.g. Rollup's nodeResolve() without exportConditions.
const versions = globalThis.process?.versions;
if (wasmUrl.protocol === 'file:' && versions?.node && !versions.bun && !versions.deno) {
  throw new Error(
    `paytokens: this is its browser entry (browser.js), which cannot load ${wasmUrl.href} in Node. ` +
      'A bundler picked it for a Node build: resolve the "node" export condition instead ' +
      "(Rollup: nodeResolve({ exportConditions: ['node'] }); esbuild: --platform=node; webpack: target: 'node').",
  );
}
await init({ module_or_path: wasmUrl });

export * from './api.js';
