// Size of what ships (wasm + JS glue + entries), raw and gzip, and what each Rust crate costs
// in the wasm: code bytes per crate from the name section of the pre-wasm-opt build, like
// twiggy's "top" grouped by crate.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const snippets = readdirSync(`${root}pkg/wasm/snippets`, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => `${e.parentPath ?? e.path}/${e.name}`.slice(root.length));
// What an app loads: the package's published code, so a new module counts without being listed
// here (a hand-kept list once missed one), less the command-line tool and the CommonJS twin of
// node.js, which no app loads besides it.
const NOT_LOADED = ['cli.js', 'node.cjs'];
const published = JSON.parse(readFileSync(`${root}pkg/package.json`, 'utf8')).files;
const SHIPPED = [
  ...published.filter((f) => /\.(js|wasm)$/.test(f) && !NOT_LOADED.includes(f)).map((f) => `pkg/${f}`),
  ...snippets,
];

function leb(bytes, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return [result, pos];
  }
}

/** Code bytes per function index, and function names, from a wasm binary. */
function functionSizes(bytes) {
  let pos = 8;
  let imported = 0;
  const sizes = [];
  const names = new Map();
  while (pos < bytes.length) {
    const id = bytes[pos++];
    let size;
    [size, pos] = leb(bytes, pos);
    const end = pos + size;
    if (id === 2) {
      let count;
      let p;
      [count, p] = leb(bytes, pos);
      for (let i = 0; i < count; i++) {
        for (let s = 0; s < 2; s++) {
          let len;
          [len, p] = leb(bytes, p);
          p += len;
        }
        const kind = bytes[p++];
        if (kind === 0) {
          imported++;
          [, p] = leb(bytes, p);
        } else if (kind === 1) p += 1 + (bytes[p + 1] & 1 ? 3 : 2);
        else if (kind === 2) p += bytes[p] & 1 ? 3 : 2;
        else p += 2;
      }
    } else if (id === 10) {
      let count;
      let p;
      [count, p] = leb(bytes, pos);
      for (let i = 0; i < count; i++) {
        let len;
        [len, p] = leb(bytes, p);
        sizes.push(len);
        p += len;
      }
    } else if (id === 0) {
      let nameLen;
      let p;
      [nameLen, p] = leb(bytes, pos);
      const name = new TextDecoder().decode(bytes.subarray(p, p + nameLen));
      p += nameLen;
      if (name === 'name') {
        while (p < end) {
          const sub = bytes[p++];
          let subSize;
          [subSize, p] = leb(bytes, p);
          const subEnd = p + subSize;
          if (sub === 1) {
            let count;
            [count, p] = leb(bytes, p);
            for (let i = 0; i < count; i++) {
              let idx;
              let len;
              [idx, p] = leb(bytes, p);
              [len, p] = leb(bytes, p);
              names.set(idx, new TextDecoder().decode(bytes.subarray(p, p + len)));
              p += len;
            }
          }
          p = subEnd;
        }
      }
    }
    pos = end;
  }
  return { sizes, names, imported };
}

/** The crate a mangled or demangled Rust symbol belongs to. */
function crateOf(name = '') {
  // Legacy mangling; an impl block `<Type as Trait>` is named after the type's crate.
  const impl = name.match(/^_ZN\d+_\$LT\$(?:\$RF\$|mut\$u20\$|\$u5b\$)*([a-z_][a-z0-9_]*)\.\./);
  if (impl) return impl[1];
  const legacy = name.match(/^_ZN(\d+)([A-Za-z_][A-Za-z0-9_]*)/);
  if (legacy) return legacy[2].slice(0, Number(legacy[1]));
  // v0 mangling: the first crate root `C<disambiguator>_<len><name>` names the defining crate.
  const v0 = name.startsWith('_R') && name.match(/C(?:s[0-9A-Za-z]*_)?(\d+)([a-z_][a-z0-9_]*)/);
  if (v0) return v0[2].slice(0, Number(v0[1]));
  const plain = name.match(/^<?([a-z_][a-z0-9_]*)::/);
  if (plain) return plain[1];
  return name.startsWith('__wbg') || name.startsWith('__wbindgen') ? 'wasm-bindgen glue' : '(other)';
}

export function run() {
  const files = SHIPPED.map((path) => {
    const bytes = readFileSync(`${root}${path}`);
    return { path, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const total = files.reduce((a, f) => ({ raw: a.raw + f.raw, gzip: a.gzip + f.gzip }), { raw: 0, gzip: 0 });
  const built = readFileSync(`${root}target/wasm32-unknown-unknown/release/paytokens.wasm`);
  const { sizes, names, imported } = functionSizes(built);
  const byCrate = new Map();
  sizes.forEach((size, i) => {
    const crate = crateOf(names.get(i + imported));
    byCrate.set(crate, (byCrate.get(crate) ?? 0) + size);
  });
  const codeTotal = sizes.reduce((a, b) => a + b, 0);
  const crates = [...byCrate.entries()].sort((a, b) => b[1] - a[1]).map(([crate, bytes]) => ({ crate, bytes, share: bytes / codeTotal }));
  return { files, total, crates, codeTotal, prebuiltBytes: statSync(`${root}target/wasm32-unknown-unknown/release/paytokens.wasm`).size, met: total.gzip <= 150 * 1024 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = run();
  for (const f of r.files) console.log(`${f.path}: ${f.raw} B raw, ${f.gzip} B gzip`);
  console.log(`total: ${(r.total.raw / 1024).toFixed(1)} KB raw, ${(r.total.gzip / 1024).toFixed(1)} KB gzip (budget 150 KB gzip) ${r.met ? 'MET' : 'MISSED'}`);
  for (const c of r.crates.slice(0, 15)) console.log(`  ${c.crate}: ${(c.bytes / 1024).toFixed(1)} KB (${(c.share * 100).toFixed(1)}%)`);
}
