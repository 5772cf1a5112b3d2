// A project with neither the DOM lib nor @types/node (lib es2022 only, skipLibCheck off): the
// package's declarations must not need either.
import { createClient, canTransition, PayTokensError, type ClientConfig, type Token } from 'paytokens';

const config: ClientConfig = { provider: 'pinelabs', clientId: 'id', clientSecret: 'secret' };
const client = createClient(config);

export async function suspendableCard(customerId: string): Promise<string | undefined> {
  const tokens: Token[] = await client.listTokens({ customerId });
  return tokens.find((t) => canTransition(t.status, 'SUSPENDED'))?.card?.last4;
}

export const notFound = (e: unknown): boolean => e instanceof PayTokensError && e.code === 'NOT_FOUND';

// @ts-expect-error a missing required config field
createClient({ provider: 'payerly' });

// Without an AbortSignal type in the project, a signal is still one in shape.
const signal = { aborted: false, addEventListener: (_type: 'abort', _listener: () => void) => {}, removeEventListener: (_type: 'abort', _listener: () => void) => {} };
void client.listTokens({ customerId: 'c' }, { signal });
// @ts-expect-error a string is no signal
void client.listTokens({ customerId: 'c' }, { signal: 'oops' });
