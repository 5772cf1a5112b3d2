// AlliancePay JWE cost per request: one encrypt (to the bank) + one decrypt (from the bank),
// the SDK's wasm codec against jose on Node, same keys, same payload, same run.
import 'paytokens';
import { JweCodec } from '../pkg/wasm/paytokens.js';
import { CompactEncrypt, compactDecrypt, importJWK } from 'jose';
import merchantPrivate from '../sandbox/keys/merchant.private.jwk.json' with { type: 'json' };
import bankPrivate from '../sandbox/keys/bank.private.jwk.json' with { type: 'json' };
import { median, report } from './stats.mjs';

const publicHalf = ({ d, ...pub }) => pub;
const payload = JSON.stringify({ customerId: 'senderCustomerId', token: '-s9UCfCNN0YMk4ZOyZX8pWAt', state: 'SUSPENDED' });
const ROUNDS = Number(process.env.JWE_ROUNDS || 7);
const N = Number(process.env.JWE_N || 200);

// Replies the bank would send, made once by jose so each side decrypts the same bytes.
const merchantPublic = await importJWK(publicHalf(merchantPrivate), 'ECDH-ES+A256KW');
const replies = [];
for (let i = 0; i < N; i++) {
  replies.push(await new CompactEncrypt(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' }).encrypt(merchantPublic));
}

const codec = new JweCodec(merchantPrivate, publicHalf(bankPrivate));
async function sdk() {
  for (let i = 0; i < N; i++) {
    await codec.encrypt(payload);
    await codec.decrypt(replies[i]);
  }
}

const bankPublic = await importJWK(publicHalf(bankPrivate), 'ECDH-ES+A256KW');
const merchantKey = await importJWK(merchantPrivate, 'ECDH-ES+A256KW');
const bytes = new TextEncoder().encode(payload);
async function jose() {
  for (let i = 0; i < N; i++) {
    await new CompactEncrypt(bytes).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' }).encrypt(bankPublic);
    await compactDecrypt(replies[i], merchantKey);
  }
}

export async function run() {
  const sdkTimes = [];
  const joseTimes = [];
  await sdk();
  await jose();
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    await sdk();
    sdkTimes.push((performance.now() - t) / N);
    t = performance.now();
    await jose();
    joseTimes.push((performance.now() - t) / N);
  }
  const s = median(sdkTimes);
  const j = median(joseTimes);
  return { name: 'AlliancePay JWE encrypt+decrypt per request', sdkMs: s, baselineMs: j, ratio: s / j, target: '≤ 1.0× jose', met: s <= j };
}

if (import.meta.url === `file://${process.argv[1]}`) report([await run()]);
