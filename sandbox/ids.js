// Deterministic identifiers. Everything the sandbox invents (tokens, session ids, trace ids,
// generated seed rows) is derived by hashing a label, so two runs produce identical data.
import { createHash } from 'node:crypto';

export function hashHex(label, length = 32) {
  let out = '';
  for (let i = 0; out.length < length; i++) {
    out += createHash('sha256').update(`${label}#${i}`).digest('hex');
  }
  return out.slice(0, length);
}

export function hashB64url(label, length = 24) {
  let out = '';
  for (let i = 0; out.length < length; i++) {
    out += createHash('sha256').update(`${label}#${i}`).digest('base64url');
  }
  return out.slice(0, length);
}

export function uuidFrom(label) {
  const h = hashHex(label, 32);
  // Version-4/variant bits so strict UUID validators accept it.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// A small integer in [0, mod) picked by hash, for choosing among seed variants.
export function pick(label, mod) {
  return parseInt(hashHex(label, 8), 16) % mod;
}

export function digitsFrom(label, count) {
  return hashHex(label, count * 2)
    .split('')
    .map((c) => parseInt(c, 16) % 10)
    .slice(0, count)
    .join('');
}
