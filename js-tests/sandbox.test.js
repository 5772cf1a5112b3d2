// Exercises the provider emulator directly over HTTP (no SDK involved).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CompactEncrypt, compactDecrypt, importJWK } from 'jose';
import { startSandbox } from '../sandbox/server.js';
import { coDatetime, allianceUtc, allianceKyiv } from '../sandbox/time.js';
import http from 'node:http';

let sbx;
// An hour before the instant of AlliancePay's doc example, so its session reply can be compared with it.
let clock = Date.UTC(2025, 1, 27, 11, 12, 34, 430);
before(async () => {
  sbx = await startSandbox({ now: () => clock });
});
after(() => sbx.close());

const getJson = async (res) => ({ status: res.status, body: await res.json(), res });

async function pineToken() {
  const { clientId, clientSecret } = sbx.credentials.pinelabs;
  const r = await fetch(`${sbx.baseUrls.pinelabs}/auth/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, client_secret: clientSecret, grant_type: 'client_credentials' }),
  });
  assert.equal(r.status, 200);
  return r.json();
}

test('pine labs: token, list verbatim doc customer, auth and delete', async () => {
  sbx.reset();
  const bad = await getJson(
    await fetch(`${sbx.baseUrls.pinelabs}/auth/v1/token`, {
      method: 'POST',
      body: JSON.stringify({ client_id: 'x', client_secret: 'y', grant_type: 'client_credentials' }),
    }),
  );
  assert.deepEqual(bad.body, { code: 'UNAUTHORIZED', message: 'Invalid client credentials' });

  const tok = await pineToken();
  assert.match(tok.expires_at, /^2025-02-27T12:12:34\.430000Z$/);
  const auth = { authorization: `Bearer ${tok.access_token}` };

  const noAuth = await fetch(`${sbx.baseUrls.pinelabs}/v1/customer/cust-v1-0811030624-aa-RBDgpR/tokens`);
  assert.equal(noAuth.status, 401);

  const list = await getJson(await fetch(`${sbx.baseUrls.pinelabs}/v1/customer/cust-v1-0811030624-aa-RBDgpR/tokens`, { headers: auth }));
  assert.equal(list.status, 200);
  assert.equal(list.body.total_tokens, 1);
  assert.equal(list.body.tokens[0].token_id, 'token-v1-1234567890-aa-ABCDEF');
  assert.equal(list.body.tokens[0].card_data.network_name, 'Visa');

  const forbidden = await getJson(await fetch(`${sbx.baseUrls.pinelabs}/v1/customer/cust-forbidden/tokens`, { headers: auth }));
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.body.code, 'INVALID_REQUEST');

  const bench = await getJson(await fetch(`${sbx.baseUrls.pinelabs}/v1/customer/cust-bench-250/tokens`, { headers: auth }));
  assert.equal(bench.body.tokens.length, 250);

  const delUrl = `${sbx.baseUrls.pinelabs}/v1/customer/cust-v1-statuses/tokens/token-v1-suspended-01/delete`;
  const badRef = await fetch(delUrl, { method: 'POST', headers: auth, body: JSON.stringify({ merchant_unique_reference: 'has space' }) });
  assert.equal(badRef.status, 400);
  const digits = await fetch(delUrl, { method: 'POST', headers: auth, body: JSON.stringify({ merchant_unique_reference: 'ref-001' }) });
  assert.equal(digits.status, 400, 'the docs allow letters, - and _ only');
  const del = await getJson(await fetch(delUrl, { method: 'POST', headers: auth, body: JSON.stringify({ merchant_unique_reference: 'del-first' }) }));
  assert.deepEqual(del.body, {
    token_id: 'token-v1-suspended-01', customer_id: 'cust-v1-statuses', status: 'DEACTIVATED', merchant_unique_reference: 'del-first',
  });

  clock += 60 * 60 * 1000;
  const expired = await fetch(`${sbx.baseUrls.pinelabs}/v1/customer/cust-v1-edge/tokens`, { headers: auth });
  assert.equal(expired.status, 401);
  clock -= 60 * 60 * 1000;
});

async function allianceSession() {
  const { serviceCode, merchantPrivateKey } = sbx.credentials.alliancepay;
  const r = await fetch(`${sbx.baseUrls.alliancepay}/api-gateway/authorize_virtual_device`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api_version': 'V1' },
    body: JSON.stringify({ serviceCode }),
  });
  assert.equal(r.status, 200);
  const { jwe } = await r.json();
  const key = await importJWK(merchantPrivateKey, 'ECDH-ES+A256KW');
  const { plaintext } = await compactDecrypt(jwe, key);
  return { session: JSON.parse(new TextDecoder().decode(plaintext)), key };
}

test('alliancepay: authorize, encrypted list, plain state update, session errors', async () => {
  sbx.reset();
  const { session, key } = await allianceSession();
  // Both forms of the doc's example, for one instant (the UTC form pads milliseconds to four digits).
  assert.equal(session.tokenExpirationDateTime, '2025-02-27 12:12:34.0430 +0000');
  assert.equal(session.tokenExpiration, '2025-02-27 14:12:34.430+02:00');
  assert.equal(session.sessionExpiration, 60);
  assert.equal(session.serverPublic.crv, 'P-384');
  assert.equal(session.serverPublic.d, undefined);

  const headers = {
    'x-api_version': 'V1', 'x-device_id': session.deviceId, 'x-refresh_token': session.refreshToken, 'x-request_id': 'req-1',
  };
  const bankKey = await importJWK(session.serverPublic, 'ECDH-ES+A256KW');
  const body = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ customerId: 'senderCustomerId' })))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' })
    .encrypt(bankKey);
  const listUrl = `${sbx.baseUrls.alliancepay}/ecom/execute_request/token/v1/list/by-customer-id`;
  const r = await fetch(listUrl, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body });
  assert.equal(r.status, 200);
  const { jwe } = await r.json();
  const list = JSON.parse(new TextDecoder().decode((await compactDecrypt(jwe, key)).plaintext));
  assert.deepEqual(list.result[0], {
    token: '-s9UCfCNN0YMk4ZOyZX8pWAt',
    status: 'ACTIVE',
    maskedPan: '523244\u2022\u2022\u2022\u2022\u2022\u20220177',
    customerId: 'senderCustomerId',
    merchantId: '137d9304-0368-11ed-b939-0242ac120002',
  });
  assert.deepEqual(list.result.map((t) => t.status), ['ACTIVE', 'SUSPENDED', 'DELETED']);

  const upd = (token, state) =>
    fetch(`${sbx.baseUrls.alliancepay}/ecom/execute_request/token/v1/state/update`, {
      method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ token, state }),
    }).then(getJson);
  assert.deepEqual((await upd('-s9UCfCNN0YMk4ZOyZX8pWAt', 'SUSPENDED')).body, {
    tokenUpdated: true, customerId: 'senderCustomerId', token: '-s9UCfCNN0YMk4ZOyZX8pWAt',
  });
  assert.equal((await upd('Zd3_hJ6sVw0nPq5uGk8rTy2m', 'ACTIVE')).body.tokenUpdated, false);
  // Fields the bank refuses, a null among them, are a VALIDATION_ERROR.
  for (const [token, state] of [[null, 'ACTIVE'], ['-s9UCfCNN0YMk4ZOyZX8pWAt', null], ['x'.repeat(256), 'ACTIVE'], ['t', 'GONE']]) {
    const refused = await upd(token, state);
    assert.equal(refused.status, 400);
    assert.deepEqual([refused.body.msgType, refused.body.msgCode], ['VALIDATION_ERROR', 'b_request_is_not_correct']);
  }
  const unknown = await upd('nope', 'ACTIVE');
  assert.equal(unknown.status, 200);
  assert.equal(unknown.body.msgCode, 'b_invalid_request');
  assert.equal(unknown.body.requestId, 'req-1');

  const noSession = await getJson(await fetch(listUrl, { method: 'POST', headers: { 'x-api_version': 'V1', 'content-type': 'application/json' }, body: '{"customerId":"12345"}' }));
  assert.equal(noSession.status, 401);
  assert.equal(noSession.body.msgCode, 'b_unknown_device');

  sbx.fault({ provider: 'alliancepay', scenario: 'session_expired' });
  const jsonHeaders = { ...headers, 'content-type': 'application/json' };
  const expired = await getJson(await fetch(listUrl, { method: 'POST', headers: jsonHeaders, body: '{"customerId":"12345"}' }));
  assert.equal(expired.status, 401);
  assert.equal(expired.body.msgCode, 'b_expired_token');

  const unknownService = await getJson(
    await fetch(`${sbx.baseUrls.alliancepay}/api-gateway/authorize_virtual_device`, {
      method: 'POST', headers: { 'x-api_version': 'V1', 'content-type': 'application/json' }, body: JSON.stringify({ serviceCode: 'nope' }),
    }),
  );
  assert.equal(unknownService.status, 200);
  assert.equal(unknownService.body.msgCode, 'b_terminal_not_found');
});

const coAuth = () => {
  const { username, password } = sbx.credentials.chargeover;
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
};

test('chargeover: basic auth, where/paging, get, create and delete', async () => {
  sbx.reset();
  const missing = await getJson(await fetch(`${sbx.baseUrls.chargeover}/tokenized`));
  assert.deepEqual(missing.body, {
    code: 401, status: 'Error', message: 'Invalid or incorrect authorization [Missing (basic) authorization header.]', details: {}, response: false,
  });
  const wrong = await fetch(`${sbx.baseUrls.chargeover}/tokenized`, { headers: { authorization: 'Basic eDp5' } });
  assert.equal((await wrong.json()).message, 'Invalid or incorrect authorization [Invalid API credentials.]');

  const page = (offset) =>
    fetch(`${sbx.baseUrls.chargeover}/tokenized?where=customer_id:EQUALS:1000&order=customer_id:ASC&offset=${offset}&limit=10`, { headers: coAuth() }).then(getJson);
  const pages = [await page(0), await page(10), await page(20)];
  assert.deepEqual(pages.map((p) => p.body.response.length), [10, 10, 5]);

  const doc = await getJson(await fetch(`${sbx.baseUrls.chargeover}/tokenized?where=customer_id:EQUALS:2`, { headers: coAuth() }));
  assert.deepEqual(doc.body, {
    code: 200, status: 'OK', message: '', details: {},
    response: [{ tokenized_id: 1, type: 'customer', name: null, token: 'cus_5tSkoQ6mDrXOMQ', expdate: null, type_hint: null, paymethod_hint: null, customer_id: 2 }],
  });

  const anded = await getJson(await fetch(`${sbx.baseUrls.chargeover}/tokenized?where=${encodeURIComponent('customer_id:GTE:1000,customer_external_key:EQUALS:cust-1000')}&limit=100`, { headers: coAuth() }));
  assert.ok(anded.body.response.length > 0 && anded.body.response.every((r) => r.customer_id === 1000));

  // Fields ChargeOver does not document for token queries are refused, as a real instance may.
  for (const q of ['where=bogus:EQUALS:1', 'where=name:CONTAINS:visa', 'where=customer_id:LIKE:1', 'limit=501']) {
    const r = await fetch(`${sbx.baseUrls.chargeover}/tokenized?${q}`, { headers: coAuth() });
    assert.equal(r.status, 400, q);
  }

  const created = await getJson(await fetch(`${sbx.baseUrls.chargeover}/tokenized`, {
    method: 'POST', headers: coAuth(), body: JSON.stringify({ customer_id: 1002, type: 'customer', token: 'cus_new' }),
  }));
  assert.equal(created.status, 201);
  const id = created.body.response.id;
  const one = await getJson(await fetch(`${sbx.baseUrls.chargeover}/tokenized/${id}`, { headers: coAuth() }));
  assert.equal(one.body.response.token, 'cus_new');
  const del = await getJson(await fetch(`${sbx.baseUrls.chargeover}/tokenized/${id}`, { method: 'DELETE', headers: coAuth() }));
  assert.equal(del.body.response, true);
  assert.equal((await fetch(`${sbx.baseUrls.chargeover}/tokenized/${id}`, { headers: coAuth() })).status, 404);
});

test('payerly: bearer key, doc token, filters and email validation', async () => {
  sbx.reset();
  const auth = { authorization: `Bearer ${sbx.credentials.payerly.apiKey}` };
  const unauth = await getJson(await fetch(`${sbx.baseUrls.payerly}/tokens/string`));
  assert.equal(unauth.status, 401);
  assert.equal(unauth.body.error.code, 40100);

  const doc = await getJson(await fetch(`${sbx.baseUrls.payerly}/tokens/string`, { headers: auth }));
  assert.equal(doc.body.items[0].type, 'TOKEN');
  assert.equal(doc.body.items[0].object.expireAt, '2019-08-24T14:15:22Z');
  assert.ok(doc.res.headers.get('date'));

  const ok = await fetch(`${sbx.baseUrls.payerly}/tokens/tok_visa_active?accountId=df1a2c9e-bc2b-11ed-8332-811eecb5ec73`, { headers: auth });
  assert.equal(ok.status, 200);
  const mismatch = await fetch(`${sbx.baseUrls.payerly}/tokens/tok_visa_active?accountId=someone-else`, { headers: auth });
  assert.equal(mismatch.status, 404);
  const badEmail = await getJson(await fetch(`${sbx.baseUrls.payerly}/tokens/tok_visa_active?email=nope`, { headers: auth }));
  assert.equal(badEmail.status, 400);
  assert.equal(badEmail.body.error.details[0].fields[0].name, 'email');
});

test('faults: rate_limit with Retry-After, reset drops the connection, log and CORS', async () => {
  sbx.reset();
  const auth = { authorization: `Bearer ${sbx.credentials.payerly.apiKey}` };
  sbx.fault({ provider: 'payerly', scenario: 'rate_limit', retryAfter: 7 });
  const limited = await fetch(`${sbx.baseUrls.payerly}/tokens/string`, { headers: auth });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '7');
  assert.equal((await limited.json()).error.code, 42900);
  assert.equal((await fetch(`${sbx.baseUrls.payerly}/tokens/string`, { headers: auth })).status, 200);
  // `skip` lets that many matching requests through first.
  sbx.fault({ provider: 'payerly', scenario: 'rate_limit', skip: 1 });
  assert.equal((await fetch(`${sbx.baseUrls.payerly}/tokens/string`, { headers: auth })).status, 200);
  assert.equal((await fetch(`${sbx.baseUrls.payerly}/tokens/string`, { headers: auth })).status, 429);
  assert.equal((await fetch(`${sbx.baseUrls.payerly}/tokens/string`, { headers: auth })).status, 200);
  assert.throws(() => sbx.fault({ provider: 'payerly', scenario: 'rate_limit', skip: -1 }), /skip must be a whole number/);

  sbx.fault({ provider: 'payerly', scenario: 'reset' });
  await assert.rejects(fetch(`${sbx.baseUrls.payerly}/tokens/string`, { headers: auth }));

  sbx.fault({ provider: 'chargeover', scenario: 'truncated' });
  const truncated = await fetch(`${sbx.baseUrls.chargeover}/tokenized`, { headers: coAuth() });
  await assert.rejects(truncated.text());

  sbx.fault({ provider: 'pinelabs', scenario: 'html_502' });
  const html = await fetch(`${sbx.baseUrls.pinelabs}/v1/customer/x/tokens`);
  assert.equal(html.status, 502);
  assert.match(html.headers.get('content-type'), /text\/html/);
  await html.text();

  assert.equal(sbx.count({ provider: 'payerly', pathIncludes: '/tokens/string' }), 6);
  assert.equal(sbx.requests.at(-1).rawUrl, '/pinelabs/api/v1/customer/x/tokens');

  const pre = await fetch(`${sbx.baseUrls.alliancepay}/ecom/execute_request/token/v1/get`, {
    method: 'OPTIONS',
    headers: { origin: 'http://example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-device_id' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-headers'), /x-refresh_token/);

  const fault = JSON.stringify({ provider: 'chargeover', scenario: 'server_error', status: 500 });
  // A plain (form-like) post, which any page could send cross-site, changes nothing.
  assert.equal((await fetch(`${sbx.url}/_sandbox/faults`, { method: 'POST', body: fault })).status, 415);
  const control = await fetch(`${sbx.url}/_sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: fault });
  assert.equal(control.status, 200);
  const failed = await getJson(await fetch(`${sbx.baseUrls.chargeover}/tokenized`, { headers: coAuth() }));
  assert.equal(failed.status, 500);
  assert.equal(failed.body.status, 'Error');
  // The request log (it holds secrets) is not readable from other origins, nor by another host name.
  const log = await fetch(`${sbx.url}/_sandbox/requests`, { headers: { origin: 'http://example.test' } });
  assert.equal(log.headers.get('access-control-allow-origin'), null);
  const controlPreflight = await fetch(`${sbx.url}/_sandbox/reset`, { method: 'OPTIONS', headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' } });
  assert.equal(controlPreflight.headers.get('access-control-allow-origin'), null);
  assert.equal((await fetch(`${sbx.url}/_sandbox/credentials`, { headers: { origin: 'http://example.test' } })).headers.get('access-control-allow-origin'), '*');
  const rebound = await new Promise((resolve, reject) => {
    http.get(`${sbx.url}/_sandbox/requests`, { headers: { host: 'evil.example:80' } }, (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
  });
  assert.equal(rebound, 421);
  assert.equal((await fetch(`${sbx.url}/_sandbox/reset`, { method: 'POST', headers: { 'content-type': 'application/json' } })).status, 200);
  assert.equal(sbx.requests.length, 0);
});

test("the sandbox writes times in each provider's documented form and zone, across daylight saving", () => {
  // ChargeOver's doc example, in Chicago's summer time, and the same wall time in winter.
  assert.equal(coDatetime(Date.UTC(2022, 9, 25, 13, 50, 45)), '2022-10-25T08:50:45-05:00');
  assert.equal(coDatetime(Date.UTC(2022, 11, 25, 14, 50, 45)), '2022-12-25T08:50:45-06:00');
  // The hour Chicago's clocks skip (2024-03-10 02:00 local) and the hour they repeat.
  assert.equal(coDatetime(Date.UTC(2024, 2, 10, 7, 59, 59)), '2024-03-10T01:59:59-06:00');
  assert.equal(coDatetime(Date.UTC(2024, 2, 10, 8, 0, 0)), '2024-03-10T03:00:00-05:00');
  assert.equal(coDatetime(Date.UTC(2024, 10, 3, 6, 30)), '2024-11-03T01:30:00-05:00');
  assert.equal(coDatetime(Date.UTC(2024, 10, 3, 7, 30)), '2024-11-03T01:30:00-06:00');
  // AlliancePay's doc pair: the same instant in UTC and in Kyiv (winter +02:00, summer +03:00).
  const doc = Date.UTC(2025, 1, 27, 12, 12, 34, 430);
  assert.equal(allianceUtc(doc), '2025-02-27 12:12:34.0430 +0000');
  assert.equal(allianceKyiv(doc), '2025-02-27 14:12:34.430+02:00');
  assert.equal(allianceKyiv(Date.UTC(2025, 6, 1, 21, 30, 0, 5)), '2025-07-02 00:30:00.005+03:00');
});
