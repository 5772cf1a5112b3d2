//! The one token model every provider's reply becomes, and the inputs of each operation.
//! tsify turns these into the package's TypeScript types; field names are the public contract.

use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use tsify::Tsify;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Alliancepay,
    Chargeover,
    Pinelabs,
    Payerly,
}

impl Provider {
    /// The provider a config's `provider` names.
    pub fn from_name(name: &str) -> Option<Provider> {
        [Provider::Alliancepay, Provider::Chargeover, Provider::Pinelabs, Provider::Payerly].into_iter().find(|p| p.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Alliancepay => "alliancepay",
            Provider::Chargeover => "chargeover",
            Provider::Pinelabs => "pinelabs",
            Provider::Payerly => "payerly",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "UPPERCASE")]
pub enum TokenStatus {
    Active,
    Suspended,
    Deleted,
    Pending,
    Failed,
    Expired,
    Unknown,
}

impl TokenStatus {
    pub const ALL: [TokenStatus; 7] = [
        TokenStatus::Active,
        TokenStatus::Suspended,
        TokenStatus::Deleted,
        TokenStatus::Pending,
        TokenStatus::Failed,
        TokenStatus::Expired,
        TokenStatus::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "ACTIVE",
            TokenStatus::Suspended => "SUSPENDED",
            TokenStatus::Deleted => "DELETED",
            TokenStatus::Pending => "PENDING",
            TokenStatus::Failed => "FAILED",
            TokenStatus::Expired => "EXPIRED",
            TokenStatus::Unknown => "UNKNOWN",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Tsify)]
#[serde(rename_all = "UPPERCASE")]
pub enum PaymentMethod {
    Card,
    Ach,
    Upi,
    Points,
    Unknown,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    /// Never a full PAN: at most the first 6 and last 4 digits are visible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked_pan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
    /// "Visa", "Mastercard", "American Express", … or "Unknown". One of the SDK's own words, so
    /// borrowed rather than allocated for every token of a list.
    #[tsify(type = "string")]
    pub brand: std::borrow::Cow<'static, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_month: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_year: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
    /// ISO 3166-1 alpha-2 ("US"), whichever form the provider sent; kept as sent when it is
    /// neither an alpha-2 nor a known alpha-3 code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_country: Option<String>,
    /// CREDIT or DEBIT, as the provider says it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub funding: Option<String>,
    /// Whether a charge with this token must collect the CVV again (Pine Labs says per token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvv_required: Option<bool>,
    /// Issued outside the merchant's country (Pine Labs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub international: Option<bool>,
}

/// What the customer must do before a token can be charged, e.g. `{ action: "redirect",
/// value: "https://…" }` for an extra verification page.
#[derive(Clone, Debug, PartialEq, Serialize, Tsify)]
pub struct RequiredAction {
    /// The provider's word for the step, e.g. "redirect".
    pub action: String,
    /// What the step needs, e.g. the URL to send the customer to. A redirect's is always an
    /// `http:` or `https:` URL: another (`javascript:`, `data:`) is dropped, so that a page that
    /// links or redirects to it runs nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub provider: Provider,
    /// The provider's token id, always a string.
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    pub status: TokenStatus,
    /// The provider's own status word, as sent (card numbers masked). A documented word is one of
    /// the SDK's own, so borrowed rather than allocated for every token of a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(type = "string")]
    pub provider_status: Option<std::borrow::Cow<'static, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    pub payment_method: PaymentMethod,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<Card>,
    /// ISO-8601 UTC, millisecond precision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// A display name for the stored method, e.g. "Visa x4111".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
    /// The merchant's own reference for the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Which payment gateway the token belongs to, and that gateway's token value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compliant: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(type = "Record<string, string>")]
    pub metadata: Option<Metadata>,
    /// A step the customer must complete before this token can be charged (Payerly's
    /// `additionalAction`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_action: Option<RequiredAction>,
    /// The provider's reply for this token, only when the caller asked for it (`includeRaw`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[tsify(type = "unknown")]
    pub raw: Option<serde_json::Value>,
}

/// A token's metadata: text by key, each key once, in the order the provider sent them (as
/// `JSON.parse` of the reply would set them; a JS object still lists index-like keys first).
///
/// A list rather than a map: Pine Labs sends nine entries with every token of a list, and building,
/// reading and dropping a `BTreeMap` per token was about a tenth of the time from a 1,000-token
/// reply to tokens, and keeping the list sorted cost about 3% more than the reply's order. Keys
/// are shared from token to token of a reply (`Metadata::key`), as a list's tokens all carry the
/// same ones; that makes `Metadata`, and `Token`, neither `Send` nor `Sync` (wasm has one thread).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata(Vec<(Rc<str>, String)>);

/// The keys read at each place of the last token's metadata, while `Metadata::sharing_keys` runs.
/// Bounded: only the first places are kept.
const SHARED_KEYS: usize = 32;

thread_local! {
    static LAST_KEYS: RefCell<Vec<Rc<str>>> = const { RefCell::new(Vec::new()) };
}

/// Forgets the shared keys when a reply has been read (or its reading unwinds).
struct ForgetKeys;

impl Drop for ForgetKeys {
    fn drop(&mut self) {
        LAST_KEYS.with(|last| last.borrow_mut().clear());
    }
}

impl Metadata {
    /// Reads one reply with its tokens' metadata keys shared from token to token (`key`), and
    /// forgets them after, so nothing of a reply stays in memory once it is read.
    pub(crate) fn sharing_keys<T>(read: impl FnOnce() -> T) -> T {
        let _forget = ForgetKeys;
        read()
    }

    /// The key read at `place` in a token's metadata, card numbers masked (a merchant may key
    /// metadata by card number). When it is the key read at the same place of the last metadata,
    /// that key is shared instead of copied: a 1,000-token Pine Labs list would otherwise make,
    /// mask and free 9,000 copies of the same nine keys (about 4% of its time). Only unmasked keys
    /// are shared, so a shared key is always exactly the text read.
    pub(crate) fn key(place: usize, read: &str) -> Rc<str> {
        LAST_KEYS.with(|last| {
            let mut last = last.borrow_mut();
            if let Some(key) = last.get(place).filter(|key| ***key == *read) {
                return key.clone();
            }
            let masked = crate::card::scrub_pans_borrowed(read);
            let key: Rc<str> = Rc::from(masked.as_ref());
            // A masked key holds its place with "", which is what an empty key is kept as, so
            // that the places after it are still shared.
            let kept = if matches!(masked, std::borrow::Cow::Borrowed(_)) { key.clone() } else { Rc::from("") };
            if place < last.len() {
                last[place] = kept;
            } else if place == last.len() && place < SHARED_KEYS {
                last.push(kept);
            }
            key
        })
    }

    /// A key that comes again is kept under a counted key (`card::distinct_keys`) instead of
    /// replacing the first, so nothing is lost.
    pub fn from_entries(entries: Vec<(Rc<str>, String)>) -> Metadata {
        // Keys of different lengths differ at once, so comparing each pair is cheapest for the
        // handful of entries metadata has; past that, the sets of `distinct_keys` bound the work.
        if entries.len() <= 16 && !has_repeated_key(&entries) {
            return Metadata(entries);
        }
        let renamed = crate::card::distinct_keys(&entries.iter().map(|(k, _)| &**k).collect::<Vec<_>>());
        Metadata(entries.into_iter().zip(renamed).map(|((key, value), new)| (new.map_or(key, Rc::from), value)).collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, value)| value)
    }

    /// Entries in the order the provider sent them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(key, value)| (&**key, value.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn has_repeated_key(entries: &[(Rc<str>, String)]) -> bool {
    entries.iter().enumerate().any(|(i, (key, _))| entries.iter().take(i).any(|(earlier, _)| earlier == key))
}

impl FromIterator<(String, String)> for Metadata {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(entries: I) -> Self {
        Metadata::from_entries(entries.into_iter().map(|(key, value)| (Rc::from(key), value)).collect())
    }
}

impl Serialize for Metadata {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl Token {
    pub fn new(provider: Provider, id: String) -> Self {
        Token {
            provider,
            id,
            customer_id: None,
            status: TokenStatus::Unknown,
            provider_status: None,
            status_reason: None,
            payment_method: PaymentMethod::Unknown,
            card: None,
            created_at: None,
            updated_at: None,
            expires_at: None,
            label: None,
            merchant_id: None,
            reference: None,
            gateway: None,
            gateway_token: None,
            compliant: None,
            metadata: None,
            required_action: None,
            raw: None,
        }
    }
}

/// One page of a listing; `next` is an opaque cursor for the following page.
#[derive(Clone, Debug, PartialEq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct TokenPage {
    pub tokens: Vec<Token>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Which operations a provider has; the others give UNSUPPORTED without a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    pub list_tokens: bool,
    pub get_token: bool,
    pub update_token_status: bool,
    pub delete_token: bool,
    pub create_token: bool,
    pub query_tokens: bool,
    pub pagination: bool,
}

#[derive(Clone, Debug, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListTokensInput {
    pub customer_id: String,
}

/// A `customerId` that scopes a call. `null` is refused rather than read as "not given": a
/// caller's `row.customerId` that came back null would otherwise drop the scoping, and act on the
/// token whoever's customer it is.
fn scoping<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(id) => Ok(Some(id)),
        // In serde's words, which the input's error mapping reads: "expected the customer's id (…)".
        None => Err(serde::de::Error::invalid_type(serde::de::Unexpected::Unit, &"the customer's id, not null (leave customerId out to act on the token whoever's customer it is)")),
    }
}

#[derive(Clone, Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetTokenInput {
    pub token_id: String,
    /// Pine Labs needs it. Given to any provider, it scopes the call: a token the provider has
    /// under another customer is INVALID_INPUT (unchecked only where a reply names no customer;
    /// Pine Labs, which looks the token up under this customer, answers NOT_FOUND).
    #[serde(default, deserialize_with = "scoping")]
    #[tsify(optional)]
    pub customer_id: Option<String>,
    /// Payerly lookup narrowers (the other providers refuse them).
    #[serde(default)]
    #[tsify(optional)]
    pub account_id: Option<String>,
    #[serde(default)]
    #[tsify(optional)]
    pub phone: Option<String>,
    #[serde(default)]
    #[tsify(optional)]
    pub email: Option<String>,
    /// Payerly: keep its reply (customer PII included) in `raw` (the other providers refuse `true`).
    #[serde(default)]
    #[tsify(optional)]
    pub include_raw: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTokenStatusInput {
    pub token_id: String,
    /// What a token can be set to (AlliancePay, the one provider with status changes).
    #[tsify(type = "\"ACTIVE\" | \"SUSPENDED\" | \"DELETED\"")]
    pub status: TokenStatus,
    /// Scopes the change as it scopes a delete: a token the provider has under another customer,
    /// or whose reply names no customer, is INVALID_INPUT and stays as it is.
    #[serde(default, deserialize_with = "scoping")]
    #[tsify(optional)]
    pub customer_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeleteTokenInput {
    pub token_id: String,
    /// Pine Labs needs it. Given to any provider, it scopes the delete: a token the provider has
    /// under another customer, or whose reply names no customer, is INVALID_INPUT and stays
    /// (ChargeOver then reads the token first; Pine Labs, which looks the token up under this
    /// customer, answers NOT_FOUND).
    #[serde(default, deserialize_with = "scoping")]
    #[tsify(optional)]
    pub customer_id: Option<String>,
}

/// Stores a token that already exists at a payment gateway (ChargeOver); never card numbers.
#[derive(Clone, Debug, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTokenInput {
    pub customer_id: String,
    /// The gateway's token value, e.g. `cus_5tSkoQ6mDrXOMQ`.
    pub token: String,
    #[serde(default)]
    #[tsify(optional)]
    pub label: Option<String>,
    /// ChargeOver stores cards and ACH accounts.
    #[serde(default)]
    #[tsify(optional, type = "\"CARD\" | \"ACH\"")]
    pub payment_method: Option<PaymentMethod>,
    /// Visa, Mastercard, Discover or American Express (network words such as "VISA" or "mast"
    /// are read too); ChargeOver stores no other brand.
    #[serde(default)]
    #[tsify(optional)]
    pub brand: Option<String>,
    #[serde(default)]
    #[tsify(optional)]
    pub expiry_month: Option<u8>,
    #[serde(default)]
    #[tsify(optional)]
    pub expiry_year: Option<u16>,
    #[serde(default)]
    #[tsify(optional)]
    pub gateway: Option<String>,
}

/// A ChargeOver `where` clause field (the documented token query fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Tsify)]
#[serde(rename_all = "snake_case")]
pub enum QueryField {
    CustomerId,
    CustomerExternalKey,
    CustomerToken,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Tsify)]
pub enum QueryOperator {
    #[serde(rename = "EQUALS")]
    Equals,
    #[serde(rename = "NOTEQUALS")]
    NotEquals,
    #[serde(rename = "GT")]
    Gt,
    #[serde(rename = "LT")]
    Lt,
    #[serde(rename = "GTE")]
    Gte,
    #[serde(rename = "LTE")]
    Lte,
    #[serde(rename = "CONTAINS")]
    Contains,
    #[serde(rename = "IS:NULL")]
    IsNull,
    #[serde(rename = "ISNOT:NULL")]
    IsNotNull,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Tsify)]
#[serde(deny_unknown_fields)]
pub struct QueryCondition {
    pub field: QueryField,
    pub op: QueryOperator,
    /// Required except for IS:NULL and ISNOT:NULL. Integers are sent as their decimal text (other numbers are INVALID_INPUT).
    #[serde(default)]
    #[tsify(optional, type = "string | number")]
    pub value: Option<serde_json::Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Tsify)]
#[serde(rename_all = "snake_case")]
pub enum OrderField {
    CustomerId,
    CustomerExternalKey,
    CustomerToken,
    TokenizedId,
    WriteDatetime,
    ModDatetime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Tsify)]
pub enum SortDirection {
    #[serde(rename = "ASC")]
    Asc,
    #[serde(rename = "DESC")]
    Desc,
}

#[derive(Clone, Debug, PartialEq, Deserialize, Tsify)]
#[serde(deny_unknown_fields)]
pub struct QueryOrder {
    pub field: OrderField,
    pub direction: SortDirection,
}

/// A ChargeOver token query: clauses are ANDed; one page as given by `offset` and `limit`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Tsify)]
#[serde(deny_unknown_fields)]
pub struct TokenQuery {
    #[serde(default, rename = "where")]
    #[tsify(optional)]
    pub conditions: Vec<QueryCondition>,
    #[serde(default)]
    #[tsify(optional)]
    pub order: Vec<QueryOrder>,
    #[serde(default)]
    #[tsify(optional)]
    pub offset: Option<u32>,
    #[serde(default)]
    #[tsify(optional)]
    pub limit: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::{Metadata, SHARED_KEYS};
    use std::rc::Rc;

    #[test]
    fn a_key_read_as_it_is_is_shared_with_the_next_read_at_its_place_within_one_reply() {
        let key = Metadata::key;
        let (tid, other) = Metadata::sharing_keys(|| {
            let (tid, again) = (key(0, "tid"), key(0, "tid"));
            assert!(Rc::ptr_eq(&tid, &again));
            let other = key(0, "other");
            assert_eq!(&*other, "other");
            assert!(Rc::ptr_eq(&other, &key(0, "other")));
            assert!(!Rc::ptr_eq(&tid, &key(0, "tid")), "the place now holds a new tid");
            // A key with a card number is masked for each token, never shared, and still holds
            // its place so that the places after it are shared.
            let (masked, masked_again) = (key(1, "4111111111111111"), key(1, "4111111111111111"));
            assert_eq!((&*masked, &*masked_again), ("411111******1111", "411111******1111"));
            assert!(!Rc::ptr_eq(&masked, &masked_again));
            assert!(Rc::ptr_eq(&key(2, "after"), &key(2, "after")));
            // A place that held a plain key still masks a card number read there next.
            assert_eq!(&*key(2, "5555555555554444"), "555555******4444");
            assert_eq!(&*key(1, "411111******1111"), "411111******1111");
            assert_eq!(&*key(1, ""), "");
            // Places are bounded: past them nothing is kept.
            assert!(!Rc::ptr_eq(&key(SHARED_KEYS, "late"), &key(SHARED_KEYS, "late")));
            assert_eq!(&*key(SHARED_KEYS, "4111111111111111"), "411111******1111");
            (key(0, "tid"), key(0, "other"))
        });
        // Once the reply is read, its keys are forgotten: the next reply makes its own.
        Metadata::sharing_keys(|| {
            assert!(!Rc::ptr_eq(&key(0, "other"), &other));
            assert!(!Rc::ptr_eq(&key(0, "tid"), &tid));
        });
        assert_eq!((Rc::strong_count(&tid), Rc::strong_count(&other)), (1, 1), "nothing else holds them");
    }
}
