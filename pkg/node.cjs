'use strict';
// CommonJS entry (the "require" export condition). paytokens is an ES module; node.js has no
// top-level await, so Node >= 20.19 / >= 22.12 can require() it and this hands back the very module
// instance `import` gets (one PayTokensError class). Where that require() cannot load an ES module
// (older Node, --no-experimental-require-module, Jest's own module loader) the error says what to do.
try {
  module.exports = require('./node.js');
} catch (err) {
  if (err && err.code === 'ERR_REQUIRE_ESM') {
    const [major, minor] = process.versions.node.split('.').map(Number);
    const oldNode = major < 20 || (major === 20 && minor < 19) || major === 21 || (major === 22 && minor < 12);
    // A new enough Node still fails here under a loader of its own (Jest's), or with the flag off:
    // blaming the version would send people to upgrade a Node that is not the problem.
    const why = oldNode
      ? `require() of it needs Node >= 20.19 or >= 22.12, and this is Node ${process.versions.node}.`
      : "This runtime's require() cannot load ES modules (Jest's module loader, or Node with " +
        '--no-experimental-require-module); under Jest, import it from an ES module test run with ' +
        'NODE_OPTIONS=--experimental-vm-modules.';
    throw new Error(`paytokens is an ES module: use \`import\` or \`await import('paytokens')\`. ${why}`, { cause: err });
  }
  throw err;
}
