//! The one retry policy: which failures are worth another attempt, and how long to wait.
//! Reads may always be repeated; a state change only when the reply proves it was not applied.

use crate::error::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safety {
    /// Reading: repeating it changes nothing (AlliancePay's POST reads included).
    Read,
    /// Changing a token: repeat only if the provider proves the first attempt was not applied.
    Write,
    /// Storing a new token: as `Write`; one repeated after it was applied stores the token twice.
    Store,
}

impl Safety {
    pub fn changes_state(self) -> bool {
        self != Safety::Read
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay_ms: u64,
    pub max_delay_ms: u64,
    /// A Retry-After longer than this is not waited for: the error goes back to the caller.
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 2, base_delay_ms: 300, max_delay_ms: 8_000, max_retry_after_ms: 60_000 }
    }
}

impl RetryPolicy {
    /// The longest backoff before retry number `retries_done + 1` (its wait is jittered below it).
    pub fn backoff_ceiling(&self, retries_done: u32) -> u64 {
        self.base_delay_ms.saturating_mul(1u64 << retries_done.min(20)).min(self.max_delay_ms)
    }

    /// How long to wait before retry number `retries_done + 1`, or `None` to stop.
    /// `random` is uniform in [0, 1): backoff uses full jitter. `budget_ms` is what remains of an
    /// overall deadline, if one was set.
    pub fn next_delay(&self, retries_done: u32, err: &Error, safety: Safety, random: f64, budget_ms: Option<u64>) -> Option<u64> {
        if retries_done >= self.max_retries || !err.retryable {
            return None;
        }
        if safety.changes_state() && !err.not_applied {
            return None;
        }
        let delay = match err.retry_after_ms {
            Some(ms) if ms > self.max_retry_after_ms => return None,
            Some(ms) => ms,
            None => (random.clamp(0.0, 1.0) * self.backoff_ceiling(retries_done) as f64) as u64,
        };
        match budget_ms {
            Some(budget) if delay >= budget => None,
            _ => Some(delay),
        }
    }
}

/// `Retry-After` as delta-seconds or an HTTP date, relative to `now_ms`. Read leniently, since a
/// wait the provider asked for and the SDK missed means retrying into the same refusal: a header
/// sent twice arrives joined ("120, 120", or two dates) and its first value counts, a fraction of a second
/// ("1.5") is rounded up to the next millisecond, and a wait of more than a day is taken as a day
/// (not waited out, but handed to the caller as `retryAfterMs`, and held before the next sign-in:
/// an absurd value must neither lock a client out for good nor overflow a JS timer).
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    read_retry_after(value.trim(), now_ms).map(|ms| ms.min(LONGEST_RETRY_AFTER_MS))
}

const LONGEST_RETRY_AFTER_MS: u64 = 86_400_000;

fn read_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    // A date's own commas keep the joined form from splitting at one: the first date ends at GMT.
    let first_date = value.find("GMT").and_then(|end| value.get(..end + 3));
    if let Some(at) = http_date_ms(value).or_else(|| first_date.and_then(http_date_ms)) {
        return Some(at.saturating_sub(now_ms));
    }
    let first = value.split(',').next()?.trim();
    let (whole, fraction) = first.split_once('.').unwrap_or((first, ""));
    if whole.is_empty() || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seconds = whole.parse::<u64>().unwrap_or(u64::MAX);
    let mut ms = 0;
    for (i, digit) in fraction.bytes().map(|b| u64::from(b - b'0')).enumerate() {
        match i {
            0..=2 => ms += digit * [100, 10, 1][i],
            _ if digit > 0 => {
                ms += 1;
                break;
            }
            _ => {}
        }
    }
    Some(seconds.saturating_mul(1000).saturating_add(ms))
}

/// An HTTP date (`Date`, `Retry-After`) as epoch ms.
pub fn http_date_ms(value: &str) -> Option<u64> {
    let at = httpdate::parse_http_date(value.trim()).ok()?;
    u64::try_from(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn err(code: ErrorCode) -> Error {
        Error::new(code, "x")
    }

    #[test]
    fn reads_retry_on_retryable_errors_up_to_the_limit() {
        let p = RetryPolicy::default();
        let e = err(ErrorCode::Network);
        assert!(p.next_delay(0, &e, Safety::Read, 0.5, None).is_some());
        assert!(p.next_delay(1, &e, Safety::Read, 0.5, None).is_some());
        assert_eq!(p.next_delay(2, &e, Safety::Read, 0.5, None), None);
        let zero = RetryPolicy { max_retries: 0, ..p };
        assert_eq!(zero.next_delay(0, &e, Safety::Read, 0.5, None), None);
        assert_eq!(p.next_delay(0, &err(ErrorCode::NotFound), Safety::Read, 0.5, None), None);
    }

    #[test]
    fn writes_retry_only_when_not_applied() {
        let p = RetryPolicy::default();
        assert_eq!(p.next_delay(0, &err(ErrorCode::Timeout), Safety::Write, 0.5, None), None);
        assert!(p.next_delay(0, &err(ErrorCode::RateLimited), Safety::Write, 0.5, None).is_some());
        let mut refused = err(ErrorCode::Network);
        refused.not_applied = true;
        assert!(p.next_delay(0, &refused, Safety::Write, 0.5, None).is_some());
    }

    #[test]
    fn backoff_is_full_jitter_under_a_cap_and_retry_after_wins() {
        let p = RetryPolicy::default();
        let e = err(ErrorCode::Network);
        assert_eq!(p.next_delay(0, &e, Safety::Read, 0.0, None), Some(0));
        assert_eq!(p.next_delay(1, &e, Safety::Read, 0.999_999, None), Some(599));
        let big = RetryPolicy { max_retries: 30, ..p };
        assert!(big.next_delay(25, &e, Safety::Read, 0.999_999, None).unwrap() < 8_000);
        let mut limited = err(ErrorCode::RateLimited);
        limited.retry_after_ms = Some(1_000);
        assert_eq!(p.next_delay(0, &limited, Safety::Read, 0.0, None), Some(1_000));
        assert_eq!(p.next_delay(0, &limited, Safety::Read, 0.0, Some(500)), None);
        limited.retry_after_ms = Some(120_000);
        assert_eq!(p.next_delay(0, &limited, Safety::Read, 0.0, None), None);
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        assert_eq!(parse_retry_after("1", 0), Some(1_000));
        let now = 1_445_412_480_000; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:03 GMT", now), Some(3_000));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), Some(0));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("120, 120", 0), Some(120_000), "a header sent twice");
        let twice = "Wed, 21 Oct 2015 07:28:03 GMT, Wed, 21 Oct 2015 07:28:09 GMT";
        assert_eq!(parse_retry_after(twice, now), Some(3_000), "a date sent twice");
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:03 GMT, 120", now), Some(3_000));
        assert_eq!(parse_retry_after(" 1.5 ", 0), Some(1_500));
        assert_eq!(parse_retry_after("0.0001", 0), Some(1), "rounded up, not down to no wait");
        assert_eq!(parse_retry_after("2.", 0), Some(2_000));
        assert_eq!(parse_retry_after("99999999999999999999999", 0), Some(86_400_000), "the longest wait, not none, and not forever");
        assert_eq!(parse_retry_after("86401", 0), Some(86_400_000));
        assert_eq!(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), Some(86_400_000));
        for bad in ["", ".5", "-1", "1e3", "1.5.2", "1 s", ","] {
            assert_eq!(parse_retry_after(bad, 0), None, "{bad:?}");
        }
    }
}
