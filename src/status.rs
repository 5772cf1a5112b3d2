//! Token status: each provider's word to the one `TokenStatus`, and the transitions a token may make.

use crate::model::TokenStatus;

/// AlliancePay and Pine Labs words. Unknown words are `UNKNOWN`, never an error: providers add
/// statuses without notice, and a listing must not fail because of one token.
pub fn normalize(word: &str) -> TokenStatus {
    match word.trim().to_ascii_uppercase().as_str() {
        "ACTIVE" => TokenStatus::Active,
        "SUSPENDED" => TokenStatus::Suspended,
        "DELETED" | "DEACTIVATED" => TokenStatus::Deleted,
        "INITIATED" | "PENDING" => TokenStatus::Pending,
        "FAILED" => TokenStatus::Failed,
        "EXPIRED" => TokenStatus::Expired,
        _ => TokenStatus::Unknown,
    }
}

/// Providers without a status (ChargeOver, Payerly): a stored token is usable until it expires.
pub fn from_expiry(expired: bool) -> TokenStatus {
    if expired {
        TokenStatus::Expired
    } else {
        TokenStatus::Active
    }
}

/// The rules AlliancePay documents: ACTIVE↔SUSPENDED, either →DELETED, DELETED is final.
/// Other statuses (PENDING, FAILED, EXPIRED, UNKNOWN) are not set by a caller.
pub fn can_transition(from: TokenStatus, to: TokenStatus) -> bool {
    allowed_next(from).contains(&to)
}

pub fn allowed_next(from: TokenStatus) -> &'static [TokenStatus] {
    use TokenStatus::*;
    match from {
        Active => &[Suspended, Deleted],
        Suspended => &[Active, Deleted],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenStatus::*;

    #[test]
    fn provider_words_normalize() {
        let table = [
            ("ACTIVE", Active),
            ("SUSPENDED", Suspended),
            ("DELETED", Deleted),
            ("INITIATED", Pending),
            ("DEACTIVATED", Deleted),
            ("FAILED", Failed),
            ("active", Active),
            ("QUARANTINED", Unknown),
            ("", Unknown),
        ];
        for (word, want) in table {
            assert_eq!(normalize(word), want, "{word}");
        }
    }

    #[test]
    fn transitions_follow_the_documented_rules() {
        let all = [Active, Suspended, Deleted, Pending, Failed, Expired, Unknown];
        let allowed = [(Active, Suspended), (Suspended, Active), (Active, Deleted), (Suspended, Deleted)];
        for from in all {
            for to in all {
                assert_eq!(can_transition(from, to), allowed.contains(&(from, to)), "{from:?}→{to:?}");
            }
        }
    }
}
