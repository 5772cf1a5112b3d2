//! The transport over `fetch` and the JS boundary, run in Node by wasm-bindgen-test.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Promise, Reflect};
use paytokens::http::{HttpRequest, Method};
use paytokens::js::{can_transition, WasmClient};
use paytokens::transport::{Env, FaultKind, FetchEnv};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

fn js_fn(args: &str, body: &str) -> Function {
    Function::new_with_args(args, body)
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

async fn settle(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

#[wasm_bindgen_test]
async fn fetch_env_sends_method_headers_body_and_reads_the_reply() {
    let fetch = js_fn(
        "url, init",
        "globalThis.__seen = { url, method: init.method, auth: init.headers['Authorization'], body: init.body, signal: init.signal instanceof AbortSignal };
         return Promise.resolve(new Response('{\"ok\":true}', { status: 201, headers: { 'retry-after': '3', 'x-other': 'dropped' } }));",
    );
    let env = FetchEnv::new(Some(fetch), None).unwrap();
    let req = HttpRequest::new(Method::Post, "https://example.test/a".into()).header("Authorization", "Bearer t").json(&serde_json::json!({"a": 1}));
    let resp = env.send(&req, 1_000).await.unwrap();
    assert_eq!(resp.status, 201);
    assert_eq!(resp.body, "{\"ok\":true}");
    assert_eq!(resp.header("retry-after"), Some("3"));
    assert_eq!(resp.header("x-other"), None);
    let seen = get(&js_sys::global(), "__seen");
    assert_eq!(get(&seen, "url").as_string().as_deref(), Some("https://example.test/a"));
    assert_eq!(get(&seen, "method").as_string().as_deref(), Some("POST"));
    assert_eq!(get(&seen, "auth").as_string().as_deref(), Some("Bearer t"));
    assert_eq!(get(&seen, "body").as_string().as_deref(), Some("{\"a\":1}"));
    assert_eq!(get(&seen, "signal").as_bool(), Some(true));
}

#[wasm_bindgen_test]
async fn a_hung_fetch_is_aborted_at_the_timeout() {
    let fetch = js_fn(
        "url, init",
        "return new Promise((_, reject) => init.signal.addEventListener('abort', () => { globalThis.__aborted = true; reject(new DOMException('aborted', 'AbortError')); }));",
    );
    let env = FetchEnv::new(Some(fetch), None).unwrap();
    let started = js_sys::Date::now();
    let fault = env.send(&HttpRequest::new(Method::Get, "https://example.test/".into()), 50).await.unwrap_err();
    assert_eq!(fault.kind, FaultKind::Timeout);
    assert!(js_sys::Date::now() - started < 1_000.0);
    assert_eq!(get(&js_sys::global(), "__aborted").as_bool(), Some(true));
}

#[wasm_bindgen_test]
async fn a_fetch_that_ignores_the_signal_still_times_out() {
    let fetch = js_fn("url, init", "return new Promise(() => {});");
    let env = FetchEnv::new(Some(fetch), None).unwrap();
    let started = js_sys::Date::now();
    let fault = env.send(&HttpRequest::new(Method::Get, "https://example.test/".into()), 50).await.unwrap_err();
    assert_eq!(fault.kind, FaultKind::Timeout);
    assert!(js_sys::Date::now() - started < 1_000.0);
}

#[wasm_bindgen_test]
async fn refused_and_other_network_failures_are_told_apart() {
    let refused = js_fn("", "const e = new TypeError('fetch failed'); e.cause = { code: 'ECONNREFUSED' }; return Promise.reject(e);");
    let env = FetchEnv::new(Some(refused), None).unwrap();
    let fault = env.send(&HttpRequest::new(Method::Get, "https://example.test/".into()), 1_000).await.unwrap_err();
    assert_eq!(fault.kind, FaultKind::Refused);
    let reset = js_fn("", "const e = new TypeError('fetch failed'); e.cause = { code: 'ECONNRESET' }; return Promise.reject(e);");
    let env = FetchEnv::new(Some(reset), None).unwrap();
    let fault = env.send(&HttpRequest::new(Method::Get, "https://example.test/".into()), 1_000).await.unwrap_err();
    assert_eq!(fault.kind, FaultKind::Network);
    let throws = js_fn("", "throw new Error('sync throw');");
    let env = FetchEnv::new(Some(throws), None).unwrap();
    assert_eq!(env.send(&HttpRequest::new(Method::Get, "https://x.test/".into()), 1_000).await.unwrap_err().kind, FaultKind::Network);
}

fn pinelabs_config() -> JsValue {
    js_sys::JSON::parse(r#"{"provider":"pinelabs","clientId":"id","clientSecret":"canary-wasm-secret","baseUrl":"https://pl.test/api","maxRetries":0}"#).unwrap()
}

#[wasm_bindgen_test]
fn bad_config_becomes_a_typed_error_object() {
    let config = js_sys::JSON::parse(r#"{"provider":"pinelabs","clientId":"id","clientSecret":12345}"#).unwrap();
    let err = WasmClient::new(config, JsValue::UNDEFINED, JsValue::UNDEFINED).err().unwrap();
    assert_eq!(get(&err, "code").as_string().as_deref(), Some("INVALID_INPUT"));
    assert_eq!(get(&err, "message").as_string().as_deref(), Some("config.clientSecret: expected a string"));
    assert_eq!(get(&err, "provider").as_string().as_deref(), Some("pinelabs"));
    // A caller's function that is not one is refused, naming the field and the provider.
    let err = WasmClient::new(pinelabs_config(), JsValue::from_str("not a function"), JsValue::UNDEFINED).err().unwrap();
    assert_eq!(get(&err, "message").as_string().as_deref(), Some("config.fetch: must be a function"));
    assert_eq!(get(&err, "provider").as_string().as_deref(), Some("pinelabs"));
    let err = WasmClient::new(JsValue::from_str("nope"), JsValue::UNDEFINED, JsValue::UNDEFINED).err().unwrap();
    assert_eq!(get(&err, "code").as_string().as_deref(), Some("INVALID_INPUT"));
}

#[wasm_bindgen_test]
async fn the_instance_survives_bad_replies_and_thrown_errors() {
    // A fetch that misbehaves in every way, then behaves.
    let fetch = js_fn(
        "url, init",
        "globalThis.__n = (globalThis.__n || 0) + 1; const n = globalThis.__n;
         if (url.endsWith('/auth/v1/token')) return Promise.resolve(new Response(JSON.stringify({ access_token: 'at', expires_at: '2999-01-01T00:00:00Z' })));
         if (n === 2) throw new Error('boom');
         if (n === 3) return Promise.resolve(new Response('{\"tokens\": [', { status: 200 }));
         if (n === 4) return Promise.resolve(new Response('<html>502</html>', { status: 502 }));
         if (n === 5) return Promise.resolve('not a response');
         if (n === 6) return Promise.resolve(new Response('\\u0000\\uffff', { status: 200 }));
         return Promise.resolve(new Response(JSON.stringify({ tokens: [{ token_id: 't1', status: 'ACTIVE' }] })));",
    );
    let client = WasmClient::new(pinelabs_config(), fetch.into(), JsValue::UNDEFINED).unwrap();
    let input = || js_sys::JSON::parse(r#"{"customerId":"c1"}"#).unwrap();
    let mut codes = Vec::new();
    for _ in 0..5 {
        let err = settle(client.list_tokens(input(), JsValue::UNDEFINED, None)).await.unwrap_err();
        codes.push(get(&err, "code").as_string().unwrap());
        assert_eq!(get(&err, "provider").as_string().as_deref(), Some("pinelabs"));
    }
    assert_eq!(codes, ["NETWORK", "DECODE", "PROVIDER_ERROR", "NETWORK", "DECODE"]);
    for bad in [JsValue::NULL, JsValue::from(5), js_sys::JSON::parse(r#"{"customerId":7}"#).unwrap()] {
        let err = settle(client.list_tokens(bad, JsValue::UNDEFINED, None)).await.unwrap_err();
        assert_eq!(get(&err, "code").as_string().as_deref(), Some("INVALID_INPUT"));
    }
    // The tape pkg/tape.js reads (src/model_tape.rs): `[parts, numbers, wides]`.
    let tape = js_sys::Array::from(&settle(client.list_tokens(input(), JsValue::UNDEFINED, None)).await.unwrap());
    let text = js_sys::Array::from(&tape.get(0)).get(0).as_string().unwrap();
    assert!(text.starts_with("t1"), "the first string is the token's id");
    let numbers = js_sys::Uint32Array::new(&tape.get(1)).to_vec();
    assert_eq!(numbers[..2], [2, 1], "a list of one token");
    assert_eq!(numbers[4] >> 8 & 0xff, 0, "ACTIVE, the first status");
    let err_json = js_sys::JSON::stringify(&settle(client.list_tokens(JsValue::NULL, JsValue::UNDEFINED, None)).await.unwrap_err()).unwrap();
    assert!(!String::from(err_json).contains("canary-wasm-secret"));
}

#[wasm_bindgen_test]
fn can_transition_never_throws() {
    assert!(can_transition("ACTIVE".into(), "SUSPENDED".into()));
    assert!(!can_transition("DELETED".into(), "ACTIVE".into()));
    assert!(!can_transition("BOGUS".into(), "ACTIVE".into()));
    assert!(!can_transition(JsValue::NULL, JsValue::from(3)));
}
