//! Provider modules: each turns an operation into an `HttpRequest` and a reply into the model.
//! Pure: no I/O, no clock, no randomness (callers pass `now` and random values in).

pub mod alliancepay;
pub mod chargeover;
pub mod payerly;
pub mod pinelabs;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::model::Provider;
use crate::taxonomy;

/// A success body as the provider's wire type; anything unreadable is DECODE.
pub(crate) fn decode<T: DeserializeOwned>(provider: Provider, resp: &HttpResponse) -> Result<T> {
    serde_json::from_str(&resp.body).map_err(|e| Error::decode_json(provider, &e).with_status(resp.status))
}

/// What a provider's error envelope says, once read.
#[derive(Default)]
pub(crate) struct Envelope {
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
}

/// The error for a failure reply. A body that is not the provider's JSON envelope (an HTML 502
/// page from a proxy, say) still gives a typed error with the HTTP status.
pub(crate) fn reply_error(provider: Provider, resp: &HttpResponse, read: impl Fn(&serde_json::Value) -> Option<Envelope>) -> Error {
    let envelope = serde_json::from_str::<serde_json::Value>(&resp.body).ok().and_then(|v| read(&v));
    let request_id = resp.header("request-id").or(resp.header("x-request-id")).map(str::to_string);
    let (code, message, body_request_id) = match envelope {
        Some(e) => (e.code, e.message, e.request_id),
        None => (None, None, None),
    };
    let message = message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| format!("{} replied HTTP {} without an error description", provider.as_str(), resp.status));
    taxonomy::classify(provider, resp.status, code.as_deref(), &message).with_request_id(body_request_id.or(request_id))
}

pub(crate) fn string_field(v: &serde_json::Value, key: &str) -> Option<String> {
    match v.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Ids arrive as strings or numbers depending on the provider; the model always has strings.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(untagged)]
pub(crate) enum LooseId {
    Text(String),
    Number(serde_json::Number),
}

impl LooseId {
    pub fn into_string(self) -> String {
        match self {
            LooseId::Text(s) => s,
            LooseId::Number(n) => n.to_string(),
        }
    }
}
