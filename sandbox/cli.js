#!/usr/bin/env node
// `node sandbox/cli.js [--port N]`: prints {"url","baseUrls"} as one JSON line, so a parent
// process can read where the sandbox listens, then runs until SIGINT/SIGTERM.
import { startSandbox } from './server.js';

function argValue(name) {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

const portArg = argValue('--port');
const port = portArg === undefined ? 0 : Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid --port ${portArg}`);
  process.exit(2);
}

const sandbox = await startSandbox({ port });
process.stdout.write(`${JSON.stringify({ url: sandbox.url, baseUrls: sandbox.baseUrls })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await sandbox.close();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
