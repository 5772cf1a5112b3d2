// A call's AbortSignal (its options' `signal`): what stops, what the caller is told, and that
// nothing is left behind (listeners, requests, timers) and the client keeps working.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createHub } from 'paytokens';
import { useSandbox, clientFor, rejection } from './helpers.js';

const sandbox = useSandbox();
beforeEach(() => sandbox().reset());

const CUSTOMER = 'cust-v1-0811030624-aa-RBDgpR';
const TOKEN = 'token-v1-1234567890-aa-ABCDEF';
const listPath = '/customer/';

/** A fetch that records each request's signal, and each reply's status once it arrives. */
function watchedFetch() {
  const signals = [];
  const replies = [];
  const fetchVia = async (url, init) => {
    signals.push({ url, signal: init.signal });
    const resp = await fetch(url, init);
    replies.push({ url, status: resp.status });
    return resp;
  };
  return { fetchVia, signals, replies };
}

function revoked() {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** Waits until `ready()` holds; a regression fails here after 5 s rather than at the suite's timeout. */
async function waitFor(ready, what) {
  const until = performance.now() + 5000;
  while (!ready()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('an abort while the request is in flight rejects at once with ABORTED, aborts the request, and the client keeps working', async () => {
  const { fetchVia, signals } = watchedFetch();
  const client = clientFor(sandbox(), 'pinelabs', { fetch: fetchVia, timeoutMs: 10_000 });
  await client.listTokens({ customerId: CUSTOMER }); // signed in: the next call only lists
  sandbox().fault({ provider: 'pinelabs', scenario: 'slow', delayMs: 3000, pathIncludes: listPath });
  const controller = new AbortController();
  const reason = new Error('the page was closed');
  setTimeout(() => controller.abort(reason), 100);
  const started = performance.now();
  const err = await rejection(client.listTokens({ customerId: CUSTOMER }, { signal: controller.signal }));
  // Well before the 3 s the reply takes.
  assert.ok(performance.now() - started < 2500, `${performance.now() - started} ms`);
  assert.equal(err.name, 'PayTokensError');
  assert.equal(err.code, 'ABORTED');
  assert.equal(err.provider, 'pinelabs');
  assert.equal(err.retryable, false);
  assert.equal(err.cause, reason);
  assert.match(err.message, /aborted by its signal; it stopped waiting for pinelabs/);
  assert.equal(signals.at(-1).signal.aborted, true, 'the request in flight was aborted');
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  // The instance is not poisoned, and the abort did not spill into later calls.
  assert.equal((await client.listTokens({ customerId: CUSTOMER })).length, 1);
});

test('a signal aborted before the call sends nothing and rejects with its reason as cause', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  const signal = AbortSignal.abort();
  for (const call of [
    () => client.listTokens({ customerId: CUSTOMER }, { signal }),
    () => client.getToken({ customerId: CUSTOMER, tokenId: TOKEN }, { signal }),
    () => client.deleteToken({ customerId: CUSTOMER, tokenId: TOKEN }, { signal }),
    () => client.iterateTokens({ customerId: CUSTOMER }, { signal }).next(),
  ]) {
    const err = await rejection(call());
    assert.equal(err.code, 'ABORTED');
    assert.match(err.message, /before it started; nothing was sent to pinelabs/);
    assert.equal(err.cause, signal.reason);
    assert.equal(err.cause.name, 'AbortError');
  }
  assert.equal(sandbox().requests.length, 0);
});

test('an abort during the wait before a retry ends the wait: no further attempt is sent', async () => {
  sandbox().fault({ provider: 'pinelabs', scenario: 'rate_limit', retryAfter: 1, pathIncludes: listPath });
  const { fetchVia, replies } = watchedFetch();
  const client = clientFor(sandbox(), 'pinelabs', { maxRetries: 3, fetch: fetchVia });
  const controller = new AbortController();
  const call = client.listTokens({ customerId: CUSTOMER }, { signal: controller.signal });
  // The 429 is in: the call is now waiting out its Retry-After of 1 s.
  await waitFor(() => replies.some((r) => r.url.includes(listPath) && r.status === 429), 'the 429');
  const started = performance.now();
  controller.abort();
  const err = await rejection(call);
  assert.equal(err.code, 'ABORTED');
  assert.ok(performance.now() - started < 900, 'rejected before the wait would have ended');
  // Past the time the retry would have gone out.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: listPath }), 1, 'the retry was not sent');
});

// AlliancePay's status change reads the token first (`/get`), then sends the change (`/state/update`).
for (const { stoppedAt, what, message, updates, outcome } of [
  { stoppedAt: '/state/update', what: 'after its change was sent', message: /after its change was sent; it may already have been applied at alliancepay: read the token to know/, updates: 1, outcome: 'UNKNOWN' },
  { stoppedAt: '/get', what: 'before its change was sent (during its status check)', message: /before its change was made; nothing was changed at alliancepay/, updates: 0, outcome: 'NOT_APPLIED' },
]) {
  test(`a write stopped ${what} says so`, async () => {
    const client = clientFor(sandbox(), 'alliancepay', { timeoutMs: 10_000 });
    const [token] = await client.listTokens({ customerId: 'senderCustomerId' });
    sandbox().fault({ provider: 'alliancepay', scenario: 'slow', delayMs: 3000, pathIncludes: stoppedAt });
    const controller = new AbortController();
    const call = client.updateTokenStatus({ tokenId: token.id, status: 'SUSPENDED' }, { signal: controller.signal });
    await waitFor(() => sandbox().count({ provider: 'alliancepay', pathIncludes: stoppedAt }) > 0, `${stoppedAt} to be sent`);
    controller.abort();
    const err = await rejection(call);
    assert.equal(err.code, 'ABORTED');
    assert.match(err.message, message);
    assert.equal(err.writeOutcome, outcome);
    assert.equal(err.toJSON().writeOutcome, outcome);
    assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: '/state/update' }), updates);
  });
}

test('a write stopped while it waits out a throttle was not applied: the 429 proved it', async () => {
  sandbox().fault({ provider: 'pinelabs', scenario: 'rate_limit', retryAfter: 1, pathIncludes: '/delete' });
  const { fetchVia, replies } = watchedFetch();
  const client = clientFor(sandbox(), 'pinelabs', { maxRetries: 3, fetch: fetchVia });
  const controller = new AbortController();
  const call = client.deleteToken({ tokenId: TOKEN, customerId: CUSTOMER }, { signal: controller.signal });
  await waitFor(() => replies.some((r) => r.url.includes('/delete') && r.status === 429), 'the 429');
  controller.abort();
  const err = await rejection(call);
  assert.deepEqual([err.code, err.writeOutcome], ['ABORTED', 'NOT_APPLIED']);
  assert.match(err.message, /before its change was made; nothing was changed at pinelabs/);
  assert.equal((await clientFor(sandbox(), 'pinelabs').getToken({ tokenId: TOKEN, customerId: CUSTOMER })).status, 'ACTIVE');
});

// The outcome is the call's own: another write on the same client, sent while this one was
// still checking the token, does not make this one look applied.
test('two writes on one client, both stopped: each is told its own outcome', async () => {
  const client = clientFor(sandbox(), 'alliancepay', { timeoutMs: 10_000 });
  const [first, second] = await client.listTokens({ customerId: 'senderCustomerId' });
  sandbox().fault({ provider: 'alliancepay', scenario: 'slow', delayMs: 3000, pathIncludes: '/get' });
  const checking = new AbortController();
  const checked = client.updateTokenStatus({ tokenId: second.id, status: 'SUSPENDED' }, { signal: checking.signal });
  await waitFor(() => sandbox().count({ provider: 'alliancepay', pathIncludes: '/get' }) > 0, 'the status check to be sent');
  sandbox().fault({ provider: 'alliancepay', scenario: 'slow', delayMs: 3000, pathIncludes: '/state/update' });
  const sent = new AbortController();
  const sending = client.updateTokenStatus({ tokenId: first.id, status: 'SUSPENDED' }, { signal: sent.signal });
  await waitFor(() => sandbox().count({ provider: 'alliancepay', pathIncludes: '/state/update' }) > 0, 'the other change to be sent');
  checking.abort();
  sent.abort();
  const [unsent, unknown] = [await rejection(checked), await rejection(sending)];
  assert.deepEqual([unsent.code, unsent.writeOutcome], ['ABORTED', 'NOT_APPLIED'], unsent.message);
  assert.deepEqual([unknown.code, unknown.writeOutcome], ['ABORTED', 'UNKNOWN'], unknown.message);
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: '/state/update' }), 1);
});

// A write the provider confirmed, whose read-back is then aborted: the caller learns that the
// write is done and which token to read, not that it "may" have been applied.
for (const { provider, written, start, made } of [
  {
    provider: 'alliancepay',
    written: (url) => url.includes('/state/update'),
    start: async (client, signal) => {
      const [token] = await client.listTokens({ customerId: 'senderCustomerId' });
      return { call: client.updateTokenStatus({ tokenId: token.id, status: 'SUSPENDED' }, { signal }), id: token.id };
    },
    made: /^the token is now SUSPENDED at alliancepay; the call was aborted by its signal while reading it back: read the token rather than repeat the change$/,
  },
  {
    provider: 'chargeover',
    written: (url, init) => init.method === 'POST',
    start: async (client, signal) => ({ call: client.createToken({ customerId: '1002', token: 'cus_AbortedReadBack' }, { signal }) }),
    made: /^stored as tokenized_id \d+ at chargeover; the call was aborted by its signal while reading it back: read the token rather than repeat the change$/,
  },
]) {
  test(`${provider}: an abort during the read-back after a confirmed write names the token`, async () => {
    // Every request after the write's reply waits until its signal aborts.
    let writeDone = false;
    let readBackSent = false;
    const fetchVia = async (url, init) => {
      if (writeDone) {
        readBackSent = true;
        await new Promise((resolve) => init.signal.addEventListener('abort', resolve));
      }
      const resp = await fetch(url, init);
      if (written(url, init)) writeDone = true;
      return resp;
    };
    const client = clientFor(sandbox(), provider, { fetch: fetchVia, timeoutMs: 10_000 });
    const controller = new AbortController();
    const { call, id } = await start(client, controller.signal);
    await waitFor(() => readBackSent, 'the read-back to be sent');
    controller.abort();
    const err = await rejection(call);
    assert.equal(err.code, 'ABORTED');
    assert.equal(err.retryable, false);
    assert.match(err.message, made);
    assert.ok(err.tokenId, 'the token made or changed is named');
    if (id) assert.equal(err.tokenId, id);
    else assert.ok(err.message.includes(`tokenized_id ${err.tokenId} `), err.message);
    assert.equal(err.toJSON().tokenId, err.tokenId);
    assert.equal(err.writeOutcome, 'APPLIED');
  });
}

test('a long-lived signal passed to many calls keeps no listener once they end, whether they succeed or fail', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  const controller = new AbortController();
  const { signal } = controller;
  for (let i = 0; i < 20; i++) await client.listTokens({ customerId: CUSTOMER }, { signal });
  await rejection(client.getToken({ customerId: CUSTOMER, tokenId: 'token-v1-0000000000-aa-NOSUCH' }, { signal }));
  const pages = [];
  for await (const t of client.iterateTokens({ customerId: 'cust-bench-25' }, { signal })) pages.push(t.id);
  assert.equal(pages.length, 25);
  assert.equal(getEventListeners(signal, 'abort').length, 0);
  assert.equal(signal.aborted, false);
});

test('one signal shared by many calls in flight has one listener on it, and aborting it ends them all', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  await client.listTokens({ customerId: CUSTOMER }); // signed in
  const warnings = [];
  const onWarning = (w) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const controller = new AbortController();
    const { signal } = controller;
    const done = await Promise.all(Array.from({ length: 20 }, () => client.listTokens({ customerId: CUSTOMER }, { signal })));
    assert.equal(done.length, 20);
    sandbox().fault({ provider: 'pinelabs', scenario: 'slow', delayMs: 5000, times: 20 });
    const calls = Array.from({ length: 20 }, () => rejection(client.listTokens({ customerId: CUSTOMER }, { signal })));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(getEventListeners(signal, 'abort').length, 1, 'one listener for the 20 calls in flight');
    controller.abort();
    for (const err of await Promise.all(calls)) assert.equal(err.code, 'ABORTED');
    assert.equal(getEventListeners(signal, 'abort').length, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings.filter((n) => n === 'MaxListenersExceededWarning'), []);
  } finally {
    process.off('warning', onWarning);
  }
});

/** Iterates ChargeOver customer 1000 in pages of `pageSize`, aborting once `at` tokens are seen. */
async function iterateAndAbort(pageSize, at, reason) {
  const client = clientFor(sandbox(), 'chargeover', { pageSize });
  const controller = new AbortController();
  const seen = [];
  const err = await rejection((async () => {
    for await (const t of client.iterateTokens({ customerId: '1000' }, { signal: controller.signal })) {
      seen.push(t.id);
      if (seen.length === at) controller.abort(reason);
    }
  })());
  return { err, seen, pages: sandbox().count({ provider: 'chargeover', pathIncludes: '/tokenized' }) };
}

test('iterateTokens stops between pages when its signal aborts', async () => {
  const { err, seen, pages } = await iterateAndAbort(4, 4);
  assert.equal(err.code, 'ABORTED');
  assert.equal(seen.length, 4);
  assert.equal(pages, 1, 'no page after the abort');
});

test('iterateTokens hands out no further token of the page it is on once its signal aborts', async () => {
  const { err, seen, pages } = await iterateAndAbort(10, 3, new Error('the user cancelled'));
  assert.equal(err.code, 'ABORTED');
  assert.equal(err.provider, 'chargeover');
  assert.equal(err.cause.message, 'the user cancelled');
  assert.equal(seen.length, 3, 'the rest of the page was not handed out');
  assert.equal(pages, 1);
});

test('bad options are INVALID_INPUT naming the provider, before any request; keys are not echoed', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  const cases = [
    [null, 'options: must be an object'],
    ['fast', 'options: must be an object'],
    [{ signal: 'stop' }, 'options.signal: must be an AbortSignal'],
    [{ signal: { aborted: false } }, 'options.signal: must be an AbortSignal'],
    // A signal that cannot be looked at is no signal either, not a stray TypeError.
    [{ signal: { get aborted() { throw new Error('boom'); } } }, 'options.signal: must be an AbortSignal'],
    [{ signal: revoked() }, 'options.signal: must be an AbortSignal'],
    [{ sk_live_4111111111111111: 1 }, 'options: has a key that is not an option (only signal and deadlineMs)'],
    ...[0, 1.5, '500', NaN, 2 ** 31].map((bad) => [{ deadlineMs: bad }, 'options.deadlineMs: must be a whole number of milliseconds, 1–2147483647']),
  ];
  for (const [options, message] of cases) {
    const err = await rejection(client.listTokens({ customerId: CUSTOMER }, options));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.equal(err.message, message);
    assert.equal(err.provider, 'pinelabs');
  }
  assert.equal((await rejection(client.iterateTokens({ customerId: CUSTOMER }, null).next())).message, 'options: must be an object');
  assert.equal((await rejection(client.iterateTokens({ customerId: CUSTOMER }, { signal: revoked() }).next())).code, 'INVALID_INPUT');
  assert.equal((await rejection(client.iterateTokens({ customerId: CUSTOMER }, { deadlineMs: -1 }).next())).message, 'options.deadlineMs: must be a whole number of milliseconds, 1–2147483647');
  // `{ signal: undefined }` and no options at all are both a call without a signal.
  assert.equal((await client.listTokens({ customerId: CUSTOMER }, { signal: undefined })).length, 1);
  // null is not given too (fetch takes `signal: null`), as the config's `deadlineMs: null` is.
  assert.equal((await client.listTokens({ customerId: CUSTOMER }, { signal: null, deadlineMs: null })).length, 1);
  // Only the object's own options count: one polluting Object.prototype bounds nothing, and one
  // a prototype of the caller's holds is refused rather than ignored with its abort.
  Object.prototype.deadlineMs = 1;
  try {
    assert.equal((await client.listTokens({ customerId: CUSTOMER }, {})).length, 1);
  } finally {
    delete Object.prototype.deadlineMs;
  }
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: listPath }), 3);
  const inherited = await rejection(client.listTokens({ customerId: CUSTOMER }, Object.create({ signal: AbortSignal.abort() })));
  assert.equal(inherited.message, "options.signal: must be the object's own property: pass a plain object, { signal, deadlineMs }");
  assert.equal(sandbox().count({ provider: 'pinelabs', pathIncludes: listPath }), 3);
});

test("a hub passes its signal to every client and rejects with ABORTED rather than resolving with partial outcomes", async () => {
  const hub = createHub([clientFor(sandbox(), 'pinelabs'), clientFor(sandbox(), 'chargeover')]);
  sandbox().fault({ provider: 'chargeover', scenario: 'slow', delayMs: 3000, pathIncludes: '/tokenized' });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const err = await rejection(hub.listTokens({ customers: { pinelabs: CUSTOMER, chargeover: '2' } }, { signal: controller.signal }));
  assert.equal(err.code, 'ABORTED');
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  assert.equal((await rejection(hub.listTokens({ customers: { pinelabs: CUSTOMER } }, { signal: 1 }))).message, 'options.signal: must be an AbortSignal');
  assert.equal((await rejection(hub.listTokens({ customers: { pinelabs: CUSTOMER } }, { signal: revoked() }))).message, 'options.signal: must be an AbortSignal');
  // A client that ignores the signal (a test double) does not turn an abort into a result.
  const deaf = { provider: 'payerly', listTokens: () => new Promise((resolve) => setTimeout(() => resolve([]), 200)) };
  const later = new AbortController();
  setTimeout(() => later.abort(new Error('closed')), 50);
  const fromDeaf = await rejection(createHub([deaf]).listTokens({ customers: { payerly: 'c' } }, { signal: later.signal }));
  assert.equal(fromDeaf.code, 'ABORTED');
  assert.equal(fromDeaf.cause.message, 'closed');
  // Already aborted: no client is called.
  const before = sandbox().requests.length;
  assert.equal((await rejection(hub.listTokens({ customers: { pinelabs: CUSTOMER } }, { signal: AbortSignal.abort() }))).code, 'ABORTED');
  assert.equal(sandbox().requests.length, before);
  // Without an abort the hub behaves as before.
  const { outcomes } = await hub.listTokens({ customers: { pinelabs: CUSTOMER } }, { signal: new AbortController().signal });
  assert.equal(outcomes.pinelabs.ok, true);
});

test('aborting one of two calls that share a sign-in leaves the sign-in to the other, which succeeds', async () => {
  const { fetchVia, signals } = watchedFetch();
  const client = clientFor(sandbox(), 'pinelabs', { fetch: fetchVia });
  sandbox().fault({ provider: 'pinelabs', scenario: 'slow', delayMs: 400, pathIncludes: '/auth/v1/token' });
  const controller = new AbortController();
  const first = client.listTokens({ customerId: CUSTOMER }, { signal: controller.signal });
  const second = client.listTokens({ customerId: CUSTOMER });
  setTimeout(() => controller.abort(), 100);
  assert.equal((await rejection(first)).code, 'ABORTED');
  assert.equal((await second).length, 1);
  const signIns = signals.filter((s) => s.url.endsWith('/auth/v1/token'));
  assert.equal(signIns.length, 1, 'one sign-in, shared');
  assert.equal(signIns[0].signal.aborted, false, 'the sign-in the other call waited for was not aborted');
  // With nobody else waiting, an aborted call's sign-in stops at once.
  const alone = clientFor(sandbox(), 'pinelabs', { fetch: fetchVia });
  sandbox().fault({ provider: 'pinelabs', scenario: 'slow', delayMs: 400, pathIncludes: '/auth/v1/token' });
  const solo = new AbortController();
  const call = alone.listTokens({ customerId: CUSTOMER }, { signal: solo.signal });
  setTimeout(() => solo.abort(), 100);
  assert.equal((await rejection(call)).code, 'ABORTED');
  assert.equal(signals.filter((s) => s.url.endsWith('/auth/v1/token')).at(-1).signal.aborted, true);
});
