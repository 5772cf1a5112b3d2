//! The client's sequencing, natively: retries, renewals, single-flight, deadlines, zero-request
//! validation. The fake env answers from a script and records every request and every wait.

use futures::executor::block_on;
use futures::future::join_all;
use serde_json::json;
use std::cell::Cell;
use std::rc::Rc;

use crate::client::Client;
use crate::config::ClientConfig;
use crate::error::{Error, ErrorCode, WriteOutcome};
use crate::http::{HttpRequest, HttpResponse};
use crate::model::*;
use crate::testing::FakeEnv;
use crate::transport::{FaultKind, TransportFault};

const TOKEN_OK: &str = r#"{"access_token":"at-1","expires_at":"2999-01-01T00:00:00Z"}"#;
const LIST_OK: &str = r#"{"tokens":[{"token_id":"t1","status":"ACTIVE","payment_method":"CARD"}]}"#;

fn pinelabs(max_retries: u32, extra: serde_json::Value) -> ClientConfig {
    let mut config = json!({"provider": "pinelabs", "clientId": "id", "clientSecret": "canary-secret", "baseUrl": "https://pl.test/api", "maxRetries": max_retries});
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    ClientConfig::parse(&config.to_string()).unwrap()
}

/// Answers the token endpoint, and the nth call to anything else from `script` (last one repeats).
fn scripted(script: Vec<Result<HttpResponse, TransportFault>>) -> FakeEnv {
    let n = Rc::new(Cell::new(0usize));
    FakeEnv::new(move |req: &HttpRequest| {
        if req.url.ends_with("/auth/v1/token") {
            return Ok(HttpResponse::new(200, TOKEN_OK));
        }
        let i = n.get().min(script.len() - 1);
        n.set(n.get() + 1);
        script[i].clone()
    })
}

fn list(env: &FakeEnv, config: ClientConfig) -> crate::error::Result<Vec<Token>> {
    let client = Client::new(config, env.clone()).unwrap();
    block_on(client.list_tokens(&ListTokensInput { customer_id: "c1".into() }))
}

fn status(code: u16, body: &str) -> Result<HttpResponse, TransportFault> {
    Ok(HttpResponse::new(code, body))
}

fn fault(kind: FaultKind) -> Result<HttpResponse, TransportFault> {
    Err(TransportFault { kind, detail: "test".into(), status: None, headers: Vec::new() })
}

#[test]
fn two_503s_then_200_succeed_with_max_retries_3() {
    let env = scripted(vec![status(503, "{}"), status(503, "{}"), status(200, LIST_OK)]);
    assert_eq!(list(&env, pinelabs(3, json!({}))).unwrap().len(), 1);
    assert_eq!(env.count("/customer/"), 3);
    assert_eq!(env.slept.borrow().len(), 2);
}

#[test]
fn a_permanent_503_makes_one_plus_max_retries_attempts() {
    for max in [0, 1, 2, 5] {
        let env = scripted(vec![status(503, r#"{"code":"SERVICE_UNAVAILABLE","message":"down"}"#)]);
        let err = list(&env, pinelabs(max, json!({}))).unwrap_err();
        assert_eq!((err.code, err.retryable, err.http_status), (ErrorCode::ProviderError, true, Some(503)));
        assert_eq!(env.count("/customer/"), 1 + max as usize);
    }
}

/// A name cut mid-emoji (`"\ud83d"` alone) is read as U+FFFD, as `JSON.parse` would keep it,
/// rather than failing the whole list; a reply broken otherwise is still DECODE.
#[test]
fn a_lone_surrogate_escape_costs_one_character_not_the_reply() {
    let body = r#"{"tokens":[{"token_id":"t1","status":"ACTIVE","payment_method":"CARD","merchant_metadata":{"holder":"Ann \ud83d"}},{"token_id":"t2","status":"ACTIVE","merchant_metadata":{"holder":"Bo \ud83d\ude00"}}]}"#;
    let env = scripted(vec![status(200, body)]);
    let tokens = list(&env, pinelabs(0, json!({}))).unwrap();
    assert_eq!(tokens[0].metadata.as_ref().and_then(|m| m.get("holder")), Some("Ann \u{fffd}"));
    assert_eq!(tokens[1].metadata.as_ref().and_then(|m| m.get("holder")), Some("Bo \u{1f600}"));
    assert_eq!(env.count("/customer/"), 1, "read twice, sent once");
    let env = scripted(vec![status(200, r#"{"tokens":[{"token_id":"\ud83d"#)]);
    assert_eq!(list(&env, pinelabs(0, json!({}))).unwrap_err().code, ErrorCode::Decode);
}

/// An error reply with such an escape keeps its code too: a 404 that lost it would read as a
/// wrong `baseUrl` (PROVIDER_ERROR) rather than NOT_FOUND.
#[test]
fn a_lone_surrogate_escape_in_an_error_reply_keeps_its_code() {
    let env = scripted(vec![status(404, r#"{"code":"TOKEN_NOT_FOUND","message":"no token for Ann \ud83d"}"#)]);
    let err = list(&env, pinelabs(0, json!({}))).unwrap_err();
    assert_eq!((err.code, err.provider_code.as_deref()), (ErrorCode::NotFound, Some("TOKEN_NOT_FOUND")), "{}", err.message);
    assert!(err.message.contains("Ann \u{fffd}"), "{}", err.message);
    let env = scripted(vec![status(400, r#"{"code":"INVALID_REQUEST","message":"bad name \udc00"}"#)]);
    let err = list(&env, pinelabs(0, json!({}))).unwrap_err();
    assert_eq!((err.code, err.provider_code.as_deref()), (ErrorCode::InvalidInput, Some("INVALID_REQUEST")), "{}", err.message);
}

#[test]
fn client_errors_are_tried_once() {
    for code in [400, 403, 404, 409, 422, 500] {
        let env = scripted(vec![status(code, r#"{"code":"X","message":"no"}"#), status(200, LIST_OK)]);
        assert!(list(&env, pinelabs(3, json!({}))).is_err());
        assert_eq!(env.count("/customer/"), 1, "{code}");
    }
}

#[test]
fn retry_after_is_honoured_in_seconds_and_as_a_date() {
    let env = scripted(vec![Ok(HttpResponse::new(429, "{}").with_header("Retry-After", "1")), status(200, LIST_OK)]);
    assert!(list(&env, pinelabs(2, json!({}))).is_ok());
    assert_eq!(*env.slept.borrow(), vec![1_000]);
    let at = httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_000 + 3_000));
    let env = scripted(vec![Ok(HttpResponse::new(503, "{}").with_header("Retry-After", &at)), status(200, LIST_OK)]);
    assert!(list(&env, pinelabs(2, json!({}))).is_ok());
    assert_eq!(*env.slept.borrow(), vec![3_000]);
}

#[test]
fn an_error_carries_the_request_id_that_attempt_sent_unless_the_reply_names_one() {
    let last_sent = |env: &FakeEnv| env.sent.borrow().iter().rev().find(|r| r.url.contains("/customer/")).and_then(|r| r.header_value("Request-ID").map(str::to_string));
    // No reply (a timeout), a reply without an id (Pine Labs' 500 body has none), an unreadable 2xx.
    for reply in [fault(FaultKind::Timeout), status(500, r#"{"code":"INTERNAL_ERROR","message":"oops"}"#), status(200, r#"{"tokens":7}"#)] {
        let env = scripted(vec![reply]);
        let err = list(&env, pinelabs(0, json!({}))).unwrap_err();
        let sent = last_sent(&env);
        assert!(sent.is_some());
        assert_eq!(err.request_id, sent, "{}", err.message);
    }
    // The provider's own id wins.
    let env = scripted(vec![Ok(HttpResponse::new(500, r#"{"code":"INTERNAL_ERROR"}"#).with_header("Request-ID", "theirs-1"))]);
    assert_eq!(list(&env, pinelabs(0, json!({}))).unwrap_err().request_id.as_deref(), Some("theirs-1"));
}

#[test]
fn network_failures_and_timeouts_are_retried_for_reads() {
    let env = scripted(vec![fault(FaultKind::Network), fault(FaultKind::Timeout), status(200, LIST_OK)]);
    assert!(list(&env, pinelabs(2, json!({}))).is_ok());
    let env = scripted(vec![fault(FaultKind::Timeout)]);
    let err = list(&env, pinelabs(1, json!({}))).unwrap_err();
    assert_eq!((err.code, err.retryable), (ErrorCode::Timeout, true));
    assert_eq!(env.count("/customer/"), 2);
}

/// A failure status whose headers came but whose body did not (cut off, too slow, too large).
fn unread(kind: FaultKind, status: u16, headers: &[(&str, &str)]) -> Result<HttpResponse, TransportFault> {
    let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    Err(TransportFault { kind, detail: "the reply is larger than 32 MiB".into(), status: Some(status), headers })
}

/// The status alone says what the provider did, as a bare reply's would: a body that never
/// arrived whole must not turn a refusal into "may have been applied", or a throttle into DECODE.
/// The field a caller branches on says what the message tells a person: `UNKNOWN` exactly where
/// the change may have been (or most likely was) applied. The core leaves "not applied" unset,
/// and pkg/api.js fills it in for every other failure of a write.
fn assert_outcome_matches_message(err: &Error) {
    let unknown = err.message.contains("may have been applied") || err.message.contains("most likely applied");
    let expected = if unknown { Some(WriteOutcome::Unknown) } else { None };
    assert_eq!(err.write_outcome, expected, "{}", err.message);
}

/// A Pine Labs delete (3 retries) answered by `script`; a failure's outcome field is checked
/// against its message on the way.
fn pine_delete(script: Vec<Result<HttpResponse, TransportFault>>) -> (crate::error::Result<()>, FakeEnv) {
    let env = scripted(script);
    let client = Client::new(pinelabs(3, json!({})), env.clone()).unwrap();
    let result = block_on(client.delete_token(&DeleteTokenInput { token_id: "t1".into(), customer_id: Some("c1".into()) }));
    if let Err(err) = &result {
        assert_outcome_matches_message(err);
    }
    (result, env)
}

/// What an abort of a write is told (src/js.rs reads the call's `in_doubt`): sending an attempt
/// puts the write in doubt, and only a reply that proves that attempt unapplied (a throttle, a
/// refused connection, a refused credential) takes it out again; once in doubt, it stays.
#[test]
fn a_write_is_in_doubt_from_its_sending_until_a_reply_proves_it_unapplied() {
    let throttled = || status(429, r#"{"code":"RATE_LIMITED","message":"slow down"}"#);
    let failed = || status(503, r#"{"code":"INTERNAL_ERROR","message":"down"}"#);
    let revoked = || status(401, r#"{"code":"UNAUTHORIZED","message":"token expired"}"#);
    for (i, (script, doubt)) in [
        (vec![throttled()], false),
        (vec![fault(FaultKind::Refused)], false),
        (vec![revoked()], false),
        (vec![fault(FaultKind::Timeout)], true),
        (vec![failed()], true),
        (vec![throttled(), fault(FaultKind::Refused), failed()], true),
        (vec![fault(FaultKind::Refused), fault(FaultKind::Timeout), throttled()], true),
    ]
    .into_iter()
    .enumerate()
    {
        let env = scripted(script);
        let (client, in_doubt) = Client::new(pinelabs(3, json!({})), env.clone()).unwrap().for_one_call();
        let err = block_on(client.delete_token(&DeleteTokenInput { token_id: "t1".into(), customer_id: Some("c1".into()) })).unwrap_err();
        assert_eq!(in_doubt.get(), doubt, "case {i}: {}", err.message);
        // A read on the same client leaves the write's doubt alone, and has none of its own.
        block_on(client.list_tokens(&ListTokensInput { customer_id: "c1".into() })).ok();
        assert_eq!(in_doubt.get(), doubt, "case {i}");
    }
    let (client, in_doubt) = Client::new(pinelabs(3, json!({})), scripted(vec![status(200, LIST_OK)])).unwrap().for_one_call();
    block_on(client.list_tokens(&ListTokensInput { customer_id: "c1".into() })).unwrap();
    assert!(!in_doubt.get(), "a read is never in doubt");
}

#[test]
fn a_failure_status_whose_body_did_not_arrive_is_typed_by_the_status() {
    let ok = r#"{"token_id":"t1","customer_id":"c1","status":"DEACTIVATED"}"#;
    let delete = pine_delete;
    for kind in [FaultKind::Truncated, FaultKind::Timeout, FaultKind::Unread] {
        // A throttle: nothing was done, so the change is sent again once the wait asked for ends.
        let (r, env) = delete(vec![unread(kind, 429, &[("retry-after", "2")]), status(200, ok)]);
        assert!(r.is_ok(), "{kind:?}: {r:?}");
        assert_eq!((env.count("/delete"), env.slept.borrow().clone()), (2, vec![2_000]), "{kind:?}");
        // A refusal: not sent again, and not said to be perhaps applied.
        let err = delete(vec![unread(kind, 400, &[("request-id", "req-9")])]).0.unwrap_err();
        assert_eq!((err.code, err.http_status, err.retryable), (ErrorCode::InvalidInput, Some(400), false), "{kind:?}");
        assert!(!err.message.contains("applied"), "{kind:?}: {}", err.message);
        assert_eq!(err.request_id.as_deref(), Some("req-9"));
        // A server failure: the change may have been made before it.
        let (r, env) = delete(vec![unread(kind, 502, &[])]);
        let err = r.unwrap_err();
        assert_eq!((err.code, err.http_status, err.retryable, env.count("/delete")), (ErrorCode::ProviderError, Some(502), false, 1), "{kind:?}");
        assert!(err.message.ends_with("the change may have been applied: read the token before repeating it"), "{kind:?}: {}", err.message);
    }
    let err = delete(vec![unread(FaultKind::Truncated, 400, &[])]).0.unwrap_err();
    assert_eq!(err.message, "pinelabs replied HTTP 400 without an error description (its body was cut off)");
    let err = delete(vec![unread(FaultKind::Timeout, 400, &[])]).0.unwrap_err();
    assert!(err.message.ends_with("(its body did not arrive within 30000 ms)"), "{}", err.message);
    // Reads: a bare 404 is not "no such token" (it may be a wrong baseUrl); a 503 is retried.
    let env = scripted(vec![unread(FaultKind::Truncated, 404, &[])]);
    let err = list(&env, pinelabs(2, json!({}))).unwrap_err();
    assert_eq!((err.code, err.http_status, env.count("/customer/")), (ErrorCode::ProviderError, Some(404), 1));
    assert!(err.message.contains("check baseUrl"), "{}", err.message);
    let env = scripted(vec![unread(FaultKind::Timeout, 503, &[]), status(200, LIST_OK)]);
    assert!(list(&env, pinelabs(2, json!({}))).is_ok());
    // A 401 renews the access token once and tries again, as with its body read.
    let env = scripted(vec![unread(FaultKind::Truncated, 401, &[]), status(200, LIST_OK)]);
    assert!(list(&env, pinelabs(0, json!({}))).is_ok());
    assert_eq!((env.count("/auth/v1/token"), env.count("/customer/")), (2, 2));
    // A 2xx whose body did not arrive is still DECODE (a read's confirmation is the body).
    let env = scripted(vec![unread(FaultKind::Truncated, 200, &[])]);
    assert_eq!(list(&env, pinelabs(0, json!({}))).unwrap_err().code, ErrorCode::Decode);
}

/// A 408 (the server gave up waiting for the request) is repeated for a read; a change is not
/// sent again, since it may have arrived whole after all.
#[test]
fn a_408_is_retried_for_reads_only() {
    let env = scripted(vec![status(408, ""), status(200, LIST_OK)]);
    assert!(list(&env, pinelabs(2, json!({}))).is_ok());
    assert_eq!(env.count("/customer/"), 2);
    let (result, env) = pine_delete(vec![status(408, "")]);
    let err = result.unwrap_err();
    assert_eq!((err.http_status, err.retryable, env.count("/delete")), (Some(408), false, 1));
    assert!(err.message.contains("may have been applied"), "{}", err.message);
}

#[test]
fn writes_are_repeated_only_when_the_reply_proves_nothing_was_applied() {
    let delete = |script| {
        let (result, env) = pine_delete(script);
        (result, env.count("/delete"))
    };
    let ok = r#"{"token_id":"t1","customer_id":"c1","status":"DEACTIVATED"}"#;
    assert_eq!(delete(vec![status(503, "{}"), status(200, ok)]).1, 1);
    assert_eq!(delete(vec![fault(FaultKind::Timeout), status(200, ok)]).1, 1);
    assert_eq!(delete(vec![fault(FaultKind::Network), status(200, ok)]).1, 1);
    let (r, _) = delete(vec![status(503, "{}")]);
    let err = r.unwrap_err();
    assert!(!err.retryable, "a write that may have been applied is not reported as safe to retry");
    assert!(err.message.ends_with("the change may have been applied: read the token before repeating it"), "{}", err.message);
    // A 2xx whose body was cut off: the status is kept, and the outcome is said to be unknown.
    let cut = Err(TransportFault { kind: FaultKind::Truncated, detail: "test".into(), status: Some(200), headers: Vec::new() });
    let (r, n) = delete(vec![cut]);
    let err = r.unwrap_err();
    assert_eq!((err.code, err.http_status, err.retryable, n), (ErrorCode::Decode, Some(200), false, 1));
    assert!(err.message.contains("cut off") && err.message.contains("may have been applied"), "{}", err.message);
    // A 2xx whose confirmation cannot be read: the write was accepted, so most likely applied.
    let (r, n) = delete(vec![status(200, r#"{"token_id":7}"#)]);
    let err = r.unwrap_err();
    assert_eq!((err.code, err.http_status, err.retryable, n), (ErrorCode::Decode, Some(200), false, 1));
    assert!(err.message.ends_with("(HTTP 200), so it was most likely applied: read the token before repeating it"), "{}", err.message);
    // An empty 200 confirms nothing (the documented reply names the token); only a 204 says done.
    let (r, n) = delete(vec![status(200, "")]);
    let err = r.unwrap_err();
    assert_eq!((err.code, err.write_outcome, n), (ErrorCode::Decode, Some(WriteOutcome::Unknown), 1));
    assert!(err.message.contains("the delete reply is empty") && err.message.ends_with("(HTTP 200), so it was most likely applied: read the token before repeating it"), "{}", err.message);
    assert!(delete(vec![status(204, "")]).0.is_ok());
    // ...and so is one refused unread for its size; under a 5xx it only may have been.
    let large = |status| Err(TransportFault { kind: FaultKind::Unread, detail: "the reply is larger than 32 MiB".into(), status: Some(status), headers: Vec::new() });
    let (r, n) = delete(vec![large(200)]);
    let err = r.unwrap_err();
    assert_eq!((err.code, err.http_status, err.retryable, n), (ErrorCode::Decode, Some(200), false, 1));
    assert!(err.message.ends_with("(HTTP 200), so it was most likely applied: read the token before repeating it"), "{}", err.message);
    let err = delete(vec![large(502)]).0.unwrap_err();
    assert_eq!((err.code, err.http_status, err.retryable), (ErrorCode::ProviderError, Some(502), false));
    assert!(err.message.ends_with("the change may have been applied: read the token before repeating it"), "{}", err.message);
    assert!(!delete(vec![large(400)]).0.unwrap_err().message.contains("applied"));
    // A refusal the provider gave (400) is not an unknown outcome.
    let (r, _) = delete(vec![status(400, r#"{"code":"INVALID_REQUEST","message":"bad"}"#)]);
    assert!(!r.unwrap_err().message.contains("may have been applied"));
    // A server error is: never retried, but the change may have been made before it failed.
    // 200 too: Pine Labs' own "failed on our side", inside a success status.
    for code in [500, 408, 520, 200] {
        let (r, n) = delete(vec![status(code, r#"{"code":"INTERNAL_ERROR","message":"oops"}"#)]);
        let err = r.unwrap_err();
        assert_eq!((err.code, err.retryable, n), (ErrorCode::ProviderError, false, 1), "{code}");
        assert!(err.message.ends_with("the change may have been applied: read the token before repeating it"), "{code}: {}", err.message);
    }
    // A wait asked for is not offered on a write of unknown outcome: it would invite a repeat.
    let unavailable = Ok(HttpResponse::new(503, "{}").with_header("Retry-After", "2"));
    let err = delete(vec![unavailable]).0.unwrap_err();
    assert_eq!((err.http_status, err.retryable, err.retry_after_ms), (Some(503), false, None));
    assert!(err.message.contains("may have been applied"), "{}", err.message);
    let (r, n) = delete(vec![status(429, "{}"), status(200, ok)]);
    assert!(r.is_ok() && n == 2);
    let (r, n) = delete(vec![fault(FaultKind::Refused), status(200, ok)]);
    assert!(r.is_ok() && n == 2);
    // The throttle's code proves nothing under a 500: the delete is not sent again.
    let (r, n) = delete(vec![status(500, r#"{"code":"PAYMENT_RATE_LIMIT","message":"slow down"}"#), status(200, ok)]);
    let err = r.unwrap_err();
    // Nor is it RATE_LIMITED, which tells a caller to wait and repeat: the provider's code says it.
    assert_eq!((err.code, err.provider_code.as_deref(), err.retryable, n), (ErrorCode::ProviderError, Some("PAYMENT_RATE_LIMIT"), false, 1));
    assert!(err.message.contains("may have been applied"), "{}", err.message);
}

#[test]
fn no_attempt_is_sent_with_less_than_its_least_time_and_the_wait_asked_for_is_passed_on() {
    // deadlineMs 1,020: a Retry-After of 1 s would leave the next attempt 20 ms, less than the
    // 50 ms an attempt gets at least. So there is no wait and no second request; the caller is
    // told how long the provider asked for.
    let env = scripted(vec![Ok(HttpResponse::new(429, r#"{"code":"RATE_LIMITED","message":"slow down"}"#).with_header("Retry-After", "1")), status(200, LIST_OK)]);
    let err = list(&env, pinelabs(3, json!({"deadlineMs": 1_020}))).unwrap_err();
    assert_eq!((err.code, err.retryable, err.retry_after_ms), (ErrorCode::RateLimited, true, Some(1_000)));
    assert!(err.message.ends_with("(deadlineMs left no time to try again)"), "{}", err.message);
    assert_eq!((env.count("/customer/"), env.slept.borrow().len()), (1, 0));
    // A wait that leaves exactly the least time (50 ms of 1,050) is taken.
    let env = scripted(vec![Ok(HttpResponse::new(429, "{}").with_header("Retry-After", "1")), status(200, LIST_OK)]);
    assert!(list(&env, pinelabs(3, json!({"deadlineMs": 1_050}))).is_ok());
    assert_eq!(*env.slept.borrow(), vec![1_000]);
    // With a 9 ms budget there is no least time; a wait must still leave 1 ms.
    let env = scripted(vec![Ok(HttpResponse::new(429, "{}").with_header("Retry-After", "0")), status(200, LIST_OK)]);
    assert!(list(&env, pinelabs(3, json!({"deadlineMs": 9}))).is_ok());
    // A Retry-After longer than the SDK waits reaches the caller as retryAfterMs.
    let env = scripted(vec![Ok(HttpResponse::new(429, "{}").with_header("Retry-After", "120"))]);
    let err = list(&env, pinelabs(3, json!({}))).unwrap_err();
    assert_eq!((err.retry_after_ms, env.count("/customer/")), (Some(120_000), 1));
    let js = serde_json::to_value(&err).unwrap();
    assert_eq!(js["retryAfterMs"], 120_000);
}

/// Answers the token endpoint 429 with this `Retry-After`, and every list with `LIST_OK`.
fn sign_in_throttled(retry_after: &'static str) -> FakeEnv {
    FakeEnv::new(move |req: &HttpRequest| {
        if req.url.ends_with("/auth/v1/token") {
            return Ok(HttpResponse::new(429, r#"{"code":"RATE_LIMITED","message":"slow down"}"#).with_header("Retry-After", retry_after));
        }
        Ok(HttpResponse::new(200, LIST_OK))
    })
}

#[test]
fn a_sign_in_refused_with_a_long_retry_after_is_not_sent_again_before_it() {
    // The token endpoint answers 429 with Retry-After: 120. The SDK does not wait 2 minutes; the
    // next calls within them fail at once, without another sign-in, and say how long is left.
    let env = sign_in_throttled("120");
    let client = Client::new(pinelabs(2, json!({})), env.clone()).unwrap();
    let call = || block_on(client.list_tokens(&ListTokensInput { customer_id: "c1".into() })).unwrap_err();
    let first = call();
    assert_eq!((first.code, first.retryable, first.retry_after_ms), (ErrorCode::RateLimited, true, Some(120_000)));
    let second = call();
    assert_eq!((second.code, second.retryable), (ErrorCode::RateLimited, true));
    assert!(second.retry_after_ms.is_some_and(|ms| ms <= 120_000), "{:?}", second.retry_after_ms);
    assert!(second.message.contains("throttled the last sign-in; the next is held"), "{}", second.message);
    assert_eq!(env.count("/auth/v1/token"), 1);
    assert_eq!(env.count("/customer/"), 0);
}

#[test]
fn a_sign_in_runs_on_the_budget_of_the_call_that_starts_it() {
    // No deadlineMs in the config: the sign-in would sleep out a 30 s Retry-After. On the call's
    // own 1 s it ends with the wait instead, which holds the next sign-ins, as the config's 1 s does.
    let env = sign_in_throttled("30");
    let client = Client::new(pinelabs(2, json!({})), env.clone()).unwrap();
    let call = || block_on(client.clone().within(Some(1_000)).list_tokens(&ListTokensInput { customer_id: "c1".into() })).unwrap_err();
    let first = call();
    assert_eq!((first.code, first.retry_after_ms), (ErrorCode::RateLimited, Some(30_000)), "{}", first.message);
    // The provider's own refusal, not the hold it set (the call that started it does not sign in again).
    assert!(first.message.contains("slow down"), "{}", first.message);
    let second = call();
    assert!(second.code == ErrorCode::RateLimited && second.message.contains("throttled the last sign-in; the next is held"), "{}", second.message);
    assert_eq!(env.count("/auth/v1/token"), 1);
}

#[test]
fn a_call_that_joined_a_sign_in_which_ran_out_of_its_starters_budget_signs_in_on_its_own() {
    // helper-131: the first sign-in times out on the 200 ms of the call that started it; the call
    // that joined it has no deadline, and used to fail with that "what deadlineMs had left".
    let clock = Rc::new(Cell::new(1_700_000_000_000u64));
    let sign_ins = Rc::new(Cell::new(0));
    let mut env = FakeEnv::new({
        let clock = clock.clone();
        move |req: &HttpRequest| {
            if req.url.ends_with("/auth/v1/token") {
                sign_ins.set(sign_ins.get() + 1);
                // A first attempt answered "try again", so that the sign-in is still under way
                // (waiting) when the second call comes and joins it.
                if sign_ins.get() == 1 {
                    return Ok(HttpResponse::new(503, "{}").with_header("Retry-After", "0"));
                }
                if sign_ins.get() == 2 {
                    clock.set(clock.get() + 200);
                    return Err(TransportFault { kind: FaultKind::Timeout, detail: "no reply".into(), status: None, headers: vec![] });
                }
                return Ok(HttpResponse::new(200, TOKEN_OK));
            }
            Ok(HttpResponse::new(200, LIST_OK))
        }
    });
    env.clock = clock;
    let client = Client::new(pinelabs(2, json!({})), env.clone()).unwrap();
    let input = ListTokensInput { customer_id: "c1".into() };
    let short = client.clone().within(Some(200));
    let (started, joined) = block_on(futures::future::join(short.list_tokens(&input), client.list_tokens(&input)));
    // The short call is out of time, whether it saw the sign-in fail or the new one succeed.
    assert_eq!(started.unwrap_err().code, ErrorCode::Timeout);
    assert_eq!(joined.unwrap().len(), 1);
    assert_eq!(env.count("/auth/v1/token"), 3, "the joined call signed in on its own budget");
}

#[test]
fn a_timeout_of_the_sign_in_says_so() {
    // helper-131: a write's TIMEOUT with NOT_APPLIED read as its own request unanswered.
    let clock = Rc::new(Cell::new(1_700_000_000_000u64));
    let mut env = FakeEnv::new({
        let clock = clock.clone();
        move |_: &HttpRequest| {
            clock.set(clock.get() + 400);
            Err(TransportFault { kind: FaultKind::Timeout, detail: "no reply".into(), status: None, headers: vec![] })
        }
    });
    env.clock = clock;
    let client = Client::new(pinelabs(2, json!({})), env.clone()).unwrap().within(Some(400));
    let err = block_on(client.delete_token(&DeleteTokenInput { token_id: "t1".into(), customer_id: Some("c1".into()) })).unwrap_err();
    assert_eq!(err.code, ErrorCode::Timeout);
    assert_eq!(err.message, "signing in: no reply from pinelabs within 400 ms (what deadlineMs had left)");
    assert_eq!(env.count("/customer/"), 0);
}

/// A day's `Retry-After` (a CDN's, say) is told to the caller whole, but holds the client's next
/// sign-ins for 5 minutes at most: then one is tried again.
#[test]
fn a_sign_in_hold_lasts_5_minutes_at_most() {
    let env = sign_in_throttled("86400");
    let client = Client::new(pinelabs(2, json!({})), env.clone()).unwrap();
    let call = || block_on(client.list_tokens(&ListTokensInput { customer_id: "c1".into() })).unwrap_err();
    assert_eq!(call().retry_after_ms, Some(86_400_000));
    assert_eq!(call().retry_after_ms, Some(300_000), "held, and the wait said is the hold's");
    env.clock.set(env.clock.get() + 299_999);
    call();
    assert_eq!(env.count("/auth/v1/token"), 1);
    env.clock.set(env.clock.get() + 1);
    call();
    assert_eq!(env.count("/auth/v1/token"), 2, "after 5 minutes, one sign-in again");
}

#[test]
fn a_clock_set_back_ends_a_sign_in_hold_rather_than_stretching_it() {
    // Held for 60 s; then the clock steps back 10 minutes (NTP, a VM restored): the hold would
    // last those 10 minutes more. The next call signs in again.
    let env = sign_in_throttled("60");
    let client = Client::new(pinelabs(0, json!({"deadlineMs": 1_000})), env.clone()).unwrap();
    let call = || block_on(client.list_tokens(&ListTokensInput { customer_id: "c1".into() })).unwrap_err();
    assert_eq!(call().retry_after_ms, Some(60_000));
    assert!(call().message.contains("the next is held"));
    assert_eq!(env.count("/auth/v1/token"), 1);
    env.clock.set(env.clock.get() - 600_000);
    assert_eq!(call().retry_after_ms, Some(60_000), "a sign-in was sent again");
    assert_eq!(env.count("/auth/v1/token"), 2);
}

#[test]
fn a_sign_in_throttled_without_retry_after_holds_the_next_ones_for_a_backoff() {
    // Pine Labs' 429 has no Retry-After: the next call within the backoff the sign-in would have
    // waited next fails at once instead of sending three more sign-ins; after it, one is sent.
    let env = FakeEnv::new(|req: &HttpRequest| {
        if req.url.ends_with("/auth/v1/token") {
            return Ok(HttpResponse::new(429, r#"{"code":"PAYMENT_RATE_LIMIT","message":"slow down"}"#));
        }
        Ok(HttpResponse::new(200, LIST_OK))
    });
    let client = Client::new(pinelabs(2, json!({})), env.clone()).unwrap();
    let call = || block_on(client.list_tokens(&ListTokensInput { customer_id: "c1".into() })).unwrap_err();
    // The first error says how long the hold is, so that a caller does not retry into it.
    let first = call();
    assert_eq!((first.code, first.retry_after_ms), (ErrorCode::RateLimited, Some(1_200)));
    assert_eq!(env.count("/auth/v1/token"), 3, "the sign-in's own retries");
    let held = call();
    assert_eq!((held.code, held.retryable), (ErrorCode::RateLimited, true));
    assert!(held.retry_after_ms.is_some_and(|ms| ms > 0 && ms <= 1_200), "{:?}", held.retry_after_ms);
    assert_eq!(env.count("/auth/v1/token"), 3, "nothing sent while held");
    env.clock.set(env.clock.get() + 1_200);
    call();
    assert_eq!(env.count("/auth/v1/token"), 6, "after the hold, a new sign-in");
}

/// Wrong credentials: every call of a busy server would send one more refused sign-in, which
/// providers count toward locking the merchant out. The refusal is repeated for 30 s instead;
/// then one sign-in is tried, and a throttle after it is told as a throttle, not as the refusal.
#[test]
fn a_refused_sign_in_is_repeated_for_30_s_without_another() {
    let refused = Rc::new(Cell::new(true));
    let answer = refused.clone();
    let env = FakeEnv::new(move |req: &HttpRequest| {
        if req.url.ends_with("/auth/v1/token") {
            return Ok(if answer.get() { HttpResponse::new(401, r#"{"code":"UNAUTHORIZED","message":"invalid client"}"#) } else { HttpResponse::new(429, r#"{"code":"PAYMENT_RATE_LIMIT","message":"slow down"}"#) });
        }
        Ok(HttpResponse::new(200, LIST_OK))
    });
    let client = Client::new(pinelabs(0, json!({})), env.clone()).unwrap();
    let call = || block_on(client.list_tokens(&ListTokensInput { customer_id: "c1".into() })).unwrap_err();
    let first = call();
    assert_eq!((first.code, first.retryable, first.http_status), (ErrorCode::Authentication, false, Some(401)));
    env.clock.set(env.clock.get() + 29_999);
    let held = call();
    assert_eq!((held.code, held.retryable, held.http_status), (ErrorCode::Authentication, false, Some(401)));
    assert!(held.message.starts_with(&first.message) && held.message.contains("repeated for 30 s without a new sign-in"), "{}", held.message);
    // The request id named the first call's sign-in; the held calls sent none.
    assert!(first.request_id.is_some() && held.request_id.is_none(), "{:?}", held.request_id);
    assert_eq!((env.count("/auth/v1/token"), env.count("/customer/")), (1, 0));
    env.clock.set(env.clock.get() + 1);
    refused.set(false);
    assert_eq!(call().code, ErrorCode::RateLimited);
    assert_eq!(env.count("/auth/v1/token"), 2, "after 30 s, one sign-in again");
    let throttled = call();
    assert!(throttled.code == ErrorCode::RateLimited && throttled.message.contains("throttled the last sign-in"), "{}", throttled.message);
}

#[test]
fn a_renewed_credential_earns_one_more_attempt_not_a_fresh_set_of_retries() {
    // maxRetries 2: 429, 429, then 401 (renew), then 429s. Before, the renewal restarted the
    // count and made six requests.
    let unauthorized = status(401, r#"{"code":"UNAUTHORIZED","message":"token expired"}"#);
    let limited = Ok(HttpResponse::new(429, "{}").with_header("Retry-After", "0"));
    let env = scripted(vec![limited.clone(), limited.clone(), unauthorized, limited]);
    let err = list(&env, pinelabs(2, json!({}))).unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert_eq!(env.count("/customer/"), 4);
}

/// The last attempt's "no reply within 500 ms" says how many attempts there were and how long
/// they took with their waits; one attempt says nothing more.
#[test]
fn an_error_after_retries_counts_the_attempts() {
    let env = scripted(vec![fault(FaultKind::Timeout), fault(FaultKind::Timeout), fault(FaultKind::Timeout)]);
    let err = list(&env, pinelabs(2, json!({}))).unwrap_err();
    assert_eq!(err.code, ErrorCode::Timeout);
    assert!(err.message.contains(" (3 attempts over "), "{}", err.message);
    let env = scripted(vec![fault(FaultKind::Timeout)]);
    assert!(!list(&env, pinelabs(0, json!({}))).unwrap_err().message.contains("attempts"));
    // Counted across a renewal: 503, 401 (renew), then 503s. maxRetries 2 makes four requests.
    let failed = || status(503, r#"{"code":"INTERNAL_ERROR","message":"down"}"#);
    let env = scripted(vec![failed(), status(401, r#"{"code":"UNAUTHORIZED","message":"token expired"}"#), failed()]);
    let err = list(&env, pinelabs(2, json!({}))).unwrap_err();
    assert_eq!(env.count("/customer/"), 4);
    assert!(err.message.contains(" (4 attempts over "), "{}", err.message);
    // A write's advice stays last.
    let (result, _) = pine_delete(vec![status(429, r#"{"code":"PAYMENT_RATE_LIMIT","message":"slow"}"#), status(200, r#"{"token_id":7}"#)]);
    let err = result.unwrap_err();
    assert!(err.message.contains(" (2 attempts over ") && err.message.ends_with("(HTTP 200), so it was most likely applied: read the token before repeating it"), "{}", err.message);
}

#[test]
fn a_deadline_bounds_the_whole_call() {
    let env = scripted(vec![Ok(HttpResponse::new(429, "{}").with_header("Retry-After", "2"))]);
    let err = list(&env, pinelabs(5, json!({"deadlineMs": 3_000}))).unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert_eq!(env.count("/customer/"), 2, "one wait of 2 s fits in 3 s, a second does not");
}

#[test]
fn a_calls_own_deadline_replaces_the_configs_for_that_call_only() {
    // Waits of 2 s: the config's 3 s fits one, a call's own 1 s none, and its own 10 s four.
    let env = scripted(vec![Ok(HttpResponse::new(429, "{}").with_header("Retry-After", "2"))]);
    let client = Client::new(pinelabs(5, json!({"deadlineMs": 3_000})), env.clone()).unwrap();
    let input = ListTokensInput { customer_id: "c1".into() };
    let mut sent = 0;
    for (budget, attempts) in [(Some(1_000), 1), (Some(10_000), 5), (None, 2)] {
        let err = block_on(client.clone().within(budget).list_tokens(&input)).unwrap_err();
        assert_eq!(err.code, ErrorCode::RateLimited);
        assert_eq!(env.count("/customer/") - sent, attempts, "{budget:?}");
        sent = env.count("/customer/");
    }
    // The client itself keeps the config's.
    assert!(block_on(client.list_tokens(&input)).is_err());
    assert_eq!(env.count("/customer/") - sent, 2);
}

#[test]
fn a_wait_that_overruns_the_deadline_ends_the_call_with_the_error_that_caused_it() {
    // The 1 s wait fits the 1.5 s budget, but the timer fires 600 ms late: no attempt is started
    // with no time left, and the caller learns it was rate limited, not just "timeout".
    let env = scripted(vec![Ok(HttpResponse::new(429, r#"{"code":"PAYMENT_RATE_LIMIT","message":"slow down"}"#).with_header("Retry-After", "1"))]);
    env.overshoot.set(600);
    let err = list(&env, pinelabs(5, json!({"deadlineMs": 1_500}))).unwrap_err();
    assert_eq!((err.code, err.provider_code.as_deref(), err.http_status), (ErrorCode::RateLimited, Some("PAYMENT_RATE_LIMIT"), Some(429)));
    assert!(err.message.ends_with("(deadlineMs left no time to try again)"), "{}", err.message);
    assert_eq!(env.count("/customer/"), 1);
    assert_eq!(err.retry_after_ms, None, "that wait was taken: the caller is not told to wait it again");
}

#[test]
fn the_deadline_covers_a_renewed_attempt_too() {
    // 429 (wait 1 s) → 401 → renew → 429 again: a second 1 s wait does not fit in what is
    // left of the call's 1.5 s budget, though it would in a fresh one.
    let env = scripted(vec![
        Ok(HttpResponse::new(429, "{}").with_header("Retry-After", "1")),
        status(401, r#"{"code":"UNAUTHORIZED","message":"expired"}"#),
        Ok(HttpResponse::new(429, "{}").with_header("Retry-After", "1")),
        status(200, LIST_OK),
    ]);
    let err = list(&env, pinelabs(5, json!({"deadlineMs": 1_500}))).unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
}

fn chargeover(extra: serde_json::Value) -> ClientConfig {
    let mut config = json!({"provider": "chargeover", "username": "u", "password": "p", "baseUrl": "https://co.test/api/v3"});
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    ClientConfig::parse(&config.to_string()).unwrap()
}

/// A full page at `pageSize: 2`.
const CO_FULL_PAGE: &str = r#"{"code":200,"status":"OK","message":"","details":{},"response":[{"tokenized_id":"6","customer_id":"1"},{"tokenized_id":"7","customer_id":"1"}]}"#;
const CO_NO_ROWS: &str = r#"{"code":200,"status":"OK","message":"","details":{},"response":[]}"#;

#[test]
fn the_deadline_spans_every_page_of_a_listing() {
    // Page 1 waits 1 s once; page 2 would wait 1 s too, which fits a fresh 1.5 s budget but not
    // what is left of the listing's.
    let rate_limited = Ok(HttpResponse::new(429, r#"{"code":429,"status":"Error","message":"slow down","details":{},"response":false}"#).with_header("Retry-After", "1"));
    let script = || vec![rate_limited.clone(), status(200, CO_FULL_PAGE), rate_limited.clone(), status(200, CO_NO_ROWS)];
    let input = ListTokensInput { customer_id: "1".into() };

    let env = scripted(script());
    let client = Client::new(chargeover(json!({"pageSize": 2, "maxRetries": 3, "deadlineMs": 1_500})), env.clone()).unwrap();
    let err = block_on(client.list_tokens(&input)).unwrap_err();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert_eq!(env.count("/tokenized"), 3);

    // Without a deadline the same script lists the page's tokens.
    let env = scripted(script());
    let client = Client::new(chargeover(json!({"pageSize": 2, "maxRetries": 3})), env.clone()).unwrap();
    assert_eq!(block_on(client.list_tokens(&input)).unwrap().len(), 2);
}

#[test]
fn the_deadline_spans_every_page_of_a_listing_read_page_by_page() {
    // pkg/api.js passes when the listing's first page was asked for: a later page gets what is left.
    let input = ListTokensInput { customer_id: "1".into() };
    let env = scripted(vec![status(200, CO_FULL_PAGE), status(200, CO_NO_ROWS)]);
    let client = Client::new(chargeover(json!({"pageSize": 2, "deadlineMs": 1_000})), env.clone()).unwrap();
    let started = env.clock.get();
    let first = block_on(client.list_tokens_page(&input, None, Some(started))).unwrap();
    env.clock.set(env.clock.get() + 1_500); // the caller worked on the first page for 1.5 s
    let err = block_on(client.list_tokens_page(&input, first.next.as_deref(), Some(started))).unwrap_err();
    assert_eq!(err.code, ErrorCode::Timeout);
    assert_eq!(env.count("/tokenized"), 1, "no request once the listing's budget is spent");
    // A page asked for on its own gets a whole budget.
    assert!(block_on(client.list_tokens_page(&input, first.next.as_deref(), None)).is_ok());
}

#[test]
fn a_listing_with_another_customers_row_fails_whole() {
    let env = scripted(vec![status(200, r#"{"tokens":[{"token_id":"a","customer_id":"c1"},{"token_id":"b","customer_id":"c2"}]}"#)]);
    let err = list(&env, pinelabs(0, json!({}))).unwrap_err();
    assert_eq!(err.code, ErrorCode::ProviderError);
    assert!(!err.retryable);
    assert_eq!(err.message, "pinelabs answered the listing of customer c1 with token b of another customer; no token of this reply is handed out");

    // ChargeOver's filter ignored: the second page holds a row of customer 2.
    let rows = |rows: &str| status(200, &format!(r#"{{"code":200,"status":"OK","message":"","details":{{}},"response":[{rows}]}}"#));
    let env = scripted(vec![
        rows(r#"{"tokenized_id":"6","customer_id":"1"},{"tokenized_id":"7","customer_id":"1"}"#),
        rows(r#"{"tokenized_id":"7","customer_id":"1"},{"tokenized_id":"8","customer_id":2}"#),
        status(200, CO_NO_ROWS),
    ]);
    let client = Client::new(chargeover(json!({"pageSize": 2})), env.clone()).unwrap();
    let err = block_on(client.list_tokens(&ListTokensInput { customer_id: "1".into() })).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (ErrorCode::ProviderError, "chargeover answered the listing of customer 1 with token 8 of another customer; no token of this reply is handed out"));
}

#[test]
fn a_listing_that_lists_a_token_twice_fails_whole() {
    let env = scripted(vec![status(200, r#"{"tokens":[{"token_id":"a"},{"token_id":"b"},{"token_id":"a"}]}"#)]);
    let err = list(&env, pinelabs(0, json!({}))).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (ErrorCode::ProviderError, "pinelabs listed token a twice in the listing of customer c1; no token of this reply is handed out"));
    // A short first ChargeOver page, which its order check lets pass as it came.
    let env = scripted(vec![status(200, r#"{"code":200,"status":"OK","message":"","details":{},"response":[{"tokenized_id":"8"},{"tokenized_id":"7"},{"tokenized_id":"8"}]}"#)]);
    let client = Client::new(chargeover(json!({})), env).unwrap();
    let err = block_on(client.list_tokens(&ListTokensInput { customer_id: "1".into() })).unwrap_err();
    assert_eq!(err.message, "chargeover listed token 8 twice in the listing of customer 1; no token of this reply is handed out");
    // On a full page, the order check finds it first, and names it too.
    let env = scripted(vec![status(200, r#"{"code":200,"status":"OK","message":"","details":{},"response":[{"tokenized_id":"7"},{"tokenized_id":"7"}]}"#)]);
    let client = Client::new(chargeover(json!({"pageSize": 2})), env).unwrap();
    let err = block_on(client.list_tokens(&ListTokensInput { customer_id: "1".into() })).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (ErrorCode::ProviderError, "chargeover listed token 7 twice in one page; the listing stops"));
    // A card number as an id is masked in the message, as everywhere else.
    let env = scripted(vec![status(200, r#"{"tokens":[{"token_id":"4111111111111111"},{"token_id":"4111111111111111"}]}"#)]);
    let err = list(&env, pinelabs(0, json!({}))).unwrap_err();
    assert!(err.message.contains("listed token 411111******1111 twice"), "{}", err.message);
}

#[test]
fn a_row_that_names_no_customer_is_the_listed_customers() {
    let env = scripted(vec![status(200, r#"{"customer_id":"c1","tokens":[{"token_id":"a"},{"token_id":"b","customer_id":"c1"},{"token_id":"c","customer_id":null}]}"#)]);
    let owners: Vec<Option<String>> = list(&env, pinelabs(0, json!({}))).unwrap().into_iter().map(|t| t.customer_id).collect();
    assert_eq!(owners, [Some("c1".to_string()), Some("c1".to_string()), Some("c1".to_string())]);
    // A reply that names no customer at its top either: the one in the path, asked for.
    let env = scripted(vec![status(200, r#"{"tokens":[{"token_id":"a"}]}"#)]);
    assert_eq!(list(&env, pinelabs(0, json!({}))).unwrap()[0].customer_id.as_deref(), Some("c1"));
    // A reply that is another customer's list fails the listing, with rows or none (an empty one
    // would say customer c1 has no tokens).
    for rows in [r#"[{"token_id":"a"}]"#, "[]", "null"] {
        let env = scripted(vec![status(200, &format!(r#"{{"customer_id":"c2","tokens":{rows}}}"#))]);
        let err = list(&env, pinelabs(0, json!({}))).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::ProviderError, "pinelabs answered the listing of customer c1 with the list of customer c2; no token of this reply is handed out"), "{rows}");
    }
    // The same at a provider whose parser has no customer to fill in (ChargeOver, AlliancePay):
    // the listing asked the provider for customer 1's rows.
    let env = scripted(vec![status(200, r#"{"code":200,"status":"OK","message":"","details":{},"response":[{"tokenized_id":"7"},{"tokenized_id":"8","customer_id":null}]}"#)]);
    let client = Client::new(chargeover(json!({})), env).unwrap();
    let tokens = block_on(client.list_tokens(&ListTokensInput { customer_id: "1".into() })).unwrap();
    assert_eq!(tokens.iter().map(|t| t.customer_id.as_deref()).collect::<Vec<_>>(), [Some("1"), Some("1")]);
}

#[test]
fn a_spent_deadline_sends_no_further_request() {
    // The store takes the whole budget (the fake clock moves 2 s while it is in flight), so the
    // read-back is not sent with no time left: TIMEOUT, and the message names the stored id.
    let clock = Rc::new(Cell::new(None::<Rc<Cell<u64>>>));
    let seen = clock.clone();
    let env = FakeEnv::new(move |req: &HttpRequest| {
        let c = seen.take().unwrap();
        c.set(c.get() + 2_000);
        seen.set(Some(c));
        Ok(if req.method == crate::http::Method::Post {
            HttpResponse::new(201, r#"{"code":201,"status":"OK","message":"","details":{},"response":{"id":3529}}"#)
        } else {
            HttpResponse::new(200, CO_FULL_PAGE)
        })
    });
    clock.set(Some(env.clock.clone()));
    let client = Client::new(chargeover(json!({"deadlineMs": 1_000})), env.clone()).unwrap();
    let input = CreateTokenInput { customer_id: "1".into(), token: "cus_123".into(), label: None, payment_method: None, brand: None, expiry_month: None, expiry_year: None, gateway: None };
    let err = block_on(client.create_token(&input)).unwrap_err();
    // Not TIMEOUT, which callers take as "repeat it": the store is done, and tokenId names it.
    assert_eq!((err.code, err.token_id.as_deref()), (ErrorCode::ProviderError, Some("3529")));
    assert!(err.message.starts_with("stored as tokenized_id 3529, but reading it back failed (TIMEOUT)") && err.message.contains("deadlineMs ran out"), "{}", err.message);
    assert!(!err.retryable && !err.not_applied, "repeating createToken would store a second token");
    assert_eq!(env.count("/tokenized"), 1, "the store only");
}

#[test]
fn a_store_whose_confirmation_cannot_be_read_is_not_reported_as_safe_to_repeat() {
    let env = scripted(vec![status(201, r#"{"code":201,"status":"OK","message":"","details":{},"response":{"id":"abc"}}"#)]);
    let client = Client::new(chargeover(json!({})), env.clone()).unwrap();
    let input = CreateTokenInput { customer_id: "1".into(), token: "cus_123".into(), label: None, payment_method: None, brand: None, expiry_month: None, expiry_year: None, gateway: None };
    let err = block_on(client.create_token(&input)).unwrap_err();
    assert_eq!((err.code, err.http_status, err.retryable), (ErrorCode::Decode, Some(201), false));
    assert!(err.message.contains("most likely applied"), "{}", err.message);
    assert_eq!(err.write_outcome, Some(WriteOutcome::Unknown));
    // A read's unreadable reply says nothing of the kind.
    let env = scripted(vec![status(200, r#"{"tokens":7}"#)]);
    let err = list(&env, pinelabs(0, json!({}))).unwrap_err();
    assert!(!err.message.contains("applied"));
    assert_eq!(err.write_outcome, None);
}

#[test]
fn a_401_renews_the_access_token_once_and_retries_once() {
    let env = scripted(vec![status(401, r#"{"code":"UNAUTHORIZED","message":"expired"}"#), status(200, LIST_OK)]);
    assert!(list(&env, pinelabs(0, json!({}))).is_ok());
    assert_eq!((env.count("/auth/v1/token"), env.count("/customer/")), (2, 2));
    let env = scripted(vec![status(401, r#"{"code":"UNAUTHORIZED","message":"expired"}"#)]);
    let client = Client::new(pinelabs(3, json!({})), env.clone()).unwrap();
    let input = ListTokensInput { customer_id: "c1".into() };
    let err = block_on(client.list_tokens(&input)).unwrap_err();
    assert_eq!(err.code, ErrorCode::Authentication);
    assert_eq!((env.count("/auth/v1/token"), env.count("/customer/")), (2, 2));
    // The renewed token was refused too, so it is not kept: the next call signs in first
    // instead of spending an attempt on it.
    block_on(client.list_tokens(&input)).unwrap_err();
    assert_eq!((env.count("/auth/v1/token"), env.count("/customer/")), (4, 4));
}

#[test]
fn concurrent_calls_share_one_access_token_request_and_reuse_it() {
    let env = scripted(vec![status(200, LIST_OK)]);
    let client = Client::new(pinelabs(0, json!({})), env.clone()).unwrap();
    let input = ListTokensInput { customer_id: "c1".into() };
    let results = block_on(join_all((0..200).map(|_| client.list_tokens(&input))));
    assert!(results.iter().all(|r| r.is_ok()));
    block_on(client.list_tokens(&input)).unwrap();
    assert_eq!((env.count("/auth/v1/token"), env.count("/customer/")), (1, 201));
}

/// Answers the token endpoint with `token_reply`, and every list with `LIST_OK`.
fn signing_in_with(token_reply: &'static str) -> FakeEnv {
    FakeEnv::new(move |req: &HttpRequest| {
        let body = if req.url.ends_with("/auth/v1/token") { token_reply } else { LIST_OK };
        Ok(HttpResponse::new(200, body))
    })
}

/// A refused sign-in is returned as the call's outcome: a 404 there must not read as "no such
/// token" (a delete's caller would record a live card as gone), nor a 400 as the call's bad input.
#[test]
fn a_refused_sign_in_is_not_read_as_the_calls_own_outcome() {
    for (status, body, code) in [
        (404, r#"{"code":"INVALID_REQUEST","message":"Not found"}"#, ErrorCode::ProviderError),
        (400, r#"{"code":"INVALID_REQUEST","message":"client_id must be a UUID"}"#, ErrorCode::Authentication),
        (422, r#"{"code":"INVALID_REQUEST","message":"bad grant"}"#, ErrorCode::Authentication),
    ] {
        let env = FakeEnv::new(move |req: &HttpRequest| {
            let reply = if req.url.ends_with("/auth/v1/token") { (status, body) } else { (200, r#"{"token_id":"t1","status":"DEACTIVATED"}"#) };
            Ok(HttpResponse::new(reply.0, reply.1))
        });
        let client = Client::new(pinelabs(2, json!({})), env.clone()).unwrap();
        let err = block_on(client.delete_token(&DeleteTokenInput { token_id: "t1".into(), customer_id: Some("c1".into()) })).unwrap_err();
        assert_eq!((err.code, err.http_status, err.retryable), (code, Some(status), false), "{status}: {}", err.message);
        assert!(err.message.starts_with("the sign-in "), "{}", err.message);
        assert_eq!((env.count("/auth/v1/token"), env.count("/delete")), (1, 0));
        let err = block_on(client.list_tokens(&ListTokensInput { customer_id: "c1".into() })).unwrap_err();
        assert_eq!(err.code, code);
    }
}

#[test]
fn an_access_token_near_expiry_is_replaced() {
    // 1_700_000_100_000 ms: 100 s after the fake clock's start.
    let env = signing_in_with(r#"{"access_token":"short","expires_at":"2023-11-14T22:15:00Z"}"#);
    let client = Client::new(pinelabs(0, json!({})), env.clone()).unwrap();
    let input = ListTokensInput { customer_id: "c1".into() };
    block_on(client.list_tokens(&input)).unwrap();
    block_on(client.list_tokens(&input)).unwrap();
    assert_eq!(env.count("/auth/v1/token"), 1);
    env.clock.set(env.clock.get() + 60_000);
    block_on(client.list_tokens(&input)).unwrap();
    assert_eq!(env.count("/auth/v1/token"), 2, "within the margin of expiry a new token is fetched");
    // The endpoint handed back its cached token, itself inside the margin (40 s left): it serves,
    // and the next renewal waits RENEWAL_PAUSE_MS rather than come with every call.
    for _ in 0..10 {
        block_on(client.list_tokens(&input)).unwrap();
    }
    assert_eq!(env.count("/auth/v1/token"), 2);
    env.clock.set(env.clock.get() + 5_000); // RENEWAL_PAUSE_MS
    block_on(client.list_tokens(&input)).unwrap();
    assert_eq!(env.count("/auth/v1/token"), 3);
}

/// A token the endpoint has just issued is valid, whatever the local clock says of its expiry (a
/// browser that cannot read the provider's `Date` while the clocks are hours apart): it serves for
/// the renewal pause rather than force a sign-in on every call.
#[test]
fn a_token_issued_already_expired_by_the_local_clock_serves_for_the_pause() {
    // Expired an hour before the fake clock's start, as a provider clock two hours behind gives.
    let env = signing_in_with(r#"{"access_token":"skewed","expires_at":"2023-11-14T21:13:20Z"}"#);
    let client = Client::new(pinelabs(0, json!({})), env.clone()).unwrap();
    let input = ListTokensInput { customer_id: "c1".into() };
    for _ in 0..10 {
        block_on(client.list_tokens(&input)).unwrap();
    }
    assert_eq!((env.count("/auth/v1/token"), env.count("/customer/")), (1, 10));
    env.clock.set(env.clock.get() + 5_000); // RENEWAL_PAUSE_MS
    block_on(client.list_tokens(&input)).unwrap();
    assert_eq!(env.count("/auth/v1/token"), 2);
}

/// The pause between renewals is timed from when the sign-in ended: one slower than the pause
/// must not leave every next call to sign in again.
#[test]
fn the_renewal_pause_counts_from_the_end_of_a_slow_sign_in() {
    let clock: Rc<std::cell::RefCell<Option<Rc<Cell<u64>>>>> = Rc::default();
    let slow = clock.clone();
    let env = FakeEnv::new(move |req: &HttpRequest| {
        if req.url.ends_with("/auth/v1/token") {
            if let Some(c) = slow.borrow().as_ref() {
                c.set(c.get() + 5_200); // the sign-in takes longer than the pause
            }
            // 30 s of life left once it lands: inside the 60 s margin.
            return Ok(HttpResponse::new(200, r#"{"access_token":"short","expires_at":"2023-11-14T22:13:55Z"}"#));
        }
        Ok(HttpResponse::new(200, LIST_OK))
    });
    *clock.borrow_mut() = Some(env.clock.clone());
    let client = Client::new(pinelabs(0, json!({})), env.clone()).unwrap();
    let input = ListTokensInput { customer_id: "c1".into() };
    for _ in 0..3 {
        block_on(client.list_tokens(&input)).unwrap();
    }
    assert_eq!(env.count("/auth/v1/token"), 1);
}

/// A renewal while the token is still valid makes one attempt: its retries, and the waits a
/// throttle asks for (12 s here), would hold every call that joined it although the token it
/// would replace still serves. Once the token has expired, a renewal gets its retries again.
#[test]
fn an_early_renewal_makes_one_attempt_and_the_calls_go_on_with_the_valid_token() {
    let signing_in = Rc::new(Cell::new(200u16));
    let sign_in = signing_in.clone();
    let env = FakeEnv::new(move |req: &HttpRequest| {
        if req.url.ends_with("/auth/v1/token") {
            return Ok(match sign_in.get() {
                200 => HttpResponse::new(200, r#"{"access_token":"short","expires_at":"2023-11-14T22:15:00Z"}"#),
                429 => HttpResponse::new(429, r#"{"code":"RATE_LIMITED","message":"slow down"}"#).with_header("Retry-After", "12"),
                status => HttpResponse::new(status, r#"{"code":"INTERNAL_ERROR","message":"down"}"#),
            });
        }
        Ok(HttpResponse::new(200, LIST_OK))
    });
    let client = Client::new(pinelabs(2, json!({})), env.clone()).unwrap();
    let call = || block_on(client.list_tokens(&ListTokensInput { customer_id: "c1".into() }));
    call().unwrap();
    // 55 s left (the token expires 100 s after the fake clock's start).
    env.clock.set(env.clock.get() + 45_000);
    signing_in.set(429);
    call().unwrap();
    assert_eq!(env.count("/auth/v1/token"), 2, "one attempt, not three");
    assert!(env.slept.borrow().is_empty(), "no wait: {:?}", env.slept.borrow());
    // Expired: the renewal is the call's only way on, and it has its retries.
    env.clock.set(env.clock.get() + 60_000);
    signing_in.set(503);
    let err = call().unwrap_err();
    assert_eq!((err.code, env.count("/auth/v1/token")), (ErrorCode::ProviderError, 5));
}

#[test]
fn a_token_still_valid_serves_when_its_early_renewal_fails_for_a_passing_reason() {
    // The token expires 100 s after the fake clock's start; within 60 s of that it is renewed.
    let signing_in = Rc::new(Cell::new(200u16));
    let listing = Rc::new(Cell::new(200u16));
    let (sign_in, list) = (signing_in.clone(), listing.clone());
    let env = FakeEnv::new(move |req: &HttpRequest| {
        if req.url.ends_with("/auth/v1/token") {
            return Ok(match sign_in.get() {
                200 => HttpResponse::new(200, r#"{"access_token":"short","expires_at":"2023-11-14T22:15:00Z"}"#),
                401 => HttpResponse::new(401, r#"{"code":"UNAUTHORIZED","message":"bad secret"}"#),
                status => HttpResponse::new(status, r#"{"code":"INTERNAL_ERROR","message":"down"}"#),
            });
        }
        Ok(match list.get() {
            401 => HttpResponse::new(401, r#"{"code":"UNAUTHORIZED","message":"token expired"}"#),
            _ => HttpResponse::new(200, LIST_OK),
        })
    });
    let client = Client::new(pinelabs(0, json!({})), env.clone()).unwrap();
    let input = ListTokensInput { customer_id: "c1".into() };
    let call = || block_on(client.list_tokens(&input));
    let clock = |ms: u64| env.clock.set(env.clock.get() + ms);
    call().unwrap();
    // 55 s left: the renewal fails (the provider down, then throttling), the token it would
    // replace serves, and the calls in between send no sign-in of their own.
    clock(45_000);
    signing_in.set(503);
    call().unwrap();
    call().unwrap();
    assert_eq!(env.count("/auth/v1/token"), 2, "one renewal per pause");
    clock(5_000);
    signing_in.set(429);
    call().unwrap();
    assert_eq!((env.count("/auth/v1/token"), env.count("/customer/")), (3, 4));
    let sent_with = env.sent.borrow().iter().filter(|r| r.url.contains("/customer/")).map(|r| r.header_value("Authorization").map(str::to_string)).collect::<Vec<_>>();
    assert!(sent_with.iter().all(|h| h.as_deref() == Some("Bearer short")), "{sent_with:?}");
    // Credentials the provider refused are not a passing reason: the caller must hear it.
    clock(5_000);
    signing_in.set(401);
    assert_eq!(call().unwrap_err().code, ErrorCode::Authentication);
    // Once the token has expired, the renewal's failure is the call's.
    clock(45_000);
    signing_in.set(503);
    let err = call().unwrap_err();
    assert_eq!((err.code, err.http_status), (ErrorCode::ProviderError, Some(503)));
    // A token the provider refused is not served either, though its time is not up.
    env.clock.set(1_700_000_045_000);
    signing_in.set(200);
    let other = Client::new(pinelabs(0, json!({})), env.clone()).unwrap();
    let call = || block_on(other.list_tokens(&input));
    call().unwrap();
    (signing_in.set(503), listing.set(401));
    assert_eq!(call().unwrap_err().http_status, Some(503));
    listing.set(200);
    assert_eq!(call().unwrap_err().http_status, Some(503), "the refused token is gone");
}

#[test]
fn a_credential_no_header_can_carry_is_refused_where_it_comes_from() {
    let config = |key: &str| ClientConfig::parse(&json!({"provider": "payerly", "apiKey": key}).to_string());
    let make = |key: &str| config(key).and_then(|c| Client::new(c, FakeEnv::new(|_| unreachable!())).map(|_| ()));
    for key in ["sk_live_…", "sk_\u{2019}x", "sk\nx", "sk\u{0}x"] {
        let err = make(key).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{key:?}");
        assert!(err.message.starts_with("config.apiKey: holds a character an HTTP header cannot carry"), "{}", err.message);
    }
    // What fetch sends: a space inside, Latin-1, a line break at the end (read from a file; fetch
    // trims it).
    for key in ["sk live", "sk_caf\u{e9}", "sk_live\n", " sk\t"] {
        assert!(make(key).is_ok(), "{key:?}");
    }
    // An access token Pine Labs hands out that no header can carry: DECODE, not a network failure.
    let env = signing_in_with(r#"{"access_token":"at\u2026","expires_at":"2999-01-01T00:00:00Z"}"#);
    let err = list(&env, pinelabs(2, json!({}))).unwrap_err();
    assert_eq!((err.code, err.retryable), (ErrorCode::Decode, false));
    assert_eq!((env.count("/auth/v1/token"), env.count("/customer/")), (1, 0));
}

#[test]
fn invalid_input_sends_nothing() {
    let env = scripted(vec![status(200, LIST_OK)]);
    let client = Client::new(pinelabs(0, json!({})), env.clone()).unwrap();
    for id in ["", "a/b", "..", "?", "#", "a\u{7}", "é", &"x".repeat(256)] {
        let err = block_on(client.list_tokens(&ListTokensInput { customer_id: id.into() })).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{id:?}");
        let err = block_on(client.get_token(&GetTokenInput { token_id: id.into(), customer_id: Some("c".into()), ..Default::default() })).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        let err = block_on(client.delete_token(&DeleteTokenInput { token_id: id.into(), customer_id: Some("c".into()) })).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
    }
    assert!(env.sent.borrow().is_empty());
}

#[test]
fn payerly_only_lookups_are_refused_by_the_other_providers() {
    let env = scripted(vec![status(200, r#"{"token_id":"t1","status":"ACTIVE","payment_method":"CARD"}"#)]);
    let client = Client::new(pinelabs(0, json!({})), env.clone()).unwrap();
    let base = GetTokenInput { token_id: "t1".into(), customer_id: Some("c".into()), ..Default::default() };
    let cases = [
        (GetTokenInput { account_id: Some("a".into()), ..base.clone() }, "input.accountId: is for Payerly only"),
        (GetTokenInput { phone: Some("+18001002030".into()), ..base.clone() }, "input.phone: is for Payerly only"),
        (GetTokenInput { email: Some("a@b.c".into()), ..base.clone() }, "input.email: is for Payerly only"),
        (GetTokenInput { include_raw: Some(true), ..base.clone() }, "input.includeRaw: is for Payerly only"),
    ];
    for (input, message) in cases {
        let err = block_on(client.get_token(&input)).unwrap_err();
        assert_eq!((err.code, err.message.as_str(), err.provider), (ErrorCode::InvalidInput, message, Some(Provider::Pinelabs)));
    }
    assert!(env.sent.borrow().is_empty());
    // `includeRaw: false` asks for nothing, and `customerId` is every provider's.
    assert_eq!(block_on(client.get_token(&GetTokenInput { include_raw: Some(false), ..base })).unwrap().id, "t1");
}

#[test]
fn no_request_or_error_debug_form_holds_the_secret_outside_the_token_request() {
    let env = scripted(vec![status(500, r#"{"code":"INTERNAL_ERROR","message":"boom"}"#)]);
    let err = list(&env, pinelabs(0, json!({}))).unwrap_err();
    assert!(!format!("{err:?} {err}").contains("canary-secret"));
    let sent = env.sent.borrow();
    for req in sent.iter().filter(|r| !r.url.ends_with("/auth/v1/token")) {
        assert!(!format!("{req:?}").contains("canary-secret"));
    }
    let config = pinelabs(0, json!({}));
    assert!(!format!("{config:?}").contains("canary-secret"));
}

#[test]
fn a_reply_about_another_token_is_not_that_token() {
    let env = scripted(vec![status(200, r#"{"token_id":"t2","status":"ACTIVE","payment_method":"CARD"}"#)]);
    let client = Client::new(pinelabs(0, json!({})), env).unwrap();
    let err = block_on(client.get_token(&GetTokenInput { token_id: "t1".into(), customer_id: Some("c".into()), ..Default::default() })).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (ErrorCode::Decode, "could not read the pinelabs reply: the reply is about another token than the one asked for"));
    // Payerly's first item, when it is another token than the one in the path.
    let env = FakeEnv::new(|_: &HttpRequest| Ok(HttpResponse::new(200, r#"{"items":[{"type":"TOKEN","object":{"tokenId":"tok_2"}}]}"#)));
    let config = ClientConfig::parse(&json!({"provider": "payerly", "apiKey": "k", "baseUrl": "https://api.payerly.test/v1"}).to_string()).unwrap();
    let err = block_on(Client::new(config, env).unwrap().get_token(&GetTokenInput { token_id: "tok_1".into(), ..Default::default() })).unwrap_err();
    assert_eq!(err.code, ErrorCode::Decode);
}

#[test]
fn a_credential_a_provider_echoes_in_its_error_is_redacted() {
    // The sign-in refused, its reply naming the secret it was sent, in every text of the error.
    let env = FakeEnv::new(|_: &HttpRequest| {
        Ok(HttpResponse::new(401, r#"{"code":"canary-secret","message":"invalid client_secret canary-secret"}"#))
    });
    let err = list(&env, pinelabs(0, json!({}))).unwrap_err();
    assert_eq!((err.message.as_str(), err.provider_code.as_deref()), ("invalid client_secret [redacted]", Some("[redacted]")));

    // The access token in use, echoed by the API it was sent to.
    let env = FakeEnv::new(|req: &HttpRequest| {
        Ok(match req.url.ends_with("/auth/v1/token") {
            true => HttpResponse::new(200, r#"{"access_token":"at-1-long","expires_at":"2999-01-01T00:00:00Z"}"#),
            false => HttpResponse::new(400, r#"{"code":"BAD_REQUEST","message":"bad request with token at-1-long"}"#),
        })
    });
    assert_eq!(list(&env, pinelabs(0, json!({}))).unwrap_err().message, "bad request with token [redacted]");

    // ChargeOver's password and the Basic header it travels in; Payerly's API key.
    let basic = "dTpzM2NyZXQtcHc="; // base64 of "u:s3cret-pw"
    let echo = format!(r#"{{"code":401,"status":"Error","message":"denied: s3cret-pw / Basic {basic}","response":false}}"#);
    let env = FakeEnv::new(move |_: &HttpRequest| Ok(HttpResponse::new(401, echo.clone())));
    let config = ClientConfig::parse(&json!({"provider": "chargeover", "username": "u", "password": "s3cret-pw", "baseUrl": "https://co.test/api/v3", "maxRetries": 0}).to_string()).unwrap();
    let err = block_on(Client::new(config, env).unwrap().list_tokens(&ListTokensInput { customer_id: "1".into() })).unwrap_err();
    assert_eq!(err.message, "denied: [redacted] / Basic [redacted]");
    let env = FakeEnv::new(|_: &HttpRequest| Ok(HttpResponse::new(401, r#"{"code":"UNAUTHORIZED","message":"key pk_live_123 is revoked"}"#)));
    let config = ClientConfig::parse(&json!({"provider": "payerly", "apiKey": "pk_live_123", "baseUrl": "https://api.payerly.test/v1"}).to_string()).unwrap();
    let err = block_on(Client::new(config, env).unwrap().get_token(&GetTokenInput { token_id: "t".into(), ..Default::default() })).unwrap_err();
    assert!(!err.message.contains("pk_live_123"), "{}", err.message);
}

/// A delete scoped to a customer is sent only for a token the reply names that customer for.
#[test]
fn a_delete_scoped_to_a_customer_is_not_sent_when_the_reply_names_no_customer() {
    let delete = |record: &'static str, customer: Option<&str>| {
        let env = FakeEnv::new(move |req: &HttpRequest| {
            Ok(match req.method {
                crate::http::Method::Delete => HttpResponse::new(200, r#"{"code":200,"status":"OK","message":"","details":{},"response":true}"#),
                _ => HttpResponse::new(200, format!(r#"{{"code":200,"status":"OK","message":"","details":{{}},"response":{record}}}"#)),
            })
        });
        let client = Client::new(chargeover(json!({})), env.clone()).unwrap();
        let result = block_on(client.delete_token(&DeleteTokenInput { token_id: "7".into(), customer_id: customer.map(str::to_string) }));
        let deletes = env.sent.borrow().iter().filter(|r| r.method == crate::http::Method::Delete).count();
        (result, deletes)
    };
    let (r, sent) = delete(r#"{"tokenized_id":"7"}"#, Some("1"));
    let err = r.unwrap_err();
    assert_eq!((err.code, sent), (ErrorCode::InvalidInput, 0));
    assert!(err.message.starts_with("input.customerId: cannot be checked"), "{}", err.message);
    let (r, sent) = delete(r#"{"tokenized_id":"7","customer_id":"2"}"#, Some("1"));
    assert_eq!((r.unwrap_err().code, sent), (ErrorCode::InvalidInput, 0));
    assert_eq!(delete(r#"{"tokenized_id":"7","customer_id":"1"}"#, Some("1")).1, 1);
    // Without a customer, nothing is read first.
    assert_eq!(delete(r#"{"tokenized_id":"7"}"#, None).1, 1);
}

/// ChargeOver reports a server failure inside an HTTP 200: a store's outcome is as unknown as
/// after a 500, and a refusal inside a 200 (code 400) is not.
#[test]
fn a_store_failed_by_chargeover_inside_a_200_may_have_been_applied() {
    let store = |body: &'static str| {
        let env = scripted(vec![status(200, body)]);
        let client = Client::new(chargeover(json!({"maxRetries": 0})), env.clone()).unwrap();
        let input = CreateTokenInput { customer_id: "1002".into(), token: "cus_123".into(), label: None, payment_method: None, brand: None, expiry_month: None, expiry_year: None, gateway: None };
        let err = block_on(client.create_token(&input)).unwrap_err();
        assert_outcome_matches_message(&err);
        (err, env.count("/tokenized"))
    };
    let (err, sent) = store(r#"{"code":500,"status":"Error","message":"An error occurred while processing the request.","details":{},"response":false}"#);
    assert_eq!((err.code, err.http_status, err.retryable, sent), (ErrorCode::ProviderError, Some(200), false, 1));
    // A store has no token to read yet: the customer's tokens show whether it was made.
    assert!(err.message.ends_with("the change may have been applied: list the customer's tokens before repeating it (storing it again would store it twice)"), "{}", err.message);
    let (err, _) = store(r#"{"code":400,"status":"Error","message":"Invalid customer.","details":{},"response":false}"#);
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(!err.message.contains("may have been applied"), "{}", err.message);
    // A throttle's code inside a 200 does not prove the store was not made: it is not sent again
    // (a 429 would be), or the token could be stored twice.
    let env = scripted(vec![status(200, r#"{"code":429,"status":"Error","message":"Too many requests."}"#)]);
    let client = Client::new(chargeover(json!({"maxRetries": 2})), env.clone()).unwrap();
    let input = CreateTokenInput { customer_id: "1002".into(), token: "cus_123".into(), label: None, payment_method: None, brand: None, expiry_month: None, expiry_year: None, gateway: None };
    let err = block_on(client.create_token(&input)).unwrap_err();
    // Nor is it RATE_LIMITED ("wait and repeat"): the message still gives ChargeOver's words.
    assert_eq!((err.code, err.http_status, env.count("/tokenized")), (ErrorCode::ProviderError, Some(200), 1));
    assert!(err.message.contains("may have been applied"), "{}", err.message);
}

/// A ChargeOver store that goes through (201, id 3529), then a read-back answered with `read_back`.
fn store_then(read_back: HttpResponse) -> (crate::error::Error, usize) {
    let env = FakeEnv::new(move |req: &HttpRequest| {
        Ok(if req.method == crate::http::Method::Post {
            HttpResponse::new(201, r#"{"code":201,"status":"OK","message":"","details":{},"response":{"id":3529}}"#)
        } else {
            read_back.clone()
        })
    });
    let config = ClientConfig::parse(&json!({"provider": "chargeover", "username": "u", "password": "p", "baseUrl": "https://co.test/api/v3", "maxRetries": 0}).to_string()).unwrap();
    let client = Client::new(config, env.clone()).unwrap();
    let input = CreateTokenInput { customer_id: "1002".into(), token: "cus_123".into(), label: None, payment_method: None, brand: None, expiry_month: None, expiry_year: None, gateway: None };
    (block_on(client.create_token(&input)).unwrap_err(), env.count("/tokenized"))
}

#[test]
fn a_failed_read_back_after_a_store_names_the_stored_id() {
    let (err, sent) = store_then(HttpResponse::new(500, r#"{"code":500,"status":"Error","message":"database busy","details":{},"response":false}"#));
    assert!(err.message.starts_with("stored as tokenized_id 3529"), "{}", err.message);
    assert_eq!(sent, 2, "one store, one read-back, no second store");
    // The store was made whatever the read-back's failure says.
    assert_eq!((err.write_outcome, err.token_id.as_deref()), (Some(WriteOutcome::Applied), Some("3529")));
}

/// The record read back is another customer's: stored, but not the token asked for.
#[test]
fn a_store_read_back_under_another_customer_is_not_returned() {
    let (err, sent) = store_then(HttpResponse::new(200, r#"{"code":200,"status":"OK","message":"","details":{},"response":{"tokenized_id":3529,"customer_id":2000}}"#));
    // No tokenId: it would name customer 2000's record as the one to read, or to delete as an undo.
    assert_eq!((err.code, err.retryable, err.write_outcome, err.token_id.as_deref(), sent), (ErrorCode::ProviderError, false, Some(WriteOutcome::Applied), None, 2));
    assert_eq!(err.message, "stored as tokenized_id 3529, but the record read back under that id is customer 2000's, not customer 1002's: list customer 1002's tokens before storing again");
}

/// A read-back refused with 429 and a wait: the caller is not told to wait and repeat the store.
#[test]
fn a_rate_limited_read_back_after_a_store_is_not_a_reason_to_repeat_it() {
    let (err, sent) = store_then(
        HttpResponse::new(429, r#"{"code":429,"status":"Error","message":"slow down","details":{},"response":false}"#).with_header("retry-after", "90"),
    );
    assert_eq!((err.code, err.retryable, err.retry_after_ms, err.token_id.as_deref()), (ErrorCode::ProviderError, false, None, Some("3529")));
    assert!(err.message.contains("(RATE_LIMITED)"), "{}", err.message);
    assert_eq!(sent, 2);
}

#[test]
fn expiry_is_judged_by_the_providers_clock_when_the_reply_gives_it() {
    // The local clock reads 2023-11-14T22:13:20Z; the token expires at midnight.
    let token = r#"{"items":[{"type":"TOKEN","object":{"tokenId":"tok_1","expireAt":"2023-11-15T00:00:00Z","paymentMethod":"card"}}]}"#;
    let get = |date: Option<&'static str>| {
        let env = FakeEnv::new(move |_: &HttpRequest| {
            let reply = HttpResponse::new(200, token);
            Ok(match date {
                Some(d) => reply.with_header("Date", d),
                None => reply,
            })
        });
        let config = ClientConfig::parse(&json!({"provider": "payerly", "apiKey": "k", "baseUrl": "https://api.payerly.test/v1"}).to_string()).unwrap();
        let client = Client::new(config, env).unwrap();
        block_on(client.get_token(&GetTokenInput { token_id: "tok_1".into(), ..Default::default() })).unwrap().status
    };
    assert_eq!(get(None), TokenStatus::Active, "no Date: the local clock");
    assert_eq!(get(Some("Wed, 15 Nov 2023 01:00:00 GMT")), TokenStatus::Expired, "the provider's clock is past expiry");
    assert_eq!(get(Some("not a date")), TokenStatus::Active, "an unreadable Date falls back to the local clock");
    assert_eq!(get(Some("Thu, 01 Jan 2099 00:00:00 GMT")), TokenStatus::Active, "a Date days away is a broken clock: the local one decides");
}

#[test]
fn a_retry_after_date_counts_from_the_providers_clock() {
    // The local clock is 10 minutes ahead of the provider's: measured against it, the date in
    // Retry-After would be long past and the retry would not wait at all.
    let env = scripted(vec![
        Ok(HttpResponse::new(429, r#"{"code":"PAYMENT_RATE_LIMIT","message":"slow down"}"#)
            .with_header("Date", "Tue, 14 Nov 2023 22:03:20 GMT")
            .with_header("Retry-After", "Tue, 14 Nov 2023 22:03:22 GMT")),
        status(200, LIST_OK),
    ]);
    assert!(list(&env, pinelabs(1, json!({}))).is_ok());
    assert_eq!(*env.slept.borrow(), vec![2_000]);
}

/// A ChargeOver customer with `rows` tokens, each with a label of `label_bytes`, served by offset.
fn chargeover_customer(rows: u32, label_bytes: usize) -> FakeEnv {
    let label = "a".repeat(label_bytes);
    FakeEnv::new(move |req: &HttpRequest| {
        let param = |name: &str| req.url.split(['?', '&']).find_map(|p| p.strip_prefix(name)).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
        let (offset, limit) = (param("offset="), param("limit="));
        let page: Vec<String> = (offset..rows.min(offset + limit)).map(|i| format!(r#"{{"tokenized_id":{},"customer_id":1,"name":"{label}"}}"#, i + 1)).collect();
        Ok(HttpResponse::new(200, format!(r#"{{"code":200,"status":"OK","message":"","details":{{}},"response":[{}]}}"#, page.join(","))))
    })
}

#[test]
fn a_listing_holds_a_bounded_amount_of_replies() {
    let input = ListTokensInput { customer_id: "1".into() };
    let config = || chargeover(json!({"pageSize": 2}));
    // Each request reads two rows, a third of the bound: the listing stops at the reply that
    // passes it, before wasm memory would run out, and names the way to read it instead.
    let env = chargeover_customer(20, crate::client::MAX_LISTING_BYTES / 6);
    let err = block_on(Client::new(config(), env.clone()).unwrap().list_tokens(&input)).unwrap_err();
    assert_eq!((err.code, err.retryable), (ErrorCode::Decode, false));
    assert!(err.message.contains("iterateTokens"), "{}", err.message);
    assert_eq!(env.count("/tokenized"), 3);
    // Page by page, each page is the caller's to keep: no bound across them.
    let client = Client::new(config(), env).unwrap();
    let (mut cursor, mut listed) = (None, 0);
    loop {
        let page = block_on(client.list_tokens_page(&input, cursor.as_deref(), None)).unwrap();
        listed += page.tokens.len();
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(listed, 20);
    // Under the bound, the whole listing.
    let env = chargeover_customer(5, crate::client::MAX_LISTING_BYTES / 12);
    assert_eq!(block_on(Client::new(config(), env).unwrap().list_tokens(&input)).unwrap().len(), 5);
}

#[test]
fn a_pine_labs_reply_under_another_customer_than_its_path_is_the_providers_error() {
    // Pine Labs scopes by its path: a token of another customer in the reply is its error, not
    // the caller's input (helper-120: INVALID_INPUT for a get, and a delete resolved).
    let env = scripted(vec![status(200, r#"{"token_id":"t1","customer_id":"c2","status":"ACTIVE"}"#)]);
    let client = Client::new(pinelabs(0, json!({})), env).unwrap();
    let err = block_on(client.get_token(&GetTokenInput { token_id: "t1".into(), customer_id: Some("c1".into()), ..GetTokenInput::default() })).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (ErrorCode::ProviderError, "pinelabs answered the request for customer c1's token with token t1 of another customer; it is not handed out"));
    let env = scripted(vec![status(200, r#"{"token_id":"t1","customer_id":"c2","status":"DEACTIVATED"}"#)]);
    let client = Client::new(pinelabs(3, json!({})), env.clone()).unwrap();
    let err = block_on(client.delete_token(&DeleteTokenInput { token_id: "t1".into(), customer_id: Some("c1".into()) })).unwrap_err();
    assert_eq!((err.code, err.write_outcome, err.retryable), (ErrorCode::ProviderError, Some(WriteOutcome::Applied), false));
    assert_eq!(err.token_id.as_deref(), Some("t1"));
    assert_eq!(env.count("/delete"), 1, "a delete that was made is not sent again");
}
