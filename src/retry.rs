//! The one retry policy: which failures are worth another attempt, and how long to wait.
//! Reads may always be repeated; a state change only when the reply proves it was not applied.

use crate::error::Error;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Safety {
    /// Reading: repeating it changes nothing (AlliancePay's POST reads included).
    Read,
    /// Changing state: repeat only if the provider proves the first attempt was not applied.
    Write,
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
    /// How long to wait before retry number `retries_done + 1`, or `None` to stop.
    /// `random` is uniform in [0, 1): backoff uses full jitter. `budget_ms` is what remains of an
    /// overall deadline, if one was set.
    pub fn next_delay(&self, retries_done: u32, err: &Error, safety: Safety, random: f64, budget_ms: Option<u64>) -> Option<u64> {
        if retries_done >= self.max_retries || !err.retryable {
            return None;
        }
        if safety == Safety::Write && !err.not_applied {
            return None;
        }
        let delay = match err.retry_after_ms {
            Some(ms) if ms > self.max_retry_after_ms => return None,
            Some(ms) => ms,
            None => {
                let ceiling = self.base_delay_ms.saturating_mul(1u64 << retries_done.min(20)).min(self.max_delay_ms);
                (random.clamp(0.0, 1.0) * ceiling as f64) as u64
            }
        };
        match budget_ms {
            Some(budget) if delay >= budget => None,
            _ => Some(delay),
        }
    }
}

/// `Retry-After` as delta-seconds or an HTTP date, relative to `now_ms`.
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    Some(http_date_ms(value)?.saturating_sub(now_ms))
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
    }
}
