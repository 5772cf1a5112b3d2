// The demo page: look up a customer's stored tokens at one provider or at several at once, and
// suspend, reactivate or delete them where the status rules and the provider allow. Plain ES
// modules over the built package (../pkg/browser.js); no framework, no build step.

const PROVIDERS = {
  pinelabs: { name: 'Pine Labs', verbDelete: 'Deactivate', lookup: 'customer' },
  alliancepay: { name: 'AlliancePay', verbDelete: 'Delete', lookup: 'customer' },
  chargeover: { name: 'ChargeOver', verbDelete: 'Delete', lookup: 'customer' },
  payerly: { name: 'Payerly', verbDelete: 'Delete', lookup: 'token' },
};
const HUB_PROVIDERS = ['pinelabs', 'alliancepay', 'chargeover'];

// Sandbox seed data worth trying (sandbox/README.md).
const EXAMPLES = {
  pinelabs: ['cust-v1-statuses', 'cust-v1-0811030624-aa-RBDgpR', 'cust-v1-edge', 'cust-v1-empty', 'cust-forbidden'],
  alliancepay: ['senderCustomerId', '12345'],
  chargeover: ['1000', '1001', '2', '1002'],
  payerly: ['tok_visa_active', 'tok_expired', 'tok_mc_xmask', 'string'],
};
const HUB_DEFAULTS = { pinelabs: 'cust-v1-statuses', alliancepay: 'senderCustomerId', chargeover: '1001' };

// Credential fields per provider: [config key, label, kind].
const CREDENTIAL_FIELDS = {
  pinelabs: [['clientId', 'Client ID', 'text'], ['clientSecret', 'Client secret', 'secret']],
  alliancepay: [['serviceCode', 'Service code', 'text'], ['merchantPrivateKey', 'Merchant private key (P-384 JWK)', 'json'],
    // The default is a guess (the bank does not document it), and its answer to the wrong choice
    // names this option: the demo must let the user change it.
    ['encryption', 'Token request bodies (encryption)', 'choice', [['', 'JWE (the default)'], ['none', 'Plain JSON (none)']]]],
  chargeover: [['username', 'REST public key (username)', 'text'], ['password', 'REST private key (password)', 'secret']],
  payerly: [['apiKey', 'API key', 'secret']],
};

const SOON_MS = 30 * 24 * 3600 * 1000;
const $ = (id) => document.getElementById(id);

let sdk;
const state = {
  sandboxUrl: null,
  sandboxBaseUrls: {},
  sandboxCredentials: null,
  target: 'sandbox',
  clients: new Map(),
  tokens: [],
  context: null, // { view, provider?, customerId? } of the last lookup
  generation: 0,
  lookupAbort: null, // the AbortController of the lookup in flight
  // Row actions that ended, by row key, with the order they ended in (`seq`): a lookup answered
  // after an action ended may hold the token as it was before, and must not undo what the row shows.
  seq: 0,
  settled: new Map(),
  filter: '',
  // Rows with a suspend, reactivate or delete in flight ("provider:id" → action): a row rebuilt
  // meanwhile (filtering, a new lookup) stays busy, so the action cannot be sent twice.
  pending: new Map(),
};

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    // A field's value as a property, not an attribute: a credential then stays out of the page's
    // HTML (outerHTML, session-replay tools).
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c);
  return el;
}

function announce(text) {
  const live = $('live');
  live.textContent = '';
  // A fresh text node after a tick, so screen readers announce a repeated message again.
  setTimeout(() => { live.textContent = text; }, 30);
}

const dateTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

function timeEl(iso) {
  if (!iso) return h('span', { class: 'sub', text: '—', 'aria-label': 'unknown' });
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', { text: iso });
  return h('time', { datetime: iso, title: iso, class: 'nowrap', text: dateTime.format(d) });
}

// ---------------------------------------------------------------------------------------------
// Token presentation

function brandKey(token) {
  if (token.paymentMethod === 'ACH') return ['bank', 'ACH'];
  if (token.paymentMethod === 'UPI') return ['upi', 'UPI'];
  const brand = (token.card?.brand ?? '').toLowerCase();
  if (brand.includes('visa')) return ['visa', 'VISA'];
  if (brand.includes('master')) return ['mastercard', ''];
  if (brand.includes('american') || brand === 'amex') return ['amex', 'AMEX'];
  if (brand.includes('rupay')) return ['rupay', 'RuPay'];
  if (brand.includes('discover')) return ['discover', 'DISC'];
  if (brand.includes('diners')) return ['diners', 'DC'];
  if (brand.includes('jcb')) return ['jcb', 'JCB'];
  if (brand.includes('maestro')) return ['maestro', 'MAES'];
  return ['unknown', token.paymentMethod === 'POINTS' ? 'PTS' : '?'];
}

function brandName(token) {
  if (token.card?.brand && token.card.brand !== 'Unknown') return token.card.brand;
  if (token.paymentMethod === 'ACH') return 'Bank account (ACH)';
  if (token.paymentMethod === 'UPI') return 'UPI';
  return token.paymentMethod === 'CARD' ? 'Card, brand unknown' : 'Payment method unknown';
}

function maskedPan(token) {
  const card = token.card;
  if (card?.maskedPan) return card.maskedPan;
  if (card?.last4) return `•••• ${card.last4}`;
  return token.label ?? '—';
}

/** When the token stops being usable: the provider's expiresAt, else the card's month end. */
function expiryOf(token) {
  if (token.expiresAt) {
    const t = Date.parse(token.expiresAt);
    if (!Number.isNaN(t)) return { at: t, text: dateOnly.format(new Date(t)), iso: token.expiresAt };
  }
  const { expiryMonth: m, expiryYear: y } = token.card ?? {};
  if (m && y) {
    const at = Date.UTC(y, m, 1) - 1; // the last millisecond of the expiry month
    return { at, text: `${String(m).padStart(2, '0')}/${y}`, iso: new Date(at).toISOString() };
  }
  return null;
}

function expiryCell(token) {
  const exp = expiryOf(token);
  if (!exp) return h('span', { class: 'sub', text: '—' });
  const left = exp.at - Date.now();
  const days = Math.ceil(left / 86400000);
  let tag = null;
  if (left <= 0) tag = h('span', { class: 'tag tag-expired', text: 'Expired' });
  else if (left < SOON_MS) tag = h('span', { class: 'tag tag-soon', title: `in ${days} day${days === 1 ? '' : 's'}`, text: `Expires soon · ${days} d` });
  return h('div', {}, h('time', { datetime: exp.iso, title: exp.iso, class: 'nowrap', text: exp.text }), tag && h('br'), tag);
}

function statusCell(token) {
  const badge = h('span', { class: `badge status-${token.status}`, text: token.status });
  const word = token.providerStatus && token.providerStatus !== token.status
    ? h('span', { class: 'provider-word', text: `provider: ${token.providerStatus}` }) : null;
  const reason = token.statusReason ? { title: token.statusReason } : {};
  return h('div', reason, badge, word);
}

function providerCell(provider) {
  return h('span', { class: 'provider-name' }, h('i', { class: `dot dot-${provider}`, 'aria-hidden': 'true' }), PROVIDERS[provider]?.name ?? provider);
}

function describeToken(token) {
  const last4 = token.card?.last4;
  return `${brandName(token)}${last4 ? ` ending ${last4}` : ` ${token.id}`}`;
}

// What may be done to a token: what the provider has, and the status rules (canTransition) where
// the SDK applies them: to status changes, and to AlliancePay's delete, which is one. Elsewhere a
// delete removes the token whatever its status (an expired card is the usual clean-up).
function actionsFor(token) {
  const client = clientIfReady(token.provider);
  const caps = client?.capabilities ?? {};
  const list = [];
  if (caps.updateTokenStatus && sdk.canTransition(token.status, 'SUSPENDED')) list.push('suspend');
  if (caps.updateTokenStatus && sdk.canTransition(token.status, 'ACTIVE')) list.push('reactivate');
  const deletable = token.provider === 'alliancepay' ? sdk.canTransition(token.status, 'DELETED') : token.status !== 'DELETED';
  if (caps.deleteToken && deletable) list.push('delete');
  return list;
}

const ACTION_LABEL = { suspend: 'Suspend', reactivate: 'Reactivate', delete: 'Delete' };
const BUSY_LABEL = { suspend: 'Suspending…', reactivate: 'Reactivating…', delete: 'Deleting…' };

/** A row's key, as in its data-key and `state.pending`. */
const keyOf = (token) => `${token.provider}:${token.id}`;

function rowFor(token) {
  const [mark, markText] = brandKey(token);
  const key = keyOf(token);
  const actions = actionsFor(token);
  const desc = describeToken(token);
  const busy = state.pending.get(key); // the action in flight, if any
  const actionsEl = actions.length
    ? h('div', { class: 'actions' }, actions.map((a) => h('button', {
      type: 'button',
      disabled: Boolean(busy),
      class: `button small${a === 'delete' ? ' danger' : ''}`,
      dataset: { action: a },
      'aria-label': `${a === 'delete' ? PROVIDERS[token.provider].verbDelete : ACTION_LABEL[a]} ${desc}`,
      text: busy === a ? BUSY_LABEL[a] : a === 'delete' ? PROVIDERS[token.provider].verbDelete : ACTION_LABEL[a],
    })))
    : h('span', { class: 'no-actions', text: 'No actions', title: noActionReason(token) });
  return h('tr', { dataset: { key, tokenId: token.id, provider: token.provider, status: token.status }, 'aria-busy': busy && 'true' },
    h('td', { class: 'card-td', 'data-label': 'Card' },
      h('div', { class: 'card-cell' },
        h('span', { class: `mark mark-${mark}`, role: 'img', 'aria-label': brandName(token), title: brandName(token), text: markText }),
        h('div', { class: 'card-text' },
          h('div', { class: 'pan', text: maskedPan(token) }),
          h('div', { class: 'sub' },
            token.card?.last4 ? h('span', { class: 'last4', text: `Last 4 ${token.card.last4}` }) : h('span', { text: brandName(token) }),
            token.card?.holderName ? ` · ${token.card.holderName}` : ''),
          h('div', { class: 'sub token-id', title: 'token id', text: token.id }),
          token.customerId && state.context?.view === 'hub' ? h('div', { class: 'sub', text: `customer ${token.customerId}` }) : null))),
    h('td', { 'data-label': 'Status' }, statusCell(token)),
    h('td', { 'data-label': 'Expiry' }, expiryCell(token)),
    h('td', { 'data-label': 'Created / updated' },
      h('div', { class: 'dates' },
        h('span', { class: 'date-label', text: 'Created' }), timeEl(token.createdAt),
        h('span', { class: 'date-label', text: 'Updated' }), timeEl(token.updatedAt))),
    h('td', { 'data-label': 'Provider' }, providerCell(token.provider)),
    h('td', { class: 'actions-td', 'data-label': 'Actions' }, actionsEl));
}

function noActionReason(token) {
  const caps = clientIfReady(token.provider)?.capabilities ?? {};
  if (!caps.updateTokenStatus && !caps.deleteToken) return `${PROVIDERS[token.provider]?.name} offers no status changes or deletion`;
  return `No status change is allowed from ${token.status}`;
}

// ---------------------------------------------------------------------------------------------
// Results area

function matchesFilter(token) {
  const f = state.filter.trim().toLowerCase();
  if (!f) return true;
  const hay = [token.id, token.customerId, token.status, token.providerStatus, token.card?.brand, token.card?.last4,
    token.card?.maskedPan, token.card?.holderName, token.label, PROVIDERS[token.provider]?.name, token.paymentMethod]
    .filter(Boolean).join(' ').toLowerCase();
  return hay.includes(f);
}

function renderTokens() {
  const body = $('results-body');
  body.removeAttribute('aria-busy');
  $('results-tools').hidden = state.tokens.length === 0;
  const ctx = state.context;
  if (state.tokens.length === 0) {
    const where = ctx?.view === 'hub' ? 'for these customers' : ctx?.customerId ? `for ${ctx.customerId} at ${PROVIDERS[ctx.provider].name}` : '';
    body.replaceChildren(h('div', { class: 'empty' },
      h('p', { class: 'empty-title', text: 'No tokens found' }),
      h('p', { text: ctx?.failed ? 'The lookup did not succeed; see the message above.' : `There are no stored tokens ${where}.` })));
    updateSummary();
    return;
  }
  const shown = state.tokens.filter(matchesFilter);
  const caption = ctx?.view === 'hub' ? 'Tokens from all providers' : `Tokens of ${ctx?.customerId ?? ''} at ${PROVIDERS[ctx?.provider]?.name ?? ''}`;
  const table = h('table', { class: 'tokens' },
    h('caption', { class: 'visually-hidden', text: caption }),
    h('thead', {}, h('tr', {}, ['Card', 'Status', 'Expiry', 'Created / updated', 'Provider'].map((t) => h('th', { scope: 'col', text: t })),
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Actions' })))),
    h('tbody', {}, shown.map(rowFor)));
  body.replaceChildren(shown.length ? h('div', { class: 'table-wrap' }, table)
    : h('div', { class: 'empty' }, h('p', { class: 'empty-title', text: 'No token matches the filter' }), h('p', { text: `${state.tokens.length} token(s) hidden.` })));
  updateSummary();
}

function updateSummary() {
  const counts = {};
  for (const t of state.tokens) counts[t.status] = (counts[t.status] ?? 0) + 1;
  const parts = Object.entries(counts).map(([s, n]) => `${n} ${s.toLowerCase()}`);
  const ctx = state.context;
  const who = ctx?.view === 'hub' ? 'across providers' : ctx?.customerId ? `· ${PROVIDERS[ctx.provider].name} · ${ctx.customerId}` : '';
  // A lookup that failed found nothing out: "0 tokens" would read as a customer without any.
  const what = ctx?.failed ? (ctx.cancelled ? 'Cancelled' : 'Lookup failed') : `${state.tokens.length} token${state.tokens.length === 1 ? '' : 's'}`;
  $('summary').textContent = ctx ? `${what} ${who}${parts.length ? ` (${parts.join(', ')})` : ''}` : '';
}

function renderLoading(text) {
  const body = $('results-body');
  body.setAttribute('aria-busy', 'true');
  $('results-tools').hidden = true;
  $('outcomes').hidden = true;
  const rows = Array.from({ length: 3 }, () => h('tr', {}, Array.from({ length: 5 }, () => h('td', {}, h('span', { class: 'skeleton' })))));
  body.replaceChildren(
    h('p', { class: 'summary', text: text }),
    h('div', { class: 'table-wrap', 'aria-hidden': 'true' }, h('table', { class: 'tokens' }, h('tbody', {}, rows))));
  $('summary').textContent = '';
}

function renderOutcomes(outcomes) {
  const list = $('outcomes');
  const items = Object.entries(outcomes).map(([p, o]) => h('li', { class: `outcome ${o.ok ? 'ok' : 'failed'}` },
    h('i', { class: `dot dot-${p}`, 'aria-hidden': 'true' }),
    o.ok ? `${PROVIDERS[p].name}: ${o.count} token${o.count === 1 ? '' : 's'}` : `${PROVIDERS[p].name}: failed (${o.error.code})`));
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Error banner

const ADVICE = {
  AUTHENTICATION: 'Check the credentials in the “Connection & credentials” panel.',
  CREDENTIALS_REVOKED: 'These credentials were revoked at the provider; new ones are needed.',
  PERMISSION: 'These credentials may not access this customer or token.',
  NOT_FOUND: 'Check the ID; it may belong to another provider or have been removed.',
  RATE_LIMITED: 'The provider is rate limiting; wait as long as it asked, then try again.',
  ABORTED: 'The lookup was cancelled; nothing was changed.',
  NETWORK: 'The host could not be reached, or it does not allow calls from this page (CORS). Use a backend proxy for real hosts.',
  TIMEOUT: 'The provider did not answer in time; try again.',
  INVALID_INPUT: 'Check the fields you filled in.',
  INVALID_TRANSITION: 'The token’s status does not allow this change any more; reload the customer.',
  UNSUPPORTED: 'This provider does not offer this operation.',
};

function errorDetails(err) {
  const meta = [err.provider && PROVIDERS[err.provider]?.name, err.httpStatus && `HTTP ${err.httpStatus}`,
    err.providerCode && `provider code ${err.providerCode}`, err.requestId && `request ID ${err.requestId}`,
    err.retryable && (err.retryAfterMs > 0 ? `safe to retry in ${Math.ceil(err.retryAfterMs / 1000)} s` : 'safe to retry')].filter(Boolean).join(' · ');
  return { code: err.code ?? 'ERROR', message: err.message ?? String(err), meta };
}

function showBanner({ title, errors }) {
  const banner = $('banner');
  const items = errors.map((e) => {
    const d = errorDetails(e.error);
    return h('li', {},
      e.label ? h('strong', { text: `${e.label}: ` }) : null,
      h('code', { class: 'code', text: d.code }), ' ', h('span', { class: 'message', text: d.message }),
      d.meta ? h('p', { class: 'meta', text: d.meta }) : null,
      ADVICE[d.code] ? h('p', { class: 'advice', text: ADVICE[d.code] }) : null);
  });
  banner.replaceChildren(
    h('div', { class: 'banner-head' },
      h('span', { class: 'banner-title', text: title }),
      h('button', { type: 'button', class: 'button small', 'aria-label': 'Dismiss message', text: 'Dismiss', onclick: hideBanner })),
    h('ul', {}, items));
  banner.hidden = false;
}

function hideBanner() {
  const banner = $('banner');
  const hadFocus = banner.contains(document.activeElement); // its Dismiss button, say
  banner.hidden = true;
  banner.replaceChildren();
  if (hadFocus) $('results').focus();
}

// ---------------------------------------------------------------------------------------------
// Connection and credentials

function isSandboxUrl(url) {
  return Boolean(state.sandboxUrl && url && url.startsWith(state.sandboxUrl));
}

function renderCredentials() {
  const grid = $('credentials');
  grid.replaceChildren(...Object.keys(PROVIDERS).map((p) => {
    const creds = state.target === 'sandbox' ? state.sandboxCredentials?.[p] ?? {} : {};
    const baseUrl = state.target === 'sandbox' ? state.sandboxBaseUrls[p] ?? '' : '';
    const baseUrlLabel = state.target === 'sandbox' ? 'Base URL (empty: the local sandbox’s)'
      : p === 'chargeover' ? 'Base URL (your instance, …/api/v3)' : 'Base URL (empty: the provider’s host)';
    const fields = [
      h('div', { class: 'field' },
        h('label', { for: `cred-${p}-baseUrl`, text: baseUrlLabel }),
        h('input', { id: `cred-${p}-baseUrl`, 'data-provider': p, 'data-key': 'baseUrl', type: 'url', value: baseUrl, spellcheck: 'false', autocomplete: 'off' })),
      ...CREDENTIAL_FIELDS[p].map(([key, label, kind, choices]) => {
        const id = `cred-${p}-${key}`;
        if (kind === 'choice') {
          const select = h('select', { id, 'data-provider': p, 'data-key': key },
            choices.map(([value, text]) => h('option', { value, text })));
          select.value = creds[key] ?? '';
          return h('div', { class: 'field' }, h('label', { for: id, text: label }), select);
        }
        const value = creds[key] === undefined ? '' : kind === 'json' ? JSON.stringify(creds[key], null, 1) : String(creds[key]);
        // A private key is a secret too: concealed like the password fields until shown.
        const input = kind === 'json'
          ? h('textarea', { id, class: 'concealed', 'data-provider': p, 'data-key': key, spellcheck: 'false', autocomplete: 'off', value })
          : h('input', { id, 'data-provider': p, 'data-key': key, type: kind === 'secret' ? 'password' : 'text', value, spellcheck: 'false', autocomplete: 'off' });
        if (kind === 'text') return h('div', { class: 'field' }, h('label', { for: id, text: label }), input);
        const toggle = h('button', {
          // The name says what a press does, and follows the visible word (voice control).
          type: 'button', class: 'button small', 'aria-controls': id, 'aria-label': `Show ${label}`, text: 'Show',
          onclick: () => {
            const show = toggle.textContent === 'Show';
            if (kind === 'json') input.classList.toggle('concealed', !show);
            else input.type = show ? 'text' : 'password';
            toggle.textContent = show ? 'Hide' : 'Show';
            toggle.setAttribute('aria-label', `${toggle.textContent} ${label}`);
          },
        });
        return h('div', { class: 'field' }, h('label', { for: id, text: label }), h('div', { class: 'secret' }, input, toggle));
      }),
    ];
    // One form per provider, so each password field sits in a form of its own.
    return h('form', { class: 'cred-form', autocomplete: 'off' },
      h('fieldset', { 'data-provider': p }, h('legend', {}, h('i', { class: `dot dot-${p}`, 'aria-hidden': 'true' }), PROVIDERS[p].name), fields));
  }));
  dropClients();
  updateTargetNotes();
}

function updateTargetNotes() {
  const urls = Object.keys(PROVIDERS).map((p) => $(`cred-${p}-baseUrl`)?.value ?? '');
  const real = state.target === 'real' || urls.some((u) => u && !isSandboxUrl(u));
  $('real-warning').hidden = !real;
  const pill = $('target-pill');
  pill.textContent = real ? 'Real hosts — careful' : 'Local sandbox';
  pill.className = `pill ${real ? 'pill-real' : 'pill-sandbox'}`;
  $('connection-note').textContent = real ? 'custom hosts: see the warning' : 'local sandbox, prefilled';
  $('environment').hidden = state.target !== 'real';
  document.querySelector('.env-label').hidden = state.target !== 'real';
  $('examples').hidden = real;
}

function configFor(provider) {
  const config = { provider };
  if (state.target === 'real') config.environment = $('environment').value;
  for (const el of document.querySelectorAll(`#credentials [data-provider="${provider}"][data-key]`)) {
    const value = el.value.trim();
    if (!value) continue;
    if (el.dataset.key === 'merchantPrivateKey') {
      try {
        config.merchantPrivateKey = JSON.parse(value);
      } catch {
        throw Object.assign(new Error('alliancepay merchant private key: not valid JSON (paste the JWK object)'), { code: 'INVALID_INPUT', provider });
      }
    } else {
      config[el.dataset.key] = value;
    }
  }
  // Left without a base URL the SDK calls the provider's real host: in the sandbox target, where
  // the pill says "Local sandbox" and the real-host warning is hidden, an empty field means the
  // sandbox's URL, and with none known nothing is called.
  if (state.target === 'sandbox' && !config.baseUrl) {
    const sandboxBaseUrl = state.sandboxBaseUrls[provider];
    if (typeof sandboxBaseUrl !== 'string' || !sandboxBaseUrl) {
      throw Object.assign(new Error(`The local sandbox gives no base URL for ${PROVIDERS[provider].name}, so nothing was sent. Enter one under “Connection & credentials”, or choose the “Real provider hosts” target.`), { code: 'INVALID_INPUT', provider });
    }
    config.baseUrl = sandboxBaseUrl;
  }
  return config;
}

// A client replaced (new credentials, another environment) is closed, so that the core wipes its
// copies of the old secrets now rather than at garbage collection. Calls in flight run to their end.
function dropClient(provider) {
  state.clients.get(provider)?.close();
  state.clients.delete(provider);
}

function dropClients() {
  for (const provider of [...state.clients.keys()]) dropClient(provider);
}

function clientFor(provider) {
  let client = state.clients.get(provider);
  if (!client) {
    client = sdk.createClient(configFor(provider));
    state.clients.set(provider, client);
  }
  return client;
}

function clientIfReady(provider) {
  try {
    return clientFor(provider);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Lookup form

const view = () => document.querySelector('input[name="view"]:checked').value;
const provider = () => document.querySelector('input[name="provider"]:checked').value;

function syncForm({ fillExample = false } = {}) {
  const hub = view() === 'hub';
  $('single-fields').hidden = hub;
  $('hub-fields').hidden = !hub;
  const p = provider();
  const byToken = PROVIDERS[p].lookup === 'token';
  $('customer-label').textContent = byToken ? 'Token ID' : 'Customer ID';
  $('customer-hint').textContent = byToken ? 'Payerly has no customer listing: look a token up by its ID.'
    : p === 'chargeover' ? 'The numeric ChargeOver customer ID.' : '';
  $('lookup-button').querySelector('.label').textContent = hub ? 'List tokens at all providers' : byToken ? 'Look up token' : 'List tokens';
  if (fillExample && !hub) {
    const input = $('customer');
    const allExamples = Object.values(EXAMPLES).flat();
    if (!input.value || allExamples.includes(input.value)) input.value = EXAMPLES[p][0];
  }
  renderExamples();
}

function renderExamples() {
  const hub = view() === 'hub';
  const list = hub ? HUB_PROVIDERS.flatMap((p) => EXAMPLES[p].slice(0, 2).map((id) => [p, id])) : EXAMPLES[provider()].map((id) => [provider(), id]);
  $('example-list').replaceChildren(...list.map(([p, id]) => h('button', {
    type: 'button', class: 'chip', text: hub ? `${PROVIDERS[p].name}: ${id}` : id,
    'aria-label': `Use ${hub ? `${PROVIDERS[p].name} ` : ''}${PROVIDERS[p].lookup === 'token' ? 'token' : 'customer'} ${id}`,
    onclick: () => {
      const input = hub ? $(`hub-${p}`) : $('customer');
      input.value = id;
      input.focus();
    },
  })));
}

// On a narrow screen the results sit below the form: bring them into view once they are there.
function revealResults() {
  const top = $('results').getBoundingClientRect().top;
  if (top > window.innerHeight * 0.6) $('results').scrollIntoView({ block: 'start' });
}

function setBusy(busy) {
  const button = $('lookup-button');
  const cancel = $('cancel-button');
  // A focused button that becomes disabled, or Cancel as it is hidden, drops focus to the page:
  // while busy it goes to Cancel, the one thing to do, and back to the button when done.
  const focused = document.activeElement;
  button.disabled = busy;
  cancel.hidden = !busy;
  if (busy && focused === button) cancel.focus();
  if (!busy && (focused === button || focused === cancel || document.activeElement === document.body)) button.focus();
  button.classList.toggle('busy', busy);
  button.setAttribute('aria-busy', String(busy));
}

async function lookup(event) {
  event.preventDefault();
  // One lookup at a time: the button is disabled while one runs, and Cancel stops it.
  if ($('lookup-button').disabled) return;
  const controller = new AbortController();
  state.lookupAbort = controller;
  hideBanner();
  const generation = ++state.generation;
  const since = state.seq;
  const hub = view() === 'hub';
  let ran = false;
  try {
    ran = hub ? await lookupHub(generation, since, controller.signal) : await lookupSingle(generation, since, controller.signal);
  } catch (err) {
    // The hub's listing stopped by Cancel, or anything unexpected: never leave the skeleton up.
    if (generation === state.generation) {
      state.tokens = [];
      if (state.context) Object.assign(state.context, { failed: true, cancelled: err?.code === 'ABORTED' });
      renderTokens();
      renderOutcomes({});
      showBanner({ title: err?.code === 'ABORTED' ? 'Lookup cancelled' : 'The lookup failed', errors: [{ error: err }] });
      ran = true;
    }
  } finally {
    if (state.lookupAbort === controller) state.lookupAbort = null;
    if (generation === state.generation) {
      setBusy(false);
      if (ran) revealResults();
    }
  }
}

/**
 * The lookup's tokens, with the outcome of every action that ended after it was sent. Outcomes
 * from before it are dropped from `state.settled`: this lookup's answer is newer.
 */
function freshest(tokens, since) {
  const out = tokens.map((t) => {
    const done = state.settled.get(keyOf(t));
    return done && done.seq > since ? done.token : t;
  });
  for (const [key, done] of state.settled) if (done.seq <= since) state.settled.delete(key);
  return out;
}

async function lookupSingle(generation, since, signal) {
  const p = provider();
  const id = $('customer').value.trim();
  const byToken = PROVIDERS[p].lookup === 'token';
  if (!id) {
    showBanner({ title: 'Nothing to look up', errors: [{ error: { code: 'INVALID_INPUT', message: `Enter a ${byToken ? 'token' : 'customer'} ID.` } }] });
    $('customer').focus();
    return false;
  }
  setBusy(true);
  state.context = { view: 'single', provider: p, customerId: id };
  renderLoading(`Loading ${byToken ? 'token' : 'tokens'} for ${id} at ${PROVIDERS[p].name}…`);
  announce(`Loading tokens at ${PROVIDERS[p].name}`);
  try {
    const client = clientFor(p);
    const tokens = byToken ? [await client.getToken({ tokenId: id }, { signal })] : await client.listTokens({ customerId: id }, { signal });
    if (generation !== state.generation) return;
    state.tokens = freshest(tokens, since).sort(sdk.compareTokens);
    $('outcomes').hidden = true;
    renderTokens();
    announce(`${tokens.length} token${tokens.length === 1 ? '' : 's'} loaded from ${PROVIDERS[p].name}`);
  } catch (err) {
    if (generation !== state.generation) return;
    state.tokens = [];
    Object.assign(state.context, { failed: true, cancelled: err?.code === 'ABORTED' });
    renderTokens();
    const title = err?.code === 'ABORTED' ? 'Lookup cancelled' : `Could not load ${byToken ? 'the token' : 'tokens'} for ${id} at ${PROVIDERS[p].name}`;
    showBanner({ title, errors: [{ error: err }] });
  }
  return true;
}

async function lookupHub(generation, since, signal) {
  const customers = {};
  for (const p of HUB_PROVIDERS) {
    const v = $(`hub-${p}`).value.trim();
    if (v) customers[p] = v;
  }
  if (Object.keys(customers).length === 0) {
    showBanner({ title: 'Nothing to look up', errors: [{ error: { code: 'INVALID_INPUT', message: 'Enter a customer ID for at least one provider.' } }] });
    $('hub-pinelabs').focus();
    return false;
  }
  setBusy(true);
  state.context = { view: 'hub', customers };
  renderLoading(`Asking ${Object.keys(customers).map((p) => PROVIDERS[p].name).join(', ')}…`);
  announce('Loading tokens from all providers');
  // A provider whose client cannot even be built (bad credentials form) is reported like a failure.
  const clients = [];
  const setupFailures = {};
  for (const p of Object.keys(customers)) {
    try {
      clients.push(clientFor(p));
    } catch (err) {
      setupFailures[p] = { ok: false, customerId: customers[p], error: err };
    }
  }
  const asked = Object.fromEntries(Object.entries(customers).filter(([p]) => !setupFailures[p]));
  const result = clients.length ? await sdk.createHub(clients).listTokens({ customers: asked }, { signal }) : { tokens: [], outcomes: {} };
  if (generation !== state.generation) return;
  const outcomes = { ...result.outcomes, ...setupFailures };
  state.tokens = freshest(result.tokens, since);
  const failed = Object.entries(outcomes).filter(([, o]) => !o.ok);
  state.context.failed = failed.length === Object.keys(outcomes).length;
  renderOutcomes(outcomes);
  renderTokens();
  if (failed.length) {
    showBanner({
      title: failed.length === Object.keys(outcomes).length ? 'No provider answered'
        : `${failed.length} of ${Object.keys(outcomes).length} providers failed; the others’ tokens are shown`,
      errors: failed.map(([p, o]) => ({ label: `${PROVIDERS[p].name} (${o.customerId})`, error: o.error })),
    });
  }
  announce(`${state.tokens.length} tokens from ${Object.keys(outcomes).length - failed.length} providers${failed.length ? `; ${failed.length} failed` : ''}`);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Row actions

function confirmDelete(token) {
  const dialog = $('confirm');
  const verb = PROVIDERS[token.provider].verbDelete;
  $('confirm-title').textContent = `${verb} this token?`;
  $('confirm-text').textContent = `${verb} the ${describeToken(token)} (token ${token.id}) at ${PROVIDERS[token.provider].name}`
    + `${token.customerId ? ` for customer ${token.customerId}` : ''}? It cannot be used for payments afterwards, and this cannot be undone.`;
  $('confirm-button').textContent = `${verb} token`;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.showModal();
  });
}

async function onAction(event) {
  const button = event.target.closest('button[data-action]');
  if (!button) return;
  const key = button.closest('tr').dataset.key;
  const token = state.tokens.find((t) => keyOf(t) === key);
  if (!token) return;
  const action = button.dataset.action;
  if (action === 'delete' && !(await confirmDelete(token))) {
    // The list may have been rebuilt while the dialog was open: focus the row's button as it is now.
    document.querySelector(`tr[data-key="${CSS.escape(key)}"] button[data-action="${action}"]`)?.focus();
    return;
  }
  if (state.pending.has(key)) return; // clicked again while the confirmation was open
  hideBanner();
  state.pending.set(key, action);
  replaceRow(token);
  const status = { suspend: 'SUSPENDED', reactivate: 'ACTIVE' }[action];
  const done = { suspend: 'suspended', reactivate: 'reactivated', delete: PROVIDERS[token.provider].verbDelete === 'Deactivate' ? 'deactivated' : 'deleted' }[action];
  let updated;
  try {
    // Inside the try: the credentials form may have become invalid since the list was shown.
    const client = clientFor(token.provider);
    if (action === 'delete') {
      await client.deleteToken({ tokenId: token.id, customerId: token.customerId });
      // Read it back where the provider keeps deleted tokens; otherwise show it as deleted here.
      updated = await client.getToken({ tokenId: token.id, customerId: token.customerId })
        .catch(() => ({ ...token, status: 'DELETED', providerStatus: undefined, statusReason: 'Removed at the provider', updatedAt: new Date().toISOString() }));
    } else {
      updated = await client.updateTokenStatus({ tokenId: token.id, status });
    }
  } catch (err) {
    state.pending.delete(key);
    // Not `tokenId`, which also names the token of a change whose outcome is unknown.
    if (status && err?.writeOutcome === 'APPLIED') {
      // The change went through; only reading the token back failed. The row shows the status it
      // was given, and the banner why nothing more is shown.
      settle(key, { ...token, status, providerStatus: undefined, statusReason: undefined, updatedAt: new Date().toISOString() }, action);
      showBanner({ title: `The ${describeToken(token)} was ${done}, but could not be read back`, errors: [{ error: err }] });
      announce(`${describeToken(token)} ${done}; it could not be read back.`);
      return;
    }
    replaceRow(state.tokens.find((t) => keyOf(t) === key) ?? token, { focusAction: action });
    // The row keeps what was last read; whether the change happened is for a fresh look-up to say.
    const title = err?.writeOutcome === 'UNKNOWN'
      ? `The ${describeToken(token)} may have been ${done}: look it up again before trying again`
      : `Could not ${action} the ${describeToken(token)}`;
    showBanner({ title, errors: [{ error: err }] });
    return;
  }
  state.pending.delete(key);
  const merged = settle(key, { ...token, ...updated, provider: token.provider }, action);
  announce(`${describeToken(merged)} ${done}; status is now ${merged.status}.`);
}

/** Shows `token` as the row's state after an action, over any list rebuilt while it ran. */
function settle(key, token, action) {
  state.settled.set(key, { seq: ++state.seq, token });
  // By key: the list may have been rebuilt (filtered, looked up again) while this ran.
  state.tokens = state.tokens.map((t) => (keyOf(t) === key ? token : t));
  replaceRow(token, { flash: true, focusAction: action });
  updateSummary();
  return token;
}

function replaceRow(token, { flash = false, focusAction } = {}) {
  const old = document.querySelector(`tr[data-key="${CSS.escape(keyOf(token))}"]`);
  if (!old) return;
  const row = rowFor(token);
  if (flash) row.classList.add('updated');
  // Focus moves only if it was on this row (or lost): someone typing elsewhere by the time an
  // action ends must not have their next keystroke land on this row's buttons.
  const hadFocus = old.contains(document.activeElement) || document.activeElement === document.body;
  old.replaceWith(row);
  if (!hadFocus) return;
  // Keep keyboard users in place: the opposite action, or any action, or the status cell.
  const opposite = { suspend: 'reactivate', reactivate: 'suspend' }[focusAction];
  const target = row.querySelector(`button[data-action="${opposite}"]`) ?? row.querySelector(`button[data-action="${focusAction}"]`)
    ?? row.querySelector('button[data-action]');
  // A busy row's buttons are disabled and cannot take focus: the status cell does.
  if (target && !target.disabled) target.focus();
  else {
    const cell = row.cells[1];
    cell.tabIndex = -1;
    cell.focus();
  }
}

// ---------------------------------------------------------------------------------------------
// Start

async function loadSandbox() {
  try {
    // Beside www/, wherever the demo is served from (a proxy's sub-path too).
    const config = await (await fetch(new URL('../demo-config.json', import.meta.url), { cache: 'no-store' })).json();
    state.sandboxUrl = config.sandboxUrl;
    state.sandboxBaseUrls = config.baseUrls ?? {};
    const res = await fetch(`${config.sandboxUrl}/_sandbox/credentials`, { cache: 'no-store' });
    state.sandboxCredentials = await res.json();
  } catch {
    // Served without the demo server: start with empty credentials and a real-host target.
    state.target = 'real';
    $('target').value = 'real';
    showBanner({ title: 'No local sandbox found', errors: [{ error: { code: 'NETWORK', message: 'Could not read /demo-config.json or the sandbox credentials. Run “npm run demo”, or fill in real credentials below.' } }] });
  }
}

async function start() {
  // Until the package has loaded (or when it cannot), a submit would be the browser's own: a GET
  // that puts the customer or token id in the URL, history and server logs.
  for (const form of [$('lookup'), $('credentials')]) form.addEventListener('submit', (e) => e.preventDefault());
  try {
    sdk = await import('../pkg/browser.js');
  } catch (err) {
    // Not a PayTokensError: the package never ran. The likely causes are a missing build and a
    // Content-Security-Policy without 'wasm-unsafe-eval'.
    const message = `../pkg/browser.js: ${err.message}. If the files are missing, build them with “npm run demo” (or node scripts/build.mjs); if a Content-Security-Policy refused the WebAssembly, its script-src needs 'wasm-unsafe-eval'.`;
    showBanner({ title: 'The paytokens package did not load', errors: [{ error: { code: 'LOAD', message } }] });
    $('package-state').textContent = 'The paytokens package did not load (see above).';
    return;
  }
  await loadSandbox();
  renderCredentials();
  for (const p of HUB_PROVIDERS) $(`hub-${p}`).value = HUB_DEFAULTS[p];
  syncForm({ fillExample: true });

  $('lookup').addEventListener('submit', lookup);
  $('cancel-button').addEventListener('click', () => state.lookupAbort?.abort());
  for (const r of document.querySelectorAll('input[name="view"], input[name="provider"]')) r.addEventListener('change', () => syncForm({ fillExample: true }));
  // Enter in a credential field runs the lookup with the new values. (Its form has several fields
  // and no submit button, so the browser submits nothing by itself.)
  $('credentials').addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.isComposing || !e.target.matches('input')) return;
    e.preventDefault();
    $('lookup').requestSubmit();
  });
  $('credentials').addEventListener('input', (e) => {
    const p = e.target.dataset.provider;
    if (p) dropClient(p); // rebuilt with the new values on the next call
    updateTargetNotes();
  });
  $('target').addEventListener('change', () => {
    state.target = $('target').value;
    renderCredentials();
    if (state.target === 'real') $('connection').open = true;
  });
  $('environment').addEventListener('change', dropClients);
  $('results-body').addEventListener('click', onAction);
  let filterNote;
  $('filter').addEventListener('input', () => {
    state.filter = $('filter').value;
    renderTokens();
    // Said once typing pauses, not at every key.
    clearTimeout(filterNote);
    filterNote = setTimeout(() => {
      const shown = state.tokens.filter(matchesFilter).length;
      announce(state.filter ? `${shown} of ${state.tokens.length} tokens match the filter` : `All ${state.tokens.length} tokens shown`);
    }, 400);
  });
  document.addEventListener('keydown', (e) => {
    const typing = e.target.closest('input, textarea, select, [contenteditable]');
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      (view() === 'hub' ? $('hub-pinelabs') : $('customer')).focus();
    }
  });
  // Disabled, saying why, until the lookup has something to run with.
  $('package-state').remove();
  $('lookup-button').removeAttribute('aria-describedby');
  $('lookup-button').disabled = false;
  document.body.dataset.ready = 'true';
}

start();
