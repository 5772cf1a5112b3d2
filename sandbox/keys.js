// Key material the emulated bank needs. Both pairs are sandbox-only (see credentials.js).
import merchantPrivate from './keys/merchant.private.jwk.json' with { type: 'json' };
import bankPrivate from './keys/bank.private.jwk.json' with { type: 'json' };

const publicHalf = ({ d, ...pub }) => pub;

export const merchantPublicJwk = publicHalf(merchantPrivate);
export const bankPublicJwk = publicHalf(bankPrivate);
export const bankPrivateJwk = bankPrivate;
