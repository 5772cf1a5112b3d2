// Installs what building and testing need on a fresh machine, and nothing that is already there:
// the wasm target, wasm-bindgen-cli at the Cargo.lock version, npm dev dependencies, and
// (with --browser) Debian's Chromium and ChromeDriver.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { root, run, capture, lockedVersion, hasChromium } from './lib.mjs';

const cargoBin = path.join(process.env.HOME || '/root', '.cargo', 'bin');
if (!process.env.PATH.split(':').includes(cargoBin)) process.env.PATH = `${cargoBin}:${process.env.PATH}`;

const targets = capture('rustup', ['target', 'list', '--installed']) || '';
if (!targets.split('\n').includes('wasm32-unknown-unknown')) {
  run('rustup', ['target', 'add', 'wasm32-unknown-unknown']);
}

if (!existsSync(path.join(root, 'Cargo.lock'))) run('cargo', ['generate-lockfile']);
const want = lockedVersion('wasm-bindgen');
const have = (capture('wasm-bindgen', ['--version']) || '').split(' ')[1];
if (have !== want) {
  console.log(`installing wasm-bindgen-cli ${want} (found ${have || 'none'}); this takes a few minutes`);
  // --locked fails against this registry mirror; the exact version pin is what matters.
  run('cargo', ['install', 'wasm-bindgen-cli', '--version', `=${want}`]);
}

const marker = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs)) {
  run('npm', ['install', '--no-audit', '--no-fund']);
}

if (process.argv.includes('--browser') && !hasChromium()) {
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', 'chromium', 'chromium-driver'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}
