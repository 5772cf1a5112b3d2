// `npm run demo`: the sandbox and the demo page on 127.0.0.1 until Ctrl-C.
import { startDemo } from './demo-server.mjs';

const port = Number(process.env.PORT || 8787);
const demo = await startDemo({ port });
console.log(`paytokens demo: ${demo.pageUrl}`);
console.log(`sandbox:        ${demo.sandbox.url}`);
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
