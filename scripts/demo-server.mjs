// Serves the demo page and the built package on 127.0.0.1, next to a running sandbox.
// Used by `npm run demo` and by the browser tests.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { root } from './lib.mjs';
import { startSandbox, isLocalHost } from '../sandbox/server.js';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };
const SERVED = ['www', 'pkg'];

export async function startDemo({ port = 0, sandboxPort = 0 } = {}) {
  const sandbox = await startSandbox({ port: sandboxPort });
  const server = http.createServer(async (req, res) => {
    // Only this machine's own names: a page on another site that points its host name at
    // 127.0.0.1 (DNS rebinding) gets nothing.
    if (!isLocalHost(req.headers.host)) {
      res.writeHead(421, { 'content-type': 'text/plain' }).end('unknown host');
      return;
    }
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/') {
      res.writeHead(302, { location: '/www/index.html' }).end();
      return;
    }
    if (url.pathname === '/demo-config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ sandboxUrl: sandbox.url, baseUrls: sandbox.baseUrls }));
      return;
    }
    let decoded;
    try {
      decoded = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400).end('bad path');
      return;
    }
    const file = path.normalize(path.join(root, decoded));
    const top = path.relative(root, file).split(path.sep)[0];
    if (!file.startsWith(root + path.sep) || !SERVED.includes(top)) {
      res.writeHead(404).end('not found');
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // Port taken (or similar): don't leave the sandbox running behind a failed start.
    await sandbox.close();
    throw err;
  }
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    pageUrl: `${url}/www/index.html`,
    sandbox,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await sandbox.close();
    },
  };
}
