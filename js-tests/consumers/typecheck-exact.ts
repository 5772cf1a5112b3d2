// A project with `exactOptionalPropertyTypes`: an optional property the SDK accepts as
// `undefined` must say so in its type, or code that forwards a value it may not have (an env
// variable, an optional parameter) needs a spread trick for each one.
import { createClient, createHub, PayTokensError } from 'paytokens';
import type { AlliancePayHooks, CallOptions, ClientHooks, FetchLike, HubListInput, PayTokensErrorFields } from 'paytokens';

declare const signal: AbortSignal | undefined;
declare const customerId: string | undefined;
declare const timeoutMs: number | undefined;

const options: CallOptions = { signal };
const hooks: ClientHooks = { fetch: undefined };
const alliancepayHooks: AlliancePayHooks = { onSessionUpdate: undefined };
const customers: HubListInput = { customers: { pinelabs: customerId, chargeover: null } };
const fields: PayTokensErrorFields = {
  code: 'NOT_FOUND', message: 'no such token', provider: undefined, httpStatus: undefined, providerCode: undefined,
  requestId: undefined, retryable: undefined, retryAfterMs: undefined, tokenId: undefined,
};
const double: FetchLike = async () => ({ status: 200, type: undefined, headers: new Headers(), text: async () => '' });
// Generated from the Rust model (tsify): its optional fields take `undefined` too.
const pine = createClient({ provider: 'pinelabs', clientId: 'id', clientSecret: 'secret', timeoutMs, deadlineMs: undefined, ...hooks });

export async function forward(): Promise<void> {
  await pine.getToken({ tokenId: 't', customerId: 'c', includeRaw: undefined }, options);
  const chargeover = createClient({ provider: 'chargeover', baseUrl: 'https://example.chargeover.com/api/v3', username: 'u', password: 'p' });
  await chargeover.deleteToken({ tokenId: 't', customerId }, options);
  for await (const t of pine.iterateTokens({ customerId: 'c' }, options)) void t;
  await createHub([pine]).listTokens(customers, options);
  void [alliancepayHooks, new PayTokensError(fields), double];
}
