// Pine Labs Online ("Plural" v2) token API: OAuth2 client-credentials token, then Bearer calls.
import { createHmac } from 'node:crypto';
import credentials from './credentials.js';
import { json, parseJson, isPlainObject, splitPath, bearerToken } from './http.js';
import { isoMicros } from './time.js';
import { seedCustomers, generatedCustomer, FORBIDDEN_CUSTOMER } from './seed/pinelabs.js';

// As documented: letters, "-" and "_" only (no digits).
const REFERENCE = /^[A-Za-z_-]{1,50}$/;

const err = (status, code, message) => json(status, { code, message });

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

export function createPinelabs({ now, tokenTtlMs = 60 * 60 * 1000 }) {
  let customers = seedCustomers();
  const accessTokens = new Map(); // token → expiresAtMs
  // Survives reset() on purpose: tokens issued before a reset must not be re-issued (and
  // silently accepted) afterwards.
  let issued = 0;

  function issueToken() {
    issued += 1;
    const iat = now();
    const exp = iat + tokenTtlMs;
    // JWT-shaped like the real one, but opaque to clients: the signature key is sandbox-internal.
    const head = b64url({ alg: 'HS256', typ: 'JWT' });
    const body = b64url({
      iss: 'pinelabs-sandbox',
      sub: credentials.pinelabs.clientId,
      iat: Math.floor(iat / 1000),
      exp: Math.floor(exp / 1000),
      jti: `sbx-${issued}`,
    });
    const sig = createHmac('sha256', 'pinelabs-sandbox').update(`${head}.${body}`).digest('base64url');
    const token = `${head}.${body}.${sig}`;
    accessTokens.set(token, exp);
    return json(200, { access_token: token, expires_at: isoMicros(exp) });
  }

  function tokenEndpoint(ctx) {
    const b = parseJson(ctx.body);
    if (!isPlainObject(b)) return err(400, 'INVALID_REQUEST', 'Request body must be a JSON object');
    if (b.grant_type !== 'client_credentials') {
      return err(400, 'INVALID_REQUEST', 'grant_type must be client_credentials');
    }
    if (typeof b.client_id !== 'string' || typeof b.client_secret !== 'string') {
      return err(400, 'INVALID_REQUEST', 'client_id and client_secret are required');
    }
    if (b.client_id !== credentials.pinelabs.clientId || b.client_secret !== credentials.pinelabs.clientSecret) {
      return err(401, 'UNAUTHORIZED', 'Invalid client credentials');
    }
    return issueToken();
  }

  function authError(ctx) {
    const token = bearerToken(ctx.headers);
    if (!token) return err(401, 'UNAUTHORIZED', 'Missing bearer token');
    const exp = accessTokens.get(token);
    if (exp === undefined) return err(401, 'UNAUTHORIZED', 'Invalid access token');
    if (now() >= exp) return err(401, 'UNAUTHORIZED', 'Access token expired');
    return null;
  }

  // Generated customers are materialised on first use so deletions stick until reset().
  function findCustomer(id) {
    let c = customers.get(id);
    if (!c) {
      c = generatedCustomer(id);
      if (c) customers.set(id, c);
    }
    return c ?? null;
  }

  function withCustomer(id, fn) {
    if (id === FORBIDDEN_CUSTOMER) return err(403, 'INVALID_REQUEST', 'Merchant is not allowed to access this customer');
    const c = findCustomer(id);
    return c ? fn(c) : err(404, 'INVALID_REQUEST', 'Customer not found');
  }

  function withToken(c, tokenId, fn) {
    const t = c.tokens.find((x) => x.token_id === tokenId);
    return t ? fn(t) : err(404, 'INVALID_REQUEST', 'Token not found');
  }

  function deleteToken(c, t, body) {
    const b = parseJson(body);
    if (!isPlainObject(b)) return err(400, 'INVALID_REQUEST', 'Request body must be a JSON object');
    const ref = b.merchant_unique_reference;
    if (typeof ref !== 'string' || !REFERENCE.test(ref)) {
      return err(400, 'INVALID_REQUEST', 'merchant_unique_reference must be 1-50 characters of A-Z a-z - _');
    }
    const meta = b.merchant_metadata;
    if (meta !== undefined && meta !== null) {
      const entries = isPlainObject(meta) ? Object.entries(meta) : null;
      if (!entries || entries.length > 10 || entries.some(([, v]) => typeof v !== 'string' || v.length > 256)) {
        return err(400, 'INVALID_REQUEST', 'merchant_metadata must hold at most 10 string values of up to 256 characters');
      }
    }
    // Deleting an already deactivated token succeeds again: lets a client retry safely after a
    // lost reply (the real API's behaviour here is undocumented).
    if (t.status !== 'DEACTIVATED') {
      t.status = 'DEACTIVATED';
      t.status_reason = 'Token deactivated by merchant';
      t.updated_at = isoMicros(now());
      c.updated_at = t.updated_at;
    }
    return json(200, {
      token_id: t.token_id,
      customer_id: c.customer_id,
      status: 'DEACTIVATED',
      merchant_unique_reference: ref,
    });
  }

  function handle(ctx) {
    const seg = splitPath(ctx.path);
    const extra = ctx.headers['request-id'] ? { 'Request-ID': ctx.headers['request-id'] } : {};
    const reply = route(ctx, seg);
    reply.headers = { ...reply.headers, ...extra };
    return reply;
  }

  function route(ctx, seg) {
    const { method } = ctx;
    if (method === 'POST' && seg.join('/') === 'auth/v1/token') return tokenEndpoint(ctx);
    const isCustomerRoute = seg[0] === 'v1' && seg[1] === 'customer' && seg[3] === 'tokens' && seg.length >= 4;
    const shape =
      !isCustomerRoute ? null
      : seg.length === 4 && method === 'GET' ? 'list'
      : seg.length === 5 && method === 'GET' ? 'get'
      : seg.length === 6 && seg[5] === 'delete' && method === 'POST' ? 'delete'
      : null;
    if (!shape) return err(404, 'INVALID_REQUEST', `No route for ${method} ${ctx.path}`);
    const denied = authError(ctx);
    if (denied) return denied;
    if (seg.includes(null)) return err(400, 'INVALID_REQUEST', 'Malformed percent-encoding in path');
    const [, , customerId, , tokenId] = seg;
    return withCustomer(customerId, (c) => {
      if (shape === 'list') {
        return json(200, { ...c, total_tokens: c.tokens.length });
      }
      return withToken(c, tokenId, (t) => (shape === 'get' ? json(200, t) : deleteToken(c, t, ctx.body)));
    });
  }

  function errorResponse(kind, { status } = {}) {
    if (kind === 'rate_limit') return err(429, 'PAYMENT_RATE_LIMIT', 'Too many requests, please retry later');
    if (kind === 'error_in_200') return err(200, 'INTERNAL_ERROR', 'Request could not be processed');
    if (kind === 'not_found') return err(404, 'INVALID_REQUEST', 'Resource not found');
    const s = status ?? 503;
    return s === 503
      ? err(503, 'INTERNAL_ERROR', 'Service temporarily unavailable')
      : err(s, 'INTERNAL_ERROR', 'Internal server error');
  }

  function reset() {
    customers = seedCustomers();
    accessTokens.clear();
  }

  return { name: 'pinelabs', prefix: '/pinelabs/api', handle, errorResponse, reset };
}
