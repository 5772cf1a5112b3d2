// A TypeScript consumer of the installed package: it names every export of index.d.ts (the
// consumers suite checks that against the compiler's own export list) and is compiled with
// `tsc --noEmit --strict`. Each @ts-expect-error must meet a real error, or tsc fails the build
// with "Unused '@ts-expect-error' directive": so the types have to constrain, not just exist.
import {
  createClient, canTransition, allowedTransitions, createHub, compareTokens, PayTokensError,
} from 'paytokens';
import type {
  AlliancePayConfig, AlliancePayHooks, AlliancePaySession, Capabilities, Card, ChargeOverConfig, Client,
  ClientConfig, ClientHooks, CommonOptions, CreateTokenInput, DeleteTokenInput, Encryption, Environment,
  ErrorCode, GetTokenInput, Hub, HubListInput, HubListOptions, HubOutcome, HubResult, ListTokensInput, MerchantKey,
  OrderField, PayerlyConfig, PaymentMethod, PineLabsConfig, Provider, QueryCondition, QueryField,
  QueryOperator, QueryOrder, RequiredAction, SortDirection, Token, TokenQuery, TokenStatus,
  UpdateTokenStatusInput, PayTokensErrorFields, FetchLike, CallOptions, SettableStatus, WriteOutcome,
} from 'paytokens';

const environment: Environment = 'sandbox';
const common: CommonOptions = { environment, baseUrl: 'http://127.0.0.1:1/pinelabs/api', timeoutMs: 5000, maxRetries: 1, deadlineMs: 20000 };
const hooks: ClientHooks = { fetch: globalThis.fetch };
// A wrapper that narrows the URL to a string, and a test double with only text(), fit too.
const logged: FetchLike = (url: string, init?: RequestInit) => fetch(url, init);
const double: ClientHooks = { fetch: async () => ({ status: 200, headers: new Headers(), text: async () => '{"tokens":[]}' }) };
// @ts-expect-error a fetch must resolve to something with a status
const noStatus: ClientHooks = { fetch: async () => ({ headers: new Headers(), text: async () => '' }) };
// @ts-expect-error ... and with a body to read, as bytes or as text
const noBody: ClientHooks = { fetch: async () => ({ status: 200, headers: new Headers() }) };
const pinelabsConfig: PineLabsConfig = { clientId: 'id', clientSecret: 'secret' };
const key: MerchantKey = { kty: 'EC', crv: 'P-384', x: 'x', y: 'y', d: 'd' };
// A key file's other JWK members, and a store that has no session yet (null), are accepted.
const keyFile: AlliancePayConfig = { serviceCode: 'svc', merchantPrivateKey: { ...key, use: 'enc', alg: 'ECDH-ES+A256KW', key_ops: ['deriveBits'], ext: true }, session: null };
const session: AlliancePaySession = { deviceId: 'd', refreshToken: 'r', serverPublic: { kty: 'EC', crv: 'P-384', x: 'x', y: 'y' }, expiresAt: '2030-01-01T00:00:00.000Z' };
const encryption: Encryption = 'jwe';
const alliancepayConfig: AlliancePayConfig = { serviceCode: 'svc', merchantPrivateKey: key, session, encryption };
const alliancepayHooks: AlliancePayHooks = { onSessionUpdate: (s: AlliancePaySession) => void s.deviceId };
const chargeoverConfig: ChargeOverConfig = { username: 'u', password: 'p', pageSize: 50, maxPages: 10 };
const payerlyConfig: PayerlyConfig = { apiKey: 'k' };

const configs: ClientConfig[] = [
  { provider: 'pinelabs', ...pinelabsConfig, ...common, ...hooks },
  { provider: 'alliancepay', ...alliancepayConfig, ...alliancepayHooks },
  { provider: 'chargeover', baseUrl: 'https://example.chargeover.com/api/v3', ...chargeoverConfig },
  { provider: 'payerly', ...payerlyConfig },
];

// @ts-expect-error a missing required config field (Pine Labs needs clientSecret)
createClient({ provider: 'pinelabs', clientId: 'id' });
// @ts-expect-error a missing required config field (AlliancePay needs merchantPrivateKey)
createClient({ provider: 'alliancepay', serviceCode: 'svc' });
// @ts-expect-error a missing required config field (ChargeOver has no default baseUrl)
createClient({ provider: 'chargeover', username: 'u', password: 'p' });
// @ts-expect-error credentials of another provider
createClient({ provider: 'payerly', clientId: 'id', clientSecret: 'secret' });
// @ts-expect-error an unknown provider
createClient({ provider: 'stripe', apiKey: 'k' });
// @ts-expect-error an unknown environment
createClient({ provider: 'payerly', apiKey: 'k', environment: 'staging' });

export async function useEverything(): Promise<void> {
  const clients: Client[] = configs.map(createClient);
  const client = clients[0];
  const provider: Provider = client.provider;
  const caps: Capabilities = client.capabilities;
  const canDelete: boolean = caps.deleteToken && caps.listTokens && caps.pagination;

  const list: ListTokensInput = { customerId: 'cust-v1-0811030624-aa-RBDgpR' };
  const tokens: Token[] = await client.listTokens(list);
  const pages = client.iterateTokens(list);
  const first = await pages.next();
  // A finished iterator's value is nothing, not `any`.
  // @ts-expect-error void has no properties
  if (first.done) void first.value.length;
  for await (const t of client.iterateTokens(list)) {
    const status: TokenStatus = t.status;
    const method: PaymentMethod = t.paymentMethod;
    const card: Card | undefined = t.card;
    const last4: string | undefined = card?.last4;
    const brand: string | undefined = card?.brand;
    const needsCvv: boolean | undefined = card?.cvvRequired;
    const action: RequiredAction | undefined = t.requiredAction;
    void [status, method, last4, brand, needsCvv, action?.action, action?.value];
  }
  const get: GetTokenInput = { tokenId: 'token-v1-1234567890-aa-ABCDEF', customerId: list.customerId, includeRaw: true };
  const one: Token = await client.getToken(get);
  const update: UpdateTokenStatusInput = { tokenId: one.id, status: 'SUSPENDED' };
  const updated: Token = await client.updateTokenStatus(update);
  const del: DeleteTokenInput = { tokenId: updated.id, customerId: list.customerId };
  const nothing: void = await client.deleteToken(del);

  const create: CreateTokenInput = { customerId: '1', token: 'cus_5tSkoQ6mDrXOMQ', paymentMethod: 'CARD', expiryMonth: 12, expiryYear: 2030 };
  const created: Token = await clients[2].createToken(create);
  const field: QueryField = 'customer_id';
  const op: QueryOperator = 'EQUALS';
  const where: QueryCondition = { field, op, value: 1 };
  const orderField: OrderField = 'write_datetime';
  const direction: SortDirection = 'DESC';
  const order: QueryOrder = { field: orderField, direction };
  const query: TokenQuery = { where: [where], order: [order], offset: 0, limit: 10 };
  const queried: Token[] = await clients[2].queryTokens(query);

  // Every call takes options: an AbortSignal and a budget of its own.
  const controller = new AbortController();
  const options: CallOptions = { signal: controller.signal, deadlineMs: 60_000 };
  const stoppable: Token[] = await client.listTokens(list, options);
  for await (const t of client.iterateTokens(list, options)) void t;
  await client.deleteToken(del, { signal: AbortSignal.timeout(5000) });
  // @ts-expect-error options have a signal and a deadlineMs, nothing else
  await client.getToken(get, { timeoutMs: 5000 });
  // @ts-expect-error a deadlineMs is a number of milliseconds
  await client.getToken(get, { deadlineMs: '5s' });
  // @ts-expect-error a signal is an AbortSignal
  await client.listTokens(list, { signal: 'stop' });
  // Options read back are the platform's types, for a fetch of the caller's own.
  const readBack: AbortSignal | undefined = options.signal;
  const budget: number | undefined = options.deadlineMs;

  // @ts-expect-error an invalid status
  await client.updateTokenStatus({ tokenId: one.id, status: 'PAUSED' });
  // @ts-expect-error a status a token can be in but cannot be set to
  await client.updateTokenStatus({ tokenId: one.id, status: 'PENDING' });
  // @ts-expect-error ChargeOver stores cards and ACH accounts only
  await clients[2].createToken({ ...create, paymentMethod: 'UPI' });

  // A client of a literal config knows its provider, and Pine Labs' get and delete want the
  // customer they find the token under.
  const pine: Client<'pinelabs'> = createClient({ provider: 'pinelabs', ...pinelabsConfig, ...common });
  const pineName: 'pinelabs' = pine.provider;
  await pine.getToken({ tokenId: one.id, customerId: list.customerId });
  // @ts-expect-error Pine Labs needs the customerId
  await pine.getToken({ tokenId: one.id });
  // @ts-expect-error Pine Labs needs the customerId
  await pine.deleteToken({ tokenId: one.id });
  // @ts-expect-error Payerly's lookup fields are Payerly's
  await pine.getToken({ tokenId: one.id, customerId: list.customerId, email: 'a@b.c' });
  // @ts-expect-error ... and so is its raw reply
  await pine.getToken({ tokenId: one.id, customerId: list.customerId, includeRaw: true });
  const payerly = createClient({ provider: 'payerly', ...payerlyConfig });
  await payerly.getToken({ tokenId: one.id, email: 'a@b.c', includeRaw: true });
  // A client of a literal config offers only its provider's calls (the rest are UNSUPPORTED).
  // @ts-expect-error Payerly looks up one token at a time: it lists none
  await payerly.listTokens(list);
  // @ts-expect-error ... and deletes none
  await payerly.deleteToken({ tokenId: one.id });
  // @ts-expect-error status changes are AlliancePay's
  await pine.updateTokenStatus(update);
  // @ts-expect-error storing and querying are ChargeOver's
  await pine.createToken(create);
  // @ts-expect-error storing and querying are ChargeOver's
  await pine.queryTokens(query);
  const alliance = createClient({ provider: 'alliancepay', ...alliancepayConfig });
  await alliance.updateTokenStatus({ tokenId: one.id, status: 'SUSPENDED', customerId: list.customerId });
  const chargeover = createClient({ provider: 'chargeover', baseUrl: 'https://example.chargeover.com/api/v3', ...chargeoverConfig });
  await chargeover.createToken(create);
  await chargeover.queryTokens(query);
  // Each still fits where any client goes (a hub, a Client-typed variable).
  const any: Client[] = [pine, payerly, alliance, chargeover];
  void any;
  const anyOne: Client = pine;
  void [pineName, anyOne];
  // @ts-expect-error tokenId is required
  await client.getToken({ customerId: list.customerId });
  // @ts-expect-error an invalid status for canTransition
  canTransition('ACTIVE', 'ENABLED');
  // @ts-expect-error a token's fields are typed (status is not a number)
  const wrong: number = one.status;

  const allowed: SettableStatus[] = allowedTransitions('ACTIVE');
  const widened: TokenStatus[] = allowed;
  await client.updateTokenStatus({ tokenId: one.id, status: allowed[0] });
  const ok: boolean = canTransition('DELETED', 'ACTIVE');

  const hub: Hub = createHub(clients);
  const hubInput: HubListInput = { customers: { pinelabs: list.customerId, chargeover: '1', alliancepay: null } };
  const result: HubResult = await hub.listTokens(hubInput, options);
  const bounded: HubListOptions = { ...options, deadlineMs: 3000 };
  await hub.listTokens(hubInput, bounded);
  // A client's call takes a deadlineMs of its own too, in place of its config's.
  await client.listTokens(list, { deadlineMs: 3000 });
  const outcome: HubOutcome | undefined = result.outcomes.pinelabs;
  if (outcome && !outcome.ok) {
    const code: ErrorCode = outcome.error.code;
    void code;
  }
  const sorted: Token[] = [...result.tokens].sort(compareTokens);
  const sameClient: Client<'pinelabs'> = hub.client('pinelabs');
  const providers: Provider[] = hub.providers;

  try {
    await sameClient.listTokens(list);
  } catch (err) {
    if (err instanceof PayTokensError) {
      const code: ErrorCode = err.code;
      // The caller's own abort, told apart from a failure.
      const stoppedByCaller: boolean = code === 'ABORTED';
      const retryable: boolean = err.retryable;
      const status: number | undefined = err.httpStatus;
      const from: Provider | undefined = err.provider;
      const json: Record<string, unknown> = err.toJSON();
      // As a worker posts it: plain data, rebuilt on the other side.
      const rebuilt: PayTokensError = new PayTokensError(err.toJSON());
      const why: unknown = err.cause;
      // A failed write says whether its change was made: repeat it, read first, or read it back.
      const outcome: WriteOutcome | undefined = err.writeOutcome;
      const mayRepeat: boolean = outcome === 'NOT_APPLIED';
      // @ts-expect-error an invalid write outcome
      const maybe: WriteOutcome = 'MAYBE';
      // A test double can make the same error the SDK throws.
      const fields: PayTokensErrorFields = { code: 'NOT_FOUND', message: 'no such token', provider: 'payerly', retryable: false };
      const made: PayTokensError = new PayTokensError(fields);
      void made;
      // @ts-expect-error an invalid error code
      const bad: ErrorCode = 'TEAPOT';
      void [code, stoppedByCaller, retryable, status, from, json, why, bad, mayRepeat, maybe];
    }
  }
  const closed: void = client.close();
  void [provider, canDelete, tokens, nothing, created, queried, stoppable, wrong, allowed, widened, ok, sorted, providers, closed];
}
