// Canary secrets through every failure path of every provider: they must never appear in a
// message, a stack, a JSON or inspected form, or anything written to the console.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { createClient } from 'paytokens';
import { useSandbox, rejection } from './helpers.js';

const sandbox = useSandbox();
const CANARY = 'canary-7f3e1c9a-secret';
const SCENARIOS = ['html_502', 'malformed', 'truncated', 'reset', 'slow', 'rate_limit', 'server_error', 'error_in_200'];

let written = '';
const originals = {};
before(() => {
  for (const name of ['log', 'error', 'warn', 'info', 'debug']) {
    originals[name] = console[name];
    console[name] = (...args) => {
      written += `${args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ')}\n`;
    };
  }
  for (const stream of ['stdout', 'stderr']) {
    originals[stream] = process[stream].write;
    process[stream].write = function (chunk, ...rest) {
      written += String(chunk);
      return originals[stream].call(this, chunk, ...rest);
    };
  }
});
after(() => {
  for (const name of ['log', 'error', 'warn', 'info', 'debug']) console[name] = originals[name];
  for (const stream of ['stdout', 'stderr']) process[stream].write = originals[stream];
});

function assertClean(secrets, ...things) {
  for (const thing of things) {
    const forms = [String(thing), inspect(thing, { depth: 5, showHidden: true }), JSON.stringify(thing) ?? ''];
    if (thing instanceof Error) forms.push(thing.message, thing.stack ?? '');
    for (const form of forms) for (const secret of secrets) assert.ok(!form.includes(secret), `secret in: ${form.slice(0, 300)}`);
  }
  for (const secret of secrets) assert.ok(!written.includes(secret), 'secret written to the console');
}

const cases = () => {
  const sb = sandbox();
  const creds = sb.credentials;
  return {
    pinelabs: {
      secrets: [CANARY, creds.pinelabs.clientSecret],
      wrong: { provider: 'pinelabs', clientId: creds.pinelabs.clientId, clientSecret: CANARY },
      right: { provider: 'pinelabs', ...creds.pinelabs },
      path: '/customer/',
      call: (c) => c.listTokens({ customerId: 'cust-v1-0811030624-aa-RBDgpR' }),
    },
    alliancepay: {
      secrets: [CANARY, creds.alliancepay.merchantPrivateKey.d],
      wrong: { provider: 'alliancepay', serviceCode: CANARY, merchantPrivateKey: creds.alliancepay.merchantPrivateKey },
      right: { provider: 'alliancepay', ...creds.alliancepay },
      path: '/token/',
      call: (c) => c.listTokens({ customerId: 'senderCustomerId' }),
    },
    chargeover: {
      secrets: [CANARY, creds.chargeover.password, Buffer.from(`${creds.chargeover.username}:${creds.chargeover.password}`).toString('base64')],
      wrong: { provider: 'chargeover', username: creds.chargeover.username, password: CANARY },
      right: { provider: 'chargeover', ...creds.chargeover },
      path: '/tokenized',
      call: (c) => c.listTokens({ customerId: '2' }),
    },
    payerly: {
      secrets: [CANARY, creds.payerly.apiKey],
      wrong: { provider: 'payerly', apiKey: CANARY },
      right: { provider: 'payerly', ...creds.payerly },
      path: '/tokens/',
      call: (c) => c.getToken({ tokenId: 'tok_visa_active' }),
    },
  };
};

for (const provider of ['pinelabs', 'alliancepay', 'chargeover', 'payerly']) {
  test(`${provider}: no secret in any failure`, async () => {
    const sb = sandbox();
    sb.reset();
    const c = cases()[provider];
    const baseUrl = sb.baseUrls[provider];
    const errors = [];
    const sessions = [];
    // Wrong credentials.
    const wrong = createClient({ ...c.wrong, baseUrl, maxRetries: 0 });
    errors.push(await rejection(c.call(wrong)));
    assert.equal(errors[0].code, 'AUTHENTICATION');
    // Every fault scenario with the right credentials.
    const right = createClient({ ...c.right, baseUrl, maxRetries: 0, timeoutMs: 300, onSessionUpdate: provider === 'alliancepay' ? (s) => sessions.push(s) : undefined });
    for (const scenario of SCENARIOS) {
      sb.fault({ provider, scenario, pathIncludes: c.path, delayMs: 1000, retryAfter: 1 });
      errors.push(await rejection(c.call(right)));
    }
    // Bad input, unsupported operations, a refused connection, a bad config.
    errors.push(await rejection(right.listTokens({ customerId: 'bad\u0007id' })));
    errors.push(await rejection(right.updateTokenStatus({ tokenId: 'x', status: 'NOPE' })));
    errors.push(await rejection(right.createToken({ customerId: '1', token: '4111111111111111' })));
    errors.push(await rejection(createClient({ ...c.right, baseUrl: 'http://127.0.0.1:9/x', maxRetries: 0 }).getToken({ tokenId: 't', customerId: 'c' })));
    try {
      createClient({ ...c.right, baseUrl: 'ftp://nowhere', timeoutMs: CANARY });
    } catch (err) {
      errors.push(err);
    }
    assert.ok(errors.length >= 13);
    const sessionSecrets = sessions.map((s) => s.refreshToken);
    assertClean([...c.secrets, ...sessionSecrets], ...errors, wrong, right);
  });
}
