// The SDK's one error type: every failure, from the core or from the JS around it, is one of these.
const FIELDS = ['code', 'provider', 'httpStatus', 'providerCode', 'requestId', 'retryable', 'retryAfterMs', 'tokenId', 'writeOutcome'];
// Shared by every copy of this package in the process (a bundled one beside an installed one, two
// versions): each has its own class, and `instanceof` goes by this mark, not by the prototype.
const BRAND = Symbol.for('paytokens.error');

export class PayTokensError extends Error {
  constructor(fields = {}) {
    super(fields.message);
    // Not enumerable: JSON, toJSON, structuredClone and util.inspect show the error as before.
    Object.defineProperty(this, BRAND, { value: true });
    this.name = 'PayTokensError';
    for (const key of FIELDS) if (fields[key] !== undefined) this[key] = fields[key];
    this.retryable = Boolean(fields.retryable);
  }

  static [Symbol.hasInstance](value) {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    // A subclass keeps the ordinary check: another copy's error is a PayTokensError, not one of it.
    if (this !== PayTokensError || value === null || typeof value !== 'object') return false;
    try {
      return value[BRAND] === true;
    } catch {
      // a Proxy whose get throws: not ours
      return false;
    }
  }

  toJSON() {
    const out = { name: this.name, message: this.message };
    for (const key of FIELDS) if (this[key] !== undefined) out[key] = this[key];
    return out;
  }
}
