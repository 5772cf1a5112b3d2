// The options every call takes besides its input (`signal`, `deadlineMs`), and the one way a
// failure becomes a PayTokensError, for the client and the hub alike.
import { PayTokensError } from './errors.js';

/** An INVALID_INPUT error for a call's argument, as the core words its own. */
export function invalid(field, why, provider) {
  return new PayTokensError({ code: 'INVALID_INPUT', message: `${field}: ${why}`, provider, retryable: false });
}

/** An object argument: not null, not an array, and not a revoked Proxy (which throws at any look). */
export function isRecord(value) {
  try {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** What a client's calls and the hub's listing take as their second argument. */
export const CALL_OPTIONS = ['signal', 'deadlineMs'];

/**
 * The options object's values under `names`, checked, or {} when there is none. A key not in
 * `names` is refused; keys are not echoed in errors: a misplaced secret must not end up in a
 * message. Any AbortSignal works as `signal`, including one from another realm or a polyfill, so
 * it is recognised by what the core uses of it. `deadlineMs` has the config's range.
 */
export function optionsOf(options, provider, names) {
  // Every name set, so that reading one never reaches a (polluted) Object.prototype.
  const values = Object.fromEntries(names.map((name) => [name, undefined]));
  if (options === undefined) return values;
  if (!isRecord(options)) throw invalid('options', 'must be an object', provider);
  let keys;
  try {
    // The signal itself where { signal } was meant: running on without it would ignore every abort.
    if (isSignal(options)) throw invalid('options', 'is an AbortSignal; pass it as { signal }', provider);
    // A Map or other container would show no keys, and its signal would be ignored.
    if (Object.prototype.toString.call(options) !== '[object Object]') throw invalid('options', 'must be a plain object: { signal, deadlineMs }', provider);
    keys = Object.keys(options);
    for (const name of names) {
      // An option inherited from Object.prototype (polluted) must not bound every call; one a
      // class or Object.create put on the way would be ignored unseen, with its abort.
      if (!Object.hasOwn(options, name)) {
        if (name in options && !(name in Object.prototype)) throw invalid(`options.${name}`, 'must be the object\'s own property: pass a plain object, { signal, deadlineMs }', provider);
        continue;
      }
      // null is "not given", as fetch takes `signal: null`.
      values[name] = options[name] === null ? undefined : options[name];
    }
  } catch (thrown) {
    throw thrown instanceof PayTokensError ? thrown : invalid('options', 'must hold only plain data', provider);
  }
  if (keys.some((key) => !names.includes(key))) {
    const known = names.length === 1 ? `${names[0]} is the only one` : `only ${names.join(' and ')}`;
    throw invalid('options', `has a key that is not an option (${known})`, provider);
  }
  if (values.signal !== undefined && !isSignal(values.signal)) throw invalid('options.signal', 'must be an AbortSignal', provider);
  const { deadlineMs } = values;
  if (deadlineMs !== undefined && !(Number.isInteger(deadlineMs) && deadlineMs >= 1 && deadlineMs <= 2147483647)) {
    throw invalid('options.deadlineMs', 'must be a whole number of milliseconds, 1–2147483647', provider);
  }
  return values;
}

function isSignal(value) {
  try {
    return value !== null && typeof value === 'object' && typeof value.aborted === 'boolean'
      && typeof value.addEventListener === 'function' && typeof value.removeEventListener === 'function';
  } catch {
    return false; // a revoked Proxy, a getter that throws: not a signal the core could listen to
  }
}

/** ABORTED, with what the signal aborted with as its cause. */
export function abortedError(message, provider, signal) {
  const err = new PayTokensError({ code: 'ABORTED', message, provider, retryable: false });
  err.cause = reasonOf(signal);
  return err;
}

/** Whether the signal (if any) has aborted; one whose `aborted` throws is taken as not aborted. */
export function hasAborted(signal) {
  try {
    return signal?.aborted === true;
  } catch {
    return false;
  }
}

/** What the signal aborted with, as fetch rejects with it (undefined if it cannot be read). */
export function reasonOf(signal) {
  try {
    return signal.reason;
  } catch {
    return undefined;
  }
}

/** A value in a message, whatever it is: String() throws for an object without a prototype. */
export function describe(value) {
  try {
    return String(value);
  } catch {
    return `a value (${typeof value}) that cannot be shown`;
  }
}

/** ErrorCode in src/error.rs (a test keeps the two lists equal). */
export const ERROR_CODES = new Set(['INVALID_INPUT', 'INVALID_TRANSITION', 'UNSUPPORTED', 'AUTHENTICATION', 'CREDENTIALS_REVOKED',
  'PERMISSION', 'NOT_FOUND', 'RATE_LIMITED', 'PROVIDER_ERROR', 'NETWORK', 'TIMEOUT', 'DECODE', 'ABORTED', 'INTERNAL']);

/** A failure as the core reports it (or a copy of this package, or a test double). */
export function isCoreError(thrown) {
  return thrown !== null && typeof thrown === 'object' && ERROR_CODES.has(thrown.code) && typeof thrown.message === 'string';
}

/**
 * Any failure as a PayTokensError. The core reports every failure as a typed object; so does a
 * client from another copy of this package (where `instanceof` fails), or a test double, which
 * is taken at its word when its code is one of ours. Anything else (a Node error's `ECONNRESET`
 * from a hand-made client in a hub, a value that throws when looked at) becomes PROVIDER_ERROR
 * "internal error: …", with what was thrown as its cause. Never throws.
 */
export function toError(thrown, signal) {
  try {
    if (thrown instanceof PayTokensError) return thrown;
    if (isCoreError(thrown)) {
      const err = new PayTokensError(thrown);
      // What the caller aborted with, as fetch rejects with it; else what the error carried.
      if (err.code === 'ABORTED' && signal) err.cause = reasonOf(signal);
      else if (thrown.cause !== undefined) err.cause = thrown.cause;
      return err;
    }
  } catch {
    // A revoked Proxy or a getter that throws (a hand-made client's rejection in a hub): the
    // caller gets a failure it can handle, not the TypeError of looking at it.
  }
  // Not expected: the core reports every failure as a typed object. Keep what happened.
  const err = new PayTokensError({ code: 'PROVIDER_ERROR', message: `internal error: ${describe(messageOf(thrown) ?? thrown)}`, retryable: false });
  err.cause = thrown;
  return err;
}

function messageOf(thrown) {
  try {
    return thrown?.message;
  } catch {
    return undefined;
  }
}

// The core listens to a signal of the call's own, which follows the caller's. When the core fails,
// the old instance's listener would otherwise stay on the caller's signal for good (that instance's
// calls are dropped, never run to their end); this one is removed as the call ends, however it ends.
// A caller's signal gets one listener however many calls and hub listings share it (a server's
// shutdown signal passed to every call): one each would set off Node's listener-leak warning at 11.
const relays = new WeakMap(); // the caller's signal → { calls: the controllers following it, onAbort }

export function relayed(signal) {
  if (signal === undefined) return NO_RELAY;
  const controller = new AbortController();
  let relay;
  try {
    if (signal.aborted) {
      controller.abort(reasonOf(signal));
      return { signal: controller.signal, stop() {} };
    }
    relay = relays.get(signal);
    if (!relay) {
      const calls = new Set();
      // A signal aborts once: the relay is done with it then, whatever calls are still ending.
      const onAbort = () => {
        relays.delete(signal);
        for (const call of calls) call.abort(reasonOf(signal));
        try {
          signal.removeEventListener('abort', onAbort);
        } catch {
          // a polyfill that throws here keeps a listener that does nothing more
        }
      };
      signal.addEventListener('abort', onAbort);
      relay = { calls, onAbort };
      relays.set(signal, relay);
    }
  } catch {
    return { signal, stop() {} }; // a polyfill that throws: the core copes with it, as before
  }
  relay.calls.add(controller);
  const stop = () => {
    relay.calls.delete(controller);
    if (relay.calls.size > 0 || relays.get(signal) !== relay) return;
    relays.delete(signal);
    try {
      signal.removeEventListener('abort', relay.onAbort);
    } catch {
      // nothing more can be done for a polyfill that throws here
    }
  };
  return { signal: controller.signal, stop };
}
const NO_RELAY = { signal: undefined, stop() {} };
