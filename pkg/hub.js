// The cross-provider view: one call lists a customer's tokens at several providers at once, and
// reports how each provider fared, so that one provider being down never hides the others' tokens.
import { PayTokensError } from './errors.js';
import { abortedError, CALL_OPTIONS, hasAborted, optionsOf, reasonOf, relayed, toError } from './options.js';

/** The providers this package speaks (not re-exported by the package entry). */
export const PROVIDERS = ['alliancepay', 'chargeover', 'pinelabs', 'payerly'];

// Sort order, chosen for the person looking at the list, not for any provider:
// 1. status: tokens that can still be charged come first (ACTIVE), then those a person may need to
//    act on (SUSPENDED, PENDING), then the ones that are out of use (EXPIRED, FAILED, UNKNOWN), and
//    DELETED last;
// 2. expiresAt, soonest first (a card about to expire is the one to look at); tokens without a
//    known expiry after those with one;
// 3. provider name, then token id (ids of digits by their number, as ChargeOver numbers them: 3
//    before 15): a stable, repeatable order for everything else.
const STATUS_RANK = { ACTIVE: 0, SUSPENDED: 1, PENDING: 2, EXPIRED: 3, FAILED: 4, UNKNOWN: 5, DELETED: 6 };
// Own keys only: a status such as "toString" from a hand-made client ranks as UNKNOWN.
const statusRank = (status) => (Object.hasOwn(STATUS_RANK, status) ? STATUS_RANK[status] : STATUS_RANK.UNKNOWN);

function compareText(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// An id of digits as its number's digits (no leading zeros), or undefined for any other id.
function numberOf(id) {
  return /^\d+$/.test(id) ? id.replace(/^0+(?=\d)/, '') : undefined;
}

// Ids of digits by their number, ahead of other ids (so that the order stays total when a provider
// mixes them); equal numbers written differently ("07", "7") still in one repeatable order.
function compareIds(a, b) {
  if ((a.number === undefined) !== (b.number === undefined)) return a.number === undefined ? 1 : -1;
  if (a.number !== undefined) {
    const byNumber = a.number.length - b.number.length || compareText(a.number, b.number);
    if (byNumber) return byNumber;
  }
  return compareText(a.id, b.id);
}

/** What a token sorts by, read once: `listTokens` reads it inside the provider's own try, so a
 * hand-made client's token whose fields throw or lie when read fails that provider alone. */
function sortKey(t) {
  const expiry = typeof t.expiresAt === 'string' ? Date.parse(t.expiresAt) : NaN;
  const id = String(t.id ?? '');
  return { rank: statusRank(t.status), expiry, provider: String(t.provider ?? ''), id, number: numberOf(id) };
}

function compareKeys(a, b) {
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (!Number.isNaN(a.expiry) || !Number.isNaN(b.expiry)) {
    if (Number.isNaN(a.expiry)) return 1;
    if (Number.isNaN(b.expiry)) return -1;
    if (a.expiry !== b.expiry) return a.expiry - b.expiry;
  }
  return compareText(a.provider, b.provider) || compareIds(a, b);
}

export function compareTokens(a, b) {
  return compareKeys(sortKey(a), sortKey(b));
}

/** `promise`, or undefined as soon as `signal` aborts: a hand-made client that ignores the signal
 * and never settles must not keep an aborted listing waiting. It listens through the relay the
 * clients' calls use, so a server's shutdown signal passed to many listings gets one listener. */
function unlessAborted(promise, signal) {
  if (!signal) return promise;
  const relay = relayed(signal);
  return new Promise((resolve, reject) => {
    const stop = () => {
      relay.stop();
      resolve(undefined);
    };
    // The relay's own signal, or the caller's where it could not be relayed (a polyfill).
    try {
      relay.signal.addEventListener('abort', stop, { once: true });
    } catch {
      // A signal that cannot be listened to: the listing waits for its clients, as before.
    }
    const settle = (end) => (outcome) => {
      try {
        relay.signal.removeEventListener('abort', stop);
      } catch {
        // As above.
      }
      relay.stop();
      end(outcome);
    };
    // A hand-made client may hand back its array itself rather than a promise of it.
    Promise.resolve(promise).then(settle(resolve), settle(reject));
  });
}

/** The listing's own deadline: the signal the clients are called with, which the caller's signal
 * aborts (relayed, so that many listings on one signal add one listener) and so does the time. */
function cutOff(signal, ms) {
  const controller = new AbortController();
  const relay = relayed(signal);
  const onAbort = () => controller.abort(reasonOf(relay.signal));
  try {
    relay.signal?.addEventListener('abort', onAbort, { once: true });
  } catch {
    // A signal that cannot be listened to (a polyfill that throws): the time still ends it.
  }
  if (hasAborted(relay.signal)) onAbort();
  let ended = false;
  const timer = setTimeout(() => {
    ended = true;
    controller.abort(new PayTokensError({ code: 'TIMEOUT', message: `the listing's deadlineMs (${ms} ms) ended`, retryable: true }));
  }, ms);
  return {
    signal: controller.signal,
    /** Whether the deadline, not the caller, ended the listing. */
    ended: () => ended && !hasAborted(signal),
    // What the client was doing is not known here (waiting for a reply, a retry, a throttle's
    // Retry-After): a client's own deadlineMs, which its core honours, says which.
    timeout: (provider) => new PayTokensError({ code: 'TIMEOUT', provider, retryable: true, message: `${provider}'s listing had not ended when the hub's deadlineMs (${ms} ms) did; the other providers' tokens are returned` }),
    stop() {
      clearTimeout(timer);
      try {
        relay.signal?.removeEventListener('abort', onAbort);
      } catch {
        // As above.
      }
      relay.stop();
    },
  };
}


function invalid(message) {
  return new PayTokensError({ code: 'INVALID_INPUT', message, retryable: false });
}

function asError(thrown, provider, signal) {
  const err = toError(thrown, signal);
  // Which provider failed is what the hub's outcome is about. A frozen error or a Proxy that
  // throws keeps what it has: one provider's odd failure must not reject the whole listing.
  try {
    if (err.provider === undefined) err.provider = provider;
  } catch {
    // left as it is
  }
  return err;
}

class Hub {
  #clients = new Map();

  constructor(clients) {
    let given;
    try {
      if (Array.isArray(clients)) given = [...clients];
    } catch {
      // a revoked Proxy: refused below like any other non-array
    }
    if (!given?.length) throw invalid('createHub: expects a non-empty array of clients');
    for (const client of given) {
      let provider;
      let list;
      try {
        ({ provider, listTokens: list } = client ?? {});
      } catch {
        // a revoked Proxy or a getter that throws: not a client
      }
      if (!PROVIDERS.includes(provider) || typeof list !== 'function') {
        throw invalid('createHub: every entry must be a client from createClient()');
      }
      if (this.#clients.has(provider)) throw invalid(`createHub: two clients for ${provider}; give one per provider`);
      this.#clients.set(provider, client);
    }
  }

  /** The providers this hub has a client for, in the order they were given. */
  get providers() {
    return [...this.#clients.keys()];
  }

  /** The client for one provider, for get/update/delete on a token the hub listed. */
  client(provider) {
    const client = this.#clients.get(provider);
    // The argument is not echoed, as no value a caller passed is: it may be a secret pasted in the
    // wrong place. The providers the hub has say what to pass instead.
    if (!client) throw invalid(`no client for that provider in this hub (it has: ${this.providers.join(', ')})`);
    return client;
  }

  /**
   * Lists each named customer at its provider, all providers concurrently. Never rejects because
   * of a provider: each provider's result is in `outcomes[provider]`. Rejects only when `input`
   * or `options` is malformed, or with ABORTED when `options.signal` stopped the listing.
   */
  async listTokens(input, options) {
    const { signal, deadlineMs } = optionsOf(options, undefined, CALL_OPTIONS);
    const stopped = () => abortedError('the listing was aborted by its signal', undefined, signal);
    let given;
    let keys = [];
    try {
      keys = input !== null && typeof input === 'object' ? Object.keys(input) : [];
      const customers = input?.customers;
      // Not isRecord: a revoked Proxy must reach the catch below, and be called what it is. A
      // plain object only: a Map has no entries to read, and would list nothing without a word.
      const proto = customers !== null && typeof customers === 'object' ? Object.getPrototypeOf(customers) : undefined;
      if (proto === Object.prototype || proto === null) given = Object.entries(customers);
    } catch {
      throw invalid('input.customers: must hold only plain data');
    }
    // As a client's calls do: a key no listing reads is refused rather than ignored (a signal put
    // here instead of in the options would never stop the listing). Keys are not echoed.
    if (keys.includes('signal')) throw invalid("input.signal: goes in the call's options, its second argument: hub.listTokens(input, { signal })");
    if (keys.some((key) => key !== 'customers')) throw invalid('input: holds a key that is not an option (customers is the only one)');
    if (!given) throw invalid('input.customers: must be a plain object of provider → customerId');
    const entries = given.filter(([, id]) => id !== undefined && id !== null && id !== '');
    for (const [provider, id] of entries) {
      // The key is not echoed, as above: it may be a secret pasted in the wrong place.
      if (!PROVIDERS.includes(provider)) throw invalid(`input.customers: holds a key that is not a provider (${PROVIDERS.join(', ')})`);
      if (typeof id !== 'string') throw invalid(`input.customers.${provider}: must be a string`);
    }
    if (hasAborted(signal)) throw stopped();
    // A provider that has not answered by the deadline is a TIMEOUT outcome, and the others'
    // tokens are returned: a provider throttled for minutes must not hold the whole view.
    const cutoff = deadlineMs === undefined ? undefined : cutOff(signal, deadlineMs);
    const callOptions = cutoff ? { signal: cutoff.signal } : signal && { signal };
    const settled = await unlessAborted(Promise.all(entries.map(async ([provider, customerId]) => {
      const client = this.#clients.get(provider);
      const failed = (error) => [provider, { ok: false, customerId, error }, []];
      if (!client) {
        return failed(new PayTokensError({ code: 'INVALID_INPUT', provider, message: `no client for ${provider} in this hub`, retryable: false }));
      }
      try {
        // Not waited for past the deadline: a hand-made client may ignore the signal.
        const tokens = await unlessAborted(client.listTokens({ customerId }, callOptions), cutoff?.signal);
        // (Aborted by the caller instead, the whole listing is ABORTED below.)
        if (tokens === undefined && cutoff?.signal.aborted) return failed(cutoff.timeout(provider));
        // Tokens already carry their provider; keep that true even for a foreign client object.
        const tagged = tokens.map((t) => (t.provider === provider ? t : { ...t, provider }));
        const keyed = tagged.map((token) => ({ key: sortKey(token), token }));
        return [provider, { ok: true, customerId, count: tagged.length }, keyed];
      } catch (thrown) {
        return failed(cutoff?.ended() ? cutoff.timeout(provider) : asError(thrown, provider, signal));
      }
    })), signal).finally(() => cutoff?.stop());
    // The caller asked to stop: no partial result, as from any other aborted call, whatever the
    // clients made of the signal (a test double may ignore it or reject with a DOMException).
    // The hub's own ABORTED, not a client's: the caller stopped the listing, and no provider is
    // to blame for it (whichever client noticed first is chance).
    if (hasAborted(signal)) throw stopped();
    const outcomes = {};
    const keyed = [];
    for (const [provider, outcome, list] of settled) {
      outcomes[provider] = outcome;
      for (const entry of list) keyed.push(entry); // a spread of a long list overflows the stack
    }
    keyed.sort((a, b) => compareKeys(a.key, b.key));
    return { tokens: keyed.map((entry) => entry.token), outcomes };
  }

  toJSON() {
    return { providers: this.providers };
  }
}

/** One view over several providers' clients (one client per provider). */
export function createHub(clients) {
  return new Hub(clients);
}
