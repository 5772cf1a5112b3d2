// What JS does better than the wasm core: the Error subclass, async iterators, and taking the
// caller's functions (fetch, onSessionUpdate) out of the config before it crosses into wasm.
import {
  WasmClient, canTransition as wasmCanTransition, allowedTransitions as wasmAllowed, onCoreFailure, __wbg_reset_state as resetCore,
} from './wasm/paytokens.js';
import { abortedError, CALL_OPTIONS, hasAborted, invalid, isCoreError, isRecord, optionsOf, relayed, toError } from './options.js';
import { readTape } from './tape.js';
import { PayTokensError } from './errors.js';

// In a module of its own, so that options.js and hub.js, which this one imports, need not import
// this one back (Rollup warned of the cycle on every build).
export { PayTokensError };

// The core resolves with a tape of its result (cheaper across the boundary than built objects or
// JSON text; pkg/tape.js).
async function guard(pending, signal, write = false) {
  let tape;
  try {
    tape = await pending;
  } catch (thrown) {
    throw toError(thrown, signal);
  }
  try {
    return readTape(tape);
  } catch (thrown) {
    // Never expected (a bug): the caller still gets a PayTokensError, and a write knows that the
    // core finished it.
    const err = toError(thrown, signal);
    if (write) err.writeOutcome = 'APPLIED';
    throw err;
  }
}

// The caller's clock as a finite number, or undefined when it is stubbed to throw or lie: a page
// then gets a whole `deadlineMs` of its own, as one asked for alone does. Read here, before the
// call's hand-off to the core, where a throw (or `1n - spent`) counted as a failure of the core
// and ended every call in flight.
function clock() {
  try {
    const now = Number(Date.now());
    return Number.isFinite(now) ? now : undefined;
  } catch {
    return undefined;
  }
}

// Never expected, but not fatal: something thrown inside the core (a trap, or an exception from
// the host, such as a stubbed clock that throws) leaves its instance in an unknown state. The
// calls in flight end with INTERNAL, the instance is replaced by a fresh one, and each client
// builds its core again from its config on its next call (`generation`).
let generation = 0;
let resetPending = false;
const inFlight = new Set();

function restartCore() {
  try {
    resetCore();
    resetPending = false;
  } catch {
    // Tried again at the next call, which fails with INTERNAL until it works.
  }
}

function coreFailed(cause) {
  generation += 1;
  resetPending = true;
  restartCore();
  const ended = [...inFlight];
  inFlight.clear();
  for (const end of ended) end(cause);
}

onCoreFailure(coreFailed);

function internalError(cause, provider, write) {
  const err = new PayTokensError({
    code: 'INTERNAL',
    provider,
    retryable: !write,
    writeOutcome: write ? 'UNKNOWN' : undefined,
    message: "the SDK's core failed during this call and was restarted; later calls work"
      + (write ? `, but this change may have been sent to ${provider} and applied: read the token (for a new one, list the customer's tokens) before repeating it` : ''),
  });
  err.cause = cause;
  return err;
}

// A copy of the caller's data: rebuilding the core (`#live`) must not read objects the caller has
// changed since (a key wiped once the client was made, a session's fields deleted once stored).
// Whatever cannot be cloned (a Proxy, a getter that throws) is left as it is, for the core to refuse.
function copyOf(value) {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}


// A session callback that throws or rejects (a failed write to a store) must neither fail the
// call that opened the session nor surface as an unhandled rejection.
function persistSafely(onSessionUpdate) {
  return (session) => {
    try {
      Promise.resolve(onSessionUpdate(session)).catch(() => {});
    } catch {
      // ignored on purpose, see above
    }
  };
}

class Client {
  #core;
  #generation = generation;
  // Builds the core again after a failure (`coreFailed`), from the config given.
  #build;
  // Read once: every call names it in its errors, and a getter into wasm makes a new string.
  #provider;
  #closed = false;

  constructor(config) {
    if (!isRecord(config)) throw invalid('config', 'must be an object');
    // The core checks the functions too (a config error names its provider there).
    let fetch;
    let onSessionUpdate;
    let data;
    try {
      ({ fetch, onSessionUpdate, ...data } = config);
    } catch {
      // A getter that throws (a vault still locked): bad input like any other, not a stray Error.
      throw invalid('config', 'must hold only plain data');
    }
    // Any other function would cross as JSON no better than undefined, dropped without a word (a
    // misspelt `onSessionUpdated`, a secret given as a getter function): marked instead, so the
    // core names the key (and suggests `onSessionUpdate`) or refuses the value's type.
    for (const key of Object.keys(data)) if (typeof data[key] === 'function') data[key] = { function: key };
    // The latest session handed to onSessionUpdate, which a rebuilt core resumes as the caller
    // would after a restart. Without a callback, no session is kept outside the core.
    let session;
    const persist = typeof onSessionUpdate === 'function'
      ? persistSafely((opened) => {
        session = copyOf(opened);
        return onSessionUpdate(opened);
      })
      : onSessionUpdate;
    const settings = copyOf(data);
    this.#build = () => new WasmClient(session ? { ...settings, session } : settings, fetch, persist);
    try {
      this.#core = this.#build();
    } catch (thrown) {
      // A config error is a typed object; anything else thrown is the core failing.
      if (isCoreError(thrown)) throw toError(thrown);
      coreFailed(thrown);
      throw internalError(thrown, typeof data.provider === 'string' ? data.provider : undefined, false);
    }
    this.#provider = this.#core.provider;
    // Methods work detached too (`const { listTokens } = client`, a callback), instead of failing
    // on a missing `this`.
    for (const name of METHODS) this[name] = this[name].bind(this);
    // Own and enumerable like the methods, as the type declares them: a wrapper made by spreading
    // a client (`{ ...client, listTokens: logged }`) keeps them, and a hub takes it.
    Object.defineProperty(this, 'provider', { value: this.#provider, enumerable: true });
    Object.defineProperty(this, 'capabilities', { get: () => this.#capabilities(), enumerable: true });
  }

  #capabilities() {
    try {
      return this.#live().capabilities;
    } catch (thrown) {
      if (isCoreError(thrown)) throw toError(thrown);
      coreFailed(thrown);
      throw this.#failure(thrown, false);
    }
  }

  #live() {
    if (this.#closed) throw abortedError(`this ${this.#provider} client was closed; nothing was sent`, this.#provider);
    if (this.#generation !== generation) {
      if (resetPending) restartCore();
      if (resetPending) throw new Error('the core could not be started again');
      this.#core = this.#build();
      this.#generation = generation;
    }
    return this.#core;
  }

  // The core's promise for one call, which the core failing ends with INTERNAL instead of leaving
  // it pending for ever. Reads may be repeated; a write's outcome is then unknown.
  #track(invoke, write, signal) {
    return new Promise((resolve, reject) => {
      const relay = relayed(signal);
      const end = (cause) => {
        relay.stop();
        reject(this.#failure(cause, write));
      };
      // In flight from the start: `coreFailed` ends this call with the others.
      inFlight.add(end);
      const settle = () => {
        inFlight.delete(end);
        relay.stop();
      };
      let pending;
      try {
        pending = invoke(this.#live(), relay.signal);
      } catch (thrown) {
        // A core rebuilt from this client's config refused it: this client's error, not a failure.
        if (isCoreError(thrown)) {
          settle();
          reject(thrown);
          return;
        }
        // The calls return promises; nothing else is thrown through them but a failure of the core.
        coreFailed(thrown);
        return;
      }
      pending.then((value) => {
        settle();
        resolve(value);
      }, (reason) => {
        // Anything but a typed failure was thrown inside the core where a promise caught it.
        if (!isCoreError(reason)) return coreFailed(reason);
        settle();
        reject(reason);
      });
    });
  }

  #failure(cause, write) {
    return internalError(cause, this.#provider, write);
  }

  // Every call: async, so a bad option rejects the returned promise like any other input error
  // rather than throwing.
  async #run(options, call, write = false) {
    try {
      const { signal, deadlineMs } = optionsOf(options, this.provider, CALL_OPTIONS);
      return await guard(this.#track((core, relay) => call(core, relay, deadlineMs), write, signal), signal, write);
    } catch (err) {
      // The core marks what it knows was, or may have been, applied; any other failure of a
      // write (refused input, a closed client, a 4xx) changed nothing.
      if (write) err.writeOutcome ??= 'NOT_APPLIED';
      throw err;
    }
  }

  listTokens(input, options) {
    return this.#run(options, (core, signal, deadlineMs) => core.listTokens(input, signal, deadlineMs));
  }

  // Not itself a generator: a generator's body runs only at the first next(), and the input and
  // options must be read when the call is made, like every call's (one object reused for the
  // next customer at once must not turn this listing into that customer's).
  iterateTokens(input, options) {
    let signal;
    let deadlineMs;
    let refused;
    try {
      ({ signal, deadlineMs } = optionsOf(options, this.provider, CALL_OPTIONS));
    } catch (thrown) {
      refused = thrown; // reported by the first next(), where an iterator's failures go
    }
    let query = input;
    if (isRecord(input)) {
      try {
        query = { ...input };
      } catch {
        // A getter threw: the core reads `input` too and reports it as for any other call.
      }
    }
    return this.#pages(query, signal, deadlineMs, refused);
  }

  async *#pages(query, signal, deadlineMs, refused) {
    if (refused) throw refused;
    let cursor;
    // deadlineMs bounds the SDK's own time over the listing, every page together, as it bounds
    // listTokens (a 1 s budget must not allow 25 pages of 300 ms). The caller's time between
    // pages, its loop working on the tokens, is not the SDK's to spend: each page is told the
    // listing started as long before it as the pages before it took.
    let spent = 0;
    let handed = 0;
    do {
      const askedAt = clock();
      const startedAt = askedAt === undefined ? undefined : askedAt - spent;
      let page;
      try {
        page = await guard(this.#track((core, relay) => core.listTokensPage(query, cursor, relay, deadlineMs, startedAt), false, signal), signal);
      } catch (err) {
        // A generator that throws is done: its next() says `done`, as after the last page. So the
        // error is not retryable (a wrapper that retries next() would take that for the end), and
        // says the listing is cut short; a new listing may be retried, after retryAfterMs if set.
        if (handed > 0 && err instanceof PayTokensError) {
          err.message += ` (the listing stopped after ${handed} tokens and cannot resume: iterate again from the start)`;
          err.retryable = false;
        }
        throw err;
      }
      // A clock set back during the request must not give the budget time back.
      const answeredAt = clock();
      if (askedAt !== undefined && answeredAt !== undefined) spent += Math.max(0, answeredAt - askedAt);
      for (const token of page.tokens) {
        // Aborted while the loop worked on an earlier token: nothing more is handed out.
        if (hasAborted(signal)) {
          throw abortedError('the listing was aborted by its signal; no further tokens were handed out', this.provider, signal);
        }
        yield token;
        handed += 1;
      }
      cursor = page.next;
    } while (cursor);
  }

  getToken(input, options) {
    return this.#run(options, (core, signal, deadlineMs) => core.getToken(input, signal, deadlineMs));
  }

  updateTokenStatus(input, options) {
    return this.#run(options, (core, signal, deadlineMs) => core.updateTokenStatus(input, signal, deadlineMs), true);
  }

  async deleteToken(input, options) {
    await this.#run(options, (core, signal, deadlineMs) => core.deleteToken(input, signal, deadlineMs), true);
  }

  createToken(input, options) {
    return this.#run(options, (core, signal, deadlineMs) => core.createToken(input, signal, deadlineMs), true);
  }

  queryTokens(query, options) {
    return this.#run(options, (core, signal, deadlineMs) => core.queryTokens(query, signal, deadlineMs));
  }

  // For a process that makes clients as it goes (one per merchant or request): without it, a
  // client's core, and the credentials in it, last until garbage collection gets to the client,
  // and wasm memory taken in the meantime is never given back. Calls in flight run to their end;
  // the core's credentials are wiped when the last of them ends, or now if none is in flight.
  close() {
    if (this.#closed) return;
    this.#closed = true;
    const core = this.#core;
    this.#core = undefined;
    this.#build = undefined; // the config's copy, and the latest session
    // A core from an instance since replaced is gone with it: its pointer means nothing to the
    // new instance, whose memory it would corrupt.
    if (this.#generation !== generation) return;
    try {
      core.free();
    } catch {
      // Closed from inside one of its own calls (a custom fetch): garbage collection frees it.
    }
  }

  // Credentials live inside the wasm instance; nothing here can print them.
  toJSON() {
    return { provider: this.provider };
  }
}

// Every method of the class, so that one added later works detached too (`toJSON` is no call,
// and as an own property it would turn up in spreads of a client).
const METHODS = Object.getOwnPropertyNames(Client.prototype).filter(
  (name) => !['constructor', 'toJSON'].includes(name) && typeof Object.getOwnPropertyDescriptor(Client.prototype, name).value === 'function',
);

export function createClient(config) {
  return new Client(config);
}

export function canTransition(from, to) {
  return wasmCanTransition(from, to);
}

export function allowedTransitions(from) {
  return wasmAllowed(from);
}

export { createHub, compareTokens } from './hub.js';
