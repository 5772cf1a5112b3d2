// Node ESM consumer: `import` from the installed package, list the Pine Labs documentation
// customer at the sandbox (PAYTOKENS_SANDBOX), print one JSON line for the suite to check.
import * as paytokens from 'paytokens';
import { createClient, PayTokensError, canTransition } from 'paytokens';

const sbx = JSON.parse(process.env.PAYTOKENS_SANDBOX);
const client = createClient({ provider: 'pinelabs', clientId: sbx.clientId, clientSecret: sbx.clientSecret, baseUrl: sbx.baseUrl });
const tokens = await client.listTokens({ customerId: sbx.customerId });

let invalid;
try {
  createClient({ provider: 'pinelabs', clientId: sbx.clientId });
} catch (err) {
  invalid = { isPayTokensError: err instanceof PayTokensError, code: err.code };
}

console.log(JSON.stringify({
  exports: Object.keys(paytokens).sort(),
  tokens: tokens.map((t) => ({ id: t.id, status: t.status, last4: t.card?.last4 })),
  invalid,
  deletedToActive: canTransition('DELETED', 'ACTIVE'),
}));
