// Caller input: bad input, table-driven, for every provider and operation it has (each case gives
// INVALID_INPUT and sends nothing), and when a call reads its input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createClient, createHub, PayTokensError } from 'paytokens';
import { useSandbox, clientFor, rejection } from './helpers.js';

const sandbox = useSandbox();

const BAD_IDS = {
  empty: '',
  'too long': 'x'.repeat(256),
  'control character': 'ab\u0007c',
  newline: 'ab\ncd',
  slash: 'a/b',
  'dot dot': '..',
  'dot dot inside': 'a..b',
  question: 'a?b=1',
  hash: 'a#b',
  percent: 'a%2Fb',
  'non-ASCII': 'kunde-ü',
  'wrong type (number)': 12345,
  'wrong type (object)': { id: 'x' },
  'wrong type (null)': null,
};

const OPERATIONS = {
  pinelabs: {
    listTokens: (id) => ({ customerId: id }),
    getToken: (id) => ({ tokenId: id, customerId: 'cust-v1-0811030624-aa-RBDgpR' }),
    deleteToken: (id) => ({ tokenId: 'token-v1-1234567890-aa-ABCDEF', customerId: id }),
  },
  alliancepay: {
    listTokens: (id) => ({ customerId: id }),
    getToken: (id) => ({ tokenId: id }),
    updateTokenStatus: (id) => ({ tokenId: id, status: 'SUSPENDED' }),
    deleteToken: (id) => ({ tokenId: id }),
  },
  chargeover: {
    listTokens: (id) => ({ customerId: id }),
    getToken: (id) => ({ tokenId: id }),
    deleteToken: (id) => ({ tokenId: id }),
    createToken: (id) => ({ customerId: id, token: 'cus_123' }),
  },
  payerly: {
    getToken: (id) => ({ tokenId: id }),
  },
};

// AlliancePay sends ids inside the (encrypted) JSON body, where doc 000's string(255) allows any
// text: only the checks that hold for a body field apply.
const BODY_FIELD_CHECKS = ['empty', 'too long', 'control character', 'newline', 'wrong type (number)', 'wrong type (object)', 'wrong type (null)'];
const badIdsFor = (provider) => Object.entries(BAD_IDS).filter(([name]) => provider !== 'alliancepay' || BODY_FIELD_CHECKS.includes(name));

for (const [provider, operations] of Object.entries(OPERATIONS)) {
  test(`${provider}: bad ids give INVALID_INPUT with zero requests`, async () => {
    const sb = sandbox();
    sb.reset();
    const client = clientFor(sb, provider);
    for (const [op, input] of Object.entries(operations)) {
      for (const [name, bad] of badIdsFor(provider)) {
        const err = await rejection(client[op](input(bad)));
        assert.equal(err.code, 'INVALID_INPUT', `${op} with ${name}: ${err.code} ${err.message}`);
        assert.equal(err.provider, provider);
      }
      for (const notAnObject of [undefined, null, 'x', 42, []]) {
        assert.equal((await rejection(client[op](notAnObject))).code, 'INVALID_INPUT', `${op}(${JSON.stringify(notAnObject)})`);
      }
    }
    assert.equal(sb.requests.length, 0);
  });
}

test('unknown or unsettable statuses give INVALID_INPUT with zero requests', async () => {
  const sb = sandbox();
  sb.reset();
  const client = clientFor(sb, 'alliancepay');
  for (const status of ['FROZEN', 'active', '', 42, null, 'PENDING', 'EXPIRED', 'UNKNOWN']) {
    const err = await rejection(client.updateTokenStatus({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt', status }));
    assert.equal(err.code, 'INVALID_INPUT', JSON.stringify(status));
  }
  assert.equal(sb.requests.length, 0);
});

test('a customerId of null is refused, not taken as "not given": the call would lose its scoping', async () => {
  const sb = sandbox();
  sb.reset();
  const chargeover = clientFor(sb, 'chargeover');
  const alliancepay = clientFor(sb, 'alliancepay');
  for (const call of [
    () => chargeover.deleteToken({ tokenId: '4', customerId: null }),
    () => chargeover.getToken({ customerId: null, tokenId: '4' }),
    () => alliancepay.updateTokenStatus({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt', status: 'SUSPENDED', customerId: null }),
  ]) {
    const err = await rejection(call());
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, /^input\.customerId: expected the customer's id, not null \(leave customerId out/);
  }
  assert.equal(sb.requests.length, 0);
  // A saved session read back as null from a store that has none yet is "no session".
  assert.ok((await clientFor(sb, 'alliancepay', { session: null }).listTokens({ customerId: 'senderCustomerId' })).length > 0);
});

test('Payerly lookup narrowers are checked too', async () => {
  const sb = sandbox();
  sb.reset();
  const client = clientFor(sb, 'payerly');
  for (const extra of [{ email: 'no-at-sign' }, { email: 'a b@c.d' }, { phone: '12ab' }, { phone: '1' }, { accountId: 'a\u0007b' }, { accountId: '' }]) {
    assert.equal((await rejection(client.getToken({ tokenId: 'tok_visa_active', ...extra }))).code, 'INVALID_INPUT', JSON.stringify(extra));
  }
  assert.equal(sb.requests.length, 0);
});

test('an option a call does not have, or a misspelt config option, is INVALID_INPUT and sends nothing', async () => {
  const sb = sandbox();
  sb.reset();
  const client = clientFor(sb, 'pinelabs');
  const err = await rejection(client.listTokens({ customerId: 'cust-v1-0811030624-aa-RBDgpR', signal: AbortSignal.timeout(1000) }));
  assert.equal(err.code, 'INVALID_INPUT');
  assert.equal(err.message, "input.signal: goes in the call's options, its second argument: e.g. listTokens(input, { signal })");
  const typo = await rejection(client.getToken({ tokenID: 'x', customerId: 'c' }));
  assert.equal(typo.code, 'INVALID_INPUT');
  assert.equal(typo.message, 'input.tokenID: is not an option; did you mean tokenId?');
  // `id`, what a Token calls it, is the name tried first.
  const byId = await rejection(client.getToken({ id: 'x', customerId: 'c' }));
  assert.equal(byId.message, 'input.id: is not an option; did you mean tokenId?');
  // Missing fields and wrong types in JavaScript's words, the field named.
  assert.throws(() => createClient({ provider: 'pinelabs', clientId: undefined, clientSecret: 's' }), { code: 'INVALID_INPUT', message: 'config.clientId: is required' });
  assert.throws(() => clientFor(sb, 'pinelabs', { timeoutMs: '5000' }), { code: 'INVALID_INPUT', message: 'config.timeoutMs: expected a whole number' });
  assert.throws(() => clientFor(sb, 'pinelabs', { timeoutMs: -5 }), { code: 'INVALID_INPUT', message: 'config.timeoutMs: must be a whole number 0 to 4294967295' });
  // `id` is no provider's option: not "an option for another provider".
  assert.throws(() => clientFor(sb, 'pinelabs', { id: 1 }), { code: 'INVALID_INPUT', message: /^config\.id: is not an option \(expected provider, / });
  // A JWK passed as its JSON text is told to parse it; other strings are not.
  assert.throws(() => clientFor(sb, 'alliancepay', { merchantPrivateKey: '{"kty":"EC"}' }), { message: 'config.merchantPrivateKey: expected an object, not its JSON text (JSON.parse it first)' });
  const order = await rejection(clientFor(sb, 'chargeover').queryTokens({ order: ['created_at'] }));
  assert.equal(order.message, 'query.order[0]: expected an object');
  const query = await rejection(clientFor(sb, 'chargeover').queryTokens({ where: [{ field: 'customer_id', op: 'EQUALS', value: 1, values: [2] }] }));
  assert.equal(query.message, 'query.where[0].values: is not an option; did you mean value?');
  // A key that is no option name nor a near miss may be a pasted secret or card number: not echoed.
  for (const key of ['4111111111111111', 'sk "live" \\ 4111\n1111']) {
    const pasted = await rejection(client.getToken({ tokenId: 't', customerId: 'c', [key]: 1 }));
    assert.equal(pasted.message, 'input: holds a key that is not an option (not shown: it may be a secret; expected tokenId, customerId, accountId, phone, email, includeRaw)');
    const nested = await rejection(clientFor(sb, 'chargeover').queryTokens({ where: [{ field: 'customer_id', op: 'EQUALS', value: 1, [key]: 2 }] }));
    assert.match(nested.message, /^query\.where\[0\]: holds a key that is not an option \(not shown: it may be a secret; expected field, op, value/);
    assert.ok(!nested.message.includes('4111'), nested.message);
  }
  assert.throws(() => clientFor(sb, 'pinelabs', { deadlineMS: 5000 }), { code: 'INVALID_INPUT', provider: 'pinelabs', message: 'config.deadlineMS: is not an option; did you mean deadlineMs?' });
  // A function under a misspelt name is named too: JSON alone would have dropped it silently,
  // and AlliancePay's sessions would never have been saved.
  const save = () => {};
  assert.throws(() => clientFor(sb, 'alliancepay', { onSessionUpdated: save }), { code: 'INVALID_INPUT', message: 'config.onSessionUpdated: is not an option; did you mean onSessionUpdate?' });
  assert.throws(() => clientFor(sb, 'pinelabs', { fetchFn: save }), { code: 'INVALID_INPUT', message: 'config.fetchFn: is not an option; did you mean fetch?' });
  assert.throws(() => clientFor(sb, 'pinelabs', { clientSecret: () => 'secret' }), { code: 'INVALID_INPUT', message: /^config\.clientSecret: / });
  // A session callback where there are no sessions would never be called.
  assert.throws(() => clientFor(sb, 'pinelabs', { onSessionUpdate: save }), { code: 'INVALID_INPUT', message: 'config.onSessionUpdate: is not an option for pinelabs (only AlliancePay has sessions)' });
  assert.equal(clientFor(sb, 'alliancepay', { onSessionUpdate: save, fetch }).provider, 'alliancepay');
  assert.throws(() => clientFor(sb, 'alliancepay', { onSessionUpdate: 'save' }), { code: 'INVALID_INPUT', message: 'config.onSessionUpdate: must be a function' });
  assert.equal(sb.requests.length, 0);
});

test('every method the Client type declares works detached (called without its client)', async () => {
  const sb = sandbox();
  sb.reset();
  const types = readFileSync(new URL('../pkg/index.d.ts', import.meta.url), 'utf8');
  const declared = [...types.match(/^export interface Client<P extends Provider = Provider> \{\n([\s\S]*?)^\}/m)[1].matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]);
  assert.ok(declared.length >= 7, declared.join());
  const client = clientFor(sb, 'chargeover');
  // close takes no input and ends the client: close.test.js calls it detached.
  for (const name of declared.filter((n) => n !== 'close')) {
    const detached = client[name];
    // `undefined` input: each call refuses it as the caller's mistake, not with a TypeError on `this`.
    const result = detached(undefined);
    const err = await rejection(typeof result.next === 'function' ? result.next() : result);
    assert.equal(err.code, 'INVALID_INPUT', `${name}: ${err.message}`);
  }
  // A spread of a client carries its calls, provider and capabilities (a wrapper is made so), not
  // its toJSON; and a hub takes the wrapper.
  const wrapper = { ...client, note: 1 };
  assert.equal(JSON.stringify(wrapper), JSON.stringify({ provider: 'chargeover', capabilities: client.capabilities, note: 1 }));
  assert.deepEqual(createHub([wrapper]).providers, ['chargeover']);
  assert.equal(sb.requests.length, 0);
});

test('a call reads its input when it is made: changing the object right after changes nothing', async () => {
  const sb = sandbox();
  sb.reset();
  const client = clientFor(sb, 'pinelabs');
  const customer = 'cust-v1-0811030624-aa-RBDgpR';
  // One object reused for several calls, as in a loop over customers.
  const input = { customerId: customer };
  const listed = client.listTokens(input);
  input.customerId = 'cust-someone-else';
  const tokens = await listed;
  assert.ok(tokens.length > 0);
  assert.deepEqual(sb.requests.filter((r) => r.path.includes('/customer/')).map((r) => r.path.includes(customer)), [true]);
  const removal = { customerId: customer, tokenId: tokens[0].id };
  const deleted = client.deleteToken(removal);
  removal.tokenId = 'token-v1-1234567890-aa-ABCDEF';
  assert.equal(await deleted, undefined);
  const deletes = sb.requests.filter((r) => r.path.endsWith('/delete')).map((r) => r.path);
  assert.equal(deletes.length, 1);
  assert.ok(deletes[0].endsWith(`/${encodeURIComponent(tokens[0].id)}/delete`), deletes[0]);
});

test('a throwing getter in a config, options or hub input, and a bare AbortSignal as the options, are INVALID_INPUT', async () => {
  const sb = sandbox();
  sb.reset();
  const locked = () => {
    throw new Error('vault locked');
  };
  assert.throws(() => createClient({ provider: 'pinelabs', clientId: 'x', get clientSecret() { return locked(); } }), (err) => {
    assert.ok(err instanceof PayTokensError);
    assert.deepEqual([err.code, err.message], ['INVALID_INPUT', 'config: must hold only plain data']);
    return true;
  });
  const client = clientFor(sb, 'pinelabs');
  const input = { customerId: 'cust-v1-0811030624-aa-RBDgpR' };
  const cases = [
    [{ get signal() { return locked(); } }, 'options: must hold only plain data'],
    [new AbortController().signal, 'options: is an AbortSignal; pass it as { signal }'],
  ];
  for (const [options, message] of cases) {
    const err = await rejection(client.listTokens(input, options));
    assert.ok(err instanceof PayTokensError);
    assert.deepEqual([err.code, err.provider, err.message], ['INVALID_INPUT', 'pinelabs', message]);
  }
  const hub = createHub([client]);
  const bad = await rejection(hub.listTokens({ get customers() { return locked(); } }));
  assert.deepEqual([bad instanceof PayTokensError, bad.code, bad.message], [true, 'INVALID_INPUT', 'input.customers: must hold only plain data']);
  const bare = await rejection(hub.listTokens({ customers: { pinelabs: input.customerId } }, new AbortController().signal));
  assert.deepEqual([bare.code, bare.message], ['INVALID_INPUT', 'options: is an AbortSignal; pass it as { signal }']);
  // A revoked Proxy throws at any look: an input error too, and the client keeps working (an
  // exception through the wasm would have left it borrowed for good).
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  for (let i = 0; i < 2; i++) {
    const revoked = await rejection(client.getToken(proxy));
    assert.deepEqual([revoked.code, revoked.message], ['INVALID_INPUT', 'input: must hold only plain data']);
  }
  assert.throws(() => createClient(proxy), { code: 'INVALID_INPUT' });
  for (const notObject of [[input], 'text', null]) {
    assert.equal((await rejection(client.getToken(notObject))).message, 'input: must be an object');
  }
  assert.equal(sb.requests.length, 0);
  assert.equal((await client.listTokens(input)).length, 1);
});

test('values JSON cannot write (a function, a symbol, a Map, an invalid Date, a toJSON giving undefined) are refused, not taken as "not given"', async () => {
  const sb = sandbox();
  sb.reset();
  const pl = sb.credentials.pinelabs;
  // Each of these, dropped, would leave a default in place: the provider's host, no deadline.
  for (const [extra, field] of [
    [{ baseUrl: Symbol('proxy') }, 'config.baseUrl'],
    [{ deadlineMs: new Date('soon') }, 'config.deadlineMs'],
    [{ timeoutMs: { toJSON() {} } }, 'config.timeoutMs'],
    [{ maxRetries: new Map([['n', 1]]) }, 'config.maxRetries'],
  ]) {
    assert.throws(() => createClient({ provider: 'pinelabs', ...pl, ...extra }), (err) => {
      assert.ok(err instanceof PayTokensError);
      assert.equal(err.code, 'INVALID_INPUT');
      assert.ok(err.message.startsWith(`${field}: `), err.message);
      return true;
    });
  }
  // A `where` given as a function would have listed every customer's tokens.
  const co = clientFor(sb, 'chargeover');
  for (const where of [() => [], new Set([1]), /customer/]) {
    const err = await rejection(co.queryTokens({ where }));
    assert.equal(err.code, 'INVALID_INPUT');
    assert.ok(err.message.startsWith('query.where: '), err.message);
  }
  assert.equal(sb.count({ provider: 'chargeover' }), 0, 'nothing was sent');
  // A Map as the options would hide its signal: refused, not ignored.
  const signal = new AbortController().signal;
  const err = await rejection(co.listTokens({ customerId: '1000' }, new Map([['signal', signal]])));
  assert.deepEqual([err.code, err.message], ['INVALID_INPUT', 'options: must be a plain object: { signal, deadlineMs }']);
  // What still reads as before: undefined fields, boxed strings, a class instance as the input.
  class Lookup { constructor(customerId) { this.customerId = customerId; } }
  assert.ok((await co.listTokens(new Lookup('1000'))).length > 0);
  assert.ok((await co.listTokens({ customerId: new String('1000') }, { signal: undefined })).length > 0);
  assert.doesNotThrow(() => createClient({ provider: 'pinelabs', ...pl, deadlineMs: undefined }));
});

test('a config or input larger than 1 MiB as JSON is refused before it reaches wasm memory', async () => {
  const { initSync } = await import('../pkg/wasm/paytokens.js');
  const wasmBytes = () => initSync({ module: new Uint8Array() }).memory.buffer.byteLength;
  const sb = sandbox();
  const client = clientFor(sb, 'pinelabs');
  await client.listTokens({ customerId: 'cust-v1-0811030624-aa-RBDgpR' });
  const before = wasmBytes();
  // Read whole, this took 788 MiB of wasm memory, which never shrinks.
  const notes = new Array(1e7).fill(0);
  assert.throws(() => createClient({ provider: 'pinelabs', ...sb.credentials.pinelabs, notes }), (err) => {
    assert.deepEqual([err.code, err.message], ['INVALID_INPUT', 'config: is larger than 1 MiB as JSON, far past any real one']);
    return true;
  });
  const err = await rejection(client.listTokens({ customerId: 'c'.repeat(2 << 20) }));
  assert.deepEqual([err.code, err.message], ['INVALID_INPUT', 'input: is larger than 1 MiB as JSON, far past any real one']);
  assert.equal(wasmBytes(), before, 'wasm memory did not grow');
  assert.equal((await client.listTokens({ customerId: 'cust-v1-0811030624-aa-RBDgpR' })).length, 1);
});
