// Node CommonJS consumer: `require` from the installed package (the "require" condition, node.cjs),
// list the Pine Labs documentation customer, and check `import` hands back the same module
// (one PayTokensError class, no dual-package hazard). Prints one JSON line.
const { createClient, PayTokensError } = require('paytokens');

(async () => {
  const sbx = JSON.parse(process.env.PAYTOKENS_SANDBOX);
  const client = createClient({ provider: 'pinelabs', clientId: sbx.clientId, clientSecret: sbx.clientSecret, baseUrl: sbx.baseUrl });
  const tokens = await client.listTokens({ customerId: sbx.customerId });
  const esm = await import('paytokens');
  console.log(JSON.stringify({
    tokens: tokens.map((t) => ({ id: t.id, status: t.status, last4: t.card?.last4 })),
    sameErrorClass: esm.PayTokensError === PayTokensError,
    sameCreateClient: esm.createClient === createClient,
    resolved: require.resolve('paytokens').replace(/\\/g, '/').split('/node_modules/').pop(),
  }));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
