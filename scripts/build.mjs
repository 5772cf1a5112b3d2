// Builds the wasm core into pkg/wasm: cargo (release, wasm32) → wasm-bindgen (--target web,
// loaded by pkg/node.js or pkg/browser.js) → wasm-opt from the npm `binaryen` (Debian's is too old).
import { existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { root, run } from './lib.mjs';

const cargoBin = path.join(process.env.HOME || '/root', '.cargo', 'bin');
if (!process.env.PATH.split(':').includes(cargoBin)) process.env.PATH = `${cargoBin}:${process.env.PATH}`;

run('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '--lib']);
const built = path.join(root, 'target/wasm32-unknown-unknown/release/paytokens.wasm');
const out = path.join(root, 'pkg/wasm');
const shipped = path.join(out, 'paytokens_bg.wasm');
if (existsSync(shipped) && statSync(shipped).mtimeMs >= statSync(built).mtimeMs) process.exit(0);

// Start clean: stale snippet folders from older builds must not ship.
rmSync(out, { recursive: true, force: true });
run('wasm-bindgen', [built, '--out-dir', out, '--out-name', 'paytokens', '--target', 'web']);
run(path.join(root, 'node_modules/.bin/wasm-opt'), [shipped, '-Os', '--strip-debug', '--strip-producers', '-o', shipped]);
