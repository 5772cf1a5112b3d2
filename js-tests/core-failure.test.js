// Something thrown inside the core mid-call (a trap, or here an exception from the host: a clock
// that throws) must not end the process or leave calls pending: the calls in flight end with
// INTERNAL, a fresh core replaces the old one, and every client, old or new, works after it.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { PayTokensError } from 'paytokens';
import { useSandbox, clientFor, rejection } from './helpers.js';

const sandbox = useSandbox();
beforeEach(() => sandbox().reset());

const CUSTOMER = 'cust-v1-0811030624-aa-RBDgpR';
const list = (client) => client.listTokens({ customerId: CUSTOMER });

/** Runs `body` while the next `times` reads of Date.now throw, and records what escapes. */
async function withBrokenClock(times, body) {
  const escaped = [];
  const onEscape = (error) => escaped.push(error);
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  const now = Date.now;
  let left = times;
  Date.now = () => {
    if (left > 0) {
      left -= 1;
      throw new Error('the clock broke');
    }
    return now();
  };
  try {
    return { result: await body(), escaped };
  } finally {
    Date.now = now;
    // Whatever the old core still had in flight settles later; give it the time to escape.
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  }
}

test('a failure inside a call in flight rejects it and every other call in flight with INTERNAL; nothing escapes, and all clients work after', async () => {
  const pinelabs = clientFor(sandbox(), 'pinelabs');
  const chargeover = clientFor(sandbox(), 'chargeover');
  assert.equal((await list(pinelabs)).length, 1); // signed in
  // A read already sent and waiting for its reply when the core fails.
  sandbox().fault({ provider: 'chargeover', pathIncludes: '/tokenized', scenario: 'slow', delayMs: 300 });
  const waiting = chargeover.listTokens({ customerId: '2' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const { result, escaped } = await withBrokenClock(1, async () => {
    const failing = list(pinelabs); // its first step reads the clock inside the core
    return Promise.all([rejection(failing), rejection(waiting)]);
  });
  for (const [err, provider] of result.map((e, i) => [e, i ? 'chargeover' : 'pinelabs'])) {
    assert.ok(err instanceof PayTokensError);
    assert.equal(err.code, 'INTERNAL');
    assert.equal(err.provider, provider);
    assert.equal(err.retryable, true, 'a read may be repeated');
    assert.match(err.message, /core failed during this call and was restarted; later calls work$/);
    assert.equal(err.cause?.message, 'the clock broke');
    assert.equal(JSON.stringify(err).includes('clock'), false, 'the cause stays out of the JSON form');
  }
  assert.deepEqual(escaped, []);
  // The slow reply came back to the old core after the restart: it was dropped without a word.
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal((await list(pinelabs)).length, 1);
  assert.ok((await chargeover.listTokens({ customerId: '2' })).length > 0);
  assert.equal((await list(clientFor(sandbox(), 'pinelabs'))).length, 1);
  assert.equal(pinelabs.capabilities.listTokens, true);
});

test("a write the core fails in is INTERNAL and not retryable, and says the change may have been applied", async () => {
  const alliancepay = clientFor(sandbox(), 'alliancepay');
  const [token] = await alliancepay.listTokens({ customerId: 'senderCustomerId' });
  const { result } = await withBrokenClock(1, () => rejection(alliancepay.updateTokenStatus({ tokenId: token.id, status: 'SUSPENDED' })));
  assert.equal(result.code, 'INTERNAL');
  assert.equal(result.retryable, false);
  assert.match(result.message, /may have been sent to alliancepay and applied: read the token/);
  assert.equal(result.writeOutcome, 'UNKNOWN');
  assert.ok((await alliancepay.listTokens({ customerId: 'senderCustomerId' })).length > 0);
});

test('a failure inside the core while a call is being made (its promise rejects with something untyped) is INTERNAL too, and the core restarts', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  const queue = globalThis.queueMicrotask;
  // The core queues its work as the call is made: a host whose queueMicrotask throws fails there.
  globalThis.queueMicrotask = () => {
    throw new Error('no microtasks');
  };
  let err;
  try {
    err = await rejection(list(client));
  } finally {
    globalThis.queueMicrotask = queue;
  }
  assert.equal(err.code, 'INTERNAL');
  assert.equal(err.cause?.message, 'no microtasks');
  assert.equal((await list(client)).length, 1);
});

test('AlliancePay: a core rebuilt after a failure resumes the latest session given to onSessionUpdate', async () => {
  const sessions = [];
  const client = clientFor(sandbox(), 'alliancepay', { onSessionUpdate: (s) => sessions.push(s) });
  await client.listTokens({ customerId: 'senderCustomerId' });
  assert.equal(sessions.length, 1);
  const { result } = await withBrokenClock(1, () => rejection(client.listTokens({ customerId: 'senderCustomerId' })));
  assert.equal(result.code, 'INTERNAL');
  assert.ok((await client.listTokens({ customerId: 'senderCustomerId' })).length > 0);
  assert.equal(sessions.length, 1, 'no new session was opened');
});

test("a core rebuilt after a failure reads the config and session as they were given, not as the caller changed them since", async () => {
  // The caller wipes its copy of the key once the client holds it, and its session callback keeps
  // the session in a store and then deletes the secret from the object it was handed.
  const credentials = structuredClone(sandbox().credentials.alliancepay);
  const stored = [];
  const client = clientFor(sandbox(), 'alliancepay', {
    ...credentials,
    onSessionUpdate: (s) => {
      stored.push({ ...s });
      delete s.refreshToken;
    },
  });
  credentials.merchantPrivateKey.d = '';
  // A key that cannot be copied (a Proxy over it) is read again at the rebuild: wiped by then, it
  // is this client's INVALID_INPUT, not another failure of the core.
  const key = structuredClone(sandbox().credentials.alliancepay.merchantPrivateKey);
  const proxied = clientFor(sandbox(), 'alliancepay', { merchantPrivateKey: new Proxy(key, {}) });
  const other = clientFor(sandbox(), 'pinelabs');
  assert.ok((await client.listTokens({ customerId: 'senderCustomerId' })).length > 0);
  key.d = '';
  assert.equal((await withBrokenClock(1, () => rejection(list(other)))).result.code, 'INTERNAL');
  // Before, this client failed with INTERNAL for good, and each of its calls restarted the core
  // again, ending the other clients' calls in flight.
  sandbox().fault({ provider: 'pinelabs', pathIncludes: CUSTOMER, scenario: 'slow', delayMs: 200 });
  const inFlight = list(other);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok((await client.listTokens({ customerId: 'senderCustomerId' })).length > 0);
  assert.equal(client.capabilities.listTokens, true);
  const refused = await rejection(proxied.listTokens({ customerId: 'senderCustomerId' }));
  assert.deepEqual([refused.code, refused.message], ['INVALID_INPUT', 'config.merchantPrivateKey.d: is required']);
  assert.throws(() => proxied.capabilities, (e) => e.code === 'INVALID_INPUT');
  assert.equal((await inFlight).length, 1);
  assert.equal(stored.length, 1, 'the saved session was resumed, not replaced');
});

test("no listener stays on a caller's signal after a core failure ends the calls that were given it", async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  const { signal } = new AbortController();
  await list(client);
  sandbox().fault({ provider: 'pinelabs', pathIncludes: CUSTOMER, scenario: 'slow', delayMs: 300 });
  const waiting = client.listTokens({ customerId: CUSTOMER }, { signal });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(getEventListeners(signal, 'abort').length, 1);
  const { result } = await withBrokenClock(1, () => Promise.all([rejection(waiting), rejection(list(client))]));
  assert.deepEqual(result.map((e) => e.code), ['INTERNAL', 'INTERNAL']);
  await new Promise((resolve) => setTimeout(resolve, 400)); // the old core's reply has come and gone
  assert.equal(getEventListeners(signal, 'abort').length, 0);
  assert.equal((await client.listTokens({ customerId: CUSTOMER }, { signal })).length, 1);
  assert.equal(getEventListeners(signal, 'abort').length, 0);
});

test("closing a client made before the core was replaced leaves the new core's clients alone", async () => {
  const before = Array.from({ length: 40 }, () => clientFor(sandbox(), 'payerly'));
  const { result } = await withBrokenClock(1, () => rejection(list(clientFor(sandbox(), 'pinelabs'))));
  assert.equal(result.code, 'INTERNAL');
  // Made in the new instance, where the old clients' pointers would name these clients' memory.
  const after = Array.from({ length: 40 }, () => clientFor(sandbox(), 'payerly'));
  for (const client of before) client.close();
  for (const client of after) assert.equal((await client.getToken({ tokenId: 'tok_visa_active' })).id, 'tok_visa_active');
  assert.equal((await rejection(before[0].getToken({ tokenId: 'tok_visa_active' }))).code, 'ABORTED');
});
