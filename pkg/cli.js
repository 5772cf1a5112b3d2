#!/usr/bin/env node
// `paytokens`: the SDK from a shell, for payment operations work — list, look up, suspend,
// reactivate and delete stored tokens, and export many customers' tokens at once. Data goes to
// stdout, everything for people (progress, errors, summaries) to stderr; credentials come from
// the environment or flags and are never printed.
import { readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline/promises';
import { createClient, PayTokensError } from './node.js';
import { PROVIDERS } from './hub.js';

// 5: a change that failed, but was or may have been made (its `writeOutcome`): a script must read
// the token before sending it again, where after 3, 6 or 7 nothing was changed. 6 and 7 tell a
// loop over tokens "not there" (a token already deleted at ChargeOver) and "try again later"
// (down, throttled, slow) from the rest, without reading stderr.
const EXIT = { OK: 0, DECLINED: 1, USAGE: 2, PROVIDER: 3, PARTIAL: 4, CHANGED: 5, NOT_FOUND: 6, LATER: 7 };
const CHANGES = new Set(['set-status', 'delete']);
const FORMATS = ['json', 'ndjson', 'csv', 'table'];
const CREDENTIAL_FAILURES = new Set(['AUTHENTICATION', 'CREDENTIALS_REVOKED']);
// A throttled export pauses every worker for the wait the provider asked for, and tries the
// customer again; a longer wait than this stops the export instead.
const THROTTLE_TRIES = 3;
const MAX_THROTTLE_PAUSE_MS = 5 * 60_000;
// Customers in a row for whom the provider was unavailable (each after the SDK's own retries,
// and a throttle after the export's own tries), with none listed between them, that stop an
// export: the provider is down, throttling for good, or the address is wrong, and every later
// customer would fail the same way, slowly. That is no answer (NETWORK, or a TIMEOUT without a
// status: a reply whose body was slow came from a provider that answers), a server error (5xx:
// a load balancer's 502 is the usual face of an outage), RATE_LIMITED, or a 404 the SDK calls
// PROVIDER_ERROR (the provider's own "no such customer" is NOT_FOUND: this is the address).
const UNAVAILABLE_IN_A_ROW = 3;
const unavailable = (err) => err?.code === 'NETWORK' || (err?.code === 'TIMEOUT' && err.httpStatus === undefined)
  || err?.code === 'RATE_LIMITED' || (err?.code === 'PROVIDER_ERROR' && (err.httpStatus >= 500 || err.httpStatus === 404));
// providerStatus, statusReason and label came later: added at the end, so that a sheet or script
// that reads columns by position keeps reading the same ones.
const CSV_COLUMNS = ['provider', 'id', 'customerId', 'status', 'paymentMethod', 'brand', 'last4', 'maskedPan', 'expiresAt', 'createdAt', 'updatedAt', 'providerStatus', 'statusReason', 'label'];

class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------
// Options and help

const COMMON = {
  provider: { type: 'string', short: 'p' },
  sandbox: { type: 'string' },
  environment: { type: 'string' },
  'base-url': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret': { type: 'string' },
  'service-code': { type: 'string' },
  'merchant-id': { type: 'string' },
  'merchant-key-file': { type: 'string' },
  'session-file': { type: 'string' },
  encryption: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  'api-key': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'max-retries': { type: 'string' },
  'deadline-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const COMMON_HELP = `Provider and credentials (flags win over environment variables):
  -p, --provider NAME         pinelabs | alliancepay | chargeover | payerly   [PAYTOKENS_PROVIDER]
      --sandbox URL           use a running sandbox on this machine (e.g. http://127.0.0.1:8788):
                              its base URLs and credentials from URL/_sandbox/credentials;
                              credential and base-URL environment variables are then
                              ignored (--base-url is not), --environment production is
                              refused; --sandbox ''
                              switches off PAYTOKENS_SANDBOX_URL           [PAYTOKENS_SANDBOX_URL]
      --environment ENV       sandbox (default) | production                [PAYTOKENS_ENVIRONMENT]
      --base-url URL          provider API base URL   [PINELABS_BASE_URL, ALLIANCEPAY_BASE_URL,
                                                        CHARGEOVER_BASE_URL, PAYERLY_BASE_URL]
      --client-id ID          Pine Labs                                     [PINELABS_CLIENT_ID]
      --client-secret SECRET  Pine Labs                                     [PINELABS_CLIENT_SECRET]
      --service-code CODE     AlliancePay                                   [ALLIANCEPAY_SERVICE_CODE]
      --merchant-id ID        AlliancePay (accepted, not sent)              [ALLIANCEPAY_MERCHANT_ID]
      --merchant-key-file F   AlliancePay P-384 private key, a JWK JSON file [ALLIANCEPAY_MERCHANT_KEY_FILE]
      --encryption MODE       AlliancePay token bodies: jwe (default) | none [ALLIANCEPAY_ENCRYPTION]
      --session-file F        AlliancePay: resume the session saved in F and save each new one
                              there (mode 600; it holds a refresh token), so that commands in a
                              loop do not each sign in and register a device [ALLIANCEPAY_SESSION_FILE]
      --username KEY          ChargeOver REST public key                    [CHARGEOVER_USERNAME]
      --password KEY          ChargeOver REST private key                   [CHARGEOVER_PASSWORD]
                              (ChargeOver also needs --base-url, your instance's /api/v3 URL)
      --api-key KEY           Payerly                                       [PAYERLY_API_KEY]
      --timeout-ms N          per attempt (default 30000; each --sandbox setup request: 10000)
      --max-retries N         default 2; 0 turns retries off
      --deadline-ms N         bounds each call as a whole: sign-in, attempts, waits, pages
                              (default none: a Retry-After of up to 60 s is waited out)
  -h, --help                  this help
Secrets on a command line are visible to other local users (ps); prefer the environment variables.`;

const FORMAT_HELP = `  -f, --format FORMAT         json | ndjson | csv | table (default: table on a terminal, json otherwise);
                              csv cells that could run as a spreadsheet formula start with '`;

const COMMANDS = {
  list: {
    summary: 'list the tokens of one customer',
    usage: 'paytokens list --provider NAME --customer ID [--format FORMAT]',
    options: { customer: { type: 'string', short: 'c' }, format: { type: 'string', short: 'f' } },
    help: `  -c, --customer ID           the customer whose tokens to list (required)\n${FORMAT_HELP}`,
    run: runList,
  },
  get: {
    summary: 'show one token',
    usage: 'paytokens get --provider NAME --token ID [--customer ID] [--format FORMAT]',
    options: {
      token: { type: 'string', short: 't' }, customer: { type: 'string', short: 'c' }, format: { type: 'string', short: 'f' },
      'account-id': { type: 'string' }, phone: { type: 'string' }, email: { type: 'string' },
    },
    help: `  -t, --token ID              the token id (required)
  -c, --customer ID           the token's customer (Pine Labs needs it)
      --account-id ID, --phone P, --email E
                              Payerly: narrow the lookup to that customer
${FORMAT_HELP}`,
    run: runGet,
  },
  'set-status': {
    summary: 'suspend or reactivate a token (AlliancePay)',
    usage: 'paytokens set-status --provider NAME --token ID --status ACTIVE|SUSPENDED [--customer ID] [--format FORMAT]',
    options: {
      token: { type: 'string', short: 't' }, status: { type: 'string', short: 's' }, customer: { type: 'string', short: 'c' },
      format: { type: 'string', short: 'f' },
    },
    help: `  -t, --token ID              the token id (required)
  -s, --status STATUS         ACTIVE (reactivate) or SUSPENDED (suspend) (required)
  -c, --customer ID           change the token only if it is this customer's
${FORMAT_HELP}
Prints the token after the change.`,
    run: runSetStatus,
  },
  delete: {
    summary: 'delete (Pine Labs: deactivate) a token',
    usage: 'paytokens delete --provider NAME --token ID [--customer ID] [--yes]',
    options: { token: { type: 'string', short: 't' }, customer: { type: 'string', short: 'c' }, yes: { type: 'boolean', short: 'y' } },
    help: `  -t, --token ID              the token id (required)
  -c, --customer ID           the token's customer (Pine Labs needs it)
  -y, --yes                   do not ask for confirmation (required when stdin is not a terminal)
Deleting cannot be undone.`,
    run: runDelete,
  },
  export: {
    summary: 'export the tokens of many customers',
    usage: 'paytokens export --provider NAME --input FILE [--concurrency N] [--format json|ndjson|csv]',
    options: {
      input: { type: 'string', short: 'i' }, concurrency: { type: 'string', short: 'n' }, format: { type: 'string', short: 'f' },
      progress: { type: 'boolean' }, 'no-progress': { type: 'boolean' },
    },
    help: `  -i, --input FILE            customer ids, one per line (blank lines and # comments skipped,
                              and counted on stderr), or a JSON array of strings; "-" reads
                              stdin (required; with no ids, a usage error)
  -n, --concurrency N         customers listed at once, 1–64 (default 8)
  -f, --format FORMAT         json (default) | ndjson | csv
      --progress              show the progress bar on stderr even when it is not a terminal
      --no-progress           never show it (default: shown when stderr is a terminal and
                              stdout is not)
Tokens are written in input order. A customer that fails is reported on stderr and the export
goes on; the exit code is then 4 (3 when every customer failed). A failed sign-in (wrong or
revoked credentials, a merchant key the bank did not encrypt to) stops the export at once, with
exit 3. A customer throttled past the SDK's retries is listed again (3 tries in all) after the
wait the provider asked for, with every worker waiting; a wait over 5 minutes stops the export.
So do 3 customers in a row for whom the provider is unavailable (NETWORK, TIMEOUT with no
reply, a 5xx, RATE_LIMITED, or a 404 from a wrong address), with exit 3; a JSON export then
lacks its closing ].
A customer id given twice is exported once. Ctrl-C, SIGTERM or SIGHUP stops the export once
what was handed to stdout is written (a whole record), with a note on stderr that the output is
incomplete, and exit 130, 143 or 129.`,
    run: runExport,
  },
};

function mainHelp() {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const list = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join('\n');
  return `paytokens — stored payment tokens at AlliancePay, ChargeOver, Pine Labs and Payerly

Usage: paytokens <command> [options]

Commands:
${list}

Run "paytokens <command> --help" for a command's options.

${COMMON_HELP}

Output: data on stdout only; progress, errors and summaries on stderr.
Exit codes: 0 ok · 1 delete declined at its prompt · 2 usage error · 3 provider or SDK error · 4 export finished with some customers failed, or cut off by a closed stdout · 5 a change failed, or its result could not be written, but was or may have been made: read the token before repeating it · 6 not found (list, get, set-status, delete) · 7 try again later: unavailable, throttled or out of time, nothing changed (list, get, set-status, delete) · Ctrl-C ends the process by SIGINT (130), so a shell loop stops too (export, set-status and delete first say on stderr what was done) · 143 SIGTERM, 129 SIGHUP (set-status and delete: 5 once the change was sent)

Examples:
  paytokens list --sandbox http://127.0.0.1:8788 -p pinelabs -c cust-v1-statuses --format csv
  PINELABS_CLIENT_ID=… PINELABS_CLIENT_SECRET=… paytokens export -p pinelabs -i customers.txt -f ndjson > tokens.ndjson
`;
}

function commandHelp(name) {
  const c = COMMANDS[name];
  return `paytokens ${name} — ${c.summary}

Usage: ${c.usage}

${c.help}

${COMMON_HELP}

Exit codes: 0 ok${name === 'delete' ? ' · 1 declined at the prompt' : ''} · 2 usage error · 3 provider or SDK error${name === 'export' ? ' · 4 some customers failed, or stdout closed early' : ''}${CHANGES.has(name) ? ' · 5 the change failed, was interrupted, or its result could not be written, but was or may have been made: read the token before repeating it' : ''}${name === 'export' ? '' : ' · 6 not found · 7 try again later: unavailable, throttled or out of time, nothing changed'} · Ctrl-C ends the process by SIGINT (130)${CHANGES.has(name) || name === 'export' ? ' once stderr says what was done' : ''} · 143 SIGTERM, 129 SIGHUP${CHANGES.has(name) ? ' before the change was sent' : ''}
`;
}

// ---------------------------------------------------------------------------------------------
// Client configuration: flags, then environment, or a sandbox

// A flag given on the command line wins over the environment, even empty: `--sandbox ''` is how
// to switch off a PAYTOKENS_SANDBOX_URL exported in the shell.
function pick(values, flag, envName) {
  const v = values[flag];
  if (v !== undefined) return v === '' ? undefined : v;
  const e = envName ? process.env[envName] : undefined;
  return e !== undefined && e !== '' ? e : undefined;
}

function intOption(values, flag, { min, max, fallback }) {
  const raw = values[flag];
  // Empty is not given, as for every flag; and only decimal digits: Number() reads '' and ' ' as
  // 0 (`--max-retries=$N` with N unset would have turned retries off), and reads 0x2 and 1e3 too.
  if (raw === undefined || raw === '') return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}`);
  return n;
}

// A sandbox answers at once; a port that accepts and never answers (another program, a paused
// process) must not hang the CLI.
const SANDBOX_SETUP_TIMEOUT_MS = 10_000;

async function sandboxSetup(url, provider, timeoutMs = SANDBOX_SETUP_TIMEOUT_MS) {
  let base;
  try {
    base = new URL(url);
  } catch {
    throw new UsageError('--sandbox must be a URL such as http://127.0.0.1:8788');
  }
  // The sandbox's own answer decides where calls go and what credentials they carry, so it must
  // be the one on this machine.
  if (!(base.hostname === 'localhost' || base.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(base.hostname))) {
    throw new UsageError('the sandbox (--sandbox or PAYTOKENS_SANDBOX_URL) must be on this machine: localhost, 127.x.x.x or [::1]');
  }
  // Credentials in the URL (user:pass@) are neither needed nor ever printed.
  base.username = '';
  base.password = '';
  const root = base.href.replace(/\/+$/, '');
  const get = async (path) => {
    // The timeout covers the body too: a reply that stops half-way hangs as surely as none.
    const signal = AbortSignal.timeout(timeoutMs);
    const timedOut = () => new PayTokensError({ code: 'TIMEOUT', message: `the sandbox at ${root} did not answer ${path} within ${timeoutMs / 1000} s`, retryable: true });
    let res;
    try {
      res = await fetch(`${root}${path}`, { signal });
    } catch (err) {
      if (signal.aborted) throw timedOut();
      throw new PayTokensError({ code: 'NETWORK', message: `cannot reach the sandbox at ${root} (${err.cause?.code ?? err.message})`, retryable: true });
    }
    if (!res.ok) throw new PayTokensError({ code: 'PROVIDER_ERROR', httpStatus: res.status, message: `the sandbox at ${root} answered ${res.status} for ${path}`, retryable: false });
    try {
      return await res.json();
    } catch {
      if (signal.aborted) throw timedOut();
      throw new PayTokensError({ code: 'PROVIDER_ERROR', message: `the sandbox at ${root} answered ${path} with a body that is not JSON`, retryable: false });
    }
  };
  const [health, credentials] = await Promise.all([get('/_sandbox/health'), get('/_sandbox/credentials')]);
  const baseUrl = health?.baseUrls?.[provider];
  return { root, baseUrl: typeof baseUrl === 'string' && baseUrl !== '' ? baseUrl : undefined, credentials: credentials?.[provider] ?? {} };
}

// The SDK config, and the session file that keeps its AlliancePay session (if any).
async function clientConfig(values) {
  let sessionFile;
  const provider = pick(values, 'provider', 'PAYTOKENS_PROVIDER');
  if (!provider) throw new UsageError(`--provider is required (${PROVIDERS.join(', ')}), or set PAYTOKENS_PROVIDER`);
  if (!PROVIDERS.includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}`);
  const config = { provider };
  const environment = pick(values, 'environment', 'PAYTOKENS_ENVIRONMENT');
  if (environment !== undefined) {
    if (!['sandbox', 'production'].includes(environment)) throw new UsageError('--environment must be sandbox or production');
    config.environment = environment;
  }
  const timeoutMs = intOption(values, 'timeout-ms', { min: 1, max: 600000 });
  if (timeoutMs !== undefined) config.timeoutMs = timeoutMs;
  const maxRetries = intOption(values, 'max-retries', { min: 0, max: 10 });
  if (maxRetries !== undefined) config.maxRetries = maxRetries;
  const deadlineMs = intOption(values, 'deadline-ms', { min: 1, max: 2147483647 });
  if (deadlineMs !== undefined) config.deadlineMs = deadlineMs;

  const sandboxUrl = pick(values, 'sandbox', 'PAYTOKENS_SANDBOX_URL');
  // In sandbox mode only flags may override: real credentials from the environment are never
  // sent to a local emulator.
  const fromEnv = sandboxUrl ? () => undefined : (name) => process.env[name] || undefined;
  // An empty flag wins too, as in `pick`: `--base-url ''` clears an exported PINELABS_BASE_URL.
  const flagOr = (flag, envName) => (values[flag] !== undefined ? values[flag] || undefined : fromEnv(envName));
  if (sandboxUrl) {
    // Sandbox mode replaces the providers' addresses: production would silently not be reached.
    if (environment === 'production') {
      throw new UsageError("production (--environment or PAYTOKENS_ENVIRONMENT) cannot be reached through the sandbox (--sandbox or PAYTOKENS_SANDBOX_URL); --sandbox '' leaves the sandbox");
    }
    const sbx = await sandboxSetup(sandboxUrl, provider, timeoutMs);
    Object.assign(config, sbx.credentials);
    if (sbx.baseUrl) config.baseUrl = sbx.baseUrl;
    // Without a base URL the client would go to the provider's own host, with whatever
    // credentials the command line carries, while the command line says sandbox.
    if (!sbx.baseUrl && !values['base-url']) {
      throw new PayTokensError({ code: 'PROVIDER_ERROR', provider, message: `the sandbox at ${sbx.root} has no base URL for ${provider}; nothing was sent (give --base-url, or use a sandbox that emulates ${provider})`, retryable: false });
    }
  }
  const upper = provider.toUpperCase();
  const baseUrl = flagOr('base-url', `${upper}_BASE_URL`);
  if (baseUrl !== undefined) config.baseUrl = baseUrl;

  const set = (key, flag, envName) => {
    const v = flagOr(flag, envName);
    if (v !== undefined) config[key] = v;
  };
  if (provider === 'pinelabs') {
    set('clientId', 'client-id', 'PINELABS_CLIENT_ID');
    set('clientSecret', 'client-secret', 'PINELABS_CLIENT_SECRET');
  } else if (provider === 'alliancepay') {
    set('serviceCode', 'service-code', 'ALLIANCEPAY_SERVICE_CODE');
    set('merchantId', 'merchant-id', 'ALLIANCEPAY_MERCHANT_ID');
    // Not a credential, and what the bank's answer to the wrong choice tells the user to change:
    // read from the environment in sandbox mode too. The SDK checks the value.
    const encryption = pick(values, 'encryption', 'ALLIANCEPAY_ENCRYPTION');
    if (encryption !== undefined) config.encryption = encryption;
    const keyFile = flagOr('merchant-key-file', 'ALLIANCEPAY_MERCHANT_KEY_FILE');
    if (keyFile !== undefined) {
      try {
        // Without the byte-order mark some Windows editors put first, as the customers file is read.
        config.merchantPrivateKey = JSON.parse(readFileSync(keyFile, 'utf8').replace(/^\uFEFF/, ''));
      } catch (err) {
        // The setting is never shown: it may hold the key itself by mistake (a CI secret, JSON or
        // base64, pasted into the variable), and whoever set it knows which file they meant.
        const from = values['merchant-key-file'] !== undefined ? '--merchant-key-file' : 'ALLIANCEPAY_MERCHANT_KEY_FILE';
        throw new UsageError(`cannot read the merchant key file given by ${from} as JSON (${err.code ?? 'invalid JSON'}); it must be the path of a file holding the key`);
      }
    }
    sessionFile = flagOr('session-file', 'ALLIANCEPAY_SESSION_FILE');
    if (sessionFile !== undefined) keepSessionIn(sessionFile, config);
  } else if (provider === 'chargeover') {
    set('username', 'username', 'CHARGEOVER_USERNAME');
    set('password', 'password', 'CHARGEOVER_PASSWORD');
  } else if (provider === 'payerly') {
    set('apiKey', 'api-key', 'PAYERLY_API_KEY');
  }
  return { config, sessionFile };
}

// The session the SDK hands to `onSessionUpdate`, kept in a file between commands. Written whole
// (a new file renamed over the old), so that a command interrupted while saving leaves the last
// session, not half of one; readable by its owner only, as the refresh token in it is a credential.
function keepSessionIn(file, config) {
  try {
    config.session = JSON.parse(readFileSync(file, 'utf8'));
    if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
      process.stderr.write(`paytokens: ${printable(file)} holds a refresh token and others can read it: chmod 600 it\n`);
    }
  } catch (err) {
    if (err.code !== 'ENOENT') throw new UsageError(`cannot read the session file ${printable(file)} as JSON (${err.code ?? 'invalid JSON'}); delete it, and the next command signs in afresh`);
  }
  config.onSessionUpdate = (session) => {
    // Beside the file a link points to, so that the rename replaces the file, not the link.
    let target = file;
    try {
      target = realpathSync(file);
    } catch {
      // not there yet
    }
    const next = `${target}.${process.pid}.tmp`;
    const text = JSON.stringify(session);
    try {
      writeFileSync(next, text, { mode: 0o600 });
      renameSync(next, target);
    } catch {
      // A file bind-mounted on its own (Docker's -v file:file) cannot be renamed over: written in
      // place then, and the copy with its refresh token removed.
      try {
        rmSync(next, { force: true });
        writeFileSync(target, text, { mode: 0o600 });
      } catch (err) {
        process.stderr.write(`paytokens: could not save the session to ${printable(file)} (${err.code ?? err.message}); the next command may sign in again\n`);
      }
    }
  };
}

// What each command needs of the provider (its `capabilities`), in the SDK's words for it.
const OPERATIONS = { listTokens: 'token listing', getToken: 'token lookup', updateTokenStatus: 'token status change', deleteToken: 'token deletion' };

async function makeClient(values, operation) {
  const { config, sessionFile } = await clientConfig(values);
  let client;
  try {
    client = createClient(config);
  } catch (err) {
    if (err?.code === 'INVALID_INPUT' && err.message.startsWith('config.session')) {
      throw new UsageError(`the session in ${printable(sessionFile)} cannot be used (${err.message}); delete the file, and the next command signs in afresh, or give another --session-file`);
    }
    // A missing or malformed credential: the SDK names the field only, never its value.
    if (err?.code === 'INVALID_INPUT') throw new UsageError(`${err.message} — give it with a flag or its environment variable (see --help)`);
    throw err;
  }
  // An operation the provider does not have is a mistake in the command line, said once and
  // before anything reaches the provider (or the user is asked): an export would otherwise fail
  // once per customer. With --sandbox, only the sandbox's own setup requests came first.
  if (!client.capabilities[operation]) throw new UsageError(`${client.provider} has no ${OPERATIONS[operation]} operation`);
  return client;
}

// ---------------------------------------------------------------------------------------------
// Output

const out = process.stdout;

/** Whether stdout has passed on everything written to it within `ms`. */
async function stdoutTaken(ms) {
  for (const until = Date.now() + ms; out.writableLength > 0; await new Promise((resolve) => setTimeout(resolve, 10))) {
    if (Date.now() >= until) return false;
  }
  return true;
}

function write(text) {
  if (out.write(text)) return undefined;
  return new Promise((resolve) => out.once('drain', resolve));
}

// A spreadsheet runs a cell that starts with = + - @ (or a control character before one) as a formula, and
// provider data such as ids or customer references can start that way. The leading ' makes it
// text (OWASP's advice); JSON and NDJSON keep exact values for programs.
// Control characters before one do not make it text: LibreOffice runs a NUL-led "=HYPERLINK(…)".
const FORMULA_START = /^(?:[\0-\x1f]*[=+\-@]|[\0\t\r])/;

function csvCell(value) {
  if (value === undefined || value === null) return '';
  let text = FORMULA_START.test(String(value)) ? `'${value}` : String(value);
  // On a terminal the cell is shown, not stored: its control characters are escaped as in a
  // table. To a file or a pipe the data stays byte-exact.
  if (out.isTTY) text = printable(text);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvRow(token) {
  const card = token.card ?? {};
  const cells = { ...token, brand: card.brand, last4: card.last4, maskedPan: card.maskedPan };
  return `${CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',')}\r\n`;
}

const CSV_HEADER = `${CSV_COLUMNS.join(',')}\r\n`;

function shortDate(iso) {
  return iso ? iso.slice(0, 10) : '';
}

// Provider text (ids, brands, error messages) reaches a terminal here. Control characters in it
// would be obeyed: ESC sequences can clear the screen, retitle the window or fake a line, and
// bidi overrides reorder what is shown. They are written as visible \u escapes instead.
// C1 controls, DEL, bidi marks and overrides, line and paragraph separators; with C0, everything.
const OBEYED_PAST_C0 = '\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029';
const UNPRINTABLE = new RegExp(`[\\u0000-\\u001f${OBEYED_PAST_C0}]`, 'g');
// The same less C0, which JSON.stringify already escapes (and whose line breaks lay out
// indented JSON): in JSON these stand only inside strings, where \u escapes parse back to them.
const UNPRINTABLE_IN_JSON = new RegExp(`[${OBEYED_PAST_C0}]`, 'g');
const unicodeEscape = (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

// A customer id as a note shows it: an input line of megabytes is not echoed whole.
function shortened(text) {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function printable(value) {
  return String(value).replace(UNPRINTABLE, unicodeEscape);
}

/** An id from the command line, as stderr shows it: a card number pasted as one is masked, as
 * the SDK masks one in its own messages (first 6 and last 4 digits kept). */
function shown(id) {
  return printable(id).replace(/\d{13,19}/g, (digits) => (luhn(digits) ? `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}` : digits));
}

function luhn(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** JSON as written to stdout: on a terminal, with nothing in it a terminal would obey. */
function jsonText(value, indent) {
  const text = JSON.stringify(value, null, indent);
  return out.isTTY ? text.replace(UNPRINTABLE_IN_JSON, unicodeEscape) : text;
}

function table(tokens) {
  const head = ['PROVIDER', 'TOKEN', 'CUSTOMER', 'STATUS', 'METHOD', 'BRAND', 'CARD', 'EXPIRES', 'UPDATED'];
  const rows = tokens.map((t) => [
    t.provider, t.id, t.customerId ?? '', t.status, t.paymentMethod, t.card?.brand ?? '',
    t.card?.maskedPan ?? (t.card?.last4 ? `•••• ${t.card.last4}` : ''),
    shortDate(t.expiresAt) || (t.card?.expiryMonth && t.card.expiryYear ? `${String(t.card.expiryMonth).padStart(2, '0')}/${t.card.expiryYear}` : ''),
    shortDate(t.updatedAt ?? t.createdAt),
  ].map(printable));
  // Not Math.max(...rows): spreading a long list overflows the call stack.
  const widths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i].length), h.length));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

function formatOf(values, fallback) {
  const format = values.format ?? fallback ?? (out.isTTY ? 'table' : 'json');
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  return format;
}

async function printTokens(tokens, format) {
  if (format === 'json') return write(`${jsonText(tokens, 2)}\n`);
  if (format === 'ndjson') return write(tokens.map((t) => `${jsonText(t)}\n`).join(''));
  if (format === 'csv') return write(CSV_HEADER + tokens.map(csvRow).join(''));
  if (tokens.length === 0) {
    process.stderr.write('No tokens.\n');
    return undefined;
  }
  return write(table(tokens));
}

function required(values, flag, what) {
  const v = values[flag];
  if (v === undefined || v === '') throw new UsageError(`--${flag} is required (${what})`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Commands

async function runList(values) {
  const customerId = required(values, 'customer', 'the customer id');
  const format = formatOf(values);
  const client = await makeClient(values, 'listTokens');
  await printTokens(await client.listTokens({ customerId }), format);
  return EXIT.OK;
}

// Pine Labs finds a token under its customer. Checked before the sandbox's setup requests, so that
// an unreachable sandbox does not turn the mistake into "try again later" (7).
function needsCustomer(values, verb) {
  if (pick(values, 'provider', 'PAYTOKENS_PROVIDER') === 'pinelabs' && !values.customer) {
    throw new UsageError(`--customer is required to ${verb} a token at pinelabs (the customer id)`);
  }
}

async function runGet(values) {
  const tokenId = required(values, 'token', 'the token id');
  const format = formatOf(values);
  needsCustomer(values, 'get');
  const client = await makeClient(values, 'getToken');
  const input = { tokenId };
  if (values.customer) input.customerId = values.customer;
  if (values['account-id']) input.accountId = values['account-id'];
  if (values.phone) input.phone = values.phone;
  if (values.email) input.email = values.email;
  const token = await client.getToken(input);
  if (format === 'json') await write(`${jsonText(token, 2)}\n`);
  else await printTokens([token], format);
  return EXIT.OK;
}

async function runSetStatus(values) {
  const tokenId = required(values, 'token', 'the token id');
  const status = required(values, 'status', 'ACTIVE or SUSPENDED').toUpperCase();
  if (!['ACTIVE', 'SUSPENDED'].includes(status)) throw new UsageError('--status must be ACTIVE or SUSPENDED (use "paytokens delete" to delete)');
  const format = formatOf(values);
  const client = await makeClient(values, 'updateTokenStatus');
  const input = { tokenId, status };
  if (values.customer) input.customerId = values.customer;
  const token = await interruptible((signal) => client.updateTokenStatus(input, { signal }));
  changed = true;
  if (format === 'json') await write(`${jsonText(token, 2)}\n`);
  else await printTokens([token], format);
  return EXIT.OK;
}

/** 'yes', 'no' (Ctrl-D too), or 'interrupted' (Ctrl-C). */
async function confirm(question) {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const asking = new AbortController();
  let interrupted = false;
  rl.on('SIGINT', () => {
    interrupted = true;
    asking.abort();
  });
  try {
    const answer = await rl.question(question, { signal: asking.signal });
    return /^y(es)?$/i.test(answer.trim()) ? 'yes' : 'no';
  } catch (err) {
    if (err?.name === 'AbortError') return interrupted ? 'interrupted' : 'no';
    throw err;
  } finally {
    rl.close();
  }
}

async function runDelete(values) {
  const tokenId = required(values, 'token', 'the token id');
  // Refused before the question, not after a "y": what the provider cannot delete (makeClient),
  // or cannot delete without the customer.
  needsCustomer(values, 'delete');
  const client = await makeClient(values, 'deleteToken');
  if (!values.yes) {
    if (!process.stdin.isTTY) throw new UsageError('delete needs --yes when stdin is not a terminal');
    const answer = await confirm(`Delete token ${shown(tokenId)} at ${client.provider}? This cannot be undone. [y/N] `);
    if (answer !== 'yes') {
      process.stderr.write(`Not deleted: token ${shown(tokenId)} at ${client.provider}.\n`);
      if (answer === 'interrupted') await dieOfSigint(true);
      return EXIT.DECLINED;
    }
  }
  const input = { tokenId };
  if (values.customer) input.customerId = values.customer;
  await interruptible((signal) => client.deleteToken(input, { signal }));
  changed = true;
  // "is deleted", not "was": a token deleted before is one too, and nothing was sent for it.
  process.stderr.write(`Token ${shown(tokenId)} at ${client.provider} is deleted.\n`);
  return EXIT.OK;
}

// Ctrl-C or a TERM while a change is under way aborts the call instead of killing the process:
// the SDK's ABORTED then says whether the change may have been made (its writeOutcome), and the
// message and exit code carry that (5), where a silent death told nothing. The first signal of
// either kind removes both handlers, so a second one ends the process at once.
let interruptedBy = null;

// A shell stops a loop of commands at Ctrl-C only when the command died of SIGINT: one that
// exits, even with 130 or 5, is taken to have handled it, and the loop goes on to its next
// delete. So once stderr says what was done, Ctrl-C ends the process by the signal itself.
// `group`: Ctrl-C read by the confirmation prompt, whose terminal then sent no signal at all: it
// goes to the process group, the shell's loop included, as the terminal would have sent it.
function dieOfSigint(group = false) {
  // Windows has no signals to die of: its kill() ends a process with code 1, the "declined" one.
  if (process.platform === 'win32') process.exit(130);
  process.removeAllListeners('SIGINT');
  process.kill(group ? 0 : process.pid, 'SIGINT');
  // Should the signal not end it (a debugger, an inherited ignore), the shell's code for it.
  setTimeout(() => process.exit(130), 1000);
  return new Promise(() => {});
}
// SIGHUP: the terminal or ssh session went away mid-delete. Unhandled, it ended the process
// silently, with no word of whether the change was sent; handled as SIGTERM, the exit code says.
const SIGNALS = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]];
// A hangup often comes twice (the shell passes it on, and the kernel sends it to the foreground
// group): after the first signal, a second Ctrl-C or TERM ends the process at once, a SIGHUP does not.
const ignoreHangups = () => process.on('SIGHUP', () => {});
async function interruptible(change) {
  const controller = new AbortController();
  const handlers = SIGNALS.map(([name, number]) => [name, () => {
    removeAll();
    ignoreHangups();
    interruptedBy = { name, number };
    controller.abort();
  }]);
  const removeAll = () => { for (const [name, handler] of handlers) process.removeListener(name, handler); };
  for (const [name, handler] of handlers) process.on(name, handler);
  try {
    return await change(controller.signal);
  } finally {
    removeAll();
  }
}

function readCustomers(file) {
  let text;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --input ${JSON.stringify(file)} (${err.code ?? err.message})`);
  }
  // A byte-order mark (some editors write one) is not part of the first id.
  text = text.replace(/^\uFEFF/, '');
  if (text.trimStart().startsWith('[')) {
    let list;
    try {
      list = JSON.parse(text);
    } catch {
      throw new UsageError('--input looks like JSON but does not parse');
    }
    // A number past 2^53 has already been rounded by JSON.parse: it would name another customer.
    if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' || Number.isSafeInteger(x))) {
      throw new UsageError('--input JSON must be an array of customer id strings (or whole numbers below 2^53)');
    }
    return once(list.map(String).filter((x) => x.trim() !== ''));
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const ids = lines.filter((l) => !l.startsWith('#'));
  // Said, since an id can start with # too: it would be left out without a word.
  const comments = lines.length - ids.length;
  if (comments > 0) process.stderr.write(`paytokens export: ${comments} line(s) starting with # skipped as comments (give --input as a JSON array for ids that start with #).\n`);
  return once(ids);
}

// A customer listed twice is exported once: a bulk job reading the export would otherwise act on
// each of their tokens twice.
function once(customers) {
  const unique = [...new Set(customers)];
  const repeated = customers.length - unique.length;
  if (repeated > 0) process.stderr.write(`paytokens export: ${repeated} repeated customer id(s) in --input, each exported once.\n`);
  return unique;
}

// One status line on stderr, redrawn in place with \r (padded, so no terminal escapes are needed
// and a log file reads as a sequence of updates). Other stderr lines clear it first.
class Progress {
  #enabled;
  #last = '';
  #drawnAt = 0;
  #started = Date.now();

  constructor(enabled, total) {
    this.#enabled = enabled;
    this.total = total;
    this.done = 0;
    this.tokens = 0;
    this.failed = 0;
  }

  #line() {
    const width = 24;
    const ratio = this.total ? this.done / this.total : 1;
    const filled = Math.round(ratio * width);
    const secs = ((Date.now() - this.#started) / 1000).toFixed(1);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% `
      + `${this.done}/${this.total} customers · ${this.tokens} tokens · ${this.failed} failed · ${secs}s`;
  }

  draw(force = false) {
    if (!this.#enabled) return;
    const now = Date.now();
    if (!force && now - this.#drawnAt < 100) return;
    this.#drawnAt = now;
    const line = this.#line();
    process.stderr.write(`\r${line.padEnd(this.#last.length)}`);
    this.#last = line;
  }

  clear() {
    if (!this.#enabled || !this.#last) return;
    process.stderr.write(`\r${' '.repeat(this.#last.length)}\r`);
    this.#last = '';
  }

  note(text) {
    this.clear();
    process.stderr.write(`${text}\n`);
    this.draw(true);
  }

  finish() {
    if (!this.#enabled) return;
    this.draw(true);
    process.stderr.write('\n');
  }
}

async function runExport(values) {
  const file = required(values, 'input', 'a file of customer ids, or - for stdin');
  const format = formatOf(values, 'json');
  if (format === 'table') throw new UsageError('export writes json, ndjson or csv');
  const concurrency = intOption(values, 'concurrency', { min: 1, max: 64, fallback: 8 });
  if (values.progress && values['no-progress']) throw new UsageError('--progress and --no-progress contradict each other');
  const customers = readCustomers(file);
  // An empty list (an upstream query that found nothing, a wrong file) would "succeed" with no
  // output, which a nightly job could not tell from a merchant with no customers.
  if (customers.length === 0) throw new UsageError(`--input ${JSON.stringify(file)} holds no customer ids`);
  const client = await makeClient(values, 'listTokens');
  // Off by default when the records go to the same terminal: they would scroll the bar away.
  const progress = new Progress(values['no-progress'] ? false : Boolean(values.progress || (process.stderr.isTTY && !out.isTTY)), customers.length);

  // Results are written in input order as soon as every earlier customer is done, so output is
  // streamed and repeatable. Workers run at most AHEAD customers past the oldest one not yet
  // written, so one slow customer cannot make the whole rest of the input pile up in memory.
  const AHEAD = 4 * concurrency;
  const results = new Array(customers.length);
  const waiting = [];
  let nextToWrite = 0;
  let written = 0;
  let customersWritten = 0;
  let interrupted = false;
  let next = 0; // the next customer to list
  let writing = Promise.resolve();
  const flush = async () => {
    while (!interrupted && nextToWrite < customers.length && results[nextToWrite] !== undefined) {
      const tokens = results[nextToWrite];
      results[nextToWrite] = null;
      nextToWrite += 1;
      let chunk = '';
      for (const t of tokens) {
        if (format === 'json') chunk += `${written === 0 ? '\n' : ',\n'}  ${jsonText(t)}`;
        else if (format === 'ndjson') chunk += `${jsonText(t)}\n`;
        else chunk += csvRow(t);
        written += 1;
      }
      if (chunk) {
        // The bar shares the terminal when stdout is one too: clear it so that no record is glued to it.
        progress.clear();
        await write(chunk);
      }
      customersWritten += 1;
    }
    for (const wake of waiting.splice(0)) wake();
  };

  exporting = true;
  // Ctrl-C or a TERM: nothing more is listed or written, and the process leaves once stdout has
  // taken what was handed to it (a pipe takes it later: leaving at once cut the last record in
  // half). Whole records would read as a finished export: stderr says it is not, and how many of
  // --input's customers are done, and the exit code is the shell's for the signal (130, 143). The
  // first signal removes both handlers, so a second one ends the process at once.
  const handlers = SIGNALS.map(([name, number]) => [name, async () => {
    for (const [other, handler] of handlers) process.removeListener(other, handler);
    ignoreHangups();
    interrupted = true;
    next = customers.length;
    const taken = await stdoutTaken(2000);
    progress.clear();
    const cut = taken ? '' : ' (stdout had not taken the last of it 2 s later: its last record may be cut)';
    process.stderr.write(`paytokens export: interrupted (${name}): the first ${customersWritten} of ${customers.length} customer(s) in --input are done, their tokens written${cut}; the output is incomplete.\n`);
    if (name === 'SIGINT') dieOfSigint();
    else process.exit(128 + number);
  }]);
  for (const [name, handler] of handlers) process.on(name, handler);
  if (format === 'json') await write('[');
  if (format === 'csv') await write(CSV_HEADER);
  progress.draw(true);

  const failures = [];
  // Wrong or revoked credentials (a failed sign-in), or a config refused once in use, fail every
  // customer the same way: stop handing out work instead of signing in once per customer against
  // the provider. So does a throttle longer than a pause is worth.
  let stoppedBy = null;
  let pauseUntil = 0;
  let unavailableInARow = 0;
  const stops = (err) => CREDENTIAL_FAILURES.has(err?.code) || configRefused(err)
    || (err?.code === 'RATE_LIMITED' && err.retryAfterMs > MAX_THROTTLE_PAUSE_MS);
  const listOne = async (customerId) => {
    let throttled;
    for (let attempt = 1; ; attempt += 1) {
      const pause = pauseUntil - Date.now();
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
      // Stopped by another worker during the pause: this customer fails as it last did.
      if (throttled && (stoppedBy || interrupted)) throw throttled;
      try {
        return await client.listTokens({ customerId });
      } catch (thrown) {
        if (thrown?.code !== 'RATE_LIMITED' || stops(thrown) || attempt === THROTTLE_TRIES || stoppedBy || interrupted) throw thrown;
        throttled = thrown;
        const wait = thrown.retryAfterMs ?? 1000 * 2 ** attempt;
        if (Date.now() + wait > pauseUntil) {
          pauseUntil = Date.now() + wait;
          progress.note(`${client.provider} is throttling: every worker waits ${Math.ceil(wait / 1000)} s, then tries again.`);
        }
      }
    }
  };
  const worker = async () => {
    while (next < customers.length) {
      if (next >= nextToWrite + AHEAD) {
        // The customer at nextToWrite is in flight; its flush wakes this worker.
        await new Promise((resolve) => waiting.push(resolve));
        continue;
      }
      const index = next++;
      const customerId = customers[index];
      try {
        results[index] = await listOne(customerId);
        progress.tokens += results[index].length;
        unavailableInARow = 0;
      } catch (thrown) {
        results[index] = [];
        progress.failed += 1;
        failures.push({ customerId, error: thrown });
        progress.note(`failed: customer ${shown(JSON.stringify(shortened(customerId)))}: ${describe(thrown)}`);
        unavailableInARow = unavailable(thrown) ? unavailableInARow + 1 : 0;
        if ((stops(thrown) || unavailableInARow >= UNAVAILABLE_IN_A_ROW) && !stoppedBy) {
          stoppedBy = thrown;
          next = customers.length;
        }
      }
      progress.done += 1;
      progress.draw();
      writing = writing.then(flush);
      await writing;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, customers.length) }, worker));
  await writing;
  // A signal's handler ends the run (once stdout has taken what it has): no closing ] or summary.
  if (interrupted) await new Promise(() => {});
  // A stopped export is incomplete: its JSON is left without the closing ], as on a signal.
  if (format === 'json' && !stoppedBy) await write(written === 0 ? ']\n' : '\n]\n');
  // Written whole: a signal from here on is no longer an interrupted export.
  for (const [name, handler] of handlers) process.removeListener(name, handler);
  progress.finish();
  if (stoppedBy) {
    const tried = progress.done;
    const then = stoppedBy.code === 'RATE_LIMITED' ? 'Run again once the wait is over'
      : unavailable(stoppedBy) ? `${client.provider} was unavailable for ${UNAVAILABLE_IN_A_ROW} customers in a row; check its base URL, the network and the provider's status, and run again`
        : 'Fix the credentials or the config and run again';
    process.stderr.write(`Stopped after ${tried} of ${customers.length} customer(s): ${describe(stoppedBy)}. ${then}.\n`);
    return EXIT.PROVIDER;
  }
  const ok = customers.length - failures.length;
  process.stderr.write(`Exported ${written} token(s) from ${ok} of ${customers.length} customer(s) at ${client.provider}`
    + `${failures.length ? `; ${failures.length} failed` : ''}.\n`);
  if (failures.length === 0) return EXIT.OK;
  return ok === 0 ? EXIT.PROVIDER : EXIT.PARTIAL;
}

// ---------------------------------------------------------------------------------------------
// Main

function describe(err) {
  if (err instanceof PayTokensError || (err && typeof err.code === 'string')) {
    const where = [err.provider, err.httpStatus && `HTTP ${err.httpStatus}`, err.providerCode && `provider code ${err.providerCode}`, err.requestId && `request ${err.requestId}`]
      .filter(Boolean).join(', ');
    const wait = Number.isFinite(err.retryAfterMs) ? ` after ${Math.ceil(err.retryAfterMs / 1000)} s` : '';
    return printable(`${err.code}: ${err.message}${where ? ` (${where})` : ''}${err.retryable ? ` — retryable${wait}` : ''}`);
  }
  return printable(err?.message ?? err);
}

// A config the platform refused once in use (AlliancePay's merchant key, which WebCrypto checks
// only when the first reply is decrypted). One refused by createClient is a UsageError before any
// request (makeClient); this one comes after a request, and is not the command line's fault.
const configRefused = (err) => err?.code === 'INVALID_INPUT' && /^config\./.test(err.message ?? '');

// Own keys only: "toString" is not a command.
const commandNamed = (name) => (Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined);

function unknownCommand(word, asHelpTopic = false) {
  // Never echo the word: a misplaced argument may be a secret.
  const what = word.startsWith('-') && !asHelpTopic ? 'options come after the command' : 'unknown command';
  process.stderr.write(`paytokens: ${what}. Commands: ${Object.keys(COMMANDS).join(', ')}. See "paytokens --help".\n`);
  return EXIT.USAGE;
}

async function main(argv) {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    // `help --help` is the main help, as `help` alone.
    const topic = first === 'help' && rest[0] !== '-h' && rest[0] !== '--help' ? rest[0] : undefined;
    if (topic !== undefined) {
      if (!commandNamed(topic)) return unknownCommand(topic, true);
      out.write(commandHelp(topic));
      return EXIT.OK;
    }
    if (first === undefined) {
      process.stderr.write(mainHelp());
      return EXIT.USAGE;
    }
    out.write(mainHelp());
    return EXIT.OK;
  }
  if (first === '--version' || first === '-V') {
    const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
    out.write(`${pkg.version}\n`);
    return EXIT.OK;
  }
  const command = commandNamed(first);
  if (!command) return unknownCommand(first);
  const usage = (text) => {
    process.stderr.write(`paytokens ${first}: ${text}\nUsage: ${command.usage}\nSee "paytokens ${first} --help".\n`);
    return EXIT.USAGE;
  };
  let values;
  try {
    const parsed = parseArgs({ args: rest, options: { ...COMMON, ...command.options }, strict: true, allowPositionals: true, tokens: true });
    values = parsed.values;
    const given = new Set();
    for (const t of parsed.tokens) {
      // Counted after the command word.
      if (t.kind === 'positional') throw new UsageError(`unexpected argument #${t.index + 1} (options take the form --name value)`);
      if (t.kind !== 'option') continue;
      // The last of two would win unseen: `delete -t A -t B` deletes only B.
      if (given.has(t.name)) throw new UsageError(`--${t.name} is given twice`);
      given.add(t.name);
      if (t.inlineValue && !t.rawName.startsWith('--') && t.value.startsWith('=')) {
        throw new UsageError(`${t.rawName}=… would take the "=" into the value: write ${t.rawName} VALUE or --${t.name}=VALUE`);
      }
    }
  } catch (err) {
    // parseArgs messages name the option, never its value.
    return usage(err.message);
  }
  if (values.help) {
    out.write(commandHelp(first));
    return EXIT.OK;
  }
  try {
    return await command.run(values);
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    // INVALID_INPUT with no HTTP status was refused before any request (a missing --customer
    // for Pine Labs, a malformed id): a usage error. A provider's 400 carries its status; a token
    // held under another customer than --customer, or whose reply names no customer, is known
    // only from the provider's reply: not a mistake in the command line.
    const afterReading = /is not this customer's|reply names no customer/.test(err?.message ?? '');
    if (err?.code === 'INVALID_INPUT' && err.httpStatus === undefined && !afterReading && !configRefused(err)) return usage(describe(err));
    const mayHaveChanged = err?.writeOutcome === 'UNKNOWN' || err?.writeOutcome === 'APPLIED';
    // Which token or customer: a loop's stderr names each failure.
    const subject = first === 'export' ? '' : values.token ? ` (token ${shown(values.token)})` : values.customer ? ` (customer ${shown(values.customer)})` : '';
    if (interruptedBy && err?.code === 'ABORTED') {
      process.stderr.write(`paytokens ${first}${subject}: interrupted (${interruptedBy.name}): ${describe(err)}\n`);
      // A change that may have been made keeps its 5, for the program that sent the signal: a
      // person at a loop presses Ctrl-C again, which then stops it.
      if (mayHaveChanged) return EXIT.CHANGED;
      // Nothing sent, or nothing that can have been applied: the signal's own end.
      return interruptedBy.name === 'SIGINT' ? dieOfSigint() : 128 + interruptedBy.number;
    }
    process.stderr.write(`paytokens ${first}${subject}: ${describe(err)}\n`);
    if (mayHaveChanged) return EXIT.CHANGED;
    if (first === 'export') return EXIT.PROVIDER;
    if (err?.code === 'NOT_FOUND') return EXIT.NOT_FOUND;
    return err?.retryable === true ? EXIT.LATER : EXIT.PROVIDER;
  }
}

// stderr carries only progress and diagnostics: a reader that went away (`2>&1 >file | head`)
// must not crash an export half-written. The outcome is still in the exit code.
process.stderr.on('error', () => {});

// A closed pipe (`paytokens list … | head`) is the reader's choice, not an error worth a stack
// trace; but an export cut off that way is incomplete, and says so with exit 4. `changed`: set-status
// or delete made its change, after which a failed write of the result is exit 5, not "nothing was
// changed".
let exporting = false;
let changed = false;
out.on('error', (err) => {
  if (err.code === 'EPIPE') {
    if (exporting) process.stderr.write('paytokens export: stdout was closed; the export is incomplete.\n');
    process.exit(exporting ? EXIT.PARTIAL : EXIT.OK);
  }
  process.stderr.write(`paytokens: cannot write to stdout (${err.code ?? err.message})${changed ? '; the change was made' : ''}\n`);
  process.exit(exporting ? EXIT.PARTIAL : changed ? EXIT.CHANGED : EXIT.PROVIDER);
});


const code = await main(process.argv.slice(2));
// Let stdout drain before leaving (pipes are asynchronous in Node).
process.exitCode = code;
