// Payerly token lookup: static Bearer key, GET /tokens/{tokenId} with optional customer filters.
import credentials from './credentials.js';
import { json, splitPath, bearerToken } from './http.js';
import { hashHex } from './ids.js';
import { seedTokens } from './seed/payerly.js';

const DESCRIPTIONS = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function createPayerly() {
  let tokens = seedTokens();
  let traces = 0;

  // Error codes follow the documented shape (an int per error); HTTP status × 100 keeps them
  // distinct and readable. traceId is a counter hash so runs are reproducible.
  function error(status, details = [], httpStatus = status) {
    traces += 1;
    return json(httpStatus, {
      error: {
        code: status * 100,
        description: DESCRIPTIONS[status] ?? 'Error',
        traceId: hashHex(`payerly:trace:${traces}`, 32),
        details,
      },
    });
  }

  function customerMismatch(t, q) {
    const c = t.customer ?? {};
    if (q.has('accountId') && q.get('accountId') !== c.accountId) return true;
    // Stored and matched as documented: digits only, with the country code.
    if (q.has('phone') && q.get('phone') !== c.phone) return true;
    if (q.has('email') && q.get('email').toLowerCase() !== String(c.email ?? '').toLowerCase()) return true;
    return false;
  }

  function handle(ctx) {
    const seg = splitPath(ctx.path);
    if (seg[0] !== 'tokens' || seg.length !== 2) return error(404);
    if (ctx.method !== 'GET') return error(405);
    const key = bearerToken(ctx.headers);
    if (key !== credentials.payerly.apiKey) return error(401);
    const q = ctx.query;
    const email = q.get('email');
    if (email !== null && !email.includes('@')) {
      return error(400, [
        { value: email, description: 'invalid email', fields: [{ name: 'email', type: 'string', value: email }] },
      ]);
    }
    const t = seg[1] === null ? undefined : tokens.get(seg[1]);
    if (!t || customerMismatch(t, q)) return error(404);
    return json(200, { items: [{ type: 'TOKEN', object: structuredClone(t) }] });
  }

  function errorResponse(kind, { status } = {}) {
    if (kind === 'rate_limit') return error(429);
    if (kind === 'error_in_200') return error(500, [], 200);
    return error(status ?? 503);
  }

  function reset() {
    tokens = seedTokens();
    traces = 0;
  }

  return { name: 'payerly', prefix: '/payerly/v1', handle, errorResponse, reset };
}
