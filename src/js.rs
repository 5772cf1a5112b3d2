//! The wasm-bindgen shell: conversions at the JS boundary, and a call's abort signal raced
//! against its operation (the core cancels by dropping futures).
//! Errors cross as plain objects; pkg/api.js turns them into `PayTokensError`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::future::LocalBoxFuture;
use js_sys::{Function, Promise, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::client::Client;
use crate::config::ClientConfig;
use crate::error::{Error, ErrorCode, Result, WriteOutcome};
use crate::model::*;
use crate::model_tape::{Tape, TapeResult};
use crate::status;
use crate::transport::FetchEnv;

/// Plain data other than tokens (errors, capabilities, transitions) crosses as JSON text that
/// `JSON.parse` builds into objects, which is faster than building them field by field. Tokens
/// cross as a tape (`model_tape`).
fn to_js<T: Serialize>(value: &T) -> Option<JsValue> {
    serde_json::to_string(value).ok().and_then(|text| js_sys::JSON::parse(&text).ok())
}

fn error_to_js(err: &Error) -> JsValue {
    to_js(err).unwrap_or_else(|| JsValue::from_str(&err.to_string()))
}

#[wasm_bindgen(module = "/js/plain.js")]
extern "C" {
    /// `JSON.stringify`, except that NaN and ±Infinity stay visible (js/plain.js says why).
    #[wasm_bindgen(js_name = plainJson, catch)]
    fn plain_json(value: &JsValue) -> std::result::Result<JsValue, JsValue>;
}

/// A caller's object (the config, or a call's input) as JSON text: `JSON.stringify` is native
/// and drops functions.
fn plain_text(name: &str, value: &JsValue) -> Result<String> {
    match plain_json(value) {
        Ok(text) if text.is_undefined() => Err(Error::invalid_input(name, "must be an object")),
        Ok(text) if text.as_bool() == Some(false) => Err(Error::invalid_input(name, "is larger than 1 MiB as JSON, far past any real one")),
        text => text.ok().and_then(|t| t.as_string()).ok_or_else(|| Error::invalid_input(name, "must hold only plain data")),
    }
}

/// A call's input, checked field by field; a wrong type names the field and not its value.
fn from_js<T: DeserializeOwned>(name: &str, value: JsValue) -> Result<T> {
    crate::config::read_fields(name, &plain_text(name, &value)?)
}

/// A function the caller may pass; anything else given is a config error, not ignored.
fn optional_function(field: &str, value: JsValue) -> Result<Option<Function>> {
    if value.is_undefined() {
        return Ok(None);
    }
    value.dyn_into().map(Some).map_err(|_| Error::invalid_input(field, "must be a function"))
}

#[wasm_bindgen(module = "/js/abort.js")]
extern "C" {
    /// A promise settled when `signal` aborts, with `dispose()` to stop listening.
    #[wasm_bindgen(js_name = whenAborted)]
    fn when_aborted(signal: &JsValue) -> Promise;
}

/// Stops listening to a call's signal once the call is over, however it ended: a long-lived
/// signal (a server's shutdown signal passed to every call) must not gather a listener per call,
/// and the settled promise frees its `JsFuture`'s callbacks.
struct AbortWatch(Promise);

impl Drop for AbortWatch {
    fn drop(&mut self) {
        if let Ok(dispose) = Reflect::get(&self.0, &"dispose".into()).and_then(|f| f.dyn_into::<Function>()) {
            let _ = dispose.call0(&self.0);
        }
    }
}

/// Whether an operation changes something at the provider: an abort may then leave its outcome
/// open, which the caller is told with what to look at to know.
enum Effect {
    Read,
    /// `done` is filled when the provider has confirmed the write and the call goes on to read
    /// the token back (`client::Done`): what was made, and the token's id. `in_doubt` is the
    /// call's own (`Client::for_one_call`).
    Write { in_doubt: Rc<Cell<bool>>, check: &'static str, done: Rc<RefCell<Option<(String, String)>>> },
}

impl Effect {
    /// A write's effect, the `client::Done` that fills its `done`, and the client the call runs on.
    fn write(client: &Client<FetchEnv>, check: &'static str) -> (Effect, impl Fn(&str, &str) + 'static, Client<FetchEnv>) {
        let done: Rc<RefCell<Option<(String, String)>>> = Rc::default();
        let cell = done.clone();
        let note = move |made: &str, id: &str| *cell.borrow_mut() = Some((made.to_string(), id.to_string()));
        let (call, in_doubt) = client.for_one_call();
        (Effect::Write { in_doubt, check, done }, note, call)
    }
}

/// `fut`, unless the caller's signal (checked by pkg/api.js; `undefined` for none) aborts first.
/// Aborting drops the operation's future, and with it everything it waits for: a request in
/// flight is aborted, a wait before a retry ends, a shared sign-in nobody else waits for stops.
async fn until_aborted(provider: Provider, effect: Effect, signal: JsValue, fut: LocalBoxFuture<'static, Result<Tape>>) -> Result<Tape> {
    if signal.is_undefined() {
        return fut.await;
    }
    let name = provider.as_str();
    let aborted = |what: String| Error::new(ErrorCode::Aborted, what).with_provider(provider);
    if Reflect::get(&signal, &"aborted".into()).ok().and_then(|a| a.as_bool()) == Some(true) {
        return Err(aborted(format!("the call was aborted by its signal before it started; nothing was sent to {name}")));
    }
    let watch = AbortWatch(when_aborted(&signal));
    let abort = wasm_bindgen_futures::JsFuture::from(watch.0.clone());
    match futures::future::select(fut, abort).await {
        futures::future::Either::Left((result, _)) => result,
        // The signal could not be listened to (a polyfill that throws): the call runs as if it had none.
        futures::future::Either::Right((Err(_), fut)) => fut.await,
        futures::future::Either::Right((Ok(_), _)) => Err(match effect {
            Effect::Read => aborted(format!("the call was aborted by its signal; it stopped waiting for {name}")),
            // The write is done: only reading it back was cut short. The caller is told which
            // token to read, as when that read fails (`client::after_write`).
            Effect::Write { done, .. } if done.borrow().is_some() => {
                let (made, id) = done.take().unwrap_or_default();
                let mut err = aborted(format!("{made} at {name}; the call was aborted by its signal while reading it back: read the token rather than repeat the change"));
                err.token_id = Some(id.into());
                err.write_outcome = Some(WriteOutcome::Applied);
                err
            }
            Effect::Write { in_doubt, check, .. } if in_doubt.get() => {
                let mut err = aborted(format!("the call was aborted by its signal after its change was sent; it may already have been applied at {name}: {check}"));
                err.write_outcome = Some(WriteOutcome::Unknown);
                err
            }
            // Nothing sent, or every attempt sent was refused unapplied (a throttle it was waiting
            // out, a credential being renewed).
            Effect::Write { .. } => {
                let mut err = aborted(format!("the call was aborted by its signal before its change was made; nothing was changed at {name}"));
                err.write_outcome = Some(WriteOutcome::NotApplied);
                err
            }
        }),
    }
}

/// Runs an operation as a JS promise; every error names the client's provider.
/// Results cross as a tape that pkg/tape.js reads: cheaper than building every object through
/// the boundary, and than JSON text (bench/analysis.md has the figures).
fn promise<T: TapeResult + 'static>(
    provider: Provider,
    effect: Effect,
    signal: JsValue,
    fut: impl std::future::Future<Output = Result<T>> + 'static,
) -> Promise {
    // Written as a tape here, so that what follows exists once rather than once per operation
    // (a copy of the abort race and of the promise machinery per operation was 6 KB gzip).
    run(provider, effect, signal, Box::pin(async move { fut.await.map(|value| Tape::of(&value)) }))
}

/// `[parts, numbers, wides]`, as pkg/tape.js reads it: each part's ASCII text, and its other
/// text where it has any (`wides` has a hole for a part without).
fn tape_to_js(tape: &Tape) -> JsValue {
    let (parts, wides) = (js_sys::Array::new(), js_sys::Array::new());
    for (i, (text, wide)) in tape.parts().enumerate() {
        parts.push(&JsValue::from_str(text));
        if !wide.is_empty() {
            wides.set(u32::try_from(i).unwrap_or(u32::MAX), JsValue::from_str(wide));
        }
    }
    js_sys::Array::of3(&parts, &js_sys::Uint32Array::from(tape.numbers.as_slice()), &wides).into()
}

fn run(provider: Provider, effect: Effect, signal: JsValue, fut: LocalBoxFuture<'static, Result<Tape>>) -> Promise {
    future_to_promise(async move {
        match until_aborted(provider, effect, signal, fut).await {
            Ok(tape) => Ok(tape_to_js(&tape)),
            Err(mut err) => {
                err.provider.get_or_insert(provider);
                Err(error_to_js(&err))
            }
        }
    })
}

#[wasm_bindgen]
pub struct WasmClient {
    client: Client<FetchEnv>,
}

#[wasm_bindgen]
impl WasmClient {
    /// `config` holds plain data only; pkg/api.js takes the caller's functions out of it.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, fetch: JsValue, on_session_update: JsValue) -> std::result::Result<WasmClient, JsValue> {
        let build = || -> Result<WasmClient> {
            // A config that is not plain data still names its provider in the error, as the
            // config's own errors do (`ClientConfig::parse`).
            let named = Reflect::get(&config, &"provider".into()).ok().and_then(|p| p.as_string()).and_then(|p| Provider::from_name(&p));
            // Wiped once read: it holds every credential of the config, the merchant key's `d` too.
            let text = zeroize::Zeroizing::new(plain_text("config", &config).map_err(|e| match named {
                Some(provider) => e.with_provider(provider),
                None => e,
            })?);
            let config = ClientConfig::parse(&text)?;
            let provider = config.provider();
            let connect = || -> Result<WasmClient> {
                // Only AlliancePay has sessions: elsewhere the callback would never be called.
                if provider != Provider::Alliancepay && !on_session_update.is_undefined() {
                    return Err(Error::invalid_input("config.onSessionUpdate", &format!("is not an option for {} (only AlliancePay has sessions)", provider.as_str())));
                }
                let env = FetchEnv::new(optional_function("config.fetch", fetch)?, optional_function("config.onSessionUpdate", on_session_update)?)?;
                Ok(WasmClient { client: Client::new(config, env)? })
            };
            connect().map_err(|e| e.with_provider(provider))
        };
        build().map_err(|e| error_to_js(&e))
    }

    #[wasm_bindgen(getter)]
    pub fn provider(&self) -> String {
        self.client.provider().as_str().to_string()
    }

    #[wasm_bindgen(getter)]
    pub fn capabilities(&self) -> JsValue {
        to_js(&self.client.capabilities()).unwrap_or(JsValue::NULL)
    }

    // Each call reads its input before it returns, as fetch reads its init: a caller may reuse or
    // change the object right after the call (one object for several customers in a loop) without
    // changing what the call sends. Errors in it still reject the returned promise.
    // `deadline_ms` is the call's own `deadlineMs` (checked by pkg/options.js), instead of the config's.
    #[wasm_bindgen(js_name = listTokens)]
    pub fn list_tokens(&self, input: JsValue, signal: JsValue, deadline_ms: Option<u32>) -> Promise {
        let client = self.client.clone().within(deadline_ms);
        let input = from_js::<ListTokensInput>("input", input);
        promise(client.provider(), Effect::Read, signal, async move { client.list_tokens(&input?).await })
    }

    /// `started_at`: epoch ms from which this page's budget counts: the time the page was asked for,
    /// less the time earlier pages of the listing took (pkg/api.js `iterateTokens`).
    #[wasm_bindgen(js_name = listTokensPage)]
    pub fn list_tokens_page(&self, input: JsValue, cursor: Option<String>, signal: JsValue, deadline_ms: Option<u32>, started_at: Option<f64>) -> Promise {
        let client = self.client.clone().within(deadline_ms);
        let input = from_js::<ListTokensInput>("input", input);
        // A date that is not one (NaN, negative) counts as now: the page gets a whole budget.
        let started = started_at.filter(|t| t.is_finite() && *t >= 0.0).map(|t| (t as u64).min(crate::time_fmt::MAX_MS as u64));
        promise(client.provider(), Effect::Read, signal, async move { client.list_tokens_page(&input?, cursor.as_deref(), started).await })
    }

    #[wasm_bindgen(js_name = getToken)]
    pub fn get_token(&self, input: JsValue, signal: JsValue, deadline_ms: Option<u32>) -> Promise {
        let client = self.client.clone().within(deadline_ms);
        let input = from_js::<GetTokenInput>("input", input);
        promise(client.provider(), Effect::Read, signal, async move { client.get_token(&input?).await })
    }

    #[wasm_bindgen(js_name = updateTokenStatus)]
    pub fn update_token_status(&self, input: JsValue, signal: JsValue, deadline_ms: Option<u32>) -> Promise {
        let (effect, done, client) = Effect::write(&self.client.clone().within(deadline_ms), "read the token to know");
        let input = from_js::<UpdateTokenStatusInput>("input", input);
        promise(client.provider(), effect, signal, async move { client.update_token_status_noting(&input?, &done).await })
    }

    #[wasm_bindgen(js_name = createToken)]
    pub fn create_token(&self, input: JsValue, signal: JsValue, deadline_ms: Option<u32>) -> Promise {
        // The stored record's id comes with the reply: list the customer's tokens to find it.
        let (effect, done, client) = Effect::write(&self.client.clone().within(deadline_ms), "list the customer's tokens to know (storing it again would store it twice)");
        let input = from_js::<CreateTokenInput>("input", input);
        promise(client.provider(), effect, signal, async move { client.create_token_noting(&input?, &done).await })
    }

    #[wasm_bindgen(js_name = queryTokens)]
    pub fn query_tokens(&self, query: JsValue, signal: JsValue, deadline_ms: Option<u32>) -> Promise {
        let client = self.client.clone().within(deadline_ms);
        let query = from_js::<TokenQuery>("query", query);
        promise(client.provider(), Effect::Read, signal, async move { client.query_tokens(&query?).await })
    }

    #[wasm_bindgen(js_name = deleteToken)]
    pub fn delete_token(&self, input: JsValue, signal: JsValue, deadline_ms: Option<u32>) -> Promise {
        let (effect, _, client) = Effect::write(&self.client.clone().within(deadline_ms), "read the token to know");
        let input = from_js::<DeleteTokenInput>("input", input);
        promise(client.provider(), effect, signal, async move { client.delete_token(&input?).await })
    }
}

fn status_arg(value: &JsValue) -> Option<TokenStatus> {
    let text = value.as_string()?;
    TokenStatus::ALL.into_iter().find(|s| s.as_str() == text)
}

/// Whether a token may move from one status to another (AlliancePay's documented rules).
/// Anything that is not a known status gives `false`, never an exception.
#[wasm_bindgen(js_name = canTransition)]
pub fn can_transition(from: JsValue, to: JsValue) -> bool {
    match (status_arg(&from), status_arg(&to)) {
        (Some(f), Some(t)) => status::can_transition(f, t),
        _ => false,
    }
}

/// The statuses a token in `from` may be moved to, for building UIs.
#[wasm_bindgen(js_name = allowedTransitions)]
pub fn allowed_transitions(from: JsValue) -> JsValue {
    let next = status_arg(&from).map(status::allowed_next).unwrap_or(&[]);
    to_js(&next).unwrap_or(JsValue::NULL)
}

/// The JWE codec the AlliancePay client uses, exposed for interop tests and benchmarks
/// (not part of the package's public entry): keys are parsed once, as in a client.
#[wasm_bindgen]
pub struct JweCodec {
    own: crate::auth::jwe::PrivateKey,
    peer: crate::auth::jwe::RecipientKey,
}

#[wasm_bindgen]
impl JweCodec {
    /// `own_private_jwk` decrypts what is sent to us; `peer_public_jwk` is whom we encrypt to.
    #[wasm_bindgen(constructor)]
    pub fn new(own_private_jwk: JsValue, peer_public_jwk: JsValue) -> std::result::Result<JweCodec, JsValue> {
        let build = || -> Result<JweCodec> {
            let own: crate::config::MerchantKey = from_js("ownPrivateJwk", own_private_jwk)?;
            let peer: serde_json::Value = from_js("peerPublicJwk", peer_public_jwk)?;
            Ok(JweCodec {
                own: crate::providers::alliancepay::merchant_key(&own)?,
                peer: crate::auth::jwe::RecipientKey::from_jwk(&peer).map_err(|e| Error::invalid_input("peerPublicJwk", &e.to_string()))?,
            })
        };
        build().map_err(|e| error_to_js(&e))
    }

    /// Resolves to the compact JWE (key agreement in WebCrypto, as the client does it).
    pub fn encrypt(&self, plaintext: String) -> Promise {
        let peer = self.peer.clone();
        future_to_promise(async move {
            crate::auth::jwe::encrypt_async(plaintext.as_bytes(), &peer, &mut |b: &mut [u8]| {
                let _ = getrandom::getrandom(b);
            })
            .await
            .map(JsValue::from)
            .map_err(|e| error_to_js(&Error::new(ErrorCode::ProviderError, e.to_string())))
        })
    }

    /// Resolves to the plaintext; a malformed or tampered JWE rejects with DECODE.
    pub fn decrypt(&self, compact: String) -> Promise {
        let own = self.own.clone();
        future_to_promise(async move {
            crate::auth::jwe::decrypt_async(&compact, &own)
                .await
                .ok()
                .and_then(|p| String::from_utf8(p).ok())
                .map(JsValue::from)
                .ok_or_else(|| error_to_js(&Error::new(ErrorCode::Decode, "not a valid JWE for this key")))
        })
    }
}

/// Reply bytes → tokens as a tape (pkg/tape.js reads it), without I/O: the normalization step of
/// `listTokens` on its own, for the throughput benchmark (bench/normalize.mjs).
#[wasm_bindgen(js_name = normalizeTokenList)]
pub fn normalize_token_list(provider: &str, body: Vec<u8>) -> std::result::Result<JsValue, JsValue> {
    // The same bytes-to-text step as a fetched reply (src/transport.rs).
    let resp = crate::http::HttpResponse::new(200, crate::http::body_text(body));
    let tokens = match provider {
        "pinelabs" => crate::providers::pinelabs::parse_token_list(&resp, js_sys::Date::now() as u64),
        "alliancepay" => crate::providers::alliancepay::parse_token_list(&resp),
        // Pine Labs and ChargeOver tokens depend on the time (expired past their expiry).
        "chargeover" => crate::providers::chargeover::parse_token_list(&resp, js_sys::Date::now() as u64),
        _ => Err(Error::invalid_input("provider", "must be pinelabs, alliancepay or chargeover")),
    }
    .map_err(|e| error_to_js(&e))?;
    Ok(tape_to_js(&Tape::of(&tokens)))
}
