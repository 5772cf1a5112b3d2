//! Provider timestamps to ISO-8601 UTC (millisecond precision, the form JS `toISOString` gives).
//! The clock itself is never read here: callers pass `now` in, so parsing stays pure.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, UtcOffset};

pub fn to_iso(t: OffsetDateTime) -> String {
    // `to_offset` panics past year 9999 in UTC; `parse` never yields such values, and this
    // keeps any other caller safe too.
    let t = t.checked_to_offset(UtcOffset::UTC).unwrap_or(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub fn from_epoch_ms(ms: u64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

pub fn epoch_ms(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// Reads the timestamp forms the providers send:
/// RFC 3339 (`2024-10-04T13:11:29.645591Z`), AlliancePay's `2025-02-27 12:12:34.0430 +0000`
/// and `2025-02-27 14:12:34.430+02:00`, and zone-less `2024-03-05 14:22:10` (taken as UTC).
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    // "9999-12-31T23:59:59-03:00" ("never expires") lies past the last UTC instant `time` holds.
    parse_any(text).filter(|t| t.checked_to_offset(UtcOffset::UTC).is_some())
}

fn parse_any(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let with_space_offset = format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]] [offset_hour sign:mandatory][offset_minute]"
    );
    if let Ok(t) = OffsetDateTime::parse(text, &with_space_offset) {
        return Some(t);
    }
    let with_colon_offset = format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second][optional [.[subsecond]]][offset_hour sign:mandatory]:[offset_minute]"
    );
    if let Ok(t) = OffsetDateTime::parse(text, &with_colon_offset) {
        return Some(t);
    }
    let naive = format_description!("[year]-[month]-[day][first [T][ ]][hour]:[minute]:[second][optional [.[subsecond]]]");
    if let Ok(t) = PrimitiveDateTime::parse(text, &naive) {
        return Some(t.assume_utc());
    }
    let date_only = format_description!("[year]-[month]-[day]");
    Date::parse(text, &date_only).ok().map(|d| d.midnight().assume_utc())
}

pub fn iso(text: Option<&str>) -> Option<String> {
    text.and_then(parse).map(to_iso)
}

/// The first instant after a card's expiry month (cards are valid through the month's last day).
pub fn end_of_month(year: u16, month: u8) -> Option<OffsetDateTime> {
    let (y, m) = if month == 12 { (i32::from(year) + 1, 1) } else { (i32::from(year), month + 1) };
    let month = Month::try_from(m).ok()?;
    Date::from_calendar_date(y, month, 1).ok().map(|d| d.midnight().assume_utc())
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
    fn card_expiry_forms() {
        assert_eq!(parse_card_expiry("2024-07-29"), Some((7, 2024)));
        assert_eq!(parse_card_expiry("12/27"), Some((12, 2027)));
        assert_eq!(parse_card_expiry("03/2030"), Some((3, 2030)));
        assert_eq!(parse_card_expiry("0930"), Some((9, 2030)));
        assert_eq!(parse_card_expiry("13/27"), None);
        assert_eq!(parse_card_expiry("string"), None);
        assert_eq!(to_iso(end_of_month(2024, 12).unwrap()), "2025-01-01T00:00:00.000Z");
    }
}
