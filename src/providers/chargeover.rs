//! ChargeOver REST v3 tokenized pay methods: HTTP Basic auth, `where`/`order`/`offset`/`limit`
//! queries, offset pagination, store / get / delete, and the `{code,status,message,…}` envelope.

use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use super::{reply_error, Envelope, LooseId};
use crate::card;
use crate::error::{Error, ErrorCode, Result};
use crate::http::{validate_body_id, HttpRequest, HttpResponse, Method};
use crate::model::{
    CreateTokenInput, OrderField, PaymentMethod, Provider, QueryCondition, QueryField, QueryOperator, QueryOrder, SortDirection, Token, TokenPage,
    TokenQuery,
};
use crate::secret::Secret;
use crate::status::{self, Expiry};
use crate::{taxonomy, time_fmt};

const P: Provider = Provider::Chargeover;

/// Rows per listing request unless configured; the vendor's clients use 10, and servers may
/// reject large pages (PROVIDERS.md §2.1), so stay modest.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// A listing stops with an error past this many pages unless configured.
pub const DEFAULT_MAX_PAGES: u32 = 200;
/// [guess] PROVIDERS.md §2.1: the largest `limit` a server takes is not documented; 500 is a
/// cap for this client (and the sandbox), not a known server limit.
pub const MAX_LIMIT: u32 = 500;
/// The most `where` conditions, and `order` fields, one query takes.
const MAX_CONDITIONS: usize = 20;

/// `Authorization` value: Basic base64(username:password) (public key : private key).
pub fn basic_authorization(username: &str, password: &Secret) -> Secret {
    let raw = zeroize::Zeroizing::new(format!("{username}:{}", password.expose()));
    Secret::new(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())))
}

pub fn authorize(req: &mut HttpRequest, authorization: &Secret) {
    req.set_header("Authorization", authorization.expose().to_string());
}

// ---------------------------------------------------------------------------------------------
// Query strings
//
// `where=field:OP:value,field:OP:value`: clauses are split on commas, so a comma inside a value is
// escaped `\,` (PROVIDERS.md §2.1). The server decodes the parameter once, as any query parameter;
// the vendor's own PHP client (`find()`) escapes commas, then URL-encodes each clause once. So:
//   1. escape each `,` in a value as `\,`;
//   2. join the clauses with `,` and percent-encode the parameter, leaving only `:` and `,`
//      literal (both legal in a query) so plain queries stay readable: `where=customer_id:EQUALS:1000`.
// The syntax has no escape for a backslash, so a value may not hold one: `x\` followed by the next
// clause's comma would read as an escaped comma and swallow that clause.

/// Step 2: unreserved characters, `:` and `,` stay.
const PARAM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b':').remove(b',');

/// One `where` value after step 1.
pub fn clause_value(value: &str) -> String {
    value.replace(',', "\\,")
}

fn field_name(f: QueryField) -> &'static str {
    match f {
        QueryField::CustomerId => "customer_id",
        QueryField::CustomerExternalKey => "customer_external_key",
        QueryField::CustomerToken => "customer_token",
    }
}

fn order_name(f: OrderField) -> &'static str {
    match f {
        OrderField::CustomerId => "customer_id",
        OrderField::CustomerExternalKey => "customer_external_key",
        OrderField::CustomerToken => "customer_token",
        OrderField::TokenizedId => "tokenized_id",
        OrderField::WriteDatetime => "write_datetime",
        OrderField::ModDatetime => "mod_datetime",
    }
}

fn operator_name(op: QueryOperator) -> &'static str {
    match op {
        QueryOperator::Equals => "EQUALS",
        QueryOperator::NotEquals => "NOTEQUALS",
        QueryOperator::Gt => "GT",
        QueryOperator::Lt => "LT",
        QueryOperator::Gte => "GTE",
        QueryOperator::Lte => "LTE",
        QueryOperator::Contains => "CONTAINS",
        QueryOperator::IsNull => "IS:NULL",
        QueryOperator::IsNotNull => "ISNOT:NULL",
    }
}

/// One clause before step 3: `field:OP:value`, or `field:IS:NULL` / `field:ISNOT:NULL`.
fn clause(i: usize, c: &QueryCondition) -> Result<String> {
    let field = format!("query.where[{i}].value");
    let name = field_name(c.field);
    let op = operator_name(c.op);
    if matches!(c.op, QueryOperator::IsNull | QueryOperator::IsNotNull) {
        if c.value.as_ref().is_some_and(|v| !v.is_null()) {
            return Err(Error::invalid_input(&field, &format!("must not be given with {op} ({name})")));
        }
        return Ok(format!("{name}:{op}"));
    }
    let text = match &c.value {
        None | Some(serde_json::Value::Null) => return Err(Error::invalid_input(&field, &format!("is required with {op} ({name})"))),
        Some(serde_json::Value::String(s)) if s.is_empty() => {
            return Err(Error::invalid_input(&field, &format!("must not be empty ({name})")))
        }
        Some(serde_json::Value::String(s)) if s.contains('\\') => {
            return Err(Error::invalid_input(&field, &format!("must not contain a backslash: ChargeOver's where syntax cannot escape it ({name})")))
        }
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        Some(_) => return Err(Error::invalid_input(&field, &format!("must be a string or an integer ({name})"))),
    };
    // customer_id is an integer column: other text matches nothing, and a typo would read as a
    // customer without tokens.
    let digits = text.strip_prefix('-').unwrap_or(&text);
    if c.field == QueryField::CustomerId && (digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Error::invalid_input(&field, &format!("must be an integer ({name})")));
    }
    Ok(format!("{name}:{op}:{}", clause_value(&text)))
}

/// `where=…&order=…&offset=N&limit=N` (no leading `?`). `where`/`order` are left out when empty;
/// `offset` defaults to 0 and `limit` to the default page size.
pub fn query_string(q: &TokenQuery) -> Result<String> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::invalid_input("query.limit", "must be 1–500"));
    }
    // ChargeOver has three token fields to filter on and few to order by: more than this is a
    // mistake, and would make a URL past what servers take (a 431 after the request was sent).
    if q.conditions.len() > MAX_CONDITIONS {
        return Err(Error::invalid_input("query.where", &format!("holds more than {MAX_CONDITIONS} conditions")));
    }
    if q.order.len() > MAX_CONDITIONS {
        return Err(Error::invalid_input("query.order", &format!("holds more than {MAX_CONDITIONS} fields")));
    }
    let mut parts = Vec::new();
    if !q.conditions.is_empty() {
        let clauses = q.conditions.iter().enumerate().map(|(i, c)| clause(i, c)).collect::<Result<Vec<_>>>()?;
        parts.push(format!("where={}", utf8_percent_encode(&clauses.join(","), PARAM)));
    }
    if !q.order.is_empty() {
        let order: Vec<String> = q
            .order
            .iter()
            .map(|QueryOrder { field, direction }| {
                format!("{}:{}", order_name(*field), if *direction == SortDirection::Asc { "ASC" } else { "DESC" })
            })
            .collect();
        parts.push(format!("order={}", order.join(",")));
    }
    parts.push(format!("offset={}", q.offset.unwrap_or(0)));
    parts.push(format!("limit={limit}"));
    Ok(parts.join("&"))
}

// ---------------------------------------------------------------------------------------------
// Requests

pub fn query_request(base_url: &str, q: &TokenQuery) -> Result<HttpRequest> {
    Ok(HttpRequest::new(Method::Get, format!("{base_url}/tokenized?{}", query_string(q)?)))
}

/// One page of a customer's tokens, in `tokenized_id` order so offsets are stable.
pub fn list_page_query(customer_id: &str, offset: u32, page_size: u32) -> Result<TokenQuery> {
    self::customer_id(customer_id)?;
    Ok(TokenQuery {
        conditions: vec![QueryCondition {
            field: QueryField::CustomerId,
            op: QueryOperator::Equals,
            value: Some(serde_json::Value::String(customer_id.to_string())),
        }],
        order: vec![QueryOrder { field: OrderField::TokenizedId, direction: SortDirection::Asc }],
        offset: Some(offset),
        limit: Some(page_size),
    })
}

pub fn list_page_request(base_url: &str, customer_id: &str, offset: u32, page_size: u32) -> Result<HttpRequest> {
    query_request(base_url, &list_page_query(customer_id, offset, page_size)?)
}

/// Where a listing resumes. Pages are read by offset, so a row removed before the offset (a
/// caller deleting the tokens it iterates over) would shift the next rows out of reach. So the
/// cursor also keeps the last `tokenized_id` handed out, and the next request starts one row
/// early: that row must be the one handed out last, or the listing steps back to find it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ListPosition {
    pub offset: u32,
    pub last_id: Option<u64>,
    /// Tokens handed out so far: fewer than `offset` once rows handed out were removed (a clean-up
    /// job deleting what it iterates keeps the offset low). `maxPages` caps the larger of the two,
    /// so that neither deletions nor an endpoint that ignores `offset` (each page the same rows,
    /// nothing new handed out) page on without end.
    pub handed: u64,
}

/// The position a cursor (`next` of the previous page: `offset`, `offset.lastId`, or
/// `offset.lastId.handed` when fewer tokens were handed out than the offset says) stands for.
pub fn parse_cursor(cursor: Option<&str>) -> Result<ListPosition> {
    let refused = || Error::invalid_input("cursor", "is not a cursor this client issued");
    let number = |t: &str, max: usize| (!t.is_empty() && t.len() <= max && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse::<u64>().ok()).flatten();
    let Some(c) = cursor else { return Ok(ListPosition { offset: 0, last_id: None, handed: 0 }) };
    let mut parts = c.split('.');
    let offset = parts.next().and_then(|o| number(o, 10)).and_then(|o| u32::try_from(o).ok()).ok_or_else(refused)?;
    let mut field = || parts.next().map(|t| number(t, 19).ok_or_else(refused)).transpose();
    let (last_id, handed) = (field()?, field()?);
    if parts.next().is_some() {
        return Err(refused());
    }
    Ok(ListPosition { offset, last_id, handed: handed.unwrap_or(u64::from(offset)) })
}

/// The offset a page request starts at: one row early when that row can be checked.
pub fn page_start(pos: ListPosition, page_size: u32) -> u32 {
    if pos.last_id.is_some() && pos.offset > 0 && page_size >= 2 {
        pos.offset - 1
    } else {
        pos.offset
    }
}

/// The listing's end shows only as a short page, so the page after `max_pages` full ones is read
/// only to see that it holds nothing new. A cursor past it is refused before any request.
pub fn check_page_cap(pos: ListPosition, page_size: u32, max_pages: u32) -> Result<()> {
    if pos.handed.max(u64::from(pos.offset)) > u64::from(max_pages) * u64::from(page_size) {
        return Err(page_cap_error(page_size, max_pages));
    }
    Ok(())
}

/// Reads one page of a listing: where to read (`start`), and what each reply means (`step`).
/// When the row handed out last is no longer where the cursor left it (rows before it were
/// removed), it searches back for it: galloping (one window back, then two, four…) until a window
/// starts at or before it, then halving between the two, so a bulk deletion costs a few requests.
pub struct PageRead {
    pos: ListPosition,
    page_size: u32,
    max_pages: u32,
    start: u32,
    /// Whether this page starts one row early to check its place (`page_start`).
    checked: bool,
    /// Windows read in the search back; a listing that keeps changing under it ends the search.
    probes: u32,
    /// Windows known to start before the resume point (full, every row handed out) and past it.
    before: Option<u32>,
    past: Option<u32>,
    /// The resume point is known to be exactly here: take the window whatever it holds.
    exact: Option<u32>,
    jump: u32,
}

impl PageRead {
    pub fn new(pos: ListPosition, page_size: u32, max_pages: u32) -> Result<Self> {
        check_page_cap(pos, page_size, max_pages)?;
        let start = page_start(pos, page_size);
        let checked = start < pos.offset;
        Ok(PageRead { pos, page_size, max_pages, start, checked, probes: 0, before: None, past: None, exact: None, jump: page_size.saturating_sub(1).max(1) })
    }

    /// The offset to read the next window at.
    pub fn start(&self) -> u32 {
        self.start
    }

    /// The tokens of the window read at `start()` and the cursor after them, or `None`: read again
    /// at the new `start()`. A page longer than asked for is DECODE (offsets would skip or repeat
    /// rows); tokens past the cap stop the listing with an error instead of paging on without end.
    pub fn step(&mut self, mut tokens: Vec<Token>) -> Result<Option<TokenPage>> {
        let (page_size, rows) = (self.page_size, tokens.len());
        if rows > page_size as usize {
            return Err(Error::decode(P, format!("a page came back with {rows} rows for a limit of {page_size}")));
        }
        let id = |t: &Token| t.id.parse::<u64>().ok();
        // The listing asks for tokenized_id order and pages by it: in another order (an instance
        // that ignores `order`), rows of the next page would look handed out already, and be
        // dropped. A short first page has no next page, so nothing can be skipped: it passes.
        let paged = self.checked || rows == page_size as usize;
        if let Some(pair) = tokens.windows(2).find(|pair| paged && !matches!((id(&pair[0]), id(&pair[1])), (Some(a), Some(b)) if a < b)) {
            let why = if pair[0].id == pair[1].id {
                format!("chargeover listed token {} twice in one page; the listing stops", card::scrub_pans_borrowed(&pair[0].id))
            } else {
                "a page came back out of tokenized_id order (the listing asks for order=tokenized_id:ASC and pages by it), so tokens could be skipped: the listing stops".to_string()
            };
            return Err(Error::new(ErrorCode::ProviderError, why).with_provider(P));
        }
        if let (true, Some(last)) = (self.checked, self.pos.last_id) {
            // Rows are in tokenized_id order: those up to the last one handed out were read before.
            let seen = tokens.iter().take_while(|t| id(t).is_some_and(|i| i <= last)).count();
            // Right after a window of rows handed out, the first newer row is where the listing resumes.
            let resumes_here = self.exact == Some(self.start) || self.before.is_some_and(|b| b.saturating_add(page_size) == self.start);
            if !resumes_here {
                let past = seen == 0 && self.start > 0;
                let before = self.past.is_some() && seen == rows && rows == page_size as usize;
                if past || before {
                    if past {
                        self.past = Some(self.start);
                    } else {
                        self.before = Some(self.start);
                    }
                    self.start = self.next_probe()?;
                    return Ok(None);
                }
            }
            tokens.drain(..seen);
        }
        // Tokens past the cap (counted as `ListPosition::handed` says): those within it are handed
        // out, and the next page stops.
        let cap = u64::from(self.max_pages) * u64::from(page_size);
        let first = u64::from(self.start) + (rows - tokens.len()) as u64;
        let counted = self.pos.handed.max(first);
        let mut read_to = u64::from(self.start) + rows as u64;
        let mut more = rows == page_size as usize;
        if !tokens.is_empty() && counted + tokens.len() as u64 > cap {
            let within = cap.saturating_sub(counted) as usize;
            if within == 0 {
                return Err(page_cap_error(page_size, self.max_pages));
            }
            tokens.truncate(within);
            (read_to, more) = (first + within as u64, true);
        }
        let handed = self.pos.handed + tokens.len() as u64;
        // The id goes with the offset. (Every id read is a whole number, `RecordId`; a page whose
        // last id is not one stopped at the order check above.)
        let next = more.then(|| match tokens.last().map_or(self.pos.last_id, id) {
            Some(l) if handed != read_to => format!("{read_to}.{l}.{handed}"),
            Some(l) => format!("{read_to}.{l}"),
            None => read_to.to_string(),
        });
        Ok(Some(TokenPage { tokens, next }))
    }

    fn next_probe(&mut self) -> Result<u32> {
        self.probes += 1;
        let moving = || Error::new(ErrorCode::ProviderError, "the listing kept changing while it was read; list again").with_provider(P);
        if self.probes > MAX_PROBES {
            return Err(moving());
        }
        match (self.before, self.past) {
            // The window at `b` holds only rows handed out, up to b + page_size − 1; the one at `p`
            // starts past them: the resume point is in (b + page_size − 1, p].
            (Some(b), Some(p)) if b < p => {
                let seen_to = b.saturating_add(self.page_size - 1);
                if seen_to.saturating_add(1) >= p {
                    self.exact = Some(p);
                    return Ok(p);
                }
                Ok(seen_to + (p - seen_to) / 2)
            }
            (None, Some(p)) if p > 0 => {
                let s = p.saturating_sub(self.jump);
                self.jump = self.jump.saturating_mul(2);
                Ok(s)
            }
            _ => Err(moving()),
        }
    }
}

/// Galloping back and halving take at most about 32 windows each over a u32 range of offsets.
const MAX_PROBES: u32 = 96;

fn page_cap_error(page_size: u32, max_pages: u32) -> Error {
    let mut err = Error::new(
        ErrorCode::ProviderError,
        format!("listing stopped after {max_pages} pages of {page_size} tokens (maxPages); raise maxPages or pageSize to read further"),
    )
    .with_provider(P);
    err.retryable = false;
    err
}

/// ChargeOver's record ids, `tokenized_id` and `customer_id`, are positive integers ([doc]).
/// Anything else in a path could change what it means (`.` is the collection itself, `token:…`
/// a lookup by another key); in a query it matches nothing, so a typo would list no tokens.
fn record_id(field: &str, wire_name: &str, id: &str) -> Result<u64> {
    // Up to 19 digits always fit a u64.
    id.parse().ok().filter(|_| is_record_id(id)).ok_or_else(|| Error::invalid_input(field, &format!("must be ChargeOver's numeric {wire_name}")))
}

/// Whether `id` is written as ChargeOver writes its record ids: 1 to 19 digits, no leading zero.
fn is_record_id(id: &str) -> bool {
    (1..=19).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0')
}

fn tokenized_id(token_id: &str) -> Result<u64> {
    record_id("input.tokenId", "tokenized_id", token_id)
}

fn customer_id(customer_id: &str) -> Result<u64> {
    record_id("input.customerId", "customer_id", customer_id)
}

/// A `customerId` that scopes a get or delete, checked as a list's is: the reply's `customer_id`
/// is compared as written, so `01002` would otherwise read as another customer's.
pub fn check_customer_id(customer: &str) -> Result<()> {
    customer_id(customer).map(drop)
}

/// [guess] PROVIDERS.md §2.2: reading one record by id is not documented for tokens; it follows
/// the REST v3 pattern of ChargeOver's other objects.
pub fn get_token_request(base_url: &str, token_id: &str) -> Result<HttpRequest> {
    Ok(HttpRequest::new(Method::Get, format!("{base_url}/tokenized/{}", tokenized_id(token_id)?)))
}

pub fn delete_token_request(base_url: &str, token_id: &str) -> Result<HttpRequest> {
    Ok(HttpRequest::new(Method::Delete, format!("{base_url}/tokenized/{}", tokenized_id(token_id)?)))
}

/// The body for `POST /tokenized`, `customer_id` as the number ChargeOver documents.
pub fn create_body(input: &CreateTokenInput) -> Result<serde_json::Value> {
    let customer = customer_id(&input.customer_id)?;
    let token = input.token.trim();
    if token.is_empty() {
        return Err(Error::invalid_input("input.token", "is required (the gateway's token value)"));
    }
    // ChargeOver documents no limit: the rule for ids carried in a body keeps stray text out.
    validate_body_id("input.token", token)?;
    // A card number as the whole value or anywhere in it, however its groups are separated.
    // All-digit tokens that fail Luhn are some gateways' real tokens (TransArmor), so only
    // Luhn-valid runs count.
    if card::scrub_pans_in_token(token.to_string()) != token {
        return Err(Error::invalid_input("input.token", "looks like a card number; store the gateway's token, no card numbers"));
    }
    let mut body = serde_json::json!({ "customer_id": customer, "type": "customer", "token": token });
    if let Some(label) = &input.label {
        // A display name has no use for them, and a card number split by NULs would pass the
        // scrub below unseen.
        if label.chars().any(char::is_control) {
            return Err(Error::invalid_input("input.label", "must not contain control characters"));
        }
        if card::scrub_pans(label) != *label {
            return Err(Error::invalid_input("input.label", "contains a card number; no card numbers"));
        }
        body["name"] = label.as_str().into();
    }
    match input.payment_method {
        None => {}
        Some(PaymentMethod::Card) => body["paymethod_hint"] = "crd".into(),
        Some(PaymentMethod::Ach) => {
            // ChargeOver documents `expdate` and `type_hint` as the card's: stored on a bank
            // account, they would be data no read shows (`to_token` gives ACH no card).
            let card_only = [("input.brand", input.brand.is_some()), ("input.expiryMonth", input.expiry_month.is_some()), ("input.expiryYear", input.expiry_year.is_some())];
            if let Some((field, _)) = card_only.iter().find(|(_, given)| *given) {
                return Err(Error::invalid_input(field, "is a card's; an ACH account has none"));
            }
            body["paymethod_hint"] = "ach".into();
        }
        Some(_) => return Err(Error::invalid_input("input.paymentMethod", "must be CARD or ACH for ChargeOver")),
    }
    match (input.expiry_month, input.expiry_year) {
        (None, None) => {}
        (Some(month), Some(year)) => {
            let last_day = if (1..=12).contains(&month) && (2000..=2199).contains(&year) {
                time_fmt::card_expires_at(year, month)
            } else {
                None
            };
            let d = last_day.ok_or_else(|| Error::invalid_input("input.expiryMonth", "must be 1–12 with expiryYear 2000–2199"))?;
            let (y, m, day) = time_fmt::ymd(d);
            body["expdate"] = format!("{y:04}-{m:02}-{day:02}").into();
        }
        (Some(_), None) => return Err(Error::invalid_input("input.expiryYear", "is required with expiryMonth")),
        (None, Some(_)) => return Err(Error::invalid_input("input.expiryMonth", "is required with expiryYear")),
    }
    if let Some(brand) = &input.brand {
        let hint = match card::brand_from_network(brand) {
            Some("Visa") => "visa",
            Some("Mastercard") => "mast",
            Some("Discover") => "disc",
            Some("American Express") => "amex",
            _ => return Err(Error::invalid_input("input.brand", "must be Visa, Mastercard, Discover or American Express for ChargeOver")),
        };
        body["type_hint"] = hint.into();
    }
    if let Some(gateway) = &input.gateway {
        if card::scrub_pans(gateway) != *gateway {
            return Err(Error::invalid_input("input.gateway", "contains a card number; no card numbers"));
        }
        body["gateway"] = validate_body_id("input.gateway", gateway)?.into();
    }
    Ok(body)
}

pub fn create_token_request(base_url: &str, input: &CreateTokenInput) -> Result<HttpRequest> {
    Ok(HttpRequest::new(Method::Post, format!("{base_url}/tokenized")).json(&create_body(input)?))
}

// ---------------------------------------------------------------------------------------------
// Replies

#[derive(Deserialize)]
struct WireEnvelope<'a, T> {
    #[serde(borrow)]
    status: Option<super::Scalar<'a>>,
    response: Option<T>,
}

/// A `tokenized_id` as ChargeOver writes it: a whole number, or its digits as text. Another shape
/// (`7.0`, `-7`, `1e+26`, "") is refused as it is read, not handed out as an id that every later
/// call refuses and that a listing cannot page by.
struct RecordId(String);

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let id = LooseId::deserialize(d)?.into_string();
        if !is_record_id(&id) {
            return Err(serde::de::Error::custom("tokenized_id is not a ChargeOver record id (a whole number)"));
        }
        Ok(RecordId(id))
    }
}

#[derive(Deserialize)]
struct WireToken {
    tokenized_id: RecordId,
    customer_id: Option<LooseId>,
    name: Option<String>,
    paymethod_hint: Option<String>,
    expdate: Option<String>,
    type_hint: Option<String>,
    token: Option<String>,
    gateway: Option<String>,
    write_datetime: Option<String>,
    mod_datetime: Option<String>,
}

fn to_token(w: WireToken, now_ms: u64) -> Token {
    let mut t = Token::new(P, w.tokenized_id.0);
    t.customer_id = w.customer_id.map(LooseId::into_string);
    let hint = w.paymethod_hint.as_deref().map(str::trim).unwrap_or_default();
    t.payment_method = if hint.eq_ignore_ascii_case("crd") {
        PaymentMethod::Card
    } else if hint.eq_ignore_ascii_case("ach") {
        PaymentMethod::Ach
    } else {
        PaymentMethod::Unknown
    };
    // MySQL's zero date, the way a PHP back end may write "none", is none. A bank account has no
    // expiry: a date on a record marked ACH neither expires it nor makes it a card.
    let ach = t.payment_method == PaymentMethod::Ach;
    let expdate = w.expdate.as_deref().filter(|d| !ach && !d.trim().starts_with("0000-00-00"));
    let (expiry, expires) = Expiry::of_card(expdate);
    // The hint is optional; a card brand or a card expiry says CARD as well, so that filtering on
    // CARD finds the record whose card fields are filled in below.
    let card_like = w.type_hint.as_deref().is_some_and(|b| card::brand_from_network(b).is_some()) || expiry.is_some();
    if hint.is_empty() && card_like {
        t.payment_method = PaymentMethod::Card;
    }
    // The token is usable through its card's expiry month: that is when it expires.
    t.status = status::from_expiry(&expires, now_ms);
    t.expires_at = expires.instant().map(time_fmt::to_iso);
    if !ach && (t.payment_method == PaymentMethod::Card || w.type_hint.is_some() || expiry.is_some()) {
        let mut c = card::card_from_pan(None, w.type_hint.as_deref());
        if let Some((m, y)) = expiry {
            c.expiry_month = Some(m);
            c.expiry_year = Some(y);
        }
        t.card = Some(c);
    }
    // Merchants type display names by hand; one holding a full card number comes out masked.
    t.label = w.name.map(card::scrub_pans_owned);
    // A gateway token is never a card number; if a merchant stored one, it stays masked. An
    // all-digit token that fails Luhn is a gateway's own (TransArmor) and must stay usable.
    t.gateway_token = w.token.map(card::scrub_pans_in_token);
    // Free text the merchant typed, like the label.
    t.gateway = w.gateway.map(card::scrub_pans_owned);
    // ISO 8601 with an offset, in the account's zone (America/Chicago unless changed); an account
    // set to write times without an offset gives no way to place them, so they are left out.
    let placed = |t: Option<String>| t.as_deref().and_then(time_fmt::parse_zoned).map(time_fmt::to_iso);
    t.created_at = placed(w.write_datetime);
    t.updated_at = placed(w.mod_datetime);
    t
}

/// What the envelope's `status` says: nothing when it is OK.
fn status_error(resp: &HttpResponse, status: Option<&super::Scalar>) -> Option<Error> {
    match status {
        Some(s) if s.is_word("OK") => None,
        Some(_) => Some(error(resp)),
        None => Some(Error::decode(P, "the reply has no envelope status").with_status(resp.status)),
    }
}

/// The `response` of an OK envelope. Read in one pass (replies are whole pages); only a reply
/// that does not fit is read again, to tell an error envelope (its `response` is `false`) from
/// a shape the model does not read.
fn decode<T: for<'de> Deserialize<'de>>(resp: &HttpResponse) -> Result<T> {
    if !resp.is_success() {
        return Err(error(resp));
    }
    let unreadable = |e: &serde_json::Error| Error::decode_json(P, e, &resp.body).with_status(resp.status);
    match serde_json::from_str::<WireEnvelope<T>>(&resp.body) {
        Ok(env) => match (status_error(resp, env.status.as_ref()), env.response) {
            (Some(err), _) => Err(err),
            (None, Some(response)) => Ok(response),
            (None, None) => Err(Error::decode(P, "the reply has no response").with_status(resp.status)),
        },
        Err(e) => Err(match serde_json::from_str::<WireEnvelope<serde::de::IgnoredAny>>(&resp.body) {
            Ok(env) => status_error(resp, env.status.as_ref()).unwrap_or_else(|| unreadable(&e)),
            Err(_) => unreadable(&e),
        }),
    }
}

/// `local_now_ms` is the local clock; expiry is judged on ChargeOver's (`HttpResponse::server_now`).
pub fn parse_token_list(resp: &HttpResponse, local_now_ms: u64) -> Result<Vec<Token>> {
    let super::Rows(rows) = decode::<super::Rows<WireToken>>(resp).map_err(|e| no_route(e, "a token query, which finds no rows rather than nothing"))?;
    let now = resp.server_now(local_now_ms);
    Ok(rows.into_iter().map(|w| to_token(w, now)).collect())
}

/// ChargeOver answers an unknown route as it answers an unknown record (404, its own envelope).
/// Where the request names no record (`what`), that is the wrong address, not "no such token",
/// which a job would read as every token gone (helper-120).
fn no_route(mut err: Error, what: &str) -> Error {
    if err.code == ErrorCode::NotFound {
        err.code = ErrorCode::ProviderError;
        err.message = format!("{} (HTTP 404 to {what}: check baseUrl)", err.message);
    }
    err
}

pub fn parse_token(resp: &HttpResponse, local_now_ms: u64) -> Result<Token> {
    decode::<WireToken>(resp).map(|w| to_token(w, resp.server_now(local_now_ms)))
}

/// The new record's `tokenized_id` from `{"response":{"id":N}}` (201).
pub fn parse_created(resp: &HttpResponse) -> Result<String> {
    #[derive(Deserialize)]
    struct Created {
        id: LooseId,
    }
    let id = decode::<Created>(resp).map_err(|e| no_route(e, "a new record"))?.id.into_string();
    tokenized_id(&id).map_err(|_| Error::decode(P, "the created record's id is not a tokenized_id"))?;
    Ok(id)
}

/// An envelope that says OK, or a 204. ChargeOver sends its envelope on every reply, so another
/// empty 2xx confirms nothing; and its `response` is `false` on error, so an OK with `false`
/// contradicts itself: whether the token was deleted is read from the token.
pub fn parse_delete(resp: &HttpResponse) -> Result<()> {
    if !resp.is_success() {
        return Err(error(resp));
    }
    if resp.body.trim().is_empty() {
        return super::empty_delete_reply(P, resp);
    }
    let env: WireEnvelope<super::Scalar> = super::decode(P, resp)?;
    if let Some(err) = status_error(resp, env.status.as_ref()) {
        return Err(err);
    }
    if matches!(env.response, Some(super::Scalar::Flag(false))) {
        let mut err = Error::new(ErrorCode::ProviderError, "chargeover answered the delete with status OK but response false, its mark of a failure").with_provider(P).with_status(resp.status);
        err.outcome_unknown = true;
        return Err(err);
    }
    Ok(())
}

/// `{code, status:"Error", message, details, response:false}`, also inside an HTTP 200: then
/// the envelope's `code` decides the error kind, and `httpStatus` stays the real one.
pub fn error(resp: &HttpResponse) -> Error {
    // ChargeOver's own error reply says `status` other than OK; a JSON body without it (a
    // gateway's `{"message":"Not Found"}`) is not ChargeOver's answer, though its message is kept.
    let read = |v: &serde_json::Value| {
        let own = v.get("status").and_then(|s| s.as_str()).is_some_and(|s| !s.eq_ignore_ascii_case("OK"));
        let message = v.get("message").and_then(|m| m.as_str()).map(str::to_string);
        (own || message.is_some()).then_some(Envelope { code: None, message, request_id: None, own })
    };
    if resp.is_success() {
        let v = super::envelope_json(&resp.body);
        let code = v
            .as_ref()
            .and_then(|v| v.get("code"))
            .and_then(|c| c.as_u64().or_else(|| c.as_str().and_then(|s| s.parse().ok())))
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| (400..600).contains(c))
            .unwrap_or(500);
        let message = v
            .as_ref()
            .and_then(|v| v.get("message"))
            .and_then(|m| m.as_str())
            .filter(|m| !m.trim().is_empty())
            .map_or_else(|| format!("chargeover replied status Error (code {code}) without a message"), str::to_string);
        let mut err = taxonomy::classify(P, code, None, &message);
        err.http_status = Some(resp.status);
        // A throttle's code under a 200 does not prove that nothing was applied, as its 429 would:
        // a write is not sent again.
        err.not_applied = false;
        return err;
    }
    reply_error(P, resp, &read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TokenStatus;
    use serde_json::json;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/chargeover/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    /// 2025-01-15T00:00:00Z
    const NOW: u64 = 1_736_899_200_000;

    fn cond(field: QueryField, op: QueryOperator, value: Option<serde_json::Value>) -> QueryCondition {
        QueryCondition { field, op, value }
    }

    #[test]
    fn basic_auth_header() {
        let h = basic_authorization("pub", &Secret::new("priv:ate"));
        assert_eq!(h.expose(), "Basic cHViOnByaXY6YXRl");
        assert_eq!(format!("{h:?}"), "[redacted]");
    }

    #[test]
    fn list_page_query_is_the_documented_form() {
        let r = list_page_request("https://x.chargeover.com/api/v3", "1000", 20, 10).unwrap();
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.url, "https://x.chargeover.com/api/v3/tokenized?where=customer_id:EQUALS:1000&order=tokenized_id:ASC&offset=20&limit=10");
        // customer_id is an integer ([doc]): other text would match nothing and list no tokens.
        for bad in ["", "a/b", "x?y", "é", "C-7", "0", "01", "-5", &"9".repeat(20)] {
            let err = list_page_request("b", bad, 0, 10).unwrap_err();
            assert_eq!((err.code, err.message.as_str()), (ErrorCode::InvalidInput, "input.customerId: must be ChargeOver's numeric customer_id"), "{bad}");
        }
    }

    #[test]
    fn query_values_are_comma_escaped_then_encoded_once_as_the_vendor_client_does() {
        use QueryField::*;
        use QueryOperator::*;
        let q = |value: &str| TokenQuery {
            conditions: vec![cond(CustomerToken, Contains, Some(json!(value))), cond(CustomerId, Gte, Some(json!(5)))],
            ..TokenQuery::default()
        };
        let cases = [
            ("a,b", r"customer_token:CONTAINS:a%5C,b,customer_id:GTE:5"),
            ("50%", "customer_token:CONTAINS:50%25,customer_id:GTE:5"),
            ("a+b c&d", "customer_token:CONTAINS:a%2Bb%20c%26d,customer_id:GTE:5"),
            ("é:", "customer_token:CONTAINS:%C3%A9:,customer_id:GTE:5"),
            ("x,,y,", r"customer_token:CONTAINS:x%5C,%5C,y%5C,,customer_id:GTE:5"),
        ];
        for (value, want) in cases {
            assert_eq!(query_string(&q(value)).unwrap(), format!("where={want}&offset=0&limit=50"), "{value}");
            assert_eq!(round_trip(&query_string(&q(value)).unwrap()), vec![format!("customer_token:CONTAINS:{value}"), "customer_id:GTE:5".into()]);
        }
        for value in [r"x\", r"x\,y", r"\"] {
            assert_eq!(query_string(&q(value)).unwrap_err().code, ErrorCode::InvalidInput, "{value}");
        }
        assert_eq!(clause_value("a,b"), r"a\,b");
    }

    /// What sandbox/chargeover.js does with `where` (and the server, as the vendor's client shows):
    /// query-decode once, split on unescaped commas, unescape `\,`.
    fn round_trip(qs: &str) -> Vec<String> {
        fn pct_decode(s: &str) -> String {
            percent_encoding::percent_decode_str(s).decode_utf8().unwrap().into_owned()
        }
        let raw = qs.split('&').find_map(|p| p.strip_prefix("where=")).unwrap();
        let s = pct_decode(&raw.replace('+', " "));
        let mut clauses = Vec::new();
        let mut current = String::new();
        let mut prev = '\0';
        for c in s.chars() {
            if c == ',' && prev != '\\' {
                clauses.push(std::mem::take(&mut current));
            } else {
                current.push(c);
            }
            prev = c;
        }
        clauses.push(current);
        clauses.into_iter().map(|c| c.replace("\\,", ",")).collect()
    }

    #[test]
    fn value_less_operators_orders_offsets_and_limits() {
        use QueryField::*;
        use QueryOperator::*;
        let q = TokenQuery {
            conditions: vec![cond(CustomerExternalKey, IsNull, None), cond(CustomerToken, IsNotNull, Some(serde_json::Value::Null))],
            order: vec![
                QueryOrder { field: OrderField::WriteDatetime, direction: SortDirection::Desc },
                QueryOrder { field: OrderField::TokenizedId, direction: SortDirection::Asc },
            ],
            offset: Some(30),
            limit: Some(500),
        };
        assert_eq!(
            query_string(&q).unwrap(),
            "where=customer_external_key:IS:NULL,customer_token:ISNOT:NULL&order=write_datetime:DESC,tokenized_id:ASC&offset=30&limit=500"
        );
        assert_eq!(query_string(&TokenQuery::default()).unwrap(), "offset=0&limit=50");
        let bad = |conditions: Vec<QueryCondition>, limit: Option<u32>| {
            let err = query_string(&TokenQuery { conditions, limit, ..TokenQuery::default() }).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidInput);
            err.message
        };
        assert_eq!(bad(vec![], Some(0)), "query.limit: must be 1–500");
        assert_eq!(bad(vec![], Some(501)), "query.limit: must be 1–500");
        let many = |n: usize| vec![cond(CustomerId, Gte, Some(json!(1))); n];
        assert!(query_string(&TokenQuery { conditions: many(20), ..TokenQuery::default() }).is_ok());
        assert_eq!(bad(many(21), None), "query.where: holds more than 20 conditions");
        assert!(bad(vec![cond(CustomerId, IsNull, Some(json!("x")))], None).starts_with("query.where[0].value: must not be given"));
        assert!(bad(vec![cond(CustomerId, Equals, Some(json!(1))), cond(CustomerId, Equals, None)], None).starts_with("query.where[1].value: is required"));
        assert!(bad(vec![cond(CustomerId, Equals, Some(json!(1.5)))], None).contains("must be a string or an integer (customer_id)"));
        assert!(bad(vec![cond(CustomerId, Equals, Some(json!(true)))], None).contains("must be a string or an integer"));
        assert!(bad(vec![cond(CustomerId, Equals, Some(json!(["1"])))], None).contains("must be a string or an integer"));
        assert!(bad(vec![cond(CustomerId, Equals, Some(json!("")))], None).contains("must not be empty"));
        for text in ["C-7", "1,2", "-", "1.0"] {
            assert!(bad(vec![cond(CustomerId, Equals, Some(json!(text)))], None).ends_with("must be an integer (customer_id)"), "{text}");
        }
        let text = TokenQuery { conditions: vec![cond(CustomerId, Gte, Some(json!("1000"))), cond(CustomerToken, Equals, Some(json!("C-7")))], ..TokenQuery::default() };
        assert_eq!(query_string(&text).unwrap(), "where=customer_id:GTE:1000,customer_token:EQUALS:C-7&offset=0&limit=50");
        let neg = TokenQuery { conditions: vec![cond(CustomerId, Lt, Some(json!(-3)))], ..TokenQuery::default() };
        assert_eq!(query_string(&neg).unwrap(), "where=customer_id:LT:-3&offset=0&limit=50");
    }

    #[test]
    fn token_query_deserializes_from_the_js_shape() {
        let q: TokenQuery = serde_json::from_value(json!({
            "where": [{"field": "customer_id", "op": "EQUALS", "value": 1000}, {"field": "customer_external_key", "op": "IS:NULL"}],
            "order": [{"field": "tokenized_id", "direction": "DESC"}],
            "limit": 5
        }))
        .unwrap();
        assert_eq!(query_string(&q).unwrap(), "where=customer_id:EQUALS:1000,customer_external_key:IS:NULL&order=tokenized_id:DESC&offset=0&limit=5");
    }

    #[test]
    fn cursors_and_the_page_cap() {
        let at = |offset, last_id| ListPosition { offset, last_id, handed: u64::from(offset) };
        assert_eq!(parse_cursor(None).unwrap(), at(0, None));
        assert_eq!(parse_cursor(Some("20")).unwrap(), at(20, None));
        assert_eq!(parse_cursor(Some("20.1234")).unwrap(), at(20, Some(1234)));
        assert_eq!(parse_cursor(Some("20.1234.95")).unwrap(), ListPosition { offset: 20, last_id: Some(1234), handed: 95 });
        for bad in ["", "-1", "x", "1e3", "99999999999", "20.", ".5", "20.x", "1.2.3.4", "1.2.", "1..3", &format!("1.{}", "9".repeat(20))] {
            assert_eq!(parse_cursor(Some(bad)).unwrap_err().code, ErrorCode::InvalidInput, "{bad}");
        }
        assert!(check_page_cap(at(200, Some(200)), 10, 20).is_ok());
        assert!(check_page_cap(at(201, Some(5)), 10, 20).is_err(), "a cursor past that page");
        assert!(check_page_cap(ListPosition { offset: 3, last_id: Some(5), handed: 201 }, 10, 20).is_err(), "counted as handed out");
    }

    /// A clean-up job deletes each token it is handed: the offset stays low, yet `maxPages` still
    /// caps what one listing hands out.
    #[test]
    fn the_page_cap_counts_tokens_handed_out_while_they_are_deleted() {
        let mut store: Vec<u64> = (1..=50).collect();
        let (mut handed, mut cursor) = (Vec::new(), None::<String>);
        let err = loop {
            let rows: Vec<String> = store.iter().map(u64::to_string).collect();
            match read_page(&rows, cursor.as_deref(), 5, 2).0 {
                Ok(page) => {
                    for t in &page.tokens {
                        let id: u64 = t.id.parse().unwrap();
                        handed.push(id);
                        store.retain(|&x| x != id);
                    }
                    cursor = Some(page.next.expect("the cap ends the listing, not its end"));
                }
                Err(e) => break e,
            }
        };
        assert_eq!(handed, (1..=10).collect::<Vec<_>>());
        assert!(err.message.contains("2 pages of 5 tokens"), "{}", err.message);
    }

    /// An endpoint (or a cache before it) that ignores `offset` answers every page with the same
    /// rows: nothing new is handed out, and the cap on the offset still ends the listing.
    #[test]
    fn the_page_cap_ends_a_listing_whose_pages_never_move_on() {
        let same: Vec<Token> = (1..=10).map(|i| Token::new(P, i.to_string())).collect();
        let (mut cursor, mut requests, mut handed) = (None::<String>, 0, 0);
        let err = loop {
            let mut read = match PageRead::new(parse_cursor(cursor.as_deref()).unwrap(), 10, 20) {
                Ok(read) => read,
                Err(e) => break e,
            };
            let page = loop {
                requests += 1;
                assert!(requests < 100, "the listing did not stop");
                if let Some(page) = read.step(same.clone()).unwrap() {
                    break page;
                }
            };
            handed += page.tokens.len();
            cursor = Some(page.next.expect("a full page says there is more"));
        };
        assert_eq!((err.code, handed), (ErrorCode::ProviderError, 10));
        assert!(requests <= 25, "{requests} requests");
    }

    /// An instance that ignores `order` (newest first, or any order): the listing stops with an
    /// error at the first page out of order, instead of taking the next page's rows for ones
    /// handed out and dropping them.
    #[test]
    fn a_page_out_of_tokenized_id_order_stops_the_listing() {
        let out_of_order = |page: Result<TokenPage>| {
            let err = page.unwrap_err();
            err.code == ErrorCode::ProviderError && err.message.contains("out of tokenized_id order")
        };
        let newest_first: Vec<String> = (1..=12).rev().map(|i: u64| i.to_string()).collect();
        assert!(out_of_order(read_page(&newest_first, None, 5, 20).0));
        // A later page, read one row early, is checked whether full or not.
        assert!(out_of_order(read_page(&newest_first, Some("5.8"), 5, 20).0));
        let repeated: Vec<String> = ["3", "3", "4", "5", "6"].map(String::from).to_vec();
        let twice = read_page(&repeated, None, 5, 20).0.unwrap_err();
        assert_eq!((twice.code, twice.message.as_str()), (ErrorCode::ProviderError, "chargeover listed token 3 twice in one page; the listing stops"));
        // A short first page is the whole listing: nothing can be skipped, and it is returned.
        let short: Vec<String> = ["9", "2", "5"].map(String::from).to_vec();
        assert_eq!(read_page(&short, None, 5, 20).0.unwrap().tokens.len(), 3);
        let ascending = ids(1..=12);
        assert_eq!(read_page(&ascending, None, 5, 20).0.unwrap().tokens.len(), 5);
    }

    /// A field of the wrong type is named by its path in the reply, pretty-printed or not.
    #[test]
    fn a_row_that_cannot_be_read_is_named_by_its_path() {
        let rows: Vec<serde_json::Value> = (1..=40).map(|i| serde_json::json!({"tokenized_id": i, "customer_id": 1000, "expdate": if i == 32 { serde_json::json!(20300101) } else { serde_json::json!("2030-01-01") }})).collect();
        let reply = serde_json::json!({"code": 200, "status": "OK", "response": rows});
        for body in [reply.to_string(), serde_json::to_string_pretty(&reply).unwrap()] {
            let err = parse_token_list(&HttpResponse::new(200, body), NOW).unwrap_err();
            assert!(err.message.starts_with("could not read the chargeover reply: unexpected content: expected a string at response[31].expdate (line "), "{}", err.message);
        }
        // A key holding a card number is masked in the path.
        let body = r#"{"4111111111111111":"x"}"#;
        let e = serde_json::from_str::<std::collections::HashMap<String, u32>>(body).unwrap_err();
        let err = Error::decode_json(P, &e, body);
        assert!(err.message.contains("expected u32 at 411111******1111 "), "{}", err.message);
    }

    #[test]
    fn a_tokenized_id_that_is_not_a_whole_number_is_refused_as_read() {
        for id in ["7.0", "-7", "1e+26", r#""""#, r#""7.0""#, r#""07""#, "0", "true"] {
            let body = format!(r#"{{"code":200,"status":"OK","response":[{{"tokenized_id":{id},"customer_id":1000}}]}}"#);
            let err = parse_token_list(&HttpResponse::new(200, body), NOW).unwrap_err();
            assert_eq!(err.code, ErrorCode::Decode, "{id}");
        }
        for (id, read) in [("7", "7"), (r#""7""#, "7"), ("9223372036854775807", "9223372036854775807")] {
            let body = format!(r#"{{"code":200,"status":"OK","response":[{{"tokenized_id":{id},"customer_id":1000}}]}}"#);
            assert_eq!(parse_token_list(&HttpResponse::new(200, body), NOW).unwrap()[0].id, read);
        }
    }

    /// One page against `ids` (the server's rows, in order) through `PageRead`, and the requests it took.
    fn read_page(ids: &[String], cursor: Option<&str>, page_size: u32, max_pages: u32) -> (Result<TokenPage>, usize) {
        let mut read = match PageRead::new(parse_cursor(cursor).unwrap(), page_size, max_pages) {
            Ok(r) => r,
            Err(e) => return (Err(e), 0),
        };
        for n in 1..=96 {
            let start = read.start() as usize;
            let rows = ids.iter().skip(start).take(page_size as usize).map(|i| Token::new(P, i.clone())).collect();
            match read.step(rows) {
                Ok(Some(page)) => return (Ok(page), n),
                Ok(None) => {}
                Err(e) => return (Err(e), n),
            }
        }
        panic!("no page after 96 requests");
    }

    fn ids(range: std::ops::RangeInclusive<u64>) -> Vec<String> {
        range.map(|i| i.to_string()).collect()
    }

    #[test]
    fn pages_overlap_by_one_row_and_find_their_place_after_removals() {
        let page = |ids: &[String], cursor: Option<&str>| {
            let (page, requests) = read_page(ids, cursor, 10, 20);
            let page = page.unwrap();
            (page.tokens.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), page.next, requests)
        };
        let all = ids(1..=25);
        assert_eq!(page(&all, None), (ids(1..=10), Some("10.10".into()), 1));
        // The next page starts one row early; that row, handed out already, is dropped.
        assert_eq!(page(&all, Some("10.10")), (ids(11..=19), Some("19.19".into()), 1));
        assert_eq!(page(&all, Some("19.19")), (ids(20..=25), None, 1));
        // 1–19 removed after they were handed out: the page searches back and resumes at 20.
        let rest = ids(20..=25);
        assert_eq!(page(&rest, Some("19.19")), (ids(20..=25), None, 3));
        // An old cursor without an id pages by offset alone.
        assert_eq!(page(&all, Some("10")), (ids(11..=20), Some("20.20".into()), 1));
        // An id that is not a number has no order: the page stops the listing (reading refuses
        // such an id before it gets here).
        let mut odd = ids(1..=18);
        odd.push("x".into());
        let err = read_page(&odd, Some("10.10"), 10, 20).0.unwrap_err();
        assert!(err.message.contains("out of tokenized_id order"), "{}", err.message);
        // A bulk deletion costs a few requests, not one per page deleted.
        let big = ids(1..=1000);
        let (p, _) = read_page(&big, Some("700.700"), 4, 1000);
        assert_eq!(p.unwrap().tokens.len(), 3);
        let (p, requests) = read_page(&big[700..], Some("700.700"), 4, 1000);
        assert_eq!(p.unwrap().tokens.iter().map(|t| t.id.clone()).collect::<Vec<_>>(), ids(701..=704));
        assert!(requests <= 24, "{requests} requests");
        // More rows than asked for, and the cap: 20 pages of 10 tokens.
        assert_eq!(read_page(&all, None, 1, 20).0.unwrap().tokens.len(), 1);
        let (p, _) = read_page(&ids(1..=11), None, 10, 20);
        assert_eq!(p.unwrap().next.as_deref(), Some("10.10"));
        let many = ids(1..=300);
        assert_eq!(page(&many[..200], Some("200.200")), (vec![], None, 1), "exactly at the cap: the listing ended");
        let err = read_page(&many, Some("200.200"), 10, 20).0.unwrap_err();
        assert_eq!((err.code, err.retryable), (ErrorCode::ProviderError, false));
        assert!(err.message.contains("20 pages"), "{}", err.message);
        // A page straddling the cap hands out the tokens before it; the next one stops.
        let (p, _) = read_page(&many, Some("195.195"), 10, 20);
        let p = p.unwrap();
        assert_eq!((p.tokens.len(), p.next.as_deref()), (5, Some("200.200")));
    }

    /// Random listings and removals (of rows handed out and of rows not yet read): every row that
    /// was there the whole time is handed out exactly once, and nothing twice.
    #[test]
    fn no_token_is_skipped_or_repeated_whatever_is_removed_between_pages() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..3_000 {
            let total = next(60);
            let page_size = 1 + next(8) as u32;
            let mut store: Vec<u64> = (1..=total).collect();
            let (mut handed, mut removed_unread, mut cursor) = (Vec::new(), Vec::new(), None::<String>);
            for _ in 0..400 {
                let rows: Vec<String> = store.iter().map(u64::to_string).collect();
                let page = read_page(&rows, cursor.as_deref(), page_size, 1000).0.unwrap();
                for t in &page.tokens {
                    let id: u64 = t.id.parse().unwrap();
                    handed.push(id);
                    if next(3) > 0 {
                        store.retain(|&x| x != id);
                    }
                }
                if next(4) == 0 && !store.is_empty() {
                    let victim = store[next(store.len() as u64) as usize];
                    if !handed.contains(&victim) {
                        removed_unread.push(victim);
                    }
                    store.retain(|&x| x != victim);
                }
                match page.next {
                    Some(n) => cursor = Some(n),
                    None => break,
                }
            }
            let mut sorted = handed.clone();
            sorted.dedup();
            assert_eq!(sorted.len(), handed.len(), "repeated: {handed:?}");
            let want: Vec<u64> = (1..=total).filter(|i| !removed_unread.contains(i)).collect();
            let got: Vec<u64> = handed.iter().copied().filter(|i| !removed_unread.contains(i)).collect();
            if page_size >= 2 {
                assert_eq!(got, want, "pages of {page_size}");
            }
        }
    }


    #[test]
    fn doc_example_maps() {
        let tokens = parse_token_list(&HttpResponse::new(200, fixture("list_doc_example.json")), NOW).unwrap();
        assert_eq!(tokens.len(), 1);
        let t = &tokens[0];
        assert_eq!((t.provider, t.id.as_str(), t.customer_id.as_deref()), (P, "1", Some("2")));
        assert_eq!((t.status, t.payment_method), (TokenStatus::Active, PaymentMethod::Unknown));
        assert_eq!(t.gateway_token.as_deref(), Some("cus_5tSkoQ6mDrXOMQ"));
        assert!(t.card.is_none() && t.label.is_none() && t.gateway.is_none() && t.created_at.is_none() && t.provider_status.is_none());
    }

    #[test]
    fn full_records_nulls_unknown_fields_pans_and_expiry() {
        let tokens = parse_token_list(&HttpResponse::new(200, fixture("list_cases.json")), NOW).unwrap();
        let by_id = |id: &str| tokens.iter().find(|t| t.id == id).unwrap();
        let visa = by_id("10");
        assert_eq!((visa.status, visa.payment_method), (TokenStatus::Active, PaymentMethod::Card));
        let c = visa.card.as_ref().unwrap();
        assert_eq!((c.brand.as_ref(), c.expiry_month, c.expiry_year), ("Visa", Some(5), Some(2031)));
        assert_eq!(visa.label.as_deref(), Some("Visa x4111"));
        assert_eq!((visa.gateway.as_deref(), visa.gateway_token.as_deref()), (Some("stripe"), Some("card_1f3a")));
        // Chicago time in winter (-06:00) and summer (-05:00), as ChargeOver writes it by default.
        assert_eq!(visa.created_at.as_deref(), Some("2024-03-05T14:22:10.000Z"));
        assert_eq!(visa.updated_at.as_deref(), Some("2024-07-06T09:00:00.000Z"));
        let expired = by_id("11");
        // An account set to times without an offset: no way to place them, so they are left out.
        assert_eq!((expired.created_at.as_deref(), expired.updated_at.as_deref()), (None, None));
        assert_eq!(expired.status, TokenStatus::Expired);
        assert_eq!(expired.card.as_ref().unwrap().brand, "Mastercard");
        // Expires 2025-01-31: still usable on the 15th.
        assert_eq!(by_id("12").status, TokenStatus::Active);
        // The end of the card's expiry month is when the token expires.
        assert_eq!(by_id("12").expires_at.as_deref(), Some("2025-01-31T23:59:59.999Z"));
        let ach = by_id("13");
        assert_eq!((ach.payment_method, ach.card.is_none()), (PaymentMethod::Ach, true));
        let pan = by_id("14");
        assert_eq!(pan.label.as_deref(), Some("Visa 411111******1111"));
        assert_eq!(pan.card.as_ref().unwrap().brand, "Unknown");
        let nulls = by_id("15");
        assert_eq!((nulls.status, nulls.payment_method), (TokenStatus::Active, PaymentMethod::Unknown));
        assert!(nulls.card.is_none() && nulls.customer_id.is_none() && nulls.gateway_token.is_none());
        assert_eq!(by_id("16").customer_id.as_deref(), Some("abc"));
        assert!(!serde_json::to_string(&tokens).unwrap().contains("4111111111111111"));
        // gateway is the merchant's own text too.
        let body = r#"{"status":"OK","response":[{"tokenized_id":5,"gateway":"stripe 4111111111111111"}]}"#;
        let token = parse_token_list(&HttpResponse::new(200, body), 0).unwrap().remove(0);
        assert_eq!(token.gateway.as_deref(), Some("stripe 411111******1111"));
        // Without paymethod_hint, a card brand or a card expiry makes the record a CARD; an
        // unknown hint stays UNKNOWN.
        let body = r#"{"status":"OK","response":[{"tokenized_id":1,"type_hint":"visa"},{"tokenized_id":2,"expdate":"2030-01-31"},{"tokenized_id":3,"type_hint":"other"},{"tokenized_id":4,"paymethod_hint":"xyz","type_hint":"visa"}]}"#;
        let methods: Vec<PaymentMethod> = parse_token_list(&HttpResponse::new(200, body), 0).unwrap().iter().map(|t| t.payment_method).collect();
        assert_eq!(methods, [PaymentMethod::Card, PaymentMethod::Card, PaymentMethod::Unknown, PaymentMethod::Unknown]);
        // An expiry in a form the SDK cannot read leaves the status UNKNOWN, not ACTIVE; a null,
        // empty or MySQL zero date is no expiry at all.
        let body = r#"{"status":"OK","response":[{"tokenized_id":1,"expdate":"31.01.2019"},{"tokenized_id":2,"expdate":"0000-00-00"},{"tokenized_id":3,"expdate":""},{"tokenized_id":4,"expdate":null},{"tokenized_id":5,"expdate":"0000-00-00 00:00:00"}]}"#;
        let statuses: Vec<(TokenStatus, Option<String>)> = parse_token_list(&HttpResponse::new(200, body), NOW).unwrap().into_iter().map(|t| (t.status, t.expires_at)).collect();
        assert_eq!(statuses, [(TokenStatus::Unknown, None), (TokenStatus::Active, None), (TokenStatus::Active, None), (TokenStatus::Active, None), (TokenStatus::Active, None)]);
        // A bank account has no expiry: a card date or brand on an ACH record makes no card and
        // expires nothing.
        let body = r#"{"status":"OK","response":[{"tokenized_id":1,"paymethod_hint":"ach","expdate":"2020-01-31","type_hint":"visa"},{"tokenized_id":2,"paymethod_hint":"ACH","expdate":"31.01.2019"}]}"#;
        for t in parse_token_list(&HttpResponse::new(200, body), NOW).unwrap() {
            assert_eq!((t.payment_method, t.status, t.card.is_none(), t.expires_at), (PaymentMethod::Ach, TokenStatus::Active, true, None));
        }
    }

    #[test]
    fn single_record_create_and_delete_replies() {
        let one = r#"{"code":200,"status":"OK","message":"","details":{},"response":{"tokenized_id":7,"customer_id":1002,"paymethod_hint":"crd","type_hint":"amex","expdate":"2030-02-28","token":"tok"}}"#;
        let t = parse_token(&HttpResponse::new(200, one), NOW).unwrap();
        assert_eq!((t.id.as_str(), t.card.as_ref().unwrap().brand.as_ref()), ("7", "American Express"));
        let created = r#"{"code":201,"status":"OK","message":"","details":{},"response":{"id":3529}}"#;
        assert_eq!(parse_created(&HttpResponse::new(201, created)).unwrap(), "3529");
        assert!(parse_delete(&HttpResponse::new(200, r#"{"code":200,"status":"OK","message":"","details":{},"response":true}"#)).is_ok());
        // ChargeOver's envelope comes on every reply: an empty one is a 204 or confirms nothing.
        assert!(parse_delete(&HttpResponse::new(204, "")).is_ok());
        assert_eq!(parse_delete(&HttpResponse::new(200, " ")).unwrap_err().code, ErrorCode::Decode);
        // `response: false` is ChargeOver's mark of a failure, whatever the status beside it says.
        let contradicted = parse_delete(&HttpResponse::new(200, r#"{"code":200,"status":"OK","response":false}"#)).unwrap_err();
        assert_eq!((contradicted.code, contradicted.outcome_unknown, contradicted.http_status), (ErrorCode::ProviderError, true, Some(200)));
        for confirmed in [r#"{"code":200,"status":"OK"}"#, r#"{"status":"OK","response":{"id":1}}"#, r#"{"status":"ok","response":null}"#] {
            assert!(parse_delete(&HttpResponse::new(200, confirmed)).is_ok(), "{confirmed}");
        }
        for body in ["", "[]", r#"{"code":200,"status":"OK","response":false}"#, r#"{"response":[]}"#, r#"{"status":"OK","response":[{"name":"x"}]}"#] {
            assert_eq!(parse_token_list(&HttpResponse::new(200, body), NOW).unwrap_err().code, ErrorCode::Decode, "{body}");
        }
    }

    #[test]
    fn error_envelopes() {
        let err = parse_token_list(&HttpResponse::new(400, fixture("error_400.json")), NOW).unwrap_err();
        assert_eq!((err.code, err.http_status, err.message.as_str()), (ErrorCode::InvalidInput, Some(400), "Missing or invalid parameter."));
        let err = parse_token_list(&HttpResponse::new(401, fixture("error_401.json")), NOW).unwrap_err();
        assert_eq!(err.code, ErrorCode::Authentication);
        assert_eq!(err.message, "Invalid or incorrect authorization [Missing (basic) authorization header.]");
        assert!(!err.renew_auth && !err.retryable);
        // An error inside an HTTP 200: the envelope decides.
        let body = r#"{"code":500,"status":"Error","message":"An error occurred while processing the request.","details":{},"response":false}"#;
        let err = parse_token_list(&HttpResponse::new(200, body), NOW).unwrap_err();
        assert_eq!((err.code, err.http_status), (ErrorCode::ProviderError, Some(200)));
        assert_eq!(err.message, "An error occurred while processing the request.");
        let err = parse_delete(&HttpResponse::new(200, fixture("error_401.json"))).unwrap_err();
        assert_eq!(err.code, ErrorCode::Authentication);
        let err = parse_created(&HttpResponse::new(200, r#"{"code":400,"status":"Error","message":"","response":false}"#)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput);
        assert!(err.message.contains("code 400"));
        let not_found = r#"{"code":404,"status":"Error","message":"Object not found.","details":{},"response":false}"#;
        let err = parse_token_list(&HttpResponse::new(404, not_found), NOW).unwrap_err();
        assert_eq!((err.code, err.http_status), (ErrorCode::ProviderError, Some(404)));
        assert_eq!(err.message, "Object not found. (HTTP 404 to a token query, which finds no rows rather than nothing: check baseUrl)");
        let err = parse_created(&HttpResponse::new(404, not_found)).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::ProviderError, "Object not found. (HTTP 404 to a new record: check baseUrl)"));
        let err = parse_token(&HttpResponse::new(404, r#"{"code":404,"status":"Error","message":"Object not found.","details":{},"response":false}"#), NOW).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::NotFound, "Object not found."));
        let err = parse_token_list(&HttpResponse::new(502, "<html>Bad Gateway</html>"), NOW).unwrap_err();
        assert_eq!((err.code, err.http_status, err.retryable), (ErrorCode::ProviderError, Some(502), true));
        let err = parse_token_list(&HttpResponse::new(429, r#"{"code":429,"status":"Error","message":"Too many requests."}"#), NOW).unwrap_err();
        assert_eq!((err.code, err.retryable, err.not_applied), (ErrorCode::RateLimited, true, true));
        // The same throttle inside a 200: a read may be repeated, a write is not (nothing proves
        // it was not applied).
        let err = parse_created(&HttpResponse::new(200, r#"{"code":429,"status":"Error","message":"Too many requests."}"#)).unwrap_err();
        assert_eq!((err.code, err.retryable, err.not_applied, err.http_status), (ErrorCode::RateLimited, true, false, Some(200)));
    }

    fn input(json: serde_json::Value) -> CreateTokenInput {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn create_request_shape() {
        let r = create_token_request(
            "https://x/api/v3",
            &input(json!({"customerId": "1002", "token": "cus_5tSkoQ6mDrXOMQ", "label": "Visa x4242", "paymentMethod": "CARD",
                          "brand": "Visa", "expiryMonth": 2, "expiryYear": 2028, "gateway": "stripe"})),
        )
        .unwrap();
        assert_eq!((r.method, r.url.as_str()), (Method::Post, "https://x/api/v3/tokenized"));
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"customer_id": 1002, "type": "customer", "token": "cus_5tSkoQ6mDrXOMQ", "name": "Visa x4242", "paymethod_hint": "crd",
                   "expdate": "2028-02-29", "type_hint": "visa", "gateway": "stripe"})
        );
        let body = create_body(&input(json!({"customerId": "7", "token": "ba_1", "paymentMethod": "ACH"}))).unwrap();
        assert_eq!(body, json!({"customer_id": 7, "type": "customer", "token": "ba_1", "paymethod_hint": "ach"}));
        let bad = |v: serde_json::Value| create_body(&input(v)).unwrap_err();
        let bad_token = |t: &str| create_body(&input(json!({"customerId": "1", "token": t}))).is_err_and(|e| e.message.contains("no card numbers"));
        for (v, field) in [
            (json!({"customerId": "1", "token": "4111111111111111"}), "token"),
            (json!({"customerId": "1", "token": "4111 1111 1111 1111"}), "token"),
            (json!({"customerId": "1", "token": "tok_4111111111111111"}), "token"),
            (json!({"customerId": "1", "token": ""}), "token"),
            (json!({"customerId": "1", "token": "t", "label": "Visa 4111111111111111"}), "label"),
            // Groups split by line breaks or an invisible joiner are still a card number.
            (json!({"customerId": "1", "token": "t", "label": "Visa 4111\n1111\n1111\n1111"}), "label"),
            (json!({"customerId": "1", "token": "t", "label": "Visa 4111\u{200D}1111\u{200D}1111\u{200D}1111"}), "label"),
            (json!({"customerId": "1", "token": "t", "label": "4\u{0}1\u{0}1\u{0}1\u{0}1111111111111"}), "label"),
            (json!({"customerId": "1", "token": "t", "paymentMethod": "UPI"}), "paymentMethod"),
            (json!({"customerId": "1", "token": "t", "brand": "RuPay"}), "brand"),
            (json!({"customerId": "1", "token": "t", "expiryMonth": 13, "expiryYear": 2030}), "expiryMonth"),
            (json!({"customerId": "1", "token": "t", "expiryMonth": 1}), "expiryYear"),
            (json!({"customerId": "a/b", "token": "t"}), "customerId"),
            (json!({"customerId": "C-7", "token": "t"}), "customerId"),
            (json!({"customerId": "007", "token": "t"}), "customerId"),
            (json!({"customerId": "1", "token": "t", "gateway": "pan 4111111111111111"}), "gateway"),
            (json!({"customerId": "1", "token": "t".repeat(256)}), "token"),
            (json!({"customerId": "1", "token": "tok\u{7}1"}), "token"),
            (json!({"customerId": "1", "token": "t", "gateway": ""}), "gateway"),
            (json!({"customerId": "1", "token": "t", "gateway": "stripe\n"}), "gateway"),
            // A card's brand and expiry on a bank account: stored, no read would show them.
            (json!({"customerId": "7", "token": "ba_1", "paymentMethod": "ACH", "brand": "mast"}), "brand"),
            (json!({"customerId": "7", "token": "ba_1", "paymentMethod": "ACH", "expiryMonth": 12, "expiryYear": 2030}), "expiryMonth"),
        ] {
            let err = bad(v.clone());
            assert_eq!(err.code, ErrorCode::InvalidInput, "{v}");
            assert!(err.message.starts_with(&format!("input.{field}: ")), "{}", err.message);
            assert!(!err.message.contains("4111"));
        }
        assert!(bad(json!({"customerId": "1", "token": "4111111111111111"})).message.contains("no card numbers"));
        // TransArmor-style all-digit tokens fail Luhn on purpose: they are tokens, not cards.
        for bad in ["card 4111 1111 1111 1111", "tok_4111-1111-1111-1111", "4111.1111.1111.1111"] {
            assert!(bad_token(bad), "{bad}");
        }
        // The 255 limit counts characters, not UTF-8 bytes.
        for token in ["2537446225198291", "tok-2537446225198291", &"é".repeat(255)] {
            assert_eq!(create_body(&input(json!({"customerId": "1", "token": token}))).unwrap()["token"], token);
        }
    }

    #[test]
    fn gateway_tokens_are_masked_only_where_a_card_number_is() {
        let row = |token: &str| {
            let body = json!({"code": 200, "status": "OK", "message": "", "details": {}, "response": [{"tokenized_id": 5, "token": token}]});
            parse_token_list(&HttpResponse::new(200, body.to_string()), NOW).unwrap().remove(0).gateway_token.unwrap()
        };
        assert_eq!(row("2537446225198291"), "2537446225198291");
        assert_eq!(row("4111111111111111"), "411111******1111");
        assert_eq!(row("card_4111111111111111"), "card_411111******1111");
        // However the groups are separated, as typed into ChargeOver's own screens.
        assert_eq!(row("4111 1111 1111 1111"), "4111 11** **** 1111");
        assert_eq!(row("4111-1111-1111-1111"), "4111-11**-****-1111");
        assert_eq!(row("tok.4111.1111.1111.1111"), "tok.4111.11**.****.1111");
        assert_eq!(row("2537-4462-2519-8291"), "2537-4462-2519-8291");
    }

    #[test]
    fn get_and_delete_paths() {
        assert_eq!(get_token_request("https://x/api/v3", "27").unwrap().url, "https://x/api/v3/tokenized/27");
        let d = delete_token_request("https://x/api/v3", "27").unwrap();
        assert_eq!((d.method, d.url.as_str()), (Method::Delete, "https://x/api/v3/tokenized/27"));
        assert_eq!(get_token_request("b", "../x").unwrap_err().code, ErrorCode::InvalidInput);
        for id in [".", "token:abc", "0", "027", "1.5", "12345678901234567890"] {
            assert_eq!(delete_token_request("b", id).unwrap_err().code, ErrorCode::InvalidInput, "{id}");
        }
    }
}

/// The client driving this module (and Payerly's), over the in-memory transport.
#[cfg(test)]
mod client_tests {
    use super::*;
    use crate::client::Client;
    use crate::config::ClientConfig;
    use crate::testing::FakeEnv;
    use futures::executor::block_on;
    use serde_json::json;

    /// A customer with `total` records, served by offset and limit like the real API.
    fn paging_env(total: usize) -> FakeEnv {
        store_env(std::rc::Rc::new(std::cell::RefCell::new((2..total as u64 + 2).collect())))
    }

    /// The records whose ids `store` holds, in id order; the test may remove some between pages.
    fn store_env(store: std::rc::Rc<std::cell::RefCell<Vec<u64>>>) -> FakeEnv {
        FakeEnv::new(move |req| {
            let param = |name: &str| {
                req.url.split(['?', '&']).find_map(|p| p.strip_prefix(&format!("{name}="))).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0)
            };
            let (offset, limit) = (param("offset"), param("limit"));
            let rows: Vec<_> = store
                .borrow()
                .iter()
                .skip(offset)
                .take(limit)
                .map(|id| json!({"tokenized_id": id, "customer_id": 1000, "paymethod_hint": "crd", "type_hint": "visa", "expdate": "2030-01-31"}))
                .collect();
            Ok(HttpResponse::new(200, json!({"code": 200, "status": "OK", "message": "", "details": {}, "response": rows}).to_string()))
        })
    }

    fn client(env: &FakeEnv, extra: serde_json::Value) -> Client<FakeEnv> {
        let mut config = json!({"provider": "chargeover", "username": "pub", "password": "priv", "baseUrl": "https://x.chargeover.com/api/v3"});
        config.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        Client::new(ClientConfig::parse(&config.to_string()).unwrap(), env.clone()).unwrap()
    }

    fn list(customer: &str) -> crate::model::ListTokensInput {
        crate::model::ListTokensInput { customer_id: customer.into() }
    }

    #[test]
    fn listing_follows_offsets_until_a_short_page() {
        let env = paging_env(25);
        let tokens = block_on(client(&env, json!({"pageSize": 10})).list_tokens(&list("1000"))).unwrap();
        assert_eq!(tokens.len(), 25);
        let sent = env.sent.borrow();
        let urls: Vec<&str> = sent.iter().map(|r| r.url.as_str()).collect();
        // Each page after the first starts one row early, to check that nothing moved.
        assert_eq!(
            urls,
            [0, 9, 18].map(|o| format!("https://x.chargeover.com/api/v3/tokenized?where=customer_id:EQUALS:1000&order=tokenized_id:ASC&offset={o}&limit=10"))
        );
        assert_eq!(sent[0].header_value("Authorization"), Some("Basic cHViOnByaXY="));
    }

    #[test]
    fn removing_tokens_between_pages_skips_none() {
        // The usual clean-up: read a page, delete every expired token on it, read on.
        for (total, page_size, remove_every) in [(25, 10, 1), (25, 10, 2), (40, 3, 1), (7, 2, 1), (30, 10, 3)] {
            let store = std::rc::Rc::new(std::cell::RefCell::new((2..total as u64 + 2).collect::<Vec<_>>()));
            let env = store_env(store.clone());
            let c = client(&env, json!({"pageSize": page_size}));
            let (mut seen, mut cursor) = (Vec::new(), None::<String>);
            loop {
                let page = block_on(c.list_tokens_page(&list("1000"), cursor.as_deref(), None)).unwrap();
                for t in &page.tokens {
                    let id: u64 = t.id.parse().unwrap();
                    seen.push(id);
                    if id % remove_every == 0 {
                        store.borrow_mut().retain(|&x| x != id);
                    }
                }
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, (2..total as u64 + 2).collect::<Vec<_>>(), "{total} tokens, pages of {page_size}, every {remove_every}th removed");
        }
    }

    #[test]
    fn the_page_cap_allows_one_request_to_see_the_end_and_no_more() {
        let env = paging_env(25);
        let err = block_on(client(&env, json!({"pageSize": 10, "maxPages": 2})).list_tokens(&list("1000"))).unwrap_err();
        assert_eq!(err.code, ErrorCode::ProviderError);
        // Pages after the first hand out one row fewer (they start one row early), so a third
        // page hands out the 20th token and a fourth shows there is more.
        assert_eq!(env.sent.borrow().len(), 4, "three pages to the cap, and a fourth that shows there is more");
        // Exactly two full pages: the empty third, past a cap of 2, shows the listing is complete.
        let env = paging_env(20);
        assert_eq!(block_on(client(&env, json!({"pageSize": 10, "maxPages": 2})).list_tokens(&list("1000"))).unwrap().len(), 20);
        assert_eq!(env.sent.borrow().len(), 3);
    }

    #[test]
    fn payerly_operations_without_an_endpoint_send_nothing() {
        let env = paging_env(0);
        let config = ClientConfig::parse(&json!({"provider": "payerly", "apiKey": "k", "baseUrl": "https://api.sandbox.payerly.tech/v1"}).to_string()).unwrap();
        let c = Client::new(config, env.clone()).unwrap();
        let errors = [
            block_on(c.list_tokens(&list("a"))).unwrap_err(),
            block_on(c.delete_token(&crate::model::DeleteTokenInput { token_id: "t".into(), customer_id: None })).unwrap_err(),
            block_on(c.query_tokens(&TokenQuery::default())).unwrap_err(),
            block_on(c.create_token(&serde_json::from_value(json!({"customerId": "1", "token": "t"})).unwrap())).unwrap_err(),
            block_on(c.update_token_status(&serde_json::from_value(json!({"tokenId": "t", "status": "SUSPENDED"})).unwrap())).unwrap_err(),
        ];
        assert!(errors.iter().all(|e| e.code == ErrorCode::Unsupported), "{errors:?}");
        assert!(env.sent.borrow().is_empty());
        let caps = c.capabilities();
        assert!(caps.get_token && !caps.list_tokens && !caps.delete_token && !caps.pagination);
    }
}
