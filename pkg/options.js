// The options every call takes besides its input: only `signal`, for now.
import { PayTokensError } from './api.js';

/** An INVALID_INPUT error for a call's argument, as the core words its own. */
export function invalid(field, why, provider) {
  return new PayTokensError({ code: 'INVALID_INPUT', message: `${field}: ${why}`, provider, retryable: false });
}

/**
 * The call's AbortSignal, or undefined. Any AbortSignal works, including one from another realm
 * or a polyfill, so it is recognised by what the core uses of it. Keys are not echoed in errors:
 * a misplaced secret must not end up in a message.
 */
export function signalOf(options, provider) {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalid('options', 'must be an object', provider);
  let keys;
  let signal;
  try {
    // The signal itself where { signal } was meant: running on without it would ignore every abort.
    if (isSignal(options)) throw invalid('options', 'is an AbortSignal; pass it as { signal }', provider);
    keys = Object.keys(options);
    ({ signal } = options);
  } catch (thrown) {
    throw thrown instanceof PayTokensError ? thrown : invalid('options', 'must hold only plain data', provider);
  }
  if (keys.some((key) => key !== 'signal')) throw invalid('options', 'has a key that is not an option (signal is the only one)', provider);
  if (signal === undefined) return undefined;
  if (!isSignal(signal)) throw invalid('options.signal', 'must be an AbortSignal', provider);
  return signal;
}

function isSignal(value) {
  return value !== null && typeof value === 'object' && typeof value.aborted === 'boolean'
    && typeof value.addEventListener === 'function' && typeof value.removeEventListener === 'function';
}
