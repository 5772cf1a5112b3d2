//! Provider timestamps to ISO-8601 UTC (millisecond precision, the form JS `toISOString` gives).
//! The clock itself is never read here: callers pass `now` in, so parsing stays pure.
//! Instants are epoch milliseconds; the calendar maths is hand-written to keep the wasm small.

const DAY_MS: i64 = 86_400_000;
/// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the span `to_iso` writes in four digits.
const MIN_MS: i64 = -62_167_219_200_000;
pub(crate) const MAX_MS: i64 = 253_402_300_799_999;

/// `YYYY-MM-DDTHH:MM:SS.sssZ`, written digit by digit: every token carries up to three of these,
/// and `format!` was a tenth of a 1,000-token list's normalization in wasm.
pub fn to_iso(t: i64) -> String {
    let (y, m, d) = ymd(t);
    let ms = t.rem_euclid(DAY_MS);
    // Filled in place and copied once: pushing character by character costs a check per byte.
    let mut out = *b"0000-00-00T00:00:00.000Z";
    // Every part fits in four digits (years outside 0–9999 are never parsed); u32 arithmetic,
    // since 64-bit division is slow in wasm.
    let mut put = |value: i64, end: usize, width: usize| {
        let mut v = value.rem_euclid(10_000) as u32;
        for slot in out[end - width..end].iter_mut().rev() {
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(y, 4, 4);
    put(i64::from(m), 7, 2);
    put(i64::from(d), 10, 2);
    put(ms / 3_600_000, 13, 2);
    put(ms / 60_000 % 60, 16, 2);
    put(ms / 1000 % 60, 19, 2);
    put(ms % 1000, 23, 3);
    // Digits and the pattern's punctuation only, so always ASCII.
    std::str::from_utf8(&out).map(str::to_string).unwrap_or_default()
}

/// The UTC calendar date of an instant.
pub fn ymd(t: i64) -> (i64, u8, u8) {
    civil_from_days(t.div_euclid(DAY_MS))
}

pub fn from_epoch_ms(ms: u64) -> Option<i64> {
    i64::try_from(ms).ok().filter(|&ms| ms <= MAX_MS)
}

pub fn epoch_ms(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

/// Reads the timestamp forms the providers send:
/// RFC 3339 (`2024-10-04T13:11:29.645591Z`), AlliancePay's `2025-02-27 12:12:34.0430 +0000`
/// and `2025-02-27 14:12:34.430+02:00`, and zone-less `2024-03-05 14:22:10` (taken as UTC, as
/// Pine Labs' are; see `parse_zoned`).
///
/// The edges are those of the `time` crate this replaced, so stored values still read the same:
/// RFC 3339 takes any one byte between date and time, any number of fraction digits, `z`, and a
/// leap second; the other forms take a signed year and at most 32 fraction digits. Beyond those
/// edges, an RFC 3339 time may end in a basic offset (`+0000`), as Java back ends write it.
pub fn parse(text: &str) -> Option<i64> {
    parse_as(text, true)
}

/// `parse` for a provider whose zone-less times are in a zone the SDK cannot know (ChargeOver's
/// is a per-account setting): only a time with `Z` or an offset is placed.
pub fn parse_zoned(text: &str) -> Option<i64> {
    parse_as(text, false)
}

fn parse_as(text: &str, zoneless_is_utc: bool) -> Option<i64> {
    let mut c = Cursor(text.trim().as_bytes());
    let year_sign = c.sign();
    let year = c.num(4)? * year_sign.unwrap_or(1);
    let month = c.after(b'-')?.num(2)?;
    let day = c.after(b'-')?.num(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let midnight = days_from_civil(year, month, day) * DAY_MS;
    let Some(sep) = c.next() else {
        return in_range(midnight).filter(|_| zoneless_is_utc);
    };
    let hour = c.num(2)?;
    let minute = c.after(b':')?.num(2)?;
    let second = c.after(b':')?.num(2)?;
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let (mut digits, mut fraction_ms) = (0, 0);
    if c.eat(b'.') {
        digits = c.0.iter().take_while(|b| b.is_ascii_digit()).count();
        let (fraction, rest) = c.0.split_at_checked(digits).filter(|_| digits > 0)?;
        fraction_ms = (0..3).fold(0, |ms, i| ms * 10 + fraction.get(i).map_or(0, |&b| i64::from(b - b'0')));
        c.0 = rest;
    }
    let rfc3339 = year_sign.is_none();
    let spaced = sep == b' ' && digits <= 32;
    let (offset_min, form_ok, leap_ok) = match c.0 {
        [] => (0, zoneless_is_utc && matches!(sep, b'T' | b' ') && digits <= 32, false),
        [b'Z' | b'z'] => (0, rfc3339, rfc3339),
        [b' ', zone @ ..] => (offset(zone, false)?, spaced, false),
        // `±hh:mm`, or the `±hhmm` that Java's `Z` pattern writes after a `T` time too.
        zone => (offset(zone, true).or_else(|| offset(zone, false))?, rfc3339 || spaced, rfc3339),
    };
    if !form_ok || (second == 60 && !leap_ok) {
        return None;
    }
    let utc = midnight + hour * 3_600_000 + minute * 60_000 - offset_min * 60_000;
    if second == 60 {
        // Read as the millisecond before, and only where a leap second can fall: a UTC month's end.
        let t = utc + 59_999;
        let month_end = (t + 1).rem_euclid(DAY_MS) == 0 && ymd(t + 1).2 == 1;
        return in_range(t).filter(|_| month_end);
    }
    in_range(utc + second * 1000 + fraction_ms)
}

fn in_range(t: i64) -> Option<i64> {
    (MIN_MS..=MAX_MS).contains(&t).then_some(t)
}

/// All of `zone` as `±hh:mm` (`colon`) or `±hhmm`, in minutes east of UTC.
fn offset(zone: &[u8], colon: bool) -> Option<i64> {
    let mut c = Cursor(zone);
    let sign = c.sign()?;
    let hours = c.num(2)?;
    if colon {
        c.after(b':')?;
    }
    let minutes = c.num(2)?;
    (c.0.is_empty() && hours <= 23 && minutes <= 59).then_some(sign * (hours * 60 + minutes))
}

/// Works on bytes, not chars, so multibyte input can never split a slice mid-character.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.0.first() == Some(&byte);
        if hit {
            self.next();
        }
        hit
    }

    fn after(&mut self, byte: u8) -> Option<&mut Self> {
        self.eat(byte).then_some(self)
    }

    fn sign(&mut self) -> Option<i64> {
        if self.eat(b'+') {
            Some(1)
        } else if self.eat(b'-') {
            Some(-1)
        } else {
            None
        }
    }

    /// Exactly `n` ASCII digits.
    fn num(&mut self, n: usize) -> Option<i64> {
        let (head, rest) = self.0.split_at_checked(n)?;
        let value = head.iter().try_fold(0, |v, &b| b.is_ascii_digit().then(|| v * 10 + i64::from(b - b'0')))?;
        self.0 = rest;
        Some(value)
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01, proleptic Gregorian (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Hinnant's `civil_from_days`, the inverse of `days_from_civil`.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    // The casts cannot truncate: month is 1..=12 and day 1..=31 by construction.
    (yoe + era * 400 + i64::from(month <= 2), month as u8, day as u8)
}

pub fn iso(text: Option<&str>) -> Option<String> {
    text.and_then(parse).map(to_iso)
}

/// The first instant after a card's expiry month (cards are valid through the month's last day).
pub fn end_of_month(year: u16, month: u8) -> Option<i64> {
    let (y, m) = if month == 12 { (i64::from(year) + 1, 1) } else { (i64::from(year), month.checked_add(1)?) };
    (m <= 12 && y <= 9999).then(|| days_from_civil(y, i64::from(m), 1) * DAY_MS)
}

/// The last millisecond of a card's expiry month, shown as a token's `expiresAt` where the provider
/// gives no expiry of its own: a card expiring 12/30 shows 2030-12-31T23:59:59.999Z (as Pine Labs
/// writes its own, the last second of a day), not a date in 2031, and is expired once past it.
pub fn card_expires_at(year: u16, month: u8) -> Option<i64> {
    end_of_month(year, month).map(|next| next - 1)
}

/// Card expiry in the forms seen: `YYYY-MM-DD`, `YYYY-MM`, `MM/YY`, `MM/YYYY`, `MMYY`.
pub fn parse_card_expiry(text: &str) -> Option<(u8, u16)> {
    let t = text.trim();
    let num = |s: &str| s.parse::<u16>().ok();
    let (month, year) = if let Some((a, b)) = t.split_once('/') {
        (num(a)?, num(b)?)
    } else if t.len() >= 7 && t.as_bytes().get(4) == Some(&b'-') {
        (num(t.get(5..7)?)?, num(t.get(..4)?)?)
    } else if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
        (num(t.get(..2)?)?, num(t.get(2..)?)?)
    } else {
        return None;
    };
    let year = if year < 100 { 2000 + year } else { year };
    ((1..=12).contains(&month) && (2000..=2199).contains(&year)).then_some((month as u8, year))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_forms_become_iso_utc() {
        let cases = [
            ("2024-10-04T13:11:29.645591Z", "2024-10-04T13:11:29.645Z"),
            ("2025-02-27 12:12:34.0430 +0000", "2025-02-27T12:12:34.043Z"),
            ("2025-02-27 14:12:34.430+02:00", "2025-02-27T12:12:34.430Z"),
            ("2024-03-05 14:22:10", "2024-03-05T14:22:10.000Z"),
            ("2019-08-24T14:15:22Z", "2019-08-24T14:15:22.000Z"),
            ("2024-07-29", "2024-07-29T00:00:00.000Z"),
        ];
        for (input, want) in cases {
            assert_eq!(iso(Some(input)).as_deref(), Some(want), "{input}");
        }
        assert_eq!(iso(Some("yesterday")), None);
        assert_eq!(iso(Some("9999-12-31T23:59:59-03:00")), None);
        assert_eq!(iso(Some("9999-12-31 23:59:59.000-03:00")), None);
        assert_eq!(iso(Some("9999-12-31T23:59:59Z")).as_deref(), Some("9999-12-31T23:59:59.000Z"));
        assert_eq!(iso(Some("")), None);
    }

    #[test]
    fn zoned_reading_places_only_times_with_a_zone() {
        for text in ["2022-10-25T08:50:45-05:00", "2022-10-25 13:50:45Z", "2022-10-25 13:50:45 +0000"] {
            assert_eq!(parse_zoned(text), parse(text), "{text}");
            assert!(parse_zoned(text).is_some(), "{text}");
        }
        // Java's `yyyy-MM-dd'T'HH:mm:ssZ` writes a basic offset after an extended time.
        assert_eq!(parse("2022-10-25T08:50:45-0500"), parse("2022-10-25T08:50:45-05:00"));
        assert_eq!(parse_zoned("2019-08-24T14:15:22.5+0000"), parse("2019-08-24T14:15:22.500Z"));
        for bad in ["2022-10-25T08:50:45-050", "2022-10-25T08:50:45-05:0", "2022-10-25T08:50:45-05000", "2022-10-25T08:50:45+2400"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        for text in ["2022-10-25 13:50:45", "2022-10-25T13:50:45", "2022-10-25"] {
            assert_eq!(parse_zoned(text), None, "{text}");
            assert!(parse(text).is_some(), "{text}");
        }
    }

    #[test]
    fn card_expiry_forms() {
        assert_eq!(parse_card_expiry("2024-07-29"), Some((7, 2024)));
        assert_eq!(parse_card_expiry("12/27"), Some((12, 2027)));
        assert_eq!(parse_card_expiry("03/2030"), Some((3, 2030)));
        assert_eq!(parse_card_expiry("0930"), Some((9, 2030)));
        assert_eq!(parse_card_expiry("13/27"), None);
        assert_eq!(parse_card_expiry("string"), None);
        assert_eq!(to_iso(end_of_month(2024, 12).unwrap()), "2025-01-01T00:00:00.000Z");
    }

    #[test]
    fn calendar_ranges() {
        assert_eq!(iso(Some("2024-02-29T12:00:00Z")).as_deref(), Some("2024-02-29T12:00:00.000Z"));
        assert_eq!(iso(Some("2000-02-29")).as_deref(), Some("2000-02-29T00:00:00.000Z"));
        for bad in ["2023-02-29T12:00:00Z", "1900-02-29", "2024-02-30 00:00:00", "2024-04-31", "2024-06-31T00:00:00Z", "2024-09-31 00:00:00 +0000", "2024-11-31T00:00:00+01:00"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert!(parse("2024-04-30").is_some() && parse("2024-12-31").is_some());
        for bad in ["2024-00-10", "2024-13-10", "2024-01-00", "2024-01-32", "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01 23:59:61"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn fraction_lengths_truncate_to_milliseconds() {
        let cases = [("", ".000"), (".6", ".600"), (".645", ".645"), (".645591", ".645"), (".999999999", ".999"), (".0001", ".000")];
        for (fraction, want) in cases {
            for form in ["2024-10-04T13:11:29{}Z", "2024-10-04 13:11:29{} +0000", "2024-10-04 13:11:29{}+00:00", "2024-10-04 13:11:29{}"] {
                let input = form.replace("{}", fraction);
                assert_eq!(iso(Some(&input)), Some(format!("2024-10-04T13:11:29{want}Z")), "{input}");
            }
        }
        assert_eq!(parse("2024-10-04T13:11:29.Z"), None);
        assert_eq!(parse("2024-10-04 13:11:29."), None);
    }

    #[test]
    fn offsets_cross_day_month_and_year() {
        let cases = [
            ("2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00.000Z"),
            ("2025-01-01T00:30:00+01:00", "2024-12-31T23:30:00.000Z"),
            ("2024-03-01T00:15:00+00:30", "2024-02-29T23:45:00.000Z"),
            ("2023-03-01 05:00:00 +0600", "2023-02-28T23:00:00.000Z"),
            ("2024-02-29 23:00:00.5 -0200", "2024-03-01T01:00:00.500Z"),
            ("2024-06-30 20:00:00.25-23:59", "2024-07-01T19:59:00.250Z"),
            ("2024-06-01T00:00:00-00:00", "2024-06-01T00:00:00.000Z"),
            ("2024-06-01T00:00:00-00:30", "2024-06-01T00:30:00.000Z"),
            // Jackson's default date format before 2.11: a basic offset after a `T` time.
            ("2024-06-01T00:00:00.000+0100", "2024-05-31T23:00:00.000Z"),
        ];
        for (input, want) in cases {
            assert_eq!(iso(Some(input)).as_deref(), Some(want), "{input}");
        }
        for bad in ["2024-06-01T00:00:00+24:00", "2024-06-01T00:00:00+00:60", "2024-06-01 00:00:00 +2400", "2024-06-01 00:00:00 +0060", "2024-06-01T00:00:00+0160", "2024-06-01T00:00:00 +01:00"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn year_edges() {
        assert_eq!(parse("0000-01-01T00:00:00Z"), Some(MIN_MS));
        assert_eq!(parse("0000-01-01"), Some(MIN_MS));
        assert_eq!(epoch_ms(MIN_MS), 0);
        assert_eq!(to_iso(MIN_MS), "0000-01-01T00:00:00.000Z");
        assert_eq!(iso(Some("0000-01-01T00:00:00-00:01")).as_deref(), Some("0000-01-01T00:01:00.000Z"));
        assert_eq!(parse("0000-01-01T00:00:00+00:01"), None);
        assert_eq!(parse("9999-12-31T23:59:59.999Z"), Some(MAX_MS));
        assert_eq!(iso(Some("9999-12-31T23:59:59+23:59")).as_deref(), Some("9999-12-31T00:00:59.000Z"));
        assert_eq!(parse("9999-12-31T23:59:59.999-00:01"), None);
        assert_eq!(parse("10000-01-01"), None);
        assert_eq!(from_epoch_ms(MAX_MS as u64), Some(MAX_MS));
        assert_eq!(from_epoch_ms(MAX_MS as u64 + 1), None);
        assert_eq!(from_epoch_ms(u64::MAX), None);
        assert_eq!(end_of_month(9999, 12), None);
        assert_eq!(card_expires_at(2030, 12).map(to_iso).as_deref(), Some("2030-12-31T23:59:59.999Z"));
        assert_eq!(card_expires_at(2024, 2).map(to_iso).as_deref(), Some("2024-02-29T23:59:59.999Z"));
        assert_eq!(card_expires_at(9999, 12), None);
        assert_eq!(end_of_month(9999, 11).map(to_iso).as_deref(), Some("9999-12-01T00:00:00.000Z"));
        assert_eq!(end_of_month(2024, 13), None);
        assert_eq!(end_of_month(2024, 255), None);
        assert_eq!(end_of_month(2024, 1).map(to_iso).as_deref(), Some("2024-02-01T00:00:00.000Z"));
    }

    #[test]
    fn quirks_kept_from_the_time_crate() {
        // Leap seconds only in RFC 3339 and only at a UTC month's end.
        assert_eq!(iso(Some("2016-12-31T23:59:60.5Z")).as_deref(), Some("2016-12-31T23:59:59.999Z"));
        assert_eq!(iso(Some("2017-01-01T00:59:60+01:00")).as_deref(), Some("2016-12-31T23:59:59.999Z"));
        assert_eq!(iso(Some("2016-12-31 23:59:60+00:00")).as_deref(), Some("2016-12-31T23:59:59.999Z"));
        assert_eq!(parse("2016-12-30T23:59:60Z"), None);
        assert_eq!(parse("2016-12-31T23:58:60Z"), None);
        assert_eq!(parse("2016-12-31 23:59:60 +0000"), None);
        assert_eq!(parse("2016-12-31 23:59:60"), None);
        // RFC 3339's separator is any byte; the zone-less form wants `T` or a space.
        assert_eq!(iso(Some("2024-10-04x13:11:29z")).as_deref(), Some("2024-10-04T13:11:29.000Z"));
        assert_eq!(parse("2024-10-04x13:11:29"), None);
        assert_eq!(parse("2024-10-04t13:11:29"), None);
        // A signed year, only outside RFC 3339.
        assert_eq!(iso(Some("+2025-02-27 12:12:34 +0000")).as_deref(), Some("2025-02-27T12:12:34.000Z"));
        assert_eq!(iso(Some("-0000-01-01")).as_deref(), Some("0000-01-01T00:00:00.000Z"));
        assert_eq!(parse("+2025-02-27T12:12:34Z"), None);
        assert_eq!(parse("-0001-12-31 23:00:00"), None);
        assert_eq!(iso(Some("-0001-12-31 23:00:00-01:00")).as_deref(), Some("0000-01-01T00:00:00.000Z"));
    }

    #[test]
    fn garbage_is_none_without_panicking() {
        let long = "9".repeat(10_000);
        let cases = [
            String::new(),
            "   ".into(),
            "\u{3000}\t\n".into(),
            "2024-10-04T13:11:29.645591Ｚ".into(),
            "2024-10-04Ｔ13:11:29Z".into(),
            "２０２４-10-04".into(),
            "2024-1-04".into(),
            "2024-10-04T13:11".into(),
            "2024-10-04T".into(),
            "2024-10-04T13:11:29+".into(),
            "2024-10-04T13:11:29+01".into(),
            "2024-10-04T13:11:29+01:0".into(),
            "2024-10-04T13:11:29Zjunk".into(),
            "+-2024-10-04".into(),
            format!("2024-10-04 13:11:29.{long} +0000"),
            format!("2024-10-04 13:11:29.{long}"),
            format!("2024-10-04 13:11:29.{}", "1".repeat(33)),
        ];
        for input in &cases {
            assert_eq!(parse(input), None, "{input}");
        }
        // RFC 3339 fractions have no length limit; the other forms stop at 32 digits.
        assert_eq!(iso(Some(&format!("2024-10-04T13:11:29.{long}Z"))).as_deref(), Some("2024-10-04T13:11:29.999Z"));
        assert_eq!(iso(Some(&format!("2024-10-04 13:11:29.{}", "1".repeat(32)))).as_deref(), Some("2024-10-04T13:11:29.111Z"));
        // Every prefix of a multibyte-laden string.
        let text = "２0２4-1０-04Ｔ13:1１:29.6４5Ｚ ±０２:００";
        for end in 0..=text.len() {
            let _ = parse(String::from_utf8_lossy(&text.as_bytes()[..end]).as_ref());
        }
        let _ = (to_iso(i64::MIN), to_iso(i64::MAX), ymd(i64::MIN), epoch_ms(i64::MIN));
    }

    #[test]
    fn calendar_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(0, 1, 1) * DAY_MS, MIN_MS);
        assert_eq!(days_from_civil(10000, 1, 1) * DAY_MS - 1, MAX_MS);
        let mut expected = (0, 1, 1);
        for days in days_from_civil(0, 1, 1)..days_from_civil(10001, 1, 1) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!((y, m, d), (expected.0, expected.1, expected.2));
            assert_eq!(days_from_civil(y, m.into(), d.into()), days);
            expected = if i64::from(d) < days_in_month(y, m.into()) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
        }
        let mut t = MIN_MS;
        while t <= MAX_MS {
            let text = to_iso(t);
            assert_eq!(parse(&text), Some(t), "{text}");
            if let Ok(ms) = u64::try_from(t) {
                assert_eq!(from_epoch_ms(ms), Some(t));
                assert_eq!(epoch_ms(t), ms);
            }
            t += 999_999_937;
        }
        assert_eq!(to_iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(to_iso(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(to_iso(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
