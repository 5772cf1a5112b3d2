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
  if (Object.keys(options).some((key) => key !== 'signal')) throw invalid('options', 'has a key that is not an option (signal is the only one)', provider);
  const { signal } = options;
  if (signal === undefined) return undefined;
  const usable = signal !== null && typeof signal === 'object' && typeof signal.aborted === 'boolean'
    && typeof signal.addEventListener === 'function' && typeof signal.removeEventListener === 'function';
  if (!usable) throw invalid('options.signal', 'must be an AbortSignal', provider);
  return signal;
}
