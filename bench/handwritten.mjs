// What a merchant would write by hand instead of the SDK: a straightforward normalizer per
// provider, producing the same Token shape. The baseline for the throughput benchmark.
const PINE_STATUS = { ACTIVE: 'ACTIVE', SUSPENDED: 'SUSPENDED', DEACTIVATED: 'DELETED', INITIATED: 'PENDING', FAILED: 'FAILED' };
const BRANDS = { visa: 'Visa', mast: 'Mastercard', mastercard: 'Mastercard', amex: 'American Express', disc: 'Discover', rupay: 'RuPay' };

const iso = (text) => {
  if (!text) return undefined;
  const d = new Date(text.replace(' ', 'T'));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
};

function brandFromBin(pan) {
  if (!pan) return 'Unknown';
  if (pan.startsWith('4')) return 'Visa';
  const two = Number(pan.slice(0, 2));
  const four = Number(pan.slice(0, 4));
  if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'Mastercard';
  if (two === 34 || two === 37) return 'American Express';
  if (pan.startsWith('6011') || two === 65) return 'Discover';
  return 'Unknown';
}

function maskPan(pan) {
  if (!pan) return undefined;
  const digits = pan.replace(/[^0-9]/g, '');
  if (digits.length <= 10) return pan;
  return `${pan.slice(0, 6)}${'*'.repeat(pan.length - 10)}${pan.slice(-4)}`;
}

export function pinelabs(text, now = Date.now()) {
  const body = JSON.parse(text);
  return (body.tokens ?? []).map((t) => {
    const token = { provider: 'pinelabs', id: t.token_id, status: PINE_STATUS[t.status] ?? 'UNKNOWN', paymentMethod: t.payment_method ?? 'UNKNOWN' };
    if (t.customer_id != null) token.customerId = String(t.customer_id);
    if (t.status) token.providerStatus = t.status;
    if (t.status_reason) token.statusReason = t.status_reason;
    if (t.card_data) {
      const c = t.card_data;
      token.card = { last4: c.last4_digit, brand: BRANDS[(c.network_name ?? '').toLowerCase()] ?? 'Unknown', issuerName: c.issuer_name, issuerCountry: c.country_code, funding: c.card_type, cvvRequired: c.cvv_required, international: c.international };
    }
    token.createdAt = iso(t.created_at);
    token.updatedAt = iso(t.updated_at);
    token.expiresAt = iso(t.expired_at);
    // An ACTIVE token past its expiry is expired, and one whose expiry cannot be read unknown (the
    // SDK does the same).
    if (token.status === 'ACTIVE' && t.expired_at?.trim()) {
      if (!token.expiresAt) token.status = 'UNKNOWN';
      else if (Date.parse(token.expiresAt) <= now) token.status = 'EXPIRED';
    }
    if (t.merchant_token_reference) token.reference = t.merchant_token_reference;
    if (t.is_compliant != null) token.compliant = t.is_compliant;
    if (t.merchant_metadata) token.metadata = { ...t.merchant_metadata };
    return token;
  });
}

export function chargeover(text, now = Date.now()) {
  const body = JSON.parse(text);
  if (body.status !== 'OK') throw new Error(body.message);
  return body.response.map((r) => {
    const token = { provider: 'chargeover', id: String(r.tokenized_id), customerId: r.customer_id == null ? undefined : String(r.customer_id) };
    token.paymentMethod = r.paymethod_hint === 'crd' ? 'CARD' : r.paymethod_hint === 'ach' ? 'ACH' : 'UNKNOWN';
    let expired = false;
    // A bank account has no card and no expiry, whatever card fields the record carries.
    if (token.paymentMethod !== 'ACH' && (token.paymentMethod === 'CARD' || r.type_hint || r.expdate)) {
      token.card = { brand: BRANDS[r.type_hint] ?? 'Unknown' };
      if (r.expdate) {
        const [y, m] = r.expdate.split('-').map(Number);
        token.card.expiryMonth = m;
        token.card.expiryYear = y;
        // The token works through its card's expiry month (the SDK gives the same expiresAt).
        const last = Date.UTC(y, m, 1) - 1;
        token.expiresAt = new Date(last).toISOString();
        expired = last < now;
      }
    }
    token.status = expired ? 'EXPIRED' : 'ACTIVE';
    if (r.name) token.label = r.name.replace(/\d{13,19}/g, (pan) => maskPan(pan));
    if (r.token) token.gatewayToken = r.token;
    if (r.gateway) token.gateway = r.gateway;
    token.createdAt = iso(r.write_datetime);
    token.updatedAt = iso(r.mod_datetime);
    return token;
  });
}

export function alliancepay(text) {
  const body = JSON.parse(text);
  if (body.msgType) throw new Error(body.msgText);
  return (body.result ?? []).map((r) => {
    const masked = maskPan(r.maskedPan);
    const visible = masked?.replace(/[^0-9]/g, '') ?? '';
    return {
      provider: 'alliancepay',
      id: r.token,
      customerId: r.customerId,
      status: ['ACTIVE', 'SUSPENDED', 'DELETED'].includes(r.status) ? r.status : 'UNKNOWN',
      providerStatus: r.status,
      paymentMethod: 'CARD',
      merchantId: r.merchantId,
      card: { maskedPan: masked, last4: visible.slice(-4), brand: brandFromBin(visible.slice(0, 6)) },
    };
  });
}
