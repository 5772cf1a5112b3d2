// A CommonJS TypeScript consumer (module nodenext): `import x = require()` of the ES module
// package type-checks, matching Node's require(esm) (see node.cjs).
import paytokens = require('paytokens');

const client: paytokens.Client = paytokens.createClient({ provider: 'payerly', apiKey: 'k' });
// @ts-expect-error an invalid status
paytokens.canTransition('ACTIVE', 'PAUSED');
export = client;
