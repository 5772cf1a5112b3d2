//! AlliancePay (Bank Alliance) v1: "virtual device" sessions, JWE bodies, token list/get/status.
//! Errors may arrive inside an HTTP 200: any body with `msgType` is an error.

use serde::Deserialize;

use super::{decode, reply_error, string_field, Envelope, Text};
use crate::auth::jwe::{self, PrivateKey, RecipientKey};
use crate::card;
use crate::config::{AlliancePaySession, Encryption, MerchantKey};
use crate::error::{Error, ErrorCode, Result};
use crate::http::{header_safe, validate_body_id, HttpRequest, HttpResponse, Method};
use crate::model::{PaymentMethod, Provider, Token, TokenStatus};
use crate::secret::Secret;
use crate::{status, time_fmt};

const P: Provider = Provider::Alliancepay;
const API_VERSION: &str = "V1";
const TOKEN_PATH: &str = "/ecom/execute_request/token/v1";

/// The longest `deviceId` or `refreshToken` a saved session is resumed with, in characters (a
/// header carries Latin-1, a byte each): nginx's default limit for one header line is 8 KiB,
/// and a call carries both.
const MAX_SESSION_VALUE: usize = 4096;

/// An open session: what every token call carries, and the bank key bodies are encrypted to.
#[derive(Clone, Debug)]
pub struct Session {
    pub device_id: String,
    pub refresh_token: Secret,
    pub server_key: RecipientKey,
    /// On the local clock: when this client stops using it.
    pub expires_at_ms: u64,
    /// On the bank's clock, as the bank stated it: what is saved, so that one host's clock
    /// being off does not travel to every client that resumes the session.
    pub stated_expiry_ms: u64,
}

/// Whose a session is (`AlliancePaySession::issued_for`): the first 16 hex digits of SHA-256 over
/// the serviceCode and the baseUrl, so that the saved form does not carry the serviceCode.
pub fn session_owner(service_code: &str, base_url: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(service_code).chain_update([0u8]).chain_update(base_url).finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

impl Session {
    /// The persistable form handed to `onSessionUpdate`; it holds no merchant key.
    pub fn export(&self, owner: &str) -> AlliancePaySession {
        AlliancePaySession {
            device_id: self.device_id.clone(),
            refresh_token: self.refresh_token.clone(),
            // Written again from the key read: whatever else the bank put beside it is not saved.
            server_public: self.server_key.jwk(),
            expires_at: time_fmt::from_epoch_ms(self.stated_expiry_ms).map(time_fmt::to_iso).unwrap_or_default(),
            issued_for: Some(owner.to_string()),
        }
    }

    /// Whether a saved session can travel as headers: its `deviceId` and `refreshToken` go on every
    /// call, and a server in front of the bank refuses a long one (431, or a bare 400) before the
    /// bank sees it, so no 401 would ever replace it (helper-122). One too long is not resumed:
    /// a damaged store is mended by the next sign-in, as is one written from a bank that issues
    /// such values, where refusing it would fail every client that reads the store.
    pub fn sendable(saved: &AlliancePaySession) -> bool {
        saved.device_id.chars().count().max(saved.refresh_token.expose().chars().count()) <= MAX_SESSION_VALUE
    }

    /// Resumes a saved session without re-authorizing, if it is this client's (`owner`).
    pub fn resume(saved: &AlliancePaySession, owner: &str) -> Result<Session> {
        let bad = |why: &str| Error::invalid_input("config.session", why);
        if saved.issued_for.as_deref() != Some(owner) {
            return Err(bad("was opened for another serviceCode or baseUrl: pass the session saved for this merchant and environment, or none"));
        }
        let server_key = RecipientKey::from_jwk(&saved.server_public).map_err(|e| bad(&format!("serverPublic: {e}")))?;
        let expires = time_fmt::parse(&saved.expires_at).ok_or_else(|| bad("expiresAt is not a timestamp"))?;
        if saved.device_id.is_empty() || saved.refresh_token.is_empty() {
            return Err(bad("deviceId and refreshToken are required"));
        }
        if !header_safe(&saved.device_id) || !header_safe(saved.refresh_token.expose()) {
            return Err(bad("deviceId or refreshToken holds a character an HTTP header cannot carry (a line break, or one past Latin-1)"));
        }
        Ok(Session {
            device_id: saved.device_id.clone(),
            refresh_token: saved.refresh_token.clone(),
            server_key,
            // Read on this host's clock: the only one there is until a reply's `Date`.
            expires_at_ms: time_fmt::epoch_ms(expires),
            stated_expiry_ms: time_fmt::epoch_ms(expires),
        })
    }
}

pub fn merchant_key(jwk: &MerchantKey) -> Result<PrivateKey> {
    PrivateKey::from_jwk(&jwk.x, &jwk.y, jwk.d.expose())
        .map_err(|e| Error::invalid_input("config.merchantPrivateKey", &e.to_string()))
}

pub fn authorize_request(base_url: &str, service_code: &str) -> HttpRequest {
    HttpRequest::new(Method::Post, format!("{base_url}/api-gateway/authorize_virtual_device"))
        .header("x-api_version", API_VERSION)
        .json(&serde_json::json!({ "serviceCode": service_code }))
}

/// `msgType` there at all, whatever its value (`null` too). Each success type reads the bank's
/// error member as it is parsed (one pass, no search of the body first); `read` is told where.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireSession {
    #[serde(default, deserialize_with = "present")]
    msg_type: bool,
    refresh_token: String,
    device_id: String,
    #[serde(alias = "serverPublicKey")]
    server_public: serde_json::Value,
    token_expiration_date_time: Option<String>,
    token_expiration: Option<String>,
    session_expiration: Option<serde_json::Value>,
}

/// `tokenExpirationDateTime` is written with Java's `SSSS`: milliseconds padded to four digits,
/// not a decimal fraction. The doc's example `12:12:34.0430 +0000` is the instant its Kyiv twin
/// writes `14:12:34.430+02:00`, and the bank's public docs show `.0998`.
fn java_millis(text: &str) -> std::borrow::Cow<'_, str> {
    let text = text.trim();
    let b = text.as_bytes();
    let padded = b.len() > 24 && b[19] == b'.' && b[20] == b'0' && b[21..24].iter().all(u8::is_ascii_digit) && !b[24].is_ascii_digit();
    match (padded, text.get(..19), text.get(21..)) {
        (true, Some(head), Some(tail)) => format!("{head}.{tail}").into(),
        _ => text.into(),
    }
}

/// The authorization reply, once opened (`open_reply`).
pub fn parse_session(resp: &HttpResponse, now_ms: u64) -> Result<Session> {
    // `serverPublic` and `sessionExpiration` are read whole, as JSON values; a session is a few
    // hundred bytes, so a larger reply is refused before it is read.
    if resp.body.len() > super::MAX_ENVELOPE {
        return Err(Error::decode(P, "the authorization reply is larger than a session can be").with_status(resp.status));
    }
    let mut wire = read(resp, |w: &WireSession| w.msg_type).map_err(|mut e| {
        // Failing to open a session is never fixed by opening another one.
        e.renew_auth = false;
        e
    })?;
    let server_key = RecipientKey::from_jwk(&wire.server_public).map_err(|e| Error::decode(P, format!("serverPublic: {e}")).with_status(resp.status))?;
    // The first of the two timestamps that reads: an unreadable UTC one falls back to Kyiv's.
    let read_time = |t: Option<String>| t.and_then(|t| time_fmt::parse(&java_millis(&t)));
    let expires_at_ms = read_time(wire.token_expiration_date_time.take())
        .or_else(|| read_time(wire.token_expiration.take()))
        .map(|t| resp.local_time(time_fmt::epoch_ms(t), now_ms))
        .or_else(|| guessed_expiry(wire.session_expiration.as_ref()?, resp, now_ms))
        .ok_or_else(|| Error::decode(P, "the session has no expiry").with_status(resp.status))?
        // A saved session states its expiry as a date, which ends at the year 9999.
        .min(time_fmt::MAX_MS as u64);
    // Every call carries both: a session without them would be saved, then refused on resume.
    if wire.device_id.is_empty() || wire.refresh_token.is_empty() {
        return Err(Error::decode(P, "the session has no deviceId or refreshToken").with_status(resp.status));
    }
    if !header_safe(&wire.device_id) || !header_safe(&wire.refresh_token) {
        return Err(Error::decode(P, "the session's deviceId or refreshToken holds characters a header cannot carry").with_status(resp.status));
    }
    Ok(Session {
        device_id: wire.device_id,
        refresh_token: Secret::new(wire.refresh_token),
        server_key,
        expires_at_ms,
        // As long after the bank's `Date` as the local expiry is after now.
        stated_expiry_ms: expires_at_ms.saturating_sub(now_ms).saturating_add(resp.server_now(now_ms)).min(time_fmt::MAX_MS as u64),
    })
}

/// [guess] PROVIDERS.md §1.1.3 names `sessionExpiration` with no unit or form, so it is read as
/// whichever it looks like: a timestamp (text as the two above, or epoch seconds or milliseconds),
/// else minutes, as the bank's sessions last about an hour. It is only the fallback after both
/// timestamps, and held to a day from now: read wrong, it then costs a renewal (the bank's
/// expired-session answer opens a new one), not a session kept and saved as good for years.
fn guessed_expiry(value: &serde_json::Value, resp: &HttpResponse, now_ms: u64) -> Option<u64> {
    const DAY_MS: u64 = 86_400_000;
    let number = match value {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => match time_fmt::parse(&java_millis(s.trim())) {
            Some(t) => return Some(resp.local_time(time_fmt::epoch_ms(t), now_ms).min(now_ms.saturating_add(DAY_MS))),
            // serde_json's number reader, already in the build (`str::parse` would add core's).
            None => serde_json::from_str::<f64>(s.trim()).ok()?,
        },
        _ => return None,
    };
    // Casts from f64 saturate: a negative count is none left, a huge one the day's cap.
    let at = if number >= 1e11 {
        resp.local_time(number as u64, now_ms) // epoch milliseconds (1973 on)
    } else if number >= 1e9 {
        resp.local_time((number * 1000.0) as u64, now_ms) // epoch seconds (2001 on)
    } else {
        now_ms.saturating_add((number * 60_000.0) as u64)
    };
    Some(at.min(now_ms.saturating_add(DAY_MS)))
}

/// Adds the session headers and, with JWE, replaces the JSON body by its encryption to the bank.
pub async fn seal(mut req: HttpRequest, session: &Session, encryption: Encryption, request_id: &str, random: &mut dyn FnMut(&mut [u8])) -> Result<HttpRequest> {
    req.set_header("x-api_version", API_VERSION.to_string());
    req.set_header("x-device_id", session.device_id.clone());
    req.set_header("x-refresh_token", session.refresh_token.expose().to_string());
    req.set_header("x-request_id", request_id.to_string());
    if encryption == Encryption::Jwe {
        if let Some(body) = req.body.take() {
            let compact = jwe::encrypt_async(body.as_bytes(), &session.server_key, random)
                .await
                .map_err(|e| jwe_error(e, |e| Error::new(ErrorCode::ProviderError, format!("could not encrypt the request: {e}")).with_provider(P)))?;
            req.body = Some(compact);
            req.set_header("Content-Type", "text/plain".to_string());
        }
    }
    Ok(req)
}

/// A platform without WebCrypto, or a merchant key WebCrypto refuses, is not a bad reply: say
/// what is wrong where it is.
fn jwe_error(e: jwe::JweError, otherwise: impl FnOnce(jwe::JweError) -> Error) -> Error {
    match e {
        jwe::JweError::NoWebCrypto => Error::new(ErrorCode::Unsupported, e.to_string()).with_provider(P),
        jwe::JweError::MerchantKeyRefused => Error::invalid_input("config.merchantPrivateKey", &e.to_string()).with_provider(P),
        jwe::JweError::Invalid(_) | jwe::JweError::KeyUnwrap => otherwise(e),
    }
}

/// A reply that is a `{"jwe": …}` object is decrypted; anything else is read as it is.
/// `signing_in`: the reply opens a session.
pub async fn open_reply(resp: HttpResponse, key: &PrivateKey, signing_in: bool) -> Result<HttpResponse> {
    #[derive(Deserialize)]
    struct Wrapped {
        jwe: Option<String>,
    }
    // A plain reply without the member is not parsed an extra time. (`\u`: the name may be
    // escaped, `"\u006awe"`.)
    if !(resp.body.contains("\"jwe\"") || resp.body.contains("\\u")) {
        return Ok(resp);
    }
    let compact = match serde_json::from_str::<Wrapped>(&resp.body) {
        Ok(Wrapped { jwe: Some(compact) }) => compact,
        Ok(Wrapped { jwe: None }) => return Ok(resp),
        // Not a JSON object (a proxy's page, a list): read as it is, which says what it is.
        Err(e) if e.is_syntax() || e.is_eof() || !resp.body.trim_start().starts_with('{') => return Ok(resp),
        // An object whose `jwe` is twice or not text: neither plain nor one JWE.
        Err(e) => return Err(Error::decode(P, format!("the reply's jwe member is not one JWE text: {e}")).with_status(resp.status)),
    };
    let plain = jwe::decrypt_async(&compact, key).await.map_err(|e| match e {
        // The bank encrypts a session to the key registered with it: one the merchant key cannot
        // unwrap means another key is configured. (Later replies go to the same key, so there
        // it can only be a reply tampered with.)
        jwe::JweError::KeyUnwrap if signing_in => {
            // A reply damaged on the way fails the same check; the sign-in was tried twice by now.
            let message = format!("the sign-in failed: its reply is not encrypted to merchantPrivateKey (is it the key registered at AlliancePay? or something between alters replies): JWE: {e}");
            let mut err = Error::new(ErrorCode::Authentication, message).with_provider(P).with_status(resp.status);
            err.sealed_to_another_key = true;
            err
        }
        e => jwe_error(e, |e| Error::decode(P, format!("JWE: {e}")).with_status(resp.status)),
    })?;
    let mut opened = resp;
    opened.body = String::from_utf8(plain).map_err(|_| Error::decode(P, "decrypted body is not UTF-8").with_status(opened.status))?;
    Ok(opened)
}

/// [guess] Whether the bank wants token calls' bodies as JWE is not documented (PROVIDERS.md §1.2):
/// `encryption` defaults to JWE. The bank's answers to the wrong choice are a parse failure (it
/// read JWE text as JSON) or a decryption failure (it wanted JWE): say which setting to try.
pub(crate) fn encryption_hint(mut err: Error, encryption: Encryption) -> Error {
    let hint = match (err.provider_code.as_deref(), encryption) {
        (Some("b_error_parse_json"), Encryption::Jwe) => "the body was sent as JWE (encryption \"jwe\"); if this bank reads token calls as plain JSON, set encryption: \"none\"",
        (Some("b_encryptor_failed_decrypt_message"), Encryption::None) => "the body was sent as plain JSON (encryption \"none\"); this bank may want it as JWE: remove encryption or set it to \"jwe\"",
        _ => return err,
    };
    err.message = format!("{} ({hint})", err.message);
    err
}

/// A success body, unless the status or a `msgType` in the body says it is an error.
fn read<'a, T: Deserialize<'a>>(resp: &'a HttpResponse, msg_type: fn(&T) -> bool) -> Result<T> {
    if !resp.is_success() {
        return Err(error(resp));
    }
    match decode::<T>(P, resp) {
        Ok(wire) if !msg_type(&wire) => Ok(wire),
        Ok(_) => Err(error(resp)),
        // An error reply rarely has a success type's members: only now is the body searched.
        Err(e) => {
            let has_msg_type = resp.body.contains("\"msgType\"")
                && super::envelope_json(&resp.body).is_some_and(|v| v.get("msgType").is_some());
            Err(if has_msg_type { error(resp) } else { e })
        }
    }
}

/// `{requestId, serviceId, msgCode, msgType, msgText, validation?}`, with any HTTP status.
pub fn error(resp: &HttpResponse) -> Error {
    let refused_input = std::cell::Cell::new(false);
    let mut err = reply_error(P, resp, &|v| {
        refused_input.set(v.get("msgType").and_then(|t| t.as_str()) == Some("VALIDATION_ERROR"));
        let validation = v
            .pointer("/validation/errors/0/message")
            .and_then(|m| m.as_str())
            .map(str::to_string);
        let message = match (string_field(v, "msgText"), validation) {
            (Some(text), Some(detail)) => Some(format!("{text}: {detail}")),
            (text, detail) => text.or(detail),
        };
        let code = string_field(v, "msgCode");
        Some(Envelope { own: code.is_some(), code, message, request_id: string_field(v, "requestId") })
            .filter(|e| e.code.is_some() || e.message.is_some())
    });
    // The bank types a refusal of the request's fields VALIDATION_ERROR, with any HTTP status
    // (200 too): with a code no rule names, it is still the caller's input, not the bank's fault,
    // so it is not retried either, even under a 502-504 that would otherwise be.
    if refused_input.get() && err.code == ErrorCode::ProviderError && !crate::taxonomy::names_code(P, err.provider_code.as_deref()) {
        err.code = ErrorCode::InvalidInput;
        err.retryable = false;
        err.not_applied = false;
    }
    err
}

fn token_request(base_url: &str, operation: &str, body: serde_json::Value) -> HttpRequest {
    // [guess] PROVIDERS.md §1.3: the method is not documented; POST, as for every other H2H call
    // and as the bank's own client sends them.
    HttpRequest::new(Method::Post, format!("{base_url}{TOKEN_PATH}/{operation}")).json(&body)
}

pub fn list_tokens_request(base_url: &str, customer_id: &str) -> Result<HttpRequest> {
    validate_body_id("input.customerId", customer_id)?;
    Ok(token_request(base_url, "list/by-customer-id", serde_json::json!({ "customerId": customer_id })))
}

pub fn get_token_request(base_url: &str, token_id: &str) -> Result<HttpRequest> {
    validate_body_id("input.tokenId", token_id)?;
    Ok(token_request(base_url, "get", serde_json::json!({ "token": token_id })))
}

/// Only the three statuses the bank has may be set.
pub fn state_update_request(base_url: &str, token_id: &str, state: TokenStatus) -> Result<HttpRequest> {
    validate_body_id("input.tokenId", token_id)?;
    if !matches!(state, TokenStatus::Active | TokenStatus::Suspended | TokenStatus::Deleted) {
        return Err(Error::invalid_input("input.status", "can be set only to ACTIVE, SUSPENDED or DELETED"));
    }
    Ok(token_request(base_url, "state/update", serde_json::json!({ "token": token_id, "state": state.as_str() })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireToken<'a> {
    token: String,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    masked_pan: Option<String>,
    customer_id: Option<super::LooseId>,
    merchant_id: Option<String>,
}

#[derive(Deserialize)]
struct WireList<'a> {
    #[serde(default, rename = "msgType", deserialize_with = "present")]
    msg_type: bool,
    #[serde(borrow)]
    result: Option<super::Rows<WireToken<'a>>>,
}

impl From<WireToken<'_>> for Token {
    fn from(w: WireToken) -> Token {
        let mut t = Token::new(P, w.token);
        t.status = w.status.as_deref().map_or(TokenStatus::Unknown, status::from_alliancepay);
        t.provider_status = w.status.as_deref().map(status::provider_word);
        t.customer_id = w.customer_id.map(super::LooseId::into_string);
        // An id, kept exact like the customer's, for the merchant to compare with the bank's records
        // (the SDK does not: config.merchantId is accepted but neither sent nor checked).
        t.merchant_id = w.merchant_id;
        t.payment_method = PaymentMethod::Card;
        t.card = Some(card::card_from_pan(w.masked_pan, None));
        t
    }
}

pub fn parse_token_list(resp: &HttpResponse) -> Result<Vec<Token>> {
    let wire = read(resp, |w: &WireList| w.msg_type)?;
    // A reply without `result` is not "no tokens": it is not the reply we asked for.
    let result = wire.result.ok_or_else(|| Error::decode(P, "the reply has no result member").with_status(resp.status))?;
    Ok(result.0.into_iter().map(Token::from).collect())
}

/// The row for `token_id`: the reply is a `result[]`, and another row is not the token asked for
/// (its status would decide whether a change may be sent). An empty `result` is "no such token";
/// rows that are all other tokens are not (a caller may read NOT_FOUND as already deleted).
pub fn parse_token(resp: &HttpResponse, token_id: &str) -> Result<Token> {
    let tokens = parse_token_list(resp)?;
    if tokens.is_empty() {
        return Err(Error::new(ErrorCode::NotFound, "AlliancePay has no such token").with_provider(P).with_status(resp.status));
    }
    tokens
        .into_iter()
        .find(|t| t.id == token_id)
        .ok_or_else(|| Error::decode(P, "the reply is about another token than the one asked for").with_status(resp.status))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireUpdated {
    #[serde(default, deserialize_with = "present")]
    msg_type: bool,
    token_updated: bool,
    #[serde(default)]
    token: Option<String>,
}

/// `{tokenUpdated, customerId, token}`. A reply naming another token than the one changed says
/// nothing about this one (a mixed-up reply at a gateway): the change was accepted, unconfirmed.
pub fn parse_state_update(resp: &HttpResponse, token_id: &str) -> Result<()> {
    let wire = read(resp, |w: &WireUpdated| w.msg_type)?;
    if wire.token.as_deref().is_some_and(|t| t != token_id) {
        return Err(Error::decode(P, "the reply is about another token than the one changed").with_status(resp.status));
    }
    if wire.token_updated {
        Ok(())
    } else {
        Err(Error::new(ErrorCode::InvalidTransition, "AlliancePay did not update the token (tokenUpdated: false)").with_provider(P).with_status(resp.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jwe::tests::{counter_random, sandbox_merchant_key};
    use futures::executor::block_on;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/alliancepay/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    const BASE: &str = "https://api-ecom-release.develop.bankalliance.ua";

    #[test]
    fn doc_list_example_maps_bullet_masked_pans() {
        let tokens = parse_token_list(&HttpResponse::new(200, fixture("list_doc_example.json"))).unwrap();
        assert_eq!(tokens.len(), 1);
        let t = &tokens[0];
        assert_eq!(t.id, "-s9UCfCNN0YMk4ZOyZX8pWAt");
        assert_eq!(t.status, TokenStatus::Active);
        assert_eq!(t.customer_id.as_deref(), Some("senderCustomerId"));
        assert_eq!(t.merchant_id.as_deref(), Some("137d9304-0368-11ed-b939-0242ac120002"));
        let card = t.card.as_ref().unwrap();
        assert_eq!(card.masked_pan.as_deref(), Some("523244••••••0177"));
        assert_eq!(card.last4.as_deref(), Some("0177"));
        assert_eq!(card.brand, "Mastercard");
    }

    #[test]
    fn doc_request_bodies_are_built_verbatim() {
        let r = list_tokens_request(BASE, "senderCustomerId").unwrap();
        assert_eq!(r.url, format!("{BASE}/ecom/execute_request/token/v1/list/by-customer-id"));
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, serde_json::from_str::<serde_json::Value>(&fixture("list_request_doc_example.json")).unwrap());
        let r = state_update_request(BASE, "-s9UCfCNN0YMk4ZOyZX8pWAt", TokenStatus::Suspended).unwrap();
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, serde_json::from_str::<serde_json::Value>(&fixture("state_update_request_doc_example.json")).unwrap());
        assert_eq!(r.url, format!("{BASE}/ecom/execute_request/token/v1/state/update"));
        let r = get_token_request(BASE, "SRrSBe5DOb7lrZ_FS46fihty").unwrap();
        assert_eq!(r.body.as_deref(), Some(r#"{"token":"SRrSBe5DOb7lrZ_FS46fihty"}"#));
        assert_eq!(state_update_request(BASE, "t", TokenStatus::Pending).unwrap_err().code, ErrorCode::InvalidInput);
        for bad in ["", &"c".repeat(256)] {
            assert_eq!(list_tokens_request(BASE, bad).unwrap_err().code, ErrorCode::InvalidInput);
        }
        assert!(list_tokens_request(BASE, &"c".repeat(255)).is_ok());
        // Ids travel in the body, not a URL: doc 000's string(255) allows spaces, '/' and
        // non-ASCII, counted in UTF-16 units as Java counts them (an emoji is two).
        for id in ["Іван Петренко/1", "a b?c#d%2F..", &"ї".repeat(255), &format!("{}c", "😀".repeat(127))] {
            let r = list_tokens_request(BASE, id).unwrap();
            let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
            assert_eq!(body["customerId"], id);
            assert!(get_token_request(BASE, id).is_ok());
        }
        for bad in ["ab\u{7}c", "line\nbreak", "\u{85}", &"ї".repeat(256), &"😀".repeat(128)] {
            assert_eq!(list_tokens_request(BASE, bad).unwrap_err().code, ErrorCode::InvalidInput, "{bad:?}");
            assert_eq!(state_update_request(BASE, bad, TokenStatus::Active).unwrap_err().code, ErrorCode::InvalidInput);
        }
        let r = authorize_request(BASE, "0f8c2a4e-6b1d-4e3f-9a7c-2d5e8b1f4a60");
        assert_eq!(r.url, format!("{BASE}/api-gateway/authorize_virtual_device"));
        assert_eq!(r.header_value("x-api_version"), Some("V1"));
    }

    #[test]
    fn the_banks_answer_to_the_wrong_encryption_names_the_setting_to_try() {
        let refused = |code: &str| crate::taxonomy::classify(P, 400, Some(code), "Bad request");
        let jwe = encryption_hint(refused("b_error_parse_json"), Encryption::Jwe);
        assert_eq!(jwe.code, ErrorCode::InvalidInput);
        assert!(jwe.message.ends_with("set encryption: \"none\")"), "{}", jwe.message);
        let plain = encryption_hint(refused("b_encryptor_failed_decrypt_message"), Encryption::None);
        assert!(plain.message.contains("remove encryption or set it to \"jwe\""), "{}", plain.message);
        // Not the answer to a choice: left as it is.
        assert_eq!(encryption_hint(refused("b_error_parse_json"), Encryption::None).message, "Bad request");
        assert_eq!(encryption_hint(refused("b_request_is_not_correct"), Encryption::Jwe).message, "Bad request");
    }

    #[test]
    fn doc_state_update_reply_and_token_updated_false() {
        assert!(parse_state_update(&HttpResponse::new(200, fixture("state_update_doc_example.json")), "-s9UCfCNN0YMk4ZOyZX8pWAt").is_ok());
        let err = parse_state_update(&HttpResponse::new(200, r#"{"tokenUpdated":false,"customerId":"c","token":"t"}"#), "t").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidTransition);
        // Another token's confirmation is not this one's; a reply without the member still counts.
        let err = parse_state_update(&HttpResponse::new(200, fixture("state_update_doc_example.json")), "other").unwrap_err();
        assert_eq!((err.code, err.http_status), (ErrorCode::Decode, Some(200)));
        assert!(parse_state_update(&HttpResponse::new(200, r#"{"tokenUpdated":true}"#), "t").is_ok());
    }

    #[test]
    fn errors_inside_http_200_are_errors() {
        let err = parse_token_list(&HttpResponse::new(200, fixture("error_in_200.json"))).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert_eq!(err.provider_code.as_deref(), Some("b_invalid_request"));
        assert_eq!(err.request_id.as_deref(), Some("5f1c1d6e-4b5b-4c1f-9d0a-6f7c1b2e3a4d"));
        assert_eq!(err.http_status, Some(200));
        let err = parse_token_list(&HttpResponse::new(401, r#"{"msgCode":"b_auth_token_expired","msgType":"ERROR","msgText":"revoked"}"#)).unwrap_err();
        assert_eq!((err.code, err.renew_auth), (ErrorCode::CredentialsRevoked, false));
        let err = parse_token_list(&HttpResponse::new(401, r#"{"msgCode":"b_used_token","msgType":"ERROR"}"#)).unwrap_err();
        assert_eq!((err.code, err.renew_auth), (ErrorCode::Authentication, true));
        let err = parse_token_list(&HttpResponse::new(400, r#"{"msgCode":"b_request_is_not_correct","msgType":"VALIDATION_ERROR","msgText":"Bad","validation":{"errors":[{"message":"customerId too long"}]}}"#)).unwrap_err();
        assert_eq!(err.message, "Bad: customerId too long");
        // A validation refusal with a code no rule names, in a 200: still the caller's input.
        let err = parse_token_list(&HttpResponse::new(200, r#"{"msgCode":"b_field_new","msgType":"VALIDATION_ERROR","msgText":"customerId: bad"}"#)).unwrap_err();
        assert_eq!((err.code, err.http_status, err.provider_code.as_deref()), (ErrorCode::InvalidInput, Some(200), Some("b_field_new")));
        let err = parse_token_list(&HttpResponse::new(200, r#"{"msgCode":"b_field_new","msgType":"ERROR","msgText":"x"}"#)).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProviderError);
        // Under a status that is otherwise retried, a validation refusal is still not.
        for status in [502, 503, 504] {
            let err = parse_token_list(&HttpResponse::new(status, r#"{"msgCode":"b_field_new","msgType":"VALIDATION_ERROR","msgText":"customerId: bad"}"#)).unwrap_err();
            assert_eq!((err.code, err.retryable, err.not_applied), (ErrorCode::InvalidInput, false, false), "{status}");
            let err = parse_token_list(&HttpResponse::new(status, r#"{"msgCode":"b_field_new","msgType":"ERROR","msgText":"x"}"#)).unwrap_err();
            assert_eq!((err.code, err.retryable), (ErrorCode::ProviderError, true), "{status}");
        }
        // `msgType` beside a success type's members, or as null, or in a body of another shape:
        // still an error reply, never an empty list or an update.
        for body in [r#"{"result":[],"msgType":"ERROR","msgText":"x"}"#, r#"{"msgType":null,"result":[]}"#, r#"{"msgType":"ERROR","result":7}"#] {
            let err = parse_token_list(&HttpResponse::new(200, body)).unwrap_err();
            assert_eq!(err.code, ErrorCode::ProviderError, "{body}");
        }
        let err = parse_state_update(&HttpResponse::new(200, r#"{"tokenUpdated":true,"msgType":"ERROR","msgText":"no"}"#), "t").unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::ProviderError, "no"));
        // Without it, a reply of another shape is DECODE.
        assert_eq!(parse_token_list(&HttpResponse::new(200, r#"{"result":7}"#)).unwrap_err().code, ErrorCode::Decode);
        // A code a rule names keeps its meaning whatever the type says.
        let err = parse_token_list(&HttpResponse::new(500, r#"{"msgCode":"b_unknown_error","msgType":"VALIDATION_ERROR"}"#)).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProviderError);
        let err = parse_token_list(&HttpResponse::new(503, r#"{"msgCode":"b_server_is_overloaded","msgType":"ERROR"}"#)).unwrap_err();
        assert!(err.retryable && err.not_applied);
        assert_eq!(parse_token(&HttpResponse::new(200, r#"{"result":[]}"#), "t1").unwrap_err().code, ErrorCode::NotFound);
        // Another row is not the token asked for.
        let rows = r#"{"result":[{"token":"t0","status":"DELETED"},{"token":"t1","status":"ACTIVE"}]}"#;
        assert_eq!(parse_token(&HttpResponse::new(200, rows), "t1").unwrap().status, TokenStatus::Active);
        // Rows that are all other tokens are not "no such token" (which reads as already deleted).
        let err = parse_token(&HttpResponse::new(200, rows), "t2").unwrap_err();
        assert_eq!((err.code, err.http_status), (ErrorCode::Decode, Some(200)));
    }

    #[test]
    fn sealed_requests_carry_session_headers_and_a_jwe_the_bank_can_open() {
        let (merchant, _) = sandbox_merchant_key();
        // Use the merchant key as a stand-in bank key so the test can open what was sealed.
        let session = Session {
            device_id: "dev-1".into(),
            refresh_token: Secret::new("rt-1"),
            server_key: merchant.recipient(),
            expires_at_ms: 0,
            stated_expiry_ms: 0,
        };
        let req = list_tokens_request(BASE, "senderCustomerId").unwrap();
        let req = block_on(seal(req, &session, Encryption::Jwe, "req-1", &mut counter_random())).unwrap();
        assert_eq!(req.header_value("x-device_id"), Some("dev-1"));
        assert_eq!(req.header_value("x-refresh_token"), Some("rt-1"));
        assert_eq!(req.header_value("x-request_id"), Some("req-1"));
        assert_eq!(req.header_value("Content-Type"), Some("text/plain"));
        assert!(req.header_value("Authorization").is_none());
        let plain = jwe::decrypt(req.body.as_deref().unwrap(), &merchant).unwrap();
        assert_eq!(plain, br#"{"customerId":"senderCustomerId"}"#);
        let plain_req = list_tokens_request(BASE, "senderCustomerId").unwrap();
        let plain_req = block_on(seal(plain_req, &session, Encryption::None, "req-2", &mut counter_random())).unwrap();
        assert_eq!(plain_req.header_value("Content-Type"), Some("application/json"));
    }

    #[test]
    fn replies_are_opened_only_when_they_are_a_jwe_object() {
        let (merchant, _) = sandbox_merchant_key();
        let sealed = jwe::encrypt(fixture("list_doc_example.json").as_bytes(), &merchant.recipient(), &mut counter_random()).unwrap();
        let resp = HttpResponse::new(200, serde_json::json!({ "jwe": sealed }).to_string());
        assert_eq!(parse_token_list(&block_on(open_reply(resp, &merchant, false)).unwrap()).unwrap().len(), 1);
        let plain = HttpResponse::new(200, fixture("list_doc_example.json"));
        assert_eq!(block_on(open_reply(plain.clone(), &merchant, false)).unwrap(), plain);
        // The member's name escaped is the same member.
        let escaped = HttpResponse::new(200, format!(r#"{{"\u006awe":"{sealed}"}}"#));
        assert_eq!(parse_token_list(&block_on(open_reply(escaped, &merchant, false)).unwrap()).unwrap().len(), 1);
        // Twice, or not text: neither a plain reply nor one JWE.
        for body in [format!(r#"{{"jwe":"{sealed}","jwe":"{sealed}"}}"#), r#"{"jwe":{"protected":"x"}}"#.to_string()] {
            let err = block_on(open_reply(HttpResponse::new(200, body), &merchant, false)).unwrap_err();
            assert_eq!((err.code, err.http_status), (ErrorCode::Decode, Some(200)));
            assert!(err.message.contains("jwe member is not one JWE text"), "{}", err.message);
        }
        // Not an object, or an object without the member (escapes elsewhere): read as they are.
        for body in ["<html>\\u0041</html>", r#"[{"jwe":"x"}]"#, r#"{"note":"caf\u00e9","jwe":null}"#] {
            let resp = HttpResponse::new(502, body);
            assert_eq!(block_on(open_reply(resp.clone(), &merchant, false)).unwrap(), resp);
        }
        let tampered = HttpResponse::new(200, serde_json::json!({ "jwe": format!("{sealed}x") }).to_string());
        assert_eq!(block_on(open_reply(tampered, &merchant, false)).unwrap_err().code, ErrorCode::Decode);
        // Sealed to another key (the bank's own here): a session reply so is the merchant key
        // configured wrong; a later reply so was tampered with.
        let text = std::fs::read_to_string(format!("{}/sandbox/keys/bank.private.jwk.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let bank: serde_json::Value = serde_json::from_str(&text).unwrap();
        let s = |k: &str| bank[k].as_str().unwrap().to_string();
        let other = PrivateKey::from_jwk(&s("x"), &s("y"), &s("d")).unwrap();
        let elsewhere = jwe::encrypt(b"{}", &other.recipient(), &mut counter_random()).unwrap();
        let resp = HttpResponse::new(200, serde_json::json!({ "jwe": elsewhere }).to_string());
        let err = block_on(open_reply(resp.clone(), &merchant, true)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Authentication);
        assert!(err.message.starts_with("the sign-in failed: its reply is not encrypted to merchantPrivateKey"), "{}", err.message);
        assert_eq!(block_on(open_reply(resp, &merchant, false)).unwrap_err().code, ErrorCode::Decode);
    }

    #[test]
    fn session_replies_are_decrypted_and_resumable() {
        let (merchant, jwk) = sandbox_merchant_key();
        let public = serde_json::json!({"kty": "EC", "crv": "P-384", "x": jwk["x"], "y": jwk["y"]});
        // Members beside the key's own (a bank's private half, by mistake) are not saved.
        let sent_public = serde_json::json!({"kty": "EC", "crv": "P-384", "x": jwk["x"], "y": jwk["y"], "d": jwk["d"], "note": "x"});
        let plain = serde_json::json!({
            "authToken": "at", "refreshToken": "rt", "deviceId": "dev", "serverPublicKey": sent_public,
            "tokenExpirationDateTime": "2025-02-27 12:12:34.0430 +0000", "tokenExpiration": "2025-02-27 14:12:34.430+02:00", "sessionExpiration": 60
        });
        let sealed = jwe::encrypt(plain.to_string().as_bytes(), &merchant.recipient(), &mut counter_random()).unwrap();
        let opened = block_on(open_reply(HttpResponse::new(200, serde_json::json!({ "jwe": sealed }).to_string()), &merchant, false)).unwrap();
        let session = parse_session(&opened, 0).unwrap();
        assert_eq!(session.device_id, "dev");
        assert_eq!(session.expires_at_ms, 1_740_658_354_430);
        // An hour left by the bank's clock stays an hour on a local clock two hours ahead.
        let local = 1_740_658_354_430 - 3_600_430 + 7_200_000;
        let dated = opened.clone().with_header("Date", "Thu, 27 Feb 2025 11:12:34 GMT");
        let skewed = parse_session(&dated, local).unwrap();
        assert_eq!(skewed.expires_at_ms, local + 3_600_430);
        // ...and is saved as the bank stated it, for clients whose clocks are right
        // (helper-122: the writer's clock error was saved for every worker).
        assert_eq!(skewed.export("owner").expires_at, "2025-02-27T12:12:34.430Z");
        let behind = parse_session(&dated, local - 4 * 3_600_000).unwrap();
        assert_eq!(behind.export("owner").expires_at, "2025-02-27T12:12:34.430Z");
        let saved = session.export("owner");
        assert_eq!(saved.expires_at, "2025-02-27T12:12:34.430Z");
        assert_eq!(saved.server_public, public);
        let text = serde_json::to_string(&saved).unwrap();
        assert!(!text.contains(jwk["d"].as_str().unwrap()) && !text.contains("\"rt\""));
        assert_eq!(Session::resume(&saved, "owner").unwrap().device_id, "dev");
        // A value no server would take in a header (helper-122: 10 KB became a bare 400 on every
        // call, with no 401 to renew it).
        assert!(Session::sendable(&saved));
        assert!(!Session::sendable(&AlliancePaySession { refresh_token: Secret::new("r".repeat(MAX_SESSION_VALUE + 1)), ..saved.clone() }));
        assert!(Session::sendable(&AlliancePaySession { device_id: "é".repeat(MAX_SESSION_VALUE), ..saved.clone() }), "Latin-1 is a byte each");
        // Another merchant's or environment's client refuses it, and so does one without the field
        // (`Client::new` does not pass such a session on: it signs in afresh).
        assert_eq!(Session::resume(&saved, "other").unwrap_err().code, crate::error::ErrorCode::InvalidInput);
        assert_eq!(Session::resume(&AlliancePaySession { issued_for: None, ..saved.clone() }, "other").unwrap_err().code, ErrorCode::InvalidInput);
        assert_eq!(session_owner("svc", "https://a"), session_owner("svc", "https://a"));
        assert_ne!(session_owner("svc", "https://a"), session_owner("svc", "https://b"));
        assert_ne!(session_owner("svc", "https://a"), session_owner("svc2", "https://a"));
        assert_eq!(session_owner("svc", "https://a").len(), 16);
        // An unreadable UTC timestamp falls back to the Kyiv one, not to sessionExpiration.
        let mut kyiv_only = plain.clone();
        kyiv_only["tokenExpirationDateTime"] = "27.02.2025".into();
        let reply = HttpResponse::new(200, kyiv_only.to_string());
        assert_eq!(parse_session(&reply, 0).unwrap().expires_at_ms, 1_740_658_354_430);
        // The UTC field alone gives the same instant: its four digits are padded milliseconds.
        let mut utc_only = plain.clone();
        utc_only.as_object_mut().unwrap().remove("tokenExpiration");
        let reply = HttpResponse::new(200, utc_only.to_string());
        assert_eq!(parse_session(&reply, 0).unwrap().expires_at_ms, 1_740_658_354_430);
        utc_only["tokenExpirationDateTime"] = "2023-03-18 12:34:52.0998 +0000".into();
        let reply = HttpResponse::new(200, utc_only.to_string());
        assert_eq!(time_fmt::to_iso(parse_session(&reply, 0).unwrap().expires_at_ms as i64), "2023-03-18T12:34:52.998Z");
        // With neither timestamp, `sessionExpiration` in each form it may take, held to a day.
        let mut guessed = plain.clone();
        guessed.as_object_mut().unwrap().retain(|k, _| !k.starts_with("tokenExpiration"));
        let now = 1_740_650_000_000u64;
        let day = now + 86_400_000;
        for (value, expires_at) in [
            (serde_json::json!(60), now + 3_600_000),
            (serde_json::json!("60"), now + 3_600_000),
            (serde_json::json!(1.5), now + 90_000),
            (serde_json::json!(-5), now),
            (serde_json::json!(5_000_000), day),
            (serde_json::json!(1e300), day),
            (serde_json::json!(now + 600_000), now + 600_000),
            (serde_json::json!((now + 600_000) / 1000), now + 600_000),
            (serde_json::json!("2025-02-27 12:12:34.430+02:00"), 1_740_651_154_430),
            (serde_json::json!(u64::MAX), day),
        ] {
            guessed["sessionExpiration"] = value.clone();
            let session = parse_session(&HttpResponse::new(200, guessed.to_string()), now).unwrap();
            assert_eq!(session.expires_at_ms, expires_at, "{value}");
        }
        for unreadable in [serde_json::json!("an hour"), serde_json::json!("NaN"), serde_json::json!("inf"), serde_json::json!(null), serde_json::json!([60])] {
            guessed["sessionExpiration"] = unreadable.clone();
            assert_eq!(parse_session(&HttpResponse::new(200, guessed.to_string()), now).unwrap_err().code, ErrorCode::Decode, "{unreadable}");
        }
        let err = parse_session(&HttpResponse::new(200, r#"{"msgCode":"b_terminal_not_found","msgType":"ERROR","msgText":"Terminal not found"}"#), 0).unwrap_err();
        assert_eq!(err.code, ErrorCode::Authentication);
        assert!(!err.renew_auth);
    }
}
