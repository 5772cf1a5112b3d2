// AlliancePay (Bank Alliance) token API, v1 "virtual device" sessions with JWE bodies.
//
// Choices where the bank's documentation is silent (see README.md):
// - Unknown serviceCode on authorize → HTTP 200 + msgCode b_terminal_not_found (PROVIDERS.md §1.4
//   lists it among the errors that arrive with HTTP 200).
// - Token endpoints accept both plain JSON and a compact JWE (Content-Type: text/plain); every
//   reply, errors included, comes back in the same form as the request.
// - Missing x-api_version / x-device_id / x-refresh_token on a token call → 401 b_unknown_device;
//   missing/wrong x-api_version on authorize → 400 b_request_is_not_correct.
import { CompactEncrypt, compactDecrypt, importJWK } from 'jose';
import credentials from './credentials.js';
import { json, parseJson, isPlainObject } from './http.js';
import { merchantPublicJwk, bankPublicJwk, bankPrivateJwk } from './keys.js';
import { allianceUtc, allianceKyiv } from './time.js';
import { hashB64url, uuidFrom } from './ids.js';
import { seedTokens, generatedTokens } from './seed/alliancepay.js';

const ALG = 'ECDH-ES+A256KW';
const ENC = 'A256GCM';
const TOKEN_BASE = '/ecom/execute_request/token/v1';
const TRANSITIONS = new Set(['ACTIVE>SUSPENDED', 'SUSPENDED>ACTIVE', 'ACTIVE>DELETED', 'SUSPENDED>DELETED']);
const STATES = new Set(['ACTIVE', 'SUSPENDED', 'DELETED']);

const MESSAGES = {
  b_terminal_not_found: 'Terminal not found',
  b_invalid_request: 'Invalid request',
  b_encryptor_failed_decrypt_message: 'Failed to decrypt message',
  b_request_is_not_correct: 'Request is not correct',
  b_error_parse_json: 'Error parsing JSON',
  b_expired_token: 'Token expired',
  b_unknown_device: 'Unknown device',
  b_used_token: 'Token already used',
  b_auth_token_expired: 'Authorization token expired, contact the bank',
  b_service_unavailable: 'Service unavailable',
  b_unknown_error: 'Unknown error',
  b_server_is_overloaded: 'Server is overloaded, retry later',
  b_overload_error: 'Too many requests, retry later',
};

let keysPromise;
function keys() {
  keysPromise ??= Promise.all([importJWK(merchantPublicJwk, ALG), importJWK(bankPrivateJwk, ALG)]).then(
    ([merchantPublic, bankPrivate]) => ({ merchantPublic, bankPrivate }),
  );
  return keysPromise;
}

async function encryptForMerchant(value) {
  const { merchantPublic } = await keys();
  return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
    .setProtectedHeader({ alg: ALG, enc: ENC })
    .encrypt(merchantPublic);
}

async function decryptFromMerchant(compact) {
  const { bankPrivate } = await keys();
  const { plaintext } = await compactDecrypt(compact.trim(), bankPrivate, {
    keyManagementAlgorithms: [ALG],
    contentEncryptionAlgorithms: [ENC],
  });
  return new TextDecoder().decode(plaintext);
}

const isJweRequest = (ctx) => /^text\/plain/i.test(ctx.headers['content-type'] ?? '');

export function createAlliancepay({ now, sessionTtlMs = 60 * 60 * 1000 }) {
  let tokens = seedTokens();
  const sessions = new Map(); // deviceId → { refreshToken, authToken, expiresAt }
  let revoked = false;
  let requestIds = 0;
  // Not reset: a session id from before reset() must never be re-issued and accepted again.
  let sessionCount = 0;

  async function reply(ctx, status, value) {
    return json(status, isJweRequest(ctx) ? { jwe: await encryptForMerchant(value) } : value);
  }

  function envelope(ctx, msgCode, serviceId) {
    requestIds += 1;
    return {
      requestId: ctx.headers['x-request_id'] || uuidFrom(`alliancepay:request:${requestIds}`),
      serviceId,
      msgCode,
      msgType: 'ERROR',
      msgText: MESSAGES[msgCode] ?? msgCode,
      isLocalized: false,
      msgAttrs: {},
      errorCauses: [],
    };
  }

  const fail = (ctx, status, msgCode, serviceId = 'ecom-token') => reply(ctx, status, envelope(ctx, msgCode, serviceId));
  // A request whose fields the bank refuses: typed VALIDATION_ERROR, as the bank's own client reads it.
  const invalid = (ctx) => reply(ctx, 400, { ...envelope(ctx, 'b_request_is_not_correct', 'ecom-token'), msgType: 'VALIDATION_ERROR' });

  async function authorize(ctx) {
    const authFail = (status, code) => fail(ctx, status, code, 'api-gateway');
    if (revoked) return authFail(401, 'b_auth_token_expired');
    if (ctx.headers['x-api_version'] !== 'V1') return authFail(400, 'b_request_is_not_correct');
    const body = parseJson(ctx.body);
    if (body === undefined) return authFail(400, 'b_error_parse_json');
    if (!isPlainObject(body) || typeof body.serviceCode !== 'string' || !body.serviceCode) {
      return authFail(400, 'b_request_is_not_correct');
    }
    if (body.serviceCode !== credentials.alliancepay.serviceCode) return authFail(200, 'b_terminal_not_found');

    sessionCount += 1;
    const deviceId = uuidFrom(`alliancepay:device:${sessionCount}`);
    const session = {
      authToken: hashB64url(`alliancepay:auth:${sessionCount}`, 64),
      refreshToken: hashB64url(`alliancepay:refresh:${sessionCount}`, 64),
      expiresAt: now() + sessionTtlMs,
    };
    sessions.set(deviceId, session);
    const jwe = await encryptForMerchant({
      authToken: session.authToken,
      refreshToken: session.refreshToken,
      deviceId,
      serverPublic: bankPublicJwk,
      tokenExpirationDateTime: allianceUtc(session.expiresAt),
      tokenExpiration: allianceKyiv(session.expiresAt),
      sessionExpiration: Math.round(sessionTtlMs / 60000),
    });
    return json(200, { jwe });
  }

  function sessionError(ctx) {
    if (revoked) return 'b_auth_token_expired';
    const h = ctx.headers;
    if (h['x-api_version'] !== 'V1' || !h['x-device_id'] || !h['x-refresh_token']) return 'b_unknown_device';
    const s = sessions.get(h['x-device_id']);
    if (!s || s.refreshToken !== h['x-refresh_token']) return 'b_unknown_device';
    if (now() >= s.expiresAt) return 'b_expired_token';
    return null;
  }

  // Bench customers are materialised on first listing so status updates stick until reset().
  function customerTokens(customerId) {
    const found = [...tokens.values()].filter((t) => t.customerId === customerId);
    if (found.length) return found;
    const generated = generatedTokens(customerId) ?? [];
    for (const t of generated) tokens.set(t.token, t);
    return generated;
  }

  const validId = (v, max = 255) => typeof v === 'string' && v.length > 0 && v.length <= max;

  const operations = {
    '/list/by-customer-id': (ctx, b) => {
      if (!validId(b.customerId)) return invalid(ctx);
      return reply(ctx, 200, { result: customerTokens(b.customerId).map((t) => ({ ...t })) });
    },
    '/get': (ctx, b) => {
      if (!validId(b.token)) return invalid(ctx);
      const t = tokens.get(b.token);
      return t ? reply(ctx, 200, { result: [{ ...t }] }) : fail(ctx, 200, 'b_invalid_request');
    },
    '/state/update': (ctx, b) => {
      if (!validId(b.token) || !STATES.has(b.state)) return invalid(ctx);
      const t = tokens.get(b.token);
      if (!t) return fail(ctx, 200, 'b_invalid_request');
      const allowed = TRANSITIONS.has(`${t.status}>${b.state}`);
      if (allowed) t.status = b.state;
      return reply(ctx, 200, { tokenUpdated: allowed, customerId: t.customerId, token: t.token });
    },
  };

  async function tokenCall(ctx, op) {
    const denied = sessionError(ctx);
    if (denied) return fail(ctx, 401, denied);
    let text = ctx.body;
    if (isJweRequest(ctx)) {
      try {
        text = await decryptFromMerchant(ctx.body);
      } catch {
        return fail(ctx, 200, 'b_encryptor_failed_decrypt_message');
      }
    }
    const body = parseJson(text);
    if (body === undefined) return fail(ctx, 400, 'b_error_parse_json');
    if (!isPlainObject(body)) return invalid(ctx);
    // PROVIDERS.md §1.2: optional fields are omitted, never sent as null (nulls fail validation).
    if (Object.values(body).some((v) => v === null)) return invalid(ctx);
    return op(ctx, body);
  }

  function handle(ctx) {
    if (ctx.method === 'POST' && ctx.path === '/api-gateway/authorize_virtual_device') return authorize(ctx);
    const op = ctx.method === 'POST' && ctx.path.startsWith(TOKEN_BASE) && operations[ctx.path.slice(TOKEN_BASE.length)];
    if (op) return tokenCall(ctx, op);
    return fail(ctx, 404, 'b_service_unavailable', 'api-gateway');
  }

  function errorResponse(kind, { status, ctx }) {
    // The docs list b_overload_error among the codes that arrive with HTTP 200.
    if (kind === 'rate_limit') return fail(ctx, 200, 'b_overload_error');
    if (kind === 'error_in_200') return fail(ctx, 200, 'b_invalid_request');
    const s = status ?? 503;
    return fail(ctx, s, s === 503 ? 'b_server_is_overloaded' : 'b_unknown_error');
  }

  // applied_then_overloaded: the change is made, but the reply says b_overload_error, as when the
  // bank's answer is lost to an overloaded front end after the work was done.
  const faultScenarios = new Set(['session_expired', 'used_token', 'revoked', 'applied_then_overloaded']);

  // null means "now handle the request normally" (the fault changed state instead of replying).
  function applyFault(fault, ctx) {
    if (fault.scenario === 'session_expired') {
      const t = now();
      for (const s of sessions.values()) s.expiresAt = Math.min(s.expiresAt, t);
      return null;
    }
    if (fault.scenario === 'used_token') return fail(ctx, 401, 'b_used_token');
    if (fault.scenario === 'applied_then_overloaded') {
      return Promise.resolve(handle(ctx)).then(() => fail(ctx, 200, 'b_overload_error'));
    }
    if (fault.scenario === 'revoked') {
      revoked = true;
      return null;
    }
    return null;
  }

  function reset() {
    tokens = seedTokens();
    sessions.clear();
    revoked = false;
    requestIds = 0;
  }

  return { name: 'alliancepay', prefix: '/alliancepay', handle, errorResponse, faultScenarios, applyFault, reset };
}
