// Config and call arguments cross into wasm as JSON text (src/js.rs `from_js`). JSON.stringify
// drops or blanks values it cannot write: NaN and ±Infinity become null; a symbol, a function or
// a `toJSON()` that returns undefined vanish; an invalid Date becomes null; a Map, Set or RegExp
// becomes {}. Each would read as "not given" and quietly become a default (a `where` given as a
// function would list every customer's tokens). As a small object they fit no field (a string
// would pass where text is allowed), so the core refuses them as the wrong type and names the field.
const TAG = Object.prototype.toString;
// What JSON.stringify writes as the caller sees it (boxed primitives as their values).
const DATA = new Set(['[object Object]', '[object Array]', '[object String]', '[object Number]', '[object Boolean]']);

function keepVisible(key, value) {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? value : { nonFinite: String(value) };
    case 'symbol':
    case 'function':
      return { unwritable: typeof value };
    case 'undefined':
      // An own property left undefined is "not given", as the types allow; a value whose toJSON
      // gave undefined was given. (The holder is read again only on this rare path.)
      return this[key] === undefined ? undefined : { unwritable: 'toJSON' };
    case 'object':
      if (value === null) return this[key] === null || this[key] === undefined ? null : { unwritable: 'toJSON' };
      // The top level is the caller's object itself: any kind holding its fields will do.
      // The tag, not the prototype: a plain object from another realm (a frame) is plain too.
      return key === '' || DATA.has(TAG.call(value)) ? value : { unwritable: TAG.call(value).slice(8, -1) };
    default:
      return value;
  }
}

// No config or call input is anywhere near this; a larger one would be copied into wasm memory,
// which never shrinks, only to be refused (and enough of it would run the core out of memory).
const MAX_CHARS = 1 << 20;

// Anything but an object (arrays too) gives undefined, which the core refuses as such, and text
// over MAX_CHARS gives false. Checked here, inside the core's catch: `Array.isArray` throws for a
// revoked Proxy, and an exception from an import without one would unwind through the wasm,
// leaving its client borrowed.
export function plainJson(value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const text = JSON.stringify(value, keepVisible);
  return text.length > MAX_CHARS ? false : text;
}
