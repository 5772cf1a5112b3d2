// ChargeOver seed data. Record 1 is the documentation's "Example 1" verbatim (doc 001), keys and
// key order included (it lacks gateway/write_datetime/mod_datetime). Everything else is generated
// from fixed patterns or hashes, never Math.random.
import { hashHex, pick, digitsFrom } from '../ids.js';
import { coDatetime } from '../time.js';

const DOC_RECORD = {
  tokenized_id: 1,
  type: 'customer',
  name: null,
  token: 'cus_5tSkoQ6mDrXOMQ',
  expdate: null,
  type_hint: null,
  paymethod_hint: null,
  customer_id: 2,
};

const BRANDS = [
  ['visa', 'Visa'],
  ['mast', 'MasterCard'],
  ['disc', 'Discover'],
  ['amex', 'American Express'],
];
const GATEWAYS = ['stripe', 'authorizenet', 'braintree'];
const BASE_MS = Date.UTC(2024, 2, 5, 14, 22, 10);

const PAST_EXPDATES = ['2023-01-31', '2024-06-30', '2022-11-30'];

// Keys in the order of the documented schema.
function record(tokenized_id, customer_id, label, variant, expdate = null) {
  const written = BASE_MS + tokenized_id * 3_600_000;
  const ach = variant === 'ach';
  const [hint, brand] = ach ? [null, null] : BRANDS[variant];
  return {
    tokenized_id,
    customer_id,
    name: ach ? `Checking x${digitsFrom(label, 4)}` : `${brand} x${digitsFrom(label, 4)}`,
    type: 'customer',
    paymethod_hint: ach ? 'ach' : 'crd',
    expdate: ach ? null : expdate,
    type_hint: hint,
    token: `${ach ? 'ba' : 'card'}_${hashHex(label, 14)}`,
    gateway: GATEWAYS[tokenized_id % GATEWAYS.length],
    write_datetime: coDatetime(written),
    mod_datetime: coDatetime(written + (tokenized_id % 4) * 86_400_000),
  };
}

// Customer 1000: 25 tokens (three pages of 10) mixing cards, ACH, past and future expiries.
function customer1000(nextId) {
  return Array.from({ length: 25 }, (_, i) => {
    const expdate = i % 3 === 0 ? PAST_EXPDATES[(i / 3) % 3] : `2030-${String(1 + (i % 12)).padStart(2, '0')}-28`;
    const r = record(nextId(), 1000, `chargeover:1000:${i}`, i % 5 === 4 ? 'ach' : i % 4, expdate);
    if (i === 7 || i === 18) r.name = null; // "name" is optional in the schema
    return r;
  });
}

function generated(customerId, count, nextId) {
  return Array.from({ length: count }, (_, i) => {
    const label = `chargeover:${customerId}:${i}`;
    const v = pick(label, 5);
    const expdate = `20${24 + pick(label + 'y', 9)}-${String(1 + pick(label + 'm', 12)).padStart(2, '0')}-28`;
    return record(nextId(), customerId, label, v === 4 ? 'ach' : v, expdate);
  });
}

export const GENERATED_RANGE = [5000, 5999];
export const BIG_CUSTOMER = 9000;

export function seedChargeover() {
  const customers = new Map(); // customer_id → { external_key, token }
  const addCustomer = (id, external_key = `CUST-${id}`) =>
    customers.set(id, { external_key, token: hashHex(`chargeover:customer:${id}`, 12) });
  let last = 1;
  const nextId = () => ++last;

  addCustomer(2, null);
  const records = [structuredClone(DOC_RECORD)];

  addCustomer(1000);
  records.push(...customer1000(nextId));

  // A stored name that leaks a full card number: the SDK must mask it.
  addCustomer(1001);
  const pan = record(nextId(), 1001, 'chargeover:1001:pan', 0, '2031-05-31');
  pan.name = 'Visa 4111111111111111';
  records.push(pan, generated(1001, 1, nextId)[0]);

  addCustomer(1002); // exists, no tokens

  for (let id = GENERATED_RANGE[0]; id <= GENERATED_RANGE[1]; id++) {
    addCustomer(id);
    records.push(...generated(id, 3, nextId));
  }
  addCustomer(BIG_CUSTOMER);
  records.push(...generated(BIG_CUSTOMER, 500, nextId));

  return { customers, records, lastId: last };
}
