// Installs what building and testing need on a fresh machine, and nothing that is already there:
// Rust through rustup (from rustup's own dist server) and a C compiler (Debian's, for build
// scripts), the wasm target, wasm-bindgen-cli at the Cargo.lock version, npm dev dependencies,
// and (with --browser) Debian's Chromium.
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import path from 'node:path';
import { root, run, capture, lockedVersion, hasChromium, cargoOnPath } from './lib.mjs';

cargoOnPath();

// The package runs on Node >= 20; its tests need 20.14 (node --test's --test-force-exit).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 14)) {
  console.error(`building and testing paytokens needs Node 20.14 or newer (this is ${process.version})`);
  process.exit(1);
}

const aptInstall = (packages) => {
  if (capture('apt-get', ['--version']) === null) {
    console.error(`missing ${packages.join(', ')}, and this machine has no apt-get to install them with: install them with its own package manager, then run this again`);
    process.exit(1);
  }
  if (process.getuid?.() !== 0) {
    console.error(`missing ${packages.join(', ')}: install them (apt-get install ${packages.join(' ')}) or run as root`);
    process.exit(1);
  }
  // A freshly booted VM may still be running its own apt (unattended upgrades). The dpkg lock
  // has a timeout option; the package lists' lock has none, so the update is tried again.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  for (let attempt = 1; run('apt-get', [...lock, 'update'], { allowFail: attempt < 20 }).status !== 0; attempt++) {
    console.log('apt-get update failed (apt busy?); trying again in 30 s');
    run('sleep', ['30']);
  }
  run('apt-get', [...lock, 'install', '-y', ...packages], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
};

// Build scripts of native dependencies link with the system C compiler; cargo reaches crates.io
// through the system's CA certificates, which slim images leave out.
const system = [];
if (capture('cc', ['--version']) === null) system.push('gcc', 'libc6-dev', 'pkg-config');
if (existsSync('/etc/debian_version') && !existsSync('/etc/ssl/certs/ca-certificates.crt')) system.push('ca-certificates');
if (system.length) aptInstall(system);

if (capture('rustup', ['--version']) === null) {
  if (capture('cargo', ['--version']) !== null) {
    console.error('found cargo without rustup (a distribution package?): the wasm32 target needs rustup, see https://rustup.rs');
    process.exit(1);
  }
  const triple = { x64: 'x86_64-unknown-linux-gnu', arm64: 'aarch64-unknown-linux-gnu' }[arch()];
  if (process.platform !== 'linux' || !triple) {
    console.error('Rust is missing: install it with rustup (https://rustup.rs), then run this again');
    process.exit(1);
  }
  console.log('installing Rust (stable, minimal profile) with rustup');
  const url = `https://static.rust-lang.org/rustup/dist/${triple}/rustup-init`;
  const dir = mkdtempSync(path.join(tmpdir(), 'rustup-'));
  const init = path.join(dir, 'rustup-init');
  // Node's fetch ignores HTTPS_PROXY, which cargo and npm honour: behind a proxy, curl fetches it.
  const proxied = Boolean(process.env.HTTPS_PROXY || process.env.https_proxy);
  if (proxied && capture('curl', ['--version']) !== null) {
    run('curl', ['-fsSL', '--proto', '=https', '-o', init, url]);
  } else {
    const res = await fetch(url).catch((err) => {
      console.error(`downloading rustup-init failed (${err.cause?.code ?? err.message})${proxied ? '; behind a proxy, install curl or Rust itself (https://rustup.rs)' : ''}`);
      process.exit(1);
    });
    if (!res.ok) throw new Error(`downloading rustup-init failed: HTTP ${res.status}`);
    writeFileSync(init, Buffer.from(await res.arrayBuffer()));
  }
  chmodSync(init, 0o755);
  run(init, ['-y', '--profile', 'minimal', '--default-toolchain', 'stable', '--no-modify-path']);
  rmSync(dir, { recursive: true, force: true });
}

// A rustup with no default toolchain (a distribution's rustup package, an install cut short).
if (capture('rustc', ['--version']) === null) {
  run('rustup', ['toolchain', 'install', 'stable', '--profile', 'minimal']);
  run('rustup', ['default', 'stable']);
}

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
const newer = (file) => existsSync(file) && statSync(file).mtimeMs > statSync(marker).mtimeMs;
if (!existsSync(marker) || newer(path.join(root, 'package-lock.json')) || newer(path.join(root, 'package.json'))) {
  run('npm', ['install', '--no-audit', '--no-fund']);
}

if (process.argv.includes('--browser') && !hasChromium()) aptInstall(['chromium']);
