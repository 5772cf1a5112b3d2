// Shared by the consumer suites: one `npm pack` of pkg/ per suite, and fresh temporary projects
// (under os.tmpdir()) with the tarball installed the way a consumer installs it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const pkgDir = path.join(root, 'pkg');
export const fixtures = path.join(root, 'js-tests', 'consumers');
export const bin = (name) => path.join(root, 'node_modules', '.bin', name);

const execFileP = promisify(execFile);

/** Runs a command without blocking the event loop (the sandbox lives in this process). */
export async function exec(cmd, args, opts = {}) {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000, ...opts });
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (typeof err.code !== 'number') throw err;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

export async function mustExec(cmd, args, opts) {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A temporary directory holding the packed tarball; `dispose()` removes it and every project. */
export async function packOnce() {
  if (!existsSync(path.join(pkgDir, 'wasm', 'paytokens_bg.wasm'))) {
    throw new Error('pkg/wasm is missing: run `node scripts/build.mjs` first');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paytokens-consumers-'));
  const { stdout } = await mustExec('npm', ['pack', pkgDir, '--pack-destination', dir, '--json', '--silent'], { cwd: dir });
  const [info] = JSON.parse(stdout);
  const tarball = path.join(dir, info.filename);
  let n = 0;
  return {
    dir,
    tarball,
    info,
    /** A fresh project with the tarball installed; `files` maps project paths to contents. */
    async project(name, { type = 'module', files = {} } = {}) {
      const proj = path.join(dir, `${String(++n).padStart(2, '0')}-${name}`);
      mkdirSync(proj);
      writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type }, null, 2));
      await mustExec('npm', ['install', '--no-audit', '--no-fund', '--offline', '--loglevel=error', tarball], { cwd: proj });
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(proj, file)), { recursive: true });
        writeFileSync(path.join(proj, file), text);
      }
      return proj;
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
