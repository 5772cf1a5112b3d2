// Fault queue: tests (or the browser demo) ask for the next N matching requests to misbehave.
// Faults are consumed strictly in the order they were queued.

// Answered with the provider's own error envelope (see each provider's errorResponse).
export const ENVELOPE_SCENARIOS = new Set(['rate_limit', 'server_error', 'error_in_200']);
// Transport-level misbehaviour, identical for every provider.
// `slow` waits before the reply is made; `late` makes it at once and sends it after the wait (a
// read that raced a write: it shows the state from before the write).
export const TRANSPORT_SCENARIOS = new Set(['html_502', 'slow', 'late', 'malformed', 'truncated', 'reset']);

export function normalizeFault(spec, providers) {
  if (spec === null || typeof spec !== 'object') throw new Error('fault spec must be an object');
  const { provider, scenario } = spec;
  if (provider !== undefined && !providers[provider]) throw new Error(`unknown provider ${provider}`);
  const owners = Object.values(providers).filter((p) => p.faultScenarios?.has(scenario));
  const generic = ENVELOPE_SCENARIOS.has(scenario) || TRANSPORT_SCENARIOS.has(scenario);
  if (!generic && owners.length === 0) throw new Error(`unknown scenario ${scenario}`);
  // Provider-only scenarios (e.g. AlliancePay's used_token) imply their provider.
  const resolvedProvider = provider ?? (generic ? undefined : owners[0].name);
  if (!generic && !providers[resolvedProvider].faultScenarios?.has(scenario)) {
    throw new Error(`scenario ${scenario} is not available for ${resolvedProvider}`);
  }
  // JSON cannot carry Infinity, so the HTTP control endpoint accepts "Infinity" or -1.
  let times = spec.times ?? 1;
  if (times === 'Infinity' || times === -1) times = Infinity;
  if (typeof times !== 'number' || !(times > 0)) throw new Error('times must be a positive number');
  if (spec.skip !== undefined && !(Number.isInteger(spec.skip) && spec.skip >= 0)) throw new Error('skip must be a whole number');
  return {
    provider: resolvedProvider,
    scenario,
    times,
    pathIncludes: spec.pathIncludes,
    status: spec.status,
    retryAfter: spec.retryAfter,
    delayMs: spec.delayMs,
    // How many matching requests pass untouched first (the read-back after a write, say).
    skip: spec.skip ?? 0,
  };
}

export class FaultQueue {
  #items = [];

  add(fault) {
    this.#items.push(fault);
  }

  // Takes one use of the first fault matching this request, or returns null.
  take(provider, rawUrl, path) {
    const i = this.#items.findIndex(
      (f) =>
        (!f.provider || f.provider === provider) &&
        (!f.pathIncludes || path.includes(f.pathIncludes) || rawUrl.includes(f.pathIncludes)),
    );
    if (i < 0) return null;
    const fault = this.#items[i];
    if (fault.skip > 0) {
      fault.skip -= 1;
      return null;
    }
    fault.times -= 1;
    if (fault.times <= 0) this.#items.splice(i, 1);
    return fault;
  }

  clear() {
    this.#items.length = 0;
  }

  get pending() {
    return this.#items.map((f) => ({ ...f }));
  }
}

export function html502() {
  return {
    status: 502,
    headers: { 'Content-Type': 'text/html', Server: 'nginx' },
    body:
      '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n' +
      '<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n',
  };
}

// A JSON-looking body cut mid-value, shaped like the provider's real replies.
const MALFORMED = {
  pinelabs: '{"customer_id": "cust", "tokens": [ {"token_id": ',
  alliancepay: '{"result": [ {"token": ',
  chargeover: '{"code":200,"status":"OK","message":"","details":{},"response":[{"tokenized_id": ',
  payerly: '{"items": [ {"type": "TOKEN", "object": {"tokenId": ',
};

export function malformed(provider) {
  return {
    status: 200,
    headers: { 'Content-Type': 'application/json' },
    body: MALFORMED[provider] ?? '{"tokens": [ {"token_id": ',
  };
}

// Resolves after ms, or early when the client goes away, so a pending delay never keeps a
// closed server (or an aborted request) alive.
export function waitOrAbort(ms, socket, timers) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      timers.delete(done);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timers.add(done);
    socket.once('close', done);
  });
}
