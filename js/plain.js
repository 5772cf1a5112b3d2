// Config and call arguments cross into wasm as JSON text (src/js.rs `from_js`). JSON.stringify
// writes NaN and ±Infinity as null, which would read as "not given" and quietly become a default.
// As a small object they fit no field (a string would pass where text is allowed), so they are
// refused as the wrong type and the field is named.
const keepNonFinite = (key, value) => (typeof value === 'number' && !Number.isFinite(value) ? { nonFinite: String(value) } : value);

// Anything but an object (arrays too) gives undefined, which the core refuses as such. Checked
// here, inside the core's catch: `Array.isArray` throws for a revoked Proxy, and an exception
// from an import without one would unwind through the wasm, leaving its client borrowed.
export function plainJson(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return JSON.stringify(value, keepNonFinite);
}
