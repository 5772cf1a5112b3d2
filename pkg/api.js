// What JS does better than the wasm core: the Error subclass, async iterators, and taking the
// caller's functions (fetch, onSessionUpdate) out of the config before it crosses into wasm.
import { WasmClient, canTransition as wasmCanTransition, allowedTransitions as wasmAllowed } from './wasm/paytokens.js';
import { invalid, isRecord, signalOf, toError } from './options.js';
import { readTape } from './tape.js';

const FIELDS = ['code', 'provider', 'httpStatus', 'providerCode', 'requestId', 'retryable', 'retryAfterMs', 'tokenId'];

export class PayTokensError extends Error {
  constructor(fields = {}) {
    super(fields.message);
    this.name = 'PayTokensError';
    for (const key of FIELDS) if (fields[key] !== undefined) this[key] = fields[key];
    this.retryable = Boolean(fields.retryable);
  }

  toJSON() {
    const out = { name: this.name, message: this.message };
    for (const key of FIELDS) if (this[key] !== undefined) out[key] = this[key];
    return out;
  }
}

// The core resolves with a tape of its result (cheaper across the boundary than built objects or
// JSON text; pkg/tape.js).
async function guard(call, signal) {
  try {
    // Read inside too: were the tape ever malformed (a bug), the caller still gets a PayTokensError.
    return readTape(await call());
  } catch (thrown) {
    throw toError(thrown, signal);
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
  // Read once: every call names it in its errors, and a getter into wasm makes a new string.
  #provider;

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
    const persist = typeof onSessionUpdate === 'function' ? persistSafely(onSessionUpdate) : onSessionUpdate;
    try {
      this.#core = new WasmClient(data, fetch, persist);
    } catch (thrown) {
      throw toError(thrown);
    }
    this.#provider = this.#core.provider;
    // Methods work detached too (`const { listTokens } = client`, a callback), instead of failing
    // on a missing `this`.
    for (const name of METHODS) this[name] = this[name].bind(this);
  }

  get provider() {
    return this.#provider;
  }

  get capabilities() {
    return this.#core.capabilities;
  }

  // Every call: async, so a bad option rejects the returned promise like any other input error
  // rather than throwing.
  async #run(options, call) {
    const signal = signalOf(options, this.provider);
    return guard(() => call(signal), signal);
  }

  listTokens(input, options) {
    return this.#run(options, (signal) => this.#core.listTokens(input, signal));
  }

  // Not itself a generator: a generator's body runs only at the first next(), and the input and
  // options must be read when the call is made, like every call's (one object reused for the
  // next customer at once must not turn this listing into that customer's).
  iterateTokens(input, options) {
    let signal;
    let refused;
    try {
      signal = signalOf(options, this.provider);
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
    return this.#pages(query, signal, refused);
  }

  async *#pages(query, signal, refused) {
    if (refused) throw refused;
    let cursor;
    do {
      const page = await guard(() => this.#core.listTokensPage(query, cursor, signal), signal);
      yield* page.tokens;
      cursor = page.next;
    } while (cursor);
  }

  getToken(input, options) {
    return this.#run(options, (signal) => this.#core.getToken(input, signal));
  }

  updateTokenStatus(input, options) {
    return this.#run(options, (signal) => this.#core.updateTokenStatus(input, signal));
  }

  async deleteToken(input, options) {
    await this.#run(options, (signal) => this.#core.deleteToken(input, signal));
  }

  createToken(input, options) {
    return this.#run(options, (signal) => this.#core.createToken(input, signal));
  }

  queryTokens(query, options) {
    return this.#run(options, (signal) => this.#core.queryTokens(query, signal));
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
