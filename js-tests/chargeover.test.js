// ChargeOver end to end: the built package against the sandbox (Basic auth, paging, queries, store/get/delete).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, PayTokensError } from 'paytokens';
import { parseWhere } from '../sandbox/chargeover.js';
import { useSandbox, clientFor, rejection } from './helpers.js';

const sandbox = useSandbox();
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

beforeEach(() => sandbox().reset());

const tokenRequests = () => sandbox().requests.filter((r) => r.provider === 'chargeover');

test('deleting the tokens an iteration hands out skips none of the rest', async () => {
  const client = clientFor(sandbox(), 'chargeover', { pageSize: 4 });
  const before = (await client.listTokens({ customerId: '1000' })).map((t) => t.id);
  assert.equal(before.length, 25);
  const seen = [];
  for await (const t of client.iterateTokens({ customerId: '1000' })) {
    seen.push(t.id);
    await client.deleteToken({ tokenId: t.id });
  }
  assert.deepEqual(seen, before);
  assert.deepEqual(await client.listTokens({ customerId: '1000' }), []);
});

test('a 25-token customer comes back whole across pages, from listTokens and iterateTokens', async () => {
  const client = clientFor(sandbox(), 'chargeover', { pageSize: 10 });
  const listed = await client.listTokens({ customerId: '1000' });
  assert.equal(listed.length, 25);
  assert.deepEqual(listed.map((t) => t.id), Array.from({ length: 25 }, (_, i) => String(i + 2)));
  assert.equal(new Set(listed.map((t) => t.id)).size, 25);
  const pages = tokenRequests().map((r) => r.rawUrl);
  // Pages after the first start one row early, to check that no row moved.
  assert.deepEqual(pages, [0, 9, 18].map((o) => `/chargeover/api/v3/tokenized?where=customer_id:EQUALS:1000&order=tokenized_id:ASC&offset=${o}&limit=10`));
  for (const t of listed) {
    assert.equal(t.provider, 'chargeover');
    assert.equal(t.customerId, '1000');
    assert.ok(['ACTIVE', 'EXPIRED'].includes(t.status));
    assert.ok(['CARD', 'ACH'].includes(t.paymentMethod));
    assert.match(t.createdAt, ISO);
    assert.ok(t.gatewayToken);
  }
  const card = listed.find((t) => t.paymentMethod === 'CARD' && t.card.expiryYear === 2030);
  assert.equal(card.status, 'ACTIVE');
  assert.ok(['Visa', 'Mastercard', 'Discover', 'American Express'].includes(card.card.brand));
  assert.ok(listed.some((t) => t.status === 'EXPIRED'));
  assert.ok(listed.filter((t) => t.paymentMethod === 'ACH').every((t) => t.card === undefined));

  const streamed = [];
  for await (const t of client.iterateTokens({ customerId: '1000' })) streamed.push(t.id);
  assert.deepEqual(streamed, listed.map((t) => t.id));
  // The query is read once: changing the caller's object mid-listing does not switch customers.
  const query = { customerId: '1000' };
  const owners = [];
  for await (const t of client.iterateTokens(query)) {
    owners.push(t.customerId);
    query.customerId = '1001';
  }
  assert.equal(owners.length, 25);
  assert.ok(owners.every((c) => c === '1000'));
  // ...and read when the call is made, not at the first next(): one object reused for the next
  // customer at once (iterators built in a loop) must not turn the first listing into the second.
  const reused = { customerId: '1000' };
  const first = client.iterateTokens(reused);
  reused.customerId = '1001';
  const second = client.iterateTokens(reused);
  const ownersOf = async (it) => { const seen = new Set(); for await (const t of it) seen.add(t.customerId); return [...seen]; };
  assert.deepEqual(await ownersOf(first), ['1000']);
  assert.notDeepEqual(await ownersOf(second), ['1000']);
  // A query whose getter throws is bad input, as it is for every other call.
  const throwing = { get customerId() { throw new Error('boom'); } };
  const err = await rejection((async () => { for await (const t of client.iterateTokens(throwing)) void t; })());
  assert.ok(err instanceof PayTokensError);
  assert.equal(err.code, 'INVALID_INPUT');
  assert.equal(err.provider, 'chargeover', 'named by the core, as for any call');
  assert.equal(client.capabilities.pagination, true);
});

test('a page of exactly pageSize rows is followed by one more request; the default page size is 50', async () => {
  const client = clientFor(sandbox(), 'chargeover', { pageSize: 5 });
  assert.equal((await client.listTokens({ customerId: '1000' })).length, 25);
  // 5 tokens, then 4 new per page (each re-reads the last one), then the one row that ends it.
  assert.equal(tokenRequests().length, 7);
  sandbox().reset();
  assert.equal((await clientFor(sandbox(), 'chargeover').listTokens({ customerId: '9000' })).length, 500);
  assert.equal(tokenRequests().length, 11);
  assert.ok(tokenRequests()[0].rawUrl.endsWith('&offset=0&limit=50'));
});

test('the maxPages cap stops a listing with PROVIDER_ERROR, in listTokens and iterateTokens', async () => {
  const client = clientFor(sandbox(), 'chargeover', { pageSize: 10, maxPages: 2 });
  const err = await rejection(client.listTokens({ customerId: '1000' }));
  assert.ok(err instanceof PayTokensError);
  assert.equal(err.code, 'PROVIDER_ERROR');
  assert.match(err.message, /2 pages.*maxPages/);
  // 10 tokens, 9, then the 20th; the page past the cap is asked for only to see whether the
  // listing has ended: it has not.
  assert.equal(tokenRequests().length, 4);
  const seen = [];
  const iterErr = await rejection((async () => {
    for await (const t of client.iterateTokens({ customerId: '1000' })) seen.push(t.id);
  })());
  assert.equal(iterErr.code, 'PROVIDER_ERROR');
  assert.equal(seen.length, 20);
  // Exactly at the cap is fine.
  assert.equal((await clientFor(sandbox(), 'chargeover', { pageSize: 10, maxPages: 3 }).listTokens({ customerId: '1000' })).length, 25);
  // A clean-up job deleting each token it is handed keeps the offset low: the cap still counts
  // the tokens handed out, so one run deletes 20, not the customer's 25.
  const deleted = [];
  const cleanupErr = await rejection((async () => {
    for await (const t of client.iterateTokens({ customerId: '1000' })) {
      await client.deleteToken({ tokenId: t.id, customerId: '1000' });
      deleted.push(t.id);
    }
  })());
  assert.deepEqual([cleanupErr.code, deleted.length, new Set(deleted).size], ['PROVIDER_ERROR', 20, 20]);
  assert.equal((await client.listTokens({ customerId: '1000' })).filter((t) => t.status !== 'DELETED').length, 5);
});

test('the documentation record and a stored full card number', async () => {
  const client = clientFor(sandbox(), 'chargeover');
  const [doc] = await client.listTokens({ customerId: '2' });
  assert.equal(doc.id, '1');
  assert.equal(doc.customerId, '2');
  assert.equal(doc.status, 'ACTIVE');
  assert.equal(doc.paymentMethod, 'UNKNOWN');
  assert.equal(doc.gatewayToken, 'cus_5tSkoQ6mDrXOMQ');
  assert.equal(doc.card, undefined);
  const tokens = await client.listTokens({ customerId: '1001' });
  const text = JSON.stringify(tokens);
  assert.ok(!/\d{13,}/.test(text), text);
  assert.ok(tokens.some((t) => t.label === 'Visa 411111******1111'));
});

test('queryTokens escapes commas and encodes values once so the sandbox reads them back exactly', async () => {
  const client = clientFor(sandbox(), 'chargeover');
  const tricky = ['CUST-1000,x', 'a&b=c', '50%', 'a+b c', 'üñí,çødé', 'x,,y,', 'k:v'];
  for (const value of tricky) {
    const rows = await client.queryTokens({ where: [{ field: 'customer_external_key', op: 'CONTAINS', value }, { field: 'customer_id', op: 'GTE', value: 1000 }] });
    assert.deepEqual(rows, [], value);
    const last = tokenRequests().at(-1);
    const where = new URL(last.rawUrl, 'http://x').searchParams.get('where');
    assert.deepEqual(parseWhere(where), [
      { field: 'customer_external_key', op: 'CONTAINS', value },
      { field: 'customer_id', op: 'GTE', value: '1000' },
    ], last.rawUrl);
  }
  const comma = tokenRequests()[0].rawUrl;
  assert.equal(comma, '/chargeover/api/v3/tokenized?where=customer_external_key:CONTAINS:CUST-1000%5C,x,customer_id:GTE:1000&offset=0&limit=50');
  const found = await client.queryTokens({ where: [{ field: 'customer_external_key', op: 'EQUALS', value: 'cust-1000' }], order: [{ field: 'tokenized_id', direction: 'DESC' }], offset: 20, limit: 10 });
  assert.deepEqual(found.map((t) => t.id), ['6', '5', '4', '3', '2']);
  const nulls = await client.queryTokens({ where: [{ field: 'customer_external_key', op: 'IS:NULL' }] });
  assert.deepEqual(nulls.map((t) => t.id), ['1']);
  // Every order field the client offers is one the sandbox sorts by.
  for (const field of ['customer_id', 'customer_external_key', 'customer_token', 'tokenized_id', 'write_datetime', 'mod_datetime']) {
    const rows = await client.queryTokens({ where: [{ field: 'customer_id', op: 'GTE', value: 1000 }], order: [{ field, direction: 'DESC' }], limit: 5 });
    assert.equal(rows.length, 5, field);
  }
  await assert.rejects(client.listTokens({ customerId: 'C-7' }), { code: 'INVALID_INPUT', message: "input.customerId: must be ChargeOver's numeric customer_id" });
});

test('bad queries give INVALID_INPUT before any request', async () => {
  const client = clientFor(sandbox(), 'chargeover');
  const cases = [
    [{ where: [{ field: 'customer_id', op: 'IS:NULL', value: 'x' }] }, /where\[0\]\.value/],
    [{ where: [{ field: 'customer_id', op: 'EQUALS' }] }, /where\[0\]\.value: is required/],
    [{ where: [{ field: 'customer_id', op: 'EQUALS', value: 1.5 }] }, /where\[0\]\.value/],
    [{ where: [{ field: 'customer_id', op: 'EQUALS', value: { a: 1 } }] }, /where\[0\]\.value/],
    [{ limit: 0 }, /limit/],
    [{ limit: NaN }, /limit/],
    [{ where: [{ field: 'customer_id', op: 'EQUALS', value: NaN }] }, /where\[0\]\.value/],
    [{ limit: 501 }, /limit/],
    [{ where: [{ field: 'name', op: 'EQUALS', value: 'x' }] }, /field/],
    [{ where: [{ field: 'customer_id', op: 'LIKE', value: 'x' }] }, /op/],
    [{ where: [{ field: 'customer_token', op: 'EQUALS', value: 'trail\\' }] }, /where\[0\]\.value: must not contain a backslash/],
  ];
  for (const [query, pattern] of cases) {
    const err = await rejection(client.queryTokens(query));
    assert.equal(err.code, 'INVALID_INPUT', JSON.stringify(query));
    assert.match(err.message, pattern);
  }
  assert.equal(sandbox().requests.length, 0);
});

test('createToken stores, reads back, and deleteToken removes', async () => {
  const client = clientFor(sandbox(), 'chargeover');
  const created = await client.createToken({
    customerId: '1002', token: 'cus_NewGatewayToken1', label: 'Visa x4242', paymentMethod: 'CARD',
    brand: 'Visa', expiryMonth: 2, expiryYear: 2032, gateway: 'stripe',
  });
  assert.equal(created.customerId, '1002');
  assert.equal(created.status, 'ACTIVE');
  assert.equal(created.paymentMethod, 'CARD');
  assert.equal(created.card.brand, 'Visa');
  assert.equal(created.card.expiryMonth, 2);
  assert.equal(created.card.expiryYear, 2032);
  assert.equal(created.label, 'Visa x4242');
  assert.equal(created.gateway, 'stripe');
  assert.equal(created.gatewayToken, 'cus_NewGatewayToken1');
  assert.match(created.createdAt, ISO);
  const post = tokenRequests().find((r) => r.method === 'POST');
  assert.deepEqual(JSON.parse(post.body), {
    customer_id: 1002, type: 'customer', token: 'cus_NewGatewayToken1', name: 'Visa x4242',
    paymethod_hint: 'crd', expdate: '2032-02-29', type_hint: 'visa', gateway: 'stripe',
  });
  const got = await client.getToken({ tokenId: created.id });
  assert.deepEqual(got, created);
  assert.deepEqual((await client.listTokens({ customerId: '1002' })).map((t) => t.id), [created.id]);
  assert.equal(await client.deleteToken({ tokenId: created.id }), undefined);
  assert.equal(tokenRequests().at(-1).method, 'DELETE');
  const gone = await rejection(client.getToken({ tokenId: created.id }));
  assert.equal(gone.code, 'NOT_FOUND');
  assert.equal(gone.httpStatus, 404);
  assert.deepEqual(await client.listTokens({ customerId: '1002' }), []);
});

test("a customerId given to get or delete scopes it: another customer's token is refused, and no DELETE is sent", async () => {
  const client = clientFor(sandbox(), 'chargeover');
  const [token] = await client.listTokens({ customerId: '1000' });
  for (const call of [() => client.getToken({ tokenId: token.id, customerId: '1002' }), () => client.deleteToken({ tokenId: token.id, customerId: '1002' })]) {
    const err = await rejection(call());
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, /^input\.customerId: token \d+ is not this customer's/);
  }
  assert.equal(tokenRequests().filter((r) => r.method === 'DELETE').length, 0);
  // customer_id is a number at ChargeOver: a form it would not store is refused as a list's is,
  // not compared as text and called another customer's.
  const before = sandbox().requests.length;
  for (const customerId of ['01000', '1000 ', 'C-1000']) {
    for (const call of [() => client.getToken({ tokenId: token.id, customerId }), () => client.deleteToken({ tokenId: token.id, customerId })]) {
      const err = await rejection(call());
      assert.equal(err.code, 'INVALID_INPUT', customerId);
      assert.equal(err.message, "input.customerId: must be ChargeOver's numeric customer_id");
      assert.equal(err.provider, 'chargeover');
    }
  }
  assert.equal(sandbox().requests.length, before);
  await client.deleteToken({ tokenId: token.id, customerId: '1000' });
  assert.equal(tokenRequests().filter((r) => r.method === 'DELETE').length, 1);
});

test('createToken refuses card numbers and unknown methods before any request', async () => {
  const client = clientFor(sandbox(), 'chargeover');
  for (const input of [
    { customerId: '1002', token: '4111111111111111' },
    { customerId: '1002', token: '4111-1111-1111-1111' },
    { customerId: '1002', token: 'tok', label: 'card 5555555555554444' },
    { customerId: '1002', token: 'tok', paymentMethod: 'UPI' },
    { customerId: '1002', token: 'tok', brand: 'JCB' },
    { customerId: '10/02', token: 'tok' },
  ]) {
    const err = await rejection(client.createToken(input));
    assert.equal(err.code, 'INVALID_INPUT', JSON.stringify(input));
    assert.ok(!/\d{13,}/.test(JSON.stringify(err) + err.message));
  }
  assert.equal(sandbox().requests.length, 0);
});

test('wrong credentials give AUTHENTICATION with the provider message and no trace of the secret', async () => {
  const secret = 'canary-chargeover-Wq72pL';
  const client = createClient({ provider: 'chargeover', username: sandbox().credentials.chargeover.username, password: secret, baseUrl: sandbox().baseUrls.chargeover });
  const err = await rejection(client.listTokens({ customerId: '1000' }));
  assert.ok(err instanceof PayTokensError);
  assert.equal(err.code, 'AUTHENTICATION');
  assert.equal(err.provider, 'chargeover');
  assert.equal(err.httpStatus, 401);
  assert.equal(err.retryable, false);
  assert.equal(err.message, 'Invalid or incorrect authorization [Invalid API credentials.]');
  const basic = Buffer.from(`${sandbox().credentials.chargeover.username}:${secret}`).toString('base64');
  for (const text of [err.message, err.stack, JSON.stringify(err), String(err), JSON.stringify(client)]) {
    assert.ok(!text.includes(secret) && !text.includes(basic), text);
  }
  assert.equal(tokenRequests().length, 1, 'a 401 is not retried');
  const sent = tokenRequests()[0].headers.authorization;
  assert.equal(sent, `Basic ${basic}`);
});

test('an error inside an HTTP 200 envelope is an error; 404 and 429 map', async () => {
  const client = clientFor(sandbox(), 'chargeover', { maxRetries: 0 });
  sandbox().fault({ provider: 'chargeover', scenario: 'error_in_200' });
  const err = await rejection(client.listTokens({ customerId: '1000' }));
  assert.equal(err.code, 'PROVIDER_ERROR');
  assert.equal(err.httpStatus, 200);
  assert.equal(err.message, 'An error occurred while processing the request.');
  const missing = await rejection(client.getToken({ tokenId: '999999' }));
  assert.equal(missing.code, 'NOT_FOUND');
  assert.equal(missing.message, 'Object not found.');
  sandbox().fault({ provider: 'chargeover', scenario: 'rate_limit' });
  const limited = await rejection(client.getToken({ tokenId: '2' }));
  assert.equal(limited.code, 'RATE_LIMITED');
  assert.equal(limited.retryable, true);
});

test('updateTokenStatus is UNSUPPORTED and sends nothing; capabilities say so', async () => {
  const client = clientFor(sandbox(), 'chargeover');
  assert.deepEqual({ ...client.capabilities }, {
    listTokens: true, getToken: true, updateTokenStatus: false, deleteToken: true, createToken: true, queryTokens: true, pagination: true,
  });
  const err = await rejection(client.updateTokenStatus({ tokenId: '2', status: 'SUSPENDED' }));
  assert.equal(err.code, 'UNSUPPORTED');
  assert.equal(err.provider, 'chargeover');
  assert.equal(sandbox().requests.length, 0);
});

test('config: baseUrl is required, pageSize and maxPages are checked', () => {
  const { username, password } = sandbox().credentials.chargeover;
  for (const [extra, pattern] of [[{}, /baseUrl/], [{ baseUrl: sandbox().baseUrls.chargeover, pageSize: 0 }, /pageSize/], [{ baseUrl: sandbox().baseUrls.chargeover, pageSize: 1 }, /pageSize: must be 2–500/], [{ baseUrl: sandbox().baseUrls.chargeover, maxPages: 0 }, /maxPages/]]) {
    assert.throws(() => createClient({ provider: 'chargeover', username, password, ...extra }), (e) => e.code === 'INVALID_INPUT' && pattern.test(e.message));
  }
});

test('deadlineMs bounds an iterateTokens listing as a whole, every page, as it bounds listTokens', async () => {
  const client = clientFor(sandbox(), 'chargeover', { pageSize: 5, deadlineMs: 1000, maxRetries: 0 });
  sandbox().fault({ provider: 'chargeover', scenario: 'slow', delayMs: 300, times: Infinity });
  const seen = [];
  const started = performance.now();
  const err = await rejection((async () => {
    for await (const t of client.iterateTokens({ customerId: '1000' })) seen.push(t.id);
  })());
  assert.equal(err.code, 'TIMEOUT');
  assert.ok(seen.length >= 5 && seen.length <= 15, `${seen.length} tokens before the budget ran out`);
  assert.ok(performance.now() - started < 2000);
});

test("a call's own deadlineMs replaces the config's for that call, a listing page by page too", async () => {
  const client = clientFor(sandbox(), 'chargeover', { pageSize: 5, deadlineMs: 300, maxRetries: 0 });
  sandbox().fault({ provider: 'chargeover', scenario: 'slow', delayMs: 200, times: Infinity });
  // Six pages of 200 ms: over the config's 300 ms, within a call's own 5 s.
  assert.equal((await client.listTokens({ customerId: '1000' }, { deadlineMs: 5000 })).length, 25);
  let seen = 0;
  for await (const _ of client.iterateTokens({ customerId: '1000' }, { deadlineMs: 5000 })) seen += 1;
  assert.equal(seen, 25);
  // The config's still bounds the calls that bring none, and a shorter one of a call's own ends it sooner.
  const capped = await rejection(client.listTokens({ customerId: '1000' }));
  assert.equal(capped.code, 'TIMEOUT');
  // (This client has no deadlineMs, and its get would take 200 ms.)
  const unbounded = clientFor(sandbox(), 'chargeover', { maxRetries: 0 });
  const err = await rejection(unbounded.getToken({ tokenId: '1' }, { deadlineMs: 100 }));
  assert.deepEqual([err.code, err.provider, err.retryable], ['TIMEOUT', 'chargeover', true]);
});

test('an iterateTokens page that fails after tokens were handed out says the listing is cut short', async () => {
  const client = clientFor(sandbox(), 'chargeover', { pageSize: 5, maxRetries: 0 });
  sandbox().fault({ provider: 'chargeover', scenario: 'rate_limit', retryAfter: 1, pathIncludes: '/tokenized', skip: 1 });
  const it = client.iterateTokens({ customerId: '1000' });
  const seen = [];
  const err = await rejection((async () => {
    for (;;) {
      const { value, done } = await it.next();
      if (done) return;
      seen.push(value.id);
    }
  })());
  assert.equal(seen.length, 5);
  assert.deepEqual([err.code, err.retryable, err.retryAfterMs], ['RATE_LIMITED', false, 1000]);
  assert.match(err.message, /\(the listing stopped after 5 tokens and cannot resume: iterate again from the start\)$/);
  // The generator is done, as any that threw: the message above is what tells it from the end.
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});

test("the caller's own time between iterateTokens pages does not count against deadlineMs", async () => {
  const client = clientFor(sandbox(), 'chargeover', { pageSize: 5, deadlineMs: 1000, maxRetries: 0 });
  const all = (await client.listTokens({ customerId: '1000' })).map((t) => t.id);
  const seen = [];
  const started = performance.now();
  // The loop works 80 ms on each of the 25 tokens: 2 s of its own, over 6 fast requests.
  for await (const t of client.iterateTokens({ customerId: '1000' })) {
    seen.push(t.id);
    await new Promise((resolve) => setTimeout(resolve, 80));
  }
  assert.ok(performance.now() - started > 2000);
  assert.deepEqual(seen, all);
});

test('a baseUrl with a wrong path is PROVIDER_ERROR "check baseUrl" on a listing, not every token NOT_FOUND', async () => {
  // ChargeOver answers an unknown route as it answers an unknown record (404, its own envelope);
  // a query finds an unknown customer's tokens as no rows, so a 404 there is the address.
  const client = clientFor(sandbox(), 'chargeover', { baseUrl: `${sandbox().baseUrls.chargeover}/v3` });
  for (const call of [() => client.listTokens({ customerId: '1000' }), () => client.iterateTokens({ customerId: '1000' }).next()]) {
    const err = await rejection(call());
    assert.deepEqual([err.code, err.httpStatus, err.retryable], ['PROVIDER_ERROR', 404, false]);
    assert.match(err.message, /check baseUrl/);
  }
});
