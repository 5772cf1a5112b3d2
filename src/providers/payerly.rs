//! Payerly token lookup: static Bearer key, `GET /tokens/{tokenId}` narrowed by the customer's
//! accountId / phone / email. The reply carries a lot of customer PII; only the token's own
//! facts reach the model unless the caller asks for the raw object (`includeRaw`).

use serde::Deserialize;

use super::{reply_error, string_field, Envelope};
use crate::card;
use crate::error::{Error, ErrorCode, Result};
use crate::http::{path_segment, query_value, validate_body_id, HttpRequest, HttpResponse, Method};
use crate::model::{GetTokenInput, PaymentMethod, Provider, RequiredAction, Token};
use crate::secret::Secret;
use crate::status::{self, Expiry};
use crate::time_fmt;

const P: Provider = Provider::Payerly;
/// The largest reply whose token is handed back raw (`includeRaw`).
const MAX_RAW_BYTES: usize = 1 << 20;

/// `Authorization` value for the static merchant key.
pub fn bearer_authorization(api_key: &Secret) -> Secret {
    Secret::new(format!("Bearer {}", api_key.expose()))
}

pub fn authorize(req: &mut HttpRequest, authorization: &Secret) {
    req.set_header("Authorization", authorization.expose().to_string());
}

/// Optional `+`, then 6–20 digits (the doc's example is digits with the country code).
fn check_phone(phone: &str) -> Result<()> {
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    if (6..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::invalid_input("input.phone", "must be an optional '+' and 6–20 digits"))
    }
}

/// 3–254 characters, exactly one `@` with text on both sides, no spaces or control characters.
fn check_email(email: &str) -> Result<()> {
    let len = email.chars().count();
    let ok = (3..=254).contains(&len)
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split('@').count() == 2
        && !email.starts_with('@')
        && !email.ends_with('@');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input("input.email", "must be an e-mail address (3–254 characters, one '@', no spaces)"))
    }
}

pub fn get_token_request(base_url: &str, input: &GetTokenInput) -> Result<HttpRequest> {
    let mut url = format!("{base_url}/tokens/{}", path_segment("input.tokenId", &input.token_id)?);
    let mut query = Vec::new();
    if let Some(account) = &input.account_id {
        // A query value is percent-encoded whole, so only the rules for ids in a body apply.
        query.push(format!("accountId={}", query_value(validate_body_id("input.accountId", account)?)));
    }
    if let Some(phone) = &input.phone {
        check_phone(phone)?;
        // Payerly stores "only numbers, with country code": a leading '+' is the same number.
        let digits = phone.strip_prefix('+').unwrap_or(phone);
        query.push(format!("phone={}", query_value(digits)));
    }
    if let Some(email) = &input.email {
        check_email(email)?;
        query.push(format!("email={}", query_value(email)));
    }
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    Ok(HttpRequest::new(Method::Get, url))
}

/// `T` is the wire token, or a `serde_json::Value` for `includeRaw`.
#[derive(Deserialize)]
struct WireReply<T> {
    items: Option<FirstItem<T>>,
}

/// `items[0]`, read straight from the body (its errors say where in it); later items, whatever
/// their shape, are skipped.
struct FirstItem<T>(Option<WireItem<T>>);

#[derive(Deserialize)]
struct WireItem<T> {
    /// Documented as `"TOKEN"` only; an item of another type is not read as a token.
    #[serde(rename = "type")]
    kind: Option<String>,
    object: Option<T>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for FirstItem<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = FirstItem<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of items")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<FirstItem<T>, A::Error> {
                let first = seq.next_element()?;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(FirstItem(first))
            }
        }
        d.deserialize_seq(Visit(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireToken {
    token_id: String,
    expire_at: Option<String>,
    customer: Option<WireCustomer>,
    payment_method: Option<String>,
    payment_data: Option<WirePaymentData>,
    /// Read loosely: a shape other than the documented strings drops the action, not the token.
    #[serde(default, deserialize_with = "super::loose_object")]
    additional_action: Option<AdditionalAction>,
}

/// `{action, value}`, both strings: anything else in it is skipped as it is read (kept as a
/// `serde_json::Value`, one 32 MiB member grew wasm memory by 800 MiB, for good). An action that
/// is not a word is no action.
struct AdditionalAction(Option<(String, Option<String>)>);

impl<'de> super::LooseObject<'de> for AdditionalAction {
    fn read<A: serde::de::MapAccess<'de>>(mut map: A) -> std::result::Result<Self, A::Error> {
        use super::{Scalar, Text};
        let word = |s: Option<Scalar>| match s {
            Some(Scalar::Word(Text(w))) => Some(w.into_owned()),
            _ => None,
        };
        let (mut action, mut value) = (None, None);
        while let Some(key) = map.next_key::<Text>()? {
            match &*key {
                "action" => action = word(map.next_value()?),
                "value" => value = word(map.next_value()?),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(AdditionalAction(action.map(|a| (a, value))))
    }
}

/// Only the account id is read; the rest of `customer` is PII and stays out of the model.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCustomer {
    account_id: Option<super::LooseId>,
}

#[derive(Deserialize)]
struct WirePaymentData {
    object: Option<WireCard>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCard {
    masked_pan: Option<String>,
    expiry_date: Option<String>,
    card_holder: Option<String>,
    card_info: Option<WireCardInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCardInfo {
    issuer_country: Option<String>,
    issuer_name: Option<String>,
}

fn to_token(w: WireToken, now_ms: u64) -> Token {
    let mut t = Token::new(P, w.token_id);
    t.customer_id = w.customer.and_then(|c| c.account_id).map(super::LooseId::into_string);
    t.payment_method = match w.payment_method.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("card") => PaymentMethod::Card,
        _ => PaymentMethod::Unknown,
    };
    let mut card_expiry = Expiry::NotGiven;
    if let Some(wc) = w.payment_data.and_then(|d| d.object) {
        let mut c = card::card_from_pan(wc.masked_pan, None);
        let (month, expiry) = Expiry::of_card(wc.expiry_date.as_deref());
        if let Some((m, y)) = month {
            c.expiry_month = Some(m);
            c.expiry_year = Some(y);
        }
        card_expiry = expiry;
        c.holder_name = wc.card_holder.map(card::scrub_pans_owned);
        if let Some(info) = wc.card_info {
            c.issuer_name = info.issuer_name.map(card::scrub_pans_owned);
            c.issuer_country = info.issuer_country.map(card::scrub_pans_owned).map(crate::country::alpha2);
        }
        t.card = Some(c);
    }
    t.required_action = w.additional_action.and_then(|a| a.0).filter(|(action, _)| !action.trim().is_empty()).map(|(action, value)| {
        let redirect = action.trim().eq_ignore_ascii_case("redirect");
        RequiredAction {
            value: value.filter(|v| !redirect || is_web_url(v)).as_deref().map(card::scrub_pans_in_url),
            action: card::scrub_pans_owned(action),
        }
    });
    // `expireAt` decides (expired from that instant on); without it, the card's own expiry month
    // (usable through its last millisecond), which is when the token expires. An `expireAt` given
    // but unreadable is not replaced by the card's month: that is another fact.
    let expiry = match w.expire_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => time_fmt::parse(text).map_or(Expiry::Unreadable, Expiry::At),
        None => card_expiry,
    };
    t.status = status::from_expiry(&expiry, now_ms);
    t.expires_at = expiry.instant().map(time_fmt::to_iso);
    t
}

/// An `http:` or `https:` URL, the only places a redirect may send the customer.
fn is_web_url(value: &str) -> bool {
    let v = value.trim_start();
    ["https://", "http://"].iter().any(|scheme| v.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme)))
}

/// The provider's object with any card number in it masked, for `includeRaw`: the PAN field at
/// most 6+4 digits, and every other field, documented or not, scrubbed of card numbers.
fn masked_raw(mut object: serde_json::Value) -> serde_json::Value {
    if let Some(pan) = object.pointer_mut("/paymentData/object/maskedPan") {
        if let Some(text) = pan.as_str() {
            *pan = card::mask_pan_field(text).into();
        }
    }
    card::scrub_json(&mut object);
    object
}

/// `items[0].object` to a token; an empty `items` is NOT_FOUND. `local_now_ms` is the local clock;
/// expiry is judged on Payerly's (`HttpResponse::server_now`).
pub fn parse_token(resp: &HttpResponse, local_now_ms: u64, include_raw: bool) -> Result<Token> {
    if !resp.is_success() {
        return Err(error(resp));
    }
    let wire: WireReply<WireToken> = super::decode(P, resp)?;
    let object = match wire.items {
        Some(FirstItem(Some(WireItem { kind: Some(kind), .. }))) if !kind.eq_ignore_ascii_case("TOKEN") => {
            // Masked before it is cut short, so that no card number is cut past recognition.
            let kind: String = card::scrub_pans_owned(kind).chars().take(40).collect();
            return Err(Error::decode(P, format!("its item is of type {kind:?}, not TOKEN")).with_status(resp.status));
        }
        Some(FirstItem(item)) => item.and_then(|i| i.object),
        None => {
            // An error envelope inside a 2xx.
            return Err(match super::envelope_json(&resp.body).filter(|v| v.get("error").is_some()) {
                Some(_) => error(resp),
                None => Error::decode(P, "the reply has no items").with_status(resp.status),
            });
        }
    };
    let Some(object) = object else {
        return Err(Error::new(ErrorCode::NotFound, "payerly found no such token").with_provider(P).with_status(resp.status));
    };
    let mut token = to_token(object, resp.server_now(local_now_ms));
    if include_raw {
        // Read again only when asked for, the same way: the body has already parsed. As a
        // `serde_json::Value` a reply takes many times its size in wasm memory, which never shrinks:
        // a token's record is a few KB, so a larger one is not handed back.
        if resp.body.len() > MAX_RAW_BYTES {
            let message = format!("it is over {} MiB, too large to hand back as raw; ask without includeRaw", MAX_RAW_BYTES >> 20);
            return Err(Error::decode(P, message).with_status(resp.status));
        }
        // The token has read, so what fails here is only what a `Value` cannot hold and the token
        // skips: a number past a 64-bit float (`1e400`, which JSON.parse makes Infinity), nesting
        // past serde_json's 128 levels.
        let raw: WireReply<serde_json::Value> = super::decode(P, resp).map_err(|_| {
            let message = "its token reads, but the whole reply cannot be handed back as raw (a number past a 64-bit float, or nesting over 128 levels); ask without includeRaw";
            Error::decode(P, message).with_status(resp.status)
        })?;
        token.raw = raw.items.and_then(|FirstItem(item)| item?.object).map(masked_raw);
    }
    Ok(token)
}

/// `{"error":{code, description, traceId, details:[{description}]}}`.
pub fn error(resp: &HttpResponse) -> Error {
    reply_error(P, resp, &|v| {
        let e = v.get("error")?;
        let description = e.get("description").and_then(|d| d.as_str()).filter(|d| !d.trim().is_empty());
        let detail = e
            .get("details")
            .and_then(|d| d.as_array())
            .and_then(|d| d.first())
            .and_then(|d| d.get("description"))
            .and_then(|d| d.as_str())
            .filter(|d| !d.trim().is_empty());
        let message = match (description, detail) {
            (Some(d), Some(x)) => Some(format!("{d}: {x}")),
            (Some(d), None) => Some(d.to_string()),
            (None, x) => x.map(str::to_string),
        };
        let code = string_field(e, "code");
        (code.is_some() || message.is_some()).then(|| Envelope { code, message, request_id: string_field(e, "traceId"), own: true })
    })
}

#[cfg(test)]
mod decode_message_tests {
    use super::*;

    #[test]
    fn a_card_number_of_the_wrong_type_is_not_echoed_in_the_error() {
        let body = r#"{"items":[{"type":"TOKEN","object":{"tokenId":"t","paymentData":{"type":"cardResponse","object":{"maskedPan":4111111111111111}}}}]}"#;
        let err = parse_token(&HttpResponse::new(200, body), 0, false).unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::Decode);
        assert!(!err.message.contains("4111111111111111"), "{}", err.message);
        assert!(err.message.contains("expected"), "{}", err.message);
        // Where in the body: the token is read from it, not from a copy without positions.
        assert!(err.message.ends_with("(line 1, column 125)"), "{}", err.message);
    }

    /// The token is `items[0].object`, read straight from the body; nothing else in it is read,
    /// with `includeRaw` too.
    #[test]
    fn only_the_first_item_is_read() {
        let read = |body: &str, raw: bool| parse_token(&HttpResponse::new(200, body), 0, raw);
        // Items after the first, whatever their shape or depth, and other members.
        let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let body = format!(r#"{{"items":[{{"object":{{"tokenId":"t"}}}},{{"object":{{"tokenId":7}}}},"other",{deep}],"deep":{deep}}}"#);
        for raw in [false, true] {
            let t = read(&body, raw).unwrap();
            assert_eq!((t.id.as_str(), t.raw), ("t", raw.then(|| serde_json::json!({"tokenId": "t"}))));
        }
        // No first item, or one without an object: no such token.
        for body in [r#"{"items":[]}"#, r#"{"items":[{}]}"#, r#"{"items":[{"object":null}]}"#] {
            for raw in [false, true] {
                assert_eq!(read(body, raw).unwrap_err().code, ErrorCode::NotFound, "{body}");
            }
        }
        // Items that are not a list, and a key sent twice (which copy was meant is not known).
        for body in [r#"{"items":{"object":{"tokenId":"t"}}}"#, r#"{"items":"t"}"#, r#"{"items":[{"object":{"tokenId":"a","tokenId":"b"}}]}"#] {
            assert_eq!(read(body, false).unwrap_err().code, ErrorCode::Decode, "{body}");
        }
        let twice = read(r#"{"items":[{"object":{"tokenId":"a","tokenId":"b"}}]}"#, false).unwrap_err();
        assert!(twice.message.contains("field `tokenId` sent twice at items[0].object (line 1, column"), "{}", twice.message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TokenStatus;
    use serde_json::json;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/payerly/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// 2025-01-15T00:00:00Z
    const NOW: u64 = 1_736_899_200_000;
    const PII: [&str; 12] =
        ["email", "phone", "document", "ip", "birthdate", "address", "browserData", "fingerprint", "fullName", "postalCode", "neighborhood", "John Doe"];

    fn input(v: serde_json::Value) -> GetTokenInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn doc_example_maps_without_pii() {
        let t = parse_token(&HttpResponse::new(200, fixture("token_doc_example.json")), NOW, false).unwrap();
        assert_eq!((t.provider, t.id.as_str()), (P, "string"));
        assert_eq!(t.customer_id.as_deref(), Some("df1a2c9e-bc2b-11ed-8332-811eecb5ec73"));
        assert_eq!((t.status, t.payment_method), (TokenStatus::Expired, PaymentMethod::Card));
        assert_eq!(t.expires_at.as_deref(), Some("2019-08-24T14:15:22.000Z"));
        let c = t.card.as_ref().unwrap();
        // "string" is no PAN and no expiry: nothing made up.
        assert_eq!((c.masked_pan.as_deref(), c.expiry_month, c.brand.as_ref()), (None, None, "Unknown"));
        assert_eq!((c.holder_name.as_deref(), c.issuer_name.as_deref(), c.issuer_country.as_deref()), (Some("string"), Some("string"), Some("US")));
        let text = serde_json::to_string(&t).unwrap();
        for key in PII {
            assert!(!text.contains(key), "{key} in {text}");
        }
        assert!(t.raw.is_none());
        let action = t.required_action.as_ref().unwrap();
        // The doc's placeholder value ("string") is no web address to redirect to.
        assert_eq!((action.action.as_str(), action.value.as_deref()), ("redirect", None));
        let none = parse_token(&HttpResponse::new(200, fixture("token_expired_nulls.json")), NOW, false).unwrap();
        assert!(none.required_action.is_none());
        // Another shape drops the action, or its value, and keeps the token.
        for (action, want) in [
            (json!({"action": "redirect", "value": {"form": "post"}}), Some(("redirect", None))),
            (json!("redirect"), None),
            (json!({"action": 7}), None),
            // Members beside the two are skipped as they are read, whatever they hold.
            (json!({"extra": [[1, 2], {"a": [3]}], "action": "redirect", "value": "https://x.test/3ds"}), Some(("redirect", Some("https://x.test/3ds")))),
            (json!([{"action": "redirect"}]), None),
            // A redirect goes to a web page only: a page that follows it must run nothing.
            (json!({"action": "redirect", "value": "javascript:alert(1)"}), Some(("redirect", None))),
            (json!({"action": "Redirect", "value": " JaVaScRiPt:alert(1)"}), Some(("Redirect", None))),
            (json!({"action": "redirect", "value": "data:text/html,<script>1</script>"}), Some(("redirect", None))),
            (json!({"action": "redirect", "value": "HTTPS://x.test/3ds"}), Some(("redirect", Some("HTTPS://x.test/3ds")))),
            (json!({"action": "otp", "value": "123"}), Some(("otp", Some("123")))),
        ] {
            let body = json!({"items": [{"type": "TOKEN", "object": {"tokenId": "t", "additionalAction": action}}]});
            let t = parse_token(&HttpResponse::new(200, body.to_string()), NOW, false).unwrap();
            assert_eq!(t.required_action.as_ref().map(|a| (a.action.as_str(), a.value.as_deref())), want);
        }
    }

    #[test]
    fn an_item_of_another_type_is_not_read_as_a_token() {
        let reply = |kind: &str| format!(r#"{{"items":[{{"type":{kind},"object":{{"tokenId":"t","expireAt":"2031-01-01T00:00:00Z"}}}}]}}"#);
        for kind in [r#""TOKEN""#, r#""token""#, "null"] {
            assert_eq!(parse_token(&HttpResponse::new(200, reply(kind)), NOW, false).unwrap().id, "t", "{kind}");
        }
        let err = parse_token(&HttpResponse::new(200, reply(r#""ERROR""#)), NOW, true).unwrap_err();
        assert_eq!((err.code, err.http_status), (ErrorCode::Decode, Some(200)));
        assert!(err.message.contains(r#"type "ERROR", not TOKEN"#), "{}", err.message);
        let err = parse_token(&HttpResponse::new(200, reply(r#""4111111111111111 x""#)), NOW, false).unwrap_err();
        assert!(!err.message.contains("4111111111111111"), "{}", err.message);
    }

    #[test]
    fn a_reply_whose_raw_form_cannot_be_held_says_so() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for odd in ["1e400".to_string(), deep] {
            let body = format!(r#"{{"items":[{{"object":{{"tokenId":"t","customer":{{"x":{odd}}}}}}}]}}"#);
            assert_eq!(parse_token(&HttpResponse::new(200, body.as_str()), 0, false).unwrap().id, "t");
            let err = parse_token(&HttpResponse::new(200, body.as_str()), 0, true).unwrap_err();
            assert_eq!(err.code, ErrorCode::Decode);
            assert!(err.message.contains("ask without includeRaw"), "{}", err.message);
        }
    }

    #[test]
    fn include_raw_keeps_the_object_with_the_pan_masked() {
        let t = parse_token(&HttpResponse::new(200, fixture("token_full_pan.json")), NOW, true).unwrap();
        let c = t.card.as_ref().unwrap();
        assert_eq!((c.masked_pan.as_deref(), c.last4.as_deref(), c.brand.as_ref()), (Some("555555******4444"), Some("4444"), "Mastercard"));
        assert_eq!((c.expiry_month, c.expiry_year), (Some(6), Some(2030)));
        assert_eq!(t.status, TokenStatus::Active);
        let raw = t.raw.as_ref().unwrap();
        assert_eq!(raw["paymentData"]["object"]["maskedPan"], "555555******4444");
        assert_eq!(raw["customer"]["email"], "maria.silva@example.com");
        assert_eq!(raw["unknownTopLevel"], json!({"kept": true}));
        let text = serde_json::to_string(&t).unwrap();
        assert!(!text.contains("5555555555554444"));
        // A reply too large to keep as a `Value` is refused raw, and read as usual without raw.
        let body = fixture("token_full_pan.json");
        let open = &body[..body.rfind('}').unwrap()];
        let padded = format!("{open}, \"padding\": [{}0]}}", "0,".repeat(MAX_RAW_BYTES / 2));
        let err = parse_token(&HttpResponse::new(200, padded.as_str()), NOW, true).unwrap_err();
        assert!(err.code == ErrorCode::Decode && err.message.contains("includeRaw"), "{}", err.message);
        assert_eq!(parse_token(&HttpResponse::new(200, padded), NOW, false).unwrap().id, t.id);
        let plain = parse_token(&HttpResponse::new(200, fixture("token_full_pan.json")), NOW, false).unwrap();
        assert!(!serde_json::to_string(&plain).unwrap().contains("maria"));
    }

    #[test]
    fn expired_nulls_and_empty_items() {
        let t = parse_token(&HttpResponse::new(200, fixture("token_expired_nulls.json")), NOW, false).unwrap();
        assert_eq!(t.status, TokenStatus::Expired);
        assert_eq!((t.customer_id.as_deref(), t.payment_method), (None, PaymentMethod::Unknown));
        let c = t.card.as_ref().unwrap();
        assert_eq!((c.masked_pan.as_deref(), c.brand.as_ref(), c.expiry_month, c.expiry_year), (Some("400000******0002"), "Visa", Some(6), Some(2023)));
        // No expireAt: the card expiry decides.
        let body = json!({"items": [{"type": "TOKEN", "object": {"tokenId": "t", "paymentData": {"object": {"expiryDate": "12/30"}}}}]});
        let t = parse_token(&HttpResponse::new(200, body.to_string()), NOW, false).unwrap();
        assert_eq!(t.status, TokenStatus::Active);
        // ...and is when the token expires (so sorting by expiresAt sees it).
        assert_eq!(t.expires_at.as_deref(), Some("2030-12-31T23:59:59.999Z"));
        let body = json!({"items": [{"type": "TOKEN", "object": {"tokenId": "t", "expireAt": null, "customer": null, "paymentData": null}}]});
        let t = parse_token(&HttpResponse::new(200, body.to_string()), NOW, false).unwrap();
        assert!(t.card.is_none() && t.status == TokenStatus::Active);
        let err = parse_token(&HttpResponse::new(200, r#"{"items":[]}"#), NOW, false).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        // An expireAt given but unreadable is not "none": the card's month must not stand in for
        // it and show a token Payerly may have expired as ACTIVE.
        for unreadable in ["1566656122000", "24/08/2019 14:15", "2019-08-24T14:15:22+00"] {
            let body = json!({"items": [{"type": "TOKEN", "object": {"tokenId": "t", "expireAt": unreadable, "paymentData": {"object": {"expiryDate": "12/30"}}}}]});
            let t = parse_token(&HttpResponse::new(200, body.to_string()), NOW, false).unwrap();
            assert_eq!((t.status, t.expires_at.as_deref()), (TokenStatus::Unknown, None), "{unreadable}");
            assert_eq!(t.card.as_ref().and_then(|c| c.expiry_year), Some(2030));
        }
        // Java's basic offset (`+0000`) is read, so that expiry decides as with `Z`.
        let body = json!({"items": [{"type": "TOKEN", "object": {"tokenId": "t", "expireAt": "2019-08-24T14:15:22+0000", "paymentData": {"object": {"expiryDate": "12/30"}}}}]});
        let t = parse_token(&HttpResponse::new(200, body.to_string()), NOW, false).unwrap();
        assert_eq!((t.status, t.expires_at.as_deref()), (TokenStatus::Expired, Some("2019-08-24T14:15:22.000Z")));
        let body = json!({"items": [{"type": "TOKEN", "object": {"tokenId": "t", "expireAt": " ", "paymentData": {"object": {"expiryDate": "12/30"}}}}]});
        assert_eq!(parse_token(&HttpResponse::new(200, body.to_string()), NOW, false).unwrap().status, TokenStatus::Active);
        // Without expireAt, a card expiry given but unreadable leaves it unknown too.
        let body = json!({"items": [{"type": "TOKEN", "object": {"tokenId": "t", "paymentData": {"object": {"expiryDate": "13/30"}}}}]});
        assert_eq!(parse_token(&HttpResponse::new(200, body.to_string()), NOW, false).unwrap().status, TokenStatus::Unknown);
        for body in ["", "{}", r#"{"items":[{"object":{"expireAt":"x"}}]}"#, "[]"] {
            assert_eq!(parse_token(&HttpResponse::new(200, body), NOW, false).unwrap_err().code, ErrorCode::Decode, "{body}");
        }
    }

    #[test]
    fn error_envelopes() {
        let err = parse_token(&HttpResponse::new(404, fixture("error_404_doc_example.json")), NOW, false).unwrap_err();
        assert_eq!((err.code, err.http_status, err.provider_code.as_deref()), (ErrorCode::NotFound, Some(404), Some("65535")));
        assert_eq!(err.message, "Not Found: string");
        assert_eq!(err.request_id.as_deref(), Some("string"));
        let body = r#"{"error":{"code":40100,"description":"Unauthorized","traceId":"abc","details":[]}}"#;
        let err = parse_token(&HttpResponse::new(401, body), NOW, false).unwrap_err();
        assert_eq!((err.code, err.message.as_str(), err.request_id.as_deref()), (ErrorCode::Authentication, "Unauthorized", Some("abc")));
        assert!(!err.renew_auth);
        // An id is kept as the provider's logs have it, but for a card number in it.
        // A UUID is kept whole: the SDK's own ids end in a counter, and `…-a171-000000000003` reads
        // across its dash as 15 digits that pass Luhn.
        for (trace, want) in [
            ("pan-4111111111111111", "pan-411111******1111"),
            ("tr-1234567890123456789", "tr-1234567890123456789"),
            ("trace-4111-1111-1111-1111", "trace-4111-11**-****-1111"),
            ("bfbde8c0-894e-49fd-a171-000000000003", "bfbde8c0-894e-49fd-a171-000000000003"),
            ("id-894e-49fd-a171-000000000003", "id-894e-49fd-a171-000*****0003"),
        ] {
            let body = format!(r#"{{"error":{{"code":40100,"description":"Unauthorized","traceId":"{trace}"}}}}"#);
            assert_eq!(parse_token(&HttpResponse::new(401, body), NOW, false).unwrap_err().request_id.as_deref(), Some(want));
        }
        let err = parse_token(&HttpResponse::new(405, body), NOW, false).unwrap_err();
        assert_eq!(err.code, ErrorCode::Unsupported);
        let err = parse_token(&HttpResponse::new(200, r#"{"error":{"code":50000,"description":"Internal Server Error","traceId":"t"}}"#), NOW, false).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::ProviderError, "Internal Server Error"));
        let err = parse_token(&HttpResponse::new(503, "<html>down</html>"), NOW, false).unwrap_err();
        assert_eq!((err.code, err.retryable), (ErrorCode::ProviderError, true));
    }

    #[test]
    fn request_shape_and_input_checks() {
        let base = "https://api.sandbox.payerly.tech/v1";
        let r = get_token_request(base, &input(json!({"tokenId": "tok_visa_active"}))).unwrap();
        assert_eq!((r.method, r.url.as_str()), (Method::Get, "https://api.sandbox.payerly.tech/v1/tokens/tok_visa_active"));
        let r = get_token_request(
            base,
            &input(json!({"tokenId": "t", "accountId": "df1a2c9e-bc2b-11ed-8332-811eecb5ec73", "phone": "+18001002030", "email": "john.doe+x@example.com"})),
        )
        .unwrap();
        assert_eq!(r.url, format!("{base}/tokens/t?accountId=df1a2c9e-bc2b-11ed-8332-811eecb5ec73&phone=18001002030&email=john.doe%2Bx%40example.com"));
        // An account id travels as an encoded query value: the path rules do not apply.
        let r = get_token_request(base, &input(json!({"tokenId": "t", "accountId": "acc/1 ü"}))).unwrap();
        assert_eq!(r.url, format!("{base}/tokens/t?accountId=acc%2F1%20%C3%BC"));
        for (v, field) in [
            (json!({"tokenId": "a/b"}), "tokenId"),
            (json!({"tokenId": "t", "accountId": "x\ny"}), "accountId"),
            (json!({"tokenId": "t", "accountId": "😀".repeat(128)}), "accountId"),
            (json!({"tokenId": "t", "accountId": ""}), "accountId"),
            (json!({"tokenId": "t", "phone": "12345"}), "phone"),
            (json!({"tokenId": "t", "phone": "+1 800 100"}), "phone"),
            (json!({"tokenId": "t", "phone": "1".repeat(21)}), "phone"),
            (json!({"tokenId": "t", "email": "no-at-sign"}), "email"),
            (json!({"tokenId": "t", "email": "a@b@c"}), "email"),
            (json!({"tokenId": "t", "email": "a b@c"}), "email"),
            (json!({"tokenId": "t", "email": "a@\nb"}), "email"),
            (json!({"tokenId": "t", "email": "@b"}), "email"),
            (json!({"tokenId": "t", "email": format!("{}@b", "a".repeat(253))}), "email"),
        ] {
            let err = get_token_request(base, &input(v.clone())).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput, "{v}");
            assert!(err.message.starts_with(&format!("input.{field}: ")), "{}", err.message);
        }
        assert_eq!(bearer_authorization(&Secret::new("k")).expose(), "Bearer k");
    }
}
