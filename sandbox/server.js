// Local emulator of the four providers' token APIs: routing, CORS, request log, faults and the
// /_sandbox control endpoints. Provider behaviour lives in one module per provider.
import { createServer } from 'node:http';
import credentials from './credentials.js';
import { json, readBody, parseJson } from './http.js';
import {
  FaultQueue, normalizeFault, ENVELOPE_SCENARIOS, html502, malformed, waitOrAbort,
} from './faults.js';
import { createPinelabs } from './pinelabs.js';
import { createAlliancepay } from './alliancepay.js';
import { createChargeover } from './chargeover.js';
import { createPayerly } from './payerly.js';

const ALLOWED_HEADERS = [
  'authorization', 'content-type', 'accept', 'x-api_version', 'x-device_id', 'x-refresh_token',
  'x-request_id', 'request-id', 'request-timestamp',
];

// Whether a request's Host header names this machine (or `host`, the address it was started on).
export function isLocalHost(hostHeader, host = '127.0.0.1') {
  const name = (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase();
  return ['127.0.0.1', 'localhost', '[::1]', host.includes(':') ? `[${host}]` : host].includes(name);
}

function corsHeaders(req) {
  if (!crossOriginAllowed(req.url)) return {};
  // Echo whatever the preflight asks for on top of the known list: "allow all request headers"
  // without relying on `*`, which browsers never apply to Authorization.
  const asked = req.headers['access-control-request-headers'];
  return {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': asked ? `${ALLOWED_HEADERS.join(', ')}, ${asked}` : ALLOWED_HEADERS.join(', '),
    'Access-Control-Expose-Headers': 'Retry-After, Date, Request-ID, X-Request-ID',
    'Access-Control-Max-Age': '600',
  };
}

// Pages on other origins (the demo) may call the provider APIs and read the sandbox's
// credentials and health; the request log and the controls stay same-origin.
function crossOriginAllowed(rawUrl) {
  const path = (rawUrl ?? '').split('?')[0];
  return !path.startsWith('/_sandbox/') || path === '/_sandbox/credentials' || path === '/_sandbox/health';
}

function matchProvider(providers, rawUrl) {
  for (const p of Object.values(providers)) {
    const rest = rawUrl.startsWith(p.prefix) ? rawUrl.slice(p.prefix.length) : null;
    if (rest !== null && (rest === '' || rest[0] === '/' || rest[0] === '?')) return { provider: p, rest };
  }
  return null;
}

export async function startSandbox({
  port = 0,
  host = '127.0.0.1',
  now = Date.now,
  pinelabsTokenTtlMs,
  alliancepaySessionTtlMs,
} = {}) {
  const providers = {
    pinelabs: createPinelabs({ now, tokenTtlMs: pinelabsTokenTtlMs }),
    alliancepay: createAlliancepay({ now, sessionTtlMs: alliancepaySessionTtlMs }),
    chargeover: createChargeover({ now }),
    payerly: createPayerly({ now }),
  };
  const faults = new FaultQueue();
  const requests = [];
  const pendingWaits = new Set();

  function send(req, res, reply) {
    if (res.destroyed || res.headersSent) return;
    const body = Buffer.from(reply.body ?? '', 'utf8');
    res.writeHead(reply.status, {
      ...corsHeaders(req),
      Date: new Date(now()).toUTCString(),
      ...reply.headers,
      'Content-Length': body.length,
    });
    res.end(body);
  }

  // Announces the full length, sends half, then drops the connection: the client sees a short read.
  function sendTruncated(req, res, reply) {
    const body = Buffer.from(reply.body ?? '', 'utf8');
    res.writeHead(reply.status, {
      ...corsHeaders(req),
      Date: new Date(now()).toUTCString(),
      ...reply.headers,
      'Content-Length': Math.max(body.length, 1),
    });
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => req.socket.destroy());
  }

  async function control(req, res, path) {
    const body = await readBody(req);
    if (req.method === 'GET' && path === '/_sandbox/health') {
      return send(req, res, json(200, { ok: true, baseUrls: api.baseUrls }));
    }
    if (req.method === 'GET' && path === '/_sandbox/requests') return send(req, res, json(200, requests));
    // Sandbox-only secrets, so a browser demo can configure the SDK without bundling them.
    if (req.method === 'GET' && path === '/_sandbox/credentials') return send(req, res, json(200, credentials));
    // Changing the sandbox takes JSON, which a page on another site cannot send here without a
    // preflight the sandbox does not grant (a plain form post could otherwise reset it).
    if (req.method === 'POST' && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return send(req, res, json(415, { ok: false, error: 'send JSON (content-type: application/json)' }));
    }
    if (req.method === 'POST' && path === '/_sandbox/reset') {
      api.reset();
      return send(req, res, json(200, { ok: true }));
    }
    if (req.method === 'POST' && path === '/_sandbox/faults') {
      try {
        api.fault(parseJson(body));
      } catch (e) {
        return send(req, res, json(400, { ok: false, error: e.message }));
      }
      return send(req, res, json(200, { ok: true, pending: faults.pending.length }));
    }
    return send(req, res, json(404, { ok: false, error: 'unknown control endpoint' }));
  }

  async function providerReply(provider, ctx, fault) {
    if (fault) {
      if (ENVELOPE_SCENARIOS.has(fault.scenario)) {
        const reply = await provider.errorResponse(fault.scenario, { status: fault.status, ctx });
        if (fault.scenario === 'rate_limit') reply.headers['Retry-After'] = String(fault.retryAfter ?? 1);
        return reply;
      }
      if (provider.faultScenarios?.has(fault.scenario)) {
        const reply = await provider.applyFault(fault, ctx);
        if (reply) return reply;
      }
    }
    try {
      return await provider.handle(ctx);
    } catch (e) {
      console.error(`[sandbox] ${provider.name} handler failed:`, e);
      return provider.errorResponse('server_error', { status: 500, ctx });
    }
  }

  async function onRequest(req, res) {
    const rawUrl = req.url;
    const pathOnly = rawUrl.split('?')[0];
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...corsHeaders(req), Date: new Date(now()).toUTCString(), 'Content-Length': 0 });
      return res.end();
    }
    if (pathOnly.startsWith('/_sandbox/')) return control(req, res, pathOnly);

    const body = await readBody(req);
    const match = matchProvider(providers, rawUrl);
    const path = match ? match.rest.split('?')[0] : pathOnly;
    requests.push({ provider: match?.provider.name ?? null, method: req.method, path, rawUrl, headers: { ...req.headers }, body, receivedAt: Date.now() });
    if (!match) return send(req, res, json(404, { error: 'No sandbox provider at this path' }));

    const { provider } = match;
    const ctx = {
      method: req.method,
      path,
      rawUrl,
      query: new URLSearchParams(match.rest.includes('?') ? match.rest.slice(match.rest.indexOf('?') + 1) : ''),
      headers: req.headers,
      body,
    };
    const fault = faults.take(provider.name, rawUrl, path);
    const pause = () => waitOrAbort(fault.delayMs ?? 2000, req.socket, pendingWaits);
    switch (fault?.scenario) {
      case 'reset':
        return req.socket.destroy();
      case 'html_502':
        return send(req, res, html502());
      case 'malformed':
        return send(req, res, malformed(provider.name));
      case 'slow':
        await pause();
        if (req.socket.destroyed) return;
        break;
    }
    const reply = await providerReply(provider, ctx, fault);
    if (fault?.scenario === 'late') {
      await pause();
      if (req.socket.destroyed) return;
    }
    if (fault?.scenario === 'truncated') return sendTruncated(req, res, reply);
    send(req, res, reply);
  }

  const server = createServer((req, res) => {
    // Only this machine's own names: a page on another site that points its host name at
    // 127.0.0.1 (DNS rebinding) would otherwise read the request log, secrets included.
    if (!isLocalHost(req.headers.host, host)) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('unknown host');
      return;
    }
    onRequest(req, res).catch((e) => {
      console.error('[sandbox] request failed:', e);
      if (!res.headersSent && !res.destroyed) send(req, res, json(500, { error: 'sandbox failure' }));
    });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port: actualPort } = server.address();
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;

  const api = {
    url,
    baseUrls: Object.fromEntries(Object.values(providers).map((p) => [p.name, url + p.prefix])),
    requests,
    credentials,
    count({ provider, method, pathIncludes } = {}) {
      return requests.filter(
        (r) =>
          (provider === undefined || r.provider === provider) &&
          (method === undefined || r.method === method.toUpperCase()) &&
          (pathIncludes === undefined || r.path.includes(pathIncludes)),
      ).length;
    },
    fault(spec) {
      faults.add(normalizeFault(spec, providers));
    },
    reset() {
      for (const p of Object.values(providers)) p.reset();
      faults.clear();
      requests.length = 0;
    },
    close() {
      for (const wake of [...pendingWaits]) wake();
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return api;
}
