// Pine Labs end to end: the built package against the sandbox.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, PayTokensError } from 'paytokens';
import { useSandbox, clientFor, rejection } from './helpers.js';

const sandbox = useSandbox();
const DOC_CUSTOMER = 'cust-v1-0811030624-aa-RBDgpR';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

beforeEach(() => sandbox().reset());

test('the documentation example customer lists as one normalized token', async () => {
  const tokens = await clientFor(sandbox(), 'pinelabs').listTokens({ customerId: DOC_CUSTOMER });
  assert.equal(tokens.length, 1);
  const [t] = tokens;
  assert.equal(t.provider, 'pinelabs');
  assert.equal(t.id, 'token-v1-1234567890-aa-ABCDEF');
  assert.equal(t.customerId, DOC_CUSTOMER);
  assert.equal(t.status, 'ACTIVE');
  assert.equal(t.paymentMethod, 'CARD');
  assert.equal(t.card.last4, '1112');
  assert.equal(t.card.brand, 'Visa');
  assert.equal(t.card.cvvRequired, true, 'whether a charge must collect the CVV again');
  assert.equal(t.card.international, false);
  assert.match(t.createdAt, ISO);
  assert.match(t.expiresAt, ISO);
  assert.equal(t.createdAt, '2024-10-04T13:11:29.645Z');
  assert.equal(t.expiresAt, '2030-12-31T23:59:59.000Z');
});

test('statuses normalize, and the provider word is kept', async () => {
  const tokens = await clientFor(sandbox(), 'pinelabs').listTokens({ customerId: 'cust-v1-statuses' });
  const byWord = Object.fromEntries(tokens.map((t) => [t.providerStatus, t.status]));
  assert.deepEqual(byWord, { INITIATED: 'PENDING', DEACTIVATED: 'DELETED', FAILED: 'FAILED', SUSPENDED: 'SUSPENDED', QUARANTINED: 'UNKNOWN' });
});

test('nulls everywhere and a card without a network still map', async () => {
  const tokens = await clientFor(sandbox(), 'pinelabs').listTokens({ customerId: 'cust-v1-edge' });
  const byId = Object.fromEntries(tokens.map((t) => [t.id, t]));
  assert.equal(byId['token-v1-upi-01'].paymentMethod, 'UPI');
  assert.equal(byId['token-v1-nulls-01'].card, undefined);
  assert.equal(byId['token-v1-nonetwork-01'].card.brand, 'Unknown');
  // Pine Labs still says ACTIVE, but the token expired on 2024-05-31: not chargeable.
  const expired = byId['token-v1-expired-01'];
  assert.deepEqual([expired.status, expired.providerStatus, expired.expiresAt], ['EXPIRED', 'ACTIVE', '2024-05-31T23:59:59.000Z']);
});

test('500 concurrent listTokens on a fresh client make exactly one access-token request', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  const results = await Promise.all(Array.from({ length: 500 }, () => client.listTokens({ customerId: DOC_CUSTOMER })));
  assert.equal(results.length, 500);
  assert.ok(results.every((r) => r.length === 1 && r[0].id === 'token-v1-1234567890-aa-ABCDEF'));
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: '/auth/v1/token' }), 1);
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: '/tokens' }), 500);
});

test('a wrong secret gives AUTHENTICATION with no trace of the secret', async () => {
  const secret = 'canary-pinelabs-Zq81xT';
  const client = createClient({ provider: 'pinelabs', clientId: sandbox().credentials.pinelabs.clientId, clientSecret: secret, baseUrl: sandbox().baseUrls.pinelabs });
  const err = await rejection(client.listTokens({ customerId: DOC_CUSTOMER }));
  assert.ok(err instanceof PayTokensError);
  assert.ok(err instanceof Error);
  assert.equal(err.code, 'AUTHENTICATION');
  assert.equal(err.provider, 'pinelabs');
  assert.equal(err.httpStatus, 401);
  assert.equal(err.retryable, false);
  for (const text of [err.message, err.stack, JSON.stringify(err), String(err), JSON.stringify(client)]) {
    assert.ok(!text.includes(secret), text);
  }
  // No token request is retried with a wrong secret, and no token call is made.
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: '/auth/v1/token' }), 1);
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: '/customer/' }), 0);
  // Nor do the next calls sign in again for 30 s: a busy server would otherwise send one refused
  // sign-in per call, which providers count toward locking the merchant out.
  const next = await Promise.all([1, 2, 3].map(() => rejection(client.listTokens({ customerId: DOC_CUSTOMER }))));
  for (const e of next) {
    assert.deepEqual([e.code, e.httpStatus, e.retryable], ['AUTHENTICATION', 401, false]);
    assert.match(e.message, /this refusal is repeated for 30 s without a new sign-in; a client made with corrected credentials signs in at once/);
    assert.ok(!JSON.stringify(e).includes(secret));
  }
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: '/auth/v1/token' }), 1);
});

test('404 gives NOT_FOUND with httpStatus and providerCode; 403 gives PERMISSION', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  const missing = await rejection(client.listTokens({ customerId: 'cust-nobody' }));
  assert.equal(missing.code, 'NOT_FOUND');
  assert.equal(missing.httpStatus, 404);
  // INVALID_REQUEST is Pine Labs' code for every refusal: the status says which one it is.
  assert.equal(missing.providerCode, 'INVALID_REQUEST');
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: 'cust-nobody' }), 1, '404 is not retried');
  const forbidden = await rejection(client.listTokens({ customerId: 'cust-forbidden' }));
  assert.equal(forbidden.code, 'PERMISSION');
  assert.equal(forbidden.httpStatus, 403);
  assert.equal(forbidden.providerCode, 'INVALID_REQUEST');
  // Pine Labs looks a token up under the customer in its path: another customer's token is
  // NOT_FOUND there (as the README says), and it stays.
  const TOKEN = 'token-v1-1234567890-aa-ABCDEF';
  for (const call of [client.getToken({ tokenId: TOKEN, customerId: 'cust-v1-statuses' }), client.deleteToken({ tokenId: TOKEN, customerId: 'cust-v1-statuses' })]) {
    const err = await rejection(call);
    assert.equal(err.httpStatus, 404);
    assert.equal(err.code, 'NOT_FOUND');
  }
  assert.equal((await client.getToken({ tokenId: TOKEN, customerId: DOC_CUSTOMER })).status, 'ACTIVE');
});

test('an empty, missing or path-steering customerId gives INVALID_INPUT and sends nothing', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  for (const input of [{}, { customerId: '' }, { customerId: 'a/b' }, { customerId: '..' }, { customerId: 'x?y=1' }, { customerId: '../../auth/v1/token' }, { customerId: 'a#b' }, undefined, null, 'cust']) {
    const err = await rejection(client.listTokens(input));
    assert.equal(err.code, 'INVALID_INPUT', JSON.stringify(input));
    assert.equal(err.provider, 'pinelabs');
  }
  assert.equal(sandbox().requests.length, 0);
});

test('a customerId with URL-special characters is sent as one encoded path segment', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  await rejection(client.listTokens({ customerId: 'cust+1@x' }));
  const sent = sandbox().requests.filter((r) => r.rawUrl.includes('/customer/'));
  assert.equal(sent.length, 1);
  assert.equal(sent[0].rawUrl, '/pinelabs/api/v1/customer/cust%2B1%40x/tokens');
});

test('a sign-in answered "not found" (a baseUrl with a wrong path) is not the token being gone: the delete is not sent, and the token stays', async () => {
  const client = clientFor(sandbox(), 'pinelabs', { baseUrl: `${sandbox().baseUrls.pinelabs}/v2` });
  const err = await rejection(client.deleteToken({ customerId: DOC_CUSTOMER, tokenId: 'token-v1-1234567890-aa-ABCDEF' }));
  assert.deepEqual([err.code, err.httpStatus, err.retryable], ['PROVIDER_ERROR', 404, false]);
  assert.match(err.message, /^the sign-in address was not found \(check baseUrl\): /);
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: '/delete' }), 0);
  const [t] = await clientFor(sandbox(), 'pinelabs').listTokens({ customerId: DOC_CUSTOMER });
  assert.equal(t.status, 'ACTIVE');
});

test('getToken, deleteToken with a valid merchant_unique_reference, and iterateTokens', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  const t = await client.getToken({ customerId: DOC_CUSTOMER, tokenId: 'token-v1-1234567890-aa-ABCDEF' });
  assert.equal(t.card.last4, '1112');
  const missingCustomer = await rejection(client.getToken({ tokenId: 'token-v1-1234567890-aa-ABCDEF' }));
  assert.equal(missingCustomer.code, 'INVALID_INPUT');
  assert.equal(await client.deleteToken({ customerId: DOC_CUSTOMER, tokenId: t.id }), undefined);
  const del = sandbox().requests.find((r) => r.path.endsWith('/delete'));
  assert.match(JSON.parse(del.body).merchant_unique_reference, /^[A-Za-z_-]{1,50}$/);
  const after = await client.getToken({ customerId: DOC_CUSTOMER, tokenId: t.id });
  assert.equal(after.status, 'DELETED');
  const streamed = [];
  for await (const token of client.iterateTokens({ customerId: 'cust-bench-25' })) streamed.push(token.id);
  assert.equal(streamed.length, 25);
  assert.equal(new Set(streamed).size, 25);
  // Methods work detached from the client, as callbacks are often passed.
  const { getToken, iterateTokens } = client;
  assert.equal((await getToken({ customerId: DOC_CUSTOMER, tokenId: t.id })).id, t.id);
  let count = 0;
  for await (const token of iterateTokens({ customerId: 'cust-bench-25' })) count += token ? 1 : 0;
  assert.equal(count, 25);
});

test('an expired access token is renewed once and the call retried once', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  await client.listTokens({ customerId: DOC_CUSTOMER });
  sandbox().reset(); // forgets issued access tokens: the next call gets a 401
  const tokens = await client.listTokens({ customerId: DOC_CUSTOMER });
  assert.equal(tokens.length, 1);
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: '/auth/v1/token' }), 1);
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: '/customer/' }), 2);
});

test('a 408 (the server gave up waiting for the request) on a list is retried, and the list succeeds', async () => {
  sandbox().fault({ provider: 'pinelabs', scenario: 'server_error', status: 408, pathIncludes: '/customer/' });
  const tokens = await clientFor(sandbox(), 'pinelabs', { maxRetries: 2 }).listTokens({ customerId: DOC_CUSTOMER });
  assert.equal(tokens.length, 1);
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: '/customer/' }), 2);
});

test('config errors name the field, before any request', async () => {
  const cases = [
    [{ provider: 'pinelabs', clientSecret: 'x' }, /clientId/],
    [{ provider: 'pinelabs', clientId: 'x', clientSecret: 'x', timeoutMs: -1 }, /config\.timeoutMs/],
    [{ provider: 'pinelabs', clientId: 'x', clientSecret: 'x', fetch: 3 }, /config\.fetch/],
    [{ provider: 'pinelabs', clientId: 'x', clientSecret: 'x', fetch: null }, /config\.fetch: must be a function/],
    [{ provider: 'pinelabs', clientId: 'x', clientSecret: 'x', onSessionUpdate: 'save' }, /config\.onSessionUpdate: is not an option for pinelabs/],
    // JSON would write these as null, a silent default; they are refused instead.
    [{ provider: 'pinelabs', clientId: 'x', clientSecret: 'x', timeoutMs: NaN }, /config\.timeoutMs/],
    [{ provider: 'pinelabs', clientId: 'x', clientSecret: 'x', maxRetries: Infinity }, /config\.maxRetries/],
    [{ provider: 'pinelabs', clientId: 'x', clientSecret: 'x', deadlineMs: -Infinity }, /config\.deadlineMs/],
    [{ provider: 'pinelabs', clientId: 'x', clientSecret: 'x', timeoutMs: 5n }, /^config: must hold only plain data/],
    [{ provider: 'mystery' }, /config\.provider/],
    [null, /config/],
  ];
  for (const [config, pattern] of cases) {
    // Every error names its provider once the config names a known one.
    const provider = config?.provider === 'pinelabs' ? 'pinelabs' : undefined;
    assert.throws(() => createClient(config), (err) => err instanceof PayTokensError && err.code === 'INVALID_INPUT' && pattern.test(err.message) && err.provider === provider);
  }
});

test('capabilities say what Pine Labs has', () => {
  const client = clientFor(sandbox(), 'pinelabs');
  assert.equal(client.provider, 'pinelabs');
  assert.equal(client.capabilities.listTokens, true);
  assert.equal(client.capabilities.updateTokenStatus, false);
});
