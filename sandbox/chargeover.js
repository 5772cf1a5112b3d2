// ChargeOver REST v3 tokenized pay methods: HTTP Basic auth, `where`/`order`/`offset`/`limit` queries.
import credentials from './credentials.js';
import { json, parseJson, isPlainObject, splitPath } from './http.js';
import { coDatetime } from './time.js';
import { seedChargeover } from './seed/chargeover.js';

const RECORD_FIELDS = [
  'tokenized_id', 'customer_id', 'name', 'type', 'paymethod_hint', 'expdate',
  'type_hint', 'token', 'gateway', 'write_datetime', 'mod_datetime',
];
// Only the fields ChargeOver documents for token queries: a client that strays gets the 400 a
// real instance may give, instead of an answer that hides the mistake.
const WHERE_FIELDS = new Set(['customer_id', 'customer_external_key', 'customer_token']);
// A record's own fields, and the customer's two that it can be queried by.
const ORDER_FIELDS = new Set([...RECORD_FIELDS, ...WHERE_FIELDS]);
const NUMERIC = new Set(['tokenized_id', 'customer_id']);
const OPS = new Set(['EQUALS', 'NOTEQUALS', 'GT', 'LT', 'GTE', 'LTE', 'CONTAINS']);
const MAX_LIMIT = 500;

const envelope = (code, status, message, response) => json(code, { code, status, message, details: {}, response });
const ok = (response, code = 200) => envelope(code, 'OK', '', response);
const error = (code, message) => envelope(code, 'Error', message, false);
const badParam = () => error(400, 'Missing or invalid parameter.');

class BadParameter extends Error {}

// where=field:OP:value,field:OP:value — commas inside a value are escaped as "\,". The query
// string is decoded once, as a real server does (the vendor's PHP client encodes each clause once).
export function parseWhere(where) {
  if (where === null || where === '') return [];
  return where.split(/(?<!\\),/).map((raw) => {
    const part = raw.replace(/\\,/g, ',');
    const first = part.indexOf(':');
    const second = part.indexOf(':', first + 1);
    if (first < 0 || second < 0) throw new BadParameter();
    const field = part.slice(0, first);
    const op = part.slice(first + 1, second).toUpperCase();
    const value = part.slice(second + 1);
    if (!WHERE_FIELDS.has(field)) throw new BadParameter();
    if (op === 'IS' || op === 'ISNOT') {
      if (value.toUpperCase() !== 'NULL') throw new BadParameter();
      return { field, op, value: null };
    }
    if (!OPS.has(op)) throw new BadParameter();
    return { field, op, value };
  });
}

function parseOrder(order) {
  if (order === null || order === '') return [{ field: 'tokenized_id', dir: 1 }];
  return order.split(',').map((part) => {
    const [field, dir = 'ASC', ...rest] = part.split(':');
    const d = dir.toUpperCase();
    if (rest.length || !ORDER_FIELDS.has(field) || (d !== 'ASC' && d !== 'DESC')) throw new BadParameter();
    return { field, dir: d === 'ASC' ? 1 : -1 };
  });
}

function parseCount(text, fallback, max) {
  if (text === null || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new BadParameter();
  const n = Number(text);
  if (n > max) throw new BadParameter();
  return n;
}

function compare(a, b, numeric) {
  if (a == null || b == null) return a == null ? (b == null ? 0 : -1) : 1; // NULLs first, as in MySQL
  if (numeric) return Number(a) - Number(b);
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function matches(actual, { field, op, value }) {
  if (op === 'IS') return actual == null;
  if (op === 'ISNOT') return actual != null;
  if (actual == null) return op === 'NOTEQUALS';
  const numeric = NUMERIC.has(field);
  if (numeric && !/^-?\d+$/.test(value)) return op === 'NOTEQUALS';
  // Like ChargeOver's MySQL collation: string comparisons ignore case.
  const a = numeric ? Number(actual) : String(actual).toLowerCase();
  const v = numeric ? Number(value) : value.toLowerCase();
  switch (op) {
    case 'EQUALS': return a === v;
    case 'NOTEQUALS': return a !== v;
    case 'GT': return a > v;
    case 'LT': return a < v;
    case 'GTE': return a >= v;
    case 'LTE': return a <= v;
    case 'CONTAINS': return String(a).includes(String(v));
  }
  return false;
}

function parseBasic(header) {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? { user: decoded, pass: '' } : { user: decoded.slice(0, i), pass: decoded.slice(i + 1) };
}

export function createChargeover({ now }) {
  let state = seedChargeover();

  function authError(ctx) {
    const basic = parseBasic(ctx.headers.authorization);
    if (!basic) return error(401, 'Invalid or incorrect authorization [Missing (basic) authorization header.]');
    const { username, password } = credentials.chargeover;
    if (basic.user !== username || basic.pass !== password) {
      return error(401, 'Invalid or incorrect authorization [Invalid API credentials.]');
    }
    return null;
  }

  function fieldOf(record, field) {
    if (field === 'customer_external_key') return state.customers.get(record.customer_id)?.external_key ?? null;
    if (field === 'customer_token') return state.customers.get(record.customer_id)?.token ?? null;
    return record[field] ?? null;
  }

  function query(ctx) {
    const q = ctx.query;
    let clauses, order, offset, limit;
    try {
      clauses = parseWhere(q.get('where'));
      order = parseOrder(q.get('order'));
      offset = parseCount(q.get('offset'), 0, Number.MAX_SAFE_INTEGER);
      limit = parseCount(q.get('limit'), 10, MAX_LIMIT);
    } catch (e) {
      if (e instanceof BadParameter) return badParam();
      throw e;
    }
    const rows = state.records
      .filter((r) => clauses.every((c) => matches(fieldOf(r, c.field), c)))
      .sort((a, b) => {
        for (const { field, dir } of order) {
          const c = compare(fieldOf(a, field), fieldOf(b, field), NUMERIC.has(field));
          if (c) return c * dir;
        }
        return a.tokenized_id - b.tokenized_id;
      });
    return ok(rows.slice(offset, offset + limit).map((r) => ({ ...r })));
  }

  function create(ctx) {
    const b = parseJson(ctx.body);
    if (!isPlainObject(b)) return badParam();
    const customerId = Number(b.customer_id);
    if (!Number.isInteger(customerId) || customerId <= 0 || typeof b.token !== 'string' || !b.token) return badParam();
    if (b.paymethod_hint != null && !['crd', 'ach'].includes(b.paymethod_hint)) return badParam();
    if (b.type_hint != null && !['visa', 'mast', 'disc', 'amex'].includes(b.type_hint)) return badParam();
    if (b.expdate != null && !/^\d{4}-\d{2}-\d{2}$/.test(b.expdate)) return badParam();
    state.lastId += 1;
    const stamp = coDatetime(now());
    state.records.push({
      tokenized_id: state.lastId,
      customer_id: customerId,
      name: b.name ?? null,
      type: b.type ?? 'customer',
      paymethod_hint: b.paymethod_hint ?? null,
      expdate: b.expdate ?? null,
      type_hint: b.type_hint ?? null,
      token: b.token,
      gateway: b.gateway ?? null,
      write_datetime: stamp,
      mod_datetime: stamp,
    });
    return ok({ id: state.lastId }, 201);
  }

  function handle(ctx) {
    const seg = splitPath(ctx.path);
    if (seg[0] !== 'tokenized' || seg.length > 2) return error(404, 'Object not found.');
    const denied = authError(ctx);
    if (denied) return denied;
    if (seg.length === 1) {
      if (ctx.method === 'GET') return query(ctx);
      if (ctx.method === 'POST') return create(ctx);
      return badParam();
    }
    const id = /^\d+$/.test(seg[1] ?? '') ? Number(seg[1]) : NaN;
    const index = state.records.findIndex((r) => r.tokenized_id === id);
    if (index < 0) return error(404, 'Object not found.');
    if (ctx.method === 'GET') return ok({ ...state.records[index] });
    if (ctx.method === 'DELETE') {
      state.records.splice(index, 1);
      return ok(true);
    }
    return badParam();
  }

  function errorResponse(kind, { status } = {}) {
    if (kind === 'rate_limit') return error(429, 'Too many requests. Please slow down.');
    // HTTP 200 whose envelope says Error: clients must trust `status`, not the HTTP code.
    if (kind === 'error_in_200') {
      return json(200, { code: 500, status: 'Error', message: 'An error occurred while processing the request.', details: {}, response: false });
    }
    const s = status ?? 503;
    return error(s, s === 503 ? 'Service temporarily unavailable.' : 'Internal server error.');
  }

  function reset() {
    state = seedChargeover();
  }

  return { name: 'chargeover', prefix: '/chargeover/api/v3', handle, errorResponse, reset };
}
