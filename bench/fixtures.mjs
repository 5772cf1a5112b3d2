// Reply bodies of the sizes the benchmarks use, built from the providers' documented examples.
import { readFileSync } from 'node:fs';

const read = (path) => JSON.parse(readFileSync(new URL(`../tests/fixtures/${path}`, import.meta.url), 'utf8'));

export function pinelabsList(n) {
  const doc = read('pinelabs/list_doc_example.json');
  const [template] = doc.tokens;
  doc.tokens = Array.from({ length: n }, (_, i) => ({ ...template, token_id: `token-v1-${String(i).padStart(10, '0')}-aa-ABCDEF`, last4: undefined }));
  doc.total_tokens = n;
  return JSON.stringify(doc);
}

export function chargeoverPage(n) {
  const rows = Array.from({ length: n }, (_, i) => ({
    tokenized_id: 1000 + i,
    customer_id: 1000,
    name: `Visa x${String(1000 + (i % 9000)).padStart(4, '0')}`,
    type: 'customer',
    paymethod_hint: i % 5 === 0 ? 'ach' : 'crd',
    expdate: i % 3 === 0 ? '2023-01-31' : '2030-07-31',
    type_hint: ['visa', 'mast', 'disc', 'amex'][i % 4],
    token: `cus_${i.toString(36).padStart(12, 'x')}`,
    gateway: 'stripe',
    // As ChargeOver writes them by default: Chicago time with its offset.
    write_datetime: '2024-03-05T08:22:10-06:00',
    mod_datetime: '2024-07-06T04:00:00-05:00',
  }));
  return JSON.stringify({ code: 200, status: 'OK', message: '', details: {}, response: rows });
}

export function alliancepayList(n) {
  const result = Array.from({ length: n }, (_, i) => ({
    token: `tok${String(i).padStart(21, '0')}`,
    status: ['ACTIVE', 'SUSPENDED', 'DELETED'][i % 3],
    maskedPan: i % 2 ? '523244••••••0177' : '516874******7753',
    customerId: 'senderCustomerId',
    merchantId: '137d9304-0368-11ed-b939-0242ac120002',
  }));
  return JSON.stringify({ result });
}
