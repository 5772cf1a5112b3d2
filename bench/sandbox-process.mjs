// Runs the sandbox in its own process, so the benchmark process measures only the client side
// (its CPU, RSS and wasm memory), and the two sides use both cores.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import credentials from '../sandbox/credentials.js';

export async function startSandboxProcess() {
  const child = spawn(process.execPath, [new URL('../sandbox/cli.js', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  for await (const chunk of child.stdout) {
    buffered += chunk;
    if (buffered.includes('\n')) break;
  }
  const info = JSON.parse(buffered.split('\n')[0]);
  return {
    ...info,
    credentials,
    async close() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
