// createHub: concurrent cross-provider listing, sorted, with a per-provider outcome so that one
// provider's failure never hides the others' tokens.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { inspect } from 'node:util';
import { createHub, compareTokens, PayTokensError } from 'paytokens';
import { useSandbox, clientFor, rejection } from './helpers.js';

const sandbox = useSandbox();
beforeEach(() => sandbox().reset());

const hubFor = (providers) => createHub(providers.map((p) => clientFor(sandbox(), p)));

test('tokens from three providers, merged and tagged, with an outcome each', async () => {
  const hub = hubFor(['pinelabs', 'alliancepay', 'chargeover', 'payerly']);
  assert.deepEqual(hub.providers, ['pinelabs', 'alliancepay', 'chargeover', 'payerly']);
  const { tokens, outcomes } = await hub.listTokens({
    customers: { pinelabs: 'cust-v1-statuses', alliancepay: 'senderCustomerId', chargeover: '1000' },
  });
  assert.deepEqual(Object.keys(outcomes).sort(), ['alliancepay', 'chargeover', 'pinelabs']);
  assert.deepEqual(outcomes.pinelabs, { ok: true, customerId: 'cust-v1-statuses', count: 5 });
  assert.equal(outcomes.alliancepay.count, 3);
  assert.equal(outcomes.chargeover.count, 25);
  assert.equal(tokens.length, 33);
  assert.deepEqual(new Set(tokens.map((t) => t.provider)), new Set(['pinelabs', 'alliancepay', 'chargeover']));
  for (let i = 1; i < tokens.length; i++) assert.ok(compareTokens(tokens[i - 1], tokens[i]) <= 0, `sorted at ${i}`);
  assert.equal(tokens[0].status, 'ACTIVE');
  assert.equal(tokens.at(-1).status, 'DELETED');
});

test('the providers are asked concurrently', async () => {
  let inFlight = 0;
  let most = 0;
  const slow = (provider) => ({
    provider,
    capabilities: {},
    listTokens: async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 50));
      inFlight -= 1;
      return [{ provider, id: `${provider}-1`, status: 'ACTIVE' }];
    },
  });
  const hub = createHub([slow('pinelabs'), slow('chargeover'), slow('alliancepay')]);
  const { tokens } = await hub.listTokens({ customers: { pinelabs: 'a', chargeover: 'b', alliancepay: 'c' } });
  assert.equal(tokens.length, 3);
  assert.equal(most, 3, 'all three calls were in flight at once');
});

test('a provider with a very long list (more than a spread can take) still merges', async () => {
  const many = 200_000;
  const big = {
    provider: 'chargeover',
    capabilities: {},
    listTokens: async () => Array.from({ length: many }, (_, i) => ({ provider: 'chargeover', id: String(i), status: 'ACTIVE' })),
  };
  const { tokens, outcomes } = await createHub([big]).listTokens({ customers: { chargeover: '1' } });
  assert.equal(outcomes.chargeover.count, many);
  assert.equal(tokens.length, many);
});

test("one provider's failure never hides the others' tokens", async () => {
  const hub = hubFor(['pinelabs', 'alliancepay', 'payerly']);
  const { tokens, outcomes } = await hub.listTokens({
    customers: { pinelabs: 'cust-forbidden', alliancepay: 'senderCustomerId', payerly: 'anyone' },
  });
  assert.equal(outcomes.pinelabs.ok, false);
  assert.ok(outcomes.pinelabs.error instanceof PayTokensError);
  assert.equal(outcomes.pinelabs.error.code, 'PERMISSION');
  assert.equal(outcomes.payerly.ok, false);
  assert.equal(outcomes.payerly.error.code, 'UNSUPPORTED');
  assert.equal(outcomes.alliancepay.ok, true);
  assert.equal(tokens.length, 3);
  assert.ok(tokens.every((t) => t.provider === 'alliancepay'));
});

test("a client's typed failure keeps its code even from another copy of the package; anything else is an internal error", async () => {
  const foreign = { code: 'NOT_FOUND', message: 'no such customer', httpStatus: 404, retryable: false };
  const double = (provider, thrown) => ({ provider, listTokens: async () => { throw thrown; } });
  const hub = createHub([double('pinelabs', foreign), double('chargeover', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))]);
  const { outcomes } = await hub.listTokens({ customers: { pinelabs: 'c', chargeover: '1' } });
  const pl = outcomes.pinelabs.error;
  assert.ok(pl instanceof PayTokensError);
  assert.deepEqual([pl.code, pl.message, pl.httpStatus, pl.provider], ['NOT_FOUND', 'no such customer', 404, 'pinelabs']);
  const co = outcomes.chargeover.error;
  assert.deepEqual([co.code, co.provider, co.cause.code], ['PROVIDER_ERROR', 'chargeover', 'ECONNRESET']);
  assert.match(co.message, /^internal error: socket hang up$/);
});

test('the codes taken at their word are exactly the ErrorCode the core declares', async () => {
  const { ERROR_CODES } = await import('../pkg/options.js');
  const declared = readFileSync(new URL('../pkg/wasm/types.d.ts', import.meta.url), 'utf8').match(/export type ErrorCode = ([^;]+);/)[1];
  assert.deepEqual([...ERROR_CODES].sort(), [...declared.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1]).sort());
});

test('a provider without a client in the hub is reported, not thrown', async () => {
  const hub = hubFor(['alliancepay']);
  const { tokens, outcomes } = await hub.listTokens({ customers: { alliancepay: '12345', chargeover: '1000' } });
  assert.equal(tokens.length, 1);
  assert.equal(outcomes.chargeover.ok, false);
  assert.equal(outcomes.chargeover.error.code, 'INVALID_INPUT');
});

test('malformed input and hubs are refused', async () => {
  const hub = hubFor(['pinelabs']);
  const map = new Map([['pinelabs', 'cust-v1-0811030624-aa-RBDgpR']]); // no entries to read: it would list nothing
  for (const input of [undefined, {}, { customers: null }, { customers: ['x'] }, { customers: { stripe: 'x' } }, { customers: { pinelabs: 7 } }, { customers: map }]) {
    const err = await rejection(hub.listTokens(input));
    assert.equal(err.code, 'INVALID_INPUT', JSON.stringify(input));
    assert.match(err.message, /^input\.customers/, 'named from the argument it is in, as the clients name theirs');
  }
  // A key that is not a provider is not echoed (it may be a secret pasted in the wrong place);
  // the message names the providers instead.
  const pasted = await rejection(hub.listTokens({ customers: { sk_live_51Habc: 'c1' } }));
  assert.equal(pasted.code, 'INVALID_INPUT');
  assert.ok(!pasted.message.includes('sk_live_51Habc'), pasted.message);
  assert.equal(pasted.message, 'input.customers: holds a key that is not a provider (alliancepay, chargeover, pinelabs, payerly)');
  // A key no listing reads is refused, as by a client's calls: a signal there would never stop it.
  const customers = { pinelabs: 'cust-v1-0811030624-aa-RBDgpR' };
  const misplaced = await rejection(hub.listTokens({ customers, signal: AbortSignal.abort() }));
  assert.match(misplaced.message, /^input\.signal: goes in the call's options/);
  const unknown = await rejection(hub.listTokens({ customers, customerId: 'secret-looking-value' }));
  assert.equal(unknown.code, 'INVALID_INPUT');
  assert.ok(!unknown.message.includes('customerId') && !unknown.message.includes('secret-looking-value'), unknown.message);
  // A plain object without a prototype is plain data too.
  const { tokens } = await hub.listTokens({ customers: Object.assign(Object.create(null), customers) });
  assert.equal(tokens.length, 1);
  assert.throws(() => createHub([]), (e) => e.code === 'INVALID_INPUT');
  assert.throws(() => createHub([{}]), (e) => e.code === 'INVALID_INPUT');
  assert.throws(() => createHub([clientFor(sandbox(), 'pinelabs'), clientFor(sandbox(), 'pinelabs')]), /two clients for pinelabs/);
  assert.equal(hub.client('pinelabs').provider, 'pinelabs');
  assert.throws(() => hub.client('chargeover'), (e) => e.code === 'INVALID_INPUT');
  assert.throws(() => hub.client(1n), (e) => e.code === 'INVALID_INPUT');
  // Values that throw at a look (a revoked Proxy, an object without a prototype) are refused too.
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  assert.throws(() => createHub(proxy), (e) => e.code === 'INVALID_INPUT');
  assert.throws(() => createHub([proxy]), (e) => e.code === 'INVALID_INPUT');
  assert.throws(() => hub.client(Object.create(null)), (e) => e.code === 'INVALID_INPUT' && /^no client for that provider in this hub/.test(e.message));
});

test('hub.client does not echo what it was given (a secret pasted in the wrong place), and names the providers the hub has', () => {
  const hub = hubFor(['pinelabs', 'chargeover']);
  for (const given of ['sk_live_PASTED_SECRET', 'alliancepay', 1n, Symbol('sk_live_PASTED_SECRET'), Object.create(null)]) {
    assert.throws(() => hub.client(given), (e) => {
      assert.ok(e instanceof PayTokensError);
      assert.equal(e.code, 'INVALID_INPUT');
      assert.equal(e.message, 'no client for that provider in this hub (it has: pinelabs, chargeover)');
      assert.ok(!JSON.stringify(e).includes('PASTED'));
      return true;
    });
  }
});

test("a hand-made client's failure that cannot even be shown is still an outcome, not a rejection", async () => {
  const hub = createHub([{ provider: 'payerly', listTokens: async () => { throw Object.create(null); } }]);
  const { outcomes } = await hub.listTokens({ customers: { payerly: 'c' } });
  assert.equal(outcomes.payerly.error.code, 'PROVIDER_ERROR');
  assert.equal(outcomes.payerly.error.message, 'internal error: a value (object) that cannot be shown');
});

test('a rejection that throws when looked at (a revoked Proxy, a throwing code getter) is that provider\'s outcome, not a rejection', async () => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const throwingCode = { get code() { throw new Error('boom'); } };
  for (const thrown of [proxy, throwingCode]) {
    const hub = createHub([clientFor(sandbox(), 'pinelabs'), { provider: 'payerly', listTokens: async () => { throw thrown; } }]);
    const { tokens, outcomes } = await hub.listTokens({ customers: { pinelabs: 'cust-v1-statuses', payerly: 'x' } });
    assert.equal(outcomes.pinelabs.ok, true);
    assert.equal(tokens.length, 5);
    const err = outcomes.payerly.error;
    assert.ok(err instanceof PayTokensError);
    assert.deepEqual([err.code, err.provider, err.retryable], ['PROVIDER_ERROR', 'payerly', false]);
    assert.match(err.message, /^internal error: /);
    assert.equal(err.cause, thrown);
  }
});

test('a frozen PayTokensError without a provider is that provider\'s outcome as it is, not a rejection', async () => {
  const frozen = Object.freeze(new PayTokensError({ code: 'PROVIDER_ERROR', message: 'frozen', retryable: false }));
  const hub = createHub([clientFor(sandbox(), 'pinelabs'), { provider: 'payerly', listTokens: async () => { throw frozen; } }]);
  const { tokens, outcomes } = await hub.listTokens({ customers: { pinelabs: 'cust-v1-statuses', payerly: 'x' } });
  assert.equal(tokens.length, 5);
  assert.equal(outcomes.payerly.error, frozen);
});

test('a PayTokensError of another copy of the package is instanceof this one and back, and a hub keeps it as it is', async () => {
  // A second instance of errors.js has its own class, as a bundled copy beside an installed one does.
  const other = await import(`${new URL('../pkg/errors.js', import.meta.url).href}?another-copy`);
  assert.notEqual(other.PayTokensError, PayTokensError);
  const foreign = new other.PayTokensError({ code: 'NOT_FOUND', provider: 'payerly', message: 'no such token', retryable: false });
  assert.ok(foreign instanceof PayTokensError);
  assert.ok(new PayTokensError({ code: 'INTERNAL', message: 'm' }) instanceof other.PayTokensError);
  // The mark, not the shape: a look-alike or another Error is not one; a subclass checks as usual.
  assert.equal({ name: 'PayTokensError', code: 'NOT_FOUND', message: 'm' } instanceof PayTokensError, false);
  assert.equal(new Error('m') instanceof PayTokensError, false);
  assert.equal(null instanceof PayTokensError, false);
  class Narrower extends PayTokensError {}
  assert.ok(new Narrower({ code: 'INTERNAL', message: 'm' }) instanceof PayTokensError);
  assert.equal(foreign instanceof Narrower, false);
  // The mark shows in no form an error is written or copied in.
  assert.deepEqual(Object.keys(foreign), ['name', 'code', 'provider', 'retryable']);
  assert.equal(JSON.stringify(foreign), '{"name":"PayTokensError","message":"no such token","code":"NOT_FOUND","provider":"payerly","retryable":false}');
  assert.deepEqual(Object.keys(foreign.toJSON()), ['name', 'message', 'code', 'provider', 'retryable']);
  const cloned = structuredClone(foreign);
  assert.deepEqual([Object.getOwnPropertySymbols(cloned), cloned instanceof PayTokensError], [[], false]);
  assert.doesNotMatch(inspect(foreign), /paytokens\.error/);
  // A hub takes it as a PayTokensError: the outcome is that very error, not a copy made of it.
  const { outcomes } = await createHub([{ provider: 'payerly', listTokens: async () => { throw foreign; } }]).listTokens({ customers: { payerly: 'x' } });
  assert.equal(outcomes.payerly.error, foreign);
});

test("the hub's abort is the hub's ABORTED, with no provider blamed for it", async () => {
  // ChargeOver answers late, so the abort lands while it is in flight and its client rejects
  // with an ABORTED of its own, naming chargeover.
  sandbox().fault({ provider: 'chargeover', scenario: 'slow', delayMs: 1500 });
  const hub = hubFor(['pinelabs', 'chargeover']);
  const controller = new AbortController();
  const reason = new Error('the operator moved on');
  setTimeout(() => controller.abort(reason), 200);
  const err = await rejection(hub.listTokens({ customers: { pinelabs: 'cust-v1-statuses', chargeover: '1000' } }, { signal: controller.signal }));
  assert.ok(err instanceof PayTokensError);
  assert.equal(err.code, 'ABORTED');
  assert.equal(err.provider, undefined);
  assert.equal(err.message, 'the listing was aborted by its signal');
  assert.equal(err.cause, reason);
  // A client double that rejects with a provider's ABORTED gets the same hub-level error.
  const double = { provider: 'alliancepay', listTokens: async () => { throw new PayTokensError({ code: 'ABORTED', provider: 'alliancepay', message: 'stopped waiting for alliancepay', retryable: false }); } };
  const aborted = await rejection(createHub([double]).listTokens({ customers: { alliancepay: '1' } }, { signal: AbortSignal.abort(reason) }));
  assert.deepEqual([aborted.code, aborted.provider, aborted.message], ['ABORTED', undefined, 'the listing was aborted by its signal']);
});

test("the listing's deadlineMs makes a provider still waiting a TIMEOUT outcome and returns the others' tokens", { timeout: 10_000 }, async () => {
  // ChargeOver is throttled with a 4 s Retry-After, which its client would wait out.
  sandbox().fault({ provider: 'chargeover', scenario: 'rate_limit', retryAfter: 4 });
  const hub = hubFor(['pinelabs', 'chargeover']);
  const started = performance.now();
  const { tokens, outcomes } = await hub.listTokens({ customers: { pinelabs: 'cust-v1-statuses', chargeover: '1000' } }, { deadlineMs: 500 });
  const took = performance.now() - started;
  assert.ok(took >= 450 && took < 2000, `${took} ms`);
  assert.equal(outcomes.pinelabs.ok, true);
  assert.equal(tokens.length, outcomes.pinelabs.count);
  assert.equal(outcomes.chargeover.ok, false);
  const err = outcomes.chargeover.error;
  assert.ok(err instanceof PayTokensError);
  assert.deepEqual([err.code, err.provider, err.retryable], ['TIMEOUT', 'chargeover', true]);
  assert.match(err.message, /^chargeover's listing had not ended when the hub's deadlineMs \(500 ms\) did; /);
  // The clients' own deadlineMs, which the hub's backs up, tells the throttle apart, at once.
  const bounded = createHub([clientFor(sandbox(), 'chargeover', { deadlineMs: 500 })]);
  sandbox().fault({ provider: 'chargeover', scenario: 'rate_limit', retryAfter: 4 });
  const own = (await bounded.listTokens({ customers: { chargeover: '1000' } }, { deadlineMs: 2000 })).outcomes.chargeover.error;
  assert.deepEqual([own.code, own.retryAfterMs], ['RATE_LIMITED', 4000]);
  // A hand-made client that ignores the signal is not waited for either; one that answered in
  // time keeps its tokens.
  const stuck = { provider: 'payerly', listTokens: () => new Promise(() => {}) };
  const quick = { provider: 'alliancepay', listTokens: async () => [{ provider: 'alliancepay', id: 'a1', status: 'ACTIVE' }] };
  // One that hands back its array itself, not a promise, works with a deadline as without.
  const direct = { provider: 'pinelabs', listTokens: () => [{ provider: 'pinelabs', id: 'p1', status: 'ACTIVE' }] };
  const second = await createHub([stuck, quick, direct]).listTokens({ customers: { payerly: 'p', alliancepay: 'a', pinelabs: 'c' } }, { deadlineMs: 100 });
  assert.deepEqual([second.outcomes.payerly.error.code, second.outcomes.alliancepay.ok, second.outcomes.pinelabs.ok, second.tokens.length], ['TIMEOUT', true, true, 2]);
  // (Counted around a listing of a few milliseconds: the sandbox's own timers, such as its idle
  // connections', may only end meanwhile.)
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const quickly = await createHub([quick]).listTokens({ customers: { alliancepay: 'a' } }, { deadlineMs: 60_000 });
  assert.equal(quickly.outcomes.alliancepay.ok, true);
  assert.ok(timers() <= before, "the deadline's timer is cleared once the listing ends");
  // The caller's abort still ends the whole listing, deadline or not, and the timer is cleared
  // (this test would hold Node for the 60 s otherwise).
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const aborted = await rejection(createHub([stuck]).listTokens({ customers: { payerly: 'p' } }, { signal: controller.signal, deadlineMs: 60_000 }));
  assert.deepEqual([aborted.code, aborted.provider], ['ABORTED', undefined]);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
});

test('the hub checks deadlineMs and names its options', async () => {
  const hub = hubFor(['pinelabs']);
  for (const bad of [0, -1, 1.5, '500', NaN, 2 ** 31]) {
    const err = await rejection(hub.listTokens({ customers: { pinelabs: 'cust-v1-statuses' } }, { deadlineMs: bad }));
    assert.deepEqual([err.code, err.message], ['INVALID_INPUT', 'options.deadlineMs: must be a whole number of milliseconds, 1–2147483647']);
  }
  const err = await rejection(hub.listTokens({ customers: { pinelabs: 'cust-v1-statuses' } }, { deadline: 5 }));
  assert.equal(err.message, 'options: has a key that is not an option (only signal and deadlineMs)');
  // A client's own calls take the same options, checked the same way.
  const client = clientFor(sandbox(), 'pinelabs');
  const refused = await rejection(client.listTokens({ customerId: 'cust-v1-statuses' }, { deadline: 5 }));
  assert.deepEqual([refused.provider, refused.message], ['pinelabs', 'options: has a key that is not an option (only signal and deadlineMs)']);
  const bad = await rejection(client.getToken({ tokenId: 't', customerId: 'c' }, { deadlineMs: 0 }));
  assert.deepEqual([bad.code, bad.message], ['INVALID_INPUT', 'options.deadlineMs: must be a whole number of milliseconds, 1–2147483647']);
});

test('sort order: status, then soonest expiry (unknown last), then provider, then id', () => {
  const t = (provider, id, status, expiresAt) => ({ provider, id, status, expiresAt });
  const list = [
    t('pinelabs', 'd', 'DELETED', '2020-01-01T00:00:00.000Z'),
    t('chargeover', 'x', 'ACTIVE'),
    t('pinelabs', 'b', 'ACTIVE', '2031-01-01T00:00:00.000Z'),
    t('alliancepay', 'a', 'ACTIVE'),
    t('payerly', 'c', 'ACTIVE', '2027-01-01T00:00:00.000Z'),
    t('pinelabs', 's', 'SUSPENDED', '2026-01-01T00:00:00.000Z'),
  ];
  assert.deepEqual(list.sort(compareTokens).map((x) => x.id), ['c', 'b', 'a', 'x', 's', 'd']);
  // Ids of digits (ChargeOver's) by their number, ahead of other ids: the order stays total.
  const ids = ['15', 'b7', '3', '007', '7', '21', 'a', '100'].map((id) => t('chargeover', id, 'ACTIVE'));
  assert.deepEqual(ids.sort(compareTokens).map((x) => x.id), ['3', '007', '7', '15', '21', '100', 'a', 'b7']);
});

test("a server's shutdown signal passed to many hub listings gets one listener, and none once they end", async () => {
  const hub = hubFor(['pinelabs', 'chargeover']);
  const warnings = [];
  const onWarning = (w) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const { signal } = new AbortController();
    sandbox().fault({ provider: 'pinelabs', scenario: 'slow', delayMs: 300, times: 12 });
    const listings = Array.from({ length: 12 }, () => hub.listTokens({ customers: { pinelabs: 'cust-v1-0811030624-aa-RBDgpR', chargeover: '1000' } }, { signal }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(getEventListeners(signal, 'abort').length, 1, 'one listener for 12 listings in flight');
    for (const { outcomes } of await Promise.all(listings)) assert.ok(outcomes.pinelabs.ok && outcomes.chargeover.ok);
    assert.equal(getEventListeners(signal, 'abort').length, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings.filter((n) => n === 'MaxListenersExceededWarning'), []);
  } finally {
    process.off('warning', onWarning);
  }
});

// A timeout of its own: were the abort race lost, the listing would wait forever.
test('a hand-made client whose tokens cannot be sorted fails alone; one that never settles does not hold an aborted listing', { timeout: 10_000 }, async () => {
  const pinelabs = clientFor(sandbox(), 'pinelabs');
  const odd = { provider: 'payerly', listTokens: async () => [
    { id: 'a', provider: 'payerly', status: 'ACTIVE', expiresAt: Object.create(null) },
    { id: 'b', provider: 'payerly', status: Object.create(null), expiresAt: '2030-01-01T00:00:00Z' },
  ] };
  // Before, the sort threw a bare TypeError outside every provider's try, losing Pine Labs' tokens too.
  const { tokens, outcomes } = await createHub([pinelabs, odd]).listTokens({ customers: { pinelabs: 'cust-v1-statuses', payerly: 'c' } });
  assert.equal(outcomes.pinelabs.ok, true);
  assert.equal(tokens.length, outcomes.pinelabs.count);
  assert.equal(outcomes.payerly.ok, false);
  assert.ok(outcomes.payerly.error instanceof PayTokensError);

  const stuck = { provider: 'payerly', listTokens: () => new Promise(() => {}) };
  const controller = new AbortController();
  const listing = createHub([pinelabs, stuck]).listTokens({ customers: { pinelabs: 'cust-v1-statuses', payerly: 'c' } }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  const err = await rejection(listing);
  assert.equal(err.code, 'ABORTED');
});
