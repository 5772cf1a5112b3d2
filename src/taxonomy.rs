//! The error taxonomy: every documented provider error (HTTP status × provider code) to a
//! `code` and whether it is worth retrying. One table, first match wins, tested row by row.

use crate::error::{Error, ErrorCode};
use crate::model::Provider;

#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub provider: Option<Provider>,
    pub status: Option<u16>,
    pub provider_code: Option<&'static str>,
    pub code: ErrorCode,
    pub retryable: bool,
    /// A new session / access token may fix it: re-authorize once and try again.
    pub renew_auth: bool,
    /// The reply proves the request was not applied, so a write may be repeated.
    pub not_applied: bool,
}

const fn rule(provider: Option<Provider>, status: Option<u16>, provider_code: Option<&'static str>, code: ErrorCode) -> Rule {
    Rule { provider, status, provider_code, code, retryable: false, renew_auth: false, not_applied: false }
}
const fn retry(mut r: Rule) -> Rule {
    r.retryable = true;
    r
}
const fn renew(mut r: Rule) -> Rule {
    r.renew_auth = true;
    r
}
const fn unapplied(mut r: Rule) -> Rule {
    r.not_applied = true;
    r
}

use ErrorCode::*;
const AP: Option<Provider> = Some(Provider::Alliancepay);
const PL: Option<Provider> = Some(Provider::Pinelabs);
const PY: Option<Provider> = Some(Provider::Payerly);

pub const RULES: &[Rule] = &[
    // AlliancePay msgCodes (PROVIDERS.md §1.4); they may arrive with any HTTP status, 200 included.
    renew(rule(AP, None, Some("b_expired_token"), Authentication)),
    renew(rule(AP, None, Some("b_used_token"), Authentication)),
    renew(rule(AP, None, Some("b_previous_auth_token_expired"), Authentication)),
    renew(rule(AP, None, Some("b_unknown_device"), Authentication)),
    renew(rule(AP, None, Some("b_virtual_device_not_found"), Authentication)),
    renew(rule(AP, None, Some("b_refresh_token_absent"), Authentication)),
    // The serviceCode sat idle for over 200 days: only the bank can restore it.
    rule(AP, None, Some("b_auth_token_expired"), CredentialsRevoked),
    rule(AP, None, Some("b_terminal_not_found"), Authentication),
    rule(AP, None, Some("b_merchant_not_found"), Authentication),
    rule(AP, None, Some("b_invalid_request"), InvalidInput),
    rule(AP, None, Some("b_request_is_not_correct"), InvalidInput),
    rule(AP, None, Some("b_error_parse_json"), InvalidInput),
    rule(AP, None, Some("b_duplicate_field_value"), InvalidInput),
    rule(AP, None, Some("b_txn_not_allowed"), Permission),
    // The bank could not decrypt our body: a new session brings a fresh server key.
    renew(rule(AP, None, Some("b_encryptor_failed_decrypt_message"), ProviderError)),
    // Both overload codes mean "nothing was done, try later", under the status each is documented
    // with: b_overload_error in a 200 (or a 429, as any throttle) for a request the bank turned
    // away (throttling, so RATE_LIMITED tells callers to slow down); b_server_is_overloaded in a
    // 503, the bank's own trouble. Under another status (a 500, a proxy's 502) the code still says
    // what went wrong and a read may be repeated, but a change is not sent again: it may have been
    // applied. Should a change have been applied after all, its repeat answers tokenUpdated:
    // false, and a last attempt answered b_overload_error leaves the outcome open: the client
    // reads the token back after either (`Client::change_status`).
    unapplied(retry(rule(AP, Some(200), Some("b_overload_error"), RateLimited))),
    unapplied(retry(rule(AP, Some(429), Some("b_overload_error"), RateLimited))),
    retry(rule(AP, None, Some("b_overload_error"), RateLimited)),
    unapplied(retry(rule(AP, Some(503), Some("b_server_is_overloaded"), ProviderError))),
    retry(rule(AP, None, Some("b_server_is_overloaded"), ProviderError)),
    rule(AP, None, Some("b_service_unavailable"), ProviderError),
    rule(AP, None, Some("b_unknown_error"), ProviderError),
    renew(rule(AP, Some(401), None, Authentication)),
    // AlliancePay's token calls carry the token id in the body and report a missing token in the
    // reply; a 404 is a route or service the bank did not find (its one documented 404 code is
    // b_service_unavailable), never "no such token", which a caller may read as already deleted.
    rule(AP, Some(404), None, ProviderError),
    // Pine Labs codes (their own client retries 429/502/503/504).
    renew(rule(PL, Some(401), None, Authentication)),
    // INVALID_REQUEST is Pine Labs' code for every refusal of a request, so its status says which:
    // a 403 or 404 is permission or "no such customer or token", a 429 a throttle, a 5xx a failure
    // whose change may have been made, as for any provider. Only inside a 200 is the code alone.
    rule(PL, Some(403), None, Permission),
    rule(PL, Some(404), None, NotFound),
    rule(PL, Some(200), Some("INVALID_REQUEST"), InvalidInput),
    unapplied(retry(rule(PL, Some(429), Some("PAYMENT_RATE_LIMIT"), RateLimited))),
    retry(rule(PL, None, Some("PAYMENT_RATE_LIMIT"), RateLimited)),
    // Payerly: 402 is the account's standing with Payerly, 405 an operation it lacks.
    rule(PY, Some(402), None, Permission),
    rule(PY, Some(405), None, Unsupported),
    // Every provider, by HTTP status.
    rule(None, Some(400), None, InvalidInput),
    rule(None, Some(401), None, Authentication),
    rule(None, Some(403), None, Permission),
    rule(None, Some(404), None, NotFound),
    rule(None, Some(422), None, InvalidInput),
    unapplied(retry(rule(None, Some(429), None, RateLimited))),
    // The server gave up waiting for the request (RFC 9110 §15.5.9): a read may be repeated, a
    // change may have arrived whole after all and is not.
    retry(rule(None, Some(408), None, ProviderError)),
    retry(rule(None, Some(502), None, ProviderError)),
    retry(rule(None, Some(503), None, ProviderError)),
    retry(rule(None, Some(504), None, ProviderError)),
];

fn matches(r: &Rule, provider: Provider, status: u16, provider_code: Option<&str>) -> bool {
    r.provider.is_none_or(|p| p == provider)
        && r.status.is_none_or(|s| s == status)
        && r.provider_code.is_none_or(|c| Some(c) == provider_code)
}

/// Whether a rule of this provider's names this provider code.
pub fn names_code(provider: Provider, provider_code: Option<&str>) -> bool {
    provider_code.is_some_and(|code| RULES.iter().any(|r| r.provider == Some(provider) && r.provider_code == Some(code)))
}

/// The error for a provider's failure reply. Unlisted statuses are PROVIDER_ERROR, not retried.
pub fn classify(provider: Provider, status: u16, provider_code: Option<&str>, message: &str) -> Error {
    let rule = RULES.iter().find(|r| matches(r, provider, status, provider_code));
    let code = rule.map_or(ProviderError, |r| r.code);
    // Providers echo rejected values in their messages; a card number among them is masked.
    let mut err = Error::new(code, crate::card::scrub_pans(message))
        .with_provider(provider)
        // The code is the provider's text too (its request id must match its logs: only a Luhn-valid
        // card number is masked there, in `providers::reply_error`).
        .with_provider_code(provider_code.map(crate::card::scrub_pans))
        .retryable(rule.is_some_and(|r| r.retryable));
    err.http_status = Some(status);
    err.renew_auth = rule.is_some_and(|r| r.renew_auth);
    err.not_applied = rule.is_some_and(|r| r.not_applied);
    // The providers' own "failed on our side" codes count with any status, 200 included: Pine
    // Labs' error envelope can come inside a 200, and AlliancePay's codes always do. So does an
    // error inside a 2xx that no rule knows (a code added after these rules, or none at all): the
    // provider accepted the request, and what it then did is not known.
    err.outcome_unknown = status == 408
        || status >= 500
        // A 1xx as the final reply (only a custom fetch can hand one back): it says nothing.
        || status < 200
        || (rule.is_none() && (200..300).contains(&status))
        || matches!((provider, provider_code), (Provider::Alliancepay, Some("b_unknown_error")) | (Provider::Pinelabs, Some("INTERNAL_ERROR")))
        // Documented under 404: the bank found no service to take the request, so nothing ran.
        // Under another status (inside a 200) it may have failed part way.
        || (provider == Provider::Alliancepay && provider_code == Some("b_service_unavailable") && status != 404);
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_number_in_the_provider_code_is_masked() {
        let err = classify(Provider::Payerly, 400, Some("PAN-4111111111111111"), "bad");
        assert_eq!(err.provider_code.as_deref(), Some("PAN-411111******1111"));
    }

    #[test]
    fn every_row_is_reachable_and_gives_its_code() {
        for (i, r) in RULES.iter().enumerate() {
            let provider = r.provider.unwrap_or(Provider::Chargeover);
            // A row for any status is tried with one no row names: a row for its code under one
            // status (b_overload_error under 200) comes first and would answer instead.
            let status = r.status.unwrap_or(599);
            let err = classify(provider, status, r.provider_code, "m");
            assert_eq!(err.code, r.code, "row {i}: {r:?}");
            assert_eq!(err.retryable, r.retryable, "row {i}");
            assert_eq!(err.not_applied, r.not_applied, "row {i}");
            assert_eq!(err.provider, Some(provider));
            assert_eq!(err.http_status, Some(status));
        }
    }

    /// What says a write's outcome is unknown: the status, or AlliancePay's own code (under any status
    /// but the one a code is documented with when that one says nothing ran).
    #[test]
    fn server_failures_are_known_by_status_or_by_alliancepays_code() {
        assert!(classify(Provider::Pinelabs, 500, None, "m").outcome_unknown);
        for informational in [100, 101, 103, 199] {
            assert!(classify(Provider::Chargeover, informational, None, "").outcome_unknown, "{informational}");
        }
        assert!(classify(Provider::Chargeover, 408, None, "m").outcome_unknown);
        assert!(!classify(Provider::Chargeover, 400, None, "m").outcome_unknown);
        assert!(classify(Provider::Alliancepay, 200, Some("b_unknown_error"), "m").outcome_unknown);
        assert!(classify(Provider::Alliancepay, 200, Some("b_service_unavailable"), "m").outcome_unknown);
        assert!(!classify(Provider::Alliancepay, 404, Some("b_service_unavailable"), "m").outcome_unknown, "documented under 404: nothing ran");
        assert!(!classify(Provider::Alliancepay, 200, Some("b_invalid_request"), "m").outcome_unknown);
        assert!(classify(Provider::Alliancepay, 200, Some("b_gateway_timeout"), "m").outcome_unknown);
        assert!(classify(Provider::Pinelabs, 200, None, "m").outcome_unknown);
        assert!(!classify(Provider::Pinelabs, 200, Some("INVALID_REQUEST"), "m").outcome_unknown);
    }

    #[test]
    fn documented_cases() {
        use Provider::*;
        let cases: &[(Provider, u16, Option<&str>, ErrorCode, bool)] = &[
            (Alliancepay, 401, Some("b_expired_token"), Authentication, false),
            (Alliancepay, 401, Some("b_auth_token_expired"), CredentialsRevoked, false),
            (Alliancepay, 200, Some("b_invalid_request"), InvalidInput, false),
            (Alliancepay, 503, Some("b_server_is_overloaded"), ProviderError, true),
            (Alliancepay, 500, Some("b_unknown_error"), ProviderError, false),
            (Alliancepay, 404, Some("b_service_unavailable"), ProviderError, false),
            (Alliancepay, 404, None, ProviderError, false),
            (Alliancepay, 404, Some("b_something_new"), ProviderError, false),
            (Pinelabs, 400, Some("INVALID_REQUEST"), InvalidInput, false),
            (Pinelabs, 401, Some("UNAUTHORIZED"), Authentication, false),
            (Pinelabs, 403, Some("FORBIDDEN"), Permission, false),
            (Pinelabs, 404, Some("NOT_FOUND"), NotFound, false),
            (Pinelabs, 403, Some("INVALID_REQUEST"), Permission, false),
            (Pinelabs, 404, Some("INVALID_REQUEST"), NotFound, false),
            (Pinelabs, 200, Some("INVALID_REQUEST"), InvalidInput, false),
            (Pinelabs, 422, Some("INVALID_REQUEST"), InvalidInput, false),
            // Under a status with a rule of its own, that rule: a throttle stays one, a 5xx may
            // have made the change.
            (Pinelabs, 429, Some("INVALID_REQUEST"), RateLimited, true),
            (Pinelabs, 408, Some("INVALID_REQUEST"), ProviderError, true),
            (Pinelabs, 500, Some("INVALID_REQUEST"), ProviderError, false),
            (Pinelabs, 503, Some("INVALID_REQUEST"), ProviderError, true),
            (Pinelabs, 429, Some("PAYMENT_RATE_LIMIT"), RateLimited, true),
            (Pinelabs, 500, Some("INTERNAL_ERROR"), ProviderError, false),
            (Pinelabs, 503, Some("INTERNAL_ERROR"), ProviderError, true),
            (Chargeover, 400, None, InvalidInput, false),
            (Chargeover, 401, None, Authentication, false),
            (Chargeover, 404, None, NotFound, false),
            (Chargeover, 500, None, ProviderError, false),
            (Payerly, 400, Some("65535"), InvalidInput, false),
            (Payerly, 401, Some("65535"), Authentication, false),
            (Payerly, 402, Some("65535"), Permission, false),
            (Payerly, 403, Some("65535"), Permission, false),
            (Payerly, 404, Some("65535"), NotFound, false),
            (Payerly, 405, Some("65535"), Unsupported, false),
            (Payerly, 418, Some("65535"), ProviderError, false),
            (Pinelabs, 408, None, ProviderError, true),
            (Payerly, 502, None, ProviderError, true),
            (Payerly, 504, None, ProviderError, true),
        ];
        for &(p, status, pc, code, retryable) in cases {
            let err = classify(p, status, pc, "m");
            assert_eq!((err.code, err.retryable), (code, retryable), "{p:?} {status} {pc:?}");
        }
        // A "nothing was done" code proves it only under the status it is documented with: under
        // another a change may have been applied, and is not sent again.
        for (p, status, pc, unapplied) in [
            (Pinelabs, 429, "PAYMENT_RATE_LIMIT", true),
            (Pinelabs, 500, "PAYMENT_RATE_LIMIT", false),
            (Pinelabs, 200, "PAYMENT_RATE_LIMIT", false),
            (Alliancepay, 200, "b_overload_error", true),
            (Alliancepay, 429, "b_overload_error", true),
            (Alliancepay, 500, "b_overload_error", false),
            (Alliancepay, 503, "b_server_is_overloaded", true),
            (Alliancepay, 502, "b_server_is_overloaded", false),
        ] {
            let err = classify(p, status, Some(pc), "m");
            assert_eq!((err.not_applied, err.retryable), (unapplied, true), "{p:?} {status} {pc}");
        }
        assert!(classify(Pinelabs, 401, None, "m").renew_auth);
        assert!(!classify(Chargeover, 401, None, "m").renew_auth);
        assert!(classify(Alliancepay, 200, Some("b_used_token"), "m").renew_auth);
        assert!(!classify(Alliancepay, 401, Some("b_auth_token_expired"), "m").renew_auth);
    }
}
