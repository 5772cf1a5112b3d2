// One attempt of one HTTP request for src/transport.rs (its JS half, shipped as a wasm-bindgen
// snippet), in a single crossing from wasm: fetch with an abort timer, then status, the few headers
// the SDK reads, and the body's bytes. It never rejects; failures come back as { kind, detail }.
const TIMED_OUT = { kind: 'timeout', detail: 'aborted after timeout' };
const ABANDONED = { kind: 'abandoned', detail: 'nobody waits for this attempt any more' };
// A reply larger than this is refused before it reaches wasm: decoding and decrypting hold a few
// copies at once, and running out of wasm memory would end the instance for every later call.
// The largest real replies (a 5,000-token Pine Labs list) are under 10 MiB.
const MAX_REPLY_BYTES = 32 * 1024 * 1024;
const UNUSABLE = { kind: 'network', detail: 'fetch did not resolve to a Response' };
const TOO_LARGE = { kind: 'unread', detail: `the reply is larger than ${MAX_REPLY_BYTES / 1048576} MiB` };
// Failures that come before any connection (refused, or a host name that does not resolve): the
// request never reached the provider, so even a write is safe to send again.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
// A failed fetch without an error code: a page is told nothing more, and CORS or a
// Content-Security-Policy is as likely as the network. Node has neither.
const WHY_UNSENT = typeof process === 'object' && process.versions?.node
  ? 'network, TLS, or a URL fetch refuses, such as a blocked port'
  : 'network, TLS, CORS, or a Content-Security-Policy without the host in connect-src';

// The body's bytes, or undefined once they pass MAX_REPLY_BYTES. Read as a stream so that the cap
// holds while reading: a reply without Content-Length, or a compressed one (whose length says
// nothing of what it inflates to), is never held whole before it is refused. `reading` gets the
// reader, so that a timeout or an abandoned attempt stops a fetch that ignores its signal too.
async function cappedBytes(body, reading) {
  const reader = body.getReader();
  reading(reader);
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // Anything but bytes (a custom fetch's stream of strings) is a body that cannot be read.
    if (!ArrayBuffer.isView(value)) throw new UnreadableBody('the reply body is not a stream of bytes (a fetch wrapper must hand back bytes)');
    total += value.byteLength;
    if (total > MAX_REPLY_BYTES) {
      reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  // A view made here, not the stream's own chunk: wasm reads it with an instanceof check, which
  // a chunk from another realm (a fetch from another frame, jsdom) would fail.
  if (chunks.length === 1) return new Uint8Array(chunks[0].buffer, chunks[0].byteOffset, chunks[0].byteLength);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), at);
    at += chunk.byteLength;
  }
  return bytes;
}

// A body that cannot be read for what the caller's fetch did to it, not for the network: said so.
class UnreadableBody extends Error {}

// `heard`: the reply's status and the headers read, once they are in. A failure after them carries
// both: a 4xx or 5xx says what the provider did even when its body never arrives whole.
function failure(error, timedOut, heard) {
  if (timedOut) return heard === undefined ? TIMED_OUT : { ...TIMED_OUT, ...heard };
  if (error instanceof UnreadableBody) return { kind: 'unread', detail: error.message, ...heard };
  if (heard !== undefined) return { kind: 'truncated', detail: 'body cut off', ...heard };
  const code = error?.cause?.code;
  if (NOT_SENT.has(code)) return { kind: 'refused', detail: `connection failed (${code})` };
  return { kind: 'network', detail: code ? `connection failed (${code})` : `the request failed (${WHY_UNSENT})${thrownText(error)}` };
}

// What was thrown, in a line: a custom fetch's own bug (a TypeError in a wrapper) must be told
// apart from the network. The core redacts the config's secrets from it, as from any message, and
// finds only whole ones: the line is cut only past what a credential can span (Pine Labs' access
// token is up to 8,192 characters), so none is cut in two with its start shown.
const THROWN_LINE_MAX = 16_384;
function thrownText(error) {
  try {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const line = text.split('\n', 1)[0];
    return line ? `: ${line.length > THROWN_LINE_MAX ? `${line.slice(0, THROWN_LINE_MAX)}…` : line}` : '';
  } catch {
    return ''; // a value whose String() throws says nothing more
  }
}

export function sendAttempt(fetchFn, url, method, headerPairs, body, timeoutMs, readHeaders) {
  const controller = new AbortController();
  let timedOut = false;
  let heard; // { status, headers } once the headers are in: a fault after them says what they were
  // One promise, settled by whichever comes first: the reply, the timeout with its fault, or
  // abandonment with a result nobody reads. It settles even when a caller's fetch ignores the
  // signal, so no call can hang.
  let settle;
  const settled = new Promise((resolve) => { settle = resolve; });
  let reader; // the body's, once it is being read
  const end = (outcome) => {
    timedOut = true;
    controller.abort();
    reader?.cancel().catch(() => {});
    done(outcome);
  };
  const timer = setTimeout(() => end(failure(undefined, true, heard)), timeoutMs);
  const headers = {};
  for (let i = 0; i + 1 < headerPairs.length; i += 2) headers[headerPairs[i]] = headerPairs[i + 1];
  // no-store: token data is never served from, or kept in, an HTTP cache.
  // manual: a redirect is never followed. Following one would resend the body (a client secret)
  // and headers (AlliancePay's refresh token) to wherever it points, over http too, and turn a
  // POST into a GET whose reply would be read as the write's result.
  const init = { method, headers, signal: controller.signal, cache: 'no-store', redirect: 'manual' };
  if (body !== undefined) init.body = body;
  (async () => {
    let response;
    try {
      response = await fetchFn(url, init);
    } catch (error) {
      return failure(error, timedOut);
    }
    const bytes = typeof response?.arrayBuffer === 'function';
    if (!response || !(bytes || typeof response.text === 'function') || !response.headers) {
      return UNUSABLE;
    }
    // Browsers show a manual redirect as an opaque response with status 0; Node shows the 3xx.
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      response.body?.cancel?.().catch(() => {});
      const where = response.headers.get('location') ? ' to another address' : '';
      // A browser hides where an opaque redirect leads, and its status.
      if (response.status < 300) return { kind: 'redirect', detail: 'where to is hidden from the page' };
      return { kind: 'redirect', detail: `HTTP ${response.status}${where}`, status: response.status };
    }
    // No HTTP status (`Response.error()`, whose status is 0, or a test double's '200' as text):
    // what became of the request is not known, as after a failed fetch. Never "HTTP 0".
    if (!(Number.isInteger(response.status) && response.status >= 100 && response.status <= 599)) {
      response.body?.cancel?.().catch(() => {});
      const shown = typeof response.status === 'string' ? `'${response.status.slice(0, 20)}', text` : String(response.status);
      return { kind: 'network', detail: `fetch resolved to a Response without an HTTP status (${shown})` };
    }
    // A caller's fetch that followed one anyway (it dropped `redirect`): the reply is another
    // server's, and must not be read as the provider's answer.
    if (response.redirected === true) {
      response.body?.cancel?.().catch(() => {});
      return { kind: 'followed_redirect', detail: `HTTP ${response.status} where it led` };
    }
    const headers = readHeaders.map((name) => response.headers.get(name));
    heard = { status: response.status, headers };
    const reply = [response.status, ...headers];
    if (Number(response.headers.get('content-length')) > MAX_REPLY_BYTES) {
      response.body?.cancel?.().catch(() => {});
      return { ...TOO_LARGE, ...heard };
    }
    try {
      // Bytes, not text(): wasm reads UTF-8, so a string would be decoded here only to be
      // encoded again on its way in. A test double with only text() still works.
      let body;
      // The stream when it is there to read; a body already used or locked (a wrapper that read it
      // for a log) goes through the Response's own methods, as before streams were read here.
      const stream = response.body;
      if (typeof stream?.getReader === 'function' && response.bodyUsed !== true && stream.locked !== true) {
        body = await cappedBytes(stream, (r) => { reader = r; });
      } else if (response.bodyUsed === true) {
        throw new UnreadableBody('the reply body was already read (a fetch wrapper that reads it must hand back a clone)');
      } else {
        body = bytes ? new Uint8Array(await response.arrayBuffer()) : String(await response.text());
      }
      if (body === undefined || body.length > MAX_REPLY_BYTES) return { ...TOO_LARGE, ...heard };
      reply.push(body);
    } catch (error) {
      return failure(error, timedOut, heard);
    }
    return reply;
  })().then(done, () => done(UNUSABLE)); // a Response double whose getters throw
  function done(outcome) {
    clearTimeout(timer);
    settle(outcome);
  }
  // Called by the Rust side when nobody waits for this attempt any more (its call was aborted, or
  // every caller gave up on a sign-in): the request stops now rather than at its timeout, and the
  // promise settles now too, even if a caller's fetch ignores the signal.
  settled.abandon = () => end(ABANDONED);
  return settled;
}
