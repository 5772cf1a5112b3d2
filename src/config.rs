//! Client configuration: what `createClient` accepts, checked before anything is sent.
//! A bad field gives INVALID_INPUT naming the field, and never echoes the value it held.

use serde::{Deserialize, Serialize};
use tsify::Tsify;

use crate::error::{Error, Result};
use crate::model::Provider;
use crate::retry::RetryPolicy;
use crate::secret::Secret;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Tsify)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Sandbox,
    Production,
}

/// Options every provider takes.
#[derive(Clone, Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct CommonOptions {
    /// Default "sandbox": a forgotten setting never reaches the provider's production host on its
    /// own. Picks the host when `baseUrl` is not given; given explicitly with a `baseUrl` that is
    /// the provider's host for the other environment, it is INVALID_INPUT. A `baseUrl` given
    /// without it is taken as it is, whichever host it names.
    #[serde(default)]
    #[tsify(optional)]
    pub environment: Option<Environment>,
    /// Everything before the documented paths, e.g. `https://api.pluralpay.in/api`.
    #[serde(default)]
    #[tsify(optional)]
    pub base_url: Option<String>,
    /// Per attempt, 1–600000 ms; default 30000.
    #[serde(default)]
    #[tsify(optional)]
    pub timeout_ms: Option<u32>,
    /// 0–10; default 2; 0 turns retries off.
    #[serde(default)]
    #[tsify(optional)]
    pub max_retries: Option<u32>,
    /// An overall budget for one call (1–2147483647 ms): its sign-in, attempts, waits, pages, and
    /// each request of a call that makes several.
    #[serde(default)]
    #[tsify(optional)]
    pub deadline_ms: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PineLabsConfig {
    pub client_id: String,
    #[tsify(type = "string")]
    pub client_secret: Secret,
    #[serde(skip)]
    pub common: CommonOptions,
}

/// A P-384 private key as a JWK (`kty: "EC"`, `crv: "P-384"`, `x`, `y`, `d`).
#[derive(Clone, Debug, Deserialize, Tsify)]
pub struct MerchantKey {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    #[tsify(type = "string")]
    pub d: Secret,
    #[serde(default)]
    #[tsify(optional)]
    pub kid: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize, Tsify)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    #[default]
    Jwe,
    None,
}

/// A saved AlliancePay session: enough to resume without re-authorizing. Holds no merchant key.
#[derive(Clone, Debug, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct AlliancePaySession {
    pub device_id: String,
    #[tsify(type = "string")]
    pub refresh_token: Secret,
    /// The bank's P-384 public JWK for this session.
    #[tsify(type = "{ kty: string; crv: string; x: string; y: string }")]
    pub server_public: serde_json::Value,
    /// ISO-8601 UTC, as the bank stated it (not moved to the saving host's clock).
    pub expires_at: String,
    /// Whose session it is: a fingerprint of the serviceCode and baseUrl it was opened with (not
    /// the serviceCode itself). A session resumed by a client of another merchant or environment
    /// is refused (INVALID_INPUT), rather than used for that merchant's tokens or sent to the
    /// other host. One without it (saved by an earlier version) could be anyone's: it is not
    /// used, and the first call opens a new session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[tsify(optional)]
    pub issued_for: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct AlliancePayConfig {
    /// It authorizes the merchant's sign-in: held as a secret (redacted, wiped when dropped).
    #[tsify(type = "string")]
    pub service_code: Secret,
    /// The merchant id the bank issues with the service code. Accepted for configs that carry
    /// it, but no call sends it: the bank wants it only for storing cards, which the SDK does not do.
    #[serde(default)]
    #[tsify(optional)]
    pub merchant_id: Option<String>,
    /// The JWK as exported or stored: its other members (`use`, `alg`, `key_ops`, `ext`) are
    /// accepted and not read.
    #[tsify(type = "MerchantKey & { use?: string | undefined; alg?: string | undefined; key_ops?: string[] | undefined; ext?: boolean | undefined }")]
    pub merchant_private_key: MerchantKey,
    /// A saved session to resume; `null` (a store that has none yet) is the same as leaving it out.
    #[serde(default)]
    #[tsify(optional, type = "AlliancePaySession | null")]
    pub session: Option<AlliancePaySession>,
    /// How token request bodies are sent; default "jwe". A guess: the bank does not document
    /// whether its token endpoints are encrypted. Its answer to the wrong choice names this option.
    #[serde(default)]
    #[tsify(optional)]
    pub encryption: Option<Encryption>,
    #[serde(skip)]
    pub common: CommonOptions,
}

#[derive(Clone, Debug, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct ChargeOverConfig {
    /// REST API public key.
    pub username: String,
    /// REST API private key.
    #[tsify(type = "string")]
    pub password: Secret,
    /// Rows per request when listing, 2–500; default 50.
    #[serde(default)]
    #[tsify(optional)]
    pub page_size: Option<u32>,
    /// Listing stops with an error when there are more than `maxPages × pageSize` tokens (one more
    /// request shows whether there are); default 200, at most 100000.
    #[serde(default)]
    #[tsify(optional)]
    pub max_pages: Option<u32>,
    #[serde(skip)]
    pub common: CommonOptions,
}

#[derive(Clone, Debug, Deserialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct PayerlyConfig {
    #[tsify(type = "string")]
    pub api_key: Secret,
    #[serde(skip)]
    pub common: CommonOptions,
}

/// The `provider` field picks the variant; each variant's fields and `CommonOptions` are read
/// from the same object in separate passes so that errors keep the path of the bad field
/// (serde's tagged enums and `flatten` buffer the input and lose it).
#[derive(Clone, Debug)]
pub enum ClientConfig {
    Pinelabs(PineLabsConfig),
    Alliancepay(AlliancePayConfig),
    Chargeover(ChargeOverConfig),
    Payerly(PayerlyConfig),
}

/// What every call needs to know, resolved from the config once.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub provider: Provider,
    pub base_url: String,
    pub timeout_ms: u32,
    pub deadline_ms: Option<u32>,
    pub retry: RetryPolicy,
}

pub fn default_base_url(provider: Provider, env: Environment) -> Option<&'static str> {
    use Environment::*;
    Some(match (provider, env) {
        (Provider::Pinelabs, Sandbox) => "https://pluraluat.v2.pinepg.in/api",
        (Provider::Pinelabs, Production) => "https://api.pluralpay.in/api",
        (Provider::Alliancepay, Sandbox) => "https://api-ecom-release.develop.bankalliance.ua",
        (Provider::Alliancepay, Production) => "https://api-ecom-prod.bankalliance.ua",
        (Provider::Payerly, Sandbox) => "https://api.sandbox.payerly.tech/v1",
        (Provider::Payerly, Production) => "https://api.payerly.tech/v1",
        // Every ChargeOver merchant has its own instance host.
        (Provider::Chargeover, _) => return None,
    })
}

impl ClientConfig {
    /// Reads a config object as JSON text (JS hands it over with `JSON.stringify`, after taking
    /// the functions out). Text keeps one JSON reader for everything that enters the core.
    pub fn parse(text: &str) -> Result<Self> {
        if !text.trim_start().starts_with('{') {
            return Err(Error::invalid_input("config", "must be an object"));
        }
        #[derive(Deserialize)]
        struct Tag {
            provider: Option<String>,
        }
        let provider = match read_fields::<Tag>("config", text)?.provider.as_deref() {
            Some(name) => Provider::from_name(name)
                .ok_or_else(|| Error::invalid_input("config.provider", "must be one of alliancepay, chargeover, pinelabs, payerly"))?,
            None => return Err(Error::invalid_input("config.provider", "is required")),
        };
        // From here on the error names the provider, as every other error does.
        Self::parse_for(provider, text).map_err(|e| e.with_provider(provider))
    }

    fn parse_for(provider: Provider, text: &str) -> Result<Self> {
        check_known_options(provider, text)?;
        let common: CommonOptions = read_fields("config", text)?;
        let mut config = match provider {
            Provider::Pinelabs => ClientConfig::Pinelabs(read_fields("config", text)?),
            Provider::Alliancepay => ClientConfig::Alliancepay(read_fields("config", text)?),
            Provider::Chargeover => ClientConfig::Chargeover(read_fields("config", text)?),
            Provider::Payerly => ClientConfig::Payerly(read_fields("config", text)?),
        };
        *config.common_mut() = common;
        config.validate()?;
        Ok(config)
    }

    fn common_mut(&mut self) -> &mut CommonOptions {
        match self {
            ClientConfig::Pinelabs(c) => &mut c.common,
            ClientConfig::Alliancepay(c) => &mut c.common,
            ClientConfig::Chargeover(c) => &mut c.common,
            ClientConfig::Payerly(c) => &mut c.common,
        }
    }

    pub fn provider(&self) -> Provider {
        match self {
            ClientConfig::Pinelabs(_) => Provider::Pinelabs,
            ClientConfig::Alliancepay(_) => Provider::Alliancepay,
            ClientConfig::Chargeover(_) => Provider::Chargeover,
            ClientConfig::Payerly(_) => Provider::Payerly,
        }
    }

    fn common(&self) -> &CommonOptions {
        match self {
            ClientConfig::Pinelabs(c) => &c.common,
            ClientConfig::Alliancepay(c) => &c.common,
            ClientConfig::Chargeover(c) => &c.common,
            ClientConfig::Payerly(c) => &c.common,
        }
    }

    fn validate(&self) -> Result<()> {
        let required = |field: &str, value: &str| {
            if value.trim().is_empty() {
                Err(Error::invalid_input(&format!("config.{field}"), "is required"))
            } else {
                Ok(())
            }
        };
        match self {
            ClientConfig::Pinelabs(c) => {
                required("clientId", &c.client_id)?;
                required("clientSecret", c.client_secret.expose())?;
            }
            ClientConfig::Alliancepay(c) => {
                required("serviceCode", c.service_code.expose())?;
                let k = &c.merchant_private_key;
                if k.kty != "EC" || k.crv != "P-384" {
                    return Err(Error::invalid_input("config.merchantPrivateKey", "must be an EC P-384 JWK"));
                }
                required("merchantPrivateKey.d", k.d.expose())?;
            }
            ClientConfig::Chargeover(c) => {
                required("username", &c.username)?;
                required("password", c.password.expose())?;
                if c.common.base_url.is_none() {
                    return Err(Error::invalid_input("config.baseUrl", "is required for ChargeOver (https://<instance>.chargeover.com/api/v3)"));
                }
                // A page starts one row early to check its place (`chargeover::PageRead`): a page
                // of one has no room for that row, and rows removed while listing would be skipped.
                if c.page_size.is_some_and(|n| !(2..=500).contains(&n)) {
                    return Err(Error::invalid_input("config.pageSize", "must be 2–500 (a page starts with the row that checks its place)"));
                }
                // The cap keeps every page's offset (pages × pageSize) well inside a u32.
                if c.max_pages.is_some_and(|n| n == 0 || n > 100_000) {
                    return Err(Error::invalid_input("config.maxPages", "must be 1–100000"));
                }
            }
            ClientConfig::Payerly(c) => {
                required("apiKey", c.api_key.expose())?;
                if !crate::http::header_safe(c.api_key.expose()) {
                    return Err(Error::invalid_input("config.apiKey", "holds a character an HTTP header cannot carry (a line break, or one past Latin-1 such as …)"));
                }
            }
        }
        self.settings().map(|_| ())
    }

    pub fn settings(&self) -> Result<Settings> {
        let provider = self.provider();
        let common = self.common();
        let env = common.environment.unwrap_or(Environment::Sandbox);
        let base_url = match &common.base_url {
            Some(url) => {
                let (url, host) = check_base_url(url)?;
                if let Some(named) = common.environment {
                    check_environment(provider, named, host)?;
                }
                url
            }
            None => default_base_url(provider, env)
                .ok_or_else(|| Error::invalid_input("config.baseUrl", "is required"))?
                .to_string(),
        };
        let timeout_ms = common.timeout_ms.unwrap_or(30_000);
        if !(1..=600_000).contains(&timeout_ms) {
            return Err(Error::invalid_input("config.timeoutMs", "must be 1–600000"));
        }
        let max_retries = common.max_retries.unwrap_or(2);
        if max_retries > 10 {
            return Err(Error::invalid_input("config.maxRetries", "must be 0–10"));
        }
        // Timers take at most 2^31-1 ms (24.8 days); a longer one would fire at once.
        if common.deadline_ms.is_some_and(|d| d == 0 || d > i32::MAX as u32) {
            return Err(Error::invalid_input("config.deadlineMs", "must be 1–2147483647"));
        }
        Ok(Settings {
            provider,
            base_url,
            timeout_ms,
            deadline_ms: common.deadline_ms,
            retry: RetryPolicy { max_retries, ..RetryPolicy::default() },
        })
    }
}

/// Reads one argument (the config, or a call's input) from JSON text. A wrong field is named by
/// its path under `root`, and its value is never echoed.
pub fn read_fields<T: for<'de> Deserialize<'de>>(root: &str, text: &str) -> Result<T> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let value = T::deserialize(&mut reader).map_err(|e| field_error(root, text, &e))?;
    reader.end().map_err(|_| Error::invalid_input(root, "is not valid JSON"))?;
    Ok(value)
}

// Apart from `read_fields`, which is built once per argument type: this part is the same for all.
#[inline(never)]
fn field_error(root: &str, text: &str, e: &serde_json::Error) -> Error {
    let message = e.to_string();
    // Text from `JSON.stringify` is one line, so the column is the byte offset.
    // A null refused once read (`model::scoping`) is reported past it: at its object's closing
    // brace, when it came last, which would end the object before its path is read.
    let mut column = e.column();
    if message.starts_with("invalid type: null") && column > 0 && text.as_bytes().get(column - 1) == Some(&b'}') {
        column -= 1;
    }
    let path = crate::json_path::path_at(text, column, message.starts_with("missing field"));
    let field = if path.is_empty() { root.to_string() } else { format!("{root}.{path}") };
    if let Some((key, expected)) = unknown_field(&message) {
        let parent = crate::json_path::path_at(text, e.column(), true);
        let parent = if parent.is_empty() { root.to_string() } else { format!("{root}.{parent}") };
        return unknown_option(&field, &parent, key, &expected);
    }
    // The name is one of the SDK's own fields, never the caller's text.
    if let Some(missing) = message.strip_prefix("missing field `").and_then(|m| m.split_once('`')).map(|(name, _)| name) {
        return Error::invalid_input(&format!("{field}.{missing}"), "is required");
    }
    let mut described = describe_serde_error(&message);
    // A JWK or a saved session read from a file or an environment variable is still its text.
    // (Only the value's first character is looked at; it is never echoed.)
    if described == "expected an object" && message.starts_with("invalid type: string \"{") {
        described.push_str(", not its JSON text (JSON.parse it first)");
    }
    Error::invalid_input(&field, &described)
}

/// serde's "unknown field `signal`, expected one of `tokenId`, `customerId`", taken apart.
fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, rest) = rest.split_once('`')?;
    // serde writes the key unescaped: a key holding "expected `…`" would add to the list. Only
    // option names are kept, so that an error never echoes the key's text through it.
    let expected = rest.rsplit_once("expected ").map_or(Vec::new(), |(_, e)| e.split('`').skip(1).step_by(2).filter(|o| OPTION_NAMES.contains(o)).collect());
    Some((key, expected))
}

/// Every option name some config or call takes (and the one callers most often try): naming one
/// of these, or a near miss of an option the caller could mean, in an error echoes nothing secret.
const OPTION_NAMES: &[&str] = &[
    "provider", "environment", "baseUrl", "timeoutMs", "maxRetries", "deadlineMs", "clientId", "clientSecret", "serviceCode", "merchantId",
    "merchantPrivateKey", "session", "encryption", "username", "password", "pageSize", "maxPages", "apiKey", "customerId", "tokenId",
    "accountId", "phone", "email", "includeRaw", "status", "token", "label", "paymentMethod", "brand", "expiryMonth", "expiryYear", "gateway",
    "where", "order", "offset", "limit", "field", "op", "value", "direction", "signal", "fetch", "onSessionUpdate", "id",
];

/// A `key` (at `field`, inside `parent`) that is not one of `options`. The key is named only when
/// it is an option name or a near miss of one of `options`: anything else may be a secret or a
/// card number pasted in as a key.
fn unknown_option(field: &str, parent: &str, key: &str, options: &[&str]) -> Error {
    // `id` is what a token calls its id, and the name callers try first for `tokenId`.
    let meant = options.iter().find(|o| o.eq_ignore_ascii_case(key) || near_miss(key, o) || (key == "id" && **o == "tokenId"));
    let named = OPTION_NAMES.contains(&key) || meant.is_some();
    match (named, meant) {
        // Where callers first look for cancellation; it has a place of its own.
        (true, _) if key == "signal" && !parent.starts_with("config") => Error::invalid_input(field, "goes in the call's options, its second argument: e.g. listTokens(input, { signal })"),
        (true, Some(m)) if *m != key => Error::invalid_input(field, &format!("is not an option; did you mean {m}?")),
        (true, _) if options.is_empty() => Error::invalid_input(field, "is not an option"),
        (true, _) => Error::invalid_input(field, &format!("is not an option (expected {})", options.join(", "))),
        (false, _) if options.is_empty() => Error::invalid_input(parent, "holds a key that is not an option"),
        // The options, so that the wrong key can be found without it being echoed.
        (false, _) => Error::invalid_input(parent, &format!("holds a key that is not an option (not shown: it may be a secret; expected {})", options.join(", "))),
    }
}

/// At most two edits (insert, delete, substitute) apart, ignoring case: `timeout` for `timeoutMs`.
fn near_miss(a: &str, b: &str) -> bool {
    // ASCII case only: option names are ASCII, and Unicode case tables would cost the wasm 15 KB.
    let lower = |s: &str| s.chars().map(|c| c.to_ascii_lowercase()).collect::<Vec<char>>();
    let (a, b) = (lower(a), lower(b));
    if a.len().abs_diff(b.len()) > 2 || a.len() > 64 {
        return false;
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = (prev + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = here;
        }
    }
    row[b.len()] <= 2
}

/// The config's keys alone. Its values are skipped unread: read into a `Value`, the secrets among
/// them (a merchant key's `d`) would be copied into strings that are freed unwiped.
struct OptionNames(Vec<String>);

impl<'de> Deserialize<'de> for OptionNames {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = OptionNames;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of options")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<OptionNames, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(OptionNames(keys))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A config key no option has (`deadlineMS`, `timeout`) would otherwise be dropped without a word,
/// and the call would run without the deadline its author meant to set.
fn check_known_options(provider: Provider, text: &str) -> Result<()> {
    // `fetch` and `onSessionUpdate` are taken out in JS (pkg/api.js); listed for "did you mean".
    const COMMON: [&str; 7] = ["provider", "environment", "baseUrl", "timeoutMs", "maxRetries", "deadlineMs", "fetch"];
    let own: &[&str] = match provider {
        Provider::Pinelabs => &["clientId", "clientSecret"],
        Provider::Alliancepay => &["serviceCode", "merchantId", "merchantPrivateKey", "session", "encryption", "onSessionUpdate"],
        Provider::Chargeover => &["username", "password", "pageSize", "maxPages"],
        Provider::Payerly => &["apiKey"],
    };
    let OptionNames(keys) = read_fields("config", text)?;
    let Some(unknown) = keys.iter().find(|k| !COMMON.contains(&k.as_str()) && !own.contains(&k.as_str())) else { return Ok(()) };
    let options: Vec<&str> = COMMON.iter().chain(own).copied().collect();
    let near = options.iter().any(|o| o.eq_ignore_ascii_case(unknown) || near_miss(unknown, o));
    // `id` is a call's near miss (of `tokenId`), no provider's option.
    if !near && unknown != "id" && OPTION_NAMES.contains(&unknown.as_str()) {
        // Another provider's option (or a call's).
        return Err(Error::invalid_input(&format!("config.{unknown}"), &format!("is not an option for {}", provider.as_str())));
    }
    Err(unknown_option(&format!("config.{unknown}"), "config", unknown, &options))
}

/// An `environment` given with a `baseUrl` whose host (as `check_base_url` read it) is the
/// provider's own for the other environment is a contradiction, and the host would win:
/// `environment: "sandbox"` must never reach live tokens.
fn check_environment(provider: Provider, named: Environment, host: &str) -> Result<()> {
    let other = match named {
        Environment::Sandbox => Environment::Production,
        Environment::Production => Environment::Sandbox,
    };
    let Some(default) = default_base_url(provider, other) else { return Ok(()) };
    // Read as the caller's was: the defaults are well-formed https URLs.
    let Ok((_, default_host)) = check_base_url(default) else { return Ok(()) };
    // A trailing dot names the same host (`api.pluralpay.in.`).
    if host.strip_suffix('.').unwrap_or(host).eq_ignore_ascii_case(default_host) {
        let name = |e: Environment| if e == Environment::Sandbox { "sandbox" } else { "production" };
        return Err(Error::invalid_input("config.environment", &format!("is {}, but config.baseUrl is {}'s {} host", name(named), provider.as_str(), name(other))));
    }
    Ok(())
}

/// https anywhere; plain http only to this machine (the sandbox, a local proxy), so credentials
/// never cross a network in clear text. No query or fragment; trailing slashes are dropped.
/// The URL without trailing slashes, and its host.
fn check_base_url(url: &str) -> Result<(String, &str)> {
    let bad = |why: &str| Error::invalid_input("config.baseUrl", why);
    // Schemes and host names are case-insensitive (RFC 3986 §3.1, §3.2.2).
    let scheme = |s: &str| url.get(..s.len()).is_some_and(|p| p.eq_ignore_ascii_case(s)).then(|| &url[s.len()..]);
    let (canonical_scheme, rest) = if let Some(rest) = scheme("https://") {
        ("https://", rest)
    } else if let Some(rest) = scheme("http://") {
        ("http://", rest)
    } else {
        // A page's own proxy too: `${location.origin}/proxy`, not `/proxy`.
        return Err(bad("must be an absolute https:// URL (for a proxy on the page's own origin: location.origin + its path)"));
    };
    let authority = rest.split('/').next().unwrap_or("");
    // Before the scheme's check, which would read `user` of `http://user:pw@localhost` as the host.
    if authority.contains('@') {
        // `http://localhost:x@evil.example` names evil.example; credentials go in config, not URLs.
        return Err(bad("must not contain user information (@)"));
    }
    if canonical_scheme == "http://" {
        let host = rest.split(['/', ':']).next().unwrap_or("");
        let host = if rest.starts_with('[') { rest.split(']').next().map(|h| &h[1..]).unwrap_or("") } else { host };
        if !is_loopback(host) {
            return Err(bad("must use https (plain http is allowed only for localhost)"));
        }
    }
    if rest.is_empty() || rest.starts_with('/') || rest.contains(['?', '#', ' ']) || rest.chars().any(|c| c.is_control()) {
        return Err(bad("must be a URL with a host and no query or fragment"));
    }
    // `[::1]evil.example`, an empty host or a port past 65535 would pass the checks above and
    // then fail in fetch as a retried NETWORK error: refused here instead.
    let (host, port) = match authority.strip_prefix('[') {
        Some(inner) => match inner.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, after)) => (host, Some(after.strip_prefix(':').ok_or_else(|| bad("must have only a port after the IPv6 address"))?)),
            None => return Err(bad("must close its IPv6 address with ]")),
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port_ok = |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n));
    if host.is_empty() || port.is_some_and(|p| !port_ok(p)) {
        return Err(bad("must have a host, and a port (if any) from 1 to 65535"));
    }
    // One spelling per address: it names the AlliancePay session's issuer (`issuedFor`), and
    // `HTTPS://Bank.example:443/api` is the same bank as `https://bank.example./api/`. The path is
    // kept as given: servers may tell its case apart.
    let default_port = if canonical_scheme == "https://" { 443 } else { 80 };
    let port = port.and_then(|p| p.parse::<u32>().ok()).filter(|&p| p != default_port).map(|p| format!(":{p}")).unwrap_or_default();
    let name = if authority.starts_with('[') { format!("[{host}]") } else { host.strip_suffix('.').unwrap_or(host).to_string() };
    // `https://./api` would become `https:///api`, which a URL parser reads as host `api`.
    if name.is_empty() {
        return Err(bad("must have a host, and a port (if any) from 1 to 65535"));
    }
    let path = rest[authority.len()..].trim_end_matches('/');
    Ok((format!("{canonical_scheme}{}{port}{path}", name.to_ascii_lowercase()), host))
}

/// This machine: `localhost`, 127.0.0.0/8, or IPv6 `::1` (short or written out). Checked by hand:
/// std's address parsers cost 2.5 KB of wasm for this one check.
fn is_loopback(host: &str) -> bool {
    let octet = |p: &str| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n <= 255);
    let mut parts = host.split('.');
    let ipv4 = parts.next() == Some("127") && parts.clone().count() == 3 && parts.all(octet);
    ipv4 || ["localhost", "::1", "0:0:0:0:0:0:0:1"].iter().any(|name| host.eq_ignore_ascii_case(name))
}

/// serde's messages echo the offending value ("invalid type: string \"…\""), which may be a
/// secret put in the wrong field. Keep only what was expected.
fn describe_serde_error(message: &str) -> String {
    // serde_json adds where in the text it stopped; the field path says more.
    let message = message.rsplit_once(" at line ").map_or(message, |(m, _)| m);
    if let Some(expected) = crate::error::serde_expected(message) {
        // A whole number out of its type's range (-5 for a count).
        if message.starts_with("invalid value: integer") {
            let range = match expected {
                "u8" => "0 to 255",
                "u16" => "0 to 65535",
                "u32" => "0 to 4294967295",
                "u64" | "usize" => "0 or more",
                _ => "in range",
            };
            return format!("must be a whole number {range}");
        }
        // In JavaScript's words, not Rust's type names.
        let plain = match expected {
            "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number",
            "f32" | "f64" => "a number",
            "a sequence" => "an array",
            "a map" => "an object",
            e if e.starts_with("struct ") => "an object",
            e => e,
        };
        format!("expected {plain}")
    } else if let Some(field) = message.strip_prefix("missing field ") {
        format!("missing field {field}")
    } else if message.starts_with("unknown variant") {
        "unknown value".to_string()
    } else {
        "is not valid".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<ClientConfig> {
        ClientConfig::parse(&v.to_string())
    }

    #[test]
    fn options_no_provider_has_are_refused_with_a_hint() {
        let base = json!({"provider": "pinelabs", "clientId": "a", "clientSecret": "b"});
        let with = |k: &str, v: serde_json::Value| {
            let mut c = base.clone();
            c[k] = v;
            parse(c)
        };
        let err = with("deadlineMS", json!(5000)).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::InvalidInput, "config.deadlineMS: is not an option; did you mean deadlineMs?"));
        assert_eq!(err.provider, Some(Provider::Pinelabs));
        assert_eq!(with("timeout", json!(5)).unwrap_err().message, "config.timeout: is not an option; did you mean timeoutMs?");
        // Another provider's option is not this one's.
        assert_eq!(with("pageSize", json!(5)).unwrap_err().message, "config.pageSize: is not an option for pinelabs");
        // A key that is no option name nor a near miss (a secret pasted in by mistake) is not echoed.
        // serde writes the key unescaped into its message: one that writes an "expected" list of
        // its own adds nothing to the one echoed.
        for secret in ["sk_live 51H8xyzzy/+=", "sbx_py_key_Jc5Vn8Bq2Xe7", "4111111111111111", "zz`, expected `4111111111111111` or `sk_live_51H8"] {
            let err = with(secret, json!(true)).unwrap_err();
            assert_eq!(err.message, "config: holds a key that is not an option (not shown: it may be a secret; expected provider, environment, baseUrl, timeoutMs, maxRetries, deadlineMs, fetch, clientId, clientSecret)", "{secret}");
        }
        // Every documented option of every provider is taken.
        let key = serde_json::json!({"kty": "EC", "crv": "P-384", "x": "x", "y": "y", "d": "d"});
        let all = [
            json!({"provider": "pinelabs", "clientId": "a", "clientSecret": "b"}),
            json!({"provider": "chargeover", "username": "u", "password": "p", "baseUrl": "https://x.chargeover.com/api/v3", "pageSize": 10, "maxPages": 3}),
            json!({"provider": "payerly", "apiKey": "k"}),
            json!({"provider": "alliancepay", "serviceCode": "s", "merchantId": "m", "merchantPrivateKey": key, "encryption": "jwe"}),
        ];
        for mut c in all {
            for (k, v) in [("environment", json!("sandbox")), ("timeoutMs", json!(1000)), ("maxRetries", json!(1)), ("deadlineMs", json!(5000))] {
                c[k] = v;
            }
            let result = parse(c.clone());
            assert!(result.as_ref().map_or_else(|e| !e.message.contains("is not an option"), |_| true), "{c}: {:?}", result.err());
        }
    }

    /// An explicit environment that contradicts a provider's own host in `baseUrl` is refused;
    /// any other host (a proxy, the sandbox) is the caller's to name.
    #[test]
    fn an_environment_that_contradicts_the_base_url_host_is_refused() {
        let pl = |env: &str, url: &str| parse(json!({"provider": "pinelabs", "clientId": "a", "clientSecret": "b", "environment": env, "baseUrl": url}));
        let err = pl("sandbox", "https://api.pluralpay.in/api").unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::InvalidInput, "config.environment: is sandbox, but config.baseUrl is pinelabs's production host"));
        assert!(pl("sandbox", "HTTPS://API.PLURALPAY.IN:443/api").is_err());
        assert!(pl("sandbox", "https://api.pluralpay.in./api").is_err());
        assert!(pl("production", "https://pluraluat.v2.pinepg.in/api").is_err());
        for (env, url) in [("production", "https://api.pluralpay.in/api"), ("sandbox", "https://api.pluralpay.in.proxy.example/api"), ("sandbox", "http://127.0.0.1:9/pl")] {
            assert!(pl(env, url).is_ok(), "{env} {url}");
        }
        let py = parse(json!({"provider": "payerly", "apiKey": "k", "environment": "sandbox", "baseUrl": "https://api.payerly.tech/v1"})).unwrap_err();
        assert_eq!(py.message, "config.environment: is sandbox, but config.baseUrl is payerly's production host");
        // Without an environment, a baseUrl is taken as it is.
        assert!(parse(json!({"provider": "payerly", "apiKey": "k", "baseUrl": "https://api.payerly.tech/v1"})).is_ok());
    }

    #[test]
    fn defaults_resolve_to_the_sandbox_host() {
        let c = parse(json!({"provider": "pinelabs", "clientId": "id", "clientSecret": "s"})).unwrap();
        let s = c.settings().unwrap();
        assert_eq!(s.base_url, "https://pluraluat.v2.pinepg.in/api");
        assert_eq!((s.timeout_ms, s.retry.max_retries), (30_000, 2));
        let c = parse(json!({"provider": "pinelabs", "clientId": "id", "clientSecret": "s", "environment": "production", "maxRetries": 0})).unwrap();
        assert_eq!(c.settings().unwrap().base_url, "https://api.pluralpay.in/api");
        assert_eq!(c.settings().unwrap().retry.max_retries, 0);
    }

    #[test]
    fn errors_name_the_field_and_hide_the_value() {
        let cases = [
            (json!({"provider": "pinelabs", "clientSecret": "s"}), "config.clientId: is required"),
            (json!({"provider": "pinelabs", "clientId": "id", "clientSecret": 918273645}), "config.clientSecret: expected a string"),
            (json!({"provider": "pinelabs", "clientId": "id", "clientSecret": ""}), "config.clientSecret: is required"),
            (json!({"provider": "pinelabs", "clientId": "id", "clientSecret": "s", "timeoutMs": 0}), "config.timeoutMs: must be 1–600000"),
            (json!({"provider": "pinelabs", "clientId": "id", "clientSecret": "s", "deadlineMs": 3_000_000_000u32}), "config.deadlineMs: must be 1–2147483647"),
            (json!({"provider": "pinelabs", "clientId": "id", "clientSecret": "s", "baseUrl": "http://evil.example"}), "config.baseUrl: must use https (plain http is allowed only for localhost)"),
            (json!({"provider": "nope"}), "config.provider: must be one of alliancepay, chargeover, pinelabs, payerly"),
            (json!({"clientId": "x"}), "config.provider: is required"),
            (json!({"provider": "pinelabs", "clientId": "id", "clientSecret": "s", "timeoutMs": "soon"}), "config.timeoutMs: expected a whole number"),
            (json!({"provider": "pinelabs", "clientId": "id", "clientSecret": "s", "timeoutMs": -5}), "config.timeoutMs: must be a whole number 0 to 4294967295"),
            (json!({"provider": "pinelabs", "clientId": "id", "clientSecret": "s", "timeoutMs": 2.5}), "config.timeoutMs: expected a whole number"),
            (json!({"provider": "alliancepay", "serviceCode": "s", "merchantPrivateKey": "-----BEGIN EC PRIVATE KEY-----"}), "config.merchantPrivateKey: expected an object"),
            (json!({"provider": "alliancepay", "serviceCode": "s", "merchantPrivateKey": "{\"kty\":\"EC\"}"}), "config.merchantPrivateKey: expected an object, not its JSON text (JSON.parse it first)"),
            (json!({"provider": "alliancepay", "serviceCode": "s", "merchantPrivateKey": {"kty": "EC", "crv": "P-384", "x": "x", "y": "y"}}), "config.merchantPrivateKey.d: is required"),
            (json!({"provider": "chargeover", "username": "u", "password": "p"}), "config.baseUrl: is required for ChargeOver (https://<instance>.chargeover.com/api/v3)"),
            (json!({"provider": "chargeover", "username": "u", "password": "p", "baseUrl": "https://x.chargeover.com/api/v3", "maxPages": 100_001}), "config.maxPages: must be 1–100000"),
        ];
        for (input, want) in cases {
            let err = parse(input.clone()).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput);
            assert_eq!(err.message, want, "{input}");
            assert!(!err.message.contains("918273645"));
        }
    }

    /// The service code signs the merchant in: no printed form of the config shows it.
    #[test]
    fn the_service_code_is_held_as_a_secret() {
        let key = json!({"kty": "EC", "crv": "P-384", "x": "x", "y": "y", "d": "d"});
        let c: AlliancePayConfig = serde_json::from_value(json!({"serviceCode": "sc-canary-81", "merchantPrivateKey": key})).unwrap();
        assert_eq!(c.service_code.expose(), "sc-canary-81");
        assert!(!format!("{c:?}").contains("sc-canary-81"), "{c:?}");
    }

    #[test]
    fn a_value_that_mimics_a_serde_message_is_not_echoed() {
        let message = r#"unknown variant `x, expected hunter2`, expected `sandbox` or `production`"#;
        assert!(!describe_serde_error(message).contains("hunter2"), "{}", describe_serde_error(message));
        let message = r#"invalid type: string "a, expected hunter2", expected u32 at line 1 column 9"#;
        assert_eq!(describe_serde_error(message), "expected a whole number");
    }

    #[test]
    fn base_urls_keep_prefixes_and_lose_trailing_slashes() {
        assert_eq!(check_base_url("https://proxy.example/pine/api/").unwrap(), ("https://proxy.example/pine/api".to_string(), "proxy.example"));
        assert_eq!(check_base_url("http://127.0.0.1:8080/pinelabs/api").unwrap(), ("http://127.0.0.1:8080/pinelabs/api".to_string(), "127.0.0.1"));
        assert!(check_base_url("https://x.example/?a=1").is_err());
        assert!(check_base_url("ftp://x").is_err());
        assert!(check_base_url("http://localhost:x@evil.example/api").is_err());
        assert!(check_base_url("https://user@host.example/api").is_err());
        // Said as it is, not as plain http to a host named `user`.
        let refused = |url| check_base_url(url).unwrap_err().message;
        assert_eq!(refused("http://user:pw@localhost:8080/api"), "config.baseUrl: must not contain user information (@)");
        assert_eq!(refused("http://user@evil.example/api"), "config.baseUrl: must not contain user information (@)");
        assert_eq!(refused("http://evil.example/a@b"), "config.baseUrl: must use https (plain http is allowed only for localhost)");
        // Scheme and host in any case, written one way; the path as given.
        assert_eq!(check_base_url("HTTPS://Bank.Example:8443/Api/V1/").unwrap().0, "https://bank.example:8443/Api/V1");
        assert_eq!(check_base_url("Http://LOCALHOST/").unwrap().0, "http://localhost");
        // The default port and a trailing dot name the same host (helper-122: a session saved
        // by a worker configured with `:443` was refused by one without).
        for same in ["https://bank.example:443/api", "https://bank.example.:0443/api/", "HTTPS://BANK.EXAMPLE./api"] {
            assert_eq!(check_base_url(same).unwrap().0, "https://bank.example/api", "{same}");
        }
        assert_eq!(check_base_url("http://LocalHost:80/x").unwrap().0, "http://localhost/x");
        assert_eq!(check_base_url("http://[::1]:80/x").unwrap().0, "http://[::1]/x");
        assert_eq!(check_base_url("https://[2001:DB8::1]:8443/x").unwrap().0, "https://[2001:db8::1]:8443/x");
        assert_eq!(check_base_url("http://127.0.0.1:0080/x").unwrap().0, "http://127.0.0.1/x");
        // Scheme and host in any case; every loopback spelling may use plain http.
        for ok in ["HTTPS://api.pluralpay.in/api", "http://LOCALHOST:8080/x", "http://127.0.0.2/x", "http://[0:0:0:0:0:0:0:1]:9/x", "Http://[::1]/x",
            "https://host:65535/x", "https://[2001:db8::1]:8443/api", "https://host"] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        for bad in ["http://127.0.0.1.evil.example/x", "http://localhost.evil.example/x", "http://10.0.0.1/x", "http://[::2]/x", "htt://x",
            "http://[::1]evil.example/x", "http://[::1", "https://:443/x", "https://host:99999/", "https://host:0/", "https://host:/x", "https://host:8a/x",
            "https://[::1]:/x", "https://./api", "https://.:443/x", "https://."] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }
}
