// Payerly end to end: the built package against the sandbox (Bearer key, lookups, PII minimization, masking).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, PayTokensError } from 'paytokens';
import { useSandbox, clientFor, rejection } from './helpers.js';

const sandbox = useSandbox();
const ACCOUNT = 'df1a2c9e-bc2b-11ed-8332-811eecb5ec73';
const PII_KEYS = ['email', 'phone', 'document', 'documentType', 'ip', 'birthdate', 'address', 'browserData', 'fingerprint', 'fullName', 'postalCode', 'neighborhood'];

beforeEach(() => sandbox().reset());

function keysDeep(value, out = new Set()) {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.add(k);
      keysDeep(v, out);
    }
  }
  return out;
}

test('a token maps, with and without accountId, and carries no customer PII', async () => {
  const client = clientFor(sandbox(), 'payerly');
  const t = await client.getToken({ tokenId: 'tok_visa_active' });
  assert.equal(t.provider, 'payerly');
  assert.equal(t.id, 'tok_visa_active');
  assert.equal(t.customerId, ACCOUNT);
  assert.equal(t.status, 'ACTIVE');
  assert.equal(t.paymentMethod, 'CARD');
  assert.equal(t.expiresAt, '2031-01-01T00:00:00.000Z');
  assert.deepEqual({ ...t.card }, {
    maskedPan: '411111******1111', last4: '1111', brand: 'Visa', expiryMonth: 12, expiryYear: 2030,
    holderName: 'JOHN DOE', issuerName: 'JPMorgan Chase Bank', issuerCountry: 'US', // Payerly's USA, as alpha-2 like Pine Labs'
  });
  const keys = keysDeep(t);
  for (const k of PII_KEYS) assert.ok(!keys.has(k), k);
  const text = JSON.stringify(t);
  for (const v of ['john.doe@example.com', '18001002030', '123.123.123.223', '1960-02-25', 'Liberdade']) assert.ok(!text.includes(v), v);
  assert.equal(t.raw, undefined);

  const narrowed = await client.getToken({ tokenId: 'tok_visa_active', accountId: ACCOUNT, phone: '+18001002030', email: 'John.Doe@example.com' });
  assert.deepEqual(narrowed, t);
  const sent = sandbox().requests.map((r) => r.rawUrl);
  assert.deepEqual(sent, [
    '/payerly/v1/tokens/tok_visa_active',
    `/payerly/v1/tokens/tok_visa_active?accountId=${ACCOUNT}&phone=18001002030&email=John.Doe%40example.com`,
  ]);
  assert.equal(sandbox().requests[0].headers.authorization, `Bearer ${sandbox().credentials.payerly.apiKey}`);
});

test('a mismatching accountId, phone or email, or an unknown token, is NOT_FOUND with the trace id', async () => {
  const client = clientFor(sandbox(), 'payerly');
  for (const input of [
    { tokenId: 'tok_visa_active', accountId: '7c2e4b10-3f5a-11ee-9d21-0242ac120002' },
    { tokenId: 'tok_visa_active', phone: '5511998765432' },
    { tokenId: 'tok_visa_active', email: 'maria.silva@example.com' },
    { tokenId: 'tok_nobody' },
  ]) {
    const err = await rejection(client.getToken(input));
    assert.ok(err instanceof PayTokensError);
    assert.equal(err.code, 'NOT_FOUND', JSON.stringify(input));
    assert.equal(err.httpStatus, 404);
    assert.equal(err.providerCode, '40400');
    assert.equal(err.message, 'Not Found');
    assert.match(err.requestId, /^[0-9a-f]{32}$/);
  }
});

test('the documentation example and tok_expired are EXPIRED', async () => {
  const client = clientFor(sandbox(), 'payerly');
  const doc = await client.getToken({ tokenId: 'string' });
  assert.equal(doc.status, 'EXPIRED');
  assert.equal(doc.expiresAt, '2019-08-24T14:15:22.000Z');
  assert.equal(doc.customerId, ACCOUNT);
  assert.equal(doc.card.brand, 'Unknown');
  assert.equal(doc.card.issuerCountry, 'US');
  const expired = await client.getToken({ tokenId: 'tok_expired' });
  assert.equal(expired.status, 'EXPIRED');
  assert.equal(expired.card.issuerName, 'Banco do Brasil');
  assert.equal(expired.card.expiryYear, 2023);
});

test('an unmasked PAN comes out masked, with and without includeRaw', async () => {
  const client = clientFor(sandbox(), 'payerly');
  const t = await client.getToken({ tokenId: 'tok_fullpan' });
  assert.equal(t.card.maskedPan, '555555******4444');
  assert.equal(t.card.brand, 'Mastercard');
  assert.ok(!/\d{16}/.test(JSON.stringify(t)));
  const raw = await client.getToken({ tokenId: 'tok_fullpan', includeRaw: true });
  const text = JSON.stringify(raw);
  assert.ok(!/\d{16}/.test(text), text);
  assert.ok(!text.includes('5555555555554444'));
  assert.equal(raw.raw.paymentData.object.maskedPan, '555555******4444');
  // includeRaw is the caller's explicit choice to see the provider's object, PII included.
  assert.equal(raw.raw.customer.email, 'maria.silva@example.com');
  assert.equal(raw.raw.tokenId, 'tok_fullpan');
  const xmask = await client.getToken({ tokenId: 'tok_mc_xmask' });
  assert.equal(xmask.card.maskedPan, '555555XXXXXX4444');
  assert.equal(xmask.card.last4, '4444');
});

test('bad lookup inputs give INVALID_INPUT and send nothing', async () => {
  const client = clientFor(sandbox(), 'payerly');
  for (const input of [
    { tokenId: '' }, { tokenId: 'a/b' }, { tokenId: 't', accountId: 'a\nb' }, { tokenId: 't', accountId: '' },
    { tokenId: 't', phone: '123' }, { tokenId: 't', phone: '+1-800-100' }, { tokenId: 't', email: 'nobody' },
    { tokenId: 't', email: 'a@b@c' }, { tokenId: 't', email: 'a b@c.d' },
    // A customerId that scopes the lookup is an id too.
    { tokenId: 't', customerId: '' }, { tokenId: 't', customerId: 'x'.repeat(256) },
  ]) {
    const err = await rejection(client.getToken(input));
    assert.equal(err.code, 'INVALID_INPUT', JSON.stringify(input));
  }
  assert.equal(sandbox().requests.length, 0);
});

test('list, status change, delete, create and query are UNSUPPORTED with zero requests', async () => {
  const client = clientFor(sandbox(), 'payerly');
  assert.deepEqual({ ...client.capabilities }, {
    listTokens: false, getToken: true, updateTokenStatus: false, deleteToken: false, createToken: false, queryTokens: false, pagination: false,
  });
  const before = sandbox().requests.length;
  for (const call of [
    () => client.listTokens({ customerId: ACCOUNT }),
    () => client.iterateTokens({ customerId: ACCOUNT }).next(),
    () => client.updateTokenStatus({ tokenId: 'tok_visa_active', status: 'SUSPENDED' }),
    () => client.deleteToken({ tokenId: 'tok_visa_active' }),
    () => client.createToken({ customerId: ACCOUNT, token: 'x' }),
    () => client.queryTokens({}),
  ]) {
    const err = await rejection(call());
    assert.equal(err.code, 'UNSUPPORTED');
    assert.equal(err.provider, 'payerly');
  }
  assert.equal(sandbox().requests.length, before);
});

test('a wrong key gives AUTHENTICATION with no trace of the key', async () => {
  const key = 'canary-payerly-Hn38vQ';
  const client = createClient({ provider: 'payerly', apiKey: key, baseUrl: sandbox().baseUrls.payerly });
  const err = await rejection(client.getToken({ tokenId: 'tok_visa_active' }));
  assert.equal(err.code, 'AUTHENTICATION');
  assert.equal(err.httpStatus, 401);
  assert.equal(err.providerCode, '40100');
  assert.equal(err.message, 'Unauthorized');
  assert.equal(err.retryable, false);
  for (const text of [err.message, err.stack, JSON.stringify(err), String(err), JSON.stringify(client)]) {
    assert.ok(!text.includes(key), text);
  }
  assert.equal(sandbox().requests.length, 1);
});

test('rate limits are retried; an error envelope inside a 200 is still an error', async () => {
  const client = clientFor(sandbox(), 'payerly');
  sandbox().fault({ provider: 'payerly', scenario: 'rate_limit', retryAfter: 0 });
  const t = await client.getToken({ tokenId: 'tok_visa_active' });
  assert.equal(t.id, 'tok_visa_active');
  assert.equal(sandbox().requests.length, 2);
  sandbox().fault({ provider: 'payerly', scenario: 'error_in_200' });
  const err = await rejection(client.getToken({ tokenId: 'tok_visa_active' }));
  assert.equal(err.code, 'PROVIDER_ERROR');
  assert.equal(err.message, 'Internal Server Error');
});
