// The SDK's one error type: every failure, from the core or from the JS around it, is one of these.
const FIELDS = ['code', 'provider', 'httpStatus', 'providerCode', 'requestId', 'retryable', 'retryAfterMs', 'tokenId', 'writeOutcome'];

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
