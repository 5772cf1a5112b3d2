// AlliancePay seed data. The first token is the documentation example verbatim (doc 000),
// including its U+2022 bullet mask; `12345` / SRrSBe5DOb7lrZ_FS46fihty come from the same
// page's parameter table (note its `*` mask).
import { hashB64url, pick, digitsFrom } from '../ids.js';

export const MERCHANT_ID = '137d9304-0368-11ed-b939-0242ac120002';

const SEED = [
  {
    token: '-s9UCfCNN0YMk4ZOyZX8pWAt',
    status: 'ACTIVE',
    maskedPan: '523244••••••0177',
    customerId: 'senderCustomerId',
    merchantId: MERCHANT_ID,
  },
  {
    token: 'Qm7xK2pLr9TzA4vN8cWb1eYd',
    status: 'SUSPENDED',
    maskedPan: '414949••••••3206',
    customerId: 'senderCustomerId',
    merchantId: MERCHANT_ID,
  },
  {
    token: 'Zd3_hJ6sVw0nPq5uGk8rTy2m',
    status: 'DELETED',
    maskedPan: '535527••••••9012',
    customerId: 'senderCustomerId',
    merchantId: MERCHANT_ID,
  },
  {
    customerId: '12345',
    token: 'SRrSBe5DOb7lrZ_FS46fihty',
    maskedPan: '516874******7753',
    merchantId: MERCHANT_ID,
    status: 'ACTIVE',
  },
];

// Keyed by token: every token endpoint except list addresses a token directly.
export function seedTokens() {
  return new Map(SEED.map((t) => [t.token, structuredClone(t)]));
}

export const BENCH_MAX = 5000;
const BINS = ['523244', '414949', '516874', '535527', '444111'];

// cust-bench-<N> (N ≤ 5000) → N ACTIVE tokens.
export function generatedTokens(customerId) {
  const m = /^cust-bench-(\d+)$/.exec(customerId);
  if (!m || Number(m[1]) > BENCH_MAX) return null;
  return Array.from({ length: Number(m[1]) }, (_, i) => {
    const label = `alliancepay:${customerId}:${i}`;
    return {
      token: hashB64url(label, 24),
      status: 'ACTIVE',
      maskedPan: `${BINS[pick(label, BINS.length)]}••••••${digitsFrom(label, 4)}`,
      customerId,
      merchantId: MERCHANT_ID,
    };
  });
}
