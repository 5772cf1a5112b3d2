// Small helpers shared by the provider modules. Handlers return plain response objects
// ({ status, headers, body }) instead of writing to the socket, so the fault layer can
// mangle a finished reply (truncate it, delay it) without each provider knowing.

export function json(status, value, headers = {}) {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value),
  };
}

// undefined means "not JSON"; callers decide which provider error that is.
export function parseJson(body) {
  if (body == null || body === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

export function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// null marks a segment that is not valid percent-encoding, so routes can answer 400
// instead of crashing on decodeURIComponent.
export function splitPath(path) {
  return path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return null;
      }
    });
}

export function bearerToken(headers) {
  const m = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  return m ? m[1].trim() : null;
}

export function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
