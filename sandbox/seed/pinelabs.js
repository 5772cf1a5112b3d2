// Pine Labs seed data. The first customer is the documentation example verbatim (doc 002);
// the rest cover every status, payment method and missing-field shape the SDK must survive.
import { hashHex, pick, digitsFrom } from '../ids.js';
import { isoMicros } from '../time.js';

// One change: the doc's expired_at (2025-12-31T23:59:59.000000Z) has passed, and the SDK shows an
// ACTIVE token past it as EXPIRED; the sandbox moves it to 2030 so that the example stays the
// live card it shows. (The SDK's own fixture, tests/fixtures/pinelabs, keeps the doc's date.)
const DOC_CUSTOMER = {
  customer_id: 'cust-v1-0811030624-aa-RBDgpR',
  total_tokens: 1,
  tokens: [
    {
      token_id: 'token-v1-1234567890-aa-ABCDEF',
      merchant_token_reference: 'token-ref-001',
      customer_id: 'cust-v1-0811030624-aa-RBDgpR',
      status: 'ACTIVE',
      payment_method: 'CARD',
      expired_at: '2030-12-31T23:59:59.000000Z',
      created_at: '2024-10-04T13:11:29.645591Z',
      updated_at: '2024-10-04T13:11:29.645657Z',
      status_reason: 'Token activated successfully',
      merchant_metadata: {
        clientId: 'DD',
        transactionReferenceNo: 'pine-1223',
        merchantId: '1234',
        tid: '9000990',
        acquirerName: 'HDFC_FSS',
        isOfferDisplayRequired: 'true',
        OfferData:
          'UHJvZHVjdF9Db2RlPSIgIiZQcm9kdWN0X05hbWU9IiImUGF5bWVudF9Nb2RlPUJhbmsgRU1JJkNhcmRfVHlwZT1EZWJpdCBDYXJkJkJhbmtfTmFtZT1IREZDIERlYml0JkVNSV9UZW51cmU9NiZJbnRlcmVzdF9SYXRlPTkuMCZJbnRlcmVzdF9BbW91bnQ9MTM4MTQwJk1vbnRobHlfSW5zdGFsbG1lbnQ9ODk0NjkwJkF1dGhvcml6YXRpb25fQW1vdW50PTEwMCZMb2FuX2Jvb2tpbmdfQW1vdW50PTUyMzAwMDAmSW50ZXJlc3RfQ2FzaGJhY2tfQW1vdW50PTAmSW50ZXJlc3RfQ2FzaGJhY2tfVHlwZT1EZWZlcnJlZCZBZGRpdGlvbmFsX0Nhc2hiYWNrPSIiJkFkZGl0aW9uYWxfQ2FzaGJhY2tfVHlwZT0iIiZEZXNjcmlwdGlvbj1CYW5rIEVNSSZQcm9kdWN0X1ZhbHVlPTUyMzAwMDA',
        tenant_id: 'PGATPOS',
        is_offer_validation_required: 'true',
      },
      card_data: {
        last4_digit: '1112',
        card_type: 'CREDIT',
        network_name: 'Visa',
        issuer_name: 'HDFC Bank',
        card_category: 'CONSUMER',
        country_code: 'IN',
        international: false,
        emi: true,
        cvv_required: true,
      },
      is_compliant: true,
    },
  ],
  created_at: '2024-10-04T13:11:29.645591Z',
  updated_at: '2024-10-04T13:11:29.645657Z',
};

function card(last4, network_name, extra = {}) {
  return {
    last4_digit: last4,
    card_type: 'CREDIT',
    network_name,
    issuer_name: 'ICICI Bank',
    card_category: 'CONSUMER',
    country_code: 'IN',
    international: false,
    emi: false,
    cvv_required: true,
    ...extra,
  };
}

function token(customer_id, token_id, fields) {
  return {
    token_id,
    merchant_token_reference: `ref-${token_id}`,
    customer_id,
    status: 'ACTIVE',
    payment_method: 'CARD',
    expired_at: '2029-08-31T23:59:59.000000Z',
    created_at: '2024-11-02T09:15:00.123456Z',
    updated_at: '2024-11-02T09:15:00.123456Z',
    status_reason: null,
    merchant_metadata: {},
    card_data: null,
    is_compliant: true,
    ...fields,
  };
}

function customer(customer_id, tokens) {
  return {
    customer_id,
    total_tokens: tokens.length,
    tokens,
    created_at: '2024-11-02T09:00:00.000000Z',
    updated_at: '2024-11-02T09:15:00.123456Z',
  };
}

const STATUSES = 'cust-v1-statuses';
const EDGE = 'cust-v1-edge';

function seedList() {
  return [
    structuredClone(DOC_CUSTOMER),
    customer(STATUSES, [
      token(STATUSES, 'token-v1-initiated-01', {
        status: 'INITIATED',
        status_reason: 'Token creation initiated',
        card_data: card('4242', 'Visa'),
      }),
      token(STATUSES, 'token-v1-deactivated-01', {
        status: 'DEACTIVATED',
        status_reason: 'Token deactivated by merchant',
        card_data: card('5454', 'Mastercard'),
      }),
      token(STATUSES, 'token-v1-failed-01', {
        status: 'FAILED',
        status_reason: 'Token provisioning failed at network',
        card_data: card('6521', 'RuPay', { card_type: 'DEBIT' }),
      }),
      token(STATUSES, 'token-v1-suspended-01', {
        status: 'SUSPENDED',
        status_reason: 'Token suspended by issuer',
        card_data: card('0005', 'Amex', { issuer_name: 'American Express' }),
      }),
      // Not in the documented enum: the SDK must pass it through as an unknown status.
      token(STATUSES, 'token-v1-quarantined-01', {
        status: 'QUARANTINED',
        status_reason: 'Under review',
        card_data: card('1881', 'Visa'),
      }),
    ]),
    customer(EDGE, [
      token(EDGE, 'token-v1-upi-01', {
        payment_method: 'UPI',
        status_reason: 'Mandate active',
        merchant_metadata: { vpa_hint: 'upi' },
        card_data: null,
      }),
      // Every optional field null: parsers must not assume any of them.
      {
        token_id: 'token-v1-nulls-01',
        merchant_token_reference: null,
        customer_id: EDGE,
        status: 'ACTIVE',
        payment_method: 'CARD',
        expired_at: null,
        created_at: null,
        updated_at: null,
        status_reason: null,
        merchant_metadata: null,
        card_data: null,
        is_compliant: null,
      },
      // ACTIVE, but past its expired_at: shown as EXPIRED.
      token(EDGE, 'token-v1-expired-01', {
        expired_at: '2024-05-31T23:59:59.000000Z',
        card_data: card('0013', 'Mastercard'),
      }),
      // Network missing: the brand has to be reported as unknown (or derived elsewhere).
      token(EDGE, 'token-v1-nonetwork-01', {
        status_reason: 'Token activated successfully',
        card_data: card('0004', null, { card_type: 'DEBIT', issuer_name: 'State Bank of India' }),
      }),
    ]),
    customer('cust-v1-empty', []),
  ];
}

export function seedCustomers() {
  return new Map(seedList().map((c) => [c.customer_id, c]));
}

export const FORBIDDEN_CUSTOMER = 'cust-forbidden';
export const BENCH_MAX = 5000;

const NETWORKS = ['Visa', 'Mastercard', 'RuPay', 'Amex', 'Diners Club'];
const BASE_MS = Date.UTC(2024, 0, 1);

function generatedToken(customerId, slug, i) {
  const label = `pinelabs:${customerId}:${i}`;
  const at = isoMicros(BASE_MS + i * 60000);
  return token(customerId, `token-v1-${slug}-${String(i).padStart(6, '0')}`, {
    merchant_token_reference: `ref-${hashHex(label, 10)}`,
    created_at: at,
    updated_at: at,
    expired_at: `20${28 + pick(label + 'y', 5)}-${String(1 + pick(label + 'm', 12)).padStart(2, '0')}-28T23:59:59.000000Z`,
    status_reason: 'Token activated successfully',
    card_data: card(digitsFrom(label, 4), NETWORKS[pick(label, NETWORKS.length)], {
      card_type: pick(label + 't', 2) ? 'CREDIT' : 'DEBIT',
    }),
  });
}

// cust-bench-<N> (N ≤ 5000) → N card tokens; cust-gen-<anything> → 2 card tokens.
export function generatedCustomer(customerId) {
  const bench = /^cust-bench-(\d+)$/.exec(customerId);
  if (bench && Number(bench[1]) <= BENCH_MAX) {
    const n = Number(bench[1]);
    return customer(customerId, Array.from({ length: n }, (_, i) => generatedToken(customerId, `bench${n}`, i + 1)));
  }
  if (customerId.startsWith('cust-gen-') && customerId.length > 'cust-gen-'.length) {
    const slug = `gen${hashHex(customerId, 10)}`;
    return customer(customerId, [1, 2].map((i) => generatedToken(customerId, slug, i)));
  }
  return null;
}
