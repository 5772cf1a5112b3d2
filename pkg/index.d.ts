// The package's public types. The data shapes are generated from the Rust model by tsify
// (wasm/types.d.ts, cut from wasm/paytokens.d.ts at build); this file adds the client, the config union and the error class.
import type {
  AlliancePayConfig, AlliancePaySession, Capabilities, ChargeOverConfig, CommonOptions, CreateTokenInput,
  DeleteTokenInput, ErrorCode, GetTokenInput, ListTokensInput, PayerlyConfig, PineLabsConfig, Provider,
  Token, TokenQuery, TokenStatus, UpdateTokenStatusInput,
} from './wasm/types.js';

export type {
  AlliancePayConfig, AlliancePaySession, Capabilities, Card, ChargeOverConfig, CommonOptions, CreateTokenInput,
  DeleteTokenInput, Encryption, Environment, ErrorCode, GetTokenInput, ListTokensInput, MerchantKey, OrderField,
  PayerlyConfig, PaymentMethod, PineLabsConfig, Provider, QueryCondition, QueryField, QueryOperator, QueryOrder,
  RequiredAction, SortDirection, Token, TokenQuery, TokenStatus, UpdateTokenStatusInput,
} from './wasm/types.js';

/** The platform's `AbortSignal` where the project has one (lib "dom" or @types/node): the
 * package's types need no particular lib. Without either, the shape the SDK checks at run time. */
type Signal = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
};

/** What the SDK passes a `fetch` and reads from its reply: the platform's `fetch` fits, and so
 * does a wrapper of it or a test double that has only `text()`. The body is read from `body` as a
 * stream of bytes when it has an unused one (so the 32 MiB cap holds while reading), otherwise
 * through `arrayBuffer()` or `text()`. */
export type FetchLike = (
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: string;
    signal: Signal;
    cache: 'no-store';
    redirect: 'manual';
  },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  type?: string | undefined;
  body?: unknown;
} & ({ arrayBuffer(): Promise<ArrayBuffer> } | { text(): Promise<string> })>;

/** Functions a config may carry; they stay in JS. */
export interface ClientHooks {
  /** Used instead of the global `fetch` (a proxy, instrumentation, a test double). */
  fetch?: FetchLike | undefined;
}

export interface AlliancePayHooks extends ClientHooks {
  /**
   * Called with each newly opened session, so a backend can persist it and pass it back as `session`.
   * A throw or rejection from it is ignored (the call that opened the session goes on): a store
   * that fails must report that itself.
   */
  onSessionUpdate?: ((session: AlliancePaySession & { issuedFor: string }) => void) | undefined;
}

export type ClientConfig =
  | ({ provider: 'pinelabs' } & PineLabsConfig & CommonOptions & ClientHooks)
  | ({ provider: 'alliancepay' } & AlliancePayConfig & CommonOptions & AlliancePayHooks)
  | ({ provider: 'chargeover'; /** Your instance's API, e.g. https://<instance>.chargeover.com/api/v3: there is no default. */ baseUrl: string } & ChargeOverConfig & CommonOptions & ClientHooks)
  | ({ provider: 'payerly' } & PayerlyConfig & CommonOptions & ClientHooks);

/** What every call takes besides its input. */
export interface CallOptions {
  /**
   * Stops the call: a request in flight is aborted (a sign-in another call shares goes on for
   * that call), a wait before a retry ends, and the call rejects with `ABORTED` (the signal's
   * `reason` as `cause`). A write stopped after its change was sent may still have been applied,
   * and its message says so and what to read to know.
   */
  signal?: Signal | undefined;
  /**
   * This call's budget, in place of the config's `deadlineMs` (a longer one for a batch job, a
   * shorter one for a page a person waits on): 1–2147483647 ms for everything the call does,
   * retries, waits and pages included. A sign-in this call starts runs on this budget too; one
   * it joins runs on the budget of the call that started it, and this call stops waiting for it
   * when its own ends. Should that sign-in reach its deadline first, a call with time left signs
   * in on its own.
   */
  deadlineMs?: number | undefined;
}

/** Pine Labs finds a token under its customer: its get and delete need the `customerId`. */
type WithCustomerAt<P extends Provider, Input> = P extends 'pinelabs' ? Input & { customerId: string } : Input;
/** Payerly's lookup narrowers and `includeRaw`, which the other providers refuse. */
type PayerlyOnly = 'accountId' | 'phone' | 'email' | 'includeRaw';
type GetTokenInputAt<P extends Provider> = P extends 'payerly'
  ? GetTokenInput
  : WithCustomerAt<P, Omit<GetTokenInput, PayerlyOnly> & { includeRaw?: false | undefined }>;
/** The statuses `updateTokenStatus` can set (AlliancePay). */
export type SettableStatus = UpdateTokenStatusInput['status'];

/**
 * A call's input where provider `P` offers the call (its `capabilities`), else `never`: a client
 * of a literal config cannot make a call its provider refuses with UNSUPPORTED. For `Client`
 * alone (any provider) every call type-checks, and the provider decides at run time. Code generic
 * over `P` cannot know what `P` offers: type such a helper's client as `Client`.
 */
type OfferedBy<P extends Provider, Offering extends Provider, Input> = P extends Offering ? Input : never;

/** A client for provider `P` (`Client` alone: a client for any provider). */
export interface Client<P extends Provider = Provider> {
  readonly provider: P;
  readonly capabilities: Capabilities;
  /** Every token of a customer (all pages). Not Payerly, which looks up one token at a time. */
  listTokens(input: OfferedBy<P, Exclude<Provider, 'payerly'>, ListTokensInput>, options?: CallOptions): Promise<Token[]>;
  /**
   * The customer's tokens as pages arrive. `deadlineMs` bounds the SDK's own time over the whole
   * listing, every page together: the time from each `next()` until it settles, summed. The
   * caller's own time between pages (the loop's work on the tokens) does not count.
   */
  iterateTokens(input: OfferedBy<P, Exclude<Provider, 'payerly'>, ListTokensInput>, options?: CallOptions): AsyncGenerator<Token, void, undefined>;
  getToken(input: GetTokenInputAt<P>, options?: CallOptions): Promise<Token>;
  /**
   * AlliancePay: checks the transition rules first, and a `customerId` given scopes the change
   * (another customer's token is INVALID_INPUT and stays); resolves to the token after the change.
   */
  updateTokenStatus(input: OfferedBy<P, 'alliancepay', UpdateTokenStatusInput>, options?: CallOptions): Promise<Token>;
  /** Not Payerly, which has no delete. */
  deleteToken(input: OfferedBy<P, Exclude<Provider, 'payerly'>, WithCustomerAt<P, DeleteTokenInput>>, options?: CallOptions): Promise<void>;
  /** ChargeOver: store a token that already exists at a gateway (never card numbers). */
  createToken(input: OfferedBy<P, 'chargeover', CreateTokenInput>, options?: CallOptions): Promise<Token>;
  /** ChargeOver: one page of a `where`/`order`/`offset`/`limit` query. */
  queryTokens(query: OfferedBy<P, 'chargeover', TokenQuery>, options?: CallOptions): Promise<Token[]>;
  /**
   * Ends the client and frees its memory now rather than at garbage collection. Calls in flight
   * run to their end, and the credentials the client holds are wiped once the last has ended.
   * Later calls, and `capabilities`, reject or throw `ABORTED` without sending anything. Calling
   * it again does nothing.
   */
  close(): void;
}

type ConfigOf<P extends Provider> = Extract<ClientConfig, { provider: P }>;

/**
 * A client for the config's provider; a config typed as the whole `ClientConfig` gives a `Client`.
 * One generic signature, not one overload per provider: a config that fits none (a misspelt
 * option) is then one error, at the config, rather than a client typed `never` at every use.
 */
export declare function createClient<P extends Provider>(config: { provider: P } & ConfigOf<P>): Client<P>;

/**
 * What a failed write (`createToken`, `updateTokenStatus`, `deleteToken`) left at the provider:
 * - `NOT_APPLIED`: nothing was changed (refused input, a 4xx, a throttle, nothing sent, an abort
 *   while every attempt sent had been refused so); once the cause is fixed, or after
 *   `retryAfterMs` when `retryable`, the call may be repeated.
 * - `UNKNOWN`: the change may have been applied (a timeout, a lost connection, a 5xx, a 2xx whose
 *   confirmation cannot be read, an abort after sending): read the token, or after `createToken`
 *   list the customer's tokens, before repeating it.
 * - `APPLIED`: the change was made, and reading the token back failed, or gave another status
 *   than the one the provider confirmed (`tokenId` names the token), or a ChargeOver record under
 *   another customer (no `tokenId`: list the customer's tokens).
 */
export type WriteOutcome = 'APPLIED' | 'NOT_APPLIED' | 'UNKNOWN';

/** The fields a `PayTokensError` is made from (for test doubles of a client or a hub). */
export interface PayTokensErrorFields {
  code: ErrorCode;
  message: string;
  provider?: Provider | undefined;
  httpStatus?: number | undefined;
  providerCode?: string | undefined;
  requestId?: string | undefined;
  retryable?: boolean | undefined;
  retryAfterMs?: number | undefined;
  tokenId?: string | undefined;
  writeOutcome?: WriteOutcome | undefined;
}

export declare class PayTokensError extends Error {
  constructor(fields: PayTokensErrorFields);
  readonly name: 'PayTokensError';
  readonly code: ErrorCode;
  readonly provider?: Provider;
  readonly httpStatus?: number;
  readonly providerCode?: string;
  readonly requestId?: string;
  readonly retryable: boolean;
  /** How long the provider asked to wait (its Retry-After), when the SDK did not wait itself. */
  readonly retryAfterMs?: number;
  /**
   * The token a write made or changed, when the write went through and only reading it back
   * failed (`PROVIDER_ERROR`, not retryable) or was aborted (`ABORTED`): read this token rather
   * than repeat the write.
   */
  readonly tokenId?: string;
  /** On every failure of a write, and on no other: whether its change was made (`WriteOutcome`). */
  readonly writeOutcome?: WriteOutcome;
  /** For `ABORTED`, the signal's `reason`; for an error the SDK did not make itself, what was thrown. */
  readonly cause?: unknown;
  /** Its fields as plain data (for a worker's `postMessage`): `new PayTokensError(json)` rebuilds it. */
  toJSON(): { [K in keyof PayTokensErrorFields]: PayTokensErrorFields[K] } & { name: 'PayTokensError' };
}

/** Whether a token may move between two statuses (ACTIVE↔SUSPENDED, either → DELETED; DELETED is final). */
export declare function canTransition(from: TokenStatus, to: TokenStatus): boolean;
/** The statuses a token may be moved to from `from`. */
export declare function allowedTransitions(from: TokenStatus): SettableStatus[];

/** How one provider fared in a cross-provider listing. */
export type HubOutcome =
  | { ok: true; customerId: string; count: number }
  | { ok: false; customerId: string; error: PayTokensError };

export interface HubListInput {
  /**
   * One customer id per provider, e.g. `{ pinelabs: "cust-…", chargeover: "1000" }`. A provider
   * whose id is `undefined`, `null` or `""` is not asked (it has no entry in `outcomes`).
   */
  customers: { [P in Provider]?: string | null | undefined };
}

export interface HubListOptions extends CallOptions {
  /**
   * How long the listing waits for the providers, in ms (1–2147483647). A provider whose listing
   * has not ended by then is a `TIMEOUT` outcome (its call is aborted), and the others' tokens are
   * returned. Without it, the listing waits as long as its slowest client (its own `deadlineMs`,
   * retries and `Retry-After` waits). A client's own `deadlineMs` says why a provider was slow
   * (a throttle comes back as `RATE_LIMITED` with `retryAfterMs`); this one is the backstop.
   */
  deadlineMs?: number | undefined;
}

export interface HubResult {
  /**
   * Every provider's tokens, each tagged with its `provider`, sorted: status (ACTIVE, SUSPENDED,
   * PENDING, EXPIRED, FAILED, UNKNOWN, DELETED), then `expiresAt` soonest first (unknown last),
   * then provider, then id (ids of digits by number, ahead of other ids).
   */
  tokens: Token[];
  /** One entry per provider asked; a failed provider never hides the others' tokens. */
  outcomes: Partial<Record<Provider, HubOutcome>>;
}

export interface Hub {
  readonly providers: Provider[];
  /** The client for one provider (throws INVALID_INPUT when the hub has none). */
  client<P extends Provider>(provider: P): Client<P>;
  /**
   * Lists each customer at its provider, concurrently. Rejects only on malformed input or
   * options, or with `ABORTED` when `options.signal` stopped the listing (the hub's own, with no
   * `provider`). A provider's failure, whatever it rejected with, is in its `outcomes` entry.
   */
  listTokens(input: HubListInput, options?: HubListOptions): Promise<HubResult>;
}

/**
 * One view over several providers' clients (at most one client per provider).
 * @throws {PayTokensError} `INVALID_INPUT` for an empty array.
 * @throws {PayTokensError} `INVALID_INPUT` for two clients of one provider.
 * @throws {PayTokensError} `INVALID_INPUT` for an entry that is not a client from `createClient`.
 */
export declare function createHub(clients: readonly Client[]): Hub;
/** The order `Hub.listTokens` sorts tokens in (for merging further results the same way). */
export declare function compareTokens(a: Token, b: Token): number;
