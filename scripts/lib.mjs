// Helpers for the dev scripts: run a command with inherited output, fail loudly.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Puts cargo's bin dir (CARGO_HOME's, else ~/.cargo's) on PATH, for rustup, cargo and wasm-bindgen. */
export function cargoOnPath() {
  const home = process.env.CARGO_HOME || path.join(process.env.HOME || '/root', '.cargo');
  const bin = path.join(home, 'bin');
  if (!process.env.PATH.split(path.delimiter).includes(bin)) process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0 && !opts.allowFail) {
    console.error(`\n✗ ${cmd} ${args.join(' ')} exited with ${r.status}`);
    process.exit(r.status ?? 1);
  }
  return r;
}

export function capture(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: root, ...opts });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function lockedVersion(crate) {
  const lock = readFileSync(path.join(root, 'Cargo.lock'), 'utf8');
  const m = lock.match(new RegExp(`name = "${crate}"\\nversion = "([^"]+)"`));
  return m && m[1];
}

/** The browser the browser suites drive (playwright-core launches it; no driver is needed). */
export function hasChromium() {
  return existsSync('/usr/bin/chromium');
}
