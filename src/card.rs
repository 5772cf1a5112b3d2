//! Card data hygiene and brand detection. No output of the SDK may hold a full card number, so
//! every PAN-like value from a provider passes through `mask_pan`, and free text through `scrub_pans`.

use crate::model::Card;
use std::borrow::Cow;

const MASK_CHARS: [char; 5] = ['*', '•', 'X', 'x', '#'];

/// What can be read from a masked (or, by provider mistake, unmasked) card number.
#[derive(Debug, Default, PartialEq)]
pub struct MaskedPan {
    pub masked: String,
    pub bin: Option<String>,
    pub last4: Option<String>,
}

/// Re-masks anything that shows more than the first 6 and last 4 digits; keeps a well-masked
/// value as the provider wrote it. Separators (space, dash) are dropped.
pub fn mask_pan(value: &str) -> Option<MaskedPan> {
    mask_pan_of(Cow::Borrowed(value))
}

/// `mask_pan` for a value the caller owns: a well-masked one becomes the result without a copy.
fn mask_pan_of(value: Cow<'_, str>) -> Option<MaskedPan> {
    // Read in place, without a copy of the characters: this runs for every token of a list.
    let text: &str = &value;
    let kept = || text.chars().filter(|c| !matches!(c, ' ' | '-'));
    let (mut len, mut digits, mut leading, mut trailing, mut plain) = (0usize, 0usize, 0usize, 0usize, true);
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits += 1;
            trailing += 1;
            if leading == len {
                leading += 1;
            }
        } else if MASK_CHARS.contains(&c) {
            trailing = 0;
        } else if c == ' ' || c == '-' {
            plain = false;
            continue;
        } else {
            return None;
        }
        len += 1;
    }
    if len == 0 {
        return None;
    }
    // The last `n` kept characters; without separators, digits at the end are its last bytes.
    let tail = |n: usize| -> String {
        match text.get(text.len().saturating_sub(n)..) {
            Some(end) if plain && n <= trailing => end.to_string(),
            _ => kept().skip(len - n).collect(),
        }
    };
    // Digits both: the leading and trailing runs are all digits.
    let bin = (leading >= 6).then(|| match text.get(..6) {
        Some(start) if plain => start.to_string(),
        _ => kept().take(6).collect(),
    });
    let last4 = (trailing >= 4).then(|| tail(4));
    let masked = if digits == len || digits > 10 || leading > 6 || trailing > 4 {
        // Unmasked or under-masked: keep at most 6 + 4 visible.
        if len < 10 {
            // Too short to be a card number; show only the last digits.
            let keep = len.min(4);
            format!("{}{}", "*".repeat(len - keep), tail(keep))
        } else {
            let first: String = kept().take(6).filter(char::is_ascii_digit).collect();
            let last = tail(4);
            // Byte lengths, as the first version counted: each '•' (three bytes) in `last` leaves
            // two fewer '*' (kept as it was; tested against that version).
            let hidden = len.saturating_sub(first.len() + last.len());
            format!("{first}{}{last}", "*".repeat(hidden))
        }
    } else if digits != leading + trailing {
        // Digits between masked ones (`****1111111111**`): with the same card well masked
        // elsewhere they would give away the middle of its number. Each keeps its place, shown
        // only within the first 6 and the last 4.
        kept().enumerate().map(|(i, c)| if c.is_ascii_digit() && i >= 6 && i + 4 < len { '*' } else { c }).collect()
    } else if plain {
        value.into_owned()
    } else {
        kept().collect()
    };
    Some(MaskedPan { masked, bin, last4 })
}

/// A provider's "masked PAN" field, whatever it holds: a readable PAN is masked by `mask_pan`;
/// anything else keeps at most the first 6 and last 4 of its digits, so no garbled value can
/// carry more of a card number out than a well-masked one.
pub fn mask_pan_field(text: &str) -> String {
    if let Some(m) = mask_pan(text) {
        return m.masked;
    }
    let digits = text.chars().filter(|&c| is_card_digit(c)).count();
    if digits <= 10 {
        return text.to_string();
    }
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if !is_card_digit(c) {
                return c;
            }
            seen += 1;
            if seen <= 6 || seen > digits - 4 {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// The code point of each Unicode decimal digit zero (category Nd, Unicode 18): each starts ten
/// digits 0–9. A card number can be typed in any of them (phone keyboards and input methods write
/// their script's digits), and a digit outside this list would carry a number out unmasked.
/// (`has_card_length_run` relies on `DIGIT_LEAD_BYTES` holding each one's first UTF-8 byte.)
const DIGIT_ZEROS: [u32; 77] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0,
    0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900,
    0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x10D40, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x116D0, 0x116DA, 0x11730, 0x118E0, 0x11950, 0x11BF0, 0x11C50, 0x11D50, 0x11DA0, 0x11DE0, 0x11F50, 0x16130,
    0x16A60, 0x16AC0, 0x16B50, 0x16D70, 0x1CCF0, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E5F1,
    0x1E950, 0x1FBF0,
];

/// The first UTF-8 byte of every digit in `DIGIT_ZEROS` past ASCII.
const DIGIT_LEAD_BYTES: [u8; 8] = [0xD9, 0xDB, 0xDF, 0xE0, 0xE1, 0xEA, 0xEF, 0xF0];

/// The value of a decimal digit of any script.
fn card_digit(c: char) -> Option<u32> {
    let code = u32::from(c);
    if c.is_ascii_digit() {
        return Some(code - 0x30);
    }
    let zero = match DIGIT_ZEROS.binary_search(&code) {
        Ok(_) => return Some(0),
        Err(0) => return None,
        Err(i) => DIGIT_ZEROS[i - 1],
    };
    (code - zero < 10).then_some(code - zero)
}

fn is_card_digit(c: char) -> bool {
    card_digit(c).is_some()
}

/// What people put between a card number's digit groups: whitespace of every kind (line breaks
/// included: a number wrapped over lines is still a number), invisible characters (control
/// characters, zero-width spaces and joiners, direction marks, variation selectors, tag
/// characters, the Hangul fillers and the blank Braille pattern, which render as nothing or as a
/// space), combining marks (drawn on the digit before them, which stays readable), the
/// replacement character (where a lenient decoder put a byte it could not read), dashes and the
/// minus sign, dots,
/// slashes, plus signs (an encoded space), and their full-width forms. Not commas: amounts
/// ("1,234,567,890,123") must stay readable. Not colons: a date and time ("2024-01-01 12:30:45")
/// would make 14 digits.
fn is_group_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.' | '/' | '_' | '+' | '\u{0000}'..='\u{001F}' | '\u{007F}'..='\u{009F}' | '\u{00AD}' | '\u{00B7}' | '\u{0300}'..='\u{036F}' | '\u{061C}'
                | '\u{115F}' | '\u{1160}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{2010}'..='\u{2015}'
                | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{20D0}'..='\u{20FF}' | '\u{2212}' | '\u{2800}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
                | '\u{FF0B}' | '\u{FF0D}' | '\u{FF0E}' | '\u{FF0F}' | '\u{FF3F}' | '\u{FFA0}' | '\u{FFFD}' | '\u{E0000}'..='\u{E007F}' | '\u{E0100}'..='\u{E01EF}'
        )
}

/// Whether `rest` starts with a separator written percent-encoded (`%20`, `%2D`, `%0A`…), as a
/// provider's message echoing a form body or a query string has it. `/` is left out where it
/// separates a URL's path segments.
fn percent_separator(rest: &str, slash: bool) -> bool {
    let bytes = rest.as_bytes();
    if bytes.len() < 3 || bytes[0] != b'%' {
        return false;
    }
    let hex = |b: u8| char::from(b).to_digit(16);
    match (hex(bytes[1]), hex(bytes[2])) {
        (Some(high), Some(low)) => char::from_u32(high * 16 + low).is_some_and(|c| is_group_separator(c) && (slash || c != '/')),
        _ => false,
    }
}

/// Masks card numbers inside free text, such as a display name a merchant typed a card number
/// into: in any run of 13 or more digits (separators such as spaces, dashes, dots or slashes
/// allowed between them), only the first 6 and last 4 digits stay. Runs longer than a PAN (two
/// numbers in a row) are masked the same way. No Luhn check here: a mistyped card number in free
/// text is still most of a card number, while masking a long date range by mistake costs little.
pub fn scrub_pans(text: &str) -> String {
    scrub_pans_borrowed(text).into_owned()
}

/// `scrub_pans` without a copy of text that holds no run.
pub fn scrub_pans_borrowed(text: &str) -> Cow<'_, str> {
    if has_card_length_run(text) {
        Cow::Owned(mask_runs(text, false))
    } else {
        Cow::Borrowed(text)
    }
}

/// `scrub_pans` for a string the caller owns: handed back without a copy when it holds no run.
pub fn scrub_pans_owned(text: String) -> String {
    scrub_owned(text, false)
}

/// `scrub_pans` for a gateway's token: only runs of 13–19 digits that pass the Luhn check, as every
/// card number does, are masked. Some gateways' tokens are all digits (TransArmor's fail Luhn on
/// purpose) and must stay usable.
pub fn scrub_pans_in_token(text: String) -> String {
    scrub_owned(text, true)
}

fn scrub_owned(text: String, luhn_only: bool) -> String {
    if has_card_length_run(&text) {
        mask_runs(&text, luhn_only)
    } else {
        text
    }
}

/// The masking itself, for text `has_card_length_run` has let through.
fn mask_runs(text: &str, luhn_only: bool) -> String {
    mask_units(text, |rest| text_unit(rest, true), luhn_only)
}

/// What one unit of text (a character, or a piece of a URL) is to the masking.
#[derive(Clone, Copy)]
enum Unit {
    Digit(u8),
    Separator,
    Other,
}

/// The first unit of `rest` (which is not empty): a percent-encoded separator, or a character.
/// `slash`: whether `/` separates groups (not in a URL, where it separates path segments).
fn text_unit(rest: &str, slash: bool) -> (usize, Unit) {
    if percent_separator(rest, slash) {
        return (3, Unit::Separator);
    }
    let c = rest.chars().next().unwrap_or('\0');
    let kind = match card_digit(c) {
        Some(d) => Unit::Digit(d as u8),
        None if is_group_separator(c) && (slash || c != '/') => Unit::Separator,
        None => Unit::Other,
    };
    (c.len_utf8(), kind)
}

/// `text` with, in each run of 13 or more digits (separators allowed between them; 13–19 that
/// pass the Luhn check when `luhn_only`), every digit but the first 6 and the last 4 replaced by
/// `*`. `unit` splits the text: the length and kind of the unit `rest` starts with.
///
/// It walks the text in place rather than over a copy of its characters, and keeps at most one
/// byte per digit of the run it is in (for the Luhn search): a reply's text can be tens of MB of
/// digits, and wasm memory, once grown, never shrinks.
fn mask_units(text: &str, unit: impl Fn(&str) -> (usize, Unit), luhn_only: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let (len, kind) = unit(&text[i..]);
        if !matches!(kind, Unit::Digit(_)) {
            out.push_str(&text[i..i + len]);
            i += len;
            continue;
        }
        // The run: digits and separators, up to its last digit.
        let (mut j, mut end) = (i, i);
        while j < text.len() {
            match unit(&text[j..]) {
                (len, Unit::Digit(_)) => {
                    j += len;
                    end = j;
                }
                (len, Unit::Separator) => j += len,
                (_, Unit::Other) => break,
            }
        }
        let run = &text[i..end];
        let spans = card_spans(run, &unit, luhn_only);
        let (mut k, mut n, mut s) = (0, 0, 0);
        while k < run.len() {
            let (len, kind) = unit(&run[k..]);
            let piece = &run[k..k + len];
            if matches!(kind, Unit::Digit(_)) {
                while spans.get(s).is_some_and(|&(_, to)| to <= n) {
                    s += 1;
                }
                let hide = spans.get(s).is_some_and(|&(from, to)| n >= from + 6 && n + 4 < to);
                out.push_str(if hide { "*" } else { piece });
                n += 1;
            } else {
                out.push_str(piece);
            }
            k += len;
        }
        i = end;
    }
    out
}

/// The card numbers in a run (it starts and ends with a digit), as spans of digit positions
/// `(from, to)`, in order.
fn card_spans(run: &str, unit: &impl Fn(&str) -> (usize, Unit), luhn_only: bool) -> Vec<(usize, usize)> {
    const GROUP_START: u8 = 0x80;
    let units = || {
        let mut k = 0;
        std::iter::from_fn(move || {
            let (len, kind) = unit(run.get(k..).filter(|rest| !rest.is_empty())?);
            k += len;
            Some(kind)
        })
    };
    let count = units().filter(|kind| matches!(kind, Unit::Digit(_))).count();
    if !luhn_only {
        return if count >= 13 { vec![(0, count)] } else { Vec::new() };
    }
    // Digit values, the first of each group (after a separator) flagged.
    let mut digits = Vec::with_capacity(count);
    let mut group_start = true;
    for kind in units() {
        match kind {
            Unit::Digit(d) => {
                digits.push(d | if group_start { GROUP_START } else { 0 });
                group_start = false;
            }
            _ => group_start = true,
        }
    }
    let passes = |from: usize, to: usize| luhn(digits[from..to].iter().map(|&d| u32::from(d & !GROUP_START)));
    if (13..=19).contains(&count) && passes(0, count) {
        return vec![(0, count)];
    }
    let mut spans = Vec::new();
    if count <= 13 {
        return spans;
    }
    // A card number next to another number in one run (`ref=12345-4111…`, `_4111…_20240101`):
    // whole groups of digits, taken together at their boundaries, are checked one by one. Only
    // groups of 4 or more digits, as card numbers are written: dates' 2-digit groups would make a
    // 13–19-digit stretch that passes Luhn by chance one time in ten.
    // The next group's start after `p`, looked for up to `limit` (where the search stops anyway).
    let next = |p: usize, limit: usize| {
        let limit = limit.min(count);
        (p + 1..limit).find(|&q| digits[q] & GROUP_START != 0).unwrap_or(limit)
    };
    let mut g = 0;
    while g < count {
        let mut card = None;
        let (mut prev, mut h) = (g, next(g, g + 20));
        while h - g <= 19 && h - prev >= 4 {
            if h - g >= 13 && passes(g, h) {
                card = Some(h);
            }
            if h == count {
                break;
            }
            (prev, h) = (h, next(h, g + 20));
        }
        match card {
            Some(h) => {
                spans.push((g, h));
                g = h;
            }
            None => g = next(g, count),
        }
    }
    spans
}

/// Masks card numbers inside a URL the provider gives (a verification page): only runs of 13–19
/// digits that pass the Luhn check, since URLs carry long numeric ids, timestamps and number-like
/// paths that must stay intact for the link to work. The digits may be grouped as in free text,
/// percent-encoded or not, but never by `/`, which separates path segments.
pub fn scrub_pans_in_url(url: &str) -> String {
    mask_units(url, |rest| text_unit(rest, false), true)
}

/// The Luhn (mod 10) check every card number passes, over digit values in reading order.
fn luhn(digits: impl DoubleEndedIterator<Item = u32>) -> bool {
    let sum: u32 = digits
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Whether `text` may hold a run that `scrub_pans` masks: a quick check that never misses one, so
/// the many strings without a card number cost one pass and no allocation. It works on bytes and
/// skips ahead: a run with 13 digits spans at least 13 bytes that are digits, separators or parts
/// of non-ASCII characters (or of a percent-encoded separator), so when the last of the next 13
/// bytes is none of those, none of the 13 can start one. A non-ASCII character counts as a
/// possible digit when its first byte is one that the other scripts' digits start with.
fn has_card_length_run(text: &str) -> bool {
    const RUN: usize = 13;
    let bytes = text.as_bytes();
    // `%` and the hex digits of a percent-encoded separator (`%2D`) are part of a run too.
    let in_run = |i: usize| {
        let b = bytes[i];
        let after_percent = |back: usize| i >= back && bytes[i - back] == b'%';
        b.is_ascii_digit() || b >= 0x80 || b == b'%' || is_group_separator(char::from(b)) || (b.is_ascii_hexdigit() && (after_percent(1) || after_percent(2)))
    };
    let may_be_digit = |b: u8| b.is_ascii_digit() || DIGIT_LEAD_BYTES.contains(&b);
    // Invariant: `start` is 0 or follows a byte outside any run.
    let mut start = 0;
    while start + RUN - 1 < bytes.len() {
        if !in_run(start + RUN - 1) {
            start += RUN;
            continue;
        }
        let mut digits = 0;
        let mut i = start;
        while let Some(&b) = bytes.get(i) {
            if !in_run(i) {
                break;
            }
            if may_be_digit(b) {
                digits += 1;
                if digits >= RUN {
                    return true;
                }
            }
            i += 1;
        }
        start = i + 1;
    }
    false
}

/// Masks card numbers anywhere in a provider's JSON (for raw replies handed to callers): every
/// string through `scrub_pans`, and any number whose text holds a run of 13 or more digits
/// (negatives and floats too, as free text is scrubbed) turned into masked text.
pub fn scrub_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(text) => *text = scrub_pans_owned(std::mem::take(text)),
        Value::Number(n) => {
            // As written: a card number may come as -4111… or 4111….0 too.
            let text = n.to_string();
            if has_card_length_run(&text) {
                *value = Value::String(mask_runs(&text, false));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_json),
        Value::Object(map) => {
            // Keys too: a provider's reply may be keyed by card number. The map is refilled entry by
            // entry: collecting would pull a sort into the wasm, and removing, the B-tree's rebalancing.
            if map.keys().any(|k| has_card_length_run(k)) {
                let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().map(|(k, v)| (scrub_pans_owned(k), v)).collect();
                let renamed = distinct_keys(&entries.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>());
                for ((key, v), new) in entries.into_iter().zip(renamed) {
                    map.insert(new.unwrap_or(key), v);
                }
            }
            map.values_mut().for_each(scrub_json);
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// New names for the keys of one object that come again (`None`: keep the key as it is). A
/// provider may repeat a metadata key, and two card numbers with the same first six and last four
/// digits mask to the same key. The first keeps its name; a later one is counted ("k (2)",
/// "k (3)", …), skipping any count that is itself a key of the object, so that no entry is lost
/// and none takes another's name. (Counts of different keys cannot meet: "k (2)" ends in one
/// way only.) Each key's count resumes where it stopped, so a key sent n times costs n steps,
/// not n², which a hostile reply could otherwise use to hang the instance.
pub fn distinct_keys(keys: &[&str]) -> Vec<Option<String>> {
    // serde_json's map, which the wasm holds already, filled by inserts: new set and map types
    // and the sort that collecting into a B-tree does cost 5.7 KB gzip. `next` holds each key
    // once seen, with its next count.
    use serde_json::{Map, Value};
    let (mut given, mut next) = (Map::new(), Map::new());
    for key in keys {
        given.insert(key.to_string(), Value::Null);
    }
    let mut renamed = Vec::with_capacity(keys.len());
    for &key in keys {
        let Some(count) = next.get_mut(key) else {
            next.insert(key.to_string(), Value::from(2u64));
            renamed.push(None);
            continue;
        };
        let mut n = count.as_u64().unwrap_or(2);
        loop {
            let candidate = format!("{key} ({n})");
            n += 1;
            if !given.contains_key(&candidate) {
                *count = Value::from(n);
                renamed.push(Some(candidate));
                break;
            }
        }
    }
    renamed
}

/// The brand from a provider's network word ("VISA", "mast", "American Express", …).
pub fn brand_from_network(word: &str) -> Option<&'static str> {
    // Letters and digits only, lowercased, on the stack: this runs for every token of a list.
    let mut buf = [0u8; 16];
    let mut len = 0;
    for b in word.bytes().filter(u8::is_ascii_alphanumeric) {
        *buf.get_mut(len)? = b.to_ascii_lowercase();
        len += 1;
    }
    Some(match std::str::from_utf8(&buf[..len]).ok()? {
        "visa" | "visaelectron" => "Visa",
        "mast" | "mc" | "mastercard" | "master" => "Mastercard",
        "amex" | "americanexpress" => "American Express",
        "disc" | "discover" => "Discover",
        "maestro" => "Maestro",
        "rupay" => "RuPay",
        "jcb" => "JCB",
        "diners" | "dinersclub" => "Diners Club",
        "unionpay" | "cup" | "chinaunionpay" => "UnionPay",
        "mir" => "Mir",
        _ => return None,
    })
}

/// The brand from the leading digits of a PAN (issuer identification number ranges).
pub fn brand_from_bin(bin: &str) -> Option<&'static str> {
    let prefix = |n: usize| bin.get(..n).and_then(|p| p.parse::<u32>().ok());
    let in_range = |n: usize, lo: u32, hi: u32| prefix(n).is_some_and(|p| (lo..=hi).contains(&p));
    Some(if in_range(4, 2200, 2204) {
        "Mir"
    } else if in_range(2, 51, 55) || in_range(4, 2221, 2720) {
        "Mastercard"
    } else if in_range(2, 34, 34) || in_range(2, 37, 37) {
        "American Express"
    } else if in_range(6, 652150, 653149) {
        // Inside Discover's 65 range, but RuPay's own (its cards also run on Discover's network).
        "RuPay"
    } else if in_range(4, 6011, 6011) || in_range(2, 65, 65) || in_range(3, 644, 649) || in_range(6, 622126, 622925) {
        "Discover"
    } else if in_range(4, 3528, 3589) {
        "JCB"
    } else if in_range(2, 36, 36) || in_range(3, 300, 305) || in_range(2, 38, 39) {
        "Diners Club"
    } else if in_range(2, 62, 62) {
        "UnionPay"
    } else if in_range(6, 606282, 606282) {
        "Hipercard"
    } else if in_range(2, 60, 60) || in_range(2, 81, 82) || in_range(3, 508, 508) {
        "RuPay"
    } else if in_range(2, 50, 50) || in_range(2, 56, 58) || in_range(2, 67, 67) || in_range(4, 6304, 6304) {
        "Maestro"
    } else if in_range(1, 4, 4) {
        "Visa"
    } else {
        return None;
    })
}

/// Builds the card part of a token: brand from the network word, else from the BIN, else "Unknown".
pub fn card_from_pan(masked_pan: Option<String>, network: Option<&str>) -> Card {
    let (masked, bin, last4) = match masked_pan.and_then(|pan| mask_pan_of(Cow::Owned(pan))) {
        Some(MaskedPan { masked, bin, last4 }) => (Some(masked), bin, last4),
        None => (None, None, None),
    };
    let brand = network.and_then(brand_from_network).or_else(|| bin.as_deref().and_then(brand_from_bin)).unwrap_or("Unknown");
    Card { masked_pan: masked, last4, brand: brand.into(), ..Card::default() }
}

#[cfg(test)]
mod tests {

    /// Deterministic draws for generated cases (xorshift64): each call gives a number below `n`.
    fn draws(mut state: u64) -> impl FnMut(u64) -> usize {
        move |n| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n) as usize
        }
    }

    /// `mask_pan` as it was written first, over a copy of the characters: the reference. Its
    /// middle-digits branch (`digits != leading + trailing`) was added to both at once, so the
    /// randomized comparison only checks that branch against itself; the explicit `mask_pan`
    /// cases of under-masked PANs are what test it.
    fn mask_pan_over_a_copy(value: &str) -> Option<super::MaskedPan> {
        let chars: Vec<char> = value.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if chars.is_empty() || !chars.iter().all(|c| c.is_ascii_digit() || super::MASK_CHARS.contains(c)) {
            return None;
        }
        let leading = chars.iter().take_while(|c| c.is_ascii_digit()).count();
        let trailing = chars.iter().rev().take_while(|c| c.is_ascii_digit()).count();
        let digits = chars.iter().filter(|c| c.is_ascii_digit()).count();
        let masked = if digits == chars.len() || digits > 10 || leading > 6 || trailing > 4 {
            let first: String = chars.iter().take(6).filter(|c| c.is_ascii_digit()).collect();
            let last: String = chars[chars.len().saturating_sub(4)..].iter().collect();
            let hidden = chars.len().saturating_sub(first.len() + last.len());
            if chars.len() < 10 {
                let keep = chars.len().min(4);
                format!("{}{}", "*".repeat(chars.len() - keep), chars[chars.len() - keep..].iter().collect::<String>())
            } else {
                format!("{first}{}{last}", "*".repeat(hidden))
            }
        } else if digits != leading + trailing {
            let len = chars.len();
            chars.iter().enumerate().map(|(i, &c)| if c.is_ascii_digit() && i >= 6 && i + 4 < len { '*' } else { c }).collect()
        } else {
            chars.iter().collect()
        };
        let bin = (leading >= 6).then(|| chars[..6].iter().collect());
        let last4 = (trailing >= 4).then(|| chars[chars.len() - 4..].iter().collect());
        Some(super::MaskedPan { masked, bin, last4 })
    }

    #[test]
    fn masking_in_place_gives_what_masking_a_copy_gave() {
        const PARTS: [char; 12] = ['4', '1', '0', '9', '*', '•', 'X', 'x', '#', ' ', '-', 'a'];
        let mut next = draws(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200_000 {
            let len = next(24);
            // Mostly digits, so that every masking branch is reached.
            let value: String = (0..len).map(|_| if next(3) == 0 { PARTS[next(12)] } else { PARTS[next(4)] }).collect();
            let reference = mask_pan_over_a_copy(&value);
            assert_eq!(super::mask_pan(&value), reference, "{value:?}");
            assert_eq!(super::mask_pan_of(std::borrow::Cow::Owned(value.clone())), reference, "{value:?}");
        }
    }

    // The masking as it was first written, over a copy of the units with a flag per unit: the
    // reference for the walk in place.
    fn mask_runs_reference(text: &str, luhn_only: bool) -> String {
        mask_reference(text, true, luhn_only)
    }

    /// The units of `text`: a percent-encoded separator, or one character. `slash` as in `text_unit`.
    fn units_of(text: &str, slash: bool) -> Vec<&str> {
        let mut units = Vec::with_capacity(text.len());
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            let len = if percent_separator(rest, slash) { 3 } else { c.len_utf8() };
            let (unit, tail) = rest.split_at(len);
            units.push(unit);
            rest = tail;
        }
        units
    }

    fn one(unit: &str) -> Option<char> {
        unit.chars().next().filter(|_| unit.chars().count() == 1)
    }

    fn unit_is_separator(unit: &str, slash: bool) -> bool {
        unit.len() == 3 && unit.starts_with('%') || one(unit).is_some_and(|c| is_group_separator(c) && (slash || c != '/'))
    }

    fn mask_reference(text: &str, slash: bool, luhn_only: bool) -> String {
        let units = units_of(text, slash);
        let mut out = String::with_capacity(text.len());
        mask_units_reference(&units, |u| one(u).and_then(card_digit), |u| unit_is_separator(u, slash), luhn_only, |u, hide| out.push_str(if hide { "*" } else { u }));
        out
    }

    /// Hands each unit (a character, or a piece of a URL) to `emit` in order, with whether it is a
    /// digit to hide: in a run of 13 or more digits, separators allowed between them (13–19 that pass
    /// the Luhn check when `luhn_only`), every digit but the first 6 and the last 4.
    fn mask_units_reference<U: Copy>(units: &[U], digit: impl Fn(U) -> Option<u32>, separator: impl Fn(U) -> bool, luhn_only: bool, mut emit: impl FnMut(U, bool)) {
        let mut i = 0;
        while i < units.len() {
            if digit(units[i]).is_none() {
                emit(units[i], false);
                i += 1;
                continue;
            }
            let (mut j, mut end) = (i, i);
            while j < units.len() && (digit(units[j]).is_some() || separator(units[j])) {
                if digit(units[j]).is_some() {
                    end = j + 1;
                }
                j += 1;
            }
            let run = &units[i..end];
            let values: Vec<Option<u32>> = run.iter().map(|&u| digit(u)).collect();
            for (unit, hide) in run.iter().zip(hidden_digits_reference(&values, luhn_only)) {
                emit(*unit, hide);
            }
            i = end;
        }
    }

    /// Which units of a run (each a digit's value, or `None` for a separator; it starts and ends with
    /// a digit) to hide.
    fn hidden_digits_reference(run: &[Option<u32>], luhn_only: bool) -> Vec<bool> {
        let at: Vec<usize> = (0..run.len()).filter(|&k| run[k].is_some()).collect();
        let mut hide = vec![false; run.len()];
        let passes = |from: usize, to: usize| luhn(at[from..to].iter().filter_map(|&k| run[k]));
        let mut mark = |from: usize, to: usize| {
            for (n, &k) in at[from..to].iter().enumerate() {
                hide[k] = n >= 6 && n + 4 < to - from;
            }
        };
        let digits = at.len();
        if digits >= 13 && (!luhn_only || ((13..=19).contains(&digits) && passes(0, digits))) {
            mark(0, digits);
        } else if luhn_only && digits > 13 {
            // A card number next to another number in one run (`ref=12345-4111…`, `_4111…_20240101`):
            // whole groups of digits, taken together at their boundaries, are checked one by one. Only
            // groups of 4 or more digits, as card numbers are written: dates' 2-digit groups would make
            // a 13–19-digit stretch that passes Luhn by chance one time in ten.
            let mut bounds: Vec<usize> = (0..digits).filter(|&n| n == 0 || at[n] != at[n - 1] + 1).collect();
            bounds.push(digits);
            let mut g = 0;
            while g + 1 < bounds.len() {
                let card = (g + 1..bounds.len())
                    .take_while(|&h| bounds[h] - bounds[g] <= 19 && bounds[h] - bounds[h - 1] >= 4)
                    .filter(|&h| bounds[h] - bounds[g] >= 13 && passes(bounds[g], bounds[h]))
                    .last();
                match card {
                    Some(h) => {
                        mark(bounds[g], bounds[h]);
                        g = h;
                    }
                    None => g += 1,
                }
            }
        }
        hide
    }

    /// Masks card numbers inside a URL the provider gives (a verification page): only runs of 13–19
    /// digits that pass the Luhn check; never grouped by `/`, which separates path segments.
    fn scrub_pans_in_url_reference(url: &str) -> String {
        mask_reference(url, false, true)
    }

    #[test]
    fn masking_in_place_gives_what_masking_a_copy_gave_for_runs() {
        const PIECES: [&str; 22] = [
            "4111111111111111", "5555555555554444", "378282246310005", "12345", "2024", "01", "7", " ", "-", "+", "%20", "%2D", "%2f", "\n",
            "\u{200D}", "/", "a", "é", "٣", "\u{2009}", "%", "%4",
        ];
        let mut next = draws(0x2545_f491_4f6c_dd1d);
        for _ in 0..100_000 {
            let pieces = 1 + next(12);
            // Mostly digits and separators, so that long runs, groups and Luhn passes are common.
            let text: String = (0..pieces).map(|_| if next(4) == 0 { PIECES[next(22)] } else { PIECES[next(16)] }).collect();
            for luhn_only in [false, true] {
                assert_eq!(mask_runs(&text, luhn_only), mask_runs_reference(&text, luhn_only), "{text:?} {luhn_only}");
            }
            assert_eq!(scrub_pans_in_url(&text), scrub_pans_in_url_reference(&text), "{text:?}");
        }
    }

    #[test]
    fn brands_from_bins() {
        for (bin, brand) in [("411111", Some("Visa")), ("222100", Some("Mastercard")), ("272099", Some("Mastercard")), ("220012", Some("Mir")),
            ("378282", Some("American Express")), ("601100", Some("Discover")), ("622126", Some("Discover")), ("606282", Some("Hipercard")),
            ("608001", Some("RuPay")), ("630400", Some("Maestro")), ("353011", Some("JCB")), ("999999", None),
            ("652150", Some("RuPay")), ("653149", Some("RuPay")), ("652149", Some("Discover")), ("653150", Some("Discover")), ("650000", Some("Discover"))] {
            assert_eq!(brand_from_bin(bin), brand, "{bin}");
        }
    }

    /// Unit by unit, the plain definition: a run of digits and separators holding 13 digits.
    fn has_run_char_by_char(text: &str) -> bool {
        let mut run = 0;
        for unit in units_of(text, true) {
            if one(unit).is_some_and(is_card_digit) {
                run += 1;
                if run >= 13 {
                    return true;
                }
            } else if !(unit_is_separator(unit, true) && run > 0) {
                run = 0;
            }
        }
        false
    }

    #[test]
    fn every_decimal_digit_counts_and_the_quick_check_knows_its_first_byte() {
        let mut digits = 0;
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let Some(value) = card_digit(c) else { continue };
            digits += 1;
            assert!(c.is_numeric() && value < 10, "{c:?}");
            let mut utf8 = [0; 4];
            let lead = c.encode_utf8(&mut utf8).as_bytes()[0];
            assert!(lead.is_ascii_digit() || DIGIT_LEAD_BYTES.contains(&lead), "{c:?}");
            // The zero of its ten is a digit of the same script (the ten are consecutive).
            assert_eq!(card_digit(char::from_u32(u32::from(c) - value).unwrap()), Some(0), "{c:?}");
        }
        assert_eq!(digits, DIGIT_ZEROS.len() * 10);
        for (text, want) in [("card ၄၁၁၁၁၁၁၁၁၁၁၁၁၁၁၁ declined", "card ၄၁၁၁၁၁******၁၁၁၁ declined"), ("𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏", "𝟒𝟏𝟏𝟏𝟏𝟏******𝟏𝟏𝟏𝟏")] {
            assert_eq!(scrub_pans(text), want);
        }
    }

    #[test]
    fn the_skipping_check_never_misses_a_run() {
        let alphabet = [
            "1", " ", "-", ".", "/", "_", "a", "é", "ж", "\u{A0}", "\u{2013}", "５", "٣", "۷", "७", "\t", "\u{2009}", "\u{200B}", "\u{3000}",
            "\u{2212}", "\u{FF0D}", "৫", "૭", "௩", "๓", "໒", "༣", ",", "+", "\u{0970}", "\u{0BF0}", "\n", "\r\n", "\u{200D}", "\u{FE0F}",
            "၄", "៣", "𝟏", "%", "D", "%2D", "%0a", "%20", "%2", "%%2D",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..200_000 {
            let len = next(48);
            // Mostly digits, so runs near 13 long are common.
            let text: String = (0..len).map(|_| if next(3) > 0 { ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"][next(10)] } else { alphabet[next(alphabet.len())] }).collect();
            let has_run = has_run_char_by_char(&text);
            assert!(!has_run || has_card_length_run(&text), "missed {text:?}");
            assert_eq!(scrub_pans(&text) != text, has_run, "{text:?}");
        }
        // Long text without digits is passed over whatever its script.
        assert!(!has_card_length_run(&"Іван Петренко, вулиця Хрещатик ".repeat(5)));
        assert!(!has_card_length_run(&"a".repeat(40)));
    }

    #[test]
    fn card_numbers_are_masked_however_they_are_typed() {
        for (text, want) in [
            ("Visa 4111.1111.1111.1111", "Visa 4111.11**.****.1111"),
            ("4111/1111/1111/1111", "4111/11**/****/1111"),
            ("4111_1111_1111_1111", "4111_11**_****_1111"),
            ("4111\u{A0}1111\u{A0}1111\u{A0}1111", "4111\u{A0}11**\u{A0}****\u{A0}1111"),
            ("4111\t1111\t1111\t1111", "4111\t11**\t****\t1111"),
            ("4111–1111–1111–1111", "4111–11**–****–1111"),
            ("４１１１１１１１１１１１１１１１", "４１１１１１******１１１１"),
            ("order 12 of 2024", "order 12 of 2024"),
            ("card 4111\u{2009}1111\u{2009}1111\u{2009}1111", "card 4111\u{2009}11**\u{2009}****\u{2009}1111"),
            ("4111\u{200B}1111\u{200B}1111\u{200B}1111", "4111\u{200B}11**\u{200B}****\u{200B}1111"),
            ("４１１１　１１１１　１１１１　１１１１", "４１１１　１１＊＊　＊＊＊＊　１１１１".replace('＊', "*").as_str()),
            ("４１１１－１１１１－１１１１－１１１１", "４１１１－１１**－****－１１１１"),
            ("4111\u{2212}1111\u{2212}1111\u{2212}1111", "4111\u{2212}11**\u{2212}****\u{2212}1111"),
            ("৪১১১ ১১১১ ১১১১ ১১১১", "৪১১১ ১১** **** ১১১১"),
            ("૪૧૧૧૧૧૧૧૧૧૧૧૧૧૧૧", "૪૧૧૧૧૧******૧૧૧૧"),
            ("௪௧௧௧௧௧௧௧௧௧௧௧௧௧௧௧", "௪௧௧௧௧௧******௧௧௧௧"),
            ("๔๑๑๑๑๑๑๑๑๑๑๑๑๑๑๑", "๔๑๑๑๑๑******๑๑๑๑"),
            // Wrapped over lines, joined by invisible characters, or percent-encoded.
            ("4111\n1111\n1111\n1111", "4111\n11**\n****\n1111"),
            ("4111\r\n1111\r\n1111\r\n1111", "4111\r\n11**\r\n****\r\n1111"),
            ("4111\u{200D}1111\u{200C}1111\u{2063}1111", "4111\u{200D}11**\u{200C}****\u{2063}1111"),
            ("4111\u{FE0F}1111\u{034F}1111\u{200E}1111", "4111\u{FE0F}11**\u{034F}****\u{200E}1111"),
            ("stripe 4111+1111+1111+1111", "stripe 4111+11**+****+1111"),
            ("card=4111%201111%2D1111%2d1111&x=1", "card=4111%2011**%2D****%2d1111&x=1"),
            ("4111·1111·1111·1111", "4111·11**·****·1111"),
            // Characters that show as nothing or as a space: controls, DEL, supplementary variation
            // selectors, Mongolian selectors, tags, Hangul fillers, the blank Braille pattern.
            ("4111\u{0}1111\u{7F}1111\u{1B}1111", "4111\u{0}11**\u{7F}****\u{1B}1111"),
            ("4111\u{E0101}1111\u{180B}1111\u{E0020}1111", "4111\u{E0101}11**\u{180B}****\u{E0020}1111"),
            ("4111\u{3164}1111\u{2800}1111\u{FFA0}1111", "4111\u{3164}11**\u{2800}****\u{FFA0}1111"),
            ("4111\u{115F}1111\u{1160}1111\u{85}1111", "4111\u{115F}11**\u{1160}****\u{85}1111"),
            // Combining marks on a digit, and the replacement character for an unreadable byte.
            ("4111\u{301} 1111\u{301} 1111\u{20E3}1111", "4111\u{301} 11**\u{301} ****\u{20E3}1111"),
            ("41111111\u{FFFD}11111111", "411111**\u{FFFD}****1111"),
            // Commas are not group separators: amounts stay readable. Nor colons: times.
            ("total 1,234,567,890,123.00", "total 1,234,567,890,123.00"),
            ("at 2024-01-01 12:30:45", "at 2024-01-01 12:30:45"),
            ("50%2Done", "50%2Done"),
        ] {
            assert_eq!(scrub_pans(text), want, "{text:?}");
        }
        assert_eq!(mask_pan_field("４１１１１１１１１１１１１１１１"), "４１１１１１******１１１１");
        let mut keyed = serde_json::json!({"4111111111111111": {"pan": "4111 1111 1111 1111"}});
        scrub_json(&mut keyed);
        assert_eq!(keyed, serde_json::json!({"411111******1111": {"pan": "4111 11** **** 1111"}}));
    }

    #[test]
    fn card_numbers_that_mask_to_one_key_keep_both_entries() {
        let mut keyed = serde_json::json!({"4111110000001111": "a", "4111111111111111": "b", "411111******1111 (2)": "c"});
        scrub_json(&mut keyed);
        let map = keyed.as_object().unwrap();
        assert_eq!(map.len(), 3, "{keyed}");
        let mut values: Vec<_> = map.values().filter_map(|v| v.as_str()).collect();
        values.sort_unstable();
        assert_eq!(values, ["a", "b", "c"]);
        assert!(map.keys().all(|k| k.starts_with("411111******1111")), "{keyed}");
        // The key the provider sent as "… (2)" keeps its name; the repeat is counted past it.
        assert_eq!(map.get("411111******1111 (2)"), Some(&serde_json::json!("c")));
        assert_eq!(map.get("411111******1111 (3)"), Some(&serde_json::json!("b")));
    }
    use super::*;

    #[test]
    fn urls_keep_long_ids_but_not_card_numbers() {
        let url = "https://pay.example/3ds?ts=1700000000000&order=12345678901234567&pan=4111111111111111";
        assert_eq!(scrub_pans_in_url(url), "https://pay.example/3ds?ts=1700000000000&order=12345678901234567&pan=411111******1111");
        assert_eq!(scrub_pans_in_url("https://x.example/é/5555555555554444/"), "https://x.example/é/555555******4444/");
        // Grouped digits too, however the URL spells the space between them.
        let url = "https://x.example/3ds?a=4111-1111-1111-1111&b=4111%201111%201111%201111&c=4111+1111+1111+1111&d=4111.1111.1111.1111&e=4111%2D1111%2d1111%2D1111";
        assert_eq!(
            scrub_pans_in_url(url),
            "https://x.example/3ds?a=4111-11**-****-1111&b=4111%2011**%20****%201111&c=4111+11**+****+1111&d=4111.11**.****.1111&e=4111%2D11**%2d****%2D1111"
        );
        // A card number next to another number is still found, group by group.
        for (url, want) in [
            ("https://x/3ds?ref=12345-4111111111111111", "https://x/3ds?ref=12345-411111******1111"),
            ("https://x/order_4111111111111111_20240101", "https://x/order_411111******1111_20240101"),
            ("https://x/?v=1.4111111111111111", "https://x/?v=1.411111******1111"),
        ] {
            assert_eq!(scrub_pans_in_url(url), want);
        }
        // Path segments are not groups; a grouped run that fails Luhn (a date range, an id) stays.
        for kept in ["https://x.example/4111/1111/1111/1111", "https://x.example/4111%2F1111%2F1111%2F1111", "https://x.example/?r=2024-01-01-2024-12-31", "https://x.example/?id=1234-5678-9012-3456"] {
            assert_eq!(scrub_pans_in_url(kept), kept);
        }
    }

    #[test]
    fn well_masked_pans_are_kept_with_every_mask_char() {
        for (pan, bin, last4) in [
            ("523244••••••0177", "523244", "0177"),
            ("516874******7753", "516874", "7753"),
            ("555555XXXXXX4444", "555555", "4444"),
            ("411111xxxxxx1111", "411111", "1111"),
        ] {
            let m = mask_pan(pan).expect(pan);
            assert_eq!(m.masked, pan);
            assert_eq!(m.bin.as_deref(), Some(bin));
            assert_eq!(m.last4.as_deref(), Some(last4));
        }
    }

    #[test]
    fn full_and_under_masked_pans_are_masked() {
        assert_eq!(mask_pan("5555555555554444").unwrap().masked, "555555******4444");
        assert_eq!(mask_pan("4111 1111 1111 1111").unwrap().masked, "411111******1111");
        assert_eq!(mask_pan("41111111****1111").unwrap().masked, "411111******1111");
        assert_eq!(mask_pan("411111*****111111").unwrap().masked, "411111*******1111");
        assert_eq!(mask_pan("4111111111111").unwrap().masked, "411111***1111");
        assert_eq!(mask_pan("****1111").unwrap().last4.as_deref(), Some("1111"));
        // Digits in the middle are under-masked, however few show at the ends.
        assert_eq!(mask_pan("****1111111111**").unwrap().masked, "****11******11**");
        assert_eq!(mask_pan("4111**11****1111").unwrap().masked, "4111********1111");
        assert_eq!(mask_pan("4111-**11-****-1111").unwrap().masked, "4111********1111");
        // Digits only at the ends, grouped: well masked, kept (without its separators).
        assert_eq!(mask_pan("4111 11** **** 1111").unwrap().masked, "411111******1111");
        assert!(mask_pan("not a pan").is_none());
        assert!(mask_pan("").is_none());
        assert_eq!(mask_pan_field("5\u{fffd}555555*****4444"), "5\u{fffd}55555******4444");
        assert_eq!(mask_pan_field("5555555555554444"), "555555******4444");
        assert_eq!(mask_pan_field("n/a"), "n/a");
    }

    #[test]
    fn free_text_loses_card_numbers_but_keeps_short_numbers() {
        assert_eq!(scrub_pans("Visa 4111111111111111"), "Visa 411111******1111");
        assert_eq!(scrub_pans("Visa x4111"), "Visa x4111");
        assert_eq!(scrub_pans("card 5555-5555-5555-4444 ok"), "card 5555-55**-****-4444 ok");
        assert_eq!(scrub_pans("4111111111111111 4111111111111111"), "411111********** ************1111");
        assert_eq!(scrub_pans("order 12345"), "order 12345");
        let mut raw = serde_json::json!({"a": [{"pan": "4111111111111111"}, 5555555555554444u64, 42], "b": "Visa 4111 1111 1111 1111"});
        scrub_json(&mut raw);
        assert_eq!(raw, serde_json::json!({"a": [{"pan": "411111******1111"}, "555555******4444", 42], "b": "Visa 4111 11** **** 1111"}));
        // A card number written as a negative or a float number is a card number too.
        let mut raw: serde_json::Value = serde_json::from_str(r#"[-4111111111111111, 4.111111111111111E15, 1.5, -7]"#).unwrap();
        scrub_json(&mut raw);
        let text = raw.to_string();
        assert!(!text.contains("4111111111111111") && !text.contains("111111111"), "{text}");
        assert_eq!((&raw[2], &raw[3]), (&serde_json::json!(1.5), &serde_json::json!(-7)));
    }

    #[test]
    fn brands_from_network_then_bin() {
        assert_eq!(card_from_pan(None, Some("Visa")).brand, "Visa");
        assert_eq!(card_from_pan(Some("523244••••••0177".into()), None).brand, "Mastercard");
        assert_eq!(card_from_pan(Some("371449*****8431".into()), None).brand, "American Express");
        assert_eq!(card_from_pan(Some("601100******0004".into()), None).brand, "Discover");
        assert_eq!(card_from_pan(Some("220012******1234".into()), None).brand, "Mir");
        assert_eq!(card_from_pan(Some("222100******1234".into()), None).brand, "Mastercard");
        assert_eq!(card_from_pan(None, Some("mast")).brand, "Mastercard");
        assert_eq!(card_from_pan(None, None).brand, "Unknown");
        assert_eq!(card_from_pan(Some("****1111".into()), Some("weird")).brand, "Unknown");
    }
}
