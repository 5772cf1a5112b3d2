// AlliancePay end to end: sessions, JWE both ways (jose is the independent peer), the token
// state machine and its rules, errors inside HTTP 200.
import { test, beforeEach } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { CompactEncrypt, compactDecrypt, importJWK } from 'jose';
import { createClient, canTransition, allowedTransitions, PayTokensError } from 'paytokens';
import { JweCodec } from '../pkg/wasm/paytokens.js';
import { useSandbox, clientFor, rejection } from './helpers.js';
import merchantPrivate from '../sandbox/keys/merchant.private.jwk.json' with { type: 'json' };
import bankPrivate from '../sandbox/keys/bank.private.jwk.json' with { type: 'json' };

const sandbox = useSandbox();
const run = promisify(execFile);
const AUTHORIZE = '/api-gateway/authorize_virtual_device';
const STATE_UPDATE = '/state/update';
const publicHalf = ({ d, ...pub }) => pub;

beforeEach(() => sandbox().reset());

const authorizations = () => sandbox().count({ provider: 'alliancepay', pathIncludes: AUTHORIZE });

test('JWE interop with jose: Rust encrypts and jose decrypts, jose encrypts and Rust decrypts', async () => {
  const rust = new JweCodec(merchantPrivate, publicHalf(bankPrivate));
  const bankKey = await importJWK(bankPrivate, 'ECDH-ES+A256KW');
  const compact = await rust.encrypt('{"customerId":"senderCustomerId","note":"ünïcode ✓"}');
  const { plaintext, protectedHeader } = await compactDecrypt(compact, bankKey);
  assert.equal(new TextDecoder().decode(plaintext), '{"customerId":"senderCustomerId","note":"ünïcode ✓"}');
  assert.equal(protectedHeader.alg, 'ECDH-ES+A256KW');
  assert.equal(protectedHeader.enc, 'A256GCM');

  const merchantPublic = await importJWK(publicHalf(merchantPrivate), 'ECDH-ES+A256KW');
  const fromJose = await new CompactEncrypt(new TextEncoder().encode('{"result":[]}'))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' })
    .encrypt(merchantPublic);
  assert.equal(await rust.decrypt(fromJose), '{"result":[]}');

  // jose with PartyU/PartyV info, which the KDF must include.
  const withParties = await new CompactEncrypt(new TextEncoder().encode('parties'))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' })
    .setKeyManagementParameters({ apu: new TextEncoder().encode('merchant'), apv: new TextEncoder().encode('bank') })
    .encrypt(merchantPublic);
  assert.equal(await rust.decrypt(withParties), 'parties');
});

test('a tampered tag or ciphertext gives DECODE', async () => {
  const merchantPublic = await importJWK(publicHalf(merchantPrivate), 'ECDH-ES+A256KW');
  const reply = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ result: [] })))
    .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' })
    .encrypt(merchantPublic);
  const parts = reply.split('.');
  const flip = (b64) => {
    const bytes = Buffer.from(b64, 'base64url');
    bytes[bytes.length >> 1] ^= 1;
    return bytes.toString('base64url');
  };
  for (const index of [3, 4]) {
    const tampered = parts.map((p, i) => (i === index ? flip(p) : p)).join('.');
    const rust = new JweCodec(merchantPrivate, publicHalf(bankPrivate));
    await assert.rejects(rust.decrypt(tampered), (e) => e.code === 'DECODE');
    // Through a client: the session opens normally, then the token reply is tampered.
    const real = sandbox();
    const client = clientFor(real, 'alliancepay', {
      fetch: async (url, init) => (url.includes('/token/') ? new Response(JSON.stringify({ jwe: tampered })) : fetch(url, init)),
    });
    const err = await rejection(client.listTokens({ customerId: 'senderCustomerId' }));
    assert.ok(err instanceof PayTokensError);
    assert.equal(err.code, 'DECODE');
  }
});

test('list, get, suspend, reactivate and delete through encrypted sessions', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  const tokens = await client.listTokens({ customerId: 'senderCustomerId' });
  const doc = tokens.find((t) => t.id === '-s9UCfCNN0YMk4ZOyZX8pWAt');
  assert.equal(doc.status, 'ACTIVE');
  assert.equal(doc.card.maskedPan, '523244••••••0177');
  assert.equal(doc.card.last4, '0177');
  assert.equal(doc.card.brand, 'Mastercard');
  assert.equal(doc.merchantId, '137d9304-0368-11ed-b939-0242ac120002');
  // The bodies really were JWE (text/plain), decrypted by the sandbox with jose.
  const listReq = sandbox().requests.find((r) => r.path.endsWith('/list/by-customer-id'));
  assert.match(listReq.headers['content-type'], /^text\/plain/);
  assert.equal(listReq.body.split('.').length, 5);
  for (const h of ['x-api_version', 'x-device_id', 'x-refresh_token', 'x-request_id']) assert.ok(listReq.headers[h], h);
  assert.equal(listReq.headers.authorization, undefined);

  const got = await client.getToken({ tokenId: doc.id });
  assert.equal(got.customerId, 'senderCustomerId');
  const suspended = await client.updateTokenStatus({ tokenId: doc.id, status: 'SUSPENDED' });
  assert.equal(suspended.status, 'SUSPENDED');
  const active = await client.updateTokenStatus({ tokenId: doc.id, status: 'ACTIVE' });
  assert.equal(active.status, 'ACTIVE');
  const before = sandbox().requests.length;
  await client.deleteToken({ tokenId: doc.id });
  // One read for the transition check and the update: no read-back, which could only turn a
  // deletion that happened into a reported failure.
  const sent = sandbox().requests.slice(before).map((r) => r.path.split('/token/v1/')[1]);
  assert.deepEqual(sent, ['get', 'state/update']);
  assert.equal((await client.getToken({ tokenId: doc.id })).status, 'DELETED');
  await client.deleteToken({ tokenId: doc.id }); // already deleted: nothing more to do
  assert.equal(authorizations(), 1, 'one session served every call');
});

test("a customerId given to get, a status change or delete scopes it: another customer's token is refused and stays", async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt'; // senderCustomerId's
  for (const call of [
    () => client.getToken({ tokenId: id, customerId: 'someoneElse' }),
    () => client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED', customerId: 'someoneElse' }),
    () => client.deleteToken({ tokenId: id, customerId: 'someoneElse' }),
  ]) {
    const err = await rejection(call());
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, /^input\.customerId: token -s9UCfCNN0YMk4ZOyZX8pWAt is not this customer's/);
  }
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: '/state/update' }), 0, 'nothing was deleted');
  assert.equal((await client.getToken({ tokenId: id, customerId: 'senderCustomerId' })).status, 'ACTIVE');
  const suspended = await client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED', customerId: 'senderCustomerId' });
  assert.equal(suspended.status, 'SUSPENDED');
  await client.deleteToken({ tokenId: id, customerId: 'senderCustomerId' });
  assert.equal((await client.getToken({ tokenId: id })).status, 'DELETED');
});

test('customer ids with spaces, slashes or non-ASCII reach the bank as they are', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  const ids = ['Іван Петренко/1', 'a b?c#d%2F..'];
  for (const customerId of ids) assert.deepEqual(await client.listTokens({ customerId }), []);
  const bankKey = await importJWK(bankPrivate, 'ECDH-ES+A256KW');
  const sent = [];
  for (const r of sandbox().requests.filter((q) => q.path.endsWith('/list/by-customer-id'))) {
    const { plaintext } = await compactDecrypt(r.body, bankKey);
    sent.push(JSON.parse(new TextDecoder().decode(plaintext)).customerId);
  }
  assert.deepEqual(sent, ids);
});

test('DELETED→ACTIVE gives INVALID_TRANSITION, and a token already in the status asked for is returned as it is, with no update request sent', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  const err = await rejection(client.updateTokenStatus({ tokenId: 'Zd3_hJ6sVw0nPq5uGk8rTy2m', status: 'ACTIVE' }));
  assert.equal(err.code, 'INVALID_TRANSITION');
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: STATE_UPDATE }), 0);
  // Already ACTIVE: no change to send, and no error (a repeat of a change that timed out is safe).
  const same = await client.updateTokenStatus({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt', status: 'ACTIVE' });
  assert.deepEqual([same.id, same.status], ['-s9UCfCNN0YMk4ZOyZX8pWAt', 'ACTIVE']);
  const deletedAgain = await client.updateTokenStatus({ tokenId: 'Zd3_hJ6sVw0nPq5uGk8rTy2m', status: 'DELETED' });
  assert.equal(deletedAgain.status, 'DELETED');
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: '/get' }), 3, 'one read per call: the token as read is the answer');
  const notSettable = await rejection(client.updateTokenStatus({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt', status: 'PENDING' }));
  assert.equal(notSettable.code, 'INVALID_INPUT');
  const unknownWord = await rejection(client.updateTokenStatus({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt', status: 'FROZEN' }));
  assert.equal(unknownWord.code, 'INVALID_INPUT');
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: STATE_UPDATE }), 0);
});

test('deadlineMs bounds updateTokenStatus as a whole: the change gets only what the read left', async () => {
  const client = clientFor(sandbox(), 'alliancepay', { deadlineMs: 1000, maxRetries: 0 });
  await client.getToken({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt' }); // the session is open
  // 600 ms for the read leaves 400 for the change: each alone fits in 1000 ms, both do not.
  sandbox().fault({ provider: 'alliancepay', scenario: 'slow', delayMs: 600, pathIncludes: '/get' });
  sandbox().fault({ provider: 'alliancepay', scenario: 'slow', delayMs: 600, pathIncludes: STATE_UPDATE });
  const started = performance.now();
  const err = await rejection(client.updateTokenStatus({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt', status: 'SUSPENDED' }));
  assert.equal(err.code, 'TIMEOUT');
  assert.equal(err.retryable, false, 'a change cut off in flight may have been applied');
  assert.ok(performance.now() - started < 1500, 'the change got only what the read left');
});

test('a read-back that runs out of time after a status change says the change was made, and is not retryable', async () => {
  const client = clientFor(sandbox(), 'alliancepay', { deadlineMs: 1000, maxRetries: 0 });
  await client.getToken({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt' }); // the session is open
  sandbox().fault({ provider: 'alliancepay', scenario: 'slow', delayMs: 1, pathIncludes: '/get' }); // the first read
  sandbox().fault({ provider: 'alliancepay', scenario: 'slow', delayMs: 2000, pathIncludes: '/get' }); // the read-back
  const err = await rejection(client.updateTokenStatus({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt', status: 'SUSPENDED' }));
  assert.equal(err.code, 'PROVIDER_ERROR', 'not TIMEOUT, which callers take as "repeat it"');
  assert.match(err.message, /^the token is now SUSPENDED, but reading it back failed \(TIMEOUT\)/);
  assert.equal(err.tokenId, '-s9UCfCNN0YMk4ZOyZX8pWAt');
  assert.equal(err.toJSON().tokenId, '-s9UCfCNN0YMk4ZOyZX8pWAt');
  assert.equal(err.writeOutcome, 'APPLIED');
  assert.equal(err.retryable, false, 'repeating the call would try SUSPENDED→SUSPENDED');
  assert.equal((await client.getToken({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt' })).status, 'SUSPENDED');
});

test('a change the bank confirmed whose read-back still shows the old status is not returned as done: APPLIED, with the id to read again', async () => {
  // The read after the change is answered with the reply to the read before it (a lagging replica).
  let before;
  let changed = false;
  const lagging = async (url, init) => {
    const path = new URL(url).pathname;
    if (path.endsWith(STATE_UPDATE)) changed = true;
    if (!path.endsWith('/get')) return fetch(url, init);
    const reply = await fetch(url, init);
    const text = await reply.text();
    if (!changed) before = text;
    return new Response(changed ? before : text, { status: reply.status, headers: reply.headers });
  };
  const client = clientFor(sandbox(), 'alliancepay', { fetch: lagging });
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt';
  const err = await rejection(client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED' }));
  assert.equal(err.code, 'PROVIDER_ERROR');
  assert.equal(err.writeOutcome, 'APPLIED');
  assert.equal(err.tokenId, id);
  assert.equal(err.retryable, false);
  assert.match(err.message, /^the token is now SUSPENDED \(the provider confirmed the change\), but the token read after it is ACTIVE: read it again/);
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: STATE_UPDATE }), 1);
  assert.equal((await clientFor(sandbox(), 'alliancepay').getToken({ tokenId: id })).status, 'SUSPENDED');
});

test('a change scoped to a customer whose read-back names another customer is not returned: APPLIED, with the id to read again', async () => {
  let changed = false;
  const moved = async (url, init) => {
    const path = new URL(url).pathname;
    if (path.endsWith(STATE_UPDATE)) changed = true;
    const reply = await fetch(url, init);
    if (!changed || !path.endsWith('/get')) return reply;
    const text = (await reply.text()).replaceAll('senderCustomerId', 'anotherCustomer');
    return new Response(text, { status: reply.status, headers: reply.headers });
  };
  const client = clientFor(sandbox(), 'alliancepay', { fetch: moved, encryption: 'none' });
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt';
  const err = await rejection(client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED', customerId: 'senderCustomerId' }));
  assert.deepEqual([err.code, err.writeOutcome, err.tokenId, err.retryable], ['PROVIDER_ERROR', 'APPLIED', id, false]);
  assert.match(err.message, /^the token is now SUSPENDED, but the token read after it is under another customer than senderCustomerId/);
  assert.doesNotMatch(err.message, /anotherCustomer/);
});

test('a change the bank made but answered with b_overload_error is a success: the repeat says tokenUpdated false, and the token shows the change', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt';
  sandbox().fault({ provider: 'alliancepay', scenario: 'applied_then_overloaded', pathIncludes: STATE_UPDATE });
  const suspended = await client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED' });
  assert.equal(suspended.status, 'SUSPENDED');
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: STATE_UPDATE }), 2, 'the overload reply was retried');
  sandbox().fault({ provider: 'alliancepay', scenario: 'applied_then_overloaded', pathIncludes: STATE_UPDATE });
  await client.deleteToken({ tokenId: id });
  assert.equal((await client.getToken({ tokenId: id })).status, 'DELETED');
});

test('tokenUpdated false whose token cannot be read afterwards is an unknown outcome, not a refusal', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt';
  sandbox().fault({ provider: 'alliancepay', scenario: 'applied_then_overloaded', pathIncludes: STATE_UPDATE });
  // The read before the change passes; the read that would tell which it was fails.
  sandbox().fault({ provider: 'alliancepay', scenario: 'server_error', status: 500, pathIncludes: '/get', skip: 1 });
  const err = await rejection(client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED' }));
  assert.equal(err.code, 'PROVIDER_ERROR');
  assert.match(err.message, /tokenUpdated: false.*\(PROVIDER_ERROR\); the change may have been applied: read the token before repeating it$/);
  assert.equal(err.retryable, false);
  assert.equal(err.tokenId, id);
  assert.equal(err.writeOutcome, 'UNKNOWN', 'a token id does not make the change known');
  assert.equal((await client.getToken({ tokenId: id })).status, 'SUSPENDED', 'it had been applied');
});

test('a change answered b_overload_error with no retries left is read back: the token shows it made, so the call resolves, with one update sent', async () => {
  const client = clientFor(sandbox(), 'alliancepay', { maxRetries: 0 });
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt';
  sandbox().fault({ provider: 'alliancepay', scenario: 'applied_then_overloaded', pathIncludes: STATE_UPDATE });
  const suspended = await client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED' });
  assert.equal(suspended.status, 'SUSPENDED');
  assert.equal(suspended.id, id);
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: STATE_UPDATE }), 1);
});

test('b_overload_error on a change whose token cannot be read afterwards is an unknown outcome, not a rate limit to repeat', async () => {
  const client = clientFor(sandbox(), 'alliancepay', { maxRetries: 0 });
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt';
  sandbox().fault({ provider: 'alliancepay', scenario: 'applied_then_overloaded', pathIncludes: STATE_UPDATE });
  // The read before the change passes; the read that would tell whether it was made fails.
  sandbox().fault({ provider: 'alliancepay', scenario: 'server_error', status: 500, pathIncludes: '/get', skip: 1 });
  const err = await rejection(client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED' }));
  assert.equal(err.code, 'PROVIDER_ERROR', 'not RATE_LIMITED, which callers take as "repeat it"');
  assert.equal(err.retryable, false);
  assert.match(err.message, /b_overload_error/);
  assert.match(err.message, /the change may have been applied: read the token before repeating it$/);
  assert.equal(err.tokenId, id);
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: STATE_UPDATE }), 1);
  assert.equal((await client.getToken({ tokenId: id })).status, 'SUSPENDED', 'it had been applied');
});

test('a change answered b_overload_error whose repeat then fails in another way is read back: made, the call resolves; unread, its outcome is UNKNOWN', async () => {
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt';
  // The repeat cannot connect, which alone would say that nothing was sent.
  let updates = 0;
  const refusingRepeat = async (url, init) => {
    if (String(url).includes(STATE_UPDATE) && ++updates >= 2) {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    }
    return fetch(url, init);
  };
  sandbox().fault({ provider: 'alliancepay', scenario: 'applied_then_overloaded', pathIncludes: STATE_UPDATE });
  const suspended = await clientFor(sandbox(), 'alliancepay', { fetch: refusingRepeat, maxRetries: 1 }).updateTokenStatus({ tokenId: id, status: 'SUSPENDED' });
  assert.equal(suspended.status, 'SUSPENDED');
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: STATE_UPDATE }), 1, 'one change reached the bank');
  // The repeat's session is refused and no new one opens: nothing can tell.
  sandbox().reset();
  const client = clientFor(sandbox(), 'alliancepay', { maxRetries: 1 });
  await client.getToken({ tokenId: id }); // the session is open
  const reader = clientFor(sandbox(), 'alliancepay');
  await reader.getToken({ tokenId: id }); // and one to look with afterwards
  sandbox().fault({ provider: 'alliancepay', scenario: 'applied_then_overloaded', pathIncludes: STATE_UPDATE });
  sandbox().fault({ provider: 'alliancepay', scenario: 'used_token', pathIncludes: STATE_UPDATE });
  sandbox().fault({ provider: 'alliancepay', scenario: 'server_error', status: 400, pathIncludes: AUTHORIZE, times: Infinity });
  const err = await rejection(client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED' }));
  assert.equal(err.writeOutcome, 'UNKNOWN', err.message);
  assert.equal(err.retryable, false);
  assert.match(err.message, /b_overload_error, which may follow a change it made, then the change sent again failed \([A-Z_]+: .*the change may have been applied: read the token before repeating it$/);
  assert.equal((await reader.getToken({ tokenId: id })).status, 'SUSPENDED', 'it had been made');
});

test('a change answered with a failure status whose body cannot be opened, or with an error no rule knows inside a 200, may have been made', async () => {
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt';
  for (const [status, body, code] of [
    [502, { jwe: 'not.a.jwe.at.all' }, 'PROVIDER_ERROR'],
    [500, { jwe: 'not.a.jwe.at.all' }, 'PROVIDER_ERROR'],
    [200, { msgType: 'ERROR', msgCode: 'b_gateway_timeout', msgText: 'Upstream timeout' }, 'PROVIDER_ERROR'],
    [200, { msgType: 'ERROR' }, 'PROVIDER_ERROR'],
  ]) {
    sandbox().reset();
    // The bank makes the change; the reply that comes back is not its confirmation.
    const answered = async (url, init) => {
      if (!String(url).includes(STATE_UPDATE)) return fetch(url, init);
      await fetch(url, init);
      return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    };
    const err = await rejection(clientFor(sandbox(), 'alliancepay', { fetch: answered }).updateTokenStatus({ tokenId: id, status: 'SUSPENDED' }));
    const label = `${status} ${JSON.stringify(body)}`;
    assert.equal(err.code, code, `${label}: ${err.message}`);
    assert.equal(err.httpStatus, status, label);
    assert.equal(err.writeOutcome, 'UNKNOWN', `${label}: ${err.message}`);
    assert.match(err.message, /the change may have been applied: read the token before repeating it$/, label);
    assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: STATE_UPDATE }), 1, `${label}: not sent again`);
  }
});

test('a change turned away with b_overload_error and not made stays RATE_LIMITED once the token shows it unchanged', async () => {
  const client = clientFor(sandbox(), 'alliancepay', { maxRetries: 0 });
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt';
  sandbox().fault({ provider: 'alliancepay', scenario: 'rate_limit', pathIncludes: STATE_UPDATE });
  const err = await rejection(client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED' }));
  assert.equal(err.code, 'RATE_LIMITED');
  assert.equal(err.providerCode, 'b_overload_error');
  assert.equal(err.retryable, true, 'nothing was changed, so the change may be sent again');
  assert.doesNotMatch(err.message, /applied/);
  assert.equal(err.writeOutcome, 'NOT_APPLIED');
  assert.equal((await client.getToken({ tokenId: id })).status, 'ACTIVE');
});

test('tokenUpdated false that the token does not explain stays INVALID_TRANSITION, with the reply status', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  const id = '-s9UCfCNN0YMk4ZOyZX8pWAt';
  await client.getToken({ tokenId: id }); // the session is open
  // The change waits at the bank while the token is deleted: DELETED→SUSPENDED is then refused.
  sandbox().fault({ provider: 'alliancepay', scenario: 'slow', delayMs: 500, pathIncludes: STATE_UPDATE });
  const change = rejection(client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED' }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  await client.deleteToken({ tokenId: id });
  const err = await change;
  assert.equal(err.code, 'INVALID_TRANSITION');
  assert.equal(err.httpStatus, 200);
  assert.equal((await client.getToken({ tokenId: id })).status, 'DELETED');
});

test('canTransition and allowedTransitions follow the documented rules', () => {
  assert.equal(canTransition('DELETED', 'ACTIVE'), false);
  assert.equal(canTransition('ACTIVE', 'SUSPENDED'), true);
  assert.equal(canTransition('SUSPENDED', 'DELETED'), true);
  assert.equal(canTransition('NONSENSE', 'ACTIVE'), false);
  assert.deepEqual(allowedTransitions('ACTIVE'), ['SUSPENDED', 'DELETED']);
  assert.deepEqual(allowedTransitions('SUSPENDED'), ['ACTIVE', 'DELETED']);
  assert.deepEqual(allowedTransitions('DELETED'), []);
});

test('a second call opens no new session; concurrent first calls open one', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  await Promise.all(Array.from({ length: 50 }, () => client.listTokens({ customerId: 'senderCustomerId' })));
  await client.listTokens({ customerId: '12345' });
  assert.equal(authorizations(), 1);
});

test('an expired session causes exactly one re-authorization; used token too', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  await client.listTokens({ customerId: 'senderCustomerId' });
  sandbox().fault({ provider: 'alliancepay', scenario: 'session_expired' });
  assert.equal((await client.listTokens({ customerId: 'senderCustomerId' })).length, 3);
  assert.equal(authorizations(), 2);
  sandbox().fault({ provider: 'alliancepay', scenario: 'used_token', pathIncludes: '/token/' });
  assert.equal((await client.listTokens({ customerId: '12345' })).length, 1);
  assert.equal(authorizations(), 3);
});

// The change was refused as a stale session (nothing applied), and the renewal's sign-in was then
// throttled with b_overload_error: that is the sign-in's throttle, not the bank's answer to the
// change, which may hide a change made. It used to be read as the latter (a read-back, which the
// sign-in hold refused, then "may have been applied", and the CLI's exit 5).
test('a change refused as a stale session whose renewal is throttled was not applied, and says so', async () => {
  const client = clientFor(sandbox(), 'alliancepay', { maxRetries: 1 });
  const [token] = await client.listTokens({ customerId: 'senderCustomerId' });
  sandbox().fault({ provider: 'alliancepay', pathIncludes: '/state/update', scenario: 'session_expired' });
  sandbox().fault({ provider: 'alliancepay', pathIncludes: '/authorize', scenario: 'rate_limit', retryAfter: 1, times: 2 });
  const err = await rejection(client.updateTokenStatus({ tokenId: token.id, status: 'SUSPENDED' }));
  assert.deepEqual([err.code, err.retryable, err.writeOutcome], ['RATE_LIMITED', true, 'NOT_APPLIED'], err.message);
  assert.ok(err.retryAfterMs > 0 && err.retryAfterMs <= 1000, String(err.retryAfterMs));
  assert.doesNotMatch(err.message, /may have been applied/);
  assert.equal(sandbox().count({ provider: 'alliancepay', pathIncludes: '/state/update' }), 1);
});

test('revoked access gives CREDENTIALS_REVOKED after one attempt', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  await client.listTokens({ customerId: 'senderCustomerId' });
  sandbox().fault({ provider: 'alliancepay', scenario: 'revoked' });
  const before = sandbox().requests.length;
  const err = await rejection(client.listTokens({ customerId: 'senderCustomerId' }));
  assert.equal(err.code, 'CREDENTIALS_REVOKED');
  assert.equal(err.providerCode, 'b_auth_token_expired');
  assert.equal(err.retryable, false);
  assert.equal(sandbox().requests.length - before, 1);
  // Found on a token call, the revocation is held as a refused sign-in is: the session is
  // dropped, and for 30 s every call gets the same answer without a request.
  const again = await Promise.all(Array.from({ length: 10 }, () => rejection(client.listTokens({ customerId: 'senderCustomerId' }))));
  for (const e of again) {
    assert.deepEqual([e.code, e.providerCode, e.retryable], ['CREDENTIALS_REVOKED', 'b_auth_token_expired', false]);
    assert.match(e.message, /repeated for 30 s without a new sign-in/);
  }
  assert.equal(sandbox().requests.length - before, 1);
});

test('a resumed session opens none, and onSessionUpdate gets sessions without the private key', async () => {
  const sessions = [];
  const first = clientFor(sandbox(), 'alliancepay', { onSessionUpdate: (s) => sessions.push(s) });
  await first.listTokens({ customerId: 'senderCustomerId' });
  assert.equal(sessions.length, 1);
  const saved = sessions[0];
  assert.deepEqual(Object.keys(saved).sort(), ['deviceId', 'expiresAt', 'issuedFor', 'refreshToken', 'serverPublic']);
  assert.ok(!JSON.stringify(saved).includes(merchantPrivate.d));
  assert.equal(saved.serverPublic.d, undefined);
  assert.match(saved.issuedFor, /^[0-9a-f]{16}$/, 'a fingerprint, not the serviceCode');

  const resumed = clientFor(sandbox(), 'alliancepay', { session: saved });
  await resumed.listTokens({ customerId: 'senderCustomerId' });
  assert.equal(authorizations(), 1);
  // The same bank spelled another way (the scheme in capitals, a trailing slash) takes it too.
  const respelled = clientFor(sandbox(), 'alliancepay', { session: saved, baseUrl: `${sandbox().baseUrls.alliancepay.replace(/^http:/, 'HTTP:')}/` });
  await respelled.listTokens({ customerId: 'senderCustomerId' });
  assert.equal(authorizations(), 1);

  // Another merchant's client (or the same merchant's in another environment) refuses it, instead
  // of acting on the first merchant's tokens or sending its refresh token to the other host.
  for (const other of [{ serviceCode: 'another-merchant' }, { baseUrl: `${sandbox().baseUrls.alliancepay}/elsewhere` }]) {
    const err = await rejection((async () => clientFor(sandbox(), 'alliancepay', { session: saved, ...other }))());
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, /^config\.session: was opened for another serviceCode or baseUrl/);
  }
  // A saved session no header can carry (a typographic character pasted in) is refused up front;
  // fetch would refuse it on every call as if the network failed, and no 401 would replace it.
  for (const broken of [{ refreshToken: `${saved.refreshToken}\u2026` }, { deviceId: 'dev\nice' }]) {
    const err = await rejection((async () => clientFor(sandbox(), 'alliancepay', { session: { ...saved, ...broken } }))());
    assert.equal(err.code, 'INVALID_INPUT');
    assert.match(err.message, /^config\.session: deviceId or refreshToken holds a character an HTTP header cannot carry/);
  }
  // One longer than servers take in a header (a bare 400 or 431 on every call, and no 401 to
  // replace it) is not used: the first call signs in afresh, which mends the store.
  const before = authorizations();
  const mended = [];
  const long = clientFor(sandbox(), 'alliancepay', { session: { ...saved, refreshToken: 'r'.repeat(10_000) }, onSessionUpdate: (s) => mended.push(s) });
  assert.equal((await long.listTokens({ customerId: 'senderCustomerId' })).length, 3);
  assert.equal(authorizations(), before + 1);
  assert.ok(mended.length === 1 && mended[0].refreshToken.length < 4096);
  // A session without the fingerprint (saved by an earlier version) could be anyone's: it is not
  // used, and the first call signs in afresh and reports the new session.
  const { issuedFor, ...bare } = saved;
  const fresh = [];
  const upgraded = clientFor(sandbox(), 'alliancepay', { session: bare, onSessionUpdate: (s) => fresh.push(s) });
  assert.equal((await upgraded.listTokens({ customerId: 'senderCustomerId' })).length, 3);
  assert.equal(authorizations(), before + 2);
  assert.equal(fresh.length, 1);
  assert.equal(fresh[0].issuedFor, issuedFor);
  assert.notEqual(fresh[0].refreshToken, bare.refreshToken);
});

test('plain JSON bodies with encryption "none", and replies read as plain JSON', async () => {
  const client = clientFor(sandbox(), 'alliancepay', { encryption: 'none' });
  const tokens = await client.listTokens({ customerId: '12345' });
  assert.equal(tokens[0].id, 'SRrSBe5DOb7lrZ_FS46fihty');
  assert.equal(tokens[0].card.brand, 'Mastercard');
  const req = sandbox().requests.find((r) => r.path.endsWith('/list/by-customer-id'));
  assert.match(req.headers['content-type'], /^application\/json/);
  assert.deepEqual(JSON.parse(req.body), { customerId: '12345' });
});

test('errors inside HTTP 200 are errors, with msgCode and requestId kept', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  const err = await rejection(client.getToken({ tokenId: 'no-such-token' }));
  assert.equal(err.code, 'INVALID_INPUT');
  assert.equal(err.httpStatus, 200);
  assert.equal(err.providerCode, 'b_invalid_request');
  assert.ok(err.requestId);
});

test('customer and token ids must be 1–255 characters, checked before any request', async () => {
  const client = clientFor(sandbox(), 'alliancepay');
  for (const id of ['', 'x'.repeat(256)]) {
    assert.equal((await rejection(client.listTokens({ customerId: id }))).code, 'INVALID_INPUT');
    assert.equal((await rejection(client.deleteToken({ tokenId: id }))).code, 'INVALID_INPUT');
    assert.equal((await rejection(client.updateTokenStatus({ tokenId: id, status: 'SUSPENDED' }))).code, 'INVALID_INPUT');
    // A customerId that scopes a call is checked as one too.
    const scoped = { tokenId: 't', customerId: id };
    for (const call of [client.getToken(scoped), client.deleteToken(scoped), client.updateTokenStatus({ ...scoped, status: 'SUSPENDED' })]) {
      const err = await rejection(call);
      assert.deepEqual([err.code, err.message.split(':')[0]], ['INVALID_INPUT', 'input.customerId']);
    }
  }
  assert.equal(sandbox().requests.length, 0);
  assert.equal((await client.listTokens({ customerId: 'x'.repeat(255) })).length, 0);
});

test('a serviceCode the bank echoes in a refusal is redacted, and a session without a refresh token is not opened', async () => {
  const { serviceCode } = sandbox().credentials.alliancepay;
  const reply = (body) => async () => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  const refused = clientFor(sandbox(), 'alliancepay', {
    encryption: 'none',
    fetch: reply({ msgCode: 'b_terminal_not_found', msgType: 'ERROR', msgText: `Terminal ${serviceCode} not found` }),
  });
  const err = await rejection(refused.listTokens({ customerId: 'senderCustomerId' }));
  assert.equal(err.code, 'AUTHENTICATION');
  assert.equal(err.message, 'Terminal [redacted] not found');
  // A reply without a refresh token, or with one no header can carry, would open a session every
  // call carries, saved and then refused.
  const sessions = [];
  for (const [refreshToken, why] of [['', /the session has no deviceId or refreshToken/], ['rt\u2019s', /holds characters a header cannot carry/]]) {
    const opened = clientFor(sandbox(), 'alliancepay', {
      encryption: 'none',
      onSessionUpdate: (s) => sessions.push(s),
      fetch: reply({ deviceId: 'dev-1', refreshToken, serverPublic: publicHalf(bankPrivate), sessionExpiration: 60 }),
    });
    const err = await rejection(opened.listTokens({ customerId: 'senderCustomerId' }));
    assert.equal(err.code, 'DECODE');
    assert.match(err.message, why);
  }
  assert.deepEqual(sessions, []);
  // The session's device id and refresh token are redacted too, echoed in another case.
  const echoing = clientFor(sandbox(), 'alliancepay', {
    encryption: 'none',
    fetch: async (url) => (String(url).includes('/token/')
      ? reply({ msgCode: 'b_device_not_found', msgType: 'ERROR', msgText: 'Virtual device DEV-7Q2W9E not found (refresh RT-SECRET-99x)' })()
      : reply({ deviceId: 'dev-7q2w9e', refreshToken: 'rt-secret-99X', serverPublic: publicHalf(bankPrivate), sessionExpiration: 60 })()),
  });
  const echoed = await rejection(echoing.listTokens({ customerId: 'senderCustomerId' }));
  assert.equal(echoed.message, 'Virtual device [redacted] not found (refresh [redacted])');
});

test('no error, session or client form holds the merchant key d', async () => {
  const sessions = [];
  const client = clientFor(sandbox(), 'alliancepay', { onSessionUpdate: (s) => sessions.push(s) });
  sandbox().fault({ provider: 'alliancepay', scenario: 'revoked' });
  const err = await rejection(client.listTokens({ customerId: 'senderCustomerId' }));
  const badKey = (() => {
    try {
      createClient({ provider: 'alliancepay', serviceCode: 'x', merchantPrivateKey: { ...merchantPrivate, x: merchantPrivate.y } });
    } catch (e) {
      return e;
    }
  })();
  assert.equal(badKey.code, 'INVALID_INPUT');
  for (const text of [err.message, err.stack, JSON.stringify(err), JSON.stringify(sessions), JSON.stringify(client), badKey.message, JSON.stringify(badKey)]) {
    assert.ok(!text.includes(merchantPrivate.d));
  }
});

test('keys are checked on the curve when read: off-curve or out-of-range parts fail createClient', () => {
  const bytes = (b64) => Buffer.from(b64, 'base64url');
  const offCurve = bytes(merchantPrivate.y);
  offCurve[47] ^= 1;
  const cases = [
    { ...merchantPrivate, y: offCurve.toString('base64url') },
    { ...merchantPrivate, d: Buffer.alloc(48, 0xff).toString('base64url') },
    { ...merchantPrivate, d: Buffer.alloc(48).toString('base64url') },
  ];
  for (const key of cases) {
    assert.throws(() => createClient({ provider: 'alliancepay', serviceCode: 'x', merchantPrivateKey: key }), (e) => e instanceof PayTokensError && e.code === 'INVALID_INPUT' && !e.message.includes(merchantPrivate.d));
  }
  assert.doesNotThrow(() => createClient({ provider: 'alliancepay', serviceCode: 'x', merchantPrivateKey: merchantPrivate }));
});

test('without WebCrypto (an insecure browser context) AlliancePay calls fail as UNSUPPORTED and say why', async () => {
  // A separate process: the in-process sandbox needs WebCrypto itself to seal its replies.
  const script = `
    import { createClient } from 'paytokens';
    Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined, configurable: true });
    const client = createClient(JSON.parse(process.argv[1]));
    try {
      await client.listTokens({ customerId: 'senderCustomerId' });
      console.log('null');
    } catch (e) {
      console.log(JSON.stringify(e));
    }`;
  const config = { provider: 'alliancepay', ...sandbox().credentials.alliancepay, baseUrl: sandbox().baseUrls.alliancepay };
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(config)], { cwd: new URL('.', import.meta.url).pathname });
  const err = JSON.parse(stdout);
  assert.equal(err.code, 'UNSUPPORTED');
  assert.equal(err.retryable, false);
  assert.match(err.message, /WebCrypto/);
});

test("a merchant key whose x/y are another key's fails the first call as INVALID_INPUT, without its d", async () => {
  const other = await crypto.subtle.exportKey('jwk', (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, true, ['deriveBits'])).privateKey);
  const client = clientFor(sandbox(), 'alliancepay', { merchantPrivateKey: { ...merchantPrivate, x: other.x, y: other.y } });
  const err = await rejection(client.listTokens({ customerId: 'senderCustomerId' }));
  assert.equal(err.code, 'INVALID_INPUT');
  assert.match(err.message, /^config\.merchantPrivateKey: /);
  assert.ok(!JSON.stringify(err).includes(merchantPrivate.d));
});

test('a merchant key the bank did not encrypt the session to fails the sign-in as AUTHENTICATION, naming the key, without its d', async () => {
  const other = await crypto.subtle.exportKey('jwk', (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-384' }, true, ['deriveBits'])).privateKey);
  const client = clientFor(sandbox(), 'alliancepay', { merchantPrivateKey: other });
  const err = await rejection(client.listTokens({ customerId: 'senderCustomerId' }));
  assert.deepEqual([err.code, err.retryable], ['AUTHENTICATION', false]);
  assert.match(err.message, /^the sign-in failed: its reply is not encrypted to merchantPrivateKey \(is it the key registered at AlliancePay\? or something between alters replies\): /);
  assert.ok(!JSON.stringify(err).includes(other.d));
  // Two sign-ins: a reply damaged on the way fails to unwrap just as this one does.
  assert.equal(authorizations(), 2);
  // The next calls within 30 s are refused the same way without opening another session.
  const again = await rejection(client.getToken({ tokenId: 'tok', customerId: 'senderCustomerId' }));
  assert.deepEqual([again.code, again.retryable], ['AUTHENTICATION', false]);
  assert.match(again.message, /this refusal is repeated for 30 s without a new sign-in/);
  assert.equal(authorizations(), 2);
});

test('a sign-in reply damaged on the way is not taken for a wrong merchant key: one more sign-in opens the session', async () => {
  let damaged = 0;
  const damaging = async (url, init) => {
    const res = await fetch(url, init);
    if (!String(url).includes('authorize_virtual_device') || damaged > 0) return res;
    damaged += 1;
    const { jwe } = await res.json();
    const parts = jwe.split('.');
    // One character of the wrapped content key: AES-KW's integrity check fails, as for another key.
    parts[1] = (parts[1][0] === 'A' ? 'B' : 'A') + parts[1].slice(1);
    return new Response(JSON.stringify({ jwe: parts.join('.') }), { status: res.status, headers: { 'content-type': 'application/json' } });
  };
  const client = clientFor(sandbox(), 'alliancepay', { fetch: damaging });
  assert.ok((await client.listTokens({ customerId: 'senderCustomerId' })).length > 0);
  assert.deepEqual([damaged, authorizations()], [1, 2]);
});

test('a sign-in at a baseUrl with a wrong path says to check baseUrl, and sends no token call', async () => {
  const client = clientFor(sandbox(), 'alliancepay', { baseUrl: `${sandbox().baseUrls.alliancepay}/v2` });
  const err = await rejection(client.deleteToken({ tokenId: '-s9UCfCNN0YMk4ZOyZX8pWAt' }));
  assert.deepEqual([err.code, err.httpStatus, err.retryable], ['PROVIDER_ERROR', 404, false]);
  assert.match(err.message, /check baseUrl/);
  assert.equal(err.message.match(/check baseUrl/g).length, 1, err.message);
});
