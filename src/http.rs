//! HTTP as plain values: what providers build and parse. No I/O here.
//! Also the input rules for anything that goes into a URL, so no caller value can change a path.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// Header values and bodies carry credentials (Authorization, x-refresh_token, a client secret):
/// the printed form shows only their names and sizes.
impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &names)
            .field("body_bytes", &self.body.as_ref().map(String::len))
            .finish()
    }
}

/// Header values and the body carry credentials (a bearer token, AlliancePay's refresh token, a
/// client secret): wiped when the request is dropped, so that freed wasm memory does not keep
/// them after `close()`. (The strings `fetch` was handed belong to the JS garbage collector.)
impl Drop for HttpRequest {
    fn drop(&mut self) {
        for (_, value) in &mut self.headers {
            zeroize::Zeroize::zeroize(value);
        }
        if let Some(body) = &mut self.body {
            zeroize::Zeroize::zeroize(body);
        }
    }
}

impl HttpRequest {
    pub fn new(method: Method, url: String) -> Self {
        HttpRequest { method, url, headers: Vec::new(), body: None }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(body.to_string());
        self.header("Content-Type", "application/json")
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn set_header(&mut self, name: &str, value: String) {
        for (_, replaced) in self.headers.iter_mut().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
            zeroize::Zeroize::zeroize(replaced);
        }
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value));
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// Only the headers the SDK reads: retry-after, date, request ids.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A reply's body may hold a credential (a sign-in's access token or session, a provider's error
/// echoing the secret it refused): wiped when dropped, up to a size that holds every such reply.
/// Listings of thousands of tokens are freed as they are, rather than cost a pass of their own.
impl Drop for HttpResponse {
    fn drop(&mut self) {
        if self.body.len() <= WIPED_BODY_BYTES {
            zeroize::Zeroize::zeroize(&mut self.body);
        }
    }
}

const WIPED_BODY_BYTES: usize = 16 << 10;

impl HttpResponse {
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        HttpResponse { status, headers: Vec::new(), body: body.into() }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The provider's clock at the reply (its `Date` header), else `local_ms`. Expiry and
    /// `Retry-After` dates are the provider's, and a dashboard's clock can be hours off; a
    /// `Date` more than a day away from the local clock is a broken clock somewhere on the way,
    /// and the local one is kept. (Browsers see `Date` only when the provider exposes it.)
    pub fn server_now(&self, local_ms: u64) -> u64 {
        const DAY_MS: u64 = 86_400_000;
        self.header("date")
            .and_then(crate::retry::http_date_ms)
            .filter(|server| server.abs_diff(local_ms) <= DAY_MS)
            .unwrap_or(local_ms)
    }

    /// A time on the provider's clock (epoch ms), placed on the local clock: as long after
    /// `local_now_ms` as it is after the reply's `Date`. (A credential's expiry read as is would,
    /// with a local clock an hour ahead, look expired on arrival and force a sign-in on every call.)
    pub fn local_time(&self, provider_ms: u64, local_now_ms: u64) -> u64 {
        local_now_ms.saturating_add(provider_ms.saturating_sub(self.server_now(local_now_ms)))
    }
}

/// Headers the transport copies from a reply; everything else is dropped at the boundary.
pub const READ_HEADERS: [&str; 4] = ["retry-after", "date", "request-id", "x-request-id"];

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub const MAX_ID_LEN: usize = 255;

/// A credential that travels in a header holds nothing `fetch` refuses there: a NUL or a line
/// break inside it, or a character past Latin-1 (a pasted `…`). The refusal comes before
/// sending and reads like a network failure, which would be retried and never fixed (and a
/// saved session never replaced, since no 401 ever comes). `fetch` trims the ends itself.
pub fn header_safe(value: &str) -> bool {
    let http_whitespace = [' ', '\t', '\r', '\n'];
    value.trim_matches(http_whitespace).chars().all(|c| !matches!(c, '\0' | '\r' | '\n') && u32::from(c) <= 0xFF)
}

/// An identifier supplied by a caller (customer id, token id, account id). One rule for every
/// provider, checked before any request: 1–255 printable ASCII characters, none of which can
/// steer a URL (`/ \ ? # %`), and no `..`. Returns the value trimmed of nothing: ids are exact.
pub fn validate_id<'a>(field: &str, value: &'a str) -> Result<&'a str> {
    if value.is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(Error::invalid_input(field, "must be at most 255 characters"));
    }
    if let Some(c) = value.chars().find(|c| !c.is_ascii() || c.is_ascii_control() || *c == ' ') {
        let what = if c.is_ascii_control() { "control characters" } else if c == ' ' { "spaces" } else { "non-ASCII characters" };
        return Err(Error::invalid_input(field, &format!("must not contain {what}")));
    }
    if let Some(c) = value.chars().find(|c| matches!(c, '/' | '\\' | '?' | '#' | '%')) {
        return Err(Error::invalid_input(field, &format!("must not contain '{c}'")));
    }
    if value.contains("..") {
        return Err(Error::invalid_input(field, "must not contain '..'"));
    }
    if value == "." {
        // fetch drops a "." segment, so the request would go to the parent path.
        return Err(Error::invalid_input(field, "must not be '.'"));
    }
    Ok(value)
}

/// A reply body as `Response.text()` would read it: a leading BOM dropped, U+FFFD for bad bytes.
/// Valid UTF-8 (nearly every reply) becomes the `String` without a copy.
pub fn body_text(mut bytes: Vec<u8>) -> String {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// An id that travels inside a JSON body or an encoded query value, never as a path segment
/// (AlliancePay's `string(255)` fields): any text, so spaces, `/` and non-ASCII customer ids are
/// fine; only empty, over-long and control characters are refused. Length counts UTF-16 units,
/// as the banks' Java `String.length()` does: an emoji is two.
pub fn validate_body_id<'a>(field: &str, value: &'a str) -> Result<&'a str> {
    if value.is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    if value.encode_utf16().count() > MAX_ID_LEN {
        return Err(Error::invalid_input(field, "must be at most 255 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_input(field, "must not contain control characters"));
    }
    Ok(value)
}

/// A validated id, percent-encoded for use as one path segment.
pub fn path_segment(field: &str, value: &str) -> Result<String> {
    Ok(utf8_percent_encode(validate_id(field, value)?, SEGMENT).to_string())
}

/// A query value, percent-encoded (any text is safe here once encoded).
pub fn query_value(value: &str) -> String {
    utf8_percent_encode(value, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn bodies_read_as_response_text_would() {
        assert_eq!(body_text(b"\xEF\xBB\xBF{\"a\":1}".to_vec()), "{\"a\":1}");
        assert_eq!(body_text(b"{\"a\":\"\xFF\"}".to_vec()), "{\"a\":\"\u{FFFD}\"}");
        assert_eq!(body_text("ї\u{FEFF}".as_bytes().to_vec()), "ї\u{FEFF}");
        assert_eq!(body_text(Vec::new()), "");
    }

    #[test]
    fn ids_that_could_steer_a_path_are_rejected() {
        for bad in ["", ".", "a/b", "..", "a..b", "x?y=1", "x#f", "a\\b", "%2F", "tab\there", "é", "a b", &"x".repeat(256)] {
            let err = path_segment("customerId", bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput, "{bad:?}");
            assert!(err.message.starts_with("customerId: "), "{}", err.message);
        }
    }

    #[test]
    fn debug_output_shows_no_header_values_or_body() {
        let req = HttpRequest::new(Method::Post, "https://x.test/a".into()).header("Authorization", "Bearer canary-9").json(&serde_json::json!({"client_secret": "canary-9"}));
        let printed = format!("{req:?}");
        assert!(!printed.contains("canary-9") && printed.contains("Authorization"), "{printed}");
    }

    #[test]
    fn ordinary_ids_are_encoded_as_one_segment() {
        assert_eq!(path_segment("customerId", "cust-v1-0811030624-aa-RBDgpR").unwrap(), "cust-v1-0811030624-aa-RBDgpR");
        assert_eq!(path_segment("tokenId", "a+b@c:d").unwrap(), "a%2Bb%40c%3Ad");
        assert_eq!(path_segment("tokenId", "-s9UCfCNN0YMk4ZOyZX8pWAt").unwrap(), "-s9UCfCNN0YMk4ZOyZX8pWAt");
    }
}
