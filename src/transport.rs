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
    /// The reply's body was not read: larger than the SDK reads (js/fetch.js `MAX_REPLY_BYTES`),
    /// or made unreadable by the caller's own fetch (read already, not bytes). Another attempt
    /// would meet the same.
    Unread,
    /// The reply was a redirect, which the SDK never follows (js/fetch.js says why).
    Redirect,
    /// The caller's own `fetch` followed a redirect anyway: the reply is another server's.
    FollowedRedirect,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportFault {
    pub kind: FaultKind,
    pub detail: String,
    /// The reply's HTTP status when its headers arrived before the fault (a body cut off, or
    /// timed out while being read): a 2xx then means a write was most likely applied.
    pub status: Option<u16>,
    /// The headers the SDK reads (`http::READ_HEADERS`), as they came with `status`.
    pub headers: Vec<(String, String)>,
}

impl TransportFault {
    /// A failure status whose body did not arrive whole (cut off, too slow, too large), as a reply
    /// with no body: its status says what the provider did (a 429 to wait out, a 401 to renew
    /// after, a 400 refused) as much as a bare reply would.
    pub fn unread_failure(&self) -> Option<HttpResponse> {
        let status = self.status.filter(|s| !(200..300).contains(s))?;
        matches!(self.kind, FaultKind::Truncated | FaultKind::Timeout | FaultKind::Unread)
            .then(|| HttpResponse { status, headers: self.headers.clone(), body: String::new() })
    }

    /// What became of the body `unread_failure` stands in for.
    pub fn body_fate(&self, timeout_ms: u32) -> String {
        match self.kind {
            FaultKind::Timeout => format!("its body did not arrive within {timeout_ms} ms"),
            FaultKind::Unread => format!("its body was not read: {}", self.detail),
            _ => "its body was cut off".to_string(),
        }
    }

    pub fn into_error(self, provider: Provider, timeout_ms: u32) -> Error {
        let err = match self.kind {
            FaultKind::Timeout if self.status.is_some() => {
                Error::new(ErrorCode::Timeout, format!("the body of the {} reply did not arrive within {timeout_ms} ms", provider.as_str()))
            }
            FaultKind::Timeout => Error::new(ErrorCode::Timeout, format!("no reply from {} within {timeout_ms} ms", provider.as_str())),
            // A cut-off body is unreadable like a malformed one, but another attempt may get it whole.
            FaultKind::Truncated => Error::new(ErrorCode::Decode, format!("the {} reply was cut off", provider.as_str())).retryable(true),
            FaultKind::Unread => Error::new(ErrorCode::Decode, format!("the {} reply was not read: {}", provider.as_str(), self.detail)),
            // A provider API does not move; a redirect means a wrong baseUrl or something in
            // between, and trying again gets the same answer.
            FaultKind::Redirect => Error::new(
                ErrorCode::ProviderError,
                format!(
                    "{} answered with a redirect ({}), which is not followed: check baseUrl, or whether something in between (a proxy asking to sign in) answered",
                    provider.as_str(),
                    self.detail
                ),
            ),
            // Where it led is not the provider's API, or not at the address the config names.
            FaultKind::FollowedRedirect => Error::new(
                ErrorCode::ProviderError,
                format!(
                    "the fetch given in the config followed a redirect from {} ({}), and its reply was not read: a custom fetch must keep redirect: 'manual'",
                    provider.as_str(),
                    self.detail
                ),
            ),
            FaultKind::Refused | FaultKind::Network => {
                Error::new(ErrorCode::Network, format!("could not reach {}: {}", provider.as_str(), self.detail))
            }
        };
        let mut err = err.with_provider(provider);
        err.http_status = self.status;
        err.not_applied = self.kind == FaultKind::Refused;
        err.outcome_unknown = matches!(self.kind, FaultKind::Redirect | FaultKind::FollowedRedirect);
        err
    }
}

pub trait Env: Clone + 'static {
    fn send(&self, req: &HttpRequest, timeout_ms: u32) -> LocalBoxFuture<'static, Result<HttpResponse, TransportFault>>;
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

/// A request id is made on every call, so it is written digit by digit rather than with `format!`.
pub fn format_uuid(mut b: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    out
}

#[cfg(target_arch = "wasm32")]
pub use fetch::FetchEnv;

#[cfg(target_arch = "wasm32")]
mod fetch {
    use super::*;
    use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
    use wasm_bindgen::prelude::wasm_bindgen;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use crate::http::READ_HEADERS;

    #[wasm_bindgen(module = "/js/fetch.js")]
    extern "C" {
        /// One attempt: fetch with an abort timer, read status, `READ_HEADERS` and body, in a
        /// single crossing (see js/fetch.js). Resolves to `[status, ...headers, body]` or to
        /// `{ kind, detail }`; never rejects.
        #[wasm_bindgen(js_name = sendAttempt)]
        fn send_attempt(fetch: &Function, url: &str, method: &str, headers: Array, body: Option<&str>, timeout_ms: u32, read: &Array) -> Promise;
    }

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = setTimeout)]
        fn set_timeout(callback: &Function, ms: f64) -> JsValue;
        #[wasm_bindgen(js_name = clearTimeout)]
        fn clear_timeout(timer: &JsValue);
    }

    /// A wait that loses a race (the sign-in came first) is dropped; its timer must not keep a
    /// Node process alive until it fires. The promise is settled all the same, because a
    /// `JsFuture` frees its callbacks only when its promise settles.
    struct PendingTimer {
        timer: JsValue,
        resolve: Option<Function>,
    }

    impl Drop for PendingTimer {
        fn drop(&mut self) {
            clear_timeout(&self.timer);
            if let Some(resolve) = &self.resolve {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        }
    }

    /// An attempt whose future is dropped before its reply (its call was aborted, or every caller
    /// stopped waiting for a shared sign-in) aborts its fetch; otherwise the request would run on
    /// to its timeout, keep a Node process alive, and could open an AlliancePay session nobody uses.
    struct InFlight(Option<Promise>);

    impl Drop for InFlight {
        fn drop(&mut self) {
            let Some(promise) = self.0.take() else { return };
            if let Ok(abandon) = Reflect::get(&promise, &"abandon".into()).and_then(|f| f.dyn_into::<Function>()) {
                let _ = abandon.call0(&promise);
            }
        }
    }

    /// `fetch` is the caller's function when given (a proxy, a test double, undici with options),
    /// else the global one that browsers and Node ≥18 share.
    #[derive(Clone)]
    pub struct FetchEnv {
        fetch: Function,
        on_session_update: Option<Function>,
        read_headers: Array,
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
            let read_headers = READ_HEADERS.iter().map(|h| JsValue::from_str(h)).collect();
            Ok(FetchEnv { fetch, on_session_update, read_headers, id_prefix, id_counter: std::rc::Rc::default() })
        }
    }

    fn fault(reply: &JsValue) -> TransportFault {
        let field = |name: &str| Reflect::get(reply, &name.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        let kind = match field("kind").as_str() {
            "timeout" => FaultKind::Timeout,
            "refused" => FaultKind::Refused,
            "truncated" => FaultKind::Truncated,
            "unread" => FaultKind::Unread,
            "redirect" => FaultKind::Redirect,
            "followed_redirect" => FaultKind::FollowedRedirect,
            _ => FaultKind::Network,
        };
        let detail = field("detail");
        let status = Reflect::get(reply, &"status".into()).ok().and_then(|v| v.as_f64()).filter(|s| (100.0..600.0).contains(s)).map(|s| s as u16);
        let headers = Reflect::get(reply, &"headers".into()).ok().and_then(|v| v.dyn_into::<Array>().ok()).map_or_else(Vec::new, |h| read_headers(&h, 0));
        TransportFault { kind, detail: if detail.is_empty() { "the request failed".into() } else { detail }, status, headers }
    }

    /// The values of `READ_HEADERS` in order from `values[from]`; a header not sent is null there.
    fn read_headers(values: &Array, from: u32) -> Vec<(String, String)> {
        READ_HEADERS
            .iter()
            .enumerate()
            .filter_map(|(i, name)| values.get(i as u32 + from).as_string().map(|v| (name.to_string(), v)))
            .collect()
    }

    impl Env for FetchEnv {
        fn send(&self, req: &HttpRequest, timeout_ms: u32) -> LocalBoxFuture<'static, Result<HttpResponse, TransportFault>> {
            let headers: Array = req.headers.iter().flat_map(|(n, v)| [JsValue::from_str(n), JsValue::from_str(v)]).collect();
            let promise = send_attempt(&self.fetch, &req.url, req.method.as_str(), headers, req.body.as_deref(), timeout_ms, &self.read_headers);
            // Made before the future is first polled: the request is already on its way.
            let mut in_flight = InFlight(Some(promise.clone()));
            Box::pin(async move {
                let reply = JsFuture::from(promise).await.unwrap_or(JsValue::UNDEFINED);
                in_flight.0.take(); // settled: nothing to abort
                let Some(parts) = reply.dyn_ref::<Array>() else { return Err(fault(&reply)) };
                let status = parts.get(0).as_f64().map_or(0, |s| s as u16);
                let headers = read_headers(parts, 1);
                let body = parts.get(READ_HEADERS.len() as u32 + 1);
                let body = match body.dyn_into::<Uint8Array>() {
                    Ok(bytes) => crate::http::body_text(bytes.to_vec()),
                    Err(text) => text.as_string().unwrap_or_default(),
                };
                Ok(HttpResponse { status, headers, body })
            })
        }

        fn sleep(&self, ms: u64) -> LocalBoxFuture<'static, ()> {
            let mut pending = PendingTimer { timer: JsValue::UNDEFINED, resolve: None };
            // setTimeout takes at most 2^31-1 ms; a longer wait would fire at once.
            let ms = ms.min(i32::MAX as u64);
            let promise = Promise::new(&mut |resolve, _| {
                pending.timer = set_timeout(&resolve, ms as f64);
                pending.resolve = Some(resolve);
            });
            Box::pin(async move {
                let _ = JsFuture::from(promise).await;
                drop(pending);
            })
        }

        fn now_ms(&self) -> u64 {
            // Within what a date can be: a stubbed clock (NaN, Infinity) must not make every
            // deadline and expiry sum overflow. NaN casts to 0.
            (js_sys::Date::now() as u64).min(crate::time_fmt::MAX_MS as u64)
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
            // The one place a session secret is exposed on purpose: the caller persists it. Written
            // as text into one buffer, wiped once handed over (a `Value` would leave copies).
            #[derive(serde::Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Plain<'a> {
                device_id: &'a str,
                refresh_token: &'a str,
                server_public: &'a serde_json::Value,
                expires_at: &'a str,
                issued_for: Option<&'a str>,
            }
            let plain = Plain {
                device_id: &session.device_id,
                refresh_token: session.refresh_token.expose(),
                server_public: &session.server_public,
                expires_at: &session.expires_at,
                issued_for: session.issued_for.as_deref(),
            };
            // Room for the worst escaping (6 bytes for a character), so that it never grows: a
            // grown buffer leaves its old copy freed unwiped.
            let room = 6 * (session.device_id.len() + session.refresh_token.expose().len() + session.expires_at.len()) + 1024;
            let mut text = zeroize::Zeroizing::new(Vec::with_capacity(room));
            if serde_json::to_writer(&mut *text, &plain).is_err() {
                return;
            }
            if let Ok(value) = js_sys::JSON::parse(std::str::from_utf8(&text).unwrap_or("null")) {
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

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_version_4_uuids() {
        let id = super::format_uuid([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let id = super::format_uuid(core::array::from_fn(|i| i as u8));
        assert_eq!(id, "00010203-0405-4607-8809-0a0b0c0d0e0f");
    }
}
