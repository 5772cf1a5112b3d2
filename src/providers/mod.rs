//! Provider modules: each turns an operation into an `HttpRequest` and a reply into the model.
//! Pure: no I/O, no clock, no randomness (callers pass `now` and random values in).

pub mod alliancepay;
pub mod chargeover;
pub mod payerly;
pub mod pinelabs;

use std::borrow::Cow;

use crate::error::{Error, ErrorCode, Result};
use crate::http::HttpResponse;
use crate::model::Provider;
use crate::taxonomy;

/// A success body as the provider's wire type; anything unreadable is DECODE.
pub(crate) fn decode<'a, T: serde::Deserialize<'a>>(provider: Provider, resp: &'a HttpResponse) -> Result<T> {
    serde_json::from_str(&resp.body).map_err(|e| Error::decode_json(provider, &e, &resp.body).with_status(resp.status))
}

/// A delete's 2xx with nothing in it: a 204 says the token is gone; another status with its body
/// cut off (a proxy, a dropped connection) confirms nothing, and the call reports the delete as
/// accepted, outcome unknown.
pub(crate) fn empty_delete_reply(provider: Provider, resp: &HttpResponse) -> Result<()> {
    if resp.status == 204 {
        return Ok(());
    }
    Err(Error::decode(provider, "the delete reply is empty, where it confirms the token").with_status(resp.status))
}

/// What a provider's error envelope says, once read.
#[derive(Default)]
pub(crate) struct Envelope {
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    /// The body is the provider's own error reply (its marker was there), not a gateway's JSON
    /// that happens to carry a message: only the provider's own 404 says "no such token".
    pub own: bool,
}

/// The most of a body read whole as a `serde_json::Value` (an error envelope, a delete's
/// confirmation: a few hundred bytes). A `Value` takes up to 16 times the text's size, and wasm
/// memory never shrinks, so a proxy's 32 MiB `[0,0,…]` would have kept a gigabyte.
pub(crate) const MAX_ENVELOPE: usize = 64 * 1024;

/// A body read as JSON to look for an error envelope; a larger one is typed by its HTTP status
/// alone, as an HTML error page is.
pub(crate) fn envelope_json(body: &str) -> Option<serde_json::Value> {
    if body.len() > MAX_ENVELOPE {
        return None;
    }
    serde_json::from_str(body).ok()
}

/// The error for a failure reply. A body that is not the provider's JSON envelope (an HTML 502
/// page from a proxy, say) still gives a typed error with the HTTP status.
pub(crate) fn reply_error(provider: Provider, resp: &HttpResponse, read: &dyn Fn(&serde_json::Value) -> Option<Envelope>) -> Error {
    let envelope = envelope_json(&resp.body).and_then(|v| read(&v));
    let request_id = resp.header("request-id").or(resp.header("x-request-id")).map(str::to_string);
    let enveloped = envelope.as_ref().is_some_and(|e| e.own);
    let (code, message, body_request_id) = match envelope {
        Some(e) => (e.code, e.message, e.request_id),
        None => (None, None, None),
    };
    let message = message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("{} replied HTTP {} without an error description", provider.as_str(), resp.status));
    let request_id = body_request_id.or(request_id).map(request_id_shown);
    let mut err = taxonomy::classify(provider, resp.status, code.as_deref(), &message).with_request_id(request_id);
    // Only the provider says "no such token or customer", in its own error reply. A bare 404 (a
    // wrong baseUrl, a proxy's page) is not that: a caller could read it as already deleted.
    // (AlliancePay's 404 is PROVIDER_ERROR from the start, and says the same.)
    if !enveloped && resp.status == 404 && matches!(err.code, ErrorCode::NotFound | ErrorCode::ProviderError) {
        err.code = ErrorCode::ProviderError;
        err.message = format!(
            "{} replied HTTP 404 without its error reply: the address may be wrong (check baseUrl), or something in between answered",
            provider.as_str()
        );
    }
    err
}

/// A provider's request id as the error shows it. It must match the provider's logs, so only a run
/// that passes Luhn, as every card number does, is masked in it; and a UUID (what the SDK sends,
/// and what Pine Labs and AlliancePay echo) not at all: its digit groups, read across the dashes
/// as a card number's are, pass Luhn one time in ten.
fn request_id_shown(id: String) -> String {
    let uuid = id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { b.is_ascii_hexdigit() });
    if uuid {
        id
    } else {
        crate::card::scrub_pans_in_token(id)
    }
}

pub(crate) fn string_field(v: &serde_json::Value, key: &str) -> Option<String> {
    match v.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// At most this many rows are read from one reply. A reply of millions of tiny rows (a broken or
/// hostile endpoint, inside the transport's 32 MiB cap) grew wasm memory to 1.6 GB, which wasm
/// never gives back; no customer has this many stored tokens, and a ChargeOver page is far smaller.
pub(crate) const MAX_ROWS: usize = 10_000;

/// A list of reply rows, refused past `MAX_ROWS` while it is read rather than after.
pub(crate) struct Rows<T>(pub Vec<T>);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Rows<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = Rows<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a list of at most {MAX_ROWS} rows")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Rows<T>, A::Error> {
                let mut rows = Vec::new();
                while let Some(row) = seq.next_element()? {
                    if rows.len() == MAX_ROWS {
                        // serde's own length error, so the message keeps its "expected" part.
                        return Err(serde::de::Error::invalid_length(MAX_ROWS + 1, &self));
                    }
                    rows.push(row);
                }
                Ok(Rows(rows))
            }
        }
        d.deserialize_seq(Visit(std::marker::PhantomData))
    }
}

/// Reply text that is only read (a time to convert, a word to match), borrowed from the body
/// unless it has escapes: an allocation and a free saved per field and row. serde borrows a
/// `Cow<str>` field, but not one inside an `Option`, hence the type.
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// Ids arrive as strings or numbers depending on the provider; the model always has strings.
/// Read by a visitor, not an untagged enum: that buffered every id and built an error message
/// for each numeric one before trying the number (a fifth of a ChargeOver page's reading).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LooseId(String);

impl LooseId {
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de> serde::Deserialize<'de> for LooseId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = LooseId;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<LooseId, E> {
                Ok(LooseId(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<LooseId, E> {
                Ok(LooseId(v))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<LooseId, E> {
                Ok(LooseId(serde_json::Number::from(v).to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<LooseId, E> {
                Ok(LooseId(serde_json::Number::from(v).to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<LooseId, E> {
                serde_json::Number::from_f64(v).map(|n| LooseId(n.to_string())).ok_or_else(|| E::custom("an id is not a finite number"))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// An optional object read loosely, as other optional fields are: another shape than an object
/// is no value, not a failed reply, and is skipped as it is read (never kept whole).
pub(crate) trait LooseObject<'de>: Sized {
    fn read<A: serde::de::MapAccess<'de>>(map: A) -> std::result::Result<Self, A::Error>;
}

/// For `#[serde(default, deserialize_with = "loose_object")]`.
pub(crate) fn loose_object<'de, D: serde::Deserializer<'de>, T: LooseObject<'de>>(d: D) -> std::result::Result<Option<T>, D::Error> {
    use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::result::Result as R;
    struct Visit<T>(std::marker::PhantomData<T>);
    impl<'de, T: LooseObject<'de>> Visitor<'de> for Visit<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> R<Self::Value, A::Error> {
            T::read(map).map(Some)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> R<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_unit<E>(self) -> R<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> R<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> R<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> R<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> R<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> R<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Visit(std::marker::PhantomData))
}

/// Any JSON value as text, with card numbers masked: a string as itself, another value as its
/// compact JSON text, written as it is read. (A `serde_json::Value` takes up to 16 times the
/// text's size, and wasm memory never shrinks: one 32 MiB `[0,0,…]` in a token's metadata kept
/// 800 MiB.) Each string, key and number is masked as read, before it is escaped: in the escaped
/// text a line break between digit groups is `\n`, which the masking would not see.
pub(crate) struct AsText(pub String);

impl<'de> serde::Deserialize<'de> for AsText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let mut text = String::new();
        d.deserialize_any(WriteJson { out: &mut text, quote: false })?;
        Ok(AsText(text))
    }
}

/// Writes the value it visits into `out` as JSON; `quote: false` writes a top-level string bare.
struct WriteJson<'o> {
    out: &'o mut String,
    quote: bool,
}

impl WriteJson<'_> {
    /// A number as written, unless it holds a card number's digits: then that text masked, as a
    /// string (`card::scrub_json` does the same to a raw reply).
    fn number<E: serde::de::Error>(self, n: serde_json::Number) -> std::result::Result<(), E> {
        let text = n.to_string();
        match crate::card::scrub_pans_borrowed(&text) {
            std::borrow::Cow::Borrowed(_) => self.out.push_str(&text),
            masked => serde::de::Visitor::visit_str::<E>(self, &masked)?,
        }
        Ok(())
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for WriteJson<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for WriteJson<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<(), E> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<(), E> {
        self.number(serde_json::Number::from(v))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<(), E> {
        self.number(serde_json::Number::from(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<(), E> {
        match serde_json::Number::from_f64(v) {
            Some(n) => self.number(n),
            None => self.visit_unit(),
        }
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<(), E> {
        let masked = crate::card::scrub_pans_borrowed(v);
        if self.quote {
            self.out.push_str(&serde_json::to_string(&*masked).map_err(E::custom)?);
        } else {
            self.out.push_str(&masked);
        }
        Ok(())
    }
    fn visit_unit<E>(self) -> std::result::Result<(), E> {
        self.out.push_str("null");
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        self.out.push('[');
        let mut first = true;
        loop {
            let at = self.out.len();
            if !first {
                self.out.push(',');
            }
            if seq.next_element_seed(WriteJson { out: &mut *self.out, quote: true })?.is_none() {
                self.out.truncate(at);
                break;
            }
            first = false;
        }
        self.out.push(']');
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        self.out.push('{');
        let mut first = true;
        while let Some(key) = map.next_key::<Text>()? {
            if !first {
                self.out.push(',');
            }
            first = false;
            self.out.push_str(&serde_json::to_string(&*crate::card::scrub_pans_borrowed(&key)).map_err(serde::de::Error::custom)?);
            self.out.push(':');
            map.next_value_seed(WriteJson { out: &mut *self.out, quote: true })?;
        }
        self.out.push('}');
        Ok(())
    }
}

/// A field that holds a word, a number or a boolean when it is there (an envelope's `status`, the
/// `code` of an error put inside a 200, a card's flags). Any other shape is skipped as it is read:
/// kept as a `serde_json::Value`, a proxy's 32 MiB `{"status":[0,0,…]}` grew wasm memory for good.
pub(crate) enum Scalar<'a> {
    Word(Text<'a>),
    /// Its value when written as an integer from 0 up (a count), else none.
    Number(Option<u64>),
    Flag(bool),
    Other,
}

impl Scalar<'_> {
    pub fn is_word(&self, word: &str) -> bool {
        matches!(self, Scalar::Word(w) if w.eq_ignore_ascii_case(word))
    }

    /// A word or a number: what an error envelope's `code` is, found where a success was expected.
    pub fn is_code(&self) -> bool {
        matches!(self, Scalar::Word(_) | Scalar::Number(_))
    }

    /// A count written as an integer: `3`, not `"3"` or `3.0`.
    pub fn count(&self) -> Option<u64> {
        match self {
            Scalar::Number(n) => *n,
            _ => None,
        }
    }

    pub fn word(&self) -> Option<&str> {
        match self {
            Scalar::Word(w) => Some(w),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::IgnoredAny;
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Word(Text(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Word(Text(Cow::Owned(v.to_string()))))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Number(Some(v)))
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Number(None))
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Number(None))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Flag(v))
            }
            fn visit_unit<E>(self) -> std::result::Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Scalar<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Scalar<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::{alliancepay, chargeover, payerly, pinelabs, LooseId, MAX_ROWS};
    use crate::error::ErrorCode;
    use crate::http::HttpResponse;

    #[test]
    fn a_status_word_is_read_and_any_other_shape_is_skipped() {
        use super::Scalar;
        fn read(json: &str) -> Option<Scalar<'_>> {
            serde_json::from_str(json).unwrap()
        }
        assert!(read(r#""OK""#).is_some_and(|s| s.is_word("ok")));
        assert!(read(r#""O\u004b""#).is_some_and(|s| s.is_word("OK")));
        assert!(matches!(read("-3"), Some(Scalar::Number(None))) && matches!(read("2.5"), Some(Scalar::Number(None))));
        assert!(read("3").is_some_and(|s| s.count() == Some(3)) && read(r#""3""#).is_some_and(|s| s.count().is_none()));
        assert!(read("null").is_none());
        assert!(matches!(read("true"), Some(Scalar::Flag(true))) && matches!(read("false"), Some(Scalar::Flag(false))));
        for other in [r#"["OK"]"#, r#"{"OK":1}"#, "[[[]],{}]"] {
            assert!(matches!(read(other), Some(Scalar::Other)), "{other}");
        }
        // What comes after a skipped value is still read.
        let pair: (Scalar, Scalar) = serde_json::from_str(r#"[{"a":[1,{"b":"c"}]},"OK"]"#).unwrap();
        assert!(matches!(pair.0, Scalar::Other) && pair.1.is_word("OK"));
    }

    /// A 404 is "no such token" only in the provider's own error reply: a bare one (a wrong
    /// baseUrl, a proxy) must not read as already deleted.
    #[test]
    fn a_404_without_the_providers_error_reply_is_not_not_found() {
        // A gateway's own JSON (`message` without the provider's `code`, `status` or `error`) too.
        let bare = [
            HttpResponse::new(404, "<html><body>404 Not Found</body></html>"),
            HttpResponse::new(404, ""),
            HttpResponse::new(404, r#"{"error":{}}"#),
            HttpResponse::new(404, r#"{"message":"no Route matched with those values"}"#),
        ];
        // (AlliancePay's 404 was never NOT_FOUND, by its own rule: here as a guard.)
        for resp in &bare {
            for err in [pinelabs::error(resp), chargeover::error(resp), payerly::error(resp), alliancepay::error(resp)] {
                assert_eq!((err.code, err.http_status), (ErrorCode::ProviderError, Some(404)), "{:?} {err:?}", resp.body);
                assert!(!err.retryable);
            }
        }
        for err in [pinelabs::error(&bare[0]), chargeover::error(&bare[1]), payerly::error(&bare[2]), alliancepay::error(&bare[3])] {
            assert!(err.message.contains("check baseUrl"), "{}", err.message);
        }
        // A message-only body elsewhere is still read for its message.
        let gateway = HttpResponse::new(400, r#"{"message":"bad gateway config"}"#);
        for err in [pinelabs::error(&gateway), chargeover::error(&gateway)] {
            assert_eq!((err.code, err.message.as_str()), (ErrorCode::InvalidInput, "bad gateway config"));
        }
        let enveloped = [
            pinelabs::error(&HttpResponse::new(404, r#"{"code":"NOT_FOUND","message":"Token not found"}"#)),
            chargeover::error(&HttpResponse::new(404, r#"{"code":404,"status":"Error","message":"Object not found.","response":false}"#)),
            chargeover::error(&HttpResponse::new(404, r#"{"code":404,"status":"Error","message":null,"response":false}"#)),
            payerly::error(&HttpResponse::new(404, r#"{"error":{"code":"404","description":"Not Found","traceId":"t"}}"#)),
        ];
        for err in enveloped {
            assert_eq!(err.code, ErrorCode::NotFound, "{err:?}");
        }
    }

    /// A field sent twice in one object: which copy the provider meant is not known.
    #[test]
    fn a_field_sent_twice_is_decode_naming_it() {
        let errors = [
            pinelabs::parse_token_list(&HttpResponse::new(200, r#"{"tokens":[{"token_id":"a","token_id":"b"}]}"#), 0).unwrap_err(),
            alliancepay::parse_token_list(&HttpResponse::new(200, r#"{"result":[{"token":"a","status":"ACTIVE","status":"DELETED"}]}"#)).unwrap_err(),
            chargeover::parse_token_list(&HttpResponse::new(200, r#"{"status":"OK","response":[{"tokenized_id":1,"tokenized_id":2}]}"#), 0).unwrap_err(),
            payerly::parse_token(&HttpResponse::new(200, r#"{"items":[{"object":{"tokenId":"a","tokenId":"b"}}]}"#), 0, false).unwrap_err(),
        ];
        for (err, field) in errors.iter().zip(["token_id", "status", "tokenized_id", "tokenId"]) {
            assert_eq!(err.code, ErrorCode::Decode, "{err:?}");
            assert!(err.message.contains(&format!("field `{field}` sent twice")), "{}", err.message);
        }
    }

    #[test]
    fn a_reply_with_more_rows_than_any_customer_has_is_refused_while_it_is_read() {
        let rows = |n: usize, row: &str| vec![row; n].join(",");
        for n in [MAX_ROWS, MAX_ROWS + 1] {
            let pinelabs = HttpResponse::new(200, format!(r#"{{"tokens":[{}]}}"#, rows(n, r#"{"token_id":"t"}"#)));
            let alliancepay = HttpResponse::new(200, format!(r#"{{"result":[{}]}}"#, rows(n, r#"{"token":"t"}"#)));
            let chargeover = HttpResponse::new(200, format!(r#"{{"status":"OK","response":[{}]}}"#, rows(n, r#"{"tokenized_id":1}"#)));
            let counts = [
                pinelabs::parse_token_list(&pinelabs, 0).map(|t| t.len()),
                alliancepay::parse_token_list(&alliancepay).map(|t| t.len()),
                chargeover::parse_token_list(&chargeover, 0).map(|t| t.len()),
            ];
            for count in counts {
                if n == MAX_ROWS {
                    assert_eq!(count.unwrap(), n);
                } else {
                    let err = count.unwrap_err();
                    assert_eq!(err.code, ErrorCode::Decode);
                    assert!(err.message.contains("expected a list of at most 10000 rows"), "{}", err.message);
                }
            }
        }
    }

    /// Every string in a documented reply set to a card number (typed several ways): no field of
    /// the tokens but the ids, which later calls send back, may hold it whole.
    #[test]
    fn no_field_but_the_ids_carries_a_card_number_from_any_reply_field() {
        fn set_strings(v: &mut serde_json::Value, to: &str) {
            match v {
                serde_json::Value::String(s) => *s = to.to_string(),
                serde_json::Value::Array(items) => items.iter_mut().for_each(|i| set_strings(i, to)),
                serde_json::Value::Object(map) => map.values_mut().for_each(|i| set_strings(i, to)),
                _ => {}
            }
        }
        fn leaks(v: &serde_json::Value, key: &str, pan: &str, path: &str, out: &mut Vec<String>) {
            match v {
                serde_json::Value::String(s) if s.contains(pan) && !matches!(key, "id" | "customerId" | "merchantId") => out.push(path.to_string()),
                serde_json::Value::Array(items) => items.iter().enumerate().for_each(|(i, x)| leaks(x, key, pan, &format!("{path}[{i}]"), out)),
                serde_json::Value::Object(map) => map.iter().for_each(|(k, x)| leaks(x, k, pan, &format!("{path}.{k}"), out)),
                _ => {}
            }
        }
        let fixture = |p: &str| std::fs::read_to_string(format!("{}/tests/fixtures/{p}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for pan in ["4111111111111111", "4111 1111 1111 1111", "4111\u{2009}1111\u{2009}1111\u{2009}1111", "４１１１－１１１１－１１１１－１１１１"] {
            let body = |p: &str| {
                let mut v: serde_json::Value = serde_json::from_str(&fixture(p)).unwrap();
                set_strings(&mut v, pan);
                if let Some(status) = v.get_mut("status").filter(|_| p.starts_with("chargeover")) {
                    *status = "OK".into(); // the envelope, not a field of a token
                }
                if let Some(kind) = v.pointer_mut("/items/0/type").filter(|_| p.starts_with("payerly")) {
                    *kind = "TOKEN".into(); // what the item is, not a field of the token
                }
                HttpResponse::new(200, v.to_string())
            };
            let outputs = [
                ("pinelabs", serde_json::to_value(pinelabs::parse_token_list(&body("pinelabs/list_doc_example.json"), 0).unwrap()).unwrap()),
                ("alliancepay", serde_json::to_value(alliancepay::parse_token_list(&body("alliancepay/list_doc_example.json")).unwrap()).unwrap()),
                ("payerly", serde_json::to_value(payerly::parse_token(&body("payerly/token_doc_example.json"), 0, true).unwrap()).unwrap()),
                ("chargeover", serde_json::to_value(chargeover::parse_token_list(&body("chargeover/list_cases.json"), 0).unwrap()).unwrap()),
            ];
            for (provider, out) in outputs {
                let mut found = Vec::new();
                leaks(&out, "", pan, provider, &mut found);
                assert!(found.is_empty(), "{pan:?} kept whole in {found:?}");
            }
        }
    }

    #[test]
    fn ids_are_read_as_text_from_strings_and_numbers() {
        let read = |json: &str| serde_json::from_str::<LooseId>(json).map(LooseId::into_string);
        assert_eq!(read(r#""cus 7""#).unwrap(), "cus 7");
        assert_eq!(read("1000").unwrap(), "1000");
        assert_eq!(read("-5").unwrap(), "-5");
        assert_eq!(read("1.5").unwrap(), "1.5");
        assert_eq!(read("18446744073709551615").unwrap(), "18446744073709551615");
        for bad in ["{}", "[1]", "true", "null"] {
            assert!(read(bad).unwrap_err().to_string().contains("expected a string or a number"), "{bad}");
        }
    }
}
