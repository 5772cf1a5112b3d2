// Config and call arguments cross into wasm as JSON text (src/js.rs `from_js`). JSON.stringify
// writes NaN and ±Infinity as null, which would read as "not given" and quietly become a default.
// As a small object they fit no field (a string would pass where text is allowed), so they are
// refused as the wrong type and the field is named.
const keepNonFinite = (key, value) => (typeof value === 'number' && !Number.isFinite(value) ? { nonFinite: String(value) } : value);

export function plainJson(value) {
  return JSON.stringify(value, keepNonFinite);
}
