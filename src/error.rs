//! The one error every failure becomes. Its JS form is `PayTokensError` (see pkg/api.js).
//! Messages are built from provider words and field names only, never from credentials.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;
use std::fmt;
use tsify::Tsify;

use crate::model::Provider;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidInput,
    InvalidTransition,
    Unsupported,
    Authentication,
    CredentialsRevoked,
    Permission,
    NotFound,
    RateLimited,
    ProviderError,
    Network,
    Timeout,
    Decode,
    /// The caller's `AbortSignal` stopped the call.
    Aborted,
    /// The core itself failed during the call (never expected: an exception from the host inside
    /// it, or a bug). pkg/api.js raises it and starts a fresh core; later calls work.
    Internal,
}

/// What a failed write left at the provider: the field a caller branches on to know whether it
/// may repeat the write (`NOT_APPLIED`), must read first (`UNKNOWN`), or has its change made and
/// only the read-back failed (`APPLIED`, with `tokenId`). Set by the core where it knows better
/// than "not applied"; pkg/api.js gives every other failure of a write `NOT_APPLIED`, and reads none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WriteOutcome {
    Applied,
    NotApplied,
    Unknown,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "INVALID_INPUT",
            ErrorCode::InvalidTransition => "INVALID_TRANSITION",
            ErrorCode::Unsupported => "UNSUPPORTED",
            ErrorCode::Authentication => "AUTHENTICATION",
            ErrorCode::CredentialsRevoked => "CREDENTIALS_REVOKED",
            ErrorCode::Permission => "PERMISSION",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::ProviderError => "PROVIDER_ERROR",
            ErrorCode::Network => "NETWORK",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Decode => "DECODE",
            ErrorCode::Aborted => "ABORTED",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<Provider>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub retryable: bool,
    /// The provider said the session or access token is stale: open a new one and try once more.
    #[serde(skip)]
    pub(crate) renew_auth: bool,
    /// The reply proves a state change was not applied (429, overload, refused connection),
    /// so even a write may be repeated.
    #[serde(skip)]
    pub(crate) not_applied: bool,
    /// A write's outcome is unknown after this error, though it is not one that is retried: the
    /// provider reported a failure of its own (408 or 5xx, in the HTTP status or, as ChargeOver
    /// does, in an envelope inside a 200), an error inside a 2xx that no rule knows, or the reply
    /// was a redirect, which a server may send after acting on the request (a 303) and which a
    /// browser hides.
    #[serde(skip)]
    pub(crate) outcome_unknown: bool,
    /// An earlier attempt of this write was answered AlliancePay's `b_overload_error`, which the
    /// bank may send after making the change: whatever the last attempt says, the change may
    /// have been made (`Client::change_status` reads the token to tell).
    #[serde(skip)]
    pub(crate) overloaded_before: bool,
    /// A sign-in reply the merchant key could not unwrap: sealed to another key, or damaged on
    /// the way (the two fail alike), which one more sign-in tells apart.
    #[serde(skip)]
    pub(crate) sealed_to_another_key: bool,
    /// The deadline (of the budget it ran on) that ended it, not the provider: a call that
    /// joined a sign-in started by a call with an earlier deadline still has time to sign in.
    #[serde(skip)]
    pub(crate) out_of_budget: Option<u64>,
    /// How long the provider asked the caller to wait (its `Retry-After`), when the SDK did not
    /// wait itself (too long, past `deadlineMs`, or no retries left).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// The token a write made or changed, when only the read-back after it failed or was
    /// aborted: the write is done, and this is the id to read, rather than a reason to repeat it.
    /// (A `Box<str>`: the error is returned by value everywhere, and this keeps it small.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_id: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_outcome: Option<WriteOutcome>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            provider: None,
            http_status: None,
            provider_code: None,
            request_id: None,
            retryable: matches!(code, ErrorCode::RateLimited | ErrorCode::Network | ErrorCode::Timeout),
            renew_auth: false,
            not_applied: code == ErrorCode::RateLimited,
            outcome_unknown: false,
            overloaded_before: false,
            sealed_to_another_key: false,
            out_of_budget: None,
            retry_after_ms: None,
            token_id: None,
            write_outcome: None,
        }
    }

    pub fn invalid_input(field: &str, why: &str) -> Self {
        Error::new(ErrorCode::InvalidInput, format!("{field}: {why}"))
    }

    pub fn unsupported(provider: Provider, operation: &str) -> Self {
        Error::new(ErrorCode::Unsupported, format!("{} has no {operation} operation", provider.as_str()))
            .with_provider(provider)
    }

    pub fn decode(provider: Provider, what: impl fmt::Display) -> Self {
        Error::new(ErrorCode::Decode, format!("could not read the {} reply: {what}", provider.as_str()))
            .with_provider(provider)
    }

    /// A reply that is not the JSON expected. serde's own message quotes the offending value,
    /// which may be a card number or a token: keep only what kind of fault, where (the field's
    /// path in `body`, the reply, and the line and column), and what was expected.
    pub fn decode_json(provider: Provider, e: &serde_json::Error, body: &str) -> Self {
        use serde_json::error::Category;
        let kind = match e.classify() {
            Category::Io => "unreadable body",
            Category::Syntax => "not valid JSON",
            Category::Data => "unexpected content",
            Category::Eof => "cut off",
        };
        let text = e.to_string();
        let field = |prefix: &str| text.strip_prefix(prefix).map(|rest| rest.split(" at line").next().unwrap_or(rest));
        let detail = if let Some(field) = field("missing field ") {
            format!(": missing field {field}")
        } else if let Some(field) = field("duplicate field ") {
            // JSON.parse would keep the last; which one the provider meant is not known.
            format!(": field {field} sent twice")
        } else if let Some(expected) = serde_expected(&text) {
            format!(": expected {expected}")
        } else {
            String::new()
        };
        // The reply's text up to where the reader stopped gives the path: the line's start (a
        // reply may be pretty-printed) plus the column, both in bytes. Its keys are the
        // provider's text: a card number among them is masked.
        let line_start = if e.line() <= 1 { 0 } else { body.match_indices('\n').nth(e.line() - 2).map_or(body.len(), |(i, _)| i + 1) };
        // A missing or repeated field is about its object.
        let of_object = text.starts_with("missing field") || text.starts_with("duplicate field");
        let path = crate::json_path::path_at(body, line_start + e.column(), of_object);
        let at = if path.is_empty() { String::new() } else { format!(" at {}", crate::card::scrub_pans(&path)) };
        Error::decode(provider, format!("{kind}{detail}{at} (line {}, column {})", e.line(), e.column()))
    }

    pub fn with_provider(mut self, provider: Provider) -> Self {
        self.provider = Some(provider);
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    pub fn with_provider_code(mut self, code: Option<String>) -> Self {
        self.provider_code = code.filter(|c| !c.is_empty());
        self
    }

    pub fn with_request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id.filter(|c| !c.is_empty());
        self
    }

    /// Each secret of 4 characters or more replaced in every text the error carries, in every
    /// form a provider may echo it in (`written_forms`), and without the whitespace around it (a
    /// secret read from a file keeps its newline, which an error template trims). (A shorter one
    /// would garble the text, and hides next to nothing.)
    pub fn redact(mut self, secrets: &[&str]) -> Self {
        let mut plain: Vec<&str> = secrets.iter().flat_map(|s| [*s, s.trim()]).filter(|s| s.chars().count() >= 4).collect();
        plain.dedup(); // a secret with nothing around it, once
        let forms = zeroize::Zeroizing::new(plain.iter().copied().flat_map(written_forms).collect::<Vec<String>>());
        let hide = |text: &mut String| {
            for form in forms.iter().filter(|f| f.chars().count() >= 4) {
                if let Some(redacted) = without_secret(text, form) {
                    *text = redacted;
                }
            }
            // Inside a JSON string, any character may be escaped (`\u005f`, `\/`, `\"`).
            if text.contains('\\') {
                for secret in &plain {
                    if let Some(redacted) = replaced_at(text, &json_units(text), secret) {
                        *text = redacted;
                    }
                }
            }
        };
        hide(&mut self.message);
        self.provider_code.iter_mut().chain(self.request_id.iter_mut()).for_each(hide);
        self
    }

    pub fn retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

/// What a serde message says was expected, without the value serde quotes before it (it may be a
/// secret in the wrong field; the last ", expected " is serde's own) or the position after it.
pub(crate) fn serde_expected(message: &str) -> Option<&str> {
    let message = message.rsplit_once(" at line ").map_or(message, |(m, _)| m);
    message.rsplit_once(", expected ").map(|(_, expected)| expected)
}

/// A secret as written, then as a provider's error text may echo the request it refused: URL- or
/// form-encoded (once, or twice by a gateway that encodes what it forwards), HTML-escaped (by name
/// or number), and without Base64's `=` padding. (Inside a JSON string, with any escapes, it is
/// found by `json_units`.) The plain form comes first, so a shorter form never splits a match of
/// the whole. Letters match in either case (`without_secret`), so hex digits need one form.
fn written_forms(secret: &str) -> Vec<String> {
    const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
    let url = utf8_percent_encode(secret, UNRESERVED).to_string();
    let html = secret.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let numeric_html: String = secret
        .chars()
        .map(|c| if c.is_ascii_punctuation() { format!("&#{};", u32::from(c)) } else { c.to_string() })
        .collect();
    let mut forms = vec![secret.to_string()];
    for form in [
        url.replace("%20", "+"),
        url.replace('%', "%25"),
        url,
        numeric_html,
        html.replace('\'', "&#39;"),
        html.replace('\'', "&#039;"),
        html.replace('\'', "&#x27;"),
        secret.trim_end_matches('=').to_string(),
    ] {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// `text` with `secret` replaced, or `None` where it does not appear. The provider's text has had
/// its card numbers masked, so any digit of the secret may stand there as `*`: masked on its own,
/// or as part of a longer run when its digits join the text's own (`key 01 4821-****-…`), whose
/// masked stretch is not the secret's. At least four of its characters must be there as written:
/// a stretch of stars, or a digit and stars, is a masked card number as often as a secret.
fn without_secret(text: &str, secret: &str) -> Option<String> {
    if !text.contains('*') {
        return replaced_ignoring_case(text, secret);
    }
    replaced_at(text, &text.char_indices().collect::<Vec<_>>(), secret)
}

/// `without_secret` over `at`, the text's characters each with the byte where it starts (one
/// may be written with several bytes: `json_units`).
fn replaced_at(text: &str, at: &[(usize, char)], secret: &str) -> Option<String> {
    let want: Vec<char> = secret.chars().collect();
    let stands_at = |i: usize| {
        let mut literal = 0;
        for (k, &w) in want.iter().enumerate() {
            match at.get(i + k) {
                Some(&(_, c)) if c.eq_ignore_ascii_case(&w) => literal += 1,
                Some(&(_, '*')) if w.is_numeric() => {}
                _ => return false,
            }
        }
        literal >= 4
    };
    // Every window where it stands, overlapping ones joined: a match that starts on the text's
    // own stars must not leave the secret's tail after it.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for i in (0..at.len()).filter(|&i| i + want.len() <= at.len() && stands_at(i)) {
        match spans.last_mut() {
            Some(last) if i <= last.1 => last.1 = i + want.len(),
            _ => spans.push((i, i + want.len())),
        }
    }
    let byte = |i: usize| at.get(i).map_or(text.len(), |c| c.0);
    let (mut out, mut copied) = (String::new(), 0);
    for &(start, end) in &spans {
        out.push_str(text.get(copied..byte(start)).unwrap_or_default());
        out.push_str(crate::secret::REDACTED);
        copied = byte(end);
    }
    (!spans.is_empty()).then(|| out + text.get(copied..).unwrap_or_default())
}

/// The characters of `text` read as the inside of a JSON string, each with the byte where it
/// starts: `\\uXXXX` (two for a character past U+FFFF) and the short escapes stand for the
/// character they write; anything else, a broken escape too, is itself.
fn json_units(text: &str) -> Vec<(usize, char)> {
    let escaped_unit = |at: usize| {
        let hex = text.get(at..at + 6)?.strip_prefix("\\u")?;
        if hex.bytes().all(|b| b.is_ascii_hexdigit()) { u32::from_str_radix(hex, 16).ok() } else { None }
    };
    let escaped = |at: usize| -> Option<(char, usize)> {
        match escaped_unit(at)? {
            high @ 0xD800..=0xDBFF => {
                let low = escaped_unit(at + 6).filter(|low| (0xDC00..=0xDFFF).contains(low))?;
                Some((char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?, 12))
            }
            unit => Some((char::from_u32(unit)?, 6)),
        }
    };
    let short = |b: u8| match b {
        b'"' | b'\\' | b'/' => Some(char::from(b)),
        b'b' => Some('\u{8}'),
        b'f' => Some('\u{c}'),
        b'n' => Some('\n'),
        b'r' => Some('\r'),
        b't' => Some('\t'),
        _ => None,
    };
    let mut units = Vec::new();
    let mut i = 0;
    while let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) {
        let read = match (c, text.as_bytes().get(i + 1)) {
            ('\\', Some(b'u')) => escaped(i),
            ('\\', Some(&b)) => short(b).map(|unit| (unit, 2)),
            _ => None,
        };
        let (unit, len) = read.unwrap_or((c, c.len_utf8()));
        units.push((i, unit));
        i += len;
    }
    units
}

/// `text` with every stretch that is `secret` in either case replaced. Byte by byte: an ASCII
/// letter folds only with an ASCII letter, and the other bytes must be equal, so a match starts
/// and ends on a character's boundary.
fn replaced_ignoring_case(text: &str, secret: &str) -> Option<String> {
    let (hay, needle) = (text.as_bytes(), secret.as_bytes());
    let (mut out, mut copied, mut at) = (String::new(), 0, 0);
    while at + needle.len() <= hay.len() && !needle.is_empty() {
        if hay.get(at..at + needle.len()).is_some_and(|w| w.eq_ignore_ascii_case(needle)) {
            out.push_str(text.get(copied..at).unwrap_or_default());
            out.push_str(crate::secret::REDACTED);
            at += needle.len();
            copied = at;
        } else {
            at += 1;
        }
    }
    (copied > 0).then(|| out + text.get(copied..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacting_reaches_every_text_and_spares_short_secrets() {
        let err = Error::new(ErrorCode::Authentication, "key abcd and abc refused")
            .with_provider_code(Some("E-abcd".into()))
            .with_request_id(Some("rq-abcd".into()))
            .redact(&["abcd", "abc", ""]);
        assert_eq!(err.message, "key [redacted] and abc refused");
        assert_eq!((err.provider_code.as_deref(), err.request_id.as_deref()), (Some("E-[redacted]"), Some("rq-[redacted]")));
        // A secret with a card-number-like run, in text whose card numbers were masked first.
        let secret = "2024-0517-8842-1234abc";
        let err = Error::new(ErrorCode::Authentication, crate::card::scrub_pans(&format!("invalid client_secret {secret}"))).redact(&[secret]);
        assert_eq!(err.message, "invalid client_secret [redacted]");
        // ...whose digits join the text's own, so the masked stretch is not the secret's alone.
        for (secret, said, left) in [
            ("k9-1234567890123456", "private key k9-1234567890123456 / 401 is not valid", "private key [redacted] / 401 is not valid"),
            ("4821-7731-0092-5519-xq", "key 01 4821-7731-0092-5519-xq refused", "key 01 [redacted] refused"),
            ("4111111111111111", "keys 4111111111111111 and 4111111111111111 refused", "keys [redacted] and [redacted] refused"),
        ] {
            let masked = crate::card::scrub_pans(said);
            assert_ne!(masked, said);
            assert_eq!(Error::new(ErrorCode::Authentication, masked).redact(&[secret]).message, left, "{said}");
        }
        // Stars alone are not the secret, and other text is left as it was.
        let err = Error::new(ErrorCode::Authentication, "card 411111******1111 declined").redact(&["123456"]);
        assert_eq!(err.message, "card 411111******1111 declined");
        // A match that starts on the text's own stars does not leave the secret's tail.
        let err = Error::new(ErrorCode::Authentication, "****11111111 refused").redact(&["11111111"]);
        assert_eq!(err.message, "[redacted] refused");
        let err = Error::new(ErrorCode::Authentication, "ключ abcd, ключ").redact(&["abcd"]);
        assert_eq!(err.message, "ключ [redacted], ключ");
    }

    #[test]
    fn a_secret_echoed_encoded_or_escaped_is_redacted_too() {
        let redacted = |secret: &str, said: &str| Error::new(ErrorCode::Authentication, said).redact(&[secret]).message;
        for (secret, said) in [
            ("plSecret_Ab+/cd==xyz9", "client_secret=plSecret_Ab%2B%2Fcd%3D%3Dxyz9 refused"),
            ("plSecret_Ab+/cd==xyz9", "client_secret=plSecret_Ab%2b%2fcd%3d%3dxyz9 refused"),
            ("plSecret_Ab+/cd==xyz9", "bad client_secret plSecret_Ab+\\/cd==xyz9 refused"),
            ("sk\"Ré\\9xQ", r#"{"client_secret":"sk\"Ré\\9xQ"} refused"#),
            ("sk\"Ré\\9xQ", r#"{"client_secret":"sk\"R\u00e9\\9xQ"} refused"#),
            ("cHVia2V5MDE6UHJpdjhrZXk+Pj8=", "[Basic%20cHVia2V5MDE6UHJpdjhrZXk%2BPj8%3D] refused"),
            ("cHVia2V5MDE6UHJpdjhrZXk+Pj8=", "[Basic cHVia2V5MDE6UHJpdjhrZXk+Pj8] refused"),
            ("Priv8key>>?", "password Priv8key&gt;&gt;? refused"),
            ("Priv8key>>?", "password=Priv8key%3E%3E%3F refused"),
            ("my secret key", "secret=my+secret+key refused"),
            ("it's-a-key", "key it&#39;s-a-key refused"),
            // Another case, a trailing newline trimmed, .NET's and PHP's hex escapes, numeric
            // entities, and a gateway that encoded the encoded form again.
            ("0f8c2a4e-9b1d-4e7a-8c3f-2d5b6a7e9f10", "Terminal 0F8C2A4E-9B1D-4E7A-8C3F-2D5B6A7E9F10 not found, refused"),
            ("plSecret_Ab9cdXyz9Q\n", "invalid client_secret plSecret_Ab9cdXyz9Q refused"),
            ("Priv8+key<&>'\"", r#"{"password":"Priv8\u002Bkey\u003C\u0026\u003E\u0027\u0022"} refused"#),
            ("Priv8+key<&>", "password Priv8&#43;key&#60;&#38;&#62; refused"),
            // Any character escaped, as no form foresees: `_` and a letter, a pair for U+1F511.
            ("plSecret_Ab9cdXyz9Q", r#"{"client_secret":"plSecret\u005fAb9cd\u0058yz9Q"} refused"#),
            ("key🔑Ab9cdXyz", r#"{"key":"key\ud83d\udd11Ab9cdXyz"} refused"#),
            ("Priv8+key/x", "password=Priv8%252Bkey%252Fx refused"),
            ("sk\"Ré\\9xQ", r#"{"client_secret":"sk\"R\u00E9\\9xQ"} refused"#),
        ] {
            let left = redacted(secret, said);
            assert!(left.contains("[redacted]") && left.ends_with(" refused"), "{said} -> {left}");
        }
        // Only the escaped stretch goes: the text around it stays.
        assert_eq!(redacted("Priv8key>>?", "password=Priv8key%3E%3E%3F&user=x"), "password=[redacted]&user=x");
        assert_eq!(redacted("plSecret_Ab9cd", r#"{"id":"\u0041","client_secret":"plSecret\u005fAb9cd","x":"\ud83d"} refused"#), r#"{"id":"\u0041","client_secret":"[redacted]","x":"\ud83d"} refused"#);
    }
}
