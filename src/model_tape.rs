//! Results cross to JS as a tape that pkg/tape.js reads into objects, instead of JSON text for
//! `JSON.parse`.
//!
//! For a list, building the objects was most of the boundary's cost: decoding the JSON text and
//! `JSON.parse` took 3.5 of the 10 ms from a 1,000-token Pine Labs reply to `Token[]` in JS, more
//! than half of what a hand-written JS normalizer takes for the whole job (bench/analysis.md).
//! The tape carries only the values: every string's text once, one after another (the strings
//! beyond ASCII in a text of their own, see `Writer::wide`), and a list of
//! 32-bit numbers saying which optional fields are present, the enums, the small numbers and how
//! long each string is (in UTF-16 units, so that JS takes each one as a slice of the text). No
//! field names (only metadata's keys), no quotes, no escaping, no number parsing.
//!
//! They cross as strings (the texts in parts of about 4 KB, see `PART`, each decoded straight
//! from wasm memory by wasm-bindgen's glue) and a `Uint32Array`. The reader follows the same
//! order as the writer; the field order is serde's, so `JSON.stringify` of a token gives the same
//! text as before. A metadata key that is the one at the same place in the last metadata written,
//! an earlier token's (providers send the same keys for every token), is written as a reference
//! to it: JS then uses the key it already has instead of making and hashing it again. So is a
//! value that tokens of a list mostly share (`Repeating`: the customer, the merchant, the brand…)
//! when it equals the same field of the last token that had it. A Rust test writes a corpus
//! (every field present and absent, every escape class, non-ASCII and astral text, keys and
//! shared values kept and changed between tokens, long lists, the documented replies) that
//! js-tests/tape.test.js reads back and compares with `serde_json`'s output.

use crate::model::{Card, Metadata, RequiredAction, Token, TokenPage};

/// A result that crosses to JS as a tape.
pub trait TapeResult {
    fn write_tape<'a>(&'a self, out: &mut Writer<'a>);
}

/// What a tape holds at its top (pkg/tape.js `readTape`).
#[repr(u32)]
enum Kind {
    Nothing = 0,
    Token = 1,
    List = 2,
    Page = 3,
}

/// A result: its text (ASCII strings in `text`, the others in `wide`), where each of the text's
/// parts after the first starts in both (`parts()` gives them), and its numbers.
pub struct Tape {
    text: String,
    wide: String,
    breaks: Vec<(usize, usize)>,
    pub numbers: Vec<u32>,
}

/// A token starts a new part of the text once the current part has this many bytes (of its ASCII
/// and wide text together). JS slices each string out of its part, and in V8 (other engines
/// alike) a slice of 13 characters or more keeps the string it was cut from alive: one text for a
/// whole list would keep a 1,000-token list's megabyte alive for as long as one id of it is kept.
/// With parts, a kept token keeps alive less than this much plus the text of one token (its
/// part's last, which may be long: a token with `raw`), for one or two strings per part to cross
/// (each a call into JS: at 4 KB a few percent of a list's time).
const PART: usize = 4096;

pub struct Writer<'a> {
    text: String,
    /// The strings that are not all ASCII. Turning UTF-8 into a JS string takes about ten times as
    /// long per byte once a text holds one character beyond ASCII (Node's decoder leaves its fast
    /// path for the whole text), so those strings cross apart: AlliancePay's masked PANs
    /// (`523244••••••0177`) had made every part of its replies' text take the slow path.
    wide: String,
    numbers: Vec<u32>,
    /// Where each part of the text after the first starts, in `text` and in `wide`.
    breaks: Vec<(usize, usize)>,
    /// The metadata keys of the last token that had metadata, in order. Unlike `last`, kept across
    /// parts: JS makes each key a property name, so no token keeps the key string it was cut from.
    keys: Vec<&'a str>,
    /// The last value written in each `Repeating` field, in this part of the text.
    last: [Option<&'a str>; REPEATING],
}

/// A string's length number when it is the one JS already has: the metadata key at the same place
/// in the last metadata written, or the last value of a `Repeating` field. No string's length
/// number reaches it, `WIDE` flag included.
const SAME: u32 = u32::MAX;

/// The fields a list's tokens mostly share (a list is one customer's, at one merchant; most tokens
/// are active cards of a few brands). One equal to the same field of the last token that had it
/// is written as `SAME`: JS then reuses that token's string instead of slicing a new one, and the
/// text is shorter. Forgotten where a part of the text starts, so that a kept string keeps its
/// own part alive, not an earlier one (see `PART`).
#[derive(Clone, Copy)]
enum Repeating {
    CustomerId,
    ProviderStatus,
    StatusReason,
    MerchantId,
    Gateway,
    Brand,
    IssuerName,
    IssuerCountry,
    Funding,
}
const REPEATING: usize = Repeating::Funding as usize + 1;

/// Set in a string's length number when the string is in the wide text. No string that can reach
/// JS is that long (V8's strings end at 2^29 units).
const WIDE: u32 = 1 << 31;

// Presence bits of a token's optional fields, in field order (pkg/tape.js has the same).
const CUSTOMER_ID: u32 = 1;
const PROVIDER_STATUS: u32 = 1 << 1;
const STATUS_REASON: u32 = 1 << 2;
const CARD: u32 = 1 << 3;
const CREATED_AT: u32 = 1 << 4;
const UPDATED_AT: u32 = 1 << 5;
const EXPIRES_AT: u32 = 1 << 6;
const LABEL: u32 = 1 << 7;
const MERCHANT_ID: u32 = 1 << 8;
const REFERENCE: u32 = 1 << 9;
const GATEWAY: u32 = 1 << 10;
const GATEWAY_TOKEN: u32 = 1 << 11;
const COMPLIANT: u32 = 1 << 12;
const COMPLIANT_TRUE: u32 = 1 << 13;
const METADATA: u32 = 1 << 14;
const REQUIRED_ACTION: u32 = 1 << 15;
const REQUIRED_ACTION_VALUE: u32 = 1 << 16;
const RAW: u32 = 1 << 17;

// A card's.
const MASKED_PAN: u32 = 1;
const LAST4: u32 = 1 << 1;
const EXPIRY_MONTH: u32 = 1 << 2;
const EXPIRY_YEAR: u32 = 1 << 3;
const HOLDER_NAME: u32 = 1 << 4;
const ISSUER_NAME: u32 = 1 << 5;
const ISSUER_COUNTRY: u32 = 1 << 6;
const FUNDING: u32 = 1 << 7;
const CVV_REQUIRED: u32 = 1 << 8;
const CVV_REQUIRED_TRUE: u32 = 1 << 9;
const INTERNATIONAL: u32 = 1 << 10;
const INTERNATIONAL_TRUE: u32 = 1 << 11;

/// `bit` if the field is there.
fn has<T>(field: &Option<T>, bit: u32) -> u32 {
    if field.is_some() {
        bit
    } else {
        0
    }
}

/// Bits for an optional flag: whether it is there, and whether it is true.
fn flag(field: Option<bool>, present: u32, true_bit: u32) -> u32 {
    match field {
        Some(true) => present | true_bit,
        Some(false) => present,
        None => 0,
    }
}

/// How many UTF-16 units `s` is in JS: one per character, two for those beyond the BMP. (For
/// ASCII, its length: `Writer::string` asks only for the others.)
fn utf16_len(s: &str) -> usize {
    // Every byte but a continuation byte starts a character; a 4-byte one is two units.
    s.bytes().map(|b| usize::from(b & 0xc0 != 0x80) + usize::from(b >= 0xf0)).sum()
}

/// A length as a tape number: below `WIDE`, and with it still below `SAME`.
fn length(units: usize) -> u32 {
    u32::try_from(units).unwrap_or(u32::MAX).min(WIDE - 2)
}

impl Tape {
    pub fn of<T: TapeResult + ?Sized>(value: &T) -> Tape {
        let mut out = Writer {
            text: String::with_capacity(1024),
            wide: String::new(),
            numbers: Vec::with_capacity(64),
            breaks: Vec::new(),
            keys: Vec::new(),
            last: [None; REPEATING],
        };
        value.write_tape(&mut out);
        Tape { text: out.text, wide: out.wide, breaks: out.breaks, numbers: out.numbers }
    }

    /// The text's parts, in order, each as its ASCII strings and its other strings (at least one
    /// part, empty for a result without strings).
    pub fn parts(&self) -> impl Iterator<Item = (&str, &str)> {
        let starts = std::iter::once((0, 0)).chain(self.breaks.iter().copied());
        let ends = self.breaks.iter().copied().chain(std::iter::once((self.text.len(), self.wide.len())));
        // A break is always where a token's first string starts, so `get` never misses.
        starts.zip(ends).map(|((text, wide), (text_end, wide_end))| {
            (self.text.get(text..text_end).unwrap_or_default(), self.wide.get(wide..wide_end).unwrap_or_default())
        })
    }
}

impl<'a> Writer<'a> {
    fn number(&mut self, n: u32) {
        self.numbers.push(n);
    }

    fn string(&mut self, s: &str) {
        if s.is_ascii() {
            self.numbers.push(length(s.len()));
            self.text.push_str(s);
        } else {
            self.numbers.push(WIDE | length(utf16_len(s)));
            self.wide.push_str(s);
        }
    }

    fn opt_string(&mut self, value: &Option<String>) {
        if let Some(v) = value {
            self.string(v);
        }
    }

    fn repeating(&mut self, field: Repeating, value: &'a str) {
        let last = &mut self.last[field as usize];
        if *last == Some(value) {
            self.number(SAME);
        } else {
            *last = Some(value);
            self.string(value);
        }
    }

    fn opt_repeating(&mut self, field: Repeating, value: Option<&'a str>) {
        if let Some(v) = value {
            self.repeating(field, v);
        }
    }

    fn count(&mut self, n: usize) {
        self.number(u32::try_from(n).unwrap_or(u32::MAX));
    }

    fn tokens(&mut self, tokens: &'a [Token]) {
        self.count(tokens.len());
        tokens.iter().for_each(|t| t.write_fields(self));
    }

    fn metadata(&mut self, metadata: &'a Metadata) {
        self.count(metadata.len());
        for (i, (key, value)) in metadata.iter().enumerate() {
            match self.keys.get_mut(i) {
                // Keys shared from token to token (`Metadata::key`) are the same text in memory.
                Some(same) if std::ptr::eq(*same, key) || *same == key => self.number(SAME),
                Some(other) => {
                    *other = key;
                    self.string(key);
                }
                None => {
                    self.keys.push(key);
                    self.string(key);
                }
            }
            self.string(value);
        }
        self.keys.truncate(metadata.len());
    }
}

impl Token {
    fn write_fields<'a>(&'a self, out: &mut Writer<'a>) {
        // Destructured whole, so a field added to the model does not compile until it is written.
        let Token {
            provider,
            id,
            customer_id,
            status,
            provider_status,
            status_reason,
            payment_method,
            card,
            created_at,
            updated_at,
            expires_at,
            label,
            merchant_id,
            reference,
            gateway,
            gateway_token,
            compliant,
            metadata,
            required_action,
            raw,
        } = self;
        let present = has(customer_id, CUSTOMER_ID)
            | has(provider_status, PROVIDER_STATUS)
            | has(status_reason, STATUS_REASON)
            | has(card, CARD)
            | has(created_at, CREATED_AT)
            | has(updated_at, UPDATED_AT)
            | has(expires_at, EXPIRES_AT)
            | has(label, LABEL)
            | has(merchant_id, MERCHANT_ID)
            | has(reference, REFERENCE)
            | has(gateway, GATEWAY)
            | has(gateway_token, GATEWAY_TOKEN)
            | flag(*compliant, COMPLIANT, COMPLIANT_TRUE)
            | has(metadata, METADATA)
            | has(required_action, REQUIRED_ACTION)
            | has(&required_action.as_ref().and_then(|a| a.value.as_ref()), REQUIRED_ACTION_VALUE)
            | has(raw, RAW);
        // 1 where the token starts a new part of the text (see `PART`).
        let (text, wide) = out.breaks.last().copied().unwrap_or((0, 0));
        if out.text.len() - text + out.wide.len() - wide >= PART {
            out.breaks.push((out.text.len(), out.wide.len()));
            out.last = [None; REPEATING];
            out.number(1);
        } else {
            out.number(0);
        }
        out.number(present);
        // The enums as their declaration index (pkg/tape.js lists their words in that order).
        out.number(*provider as u32 | (*status as u32) << 8 | (*payment_method as u32) << 16);
        out.string(id);
        out.opt_repeating(Repeating::CustomerId, customer_id.as_deref());
        out.opt_repeating(Repeating::ProviderStatus, provider_status.as_deref());
        out.opt_repeating(Repeating::StatusReason, status_reason.as_deref());
        if let Some(card) = card {
            card.write_fields(out);
        }
        out.opt_string(created_at);
        out.opt_string(updated_at);
        out.opt_string(expires_at);
        out.opt_string(label);
        out.opt_repeating(Repeating::MerchantId, merchant_id.as_deref());
        out.opt_string(reference);
        out.opt_repeating(Repeating::Gateway, gateway.as_deref());
        out.opt_string(gateway_token);
        if let Some(metadata) = metadata {
            out.metadata(metadata);
        }
        if let Some(RequiredAction { action, value }) = required_action {
            out.string(action);
            out.opt_string(value);
        }
        if let Some(raw) = raw {
            // The provider's own reply, any shape: as JSON text, for `JSON.parse`. A `Value`
            // always serializes (its keys are strings); `null` if it somehow did not.
            out.string(&serde_json::to_string(raw).unwrap_or_else(|_| "null".into()));
        }
    }
}

impl Card {
    fn write_fields<'a>(&'a self, out: &mut Writer<'a>) {
        let Card { masked_pan, last4, brand, expiry_month, expiry_year, holder_name, issuer_name, issuer_country, funding, cvv_required, international } =
            self;
        out.number(
            has(masked_pan, MASKED_PAN)
                | has(last4, LAST4)
                | has(expiry_month, EXPIRY_MONTH)
                | has(expiry_year, EXPIRY_YEAR)
                | has(holder_name, HOLDER_NAME)
                | has(issuer_name, ISSUER_NAME)
                | has(issuer_country, ISSUER_COUNTRY)
                | has(funding, FUNDING)
                | flag(*cvv_required, CVV_REQUIRED, CVV_REQUIRED_TRUE)
                | flag(*international, INTERNATIONAL, INTERNATIONAL_TRUE),
        );
        out.opt_string(masked_pan);
        out.opt_string(last4);
        out.repeating(Repeating::Brand, brand);
        if let Some(month) = expiry_month {
            out.number(u32::from(*month));
        }
        if let Some(year) = expiry_year {
            out.number(u32::from(*year));
        }
        out.opt_string(holder_name);
        out.opt_repeating(Repeating::IssuerName, issuer_name.as_deref());
        out.opt_repeating(Repeating::IssuerCountry, issuer_country.as_deref());
        out.opt_repeating(Repeating::Funding, funding.as_deref());
    }
}

impl TapeResult for Token {
    fn write_tape<'a>(&'a self, out: &mut Writer<'a>) {
        out.number(Kind::Token as u32);
        self.write_fields(out);
    }
}

impl TapeResult for Vec<Token> {
    fn write_tape<'a>(&'a self, out: &mut Writer<'a>) {
        out.number(Kind::List as u32);
        out.tokens(self);
    }
}

impl TapeResult for TokenPage {
    fn write_tape<'a>(&'a self, out: &mut Writer<'a>) {
        let TokenPage { tokens, next } = self;
        out.number(Kind::Page as u32);
        out.tokens(tokens);
        out.number(has(next, 1));
        out.opt_string(next);
    }
}

/// `deleteToken` resolves with nothing.
impl TapeResult for () {
    fn write_tape<'a>(&'a self, out: &mut Writer<'a>) {
        out.number(Kind::Nothing as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::{utf16_len, Tape, TapeResult};
    use crate::http::HttpResponse;
    use crate::model::{Card, Metadata, PaymentMethod, Provider, RequiredAction, Token, TokenPage, TokenStatus};
    use crate::providers::{alliancepay, chargeover, payerly, pinelabs};

    /// A small deterministic generator (xorshift), so a failure can be replayed.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn flip(&mut self) -> bool {
            self.below(2) == 0
        }
        /// Text mixing every class the escaping tells apart: control characters, quotes,
        /// backslashes, DEL, non-ASCII (two to four bytes), and runs longer than a short piece.
        fn text(&mut self) -> String {
            const PARTS: &[&str] = &[
                "a", "Visa x4111", "\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{0}", "\u{1}", "\u{1f}", "\u{7f}", "/", "é", "₹", "😀",
                "\u{2028}", "0123456789abcdefXYZ", " ", "__proto__", "10", "9", "𝔘",
            ];
            (0..self.below(12)).map(|_| PARTS[self.below(PARTS.len() as u64) as usize]).collect()
        }
        fn opt_text(&mut self) -> Option<String> {
            self.flip().then(|| self.text())
        }
        fn opt_bool(&mut self) -> Option<bool> {
            self.flip().then(|| self.flip())
        }
    }

    const PROVIDERS: [Provider; 4] = [Provider::Alliancepay, Provider::Chargeover, Provider::Pinelabs, Provider::Payerly];
    const METHODS: [PaymentMethod; 5] = [PaymentMethod::Card, PaymentMethod::Ach, PaymentMethod::Upi, PaymentMethod::Points, PaymentMethod::Unknown];

    /// Every variant is in the generator's lists at its declaration index, as pkg/tape.js lists
    /// their words: a variant added to an enum does not compile here until it is listed.
    #[test]
    fn the_generator_lists_every_enum_variant_in_declaration_order() {
        let provider = |p: Provider| match p {
            Provider::Alliancepay | Provider::Chargeover | Provider::Pinelabs | Provider::Payerly => PROVIDERS[p as usize] == p,
        };
        let method = |m: PaymentMethod| match m {
            PaymentMethod::Card | PaymentMethod::Ach | PaymentMethod::Upi | PaymentMethod::Points | PaymentMethod::Unknown => METHODS[m as usize] == m,
        };
        let status = |s: TokenStatus| match s {
            TokenStatus::Active
            | TokenStatus::Suspended
            | TokenStatus::Deleted
            | TokenStatus::Pending
            | TokenStatus::Failed
            | TokenStatus::Expired
            | TokenStatus::Unknown => TokenStatus::ALL[s as usize] == s,
        };
        assert!(PROVIDERS.into_iter().all(provider) && METHODS.into_iter().all(method) && TokenStatus::ALL.into_iter().all(status));
    }

    fn random_token(g: &mut Gen) -> Token {
        let card = g.flip().then(|| Card {
            masked_pan: g.opt_text(),
            last4: g.opt_text(),
            brand: g.text().into(),
            expiry_month: g.flip().then(|| g.below(256) as u8),
            expiry_year: g.flip().then(|| [0, 9, 10, 99, 100, 2030, 9999, 10000, u16::MAX][g.below(9) as usize]),
            holder_name: g.opt_text(),
            issuer_name: g.opt_text(),
            issuer_country: g.opt_text(),
            funding: g.opt_text(),
            cvv_required: g.opt_bool(),
            international: g.opt_bool(),
        });
        // Keys half the time from a small pool, so that tokens of a list share some (the writer
        // then refers to the previous token's key) and differ in others.
        const POOL: &[&str] = &["clientId", "tid", "__proto__", "constructor", "toString", "10", "9", "𝔘"];
        let key = |g: &mut Gen| if g.flip() { POOL[g.below(POOL.len() as u64) as usize].to_string() } else { g.text() };
        let metadata = g.flip().then(|| (0..g.below(5)).map(|_| (key(g), g.text())).collect::<Metadata>());
        let raw = g.flip().then(|| serde_json::json!({ "k": g.text(), "n": [1, 2.5, null, true], "nested": { "x": g.text() } }));
        Token {
            provider: PROVIDERS[g.below(PROVIDERS.len() as u64) as usize],
            id: g.text(),
            customer_id: g.opt_text(),
            status: TokenStatus::ALL[g.below(TokenStatus::ALL.len() as u64) as usize],
            provider_status: g.opt_text().map(Into::into),
            status_reason: g.opt_text(),
            payment_method: METHODS[g.below(METHODS.len() as u64) as usize],
            card,
            created_at: g.opt_text(),
            updated_at: g.opt_text(),
            expires_at: g.opt_text(),
            label: g.opt_text(),
            merchant_id: g.opt_text(),
            reference: g.opt_text(),
            gateway: g.opt_text(),
            gateway_token: g.opt_text(),
            compliant: g.opt_bool(),
            metadata,
            required_action: g.flip().then(|| RequiredAction { action: g.text(), value: g.opt_text() }),
            raw,
        }
    }

    #[test]
    fn utf16_lengths_are_what_js_counts() {
        let mut g = Gen(0x1234_5678_9abc_def1);
        for _ in 0..20_000 {
            let s = g.text();
            assert_eq!(utf16_len(&s), s.encode_utf16().count(), "{s:?}");
        }
    }

    /// A long list's text comes in parts of at least `PART` bytes (the last may be shorter), each
    /// starting where a token does, with a 1 first among that token's numbers.
    #[test]
    fn a_long_list_is_cut_into_parts_where_tokens_start() {
        let tokens: Vec<Token> = (0..1000).map(|i| Token::new(Provider::Payerly, format!("token-{i:05}-{}", "x".repeat(i % 50)))).collect();
        let tape = Tape::of(&tokens);
        assert!(tape.parts().all(|(_, wide)| wide.is_empty()));
        let parts: Vec<&str> = tape.parts().map(|(text, _)| text).collect();
        assert!(parts.len() > 5, "{}", parts.len());
        assert_eq!(parts.concat(), tokens.iter().map(|t| t.id.as_str()).collect::<String>());
        assert!(parts.iter().rev().skip(1).all(|p| p.len() >= super::PART && p.len() < super::PART + 60));
        assert!(parts.iter().all(|p| p.starts_with("token-")));
        // Each token: its part marker, presence, enums, its id's length.
        let markers: Vec<u32> = tape.numbers[2..].chunks(4).map(|c| c[0]).collect();
        assert_eq!(markers.len(), 1000);
        assert_eq!(markers.iter().filter(|&&m| m == 1).count(), parts.len() - 1);
        assert_eq!(markers[0], 0, "the first token is in the first part");
        // The token with each marker is the one whose id opens the next part.
        let opening: Vec<&str> = markers.iter().zip(&tokens).filter(|(&m, _)| m == 1).map(|(_, t)| t.id.as_str()).collect();
        assert!(parts[1..].iter().zip(&opening).all(|(part, id)| part.starts_with(id)), "{opening:?}");
    }

    /// A string with any character beyond ASCII is in its part's wide text, its length marked;
    /// the parts are cut at the same tokens in both texts, by their bytes together.
    #[test]
    fn strings_beyond_ascii_cross_apart_in_the_same_parts() {
        let tokens: Vec<Token> = (0..1000)
            .map(|i| {
                let mut t = Token::new(Provider::Alliancepay, format!("tok-{i:04}"));
                t.label = Some(if i % 2 == 0 { format!("523244••••••{i:04}") } else { format!("Visa x{i:04}") });
                t
            })
            .collect();
        let tape = Tape::of(&tokens);
        let parts: Vec<(&str, &str)> = tape.parts().collect();
        assert!(parts.len() > 3, "{}", parts.len());
        assert!(parts.iter().all(|(text, wide)| text.is_ascii() && !wide.is_empty() && !wide.is_ascii()));
        assert!(parts.iter().rev().skip(1).all(|(text, wide)| text.len() + wide.len() >= super::PART && text.len() + wide.len() < super::PART + 60));
        // Each part's two texts start at the same token: its id opens the ASCII text, and the
        // wide text opens with the label of that token or, when it is ASCII, of the next one.
        for (text, wide) in &parts {
            let first: usize = text.get(4..8).and_then(|n| n.parse().ok()).expect("a part opens with a token id");
            let label = |i: usize| tokens[i].label.as_deref().unwrap_or_default();
            let opening = if first.is_multiple_of(2) { label(first) } else { label(first + 1) };
            assert!(wide.starts_with(opening), "{text:.20} / {wide:.20}");
        }
        let wide: String = parts.iter().map(|(_, wide)| *wide).collect();
        assert_eq!(wide, tokens.iter().filter_map(|t| t.label.as_deref()).filter(|l| !l.is_ascii()).collect::<String>());
        // The first token: marker, presence, enums, the id's length, then the label's: 16 UTF-16
        // units (the bullets are one each, three bytes in UTF-8), marked wide.
        let first = &tape.numbers[2..7];
        assert_eq!([first[0], first[1], first[3], first[4]], [0, super::LABEL, 8, super::WIDE | 16]);
    }

    /// What pkg/tape.js relies on beyond the corpus: a list starts with its kind and length, the
    /// text is every string one after another, and a repeated metadata key is a reference.
    #[test]
    fn a_list_is_its_kind_its_length_then_each_token_and_repeated_keys_are_references() {
        let mut a = Token::new(Provider::Pinelabs, "t1".into());
        a.metadata = Some([("k".to_string(), "v1".to_string()), ("m".to_string(), "w".to_string())].into_iter().collect());
        let mut b = Token::new(Provider::Pinelabs, "t2".into());
        b.metadata = Some([("k".to_string(), "v2".to_string()), ("n".to_string(), "x".to_string())].into_iter().collect());
        let mut c = Token::new(Provider::Pinelabs, "t3".into());
        c.metadata = Some([("k".to_string(), "v3".to_string())].into_iter().collect());
        let tape = Tape::of(&vec![a, b, c.clone(), c]);
        assert_eq!(tape.parts().collect::<Vec<_>>(), [("t1kv1mwt2v2nxt3v3t3v3", "")]);
        let (meta, enums, same) = (super::METADATA, 2 | 6 << 8 | 4 << 16, super::SAME);
        #[rustfmt::skip]
        assert_eq!(tape.numbers, [
            2, 4, // a list of four
            0, meta, enums, 2, 2, 1, 2, 1, 1, // t1: in the first part; its id's length, two entries: k, v1, m, w
            0, meta, enums, 2, 2, same, 2, 1, 1, // t2: k again, v2, then n (not m), x
            0, meta, enums, 2, 1, same, 2, // t3
            0, meta, enums, 2, 1, same, 2, // t3 again
        ]);
        let nothing = Tape::of(&());
        assert_eq!((nothing.parts().collect::<Vec<_>>(), nothing.numbers.as_slice()), (vec![("", "")], &[0][..]));
    }

    /// A token whose repeating fields are `shared`'s values, its id padded to `width` bytes.
    fn sharing(i: usize, width: usize, shared: [Option<&str>; 9]) -> Token {
        let [customer, status, reason, merchant, gateway, brand, issuer, country, funding] = shared.map(|v| v.map(str::to_string));
        let mut t = Token::new(Provider::Pinelabs, format!("{i:0width$}"));
        (t.customer_id, t.provider_status, t.status_reason, t.merchant_id, t.gateway) = (customer, status.map(Into::into), reason, merchant, gateway);
        t.card = brand.map(|brand| Card { brand: brand.into(), issuer_name: issuer, issuer_country: country, funding, ..Card::default() });
        t
    }

    /// A value equal to the same field of the last token that had it is a reference (and JS keeps
    /// the string it read); a changed one, or the first of a new part of the text, is written.
    #[test]
    fn a_value_repeated_from_the_last_token_is_a_reference_within_a_part() {
        let one = [Some("c1"), Some("ACTIVE"), Some(""), Some("m1"), Some("gw"), Some("Visa"), Some("Bank ₹"), Some("IN"), Some("CREDIT")];
        let mut other = one;
        (other[1], other[5]) = (Some("SUSPENDED"), Some("Mastercard"));
        let empty = [None; 9];
        let tokens = vec![sharing(1, 1, one), sharing(2, 1, empty), sharing(3, 1, other), sharing(4, 1, one)];
        let tape = Tape::of(&tokens);
        assert_eq!(tape.parts().collect::<Vec<_>>(), [("1c1ACTIVEVisaINCREDITm1gw23SUSPENDEDMastercard4ACTIVEVisa", "Bank ₹")]);
        let (same, card, enums) = (super::SAME, super::CARD, 2 | 6 << 8 | 4 << 16);
        let all = super::CUSTOMER_ID | super::PROVIDER_STATUS | super::STATUS_REASON | card | super::MERCHANT_ID | super::GATEWAY;
        let card_has = super::ISSUER_NAME | super::ISSUER_COUNTRY | super::FUNDING;
        #[rustfmt::skip]
        assert_eq!(tape.numbers, [
            2, 4,
            0, all, enums, 1, 2, 6, 0, card_has, 4, super::WIDE | 6, 2, 6, 2, 2, // 1: every value written
            0, 0, enums, 1, // 2: none of them
            0, all, enums, 1, same, 9, same, card_has, 10, same, same, same, same, same, // 3: status and brand changed
            0, all, enums, 1, same, 6, same, card_has, 4, same, same, same, same, same, // 4: back to the first
        ]);

        // A token that opens a new part writes its values again, so a kept string never keeps an
        // earlier part alive; the ones after it refer to it.
        let long: Vec<Token> = (0..200).map(|i| sharing(i, 40, one)).collect();
        let tape = Tape::of(&long);
        let parts: Vec<(&str, &str)> = tape.parts().collect();
        assert!(parts.len() > 1);
        for (text, wide) in &parts {
            let ids = text.matches("c1ACTIVEVisaINCREDITm1gw").count();
            assert_eq!((ids, *wide), (1, "Bank ₹"), "{text:.60}");
        }
        assert_eq!(tape.numbers.iter().filter(|&&n| n == same).count(), (200 - parts.len()) * 9);
    }

    /// Writes the corpus js-tests/tape.test.js reads back: each result as `serde_json` writes it,
    /// and its tape. Run by that test (`--ignored`), with the file's path in
    /// PAYTOKENS_TAPE_CORPUS.
    #[test]
    #[ignore]
    fn write_corpus_for_the_js_reader() {
        let path = std::env::var("PAYTOKENS_TAPE_CORPUS").expect("PAYTOKENS_TAPE_CORPUS names the corpus file");
        let mut entries = Vec::new();
        let mut add = |json: String, tape: Tape| {
            // As the glue hands them over: a part without wide text has none (`null` here).
            let (parts, wides): (Vec<&str>, Vec<Option<&str>>) = tape.parts().map(|(text, wide)| (text, (!wide.is_empty()).then_some(wide))).unzip();
            entries.push(serde_json::json!({ "json": json, "parts": parts, "wides": wides, "numbers": tape.numbers }));
        };
        fn both<T: TapeResult + serde::Serialize>(value: &T) -> (String, Tape) {
            (serde_json::to_string(value).unwrap(), Tape::of(value))
        }
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5_000 {
            let (json, tape) = both(&random_token(&mut g));
            add(json, tape);
        }
        for n in [0, 1, 3, 20, 300] {
            let tokens: Vec<Token> = (0..n).map(|_| random_token(&mut g)).collect();
            let (json, tape) = both(&tokens);
            add(json, tape);
            let (json, tape) = both(&TokenPage { tokens: tokens.clone(), next: None });
            add(json, tape);
            let (json, tape) = both(&TokenPage { tokens, next: Some(g.text()) });
            add(json, tape);
        }
        // Metadata keys kept, changed, dropped and grown from one token to the next, and tokens
        // without metadata or with an empty map between them, as a list and as a page.
        let with_keys = |id: &str, keys: Option<&[&str]>| {
            let mut t = Token::new(Provider::Pinelabs, id.to_string());
            t.metadata = keys.map(|ks| ks.iter().map(|k| (k.to_string(), format!("{id}:{k}"))).collect());
            t
        };
        let shapes: Vec<Token> = [
            Some(&["k", "m"][..]),
            Some(&["k", "n"]),
            Some(&["k"]),
            Some(&[]),
            None,
            Some(&["k", "n", "o"]),
            Some(&["k", "n", "o"]),
            Some(&["k", "n", "p"]),
            Some(&["constructor", "k", "n", "o"]),
            Some(&["constructor", "n"]),
            Some(&["constructor", "n", "toString"]),
            Some(&["__proto__", "k"]),
            Some(&["__proto__", "k", "toString"]),
        ]
        .iter()
        .enumerate()
        .map(|(i, keys)| with_keys(&format!("t{i}"), *keys))
        .collect();
        let (json, tape) = both(&shapes);
        add(json, tape);
        let (json, tape) = both(&TokenPage { tokens: shapes, next: Some("cursor".into()) });
        add(json, tape);
        let (json, tape) = both(&());
        add(json, tape);
        // Parts with wide text and parts without, in one list.
        let mixed: Vec<Token> = (0..700)
            .map(|i| {
                let mut t = Token::new(Provider::Payerly, format!("t{i}"));
                t.label = Some(if i < 400 { format!("Visa x{i:04}") } else { format!("Visa •{i:04} ₹") });
                t
            })
            .collect();
        let (json, tape) = both(&mixed);
        add(json, tape);
        // Repeating fields kept, changed, left out and empty from token to token, across parts.
        let values = [["c1", "c2"], ["ACTIVE", "SUSPENDED"], ["", "expired"], ["m1", "m•"], ["gw", "__proto__"], ["Visa", "Mastercard"], ["Bank ₹", "Bank"], ["IN", "US"], ["CREDIT", "DEBIT"]];
        let repeating: Vec<Token> = (0..700)
            .map(|i| {
                let mut shared = [None; 9];
                for (f, [a, b]) in values.iter().enumerate() {
                    shared[f] = match g.below(8) {
                        0 => None,
                        1 => Some(*b),
                        _ => Some(*a),
                    };
                }
                let mut t = sharing(i, 1 + g.below(30) as usize, shared);
                // With metadata now and then, so that key and value references mix.
                t.metadata = g.below(4).eq(&0).then(|| [("k", "v"), ("n", "w")].map(|(k, v)| (k.to_string(), v.to_string())).into_iter().collect());
                t
            })
            .collect();
        let (json, tape) = both(&repeating);
        add(json, tape);
        let (json, tape) = both(&TokenPage { tokens: repeating, next: Some("cursor".into()) });
        add(json, tape);
        let all: String = (0u8..0x80).map(char::from).collect();
        let mut t = Token::new(Provider::Payerly, all.clone());
        t.label = Some(all);
        let (json, tape) = both(&t);
        add(json, tape);
        let fixture = |p: &str| HttpResponse::new(200, std::fs::read_to_string(format!("{}/tests/fixtures/{p}", env!("CARGO_MANIFEST_DIR"))).unwrap());
        for list in [
            pinelabs::parse_token_list(&fixture("pinelabs/list_doc_example.json"), 0).unwrap(),
            alliancepay::parse_token_list(&fixture("alliancepay/list_doc_example.json")).unwrap(),
            chargeover::parse_token_list(&fixture("chargeover/list_cases.json"), 0).unwrap(),
        ] {
            let (json, tape) = both(&list);
            add(json, tape);
        }
        let (json, tape) = both(&payerly::parse_token(&fixture("payerly/token_doc_example.json"), 0, true).unwrap());
        add(json, tape);
        std::fs::write(path, serde_json::to_string(&entries).unwrap()).unwrap();
    }
}
