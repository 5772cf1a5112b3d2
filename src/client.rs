//! The client drives every operation: authenticate → build → send → retry → parse.
//! Providers supply pure request builders and parsers; this is the only place that sequences them.

use futures::future::LocalBoxFuture;
use futures::FutureExt;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::auth::credential::{Credential, Grant};
use crate::auth::jwe::PrivateKey;
use crate::config::{ClientConfig, Encryption, Settings};
use crate::error::{Error, ErrorCode, Result, WriteOutcome};
use crate::http::{HttpRequest, HttpResponse};
use crate::model::*;
use crate::providers::alliancepay::{self, Session};
use crate::providers::pinelabs::{self, AccessToken};
use crate::providers::{chargeover, payerly};
use crate::retry::{parse_retry_after, Safety};
use crate::secret::Secret;
use crate::status;
use crate::transport::{Env, FaultKind};

/// Reuse a Pine Labs access token until this long before it expires.
const EXPIRY_MARGIN_MS: u64 = 60_000;
/// The longest a throttled sign-in holds the next ones. The caller is told the whole wait asked
/// for; but a bogus `Retry-After` (a CDN's or a WAF's, a day) must not lock a long-lived client
/// until it is rebuilt: one sign-in every 5 minutes costs the provider nothing.
const MAX_SIGN_IN_HOLD_MS: u64 = 300_000;
/// After the provider refused the merchant's credentials at sign-in, the refusal is repeated
/// without a new sign-in for this long: a server's every call would otherwise send one more
/// refused sign-in, which providers count toward locking the merchant's account out. Credentials
/// corrected at the provider are tried again after it; a client made with new ones signs in at once.
const REFUSED_SIGN_IN_HOLD_MS: u64 = 30_000;
/// AlliancePay's own clients open a new session when under 30 s remain.
const SESSION_MARGIN_MS: u64 = 30_000;
/// After a renewal within those margins failed, the credential still valid serves this long
/// before another renewal is tried (`Inner::renew_after`).
const RENEWAL_PAUSE_MS: u64 = 5_000;
/// The reply bytes one `list_tokens` reads over all its pages: four replies at the transport's cap
/// (js/fetch.js), and hundreds of times what a customer's cards take.
#[cfg(not(test))]
const MAX_LISTING_BYTES: usize = 128 << 20;
/// Small in tests, so that passing it does not take 128 MiB of replies.
#[cfg(test)]
pub(crate) const MAX_LISTING_BYTES: usize = 1 << 20;

pub struct Client<E: Env> {
    inner: Rc<Inner<E>>,
    /// Whether a request of this call may have changed something at the provider: set as a write
    /// attempt is sent, and cleared again when its reply proves it unapplied (a throttle, a
    /// refused connection, a refused credential). A caller that stops the call reads it (see
    /// `for_one_call`). Each clone has its own, and each write starts it afresh: concurrent writes
    /// are told apart when each runs on a clone, as the wasm's calls do.
    in_doubt: Rc<Cell<bool>>,
    /// `deadlineMs` for this client's calls: the config's, or one call's own (`within`).
    budget_ms: Option<u32>,
}

impl<E: Env> Clone for Client<E> {
    fn clone(&self) -> Self {
        // A call of its own: `in_doubt` is not shared (see `for_one_call`).
        Client { inner: self.inner.clone(), in_doubt: Rc::default(), budget_ms: self.budget_ms }
    }
}

struct Inner<E> {
    env: E,
    settings: Settings,
    connector: Connector,
    sign_in_hold: Rc<SignInHold>,
    /// No renewal of a credential still valid before this time (epoch ms): the last one failed,
    /// and the calls in the meantime would each wait for another failing sign-in.
    renew_after: Cell<u64>,
}

/// What the last failed sign-in leaves for the next ones: no sign-in before `until` (epoch ms).
/// Set when the provider throttled one with a wait the SDK did not sit out, or refused the
/// merchant's credentials; either way every call would otherwise send another at once.
#[derive(Default)]
struct SignInHold {
    until: Cell<u64>,
    /// When `until` was set: a clock set back before it (an NTP step, a VM restored) ends the
    /// hold, which would otherwise last as long as the step, far past `MAX_SIGN_IN_HOLD_MS`.
    since: Cell<u64>,
    /// The refusal of the credentials, repeated while held; none for a throttle.
    refusal: RefCell<Option<Error>>,
}

impl SignInHold {
    /// The merchant's credentials refused (redacted already): repeated for 30 s, never shortening
    /// a longer hold. Without its request id: the calls it is repeated to send none.
    fn hold_refusal<E: Env>(&self, env: &E, refused: &Error) {
        let now = env.now_ms();
        self.hold(now, self.until.get().max(now.saturating_add(REFUSED_SIGN_IN_HOLD_MS)));
        let mut held = refused.clone();
        held.request_id = None;
        *self.refusal.borrow_mut() = Some(held);
    }

    fn hold(&self, now: u64, until: u64) {
        self.until.set(until);
        self.since.set(now);
    }

    /// Whether a sign-in is held at `now`.
    fn holds(&self, now: u64) -> bool {
        now < self.until.get() && now >= self.since.get()
    }
}

enum Connector {
    Pinelabs { client_id: String, client_secret: Secret, token: Credential<AccessToken> },
    /// `owner` marks the sessions this client saves and accepts (`alliancepay::session_owner`).
    Alliancepay { service_code: Secret, owner: String, key: PrivateKey, encryption: Encryption, session: Credential<Session> },
    /// `authorization` is the whole Basic header value, built once.
    Chargeover { authorization: Secret, password: Secret, page_size: u32, max_pages: u32 },
    /// `authorization` is the whole Bearer header value, built once.
    Payerly { authorization: Secret },
}

/// When a call must end; `None` without `deadlineMs`.
type Deadline = Option<Due>;

#[derive(Clone, Copy)]
pub(crate) struct Due {
    /// Epoch ms.
    at: u64,
    /// The least time an attempt is sent with (see `MIN_ATTEMPT_MS`).
    least_ms: u64,
}

/// The credential one call runs with.
enum AuthGrant {
    PineLabs(Grant<AccessToken>),
    AlliancePay(Grant<Session>),
    /// A static `Authorization` header (ChargeOver Basic, Payerly Bearer): nothing to renew.
    Static(Secret),
}

impl<E: Env> Client<E> {
    pub fn new(config: ClientConfig, env: E) -> Result<Self> {
        let settings = config.settings()?;
        let connector = match config {
            ClientConfig::Pinelabs(c) => Connector::Pinelabs { client_id: c.client_id, client_secret: c.client_secret, token: Credential::default() },
            ClientConfig::Alliancepay(c) => {
                let owner = alliancepay::session_owner(c.service_code.expose(), &settings.base_url);
                Connector::Alliancepay {
                    key: alliancepay::merchant_key(&c.merchant_private_key)?,
                    session: match &c.session {
                        // A session saved before sessions named their owner is not used, since it
                        // could be anyone's, nor one too long to send (`Session::sendable`): the
                        // first call signs in afresh and reports the new one.
                        Some(saved) if saved.issued_for.is_none() || !Session::sendable(saved) => Credential::default(),
                        Some(saved) => Credential::with_value(Session::resume(saved, &owner)?),
                        None => Credential::default(),
                    },
                    owner,
                    service_code: c.service_code,
                    encryption: c.encryption.unwrap_or_default(),
                }
            }
            ClientConfig::Chargeover(c) => Connector::Chargeover {
                authorization: chargeover::basic_authorization(&c.username, &c.password),
                password: c.password,
                page_size: c.page_size.unwrap_or(chargeover::DEFAULT_PAGE_SIZE),
                max_pages: c.max_pages.unwrap_or(chargeover::DEFAULT_MAX_PAGES),
            },
            ClientConfig::Payerly(c) => Connector::Payerly { authorization: payerly::bearer_authorization(&c.api_key) },
        };
        let budget_ms = settings.deadline_ms;
        Ok(Client { inner: Rc::new(Inner { env, settings, connector, sign_in_hold: Rc::default(), renew_after: Cell::new(0) }), in_doubt: Rc::default(), budget_ms })
    }

    pub fn provider(&self) -> Provider {
        self.inner.settings.provider
    }

    pub fn capabilities(&self) -> Capabilities {
        match self.inner.connector {
            Connector::Pinelabs { .. } => Capabilities {
                list_tokens: true,
                get_token: true,
                update_token_status: false,
                delete_token: true,
                create_token: false,
                query_tokens: false,
                pagination: false,
            },
            Connector::Alliancepay { .. } => Capabilities {
                list_tokens: true,
                get_token: true,
                update_token_status: true,
                delete_token: true,
                create_token: false,
                query_tokens: false,
                pagination: false,
            },
            Connector::Chargeover { .. } => Capabilities {
                list_tokens: true,
                get_token: true,
                update_token_status: false,
                delete_token: true,
                create_token: true,
                query_tokens: true,
                pagination: true,
            },
            Connector::Payerly { .. } => Capabilities {
                list_tokens: false,
                get_token: true,
                update_token_status: false,
                delete_token: false,
                create_token: false,
                query_tokens: false,
                pagination: false,
            },
        }
    }

    /// Every page; `deadlineMs` bounds them all together. What one listing holds is bounded too
    /// (`MAX_LISTING_BYTES`): each reply is capped, but 200 pages of them would be more than wasm's
    /// memory, and running out of it ends the instance, not just the call.
    pub async fn list_tokens(&self, input: &ListTokensInput) -> Result<Vec<Token>> {
        let deadline = self.deadline();
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        let read = Cell::new(0);
        loop {
            let page = self.page(input, cursor.as_deref(), deadline, &read).await?;
            if read.get() > MAX_LISTING_BYTES {
                let provider = self.provider().as_str();
                let message = format!("the {provider} listing was not read whole: its replies passed {} MiB together; list it page by page with iterateTokens", MAX_LISTING_BYTES >> 20);
                return Err(Error::new(ErrorCode::Decode, message).with_provider(self.provider()));
            }
            all.extend(page.tokens);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// One page; `cursor` is the `next` of the previous page. `started_ms` is when this page was
    /// asked for, less the time the listing's earlier pages took: `deadlineMs` bounds the SDK's
    /// time over all its pages together, as in `list_tokens`, but not the caller's between them.
    pub async fn list_tokens_page(&self, input: &ListTokensInput, cursor: Option<&str>, started_ms: Option<u64>) -> Result<TokenPage> {
        let deadline = match started_ms {
            Some(started) => due(started, self.budget_ms, &self.inner.settings),
            None => self.deadline(),
        };
        self.page(input, cursor, deadline, &Cell::new(0)).await
    }

    /// `read` counts the reply bytes the page took.
    async fn page(&self, input: &ListTokensInput, cursor: Option<&str>, deadline: Deadline, read: &Cell<usize>) -> Result<TokenPage> {
        let base = &self.inner.settings.base_url;
        let mut page = match &self.inner.connector {
            Connector::Pinelabs { .. } => {
                let parse = |r: &HttpResponse| pinelabs::parse_customer_list(r, self.inner.env.now_ms(), Some(&input.customer_id));
                TokenPage { tokens: self.call(deadline, Safety::Read, || pinelabs::list_tokens_request(base, &input.customer_id), parse).await?, next: None }
            }
            Connector::Alliancepay { .. } => {
                let build = || alliancepay::list_tokens_request(base, &input.customer_id);
                TokenPage { tokens: self.call(deadline, Safety::Read, build, alliancepay::parse_token_list).await?, next: None }
            }
            Connector::Chargeover { page_size, max_pages, .. } => {
                // PageRead bounds the windows a search back may read.
                let mut window = chargeover::PageRead::new(chargeover::parse_cursor(cursor)?, *page_size, *max_pages)?;
                loop {
                    let start = window.start();
                    let build = || chargeover::list_page_request(base, &input.customer_id, start, *page_size);
                    let parse = |r: &HttpResponse| {
                        read.set(read.get() + r.body.len());
                        chargeover::parse_token_list(r, self.inner.env.now_ms())
                    };
                    let tokens = self.call(deadline, Safety::Read, build, parse).await?;
                    if let Some(page) = window.step(tokens)? {
                        break page;
                    }
                }
            }
            Connector::Payerly { .. } => return Err(Error::unsupported(self.provider(), "token listing")),
        };
        self.check_rows(&input.customer_id, &mut page.tokens)?;
        Ok(page)
    }

    /// A listing is of one customer's tokens. A row under another customer (a filter the provider
    /// ignored, a cache or proxy in between) fails the whole listing: handed out, another
    /// customer's cards would be shown, charged or deleted by a job that trusts the listing. A row
    /// that names no customer is the one asked for, whose tokens the provider was asked to filter.
    /// A token listed twice (a proxy or cache that repeats a row) fails it too: a job would act on
    /// it twice, and the count would be wrong.
    fn check_rows(&self, customer_id: &str, tokens: &mut [Token]) -> Result<()> {
        let provider = self.provider();
        let mut ids: Vec<&str> = tokens.iter().map(|t| t.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(twice) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            let id = crate::card::scrub_pans_borrowed(twice[0]);
            let message = format!("{} listed token {id} twice in the listing of customer {customer_id}; no token of this reply is handed out", provider.as_str());
            return Err(Error::new(ErrorCode::ProviderError, message).with_provider(provider));
        }
        let Some(stray) = tokens.iter().find(|t| under_another(Some(customer_id), t)) else {
            for token in tokens.iter_mut().filter(|t| t.customer_id.is_none()) {
                token.customer_id = Some(customer_id.to_string());
            }
            return Ok(());
        };
        let message = format!(
            "{} answered the listing of customer {customer_id} with token {} of another customer; no token of this reply is handed out",
            provider.as_str(),
            crate::card::scrub_pans_borrowed(&stray.id)
        );
        Err(Error::new(ErrorCode::ProviderError, message).with_provider(provider))
    }

    pub async fn get_token(&self, input: &GetTokenInput) -> Result<Token> {
        self.token(input, self.deadline()).await
    }

    async fn token(&self, input: &GetTokenInput, deadline: Deadline) -> Result<Token> {
        let base = &self.inner.settings.base_url;
        if !matches!(self.inner.connector, Connector::Payerly { .. }) {
            refuse_payerly_only(input).map_err(|e| e.with_provider(self.provider()))?;
        }
        // A customerId that scopes the call is checked as the provider's ids are, before any
        // request (Pine Labs' as a segment of the request's path, when it is built).
        if let Some(customer) = input.customer_id.as_deref() {
            let checked = match self.inner.connector {
                Connector::Pinelabs { .. } => Ok(()),
                Connector::Alliancepay { .. } => crate::http::validate_body_id("input.customerId", customer).map(drop),
                Connector::Chargeover { .. } => chargeover::check_customer_id(customer),
                Connector::Payerly { .. } => crate::http::validate_id("input.customerId", customer).map(drop),
            };
            checked.map_err(|e| e.with_provider(self.provider()))?;
        }
        let token = match &self.inner.connector {
            Connector::Pinelabs { .. } => {
                let build = || pinelabs::get_token_request(base, input.customer_id.as_deref(), &input.token_id);
                self.call(deadline, Safety::Read, build, |r| pinelabs::parse_token(r, self.inner.env.now_ms(), input.customer_id.as_deref())).await
            }
            Connector::Alliancepay { .. } => {
                let build = || alliancepay::get_token_request(base, &input.token_id);
                self.call(deadline, Safety::Read, build, |r| alliancepay::parse_token(r, &input.token_id)).await
            }
            Connector::Chargeover { .. } => {
                let build = || chargeover::get_token_request(base, &input.token_id);
                self.call(deadline, Safety::Read, build, |r| chargeover::parse_token(r, self.inner.env.now_ms())).await
            }
            Connector::Payerly { .. } => {
                let build = || payerly::get_token_request(base, input);
                let raw = input.include_raw.unwrap_or(false);
                self.call(deadline, Safety::Read, build, |r| payerly::parse_token(r, self.inner.env.now_ms(), raw)).await
            }
        }?;
        // A reply about another token (a cache in between, the first of several items) must not
        // stand for the one asked for: its status and expiry would be another card's.
        if token.id != input.token_id {
            return Err(Error::decode(self.provider(), "the reply is about another token than the one asked for"));
        }
        // A `customerId` given scopes the call: another customer's token is refused, not read.
        // Pine Labs scopes by its path already (`pinelabs::parse_token`). A token whose reply names
        // no customer cannot be checked: a get returns it (`owned_by` refuses it for a delete or a
        // status change).
        if under_another(input.customer_id.as_deref(), &token) {
            let why = format!("token {} is not this customer's (the provider has it under another customer)", crate::card::scrub_pans_borrowed(&token.id));
            return Err(Error::invalid_input("input.customerId", &why).with_provider(self.provider()));
        }
        Ok(token)
    }

    /// The read before a delete or status change: the token, checked against the customer when
    /// one is given. A write scoped to a customer is not sent for a token whose owner the reply
    /// does not name.
    async fn owned_by(&self, token_id: &str, customer_id: Option<&str>, deadline: Deadline) -> Result<Token> {
        let read = GetTokenInput { token_id: token_id.to_string(), customer_id: customer_id.map(str::to_string), ..GetTokenInput::default() };
        let token = self.token(&read, deadline).await?;
        if customer_id.is_some() && token.customer_id.is_none() {
            let why = format!("cannot be checked: the provider's reply names no customer for token {}, so it was not changed", token.id);
            return Err(Error::invalid_input("input.customerId", &why).with_provider(self.provider()));
        }
        Ok(token)
    }

    /// The token by its id alone: the read after a change.
    async fn token_by_id(&self, token_id: &str, deadline: Deadline) -> Result<Token> {
        self.owned_by(token_id, None, deadline).await
    }

    /// Checks the transition against the token's current status first: a forbidden move sends
    /// no update, nor does one to the status the token already has. Resolves to the token as the
    /// provider holds it after the change.
    pub async fn update_token_status(&self, input: &UpdateTokenStatusInput) -> Result<Token> {
        self.update_token_status_noting(input, &|_, _| {}).await
    }

    /// `update_token_status`, telling `done` what was changed once the provider confirms it
    /// (see `Done`).
    pub async fn update_token_status_noting(&self, input: &UpdateTokenStatusInput, done: Done<'_>) -> Result<Token> {
        self.in_doubt.set(false);
        let deadline = self.deadline();
        if let Some(unchanged) = self.change_status(input, deadline).await? {
            return Ok(unchanged);
        }
        let made = format!("the token is now {}", input.status.as_str());
        done(&made, &input.token_id);
        let token = self.token_by_id(&input.token_id, deadline).await.map_err(|e| after_write(e, &made, &input.token_id))?;
        // The bank confirmed the change, yet its read says otherwise (a read that lags the write,
        // or another caller's change since): neither is the token "as it is afterwards".
        if token.status != input.status {
            let why = format!("{made} (the provider confirmed the change), but the token read after it is {}: read it again before relying on either", token.status.as_str());
            return Err(made_but(self.provider(), why, Some(&input.token_id)));
        }
        // Read back under another customer than the change was scoped to: that customer's token
        // is not handed out, here as anywhere (the read before the change found it the caller's).
        if under_another(input.customer_id.as_deref(), &token) {
            let asked = input.customer_id.as_deref().unwrap_or_default();
            let why = format!("{made}, but the token read after it is under another customer than {asked}: read it again before relying on it");
            return Err(made_but(self.provider(), why, Some(&input.token_id)));
        }
        Ok(token)
    }

    /// Read, check, change, all within `deadline`. No read
    /// after the change: a delete has nothing to return, and a read that failed after it would
    /// report a deletion that happened as a failure. A token that already has the status is
    /// returned as read, with nothing sent (`None` when a change was sent).
    async fn change_status(&self, input: &UpdateTokenStatusInput, deadline: Deadline) -> Result<Option<Token>> {
        let base = &self.inner.settings.base_url;
        match &self.inner.connector {
            Connector::Alliancepay { .. } => {
                let build = || alliancepay::state_update_request(base, &input.token_id, input.status);
                build()?; // validated before the status read below
                let token = self.owned_by(&input.token_id, input.customer_id.as_deref(), deadline).await?;
                let current = token.status;
                // Already so: nothing to send. A caller repeating a change whose outcome was
                // unknown (a timeout) gets the token, not an error for the change it made.
                if current == input.status {
                    return Ok(Some(token));
                }
                if !status::can_transition(current, input.status) {
                    return Err(Error::new(
                        ErrorCode::InvalidTransition,
                        format!("a {} token cannot become {}", current.as_str(), input.status.as_str()),
                    )
                    .with_provider(self.provider()));
                }
                match self.call(deadline, Safety::Write, build, |r| alliancepay::parse_state_update(r, &input.token_id)).await {
                    Ok(()) => Ok(None),
                    // "Not updated" is also the answer to a change already made: a repeat of a
                    // request whose first reply was lost (b_overload_error is retried), or another
                    // caller's change to the same status. And the bank may make a change it then
                    // answers with b_overload_error, the last answer once the retries ran out.
                    // The token tells which. Not when nothing of this call can have been applied:
                    // a change refused as a stale session, whose renewal sign-in was then answered
                    // b_overload_error, never reached the bank (`in_doubt`).
                    Err(refused) if self.in_doubt.get() && (refused.code == ErrorCode::InvalidTransition || refused.provider_code.as_deref() == Some("b_overload_error") || refused.overloaded_before) => {
                        match self.owned_by(&input.token_id, input.customer_id.as_deref(), deadline).await {
                            Ok(now) if now.status == input.status => Ok(Some(now)),
                            Ok(_) => Err(refused),
                            // Unread, the answer may still hide a change already made.
                            Err(unread) => Err(not_known_after_refusal(&unread, &refused, &input.token_id)),
                        }
                    }
                    Err(failed) => Err(failed),
                }
            }
            _ => Err(Error::unsupported(self.provider(), "token status change")),
        }
    }

    /// Stores a gateway token, then reads the stored record back so the caller gets what the
    /// provider holds.
    pub async fn create_token(&self, input: &CreateTokenInput) -> Result<Token> {
        self.create_token_noting(input, &|_, _| {}).await
    }

    /// `create_token`, telling `done` the new record's id once the provider confirms it (see
    /// `Done`).
    pub async fn create_token_noting(&self, input: &CreateTokenInput, done: Done<'_>) -> Result<Token> {
        self.in_doubt.set(false);
        let base = &self.inner.settings.base_url;
        let deadline = self.deadline();
        match &self.inner.connector {
            Connector::Chargeover { .. } => {
                let build = || chargeover::create_token_request(base, input);
                let id = self.call(deadline, Safety::Store, build, chargeover::parse_created).await?;
                let made = format!("stored as tokenized_id {id}");
                done(&made, &id);
                let token = self.token_by_id(&id, deadline).await.map_err(|e| after_write(e, &made, &id))?;
                // Stored, but not where it was asked to be (the reply's id is another record's, or
                // the instance moved it). No `tokenId`: it would name another customer's record as
                // the one to read or undo.
                if let Some(owner) = token.customer_id.as_deref().filter(|owner| *owner != input.customer_id) {
                    let customer = &input.customer_id;
                    let owner = crate::card::scrub_pans_borrowed(owner);
                    let why = format!("{made}, but the record read back under that id is customer {owner}'s, not customer {customer}'s: list customer {customer}'s tokens before storing again");
                    return Err(made_but(self.provider(), why, None));
                }
                Ok(token)
            }
            _ => Err(Error::unsupported(self.provider(), "token creation")),
        }
    }

    /// One page of a ChargeOver query; `limit` defaults to the client's page size.
    pub async fn query_tokens(&self, query: &TokenQuery) -> Result<Vec<Token>> {
        let base = &self.inner.settings.base_url;
        let deadline = self.deadline();
        match &self.inner.connector {
            Connector::Chargeover { page_size, .. } => {
                let query = TokenQuery { limit: query.limit.or(Some(*page_size)), ..query.clone() };
                let build = || chargeover::query_request(base, &query);
                self.call(deadline, Safety::Read, build, |r| chargeover::parse_token_list(r, self.inner.env.now_ms())).await
            }
            _ => Err(Error::unsupported(self.provider(), "token query")),
        }
    }

    pub async fn delete_token(&self, input: &DeleteTokenInput) -> Result<()> {
        self.in_doubt.set(false);
        let base = &self.inner.settings.base_url;
        let deadline = self.deadline();
        match &self.inner.connector {
            Connector::Pinelabs { .. } => {
                let mut random = [0u8; 24];
                self.inner.env.fill_random(&mut random);
                let reference = pinelabs::unique_reference(&random);
                let build = || pinelabs::delete_token_request(base, input.customer_id.as_deref(), &input.token_id, &reference);
                self.call(deadline, Safety::Write, build, |r| pinelabs::parse_delete(r, &input.token_id, input.customer_id.as_deref())).await
            }
            Connector::Alliancepay { .. } => {
                // Deleting is the DELETED status; a token already deleted stays so (idempotent).
                let delete = UpdateTokenStatusInput { token_id: input.token_id.clone(), status: TokenStatus::Deleted, customer_id: input.customer_id.clone() };
                self.change_status(&delete, deadline).await.map(drop)
            }
            Connector::Chargeover { .. } => {
                // Its delete names the token alone: a customer given is checked by reading first.
                if input.customer_id.is_some() {
                    self.owned_by(&input.token_id, input.customer_id.as_deref(), deadline).await?;
                }
                let build = || chargeover::delete_token_request(base, &input.token_id);
                self.call(deadline, Safety::Write, build, chargeover::parse_delete).await
            }
            Connector::Payerly { .. } => Err(Error::unsupported(self.provider(), "token deletion")),
        }
    }

    /// This client for one call of its own, and the call's `in_doubt`: whether, when the call is
    /// stopped, a change it sent may have been applied. Per call, so that a concurrent write on
    /// the same client does not make another's outcome look unknown, nor known.
    pub fn for_one_call(&self) -> (Self, Rc<Cell<bool>>) {
        let call = self.clone();
        let in_doubt = call.in_doubt.clone();
        (call, in_doubt)
    }

    /// This client for a call with a `deadlineMs` of its own, which replaces the config's (a longer
    /// one for a batch job, a shorter one for a page a person waits on); `None` keeps the config's.
    pub fn within(mut self, budget_ms: Option<u32>) -> Self {
        self.budget_ms = budget_ms.or(self.budget_ms);
        self
    }

    /// When the call that starts now must end: `deadlineMs` is one budget for everything a
    /// public method does (every page, a status read and its change, a sign-in it waits for).
    fn deadline(&self) -> Deadline {
        due(self.inner.env.now_ms(), self.budget_ms, &self.inner.settings)
    }

    /// Runs one request with authentication: on a stale-credential reply, renews once and tries again.
    async fn call<T>(&self, deadline: Deadline, safety: Safety, build: impl Fn() -> Result<HttpRequest>, parse: impl Fn(&HttpResponse) -> Result<T>) -> Result<T> {
        let mut parsed = None;
        self.exchange(deadline, safety, &build, &mut |resp| parse(resp).map(|value| parsed = Some(value))).await?;
        parsed.ok_or_else(unread)
    }

    /// `call` without its result type, so that one copy of the auth and retry machinery serves
    /// every operation (generic copies of it were most of the wasm's size).
    fn exchange<'a>(
        &'a self,
        deadline: Deadline,
        safety: Safety,
        build: &'a dyn Fn() -> Result<HttpRequest>,
        parse: &'a mut dyn FnMut(&HttpResponse) -> Result<()>,
    ) -> LocalBoxFuture<'a, Result<()>> {
        Box::pin(async move {
            // Invalid input fails here, before any request leaves (the sign-in request included).
            build()?;
            let mut renewed = false;
            // One count across the renewal: a renewed credential earns one more attempt, not a
            // fresh set of retries.
            let mut retries = 0;
            // Kept across the renewal too: see `Error::overloaded_before`.
            let mut overloaded = false;
            // Requests this call sent, and since when: "no reply within 500 ms" after three of
            // them and their waits would understate how long the call took.
            let mut attempts = 0;
            let started = self.inner.env.now_ms();
            let settle = |mut e: Error, overloaded: bool, attempts: u32| {
                e.overloaded_before |= overloaded;
                if attempts > 1 {
                    note_attempts(&mut e, attempts, self.inner.env.now_ms().saturating_sub(started));
                }
                e
            };
            loop {
                let grant = match self.authorize_within(deadline).await {
                    Ok(grant) => grant,
                    Err(e) => return Err(settle(self.redact(e, None), overloaded, attempts)),
                };
                let wire = match (&grant, &self.inner.connector) {
                    (AuthGrant::AlliancePay(g), Connector::Alliancepay { key, encryption, .. }) => Wire::Sealed { session: &g.value, key, encryption: *encryption },
                    _ => Wire::Plain,
                };
                let authorized = || {
                    let mut req = build()?;
                    self.apply(&grant, &mut req)?;
                    Ok(req)
                };
                let mut result = send_with_retry(&self.inner.env, &self.inner.settings, safety, &wire, deadline, (&mut retries, &mut attempts), &self.in_doubt, &authorized, &mut *parse).await;
                if let Wire::Sealed { encryption, .. } = &wire {
                    result = result.map_err(|e| alliancepay::encryption_hint(e, *encryption));
                }
                match result {
                    Err(e) if e.renew_auth => {
                        // Dropped even when this call gives up: a credential the provider refused
                        // would otherwise cost every later call a doomed first attempt.
                        self.reject(&grant);
                        overloaded |= e.overloaded_before;
                        if renewed {
                            return Err(settle(self.redact(e, Some(&grant)), overloaded, attempts));
                        }
                        renewed = true;
                    }
                    // Access revoked (AlliancePay's idle serviceCode): the session is dead, and
                    // so is any sign-in for 30 s, as when a sign-in is refused. Otherwise every
                    // call would spend a refused request on the same session.
                    Err(e) if e.code == ErrorCode::CredentialsRevoked => {
                        self.reject(&grant);
                        let e = self.redact(e, Some(&grant));
                        self.inner.sign_in_hold.hold_refusal(&self.inner.env, &e);
                        return Err(settle(e, overloaded, attempts));
                    }
                    Err(e) => return Err(settle(self.redact(e, Some(&grant)), overloaded, attempts)),
                    Ok(()) => return Ok(()),
                }
            }
        })
    }

    /// `authorize`, but this call stops waiting when its own budget ends. The sign-in it may be
    /// sharing carries on for the calls with time left.
    async fn authorize_within(&self, deadline: Deadline) -> Result<AuthGrant> {
        // A sign-in runs on the budget of the call that started it: one whose deadline came before
        // this call's leaves this call (which joined it) to sign in on its own budget, rather than
        // fail with a `deadlineMs` it never set. The call that started it never loops: the
        // sign-in's budget began later than its own. A few rounds at most: each waited for a
        // sign-in to reach its deadline.
        let mut rounds = 0;
        loop {
            rounds += 1;
            match self.authorize_once_within(deadline).await {
                Err(e) if rounds < 4 && e.out_of_budget.is_some_and(|ended| deadline.is_none_or(|d| d.at > ended && self.inner.env.now_ms() < d.at)) => continue,
                granted => return granted,
            }
        }
    }

    async fn authorize_once_within(&self, deadline: Deadline) -> Result<AuthGrant> {
        let env = &self.inner.env;
        if deadline.is_some_and(|d| env.now_ms() >= d.at) {
            return Err(out_of_time(self.provider(), "before the sign-in"));
        }
        let authorizing = self.authorize();
        futures::pin_mut!(authorizing);
        // A cached credential is ready at once: no timer for the common case.
        if let Some(ready) = (&mut authorizing).now_or_never() {
            return ready;
        }
        let Some(d) = deadline else { return authorizing.await };
        let expiry = env.sleep(d.at.saturating_sub(env.now_ms()));
        match futures::future::select(authorizing, expiry).await {
            futures::future::Either::Left((grant, _)) => grant,
            futures::future::Either::Right(_) => Err(out_of_time(self.provider(), "while waiting for the sign-in")),
        }
    }

    async fn authorize(&self) -> Result<AuthGrant> {
        let inner = &self.inner;
        match &inner.connector {
            Connector::Pinelabs { client_id, client_secret, token } => {
                let now = inner.env.now_ms();
                let early = token.cached(|t| t.expires_at_ms > now).is_some();
                let open = || -> LocalBoxFuture<'static, Result<AccessToken>> {
                    let env = inner.env.clone();
                    let (settings, budget_ms) = (inner.settings.clone(), self.budget_ms);
                    let (client_id, client_secret, hold) = (client_id.clone(), client_secret.clone(), inner.sign_in_hold.clone());
                    Box::pin(async move {
                        let request_id = env.uuid();
                        let build = || Ok(pinelabs::access_token_request(&settings.base_url, &client_id, &client_secret, &request_id));
                        sign_in(&env, &settings, budget_ms, &hold, client_secret.expose(), early, &Wire::Plain, &build, |r| {
                            let now = env.now_ms();
                            pinelabs::parse_access_token(r, now).map(|t| AccessToken { expires_at_ms: issued_expiry(t.expires_at_ms, now), ..t })
                        })
                        .await
                    })
                };
                let renewed = token.renewing(|t| self.serves(t.expires_at_ms, now, EXPIRY_MARGIN_MS), |t| t.expires_at_ms > now, open).await;
                Ok(AuthGrant::PineLabs(self.after_renewal(renewed, token, |t| t.expires_at_ms, now, EXPIRY_MARGIN_MS)?))
            }
            Connector::Alliancepay { service_code, owner, key, session, .. } => {
                let now = inner.env.now_ms();
                let early = session.cached(|s| s.expires_at_ms > now).is_some();
                let open = || -> LocalBoxFuture<'static, Result<Session>> {
                    let env = inner.env.clone();
                    let (settings, budget_ms) = (inner.settings.clone(), self.budget_ms);
                    let (service_code, owner, key, hold) = (service_code.clone(), owner.clone(), key.clone(), inner.sign_in_hold.clone());
                    Box::pin(async move {
                        let build = || Ok(alliancepay::authorize_request(&settings.base_url, service_code.expose()));
                        let opened = sign_in(&env, &settings, budget_ms, &hold, service_code.expose(), early, &Wire::Opened(&key), &build, |r| {
                            let now = env.now_ms();
                            alliancepay::parse_session(r, now).map(|s| Session { expires_at_ms: issued_expiry(s.expires_at_ms, now), ..s })
                        })
                        .await?;
                        env.session_opened(&opened.export(&owner));
                        Ok(opened)
                    })
                };
                let renewed = session.renewing(|s| self.serves(s.expires_at_ms, now, SESSION_MARGIN_MS), |s| s.expires_at_ms > now, open).await;
                Ok(AuthGrant::AlliancePay(self.after_renewal(renewed, session, |s| s.expires_at_ms, now, SESSION_MARGIN_MS)?))
            }
            Connector::Chargeover { authorization, .. } | Connector::Payerly { authorization } => Ok(AuthGrant::Static(authorization.clone())),
        }
    }

    /// Whether a credential expiring at `expires_at` serves without a renewal first: until
    /// `margin` before it expires, or until it expires while a failed renewal pauses the next.
    fn serves(&self, expires_at: u64, now: u64, margin: u64) -> bool {
        expires_at > now.saturating_add(margin) || (now < self.inner.renew_after.get() && expires_at > now)
    }

    /// The credential a call runs with, cached or just renewed. One that comes back already inside
    /// its renewal margin (a token endpoint that hands out its cached token, a lifetime shorter
    /// than the margin) serves until `RENEWAL_PAUSE_MS` has passed, as after a failed renewal:
    /// otherwise every call would sign in again. `now` is the call's, as `serves` judged it: every
    /// call passes here, and the clock is a crossing into JS. The pause is timed from the clock
    /// read again, after a sign-in that may have taken longer than the pause itself.
    fn after_renewal<T: Clone>(&self, result: Result<Grant<T>>, credential: &Credential<T>, expires_at: impl Fn(&T) -> u64, now: u64, margin: u64) -> Result<Grant<T>> {
        let grant = result.or_else(|e| self.after_failed_renewal(credential, e, &expires_at))?;
        if expires_at(&grant.value) <= now.saturating_add(margin) && now >= self.inner.renew_after.get() {
            self.inner.renew_after.set(self.inner.env.now_ms().saturating_add(RENEWAL_PAUSE_MS));
        }
        Ok(grant)
    }

    /// A renewal before expiry failed. Unless the provider refused the merchant's credentials,
    /// the credential still valid serves (an outage or a throttle of the sign-in need not fail
    /// the calls it could still make), and the next renewal waits `RENEWAL_PAUSE_MS`.
    fn after_failed_renewal<T: Clone>(&self, credential: &Credential<T>, err: Error, expires_at: impl Fn(&T) -> u64) -> Result<Grant<T>> {
        if matches!(err.code, ErrorCode::Authentication | ErrorCode::CredentialsRevoked | ErrorCode::Permission) {
            return Err(err);
        }
        let now = self.inner.env.now_ms();
        let grant = credential.cached(|t| expires_at(t) > now).ok_or(err)?;
        self.inner.renew_after.set(now.saturating_add(RENEWAL_PAUSE_MS));
        Ok(grant)
    }

    fn apply(&self, grant: &AuthGrant, req: &mut HttpRequest) -> Result<()> {
        match grant {
            AuthGrant::PineLabs(g) => {
                pinelabs::authorize(req, &g.value);
                if req.header_value("Request-ID").is_none() {
                    req.set_header("Request-ID", self.inner.env.uuid());
                }
            }
            // Session headers and encryption are the wire's job (`Wire::Sealed`).
            AuthGrant::AlliancePay(_) => {}
            AuthGrant::Static(authorization) => match &self.inner.connector {
                Connector::Payerly { .. } => payerly::authorize(req, authorization),
                _ => chargeover::authorize(req, authorization),
            },
        }
        Ok(())
    }

    /// A provider's error text may echo a credential it refused (`invalid client_secret …`), or the
    /// header it came in: every credential this client holds is taken out of the error.
    fn redact(&self, err: Error, grant: Option<&AuthGrant>) -> Error {
        let mut secrets = Vec::new();
        match &self.inner.connector {
            Connector::Pinelabs { client_secret, .. } => secrets.push(client_secret.expose()),
            Connector::Chargeover { authorization, password, .. } => {
                secrets.push(password.expose());
                secrets.extend(authorization.expose().strip_prefix("Basic "));
            }
            Connector::Payerly { authorization } => secrets.extend(authorization.expose().strip_prefix("Bearer ")),
            Connector::Alliancepay { service_code, .. } => secrets.push(service_code.expose()),
        }
        match grant {
            Some(AuthGrant::PineLabs(g)) => secrets.push(g.value.value.expose()),
            // The device id is half of what resumes a session: a bank's "device … not found" names it.
            Some(AuthGrant::AlliancePay(g)) => secrets.extend([g.value.refresh_token.expose(), g.value.device_id.as_str()]),
            _ => {}
        }
        err.redact(&secrets)
    }

    fn reject(&self, grant: &AuthGrant) {
        match (grant, &self.inner.connector) {
            (AuthGrant::PineLabs(g), Connector::Pinelabs { token, .. }) => token.reject(g.generation),
            (AuthGrant::AlliancePay(g), Connector::Alliancepay { session, .. }) => session.reject(g.generation),
            _ => {}
        }
    }
}

/// How requests and replies travel: as they are, or AlliancePay's way — request bodies sealed to
/// the bank's session key, replies opened with the merchant key when they are JWE.
pub(crate) enum Wire<'a> {
    Plain,
    /// A sign-in: nothing sealed, the session reply opened.
    Opened(&'a PrivateKey),
    Sealed { session: &'a Session, key: &'a PrivateKey, encryption: Encryption },
}

impl Wire<'_> {
    async fn seal<E: Env>(&self, env: &E, req: HttpRequest) -> Result<HttpRequest> {
        match self {
            Wire::Sealed { session, encryption, .. } => alliancepay::seal(req, session, *encryption, &env.uuid(), &mut |b: &mut [u8]| env.fill_random(b)).await,
            _ => Ok(req),
        }
    }

    async fn open(&self, resp: HttpResponse) -> Result<HttpResponse> {
        match self {
            Wire::Plain => Ok(resp),
            Wire::Opened(key) => alliancepay::open_reply(resp, key, true).await,
            Wire::Sealed { key, .. } => alliancepay::open_reply(resp, key, false).await,
        }
    }
}

/// A sign-in request. It is shared by every call waiting for it, so it runs on a budget of its own:
/// `budget_ms` from when it starts, the `deadlineMs` of the call that started it (its own, or the
/// config's). A wait the provider asked for, or its refusal of the credentials, holds the next one (`hold`).
/// `secret` is the one the sign-in sends, which a refusal kept in `hold` must not hold.
/// `early`: a renewal while the credential is still valid, which serves should this fail
/// (`after_failed_renewal`). It makes one attempt: retries and their waits (a throttle's
/// `Retry-After`, up to a minute) would hold every call that joined it, for no gain.
#[allow(clippy::too_many_arguments)]
async fn sign_in<E: Env, T>(
    env: &E,
    settings: &Settings,
    budget_ms: Option<u32>,
    hold: &SignInHold,
    secret: &str,
    early: bool,
    wire: &Wire<'_>,
    build: &dyn Fn() -> Result<HttpRequest>,
    parse: impl Fn(&HttpResponse) -> Result<T>,
) -> Result<T> {
    let now = env.now_ms();
    let until = hold.until.get();
    if hold.holds(now) {
        if let Some(mut refused) = hold.refusal.borrow().clone() {
            refused.message = format!("{} (this refusal is repeated for {} s without a new sign-in; a client made with corrected credentials signs in at once)", refused.message, REFUSED_SIGN_IN_HOLD_MS / 1000);
            return Err(refused);
        }
        let provider = settings.provider;
        let mut err = Error::new(ErrorCode::RateLimited, format!("{} throttled the last sign-in; the next is held until the wait ends", provider.as_str()))
            .with_provider(provider)
            .retryable(true);
        err.retry_after_ms = Some(until - now);
        return Err(err);
    }
    hold.refusal.take();
    // A budget of its own, so that it never sleeps on a wait longer than the call that started it
    // has: it ends with the wait asked for, which becomes the hold below (had it slept, the call
    // would leave, the sign-in would be dropped, and the hold lost). A call that joined it later
    // may see it end before its own deadline.
    let deadline = due(env.now_ms(), budget_ms, settings);
    let mut opened = None;
    // Early: its retries spent before it starts. (A throttle without `Retry-After` then holds the
    // next sign-in for the longest backoff, as after a last retry.)
    let mut retries = if early { settings.retry.max_retries } else { 0 };
    let mut keep = |r: &HttpResponse| parse(r).map(|value| opened = Some(value));
    let mut sent = send_with_retry(env, settings, Safety::Read, wire, deadline, (&mut retries, &mut 0), &Cell::new(false), build, &mut keep).await;
    // A reply damaged on the way fails to unwrap as one sealed to another key does. One more
    // sign-in, before the merchant is sent to check its key (and every call is refused for 30 s).
    if matches!(&sent, Err(e) if e.sealed_to_another_key) {
        let mut last = settings.retry.max_retries;
        sent = send_with_retry(env, settings, Safety::Read, wire, deadline, (&mut last, &mut 0), &Cell::new(false), build, &mut keep).await;
    }
    // Throttled without a Retry-After (Pine Labs documents none): the wait the next retry would
    // have had. Otherwise every call in the meantime would send its own round of sign-ins to a
    // provider that is already refusing them.
    let wait = match &sent {
        Err(e) if e.retry_after_ms.is_none() && e.code == ErrorCode::RateLimited => Some(settings.retry.backoff_ceiling(retries)),
        Err(e) => e.retry_after_ms,
        Ok(()) => None,
    };
    if let Some(ms) = wait {
        let now = env.now_ms();
        hold.hold(now, now.saturating_add(ms.min(MAX_SIGN_IN_HOLD_MS)));
    }
    // The caller is told the hold, so that it does not retry into the SDK's own refusal.
    sent.map_err(|mut e| {
        e.retry_after_ms = e.retry_after_ms.or(wait);
        let mut e = as_sign_in_failure(e);
        // A write's TIMEOUT with NOT_APPLIED would otherwise read as its own request unanswered.
        if matches!(e.code, ErrorCode::Timeout | ErrorCode::Network) {
            e.message = format!("signing in: {}", e.message);
        }
        if matches!(e.code, ErrorCode::Authentication | ErrorCode::CredentialsRevoked | ErrorCode::Permission) {
            hold.hold_refusal(env, &e.clone().redact(&[secret]));
        }
        e
    })?;
    opened.ok_or_else(unread)
}

/// A sign-in refusal is returned as the call's own outcome, where `NOT_FOUND` says "no such
/// token" (a delete's caller records the card as already gone, while it is still there) and
/// `INVALID_INPUT` blames the call's input. Neither is about the call: the sign-in failed.
fn as_sign_in_failure(mut e: Error) -> Error {
    const NO_SIGN_IN_ADDRESS: &str = "the sign-in address was not found (check baseUrl)";
    let (code, why) = match e.code {
        ErrorCode::NotFound => (ErrorCode::ProviderError, NO_SIGN_IN_ADDRESS),
        // AlliancePay's 404 is PROVIDER_ERROR already, as a route the bank did not find.
        // (A bare 404 says it already: `providers::reply_error`.)
        ErrorCode::ProviderError if e.http_status == Some(404) && e.provider_code.is_some() => (ErrorCode::ProviderError, NO_SIGN_IN_ADDRESS),
        // A config the platform refused once in use (WebCrypto and AlliancePay's merchant key)
        // already names its field, and the call's input is not blamed.
        ErrorCode::InvalidInput if e.message.starts_with("config.") => return e,
        ErrorCode::InvalidInput | ErrorCode::InvalidTransition => (ErrorCode::Authentication, "the sign-in failed (check the credentials)"),
        _ => return e,
    };
    e.code = code;
    e.message = format!("{why}: {}", e.message);
    e.retryable = false;
    e
}

/// A budget of `budget_ms` from `started_ms`, for a call or for a sign-in (which runs on the
/// budget of the call that started it, from when it started).
fn due(started_ms: u64, budget_ms: Option<u32>, settings: &Settings) -> Deadline {
    budget_ms.map(|d| Due {
        at: started_ms.saturating_add(u64::from(d)),
        least_ms: u64::from(d / 10).min(MIN_ATTEMPT_MS).min(u64::from(settings.timeout_ms)).max(1),
    })
}

/// AlliancePay said "not updated", and the read that would tell a refusal from a change already
/// made (a repeat of one whose reply was lost) failed: the outcome is not known.
fn not_known_after_refusal(unread: &Error, refused: &Error, token_id: &str) -> Error {
    let mut err = Error::new(
        ErrorCode::ProviderError,
        match refused.provider_code.as_deref() {
            Some("b_overload_error") => format!("AlliancePay answered b_overload_error, which may follow a change it made, and reading the token to tell failed ({})", unread.code.as_str()),
            _ if refused.code == ErrorCode::InvalidTransition => {
                format!("AlliancePay answered tokenUpdated: false, its answer to a change already made too, and reading the token to tell which failed ({})", unread.code.as_str())
            }
            _ => format!(
                "AlliancePay answered b_overload_error, which may follow a change it made, then the change sent again failed ({}: {}), and reading the token to tell failed ({})",
                refused.code.as_str(),
                refused.message,
                unread.code.as_str()
            ),
        },
    )
    .with_provider(Provider::Alliancepay);
    may_have_been_applied(&mut err, Safety::Write);
    err.http_status = refused.http_status;
    err.request_id = refused.request_id.clone();
    err.token_id = Some(token_id.into());
    err
}

/// The call's budget ran out `when`; nothing more was sent, so the whole call may be repeated.
fn out_of_time(provider: Provider, when: &str) -> Error {
    let mut err = Error::new(ErrorCode::Timeout, format!("deadlineMs ran out {when}; no further request was sent to {}", provider.as_str()))
        .with_provider(provider)
        .retryable(true);
    err.not_applied = true;
    err
}

/// Payerly's lookup narrowers and its raw reply, asked of another provider: it would ignore them,
/// and a caller who asked for `raw` would get none without knowing why. (`customerId` is taken by
/// every provider's get, so that code for several providers can always pass it.)
fn refuse_payerly_only(input: &GetTokenInput) -> Result<()> {
    let given = [
        ("input.accountId", input.account_id.is_some()),
        ("input.phone", input.phone.is_some()),
        ("input.email", input.email.is_some()),
        ("input.includeRaw", input.include_raw == Some(true)),
    ];
    match given.into_iter().find(|(_, given)| *given) {
        Some((field, _)) => Err(Error::invalid_input(field, "is for Payerly only")),
        None => Ok(()),
    }
}

/// Hears, from a write that reads its token back, what the provider confirmed (`made`, as in
/// `after_write`) and the token's id, before the read-back: a call abandoned during it (an
/// abort) can still say that the write is done and which token to read.
pub type Done<'a> = &'a dyn Fn(&str, &str);

/// A read-back that failed after a write went through. The read's own code would mislead:
/// RATE_LIMITED or TIMEOUT tell a caller to wait and repeat, NOT_FOUND that nothing is there, and
/// repeating a create stores the token twice. So it is PROVIDER_ERROR, never retryable, with no
/// wait to take, the message saying what was made, and `tokenId` naming the token to read.
fn after_write(mut err: Error, made: &str, token_id: &str) -> Error {
    err.message = format!("{made}, but reading it back failed ({}): {}", err.code.as_str(), err.message);
    err.code = ErrorCode::ProviderError;
    err.retryable = false;
    err.not_applied = false;
    err.retry_after_ms = None;
    err.token_id = Some(token_id.into());
    err.write_outcome = Some(WriteOutcome::Applied);
    err
}

/// Whether the provider has `token` under another customer than `asked`. A reply that names no
/// customer is not (what each caller makes of that is its own rule).
fn under_another(asked: Option<&str>, token: &Token) -> bool {
    matches!((asked, token.customer_id.as_deref()), (Some(asked), Some(owner)) if asked != owner)
}

/// A write that was made, whose read-back gave another token than the one asked for: as
/// `after_write`'s errors, APPLIED and never retryable, with `why` saying what was read.
fn made_but(provider: Provider, why: String, token_id: Option<&str>) -> Error {
    let mut err = Error::new(ErrorCode::ProviderError, why).with_provider(provider);
    err.token_id = token_id.map(Into::into);
    err.write_outcome = Some(WriteOutcome::Applied);
    err
}

/// A parser that returned Ok always keeps its value; this guards the type-erased send paths.
fn unread() -> Error {
    Error::new(ErrorCode::Decode, "the reply was not read")
}

/// The one retry loop: every request, authenticated or not, goes through it.
/// `deadline` bounds attempts and waits together; `retries` counts across calls that
/// share one budget of retries. `parse` keeps what it reads.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn send_with_retry<E: Env>(
    env: &E,
    settings: &Settings,
    safety: Safety,
    wire: &Wire<'_>,
    deadline: Deadline,
    (retries, attempts): (&mut u32, &mut u32),
    in_doubt: &Cell<bool>,
    build: &dyn Fn() -> Result<HttpRequest>,
    parse: &mut dyn FnMut(&HttpResponse) -> Result<()>,
) -> Result<()> {
    // An attempt needs some time to be worth sending: one that starts with a millisecond left
    // still reaches the provider, and a write then ends with an outcome nobody knows. (At least
    // 1 ms: with none left nothing is sent.)
    let least = deadline.map_or(1, |d| d.least_ms);
    let time_left = || deadline.map(|d| d.at.saturating_sub(env.now_ms()));
    let too_late = |left: Option<u64>| left.is_some_and(|t| t < least);
    // After a wait, the error that caused it says more than a bare timeout would.
    let out_of_time_now = |last: Option<Error>| {
        let mut err = match last {
            Some(mut err) => {
                err.message = format!("{} (deadlineMs left no time to try again)", err.message);
                err.retry_after_ms = None; // that wait was taken
                err
            }
            None => out_of_time(settings.provider, "before the request was sent"),
        };
        err.out_of_budget = deadline.map(|d| d.at);
        err
    };
    let mut last: Option<Error> = None;
    let mut overloaded = false;
    loop {
        // Checked before sealing (no encryption for a request that will not be sent) and after
        // it (AlliancePay's sealing takes time).
        if too_late(time_left()) {
            return Err(out_of_time_now(last));
        }
        let req = wire.seal(env, build()?).await?;
        let remaining = time_left();
        if too_late(remaining) {
            return Err(out_of_time_now(last));
        }
        let cut_short = remaining.is_some_and(|r| r < u64::from(settings.timeout_ms));
        let timeout = remaining.map_or(settings.timeout_ms, |r| settings.timeout_ms.min(u32::try_from(r).unwrap_or(u32::MAX)));
        // The id this attempt sent, for an error whose reply names none (or that had no reply).
        let sent_id = || req.header_value("Request-ID").or(req.header_value("x-request_id")).map(str::to_string);
        // Whether the call's earlier attempts may have applied it: this one's reply can prove
        // only itself unapplied.
        let doubted_before = in_doubt.get();
        if safety.changes_state() {
            in_doubt.set(true);
        }
        *attempts += 1;
        let mut err = match env.send(&req, timeout).await {
            Ok(resp) => {
                let retry_after = retry_after_of(env, &resp);
                let accepted = resp.is_success().then_some(resp.status);
                // A failure status whose body cannot be opened (AlliancePay's JWE) is typed by the
                // status, as one whose body never arrived is: a 500 says what the provider did.
                let failed = accepted.is_none().then(|| HttpResponse { status: resp.status, headers: resp.headers.clone(), body: String::new() });
                let opened = match (wire.open(resp).await, failed) {
                    (Err(e), Some(bare)) if e.code == ErrorCode::Decode => {
                        let mut typed = crate::providers::reply_error(settings.provider, &bare, &|_| None);
                        typed.message = format!("{} (its body could not be read: {})", typed.message, e.message);
                        Err(typed)
                    }
                    (opened, _) => opened,
                };
                match opened.and_then(|resp| read_reply(resp, parse)) {
                    Ok(()) => return Ok(()),
                    Err(mut e) => {
                        e.retry_after_ms = e.retry_after_ms.or(retry_after);
                        e.request_id = e.request_id.or_else(sent_id);
                        if e.code == ErrorCode::Decode {
                            accepted_but_unread(&mut e, accepted, safety);
                        }
                        e
                    }
                }
            }
            Err(fault) => match fault.unread_failure() {
                Some(bare) => {
                    let mut e = crate::providers::reply_error(settings.provider, &bare, &|_| None);
                    e.message = format!("{} ({})", e.message, fault.body_fate(timeout));
                    e.retry_after_ms = retry_after_of(env, &bare);
                    e.request_id = e.request_id.or_else(sent_id);
                    e
                }
                None => {
                    let accepted = fault.status.filter(|s| (200..300).contains(s));
                    let unread = fault.kind == FaultKind::Unread;
                    let mut err = fault.into_error(settings.provider, timeout).with_request_id(sent_id());
                    if cut_short && err.code == ErrorCode::Timeout {
                        err.message = format!("{} (what deadlineMs had left)", err.message);
                        err.out_of_budget = deadline.map(|d| d.at);
                    }
                    // Left unread (too large, or made unreadable by the caller's fetch) under a 2xx:
                    // a confirmation that cannot be read; with no status at all, what the provider
                    // did is unknown. (A body cut off or timed out is retryable, and says "may have
                    // been applied" below.)
                    if unread && safety.changes_state() {
                        match accepted {
                            Some(_) => accepted_but_unread(&mut err, accepted, safety),
                            None => may_have_been_applied(&mut err, safety),
                        }
                    }
                    err
                }
            },
        };
        // An AlliancePay overload answer is repeated as unapplied, yet is read back if the repeat
        // fails (`Error::overloaded_before`): it stays in doubt. A refused credential was not acted on.
        let overload = err.provider_code.as_deref() == Some("b_overload_error");
        if safety.changes_state() && ((err.not_applied && !overload) || err.renew_auth) {
            in_doubt.set(doubted_before);
        }
        // A wait must leave the next attempt its least time: waits shorter than this budget do.
        let budget = time_left().map(|t| t.saturating_add(1).saturating_sub(least));
        let random = env.random_unit();
        match settings.retry.next_delay(*retries, &err, safety, random, budget) {
            Some(ms) => {
                overloaded |= safety.changes_state() && overload;
                err.overloaded_before |= overloaded;
                env.sleep(ms).await;
                *retries += 1;
                last = Some(err);
            }
            None => {
                err.overloaded_before |= overloaded;
                let refused_for_time = budget.is_some() && settings.retry.next_delay(*retries, &err, safety, random, None).is_some();
                if refused_for_time && !err.message.contains("deadlineMs") {
                    err.message = format!("{} (deadlineMs left no time to try again)", err.message);
                }
                // A write that failed in an unknown state is not safe to repeat: say so. A server
                // error or a redirect (`Error::outcome_unknown`) leaves the outcome unknown too,
                // though it is never retried.
                let outcome_unknown = err.code == ErrorCode::ProviderError && err.outcome_unknown;
                if safety.changes_state() && (err.retryable || outcome_unknown) && !err.not_applied {
                    err.retryable = false;
                    may_have_been_applied(&mut err, safety);
                }
                return Err(err);
            }
        }
    }
}

/// A credential the provider has just issued is valid as it arrives. An expiry already past on
/// the local clock means the clocks disagree (a browser that cannot read the provider's `Date`,
/// a clock hours off): taken as is, every call would sign in again. It serves for the renewal
/// pause instead; should the provider refuse it sooner, its 401 renews it at once.
fn issued_expiry(expires_at: u64, now: u64) -> u64 {
    if expires_at > now {
        expires_at
    } else {
        now.saturating_add(RENEWAL_PAUSE_MS)
    }
}

/// The wait a reply's `Retry-After` asks for, on the provider's clock where its `Date` tells it.
fn retry_after_of<E: Env>(env: &E, resp: &HttpResponse) -> Option<u64> {
    resp.header("retry-after").and_then(|v| parse_retry_after(v, resp.server_now(env.now_ms())))
}

/// "(3 attempts over 1.8 s)" after what failed, ahead of what a write's caller is told to do.
fn note_attempts(err: &mut Error, attempts: u32, ms: u64) {
    let note = format!(" ({attempts} attempts over {}.{} s)", ms / 1000, ms % 1000 / 100);
    let at = [MAY_HAVE_BEEN_APPLIED, ACCEPTED].iter().filter_map(|advice| err.message.find(advice)).min().unwrap_or(err.message.len());
    err.message.insert_str(at, &note);
}

const MAY_HAVE_BEEN_APPLIED: &str = "; the change may have been applied: ";
const ACCEPTED: &str = "; the provider accepted the change";

/// A write whose outcome is unknown: the caller must read before repeating it, so no wait is
/// offered (`retryAfterMs` would invite a repeat).
fn may_have_been_applied(err: &mut Error, safety: Safety) {
    // A throttle's code tells a caller to wait and repeat, which an unknown outcome forbids (a
    // throttle's code under a 5xx, or inside a 200); `providerCode` or the message still say it.
    if err.code == ErrorCode::RateLimited {
        err.code = ErrorCode::ProviderError;
    }
    err.message = format!("{}{MAY_HAVE_BEEN_APPLIED}{}", err.message, how_to_know(safety));
    err.retry_after_ms = None;
    err.write_outcome = Some(WriteOutcome::Unknown);
}

/// The provider accepted the write (2xx) but its confirmation cannot be read: the change most
/// likely went through, and repeating a store would store the token twice.
fn accepted_but_unread(err: &mut Error, accepted: Option<u16>, safety: Safety) {
    if let (Some(status), true) = (accepted, safety.changes_state()) {
        err.message = format!("{}{ACCEPTED} (HTTP {status}), so it was most likely applied: {}", err.message, how_to_know(safety));
        err.http_status = Some(status);
        err.retry_after_ms = None;
        err.write_outcome = Some(WriteOutcome::Unknown);
    }
}

/// What a caller reads to learn whether a write of unknown outcome was applied. A store has no
/// token id yet: the customer's tokens show it.
fn how_to_know(safety: Safety) -> &'static str {
    match safety {
        Safety::Store => "list the customer's tokens before repeating it (storing it again would store it twice)",
        _ => "read the token before repeating it",
    }
}

/// `parse` on a reply, and once more with its lone surrogate escapes mended when it gave an error
/// (`surrogates`): one broken emoji in a name should not cost the whole list, nor an error reply
/// its code. After any error, not only DECODE: an error reply that cannot be read is typed by its
/// status alone.
fn read_reply(mut resp: HttpResponse, parse: &mut dyn FnMut(&HttpResponse) -> Result<()>) -> Result<()> {
    match parse(&resp) {
        Err(err) => match crate::surrogates::mend(&resp.body) {
            Some(mended) => {
                resp.body = mended;
                parse(&resp)
            }
            None => Err(err),
        },
        read => read,
    }
}

/// The least time an attempt is sent with, at most a tenth of `deadlineMs`.
const MIN_ATTEMPT_MS: u64 = 50;
