// `npm run demo`: the sandbox and the demo page on 127.0.0.1 until Ctrl-C.
import { startDemo } from './demo-server.mjs';

const fixed = process.env.PORT !== undefined;
const port = Number(process.env.PORT || 8787);
let demo;
try {
  demo = await startDemo({ port });
} catch (err) {
  if (err.code !== 'EADDRINUSE' || fixed) {
    console.error(`paytokens demo: cannot listen on 127.0.0.1:${port} (${err.code ?? err.message})${fixed ? '; choose another PORT' : ''}`);
    process.exit(1);
  }
  // The default port is taken (another demo?): any free port will do.
  console.log(`port ${port} is busy; using a free one.`);
  demo = await startDemo({ port: 0 });
}
console.log(`paytokens demo: ${demo.pageUrl}`);
console.log(`sandbox:        ${demo.sandbox.url}   (CLI: node pkg/cli.js list --sandbox ${demo.sandbox.url} -p pinelabs -c cust-v1-statuses)`);
console.log('Ctrl-C to stop.');
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await demo.close();
    console.log('stopped.');
    process.exit(0);
  });
}
