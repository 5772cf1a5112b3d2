// Reads the tape the wasm core writes its results as (src/model_tape.rs has the layout and why):
// `[parts, numbers, wides]`, where every string is a slice of a part of the text, so no JSON is
// parsed (but a token's `raw`, the provider's own reply) and no field name is read. The order of
// fields here is the writer's, which is serde's: JSON.stringify of a token gives what it gave when
// tokens crossed as JSON text.

// Declaration order of the Rust enums.
const PROVIDERS = ['alliancepay', 'chargeover', 'pinelabs', 'payerly'];
const STATUSES = ['ACTIVE', 'SUSPENDED', 'DELETED', 'PENDING', 'FAILED', 'EXPIRED', 'UNKNOWN'];
const METHODS = ['CARD', 'ACH', 'UPI', 'POINTS', 'UNKNOWN'];

// A string's length when it is one already read: the metadata key at the same place in the last
// metadata, or the last value of a field that repeats from token to token (`REPEATING`).
const SAME = 0xffffffff;
// Those fields' places in `Reader.last` (src/model_tape.rs `Repeating` lists the same fields).
const [CUSTOMER_ID, PROVIDER_STATUS, STATUS_REASON, MERCHANT_ID, GATEWAY, BRAND, ISSUER_NAME, ISSUER_COUNTRY, FUNDING, REPEATING] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
// Set in a string's length when it is in its part's wide text (the strings not all ASCII).
const WIDE = 0x80000000;

class Reader {
  constructor([parts, numbers, wides = []]) {
    this.parts = parts;
    this.wides = wides;
    this.part = 0;
    this.text = parts[0];
    this.s = 0;
    this.wide = wides[0];
    this.w = 0;
    this.numbers = numbers;
    this.n = 0;
    this.keys = [];
    this.inherited = [];
    this.last = new Array(REPEATING);
  }

  number() {
    return this.numbers[this.n++];
  }

  string() {
    const length = this.numbers[this.n++];
    if (length < WIDE) {
      const start = this.s;
      this.s += length;
      return this.text.slice(start, this.s);
    }
    const start = this.w;
    this.w += length - WIDE;
    return this.wide.slice(start, this.w);
  }

  /** A field's string, or the same field's last one when the writer says it is the same. */
  repeating(field) {
    if (this.numbers[this.n] !== SAME) return (this.last[field] = this.string());
    this.n++;
    return this.last[field];
  }

  card() {
    const has = this.number();
    const card = {};
    if (has & 1) card.maskedPan = this.string();
    if (has & 2) card.last4 = this.string();
    card.brand = this.repeating(BRAND);
    if (has & 4) card.expiryMonth = this.number();
    if (has & 8) card.expiryYear = this.number();
    if (has & 16) card.holderName = this.string();
    if (has & 32) card.issuerName = this.repeating(ISSUER_NAME);
    if (has & 64) card.issuerCountry = this.repeating(ISSUER_COUNTRY);
    if (has & 128) card.funding = this.repeating(FUNDING);
    if (has & 256) card.cvvRequired = (has & 512) !== 0;
    if (has & 1024) card.international = (has & 2048) !== 0;
    return card;
  }

  metadata() {
    const map = {};
    const count = this.number();
    for (let i = 0; i < count; i++) {
      let key;
      if (this.numbers[this.n] === SAME) {
        this.n++;
        key = this.keys[i];
      } else {
        key = this.keys[i] = this.string();
        this.inherited[i] = key in Object.prototype;
      }
      const value = this.string();
      // As JSON.parse makes it: an own data property. Assigning a name Object.prototype has would
      // set the prototype (`__proto__`), call an accessor, or throw where the prototype is frozen.
      if (this.inherited[i]) Object.defineProperty(map, key, { value, writable: true, enumerable: true, configurable: true });
      else map[key] = value;
    }
    return map;
  }

  token() {
    // The text comes in parts of about 4 KB (src/model_tape.rs says why); a token may start one.
    if (this.number() === 1) {
      this.text = this.parts[++this.part];
      this.s = 0;
      this.wide = this.wides[this.part];
      this.w = 0;
    }
    const has = this.number();
    const enums = this.number();
    const token = { provider: PROVIDERS[enums & 0xff], id: this.string() };
    if (has & 1) token.customerId = this.repeating(CUSTOMER_ID);
    token.status = STATUSES[(enums >> 8) & 0xff];
    if (has & 2) token.providerStatus = this.repeating(PROVIDER_STATUS);
    if (has & 4) token.statusReason = this.repeating(STATUS_REASON);
    token.paymentMethod = METHODS[enums >> 16];
    if (has & 8) token.card = this.card();
    if (has & 16) token.createdAt = this.string();
    if (has & 32) token.updatedAt = this.string();
    if (has & 64) token.expiresAt = this.string();
    if (has & 128) token.label = this.string();
    if (has & 256) token.merchantId = this.repeating(MERCHANT_ID);
    if (has & 512) token.reference = this.string();
    if (has & 1024) token.gateway = this.repeating(GATEWAY);
    if (has & 2048) token.gatewayToken = this.string();
    if (has & 4096) token.compliant = (has & 8192) !== 0;
    if (has & 16384) token.metadata = this.metadata();
    if (has & 32768) {
      const action = { action: this.string() };
      if (has & 65536) action.value = this.string();
      token.requiredAction = action;
    }
    if (has & 131072) token.raw = JSON.parse(this.string());
    return token;
  }

  tokens() {
    const tokens = new Array(this.number());
    for (let i = 0; i < tokens.length; i++) tokens[i] = this.token();
    return tokens;
  }
}

/** A result of the core: a token, a list of them, a page, or nothing (`undefined`). */
export function readTape(parts) {
  const tape = new Reader(parts);
  switch (tape.number()) {
    case 1:
      return tape.token();
    case 2:
      return tape.tokens();
    case 3: {
      const page = { tokens: tape.tokens() };
      if (tape.number() & 1) page.next = tape.string();
      return page;
    }
    default:
      return undefined;
  }
}
