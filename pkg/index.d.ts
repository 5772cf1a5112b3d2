// The package's public types. The data shapes are generated from the Rust model by tsify
// (wasm/paytokens.d.ts); this file adds the client, the config union and the error class.
import type {
  AlliancePayConfig, AlliancePaySession, Capabilities, ChargeOverConfig, CommonOptions, CreateTokenInput,
  DeleteTokenInput, ErrorCode, GetTokenInput, ListTokensInput, PayerlyConfig, PineLabsConfig, Provider,
  Token, TokenQuery, TokenStatus, UpdateTokenStatusInput,
} from './wasm/paytokens.js';

export type {
  AlliancePayConfig, AlliancePaySession, Capabilities, Card, ChargeOverConfig, CommonOptions, CreateTokenInput,
  DeleteTokenInput, Encryption, Environment, ErrorCode, GetTokenInput, ListTokensInput, MerchantKey, OrderField,
  PayerlyConfig, PaymentMethod, PineLabsConfig, Provider, QueryCondition, QueryField, QueryOperator, QueryOrder,
  SortDirection, Token, TokenPage, TokenQuery, TokenStatus, UpdateTokenStatusInput,
} from './wasm/paytokens.js';

/** Functions a config may carry; they stay in JS. */
export interface ClientHooks {
  /** Used instead of the global `fetch` (a proxy, instrumentation, a test double). */
  fetch?: typeof globalThis.fetch;
}

export interface AlliancePayHooks extends ClientHooks {
  /** Called with each newly opened session, so a backend can persist it and pass it back as `session`. */
  onSessionUpdate?: (session: AlliancePaySession) => void;
}

export type ClientConfig =
  | ({ provider: 'pinelabs' } & PineLabsConfig & CommonOptions & ClientHooks)
  | ({ provider: 'alliancepay' } & AlliancePayConfig & CommonOptions & AlliancePayHooks)
  | ({ provider: 'chargeover' } & ChargeOverConfig & CommonOptions & ClientHooks)
  | ({ provider: 'payerly' } & PayerlyConfig & CommonOptions & ClientHooks);

export interface Client {
  readonly provider: Provider;
  readonly capabilities: Capabilities;
  /** Every token of a customer (all pages). */
  listTokens(input: ListTokensInput): Promise<Token[]>;
  /** The customer's tokens as pages arrive. */
  iterateTokens(input: ListTokensInput): AsyncIterableIterator<Token>;
  getToken(input: GetTokenInput): Promise<Token>;
  /** Checks the transition rules first; resolves to the token after the change. */
  updateTokenStatus(input: UpdateTokenStatusInput): Promise<Token>;
  deleteToken(input: DeleteTokenInput): Promise<void>;
  /** ChargeOver: store a token that already exists at a gateway (never card numbers). */
  createToken(input: CreateTokenInput): Promise<Token>;
  /** ChargeOver: one page of a `where`/`order`/`offset`/`limit` query. */
  queryTokens(query: TokenQuery): Promise<Token[]>;
}

export declare function createClient(config: ClientConfig): Client;

export declare class PayTokensError extends Error {
  readonly name: 'PayTokensError';
  readonly code: ErrorCode;
  readonly provider?: Provider;
  readonly httpStatus?: number;
  readonly providerCode?: string;
  readonly requestId?: string;
  readonly retryable: boolean;
  toJSON(): Record<string, unknown>;
}

/** Whether a token may move between two statuses (ACTIVE↔SUSPENDED, either → DELETED; DELETED is final). */
export declare function canTransition(from: TokenStatus, to: TokenStatus): boolean;
/** The statuses a token may be moved to from `from`. */
export declare function allowedTransitions(from: TokenStatus): TokenStatus[];
