//! The one way out of the SDK: an `Env` sends HTTP, sleeps, tells the time and gives randomness.
//! In wasm it is `fetch` (global or caller-supplied) with an AbortSignal per attempt; native tests
//! use an in-memory fake. Futures are `!Send`: JS promises live on one thread.

use futures::future::LocalBoxFuture;

use crate::error::{Error, ErrorCode};
use crate::http::{HttpRequest, HttpResponse};
use crate::model::Provider;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// The attempt ran past its timeout and was aborted.
    Timeout,
    /// The connection was refused: nothing reached the provider.
    Refused,
    /// Reset, DNS, TLS, CORS: the request may or may not have been applied.
    Network,
    /// The reply's headers arrived but its body was cut off.
    Truncated,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportFault {
    pub kind: FaultKind,
    pub detail: String,
}

impl TransportFault {
    pub fn into_error(self, provider: Provider, timeout_ms: u32) -> Error {
        let err = match self.kind {
            FaultKind::Timeout => Error::new(ErrorCode::Timeout, format!("no reply from {} within {timeout_ms} ms", provider.as_str())),
            // A cut-off body is unreadable like a malformed one, but another attempt may get it whole.
            FaultKind::Truncated => Error::new(ErrorCode::Decode, format!("the {} reply was cut off", provider.as_str())).retryable(true),
            FaultKind::Refused | FaultKind::Network => {
                Error::new(ErrorCode::Network, format!("could not reach {}: {}", provider.as_str(), self.detail))
            }
        };
        let mut err = err.with_provider(provider);
        err.not_applied = self.kind == FaultKind::Refused;
        err
    }
}

pub trait Env: Clone + 'static {
    fn send(&self, req: HttpRequest, timeout_ms: u32) -> LocalBoxFuture<'static, Result<HttpResponse, TransportFault>>;
    fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()>;
    fn now_ms(&self) -> u64;
    fn fill_random(&self, buf: &mut [u8]);

    /// Uniform in [0, 1), for backoff jitter.
    fn random_unit(&self) -> f64 {
        let mut b = [0u8; 8];
        self.fill_random(&mut b);
        (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A new AlliancePay session opened; the shell hands it to `onSessionUpdate`.
    fn session_opened(&self, _session: &crate::config::AlliancePaySession) {}

    /// A UUID v4, for request ids.
    fn uuid(&self) -> String {
        let mut b = [0u8; 16];
        self.fill_random(&mut b);
        format_uuid(b)
    }
}

pub fn format_uuid(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

#[cfg(target_arch = "wasm32")]
pub use fetch::FetchEnv;

#[cfg(target_arch = "wasm32")]
mod fetch {
    use super::*;
    use js_sys::{Function, Object, Promise, Reflect};
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use crate::http::READ_HEADERS;

    /// `fetch` is the caller's function when given (a proxy, a test double, undici with options),
    /// else the global one that browsers and Node ≥18 share.
    #[derive(Clone)]
    pub struct FetchEnv {
        fetch: Function,
        on_session_update: Option<Function>,
        /// Request ids: random per client, then counted, so a call costs no trip to the CSPRNG.
        id_prefix: [u8; 10],
        id_counter: std::rc::Rc<std::cell::Cell<u64>>,
    }

    impl FetchEnv {
        pub fn new(fetch: Option<Function>, on_session_update: Option<Function>) -> Result<Self, Error> {
            let fetch = match fetch {
                Some(f) => f,
                None => Reflect::get(&js_sys::global(), &"fetch".into())
                    .ok()
                    .and_then(|f| f.dyn_into::<Function>().ok())
                    .ok_or_else(|| Error::invalid_input("config.fetch", "no global fetch here; pass one"))?,
            };
            let mut id_prefix = [0u8; 10];
            let _ = getrandom::getrandom(&mut id_prefix);
            Ok(FetchEnv { fetch, on_session_update, id_prefix, id_counter: std::rc::Rc::default() })
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    extern "C" {
        // Browsers and Node both have these globals; bound once instead of looked up per call.
        #[wasm_bindgen(js_name = setTimeout)]
        fn set_timeout_js(callback: &Function, ms: f64) -> JsValue;
        #[wasm_bindgen(js_name = clearTimeout)]
        fn clear_timeout_js(handle: &JsValue);
    }

    fn set_timeout(callback: &Function, ms: f64) -> JsValue {
        set_timeout_js(callback, ms)
    }

    fn clear_timeout(handle: &JsValue) {
        clear_timeout_js(handle);
    }

    /// Node puts the socket error under `cause.code`; browsers say only "TypeError".
    fn classify(err: &JsValue, timed_out: bool) -> TransportFault {
        if timed_out {
            return TransportFault { kind: FaultKind::Timeout, detail: "aborted after timeout".into() };
        }
        let code = Reflect::get(err, &"cause".into())
            .ok()
            .and_then(|c| Reflect::get(&c, &"code".into()).ok())
            .and_then(|c| c.as_string())
            .unwrap_or_default();
        let kind = if code == "ECONNREFUSED" { FaultKind::Refused } else { FaultKind::Network };
        let detail = if code.is_empty() { "the request failed (network, TLS or CORS)".to_string() } else { format!("connection failed ({code})") };
        TransportFault { kind, detail }
    }

    async fn attempt(fetch: Function, req: HttpRequest, signal: web_sys::AbortSignal, timed_out: std::rc::Rc<std::cell::Cell<bool>>) -> Result<HttpResponse, TransportFault> {
        let fail = |e: JsValue| classify(&e, timed_out.get());
        let init = Object::new();
        let headers = Object::new();
        for (name, value) in &req.headers {
            let _ = Reflect::set(&headers, &name.into(), &value.into());
        }
        let _ = Reflect::set(&init, &"method".into(), &req.method.as_str().into());
        let _ = Reflect::set(&init, &"headers".into(), &headers);
        if let Some(body) = &req.body {
            let _ = Reflect::set(&init, &"body".into(), &body.into());
        }
        let _ = Reflect::set(&init, &"signal".into(), &signal);
        let promise = fetch.call2(&JsValue::UNDEFINED, &req.url.into(), &init).map_err(fail)?;
        let promise: Promise = promise.dyn_into().map_err(|_| TransportFault { kind: FaultKind::Network, detail: "fetch did not return a promise".into() })?;
        let response = JsFuture::from(promise).await.map_err(fail)?;
        let response: web_sys::Response = response
            .dyn_into()
            .map_err(|_| TransportFault { kind: FaultKind::Network, detail: "fetch did not resolve to a Response".into() })?;
        let mut headers = Vec::new();
        for name in READ_HEADERS {
            if let Ok(Some(value)) = response.headers().get(name) {
                headers.push((name.to_string(), value));
            }
        }
        let status = response.status();
        let cut_off = |e: JsValue| match classify(&e, timed_out.get()) {
            TransportFault { kind: FaultKind::Timeout, detail } => TransportFault { kind: FaultKind::Timeout, detail },
            _ => TransportFault { kind: FaultKind::Truncated, detail: "body cut off".into() },
        };
        let text = response.text().map_err(cut_off)?;
        let body = JsFuture::from(text).await.map_err(cut_off)?.as_string().unwrap_or_default();
        Ok(HttpResponse { status, headers, body })
    }

    impl Env for FetchEnv {
        fn send(&self, req: HttpRequest, timeout_ms: u32) -> LocalBoxFuture<'static, Result<HttpResponse, TransportFault>> {
            let fetch = self.fetch.clone();
            Box::pin(async move {
                let controller = web_sys::AbortController::new()
                    .map_err(|_| TransportFault { kind: FaultKind::Network, detail: "AbortController is missing".into() })?;
                let timed_out = std::rc::Rc::new(std::cell::Cell::new(false));
                // The timer aborts the fetch and also settles a promise the attempt races against,
                // so a caller-supplied fetch that ignores `signal` cannot hang a call. That promise
                // is settled on every path: a JsFuture over a promise that never settles leaks.
                let expire: std::rc::Rc<std::cell::RefCell<Option<js_sys::Function>>> = std::rc::Rc::default();
                let expired = {
                    let slot = expire.clone();
                    JsFuture::from(Promise::new(&mut |resolve, _| *slot.borrow_mut() = Some(resolve)))
                };
                let settle = |expire: &std::cell::RefCell<Option<js_sys::Function>>| {
                    if let Some(resolve) = expire.borrow_mut().take() {
                        let _ = resolve.call0(&JsValue::UNDEFINED);
                    }
                };
                let on_timeout = {
                    let controller = controller.clone();
                    let timed_out = timed_out.clone();
                    let expire = expire.clone();
                    Closure::once(move || {
                        timed_out.set(true);
                        controller.abort();
                        settle(&expire);
                    })
                };
                let handle = set_timeout(on_timeout.as_ref().unchecked_ref(), f64::from(timeout_ms));
                let attempt = Box::pin(attempt(fetch, req, controller.signal(), timed_out));
                let result = match futures::future::select(attempt, expired).await {
                    futures::future::Either::Left((result, _)) => result,
                    futures::future::Either::Right(_) => Err(TransportFault { kind: FaultKind::Timeout, detail: "aborted after timeout".into() }),
                };
                // The timer must not outlive the attempt: it would keep Node alive and leak the closure.
                clear_timeout(&handle);
                settle(&expire);
                drop(on_timeout);
                result
            })
        }

        fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
            Box::pin(async move {
                let promise = Promise::new(&mut |resolve, _| {
                    set_timeout(&resolve, ms as f64);
                });
                let _ = JsFuture::from(promise).await;
            })
        }

        fn now_ms(&self) -> u64 {
            js_sys::Date::now() as u64
        }

        fn uuid(&self) -> String {
            let n = self.id_counter.get().wrapping_add(1);
            self.id_counter.set(n);
            let mut b = [0u8; 16];
            b[..10].copy_from_slice(&self.id_prefix);
            b[10..].copy_from_slice(&n.to_be_bytes()[2..]);
            format_uuid(b)
        }

        fn session_opened(&self, session: &crate::config::AlliancePaySession) {
            let Some(callback) = &self.on_session_update else { return };
            // The one place a session secret is exposed on purpose: the caller persists it.
            let plain = serde_json::json!({
                "deviceId": session.device_id,
                "refreshToken": session.refresh_token.expose(),
                "serverPublic": session.server_public,
                "expiresAt": session.expires_at,
            });
            use serde::Serialize;
            if let Ok(value) = plain.serialize(&serde_wasm_bindgen::Serializer::json_compatible()) {
                // A throwing callback must not fail the call that opened the session.
                let _ = callback.call1(&JsValue::UNDEFINED, &value);
            }
        }

        fn fill_random(&self, buf: &mut [u8]) {
            // crypto.getRandomValues; if it were missing, zeros only weaken jitter, and JWE
            // refuses to run without real randomness (see auth::jwe).
            let _ = getrandom::getrandom(buf);
        }
    }
}
