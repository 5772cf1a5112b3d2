// Bad caller input, table-driven, for every provider and operation it has: each case gives
// INVALID_INPUT and sends nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
  const query = await rejection(clientFor(sb, 'chargeover').queryTokens({ where: [{ field: 'customer_id', op: 'EQUALS', value: 1, values: [2] }] }));
  assert.equal(query.message, 'query.where[0].values: is not an option; did you mean value?');
  // A key that is no option name nor a near miss may be a pasted secret or card number: not echoed.
  for (const key of ['4111111111111111', 'sk "live" \\ 4111\n1111']) {
    const pasted = await rejection(client.getToken({ tokenId: 't', customerId: 'c', [key]: 1 }));
    assert.equal(pasted.message, 'input: holds a key that is not an option');
    const nested = await rejection(clientFor(sb, 'chargeover').queryTokens({ where: [{ field: 'customer_id', op: 'EQUALS', value: 1, [key]: 2 }] }));
    assert.equal(nested.message, 'query.where[0]: holds a key that is not an option');
  }
  assert.throws(() => clientFor(sb, 'pinelabs', { deadlineMS: 5000 }), { code: 'INVALID_INPUT', provider: 'pinelabs', message: 'config.deadlineMS: is not an option; did you mean deadlineMs?' });
  assert.equal(sb.requests.length, 0);
});

test('every method the Client type declares works detached (called without its client)', async () => {
  const sb = sandbox();
  sb.reset();
  const types = readFileSync(new URL('../pkg/index.d.ts', import.meta.url), 'utf8');
  const declared = [...types.match(/^export interface Client \{\n([\s\S]*?)^\}/m)[1].matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]);
  assert.ok(declared.length >= 7, declared.join());
  const client = clientFor(sb, 'chargeover');
  for (const name of declared) {
    const detached = client[name];
    // `undefined` input: each call refuses it as the caller's mistake, not with a TypeError on `this`.
    const result = detached(undefined);
    const err = await rejection(typeof result.next === 'function' ? result.next() : result);
    assert.equal(err.code, 'INVALID_INPUT', `${name}: ${err.message}`);
  }
  // Binding is for calls only: a spread of a client does not carry its toJSON along.
  assert.equal(JSON.stringify({ ...client, note: 1 }), '{"note":1}');
  assert.equal(sb.requests.length, 0);
});
