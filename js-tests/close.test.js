// client.close(): a process that makes clients as it goes (one per merchant, or per request) must
// be able to let one go now, with its credentials, rather than whenever garbage collection runs.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, PayTokensError } from 'paytokens';
import { initSync } from '../pkg/wasm/paytokens.js';
import { useSandbox, clientFor, rejection } from './helpers.js';

const sandbox = useSandbox();
beforeEach(() => sandbox().reset());

const CUSTOMER = 'cust-v1-0811030624-aa-RBDgpR';
const list = (client) => client.listTokens({ customerId: CUSTOMER });
// The instance the package runs on (`initSync` hands back the one already made).
const wasmBytes = () => initSync({ module: new Uint8Array() }).memory.buffer.byteLength;

test('a closed client sends nothing: its calls reject with ABORTED, and capabilities throws it', async () => {
  const client = clientFor(sandbox(), 'pinelabs');
  assert.equal((await list(client)).length, 1);
  const sent = sandbox().count({ provider: 'pinelabs' });
  const { close } = client; // detached, like every method
  close();
  close(); // again: nothing more happens
  for (const call of [() => list(client), () => client.getToken({ tokenId: 't', customerId: CUSTOMER }), () => client.iterateTokens({ customerId: CUSTOMER }).next()]) {
    const err = await rejection(call());
    assert.ok(err instanceof PayTokensError);
    assert.deepEqual([err.code, err.provider, err.retryable], ['ABORTED', 'pinelabs', false]);
    assert.equal(err.message, 'this pinelabs client was closed; nothing was sent');
  }
  assert.throws(() => client.capabilities, (err) => err instanceof PayTokensError && err.code === 'ABORTED');
  assert.equal(sandbox().count({ provider: 'pinelabs' }), sent);
  assert.deepEqual(JSON.parse(JSON.stringify(client)), { provider: 'pinelabs' });
  // Other clients are untouched.
  assert.equal((await list(clientFor(sandbox(), 'pinelabs'))).length, 1);
});

// The requests that carried a credential are wiped once sent: after close(), wasm memory holds no
// copy of the bearer token, the session's refresh token, or the merchant key's `d` (read by the
// config's option check and handed to WebCrypto as a JWK) of a client that only listed.
test('after close(), the credentials a listing sent are nowhere in wasm memory', async () => {
  const occurrences = (needle) => {
    const memory = Buffer.from(initSync({ module: new Uint8Array() }).memory.buffer);
    let count = 0;
    for (let at = memory.indexOf(needle); at >= 0; at = memory.indexOf(needle, at + 1)) count += 1;
    return count;
  };
  // A client made and closed with no call: what reading its config left behind shows before
  // later work reuses that memory.
  const { d } = sandbox().credentials.alliancepay.merchantPrivateKey;
  assert.ok(d?.length > 40);
  clientFor(sandbox(), 'alliancepay').close();
  assert.equal(occurrences(d), 0, 'the merchant key d after an idle client closed');
  const pinelabs = clientFor(sandbox(), 'pinelabs');
  await list(pinelabs);
  const bearer = sandbox().requests.findLast((r) => r.headers.authorization)?.headers.authorization.slice('Bearer '.length);
  assert.ok(bearer?.length > 8, 'the sandbox saw the bearer token');
  pinelabs.close();
  let saved;
  const alliancepay = clientFor(sandbox(), 'alliancepay', { onSessionUpdate: (session) => { saved = session; } });
  await alliancepay.listTokens({ customerId: 'senderCustomerId' });
  alliancepay.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual([occurrences(bearer), occurrences(saved.refreshToken), occurrences(d)], [0, 0, 0]);
});

test('a call in flight when its client is closed runs to its end', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  sandbox().fault({ provider: 'alliancepay', scenario: 'slow', delayMs: 200, pathIncludes: '/list' });
  const listing = client.listTokens({ customerId: 'senderCustomerId' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  client.close();
  assert.ok((await listing).length > 0);
  assert.equal((await rejection(client.listTokens({ customerId: 'senderCustomerId' }))).code, 'ABORTED');
});

test('closing clients gives their memory back at once: 20,000 made and closed in a loop that never yields leave wasm memory as it was', () => {
  const config = { provider: 'alliancepay', ...sandbox().credentials.alliancepay, baseUrl: sandbox().baseUrls.alliancepay };
  createClient(config).close(); // the first one may take memory for good (the allocator's own)
  const before = wasmBytes();
  for (let i = 0; i < 20_000; i++) createClient(config).close();
  // Unclosed, the same clients took about 14 MB (700 B each) until garbage collection ran.
  assert.equal(wasmBytes(), before);
});

// Wasm memory never shrinks, so a reply's parts must be read without a tree many times their size:
// one Pine Labs metadata value or Payerly additionalAction of 8 MiB as `[0,0,…]` used to keep 200 MiB.
test('an odd value of several MiB in a token grows wasm memory by a few times its size, not twenty-five', async () => {
  const array = `[${'0,'.repeat(4 * 1024 * 1024)}0]`;
  const replies = {
    pinelabs: `{"tokens":[{"token_id":"t1","customer_id":"c1","status":"ACTIVE","merchant_metadata":{"note":${array}}}]}`,
    payerly: `{"items":[{"type":"TOKEN","object":{"tokenId":"t1","expireAt":"2031-01-01T00:00:00Z","additionalAction":${array}}}]}`,
  };
  const answer = (provider) => async (url) => (url.endsWith('/auth/v1/token')
    ? new Response(JSON.stringify({ access_token: 'eyJ.x', expires_at: new Date(Date.now() + 3600e3).toISOString() }))
    : new Response(replies[provider], { status: 200, headers: { 'content-type': 'application/json' } }));
  const pinelabs = createClient({ provider: 'pinelabs', clientId: 'id', clientSecret: 'secret-123', baseUrl: 'https://pl.test/api', fetch: answer('pinelabs') });
  const payerly = createClient({ provider: 'payerly', apiKey: 'key-12345', baseUrl: 'https://py.test/v1', fetch: answer('payerly') });
  for (const [client, call] of [[pinelabs, () => pinelabs.listTokens({ customerId: 'c1' })], [payerly, () => payerly.getToken({ tokenId: 't1' })]]) {
    const before = wasmBytes();
    const tokens = [].concat(await call());
    assert.equal(tokens[0].id, 't1');
    const grown = wasmBytes() - before;
    assert.ok(grown <= 8 * array.length, `wasm memory grew by ${(grown / 2 ** 20).toFixed(1)} MiB for an ${(array.length / 2 ** 20).toFixed(1)} MiB value`);
    client.close();
  }
});
