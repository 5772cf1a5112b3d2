//! Pine Labs Online ("Plural" v2): client-credentials access token, customer token list, get, delete.

use serde::Deserialize;

use super::{decode, reply_error, string_field, Envelope, Text};
use crate::card;
use crate::error::{Error, ErrorCode, Result};
use crate::http::{path_segment, HttpRequest, HttpResponse, Method};
use crate::model::{Metadata, PaymentMethod, Provider, Token, TokenStatus};
use crate::secret::Secret;
use crate::{status, time_fmt};

const P: Provider = Provider::Pinelabs;

/// An access token and when to stop using it (epoch ms).
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub value: Secret,
    pub expires_at_ms: u64,
}

pub fn access_token_request(base_url: &str, client_id: &str, client_secret: &Secret, request_id: &str) -> HttpRequest {
    let body = serde_json::json!({
        "client_id": client_id,
        "client_secret": client_secret.expose(),
        "grant_type": "client_credentials",
    });
    HttpRequest::new(Method::Post, format!("{base_url}/auth/v1/token")).header("Request-ID", request_id).json(&body)
}

#[derive(Deserialize)]
struct WireAccessToken {
    access_token: String,
    expires_at: String,
}

/// The expiry is placed on the local clock (`HttpResponse::local_time`).
pub fn parse_access_token(resp: &HttpResponse, local_now_ms: u64) -> Result<AccessToken> {
    // A 401 here means the client secret is wrong: renewing the token cannot help.
    let refused = || Error { renew_auth: false, ..error(resp) };
    if !resp.is_success() {
        return Err(refused());
    }
    // A throttling or error reply inside a 200 is that error (a RATE_LIMITED one then holds the
    // next sign-in), not an unreadable token.
    let wire: WireAccessToken = decode(P, resp).map_err(|e| if has_error_code(resp) { refused() } else { e })?;
    let expires = time_fmt::parse(&wire.expires_at).ok_or_else(|| Error::decode(P, "expires_at is not a timestamp"))?;
    if wire.access_token.is_empty() {
        return Err(Error::decode(P, "empty access_token"));
    }
    if !crate::http::header_safe(&wire.access_token) {
        return Err(Error::decode(P, "the access_token holds characters a header cannot carry"));
    }
    Ok(AccessToken { value: Secret::new(wire.access_token), expires_at_ms: resp.local_time(time_fmt::epoch_ms(expires), local_now_ms) })
}

pub fn authorize(req: &mut HttpRequest, token: &AccessToken) {
    req.set_header("Authorization", format!("Bearer {}", token.value.expose()));
}

fn customer_url(base_url: &str, customer_id: &str) -> Result<String> {
    Ok(format!("{base_url}/v1/customer/{}/tokens", path_segment("input.customerId", customer_id)?))
}

pub fn list_tokens_request(base_url: &str, customer_id: &str) -> Result<HttpRequest> {
    Ok(HttpRequest::new(Method::Get, customer_url(base_url, customer_id)?))
}

pub fn get_token_request(base_url: &str, customer_id: Option<&str>, token_id: &str) -> Result<HttpRequest> {
    let customer_id = customer_id.ok_or_else(|| Error::invalid_input("input.customerId", "is required for Pine Labs"))?;
    let url = format!("{}/{}", customer_url(base_url, customer_id)?, path_segment("input.tokenId", token_id)?);
    Ok(HttpRequest::new(Method::Get, url))
}

/// `reference` is the merchant_unique_reference Pine Labs requires (1–50 of A-Z a-z - _).
pub fn delete_token_request(base_url: &str, customer_id: Option<&str>, token_id: &str, reference: &str) -> Result<HttpRequest> {
    let customer_id = customer_id.ok_or_else(|| Error::invalid_input("input.customerId", "is required for Pine Labs"))?;
    let url = format!("{}/{}/delete", customer_url(base_url, customer_id)?, path_segment("input.tokenId", token_id)?);
    Ok(HttpRequest::new(Method::Post, url).json(&serde_json::json!({ "merchant_unique_reference": reference })))
}

/// A fresh merchant_unique_reference from 24 random bytes: letters only, as the API allows.
pub fn unique_reference(random: &[u8; 24]) -> String {
    const ALPHABET: &[u8; 52] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let tail: String = random.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    format!("paytokens-del-{tail}")
}

#[derive(Deserialize)]
struct WireList<'a> {
    /// Absent: not a list reply. Present but null: no tokens.
    #[serde(default, deserialize_with = "present", borrow)]
    tokens: Option<Option<super::Rows<WireToken<'a>>>>,
    /// Present only when a proxy or the API puts an error envelope in a 200.
    #[serde(default, borrow)]
    code: Option<super::Scalar<'a>>,
    /// Whose list it is: a row that names no customer is theirs (and a listing of another
    /// customer than the one asked for then fails, as a row of one does).
    #[serde(default)]
    customer_id: Option<super::LooseId>,
    /// How many tokens the customer has. Pine Labs documents no paging, so a list with fewer rows
    /// was cut short (an undocumented page size, a proxy): handed out, it would read as the whole.
    /// Read only for that check: a value that is no count (`"3"`, `3.0`, `[3]`) checks nothing.
    #[serde(default, borrow)]
    total_tokens: Option<super::Scalar<'a>>,
}

#[derive(Deserialize)]
struct WireCard<'a> {
    last4_digit: Option<String>,
    card_type: Option<String>,
    #[serde(borrow)]
    network_name: Option<Text<'a>>,
    issuer_name: Option<String>,
    country_code: Option<String>,
    /// Documented as booleans; read loosely so another shape drops the flag, not the list (and
    /// skipped as it is read, not kept: a 2 MB array there would grow wasm memory for good).
    #[serde(borrow)]
    international: Option<super::Scalar<'a>>,
    #[serde(borrow)]
    cvv_required: Option<super::Scalar<'a>>,
}

fn flag(value: Option<super::Scalar>) -> Option<bool> {
    match value? {
        super::Scalar::Flag(b) => Some(b),
        word if word.is_word("true") => Some(true),
        word if word.is_word("false") => Some(false),
        _ => None,
    }
}

#[derive(Deserialize)]
struct WireToken<'a> {
    token_id: String,
    merchant_token_reference: Option<String>,
    customer_id: Option<super::LooseId>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    payment_method: Option<Text<'a>>,
    #[serde(borrow)]
    expired_at: Option<Text<'a>>,
    #[serde(borrow)]
    created_at: Option<Text<'a>>,
    #[serde(borrow)]
    updated_at: Option<Text<'a>>,
    status_reason: Option<String>,
    #[serde(default, deserialize_with = "super::loose_object")]
    merchant_metadata: Option<Metadata>,
    #[serde(borrow)]
    card_data: Option<WireCard<'a>>,
    is_compliant: Option<bool>,
}

/// `now_ms` is Pine Labs' clock (`HttpResponse::server_now`): an ACTIVE token past its
/// `expired_at` ("when the token expires", doc 002) is EXPIRED, not shown as chargeable.
fn to_token(w: WireToken, now_ms: u64) -> Token {
    let mut t = Token::new(P, w.token_id);
    t.customer_id = w.customer_id.map(super::LooseId::into_string);
    t.status = w.status.as_deref().map_or(TokenStatus::Unknown, status::from_pinelabs);
    // Provider and merchant text, which can hold a card number ("card 4111… blocked"); ids
    // are left exact, as they are used in later calls.
    t.provider_status = w.status.as_deref().map(status::provider_word);
    t.status_reason = w.status_reason.map(card::scrub_pans_owned);
    let method = w.payment_method.as_deref().unwrap_or_default();
    t.payment_method = [("CARD", PaymentMethod::Card), ("UPI", PaymentMethod::Upi), ("POINTS", PaymentMethod::Points)]
        .into_iter()
        .find(|(word, _)| word.eq_ignore_ascii_case(method))
        .map_or(PaymentMethod::Unknown, |(_, m)| m);
    t.card = w.card_data.map(|c| {
        let last4 = c.last4_digit.filter(|d| d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit()));
        // Pine Labs sends only the last four digits; no masked PAN is made up from them.
        let mut card = card::card_from_pan(None, c.network_name.as_deref());
        card.last4 = last4;
        card.issuer_name = c.issuer_name.map(card::scrub_pans_owned);
        card.issuer_country = c.country_code.map(card::scrub_pans_owned).map(crate::country::alpha2);
        card.funding = c.card_type.map(card::scrub_pans_owned);
        card.cvv_required = flag(c.cvv_required);
        card.international = flag(c.international);
        card
    });
    // An expiry the SDK cannot read may have passed: such an ACTIVE token is UNKNOWN, never shown
    // as chargeable (as at ChargeOver and Payerly).
    let expiry = match w.expired_at.as_deref().filter(|text| !text.trim().is_empty()) {
        None => status::Expiry::NotGiven,
        Some(text) => time_fmt::parse(text).map_or(status::Expiry::Unreadable, status::Expiry::At),
    };
    if t.status == TokenStatus::Active {
        t.status = status::from_expiry(&expiry, now_ms);
    }
    t.expires_at = expiry.instant().map(time_fmt::to_iso);
    t.created_at = time_fmt::iso(w.created_at.as_deref());
    t.updated_at = time_fmt::iso(w.updated_at.as_deref());
    // The merchant's own reference, matched against its records: only a Luhn-valid card number
    // is masked, not any long number (an epoch-ms or order number must stay exact).
    t.reference = w.merchant_token_reference.map(card::scrub_pans_in_token);
    t.compliant = w.is_compliant;
    t.metadata = w.merchant_metadata;
    t
}

/// `merchant_metadata`, read straight into the model's list. Values are documented as strings;
/// anything else is kept as its JSON text, and card numbers are masked in either.
impl<'de> super::LooseObject<'de> for Metadata {
    fn read<A: serde::de::MapAccess<'de>>(mut map: A) -> std::result::Result<Self, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Text>()? {
            let key = Metadata::key(entries.len(), &key);
            // Another value than a string is kept as its JSON text; a card number anywhere in
            // it, a number's digits too, is masked as it is read.
            let super::AsText(value) = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Metadata::from_entries(entries))
    }
}

fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `local_now_ms` is the local clock; expiry is judged on Pine Labs' (`HttpResponse::server_now`).
pub fn parse_token_list(resp: &HttpResponse, local_now_ms: u64) -> Result<Vec<Token>> {
    parse_customer_list(resp, local_now_ms, None)
}

/// The list of `customer_id`'s tokens: a reply that names another customer at its top is that
/// customer's list, with rows or none (an empty one would read as "this customer has no tokens").
/// A row that names no customer is the one at the list's top; with none there either, the client
/// gives it the customer asked for, as at every provider (`Client::check_rows`).
pub fn parse_customer_list(resp: &HttpResponse, local_now_ms: u64, customer_id: Option<&str>) -> Result<Vec<Token>> {
    if !resp.is_success() {
        return Err(error(resp));
    }
    let wire: WireList = Metadata::sharing_keys(|| decode(P, resp))?;
    let now = resp.server_now(local_now_ms);
    match wire.tokens {
        Some(tokens) => {
            let owner = wire.customer_id.map(super::LooseId::into_string);
            if let (Some(asked), Some(other)) = (customer_id, owner.as_deref().filter(|o| Some(*o) != customer_id)) {
                return Err(path_scope_broken(format!("pinelabs answered the listing of customer {asked} with the list of customer {other}; no token of this reply is handed out")));
            }
            let token = |w| {
                let mut t = to_token(w, now);
                if t.customer_id.is_none() {
                    t.customer_id.clone_from(&owner);
                }
                t
            };
            let rows = tokens.map(|rows| rows.0).unwrap_or_default();
            if let Some(total) = wire.total_tokens.as_ref().and_then(super::Scalar::count).filter(|&total| total > rows.len() as u64) {
                let whose = customer_id.map(|c| format!(" of customer {c}")).unwrap_or_default();
                let why = format!(
                    "pinelabs listed {} of the {total} tokens{whose} its reply counts (total_tokens): the list is incomplete (Pine Labs documents no paging), and no token of it is handed out",
                    rows.len()
                );
                return Err(Error::new(ErrorCode::ProviderError, card::scrub_pans(&why)).with_provider(P).with_status(resp.status));
            }
            Ok(rows.into_iter().map(token).collect())
        }
        // An error envelope inside a 200 (a proxy, or the API itself).
        None if wire.code.as_ref().is_some_and(super::Scalar::is_code) => Err(error(resp)),
        // A reply without the list (a proxy's page, a different API) is not "no tokens".
        None => Err(Error::decode(P, "the reply has no tokens member").with_status(resp.status)),
    }
}

/// [guess] PROVIDERS.md §3.2 lists the get-one endpoint without its reply: read as a bare
/// `CustomerTokenDetail`, the element of the list's `tokens`. Wrapped like the list, it would fail
/// as DECODE, naming the field.
/// `customer_id`: the customer the request's path named.
pub fn parse_token(resp: &HttpResponse, local_now_ms: u64, customer_id: Option<&str>) -> Result<Token> {
    if !resp.is_success() {
        return Err(error(resp));
    }
    // An error envelope inside a 200 is not a token; say what the provider said.
    let token = Metadata::sharing_keys(|| decode::<WireToken>(P, resp)).map(|w| to_token(w, resp.server_now(local_now_ms))).map_err(|e| if has_error_code(resp) { error(resp) } else { e })?;
    match (customer_id, token.customer_id.as_deref()) {
        (Some(asked), Some(owner)) if asked != owner => {
            Err(path_scope_broken(format!("pinelabs answered the request for customer {asked}'s token with token {} of another customer; it is not handed out", token.id)))
        }
        _ => Ok(token),
    }
}

/// Pine Labs scopes every call by the customer in its path: a reply under another customer broke
/// that scoping, which is the provider's error, not the caller's input (helper-120).
fn path_scope_broken(why: String) -> Error {
    Error::new(ErrorCode::ProviderError, card::scrub_pans(&why)).with_provider(P)
}

/// `{token_id, customer_id, status, merchant_unique_reference}`, or a 204. Any other empty 2xx
/// (a proxy that cut the body) confirms nothing: the delete was accepted, and whether it was made
/// is read from the token.
/// `customer_id`: the customer the delete's path named.
pub fn parse_delete(resp: &HttpResponse, token_id: &str, customer_id: Option<&str>) -> Result<()> {
    if !resp.is_success() {
        return Err(error(resp));
    }
    if resp.body.trim().is_empty() {
        return super::empty_delete_reply(P, resp);
    }
    if resp.body.len() > super::MAX_ENVELOPE {
        return Err(Error::decode(P, "the delete reply is larger than a confirmation can be").with_status(resp.status));
    }
    /// Read as a struct, not a `Value`: a field sent twice is refused, not read last-one-wins.
    #[derive(Deserialize)]
    struct Deleted<'a> {
        #[serde(default, borrow)]
        token_id: Option<super::Scalar<'a>>,
        #[serde(default, borrow)]
        status: Option<super::Scalar<'a>>,
        #[serde(default, borrow)]
        code: Option<super::Scalar<'a>>,
        #[serde(default)]
        customer_id: Option<super::LooseId>,
    }
    let reply: Deleted = decode(P, resp)?;
    if reply.code.as_ref().is_some_and(super::Scalar::is_code) {
        return Err(error(resp));
    }
    match reply.token_id.as_ref().and_then(super::Scalar::word) {
        Some(id) if id == token_id => {}
        Some(_) => return Err(Error::decode(P, "the delete reply confirms a different token").with_status(resp.status)),
        None => return Err(Error::decode(P, "the delete reply does not confirm a token (no token_id)").with_status(resp.status)),
    }
    // The token it removed is not the one the caller meant to.
    let owner = reply.customer_id.map(super::LooseId::into_string);
    let removed = || match (customer_id, owner.as_deref()) {
        (Some(asked), Some(owner)) if asked != owner => {
            let mut err = path_scope_broken(format!("pinelabs removed token {token_id}, but its reply has it under customer {owner}, not {asked}: list both customers' tokens before relying on either")).with_status(resp.status);
            err.write_outcome = Some(crate::error::WriteOutcome::Applied);
            err.token_id = Some(token_id.into());
            Err(err)
        }
        _ => Ok(()),
    };
    // DEACTIVATED is the documented word for a removed token (DELETED and REMOVED say the same).
    // Any other word does not confirm the removal; nor does a live one (ACTIVE) refute it: the
    // 2xx accepted the delete, and the status may be from before a deactivation that the card
    // network completes later. The caller is told to read the token rather than assume either way.
    let Some(word) = reply.status.as_ref().and_then(super::Scalar::word).filter(|w| !w.trim().is_empty()) else { return removed() };
    if ["DELETED", "REMOVED"].iter().any(|w| w.eq_ignore_ascii_case(word.trim())) || status::from_pinelabs(word) == TokenStatus::Deleted {
        return removed();
    }
    let message = format!("Pine Labs answered the delete with status {word}, not DEACTIVATED: read the token to know whether it is still there");
    let mut err = Error::new(ErrorCode::ProviderError, card::scrub_pans(&message)).with_provider(P).with_status(resp.status);
    err.write_outcome = Some(crate::error::WriteOutcome::Unknown);
    Err(err)
}

fn has_error_code(resp: &HttpResponse) -> bool {
    super::envelope_json(&resp.body).is_some_and(|v| is_error_envelope(&v))
}

/// `{code, message}` where a success body was expected (a 200 from a proxy, or the API itself).
fn is_error_envelope(reply: &serde_json::Value) -> bool {
    // An error envelope's `code`, as text or a number: what tells it from a success reply.
    reply.get("code").is_some_and(|code| code.is_string() || code.is_number())
}

/// `{code, message, additional_error_details?}`.
pub fn error(resp: &HttpResponse) -> Error {
    // Pine Labs' error reply always has its `code`; a body with only a message (a gateway's
    // `{"message":"Not Found"}`) is not its answer, though its message is kept.
    reply_error(P, resp, &|v| {
        let code = string_field(v, "code");
        Some(Envelope { own: code.is_some(), code, message: string_field(v, "message"), request_id: None }).filter(|e| e.own || e.message.is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::model::TokenStatus;

    /// 2023-11-14T22:13:20Z, before the docs' example expiry (2025-12-31).
    const NOW: u64 = 1_700_000_000_000;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/pinelabs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// Judged on Pine Labs' clock (its `Date`), and only for ACTIVE: a SUSPENDED or deactivated
    /// token keeps the status the provider gave it.
    #[test]
    fn an_active_token_past_its_expired_at_is_expired() {
        let body = r#"{"tokens":[
            {"token_id":"a","status":"ACTIVE","expired_at":"2025-12-31T23:59:59Z"},
            {"token_id":"b","status":"SUSPENDED","expired_at":"2025-12-31T23:59:59Z"},
            {"token_id":"c","status":"ACTIVE","expired_at":"not a time"},
            {"token_id":"d","status":"ACTIVE"}]}"#;
        let statuses = |resp: &HttpResponse, now| parse_token_list(resp, now).unwrap().into_iter().map(|t| t.status).collect::<Vec<_>>();
        use TokenStatus::*;
        let after = 1_767_225_599_000 + 1; // a millisecond past the expiry
        // An expiry that cannot be read may have passed: UNKNOWN, not chargeable.
        assert_eq!(statuses(&HttpResponse::new(200, body), NOW), [Active, Suspended, Unknown, Active]);
        assert_eq!(statuses(&HttpResponse::new(200, body), after), [Expired, Suspended, Unknown, Active]);
        assert_eq!(statuses(&HttpResponse::new(200, body), after - 1), [Expired, Suspended, Unknown, Active], "expired at the instant itself");
        // The local clock is 12 h ahead; Pine Labs' own says the token has not expired yet.
        let dated = HttpResponse::new(200, body).with_header("date", "Wed, 31 Dec 2025 20:00:00 GMT");
        assert_eq!(statuses(&dated, 1_767_211_200_000 + 12 * 3_600_000)[0], Active);
        let one = r#"{"token_id":"a","status":"ACTIVE","expired_at":"2025-12-31T23:59:59Z"}"#;
        let t = parse_token(&HttpResponse::new(200, one), after, None).unwrap();
        assert_eq!((t.status, t.provider_status.as_deref(), t.expires_at.as_deref()), (Expired, Some("ACTIVE"), Some("2025-12-31T23:59:59.000Z")));
    }

    #[test]
    fn doc_example_list_maps_every_field() {
        let tokens = parse_token_list(&HttpResponse::new(200, fixture("list_doc_example.json")), NOW).unwrap();
        assert_eq!(tokens.len(), 1);
        let t = &tokens[0];
        assert_eq!(t.provider, Provider::Pinelabs);
        assert_eq!(t.id, "token-v1-1234567890-aa-ABCDEF");
        assert_eq!(t.customer_id.as_deref(), Some("cust-v1-0811030624-aa-RBDgpR"));
        assert_eq!(t.status, TokenStatus::Active);
        assert_eq!(t.provider_status.as_deref(), Some("ACTIVE"));
        assert_eq!(t.payment_method, PaymentMethod::Card);
        let card = t.card.as_ref().unwrap();
        assert_eq!(card.last4.as_deref(), Some("1112"));
        assert_eq!(card.brand, "Visa");
        assert_eq!(card.issuer_name.as_deref(), Some("HDFC Bank"));
        assert_eq!(card.issuer_country.as_deref(), Some("IN"));
        assert_eq!(card.funding.as_deref(), Some("CREDIT"));
        assert_eq!((card.cvv_required, card.international), (Some(true), Some(false)));
        assert_eq!(t.created_at.as_deref(), Some("2024-10-04T13:11:29.645Z"));
        assert_eq!(t.updated_at.as_deref(), Some("2024-10-04T13:11:29.645Z"));
        assert_eq!(t.expires_at.as_deref(), Some("2025-12-31T23:59:59.000Z"));
        assert_eq!(t.reference.as_deref(), Some("token-ref-001"));
        assert_eq!(t.status_reason.as_deref(), Some("Token activated successfully"));
        assert_eq!(t.metadata.as_ref().unwrap().get("acquirerName"), Some("HDFC_FSS"));
        assert_eq!(t.compliant, Some(true));
    }

    /// Keys are shared from token to token (`Metadata::key`), and the fields only read (`Text`)
    /// borrowed from the body where they can be; text with escapes reads the same.
    #[test]
    fn metadata_keys_are_shared_from_token_to_token_and_escaped_text_reads_the_same() {
        let body = r#"{"tokens": [
            {"token_id": "a", "merchant_metadata": {"tid": "1", "k\u0065y": "2", "4111111111111111": "x"},
             "payment_method": "C\u0041RD", "created_at": "2024-10-04T13:11:29.645591\u005a", "card_data": {"network_name": "V\u0069sa"}},
            {"token_id": "b", "merchant_metadata": {"tid": "3", "key": "4", "4111111111111111": "y"}, "payment_method": "UPI"},
            {"token_id": "c", "merchant_metadata": {"key": "5"}}
        ]}"#;
        let tokens = parse_token_list(&HttpResponse::new(200, body), NOW).unwrap();
        let keys = |i: usize| tokens[i].metadata.as_ref().unwrap().iter().map(|(k, _)| k).collect::<Vec<&str>>();
        assert_eq!(keys(0), ["tid", "key", "411111******1111"]);
        assert_eq!(keys(1), keys(0));
        assert_eq!(keys(2), ["key"]);
        // The same key at the same place is the same text in memory, escaped or not when first read;
        // a masked key is made for each token; a key at another place is not shared.
        assert!(std::ptr::eq(keys(0)[0], keys(1)[0]) && std::ptr::eq(keys(0)[1], keys(1)[1]));
        assert!(!std::ptr::eq(keys(0)[2], keys(1)[2]));
        assert!(!std::ptr::eq(keys(2)[0], keys(1)[1]));
        assert_eq!(tokens.iter().map(|t| t.metadata.as_ref().unwrap().get("key")).collect::<Vec<_>>(), [Some("2"), Some("4"), Some("5")]);
        assert_eq!((tokens[0].payment_method, tokens[1].payment_method), (PaymentMethod::Card, PaymentMethod::Upi));
        assert_eq!(tokens[0].created_at.as_deref(), Some("2024-10-04T13:11:29.645Z"));
        assert_eq!(tokens[0].card.as_ref().map(|c| &*c.brand), Some("Visa"));
    }

    #[test]
    fn metadata_values_become_text_with_card_numbers_masked() {
        let reply = |meta: serde_json::Value| {
            let body = serde_json::json!({"tokens": [{"token_id": "t", "merchant_metadata": meta}]});
            parse_token_list(&HttpResponse::new(200, body.to_string()), NOW).unwrap().remove(0).metadata
        };
        let meta = reply(serde_json::json!({
            "s": "card 4111111111111111", "n": 4111111111111111u64, "small": 42, "neg": -7, "f": 1.5, "b": true,
            "null": null, "arr": [1, "4111111111111111"], "obj": {"k": "v"}, "4111111111111111": "main card"
        }))
        .unwrap();
        let get = |k: &str| meta.get(k);
        assert_eq!(get("s"), Some("card 411111******1111"));
        assert_eq!(get("n"), Some("411111******1111"));
        assert_eq!((get("small"), get("neg"), get("f"), get("b"), get("null")), (Some("42"), Some("-7"), Some("1.5"), Some("true"), Some("null")));
        assert_eq!(get("arr"), Some(r#"[1,"411111******1111"]"#));
        // Masked before escaping: in the text, a line break or tab between digit groups is `\n`.
        let nested = reply(serde_json::json!({"nested": {"card": "4111\n1111\n1111\n1111", "4111\t1111\t1111\t1111": [4111111111111111u64, "4111\r\n1111\r\n1111\r\n1111"]}})).unwrap();
        assert_eq!(
            nested.get("nested"),
            Some(r#"{"4111\t11**\t****\t1111":["411111******1111","4111\r\n11**\r\n****\r\n1111"],"card":"4111\n11**\n****\n1111"}"#)
        );
        assert_eq!(get("obj"), Some(r#"{"k":"v"}"#));
        assert_eq!(get("411111******1111"), Some("main card"));
        assert!(!meta.iter().any(|(k, _)| k.contains("4111111111111111")));
        // Two cards with the same first six and last four: both entries stay.
        let same_mask = reply(serde_json::json!({"4111111111111111": "first", "4111110000001111": "second"})).unwrap();
        let mut kept: Vec<_> = ["411111******1111", "411111******1111 (2)"].iter().filter_map(|k| same_mask.get(k)).collect();
        kept.sort_unstable();
        assert_eq!((kept, same_mask.len()), (vec!["first", "second"], 2));
        // A key sent twice (JSON allows it) keeps both values; entries keep the reply's order. The
        // count skips a key the reply has itself ("b (2)"), which keeps its own name.
        let body = r#"{"tokens": [{"token_id": "t", "merchant_metadata": {"b": "1", "a": "2", "b": "3", "b (2)": "4", "A": "5", "b": "6"}}]}"#;
        let twice = parse_token_list(&HttpResponse::new(200, body), NOW).unwrap().remove(0).metadata.unwrap();
        let entries: Vec<(&str, &str)> = twice.iter().collect();
        assert_eq!(entries, [("b", "1"), ("a", "2"), ("b (3)", "3"), ("b (2)", "4"), ("A", "5"), ("b (4)", "6")]);
        assert_eq!(serde_json::to_string(&twice).unwrap(), r#"{"b":"1","a":"2","b (3)":"3","b (2)":"4","A":"5","b (4)":"6"}"#);
        assert_eq!((twice.get("a"), twice.get("c"), twice.get("")), (Some("2"), None, None));
        // Past the pairwise check's size too, and without repeats nothing is renamed.
        for n in [16, 17, 40] {
            let keys: Vec<String> = (0..n).map(|i| format!("k{}", n - i)).collect();
            let mut entries: Vec<(std::rc::Rc<str>, String)> = keys.iter().map(|k| (k.as_str().into(), k.clone())).collect();
            assert_eq!(Metadata::from_entries(entries.clone()).iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>(), keys);
            entries.push(("k1".into(), "again".into()));
            let kept = Metadata::from_entries(entries);
            assert_eq!((kept.len(), kept.get("k1"), kept.get("k1 (2)")), (n + 1, Some("k1"), Some("again")), "{n}");
        }
        // A key sent 20,000 times costs a step each (it took minutes when each count started at 2).
        let many: Vec<(std::rc::Rc<str>, String)> = (0..20_000).map(|i| ("a".into(), i.to_string())).collect();
        let kept = Metadata::from_entries(many);
        assert_eq!((kept.len(), kept.get("a"), kept.get("a (20000)")), (20_000, Some("0"), Some("19999")));
        // Another shape drops the metadata, not the token.
        for other in [serde_json::json!("text"), serde_json::json!([1, {"a": 2}]), serde_json::json!(3), serde_json::json!(null)] {
            assert_eq!(reply(other.clone()), None, "{other}");
        }
    }

    #[test]
    fn nulls_unknown_fields_and_unknown_statuses_are_fine() {
        let tokens = parse_token_list(&HttpResponse::new(200, fixture("list_nulls_and_unknowns.json")), NOW).unwrap();
        let by_id = |id: &str| tokens.iter().find(|t| t.id == id).unwrap();
        assert_eq!(by_id("tok-initiated").status, TokenStatus::Pending);
        assert_eq!(by_id("tok-deactivated").status, TokenStatus::Deleted);
        let odd = by_id("tok-quarantined");
        assert_eq!(odd.status, TokenStatus::Unknown);
        assert_eq!(odd.provider_status.as_deref(), Some("QUARANTINED"));
        let bare = by_id("tok-nulls");
        assert_eq!((bare.status, bare.payment_method), (TokenStatus::Unknown, PaymentMethod::Unknown));
        assert!(bare.card.is_none() && bare.created_at.is_none());
        // A row that names no customer is the list's.
        assert_eq!(bare.customer_id.as_deref(), Some("cust-mixed"));
        assert_eq!(by_id("tok-upi").payment_method, PaymentMethod::Upi);
        assert_eq!(by_id("tok-numeric-customer").customer_id.as_deref(), Some("42"));
        assert_eq!(by_id("tok-no-network").card.as_ref().unwrap().brand, "Unknown");
    }

    #[test]
    fn free_text_fields_lose_card_numbers_and_ids_stay_exact() {
        let body = serde_json::json!({"tokens": [{
            "token_id": "4111111111111111", "customer_id": "c-4111111111111111", "status": "SUSPENDED",
            "status_reason": "card 4111 1111 1111 1111 reported stolen", "merchant_token_reference": "ref-4111111111111111",
            "card_data": {"issuer_name": "Bank 4111111111111111", "card_type": "4111111111111111"}
        }]});
        let t = parse_token_list(&HttpResponse::new(200, body.to_string()), NOW).unwrap().remove(0);
        assert_eq!(t.status_reason.as_deref(), Some("card 4111 11** **** 1111 reported stolen"));
        assert_eq!(t.reference.as_deref(), Some("ref-411111******1111"));
        let card = t.card.as_ref().unwrap();
        assert_eq!((card.issuer_name.as_deref(), card.funding.as_deref()), (Some("Bank 411111******1111"), Some("411111******1111")));
        // Ids are what later calls send back: they are never altered.
        assert_eq!((t.id.as_str(), t.customer_id.as_deref()), ("4111111111111111", Some("c-4111111111111111")));
        let body = serde_json::json!({"tokens": [{"token_id": "t", "merchant_token_reference": "sub-1732245907124"}]});
        let other = parse_token_list(&HttpResponse::new(200, body.to_string()), NOW).unwrap().remove(0);
        assert_eq!(other.reference.as_deref(), Some("sub-1732245907124"), "a long number that is no card number stays exact");
    }

    #[test]
    fn empty_and_null_token_lists() {
        assert!(parse_token_list(&HttpResponse::new(200, r#"{"customer_id":"c","total_tokens":0,"tokens":null}"#), NOW).unwrap().is_empty());
        assert_eq!(parse_token_list(&HttpResponse::new(200, r#"{}"#), NOW).unwrap_err().code, ErrorCode::Decode);
        let err = parse_token_list(&HttpResponse::new(200, r#"{"code":"INTERNAL_ERROR","message":"oops"}"#), NOW).unwrap_err();
        assert_eq!((err.code, err.provider_code.as_deref()), (ErrorCode::ProviderError, Some("INTERNAL_ERROR")));
    }

    #[test]
    fn a_list_with_fewer_rows_than_its_count_is_not_handed_out() {
        let row = r#"{"token_id":"t1","status":"ACTIVE","payment_method":"CARD"}"#;
        let list = |total: &str| format!(r#"{{"customer_id":"c","total_tokens":{total},"tokens":[{row}]}}"#);
        let err = parse_customer_list(&HttpResponse::new(200, list("3")), NOW, Some("c")).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProviderError);
        assert_eq!(err.message, "pinelabs listed 1 of the 3 tokens of customer c its reply counts (total_tokens): the list is incomplete (Pine Labs documents no paging), and no token of it is handed out");
        assert_eq!(parse_token_list(&HttpResponse::new(200, list("0").replace(&format!("[{row}]"), "null")), NOW).unwrap().len(), 0);
        // A count that is no whole number, absent, or not above the rows checks nothing.
        for total in ["1", "0", "\"3\"", "3.0", "-1", "null", "[3]", "{\"n\":3}", "true"] {
            assert_eq!(parse_token_list(&HttpResponse::new(200, list(total)), NOW).unwrap().len(), 1, "{total}");
        }
        assert_eq!(parse_token_list(&HttpResponse::new(200, format!(r#"{{"tokens":[{row}]}}"#)), NOW).unwrap().len(), 1);
    }

    #[test]
    fn an_access_token_reply_with_an_error_inside_200_is_that_error() {
        let err = parse_access_token(&HttpResponse::new(200, r#"{"code":"PAYMENT_RATE_LIMIT","message":"slow down"}"#), 0).unwrap_err();
        assert_eq!((err.code, err.retryable, err.renew_auth), (ErrorCode::RateLimited, true, false));
        assert_eq!(parse_access_token(&HttpResponse::new(200, r#"{"access_token":7}"#), 0).unwrap_err().code, ErrorCode::Decode);
    }

    #[test]
    fn broken_success_bodies_are_decode_errors() {
        for body in ["", "{\"tokens\": [", "<html>", "{\"tokens\": [{\"status\": \"ACTIVE\"}]}", "null", "42"] {
            let err = parse_token_list(&HttpResponse::new(200, body), NOW).unwrap_err();
            assert_eq!(err.code, ErrorCode::Decode, "{body}");
        }
    }

    #[test]
    fn a_delete_or_get_answered_with_an_error_inside_200_is_that_error() {
        let in_200 = HttpResponse::new(200, r#"{"code":"INTERNAL_ERROR","message":"Request could not be processed"}"#);
        for err in [parse_delete(&in_200, "t1", None).unwrap_err(), parse_token(&in_200, NOW, None).unwrap_err()] {
            assert_eq!((err.code, err.provider_code.as_deref()), (ErrorCode::ProviderError, Some("INTERNAL_ERROR")));
            assert_eq!(err.message, "Request could not be processed");
        }
        // A numeric code is the same envelope (the list's check already took it): an error,
        // not an undecodable success, which a delete would report as "most likely applied".
        let numeric = HttpResponse::new(200, r#"{"code":500,"message":"Request could not be processed"}"#);
        for err in [parse_delete(&numeric, "t1", None).unwrap_err(), parse_token(&numeric, NOW, None).unwrap_err(), parse_token_list(&numeric, NOW).unwrap_err()] {
            assert_eq!((err.code, err.provider_code.as_deref(), err.message.as_str()), (ErrorCode::ProviderError, Some("500"), "Request could not be processed"));
        }
        let err = parse_delete(&HttpResponse::new(200, r#"{"ok":true}"#), "t1", None).unwrap_err();
        assert_eq!(err.code, ErrorCode::Decode, "no token_id: not a confirmation");
        let err = parse_delete(&HttpResponse::new(200, r#"{"token_id":"t1","status":"ACTIVE"}"#), "t1", None).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProviderError);
        assert!(err.message.contains("ACTIVE"));
        let confirmed = r#"{"token_id":"t1","customer_id":"c1","status":"DEACTIVATED","merchant_unique_reference":"ref"}"#;
        assert!(parse_delete(&HttpResponse::new(200, confirmed), "t1", None).is_ok());
        assert!(parse_delete(&HttpResponse::new(204, ""), "t1", None).is_ok());
        assert_eq!(parse_delete(&HttpResponse::new(200, ""), "t1", None).unwrap_err().code, ErrorCode::Decode, "an empty 200 confirms nothing");
        assert_eq!(parse_delete(&HttpResponse::new(200, confirmed), "t2", None).unwrap_err().code, ErrorCode::Decode, "another token");
        // A reply that has the token under another customer than the path's: removed, but not
        // the token the caller meant to remove.
        let elsewhere = r#"{"token_id":"t1","customer_id":"c2","status":"DEACTIVATED"}"#;
        assert!(parse_delete(&HttpResponse::new(200, elsewhere), "t1", Some("c2")).is_ok());
        // A number is an id too, as in a get's reply.
        let numeric = r#"{"token_id":"t1","customer_id":42,"status":"DEACTIVATED"}"#;
        assert!(parse_delete(&HttpResponse::new(200, numeric), "t1", Some("42")).is_ok());
        assert_eq!(parse_delete(&HttpResponse::new(200, numeric), "t1", Some("c1")).unwrap_err().write_outcome, Some(crate::error::WriteOutcome::Applied));
        let err = parse_delete(&HttpResponse::new(200, elsewhere), "t1", Some("c1")).unwrap_err();
        assert_eq!((err.code, err.write_outcome, err.token_id.as_deref()), (ErrorCode::ProviderError, Some(crate::error::WriteOutcome::Applied), Some("t1")));
        assert_eq!(err.message, "pinelabs removed token t1, but its reply has it under customer c2, not c1: list both customers' tokens before relying on either");
        for word in ["deactivated", "DELETED", "REMOVED"] {
            let body = format!(r#"{{"token_id":"t1","status":"{word}"}}"#);
            assert!(parse_delete(&HttpResponse::new(200, body), "t1", None).is_ok(), "{word}");
        }
        // A word that does not confirm, live ones too (the status may be from before the
        // network's deactivation): not taken as a deletion, nor as a refusal.
        for word in ["ACTIVE", "SUSPENDED", "INITIATED", "FAILED", "REJECTED"] {
            let body = format!(r#"{{"token_id":"t1","status":"{word}"}}"#);
            let err = parse_delete(&HttpResponse::new(200, body), "t1", None).unwrap_err();
            assert_eq!((err.code, err.retryable), (ErrorCode::ProviderError, false), "{word}");
            assert!(err.message.ends_with("not DEACTIVATED: read the token to know whether it is still there"), "{}", err.message);
            assert_eq!(err.write_outcome, Some(crate::error::WriteOutcome::Unknown), "{word}");
        }
        // A field sent twice is not read last-one-wins: the reply confirms nothing.
        for body in [r#"{"token_id":"t1","status":"ACTIVE","status":"DEACTIVATED"}"#, r#"{"token_id":"t2","token_id":"t1","status":"DEACTIVATED"}"#] {
            assert_eq!(parse_delete(&HttpResponse::new(200, body), "t1", None).unwrap_err().code, ErrorCode::Decode, "{body}");
        }
        for body in [r#"{"token_id":"t1"}"#, r#"{"token_id":"t1","status":null}"#, r#"{"token_id":"t1","status":" "}"#] {
            assert!(parse_delete(&HttpResponse::new(200, body), "t1", None).is_ok(), "no status: the id confirms ({body})");
        }
        // Flags of another shape drop the flag, not the list.
        let odd = r#"{"tokens":[{"token_id":"t1","status":"ACTIVE","card_data":{"last4_digit":"1111","cvv_required":"true","international":1}}]}"#;
        let card = parse_token_list(&HttpResponse::new(200, odd), NOW).unwrap().remove(0).card.unwrap();
        assert_eq!((card.cvv_required, card.international), (Some(true), None));
    }

    #[test]
    fn error_envelopes_map_to_codes() {
        let err = parse_token_list(&HttpResponse::new(404, fixture("error_not_found.json")), NOW).unwrap_err();
        assert_eq!((err.code, err.http_status, err.provider_code.as_deref()), (ErrorCode::NotFound, Some(404), Some("NOT_FOUND")));
        assert_eq!(err.message, "Customer not found");
        let err = parse_token_list(&HttpResponse::new(403, r#"{"code":"FORBIDDEN","message":"no"}"#), NOW).unwrap_err();
        assert_eq!(err.code, ErrorCode::Permission);
        let err = parse_token_list(&HttpResponse::new(401, r#"{"code":"UNAUTHORIZED","message":"expired"}"#), NOW).unwrap_err();
        assert!(err.code == ErrorCode::Authentication && err.renew_auth);
        let err = parse_access_token(&HttpResponse::new(401, r#"{"code":"UNAUTHORIZED","message":"Invalid client credentials"}"#), 0).unwrap_err();
        assert!(err.code == ErrorCode::Authentication && !err.renew_auth);
        let err = parse_token_list(&HttpResponse::new(502, "<html><body>502 Bad Gateway</body></html>"), NOW).unwrap_err();
        assert_eq!((err.code, err.http_status, err.retryable), (ErrorCode::ProviderError, Some(502), true));
        let err = parse_token_list(&HttpResponse::new(429, r#"{"code":"PAYMENT_RATE_LIMIT","message":"slow down"}"#), NOW).unwrap_err();
        assert_eq!((err.code, err.retryable), (ErrorCode::RateLimited, true));
    }

    #[test]
    fn requests_encode_ids_and_carry_the_documented_shapes() {
        let base = "https://pluraluat.v2.pinepg.in/api";
        let r = list_tokens_request(base, "cust-v1-0811030624-aa-RBDgpR").unwrap();
        assert_eq!(r.url, "https://pluraluat.v2.pinepg.in/api/v1/customer/cust-v1-0811030624-aa-RBDgpR/tokens");
        assert_eq!(r.method, Method::Get);
        let r = get_token_request(base, Some("c@1"), "t+1").unwrap();
        assert_eq!(r.url, format!("{base}/v1/customer/c%401/tokens/t%2B1"));
        assert_eq!(get_token_request(base, None, "t").unwrap_err().code, ErrorCode::InvalidInput);
        let reference = unique_reference(&[7; 24]);
        assert!(reference.len() <= 50 && reference.chars().all(|c| c.is_ascii_alphabetic() || c == '-' || c == '_'));
        let r = delete_token_request(base, Some("c"), "t", &reference).unwrap();
        assert_eq!(r.url, format!("{base}/v1/customer/c/tokens/t/delete"));
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["merchant_unique_reference"], reference.as_str());
        let r = access_token_request(base, "id", &Secret::new("s3"), "req-1");
        assert_eq!(r.url, format!("{base}/auth/v1/token"));
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, serde_json::json!({"client_id": "id", "client_secret": "s3", "grant_type": "client_credentials"}));
        let reply = HttpResponse::new(200, r#"{"access_token":"jwt","expires_at":"2024-06-28T13:26:06.909140Z"}"#);
        let an_hour_before = 1_719_581_166_909 - 3_600_000;
        assert_eq!(parse_access_token(&reply, an_hour_before).unwrap().expires_at_ms, 1_719_581_166_909);
        // The reply's Date says the token has an hour to live; a local clock two hours ahead
        // still gets that hour instead of a token that looks expired on arrival.
        let dated = reply.with_header("Date", "Fri, 28 Jun 2024 12:26:06 GMT");
        let two_hours_ahead = an_hour_before + 7_200_000 - 909;
        assert_eq!(parse_access_token(&dated, two_hours_ahead).unwrap().expires_at_ms, two_hours_ahead + 3_600_909);
    }
}
