'use strict';
// CommonJS entry (the "require" export condition). paytokens is an ES module; node.js has no
// top-level await, so Node >= 20.19 / >= 22.12 can require() it and this hands back the very module
// instance `import` gets (one PayTokensError class). Where Node cannot require an ES module (older
// Node, or --no-experimental-require-module) the error says what to do instead.
try {
  module.exports = require('./node.js');
} catch (err) {
  if (err && err.code === 'ERR_REQUIRE_ESM') {
    throw new Error(
      "paytokens is an ES module: use `import` or `await import('paytokens')` " +
        '(require() of it needs Node >= 20.19 or >= 22.12)',
      { cause: err },
    );
  }
  throw err;
}
