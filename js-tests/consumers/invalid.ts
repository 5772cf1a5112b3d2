// Negative control: without @ts-expect-error these must fail to compile (the suite expects
// exactly these errors), so a package whose types resolve to `any` cannot pass.
import { createClient, type Client } from 'paytokens';

createClient({ provider: 'pinelabs', clientId: 'id' });
(createClient({ provider: 'payerly', apiKey: 'k' }) as Client).updateTokenStatus({ tokenId: 't', status: 'PAUSED' });
const typo = createClient({ provider: 'pinelabs', clientId: 'id', clientSecret: 's', timeoutMS: 5 });
// One error, at the config: the client is still a Pine Labs client, not `never` at every use.
void typo.listTokens({ customerId: 'c' });
