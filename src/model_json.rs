//! Tokens written as JSON text for `JSON.parse` on the JS side, without serde.
//!
//! serde's serializer hands the writer every quote, colon, comma and key as its own piece, and
//! checks every key and value byte by byte for characters to escape; for a 1,000-token Pine
//! Labs list that was about 1.9 of the 8.4 ms from reply bytes to JSON text in wasm
//! (bench/analysis.md). Here each run of keys and punctuation between two values is one
//! constant piece, and values are checked eight bytes at a time. The output is byte for byte what
//! `serde_json::to_string` writes for the same value (tests below), so the derived `Serialize`
//! stays the reference for field names and order.

use crate::model::{Card, RequiredAction, Token, TokenPage};

/// A result that crosses to JS as JSON text.
pub trait JsonText {
    fn write_json(&self, out: &mut Json);
}

/// The text being written. Only whole `str`s and ASCII are ever added, so it stays UTF-8.
pub struct Json(Vec<u8>);

impl Json {
    pub fn text<T: JsonText + ?Sized>(value: &T) -> String {
        let mut out = Json(Vec::with_capacity(1024));
        value.write_json(&mut out);
        // Cannot fail (see above); never a panic if it somehow did.
        String::from_utf8(out.0).unwrap_or_default()
    }

    /// Short pieces byte by byte: in wasm each slice copy is a `memory.copy`, whose fixed cost
    /// outweighs copying a few bytes.
    fn put(&mut self, piece: &[u8]) {
        if piece.len() <= 16 {
            piece.iter().for_each(|&b| self.0.push(b));
        } else {
            self.0.extend_from_slice(piece);
        }
    }

    /// A JSON string, escaped as serde_json escapes: `"`, `\` and control characters only.
    /// Almost no reply text has any of those, so a string is checked whole before it is copied.
    fn string(&mut self, s: &str) {
        self.0.push(b'"');
        if !any_needs_escape(s.as_bytes()) {
            self.put(s.as_bytes());
        } else {
            for run in s.as_bytes().split_inclusive(|&b| needs_escape(b)) {
                match run.split_last() {
                    Some((&last, before)) if needs_escape(last) => {
                        self.put(before);
                        self.escape(last);
                    }
                    _ => self.put(run),
                }
            }
        }
        self.0.push(b'"');
    }

    fn escape(&mut self, b: u8) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        match b {
            b'"' => self.put(b"\\\""),
            b'\\' => self.put(b"\\\\"),
            b'\n' => self.put(b"\\n"),
            b'\r' => self.put(b"\\r"),
            b'\t' => self.put(b"\\t"),
            0x08 => self.put(b"\\b"),
            0x0c => self.put(b"\\f"),
            _ => self.put(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]),
        }
    }

    fn number(&mut self, n: u16) {
        let mut digits = [0u8; 5];
        let mut at = digits.len();
        let mut rest = n;
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        self.put(digits.get(at..).unwrap_or_default());
    }

    fn bool(&mut self, b: bool) {
        self.put(if b { b"true" } else { b"false" });
    }

    /// `key` is the comma, the quoted name and the colon, e.g. `,"label":`.
    fn opt_string(&mut self, key: &[u8], value: &Option<String>) {
        if let Some(v) = value {
            self.put(key);
            self.string(v);
        }
    }

    fn opt_number(&mut self, key: &[u8], value: Option<u16>) {
        if let Some(v) = value {
            self.put(key);
            self.number(v);
        }
    }

    fn opt_bool(&mut self, key: &[u8], value: Option<bool>) {
        if let Some(v) = value {
            self.put(key);
            self.bool(v);
        }
    }
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// `needs_escape` for any byte, eight bytes at a time (the bit tricks for "has a byte below n",
/// exact for n ≤ 128): the per-byte loop was the writer's largest cost.
fn any_needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut words = bytes.chunks_exact(8);
    let found = words.any(|w| {
        let x = u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or_default());
        below(x, 0x20) | below(x ^ (ONES * u64::from(b'"')), 1) | below(x ^ (ONES * u64::from(b'\\')), 1) != 0
    });
    found || words.remainder().iter().any(|&b| needs_escape(b))
}

impl JsonText for Token {
    fn write_json(&self, out: &mut Json) {
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
        out.put(b"{\"provider\":\"");
        out.put(provider.as_str().as_bytes());
        out.put(b"\",\"id\":");
        out.string(id);
        out.opt_string(b",\"customerId\":", customer_id);
        out.put(b",\"status\":\"");
        out.put(status.as_str().as_bytes());
        out.put(b"\"");
        out.opt_string(b",\"providerStatus\":", provider_status);
        out.opt_string(b",\"statusReason\":", status_reason);
        out.put(b",\"paymentMethod\":\"");
        out.put(payment_method.as_str().as_bytes());
        out.put(b"\"");
        if let Some(card) = card {
            out.put(b",\"card\":");
            card.write_json(out);
        }
        out.opt_string(b",\"createdAt\":", created_at);
        out.opt_string(b",\"updatedAt\":", updated_at);
        out.opt_string(b",\"expiresAt\":", expires_at);
        out.opt_string(b",\"label\":", label);
        out.opt_string(b",\"merchantId\":", merchant_id);
        out.opt_string(b",\"reference\":", reference);
        out.opt_string(b",\"gateway\":", gateway);
        out.opt_string(b",\"gatewayToken\":", gateway_token);
        out.opt_bool(b",\"compliant\":", *compliant);
        if let Some(metadata) = metadata {
            out.put(b",\"metadata\":{");
            for (i, (key, value)) in metadata.iter().enumerate() {
                if i > 0 {
                    out.put(b",");
                }
                out.string(key);
                out.put(b":");
                out.string(value);
            }
            out.put(b"}");
        }
        if let Some(action) = required_action {
            out.put(b",\"requiredAction\":");
            action.write_json(out);
        }
        if let Some(raw) = raw {
            out.put(b",\"raw\":");
            // A `Value` always serializes (its map keys are strings); `null` if it somehow did not.
            if serde_json::to_writer(&mut out.0, raw).is_err() {
                out.put(b"null");
            }
        }
        out.put(b"}");
    }
}

impl JsonText for Card {
    fn write_json(&self, out: &mut Json) {
        let Card { masked_pan, last4, brand, expiry_month, expiry_year, holder_name, issuer_name, issuer_country, funding, cvv_required, international } =
            self;
        out.put(b"{");
        // `brand` is the first field always present; the two before it carry their own comma.
        if let Some(pan) = masked_pan {
            out.put(b"\"maskedPan\":");
            out.string(pan);
            out.put(b",");
        }
        if let Some(last4) = last4 {
            out.put(b"\"last4\":");
            out.string(last4);
            out.put(b",");
        }
        out.put(b"\"brand\":");
        out.string(brand);
        out.opt_number(b",\"expiryMonth\":", expiry_month.map(u16::from));
        out.opt_number(b",\"expiryYear\":", *expiry_year);
        out.opt_string(b",\"holderName\":", holder_name);
        out.opt_string(b",\"issuerName\":", issuer_name);
        out.opt_string(b",\"issuerCountry\":", issuer_country);
        out.opt_string(b",\"funding\":", funding);
        out.opt_bool(b",\"cvvRequired\":", *cvv_required);
        out.opt_bool(b",\"international\":", *international);
        out.put(b"}");
    }
}

impl JsonText for RequiredAction {
    fn write_json(&self, out: &mut Json) {
        let RequiredAction { action, value } = self;
        out.put(b"{\"action\":");
        out.string(action);
        out.opt_string(b",\"value\":", value);
        out.put(b"}");
    }
}

impl<T: JsonText> JsonText for [T] {
    fn write_json(&self, out: &mut Json) {
        out.put(b"[");
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.put(b",");
            }
            item.write_json(out);
        }
        out.put(b"]");
    }
}

impl<T: JsonText> JsonText for Vec<T> {
    fn write_json(&self, out: &mut Json) {
        self.as_slice().write_json(out);
    }
}

impl JsonText for TokenPage {
    fn write_json(&self, out: &mut Json) {
        let TokenPage { tokens, next } = self;
        out.put(b"{\"tokens\":");
        tokens.write_json(out);
        out.opt_string(b",\"next\":", next);
        out.put(b"}");
    }
}

/// `deleteToken` resolves with nothing.
impl JsonText for () {
    fn write_json(&self, out: &mut Json) {
        out.put(b"null");
    }
}

#[cfg(test)]
mod tests {
    use super::{Json, JsonText};
    use crate::http::HttpResponse;
    use crate::model::{Card, PaymentMethod, Provider, RequiredAction, Token, TokenPage, TokenStatus};
    use crate::providers::{alliancepay, chargeover, payerly, pinelabs};
    use std::collections::BTreeMap;

    fn same_as_serde<T: JsonText + serde::Serialize>(value: &T) {
        assert_eq!(Json::text(value), serde_json::to_string(value).unwrap());
    }

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
                "\u{2028}", "0123456789abcdefXYZ", " ",
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

    fn random_token(g: &mut Gen) -> Token {
        let card = g.flip().then(|| Card {
            masked_pan: g.opt_text(),
            last4: g.opt_text(),
            brand: g.text(),
            expiry_month: g.flip().then(|| g.below(256) as u8),
            expiry_year: g.flip().then(|| [0, 9, 10, 99, 100, 2030, 9999, 10000, u16::MAX][g.below(9) as usize]),
            holder_name: g.opt_text(),
            issuer_name: g.opt_text(),
            issuer_country: g.opt_text(),
            funding: g.opt_text(),
            cvv_required: g.opt_bool(),
            international: g.opt_bool(),
        });
        let metadata = g.flip().then(|| (0..g.below(4)).map(|_| (g.text(), g.text())).collect::<BTreeMap<_, _>>());
        let raw = g.flip().then(|| serde_json::json!({ "k": g.text(), "n": [1, 2.5, null, true], "nested": { "x": g.text() } }));
        Token {
            provider: [Provider::Alliancepay, Provider::Chargeover, Provider::Pinelabs, Provider::Payerly][g.below(4) as usize],
            id: g.text(),
            customer_id: g.opt_text(),
            status: TokenStatus::ALL[g.below(7) as usize],
            provider_status: g.opt_text(),
            status_reason: g.opt_text(),
            payment_method: [PaymentMethod::Card, PaymentMethod::Ach, PaymentMethod::Upi, PaymentMethod::Points, PaymentMethod::Unknown][g.below(5) as usize],
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
    fn random_tokens_are_written_exactly_as_serde_json_writes_them() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5_000 {
            same_as_serde(&random_token(&mut g));
        }
        for n in [0, 1, 3] {
            let tokens: Vec<Token> = (0..n).map(|_| random_token(&mut g)).collect();
            same_as_serde(&tokens);
            same_as_serde(&TokenPage { tokens: tokens.clone(), next: None });
            same_as_serde(&TokenPage { tokens, next: Some(g.text()) });
        }
        same_as_serde(&());
    }

    #[test]
    fn the_word_at_a_time_check_finds_exactly_the_bytes_that_need_escaping() {
        let mut g = Gen(0x2545_f491_4f6c_dd1d);
        for _ in 0..200_000 {
            let bytes: Vec<u8> = (0..g.below(20)).map(|_| if g.below(4) == 0 { g.below(256) as u8 } else { b'a' + g.below(26) as u8 }).collect();
            assert_eq!(super::any_needs_escape(&bytes), bytes.iter().any(|&b| super::needs_escape(b)), "{bytes:?}");
        }
        for b in 0..=255u8 {
            for at in 0..9 {
                let mut bytes = vec![b'x'; 9];
                bytes[at] = b;
                assert_eq!(super::any_needs_escape(&bytes), super::needs_escape(b), "{b} at {at}");
            }
        }
    }

    #[test]
    fn every_control_character_is_escaped_as_serde_json_escapes_it() {
        let all: String = (0u8..0x80).map(char::from).collect();
        let mut t = Token::new(Provider::Payerly, all.clone());
        t.label = Some(all);
        same_as_serde(&t);
    }

    #[test]
    fn documented_replies_are_written_exactly_as_serde_json_writes_them() {
        let fixture = |p: &str| HttpResponse::new(200, std::fs::read_to_string(format!("{}/tests/fixtures/{p}", env!("CARGO_MANIFEST_DIR"))).unwrap());
        same_as_serde(&pinelabs::parse_token_list(&fixture("pinelabs/list_doc_example.json")).unwrap());
        same_as_serde(&alliancepay::parse_token_list(&fixture("alliancepay/list_doc_example.json")).unwrap());
        same_as_serde(&chargeover::parse_token_list(&fixture("chargeover/list_cases.json"), 0).unwrap());
        same_as_serde(&payerly::parse_token(&fixture("payerly/token_doc_example.json"), 0, true).unwrap());
    }
}
