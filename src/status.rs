//! Token status: each provider's word to the one `TokenStatus`, and the transitions a token may make.

use std::borrow::Cow;

use crate::model::TokenStatus;

/// AlliancePay's three words (doc 003). Each provider has its own table: a word another provider
/// uses (DEACTIVATED, say) is not AlliancePay's, so it is `UNKNOWN` here rather than a status that
/// would, for example, let a delete skip a token it takes as already deleted.
///
/// Unknown words are `UNKNOWN`, never an error: providers add statuses without notice, and a
/// listing must not fail because of one token.
pub fn from_alliancepay(word: &str) -> TokenStatus {
    lookup(word, ALLIANCEPAY)
}

const ALLIANCEPAY: &[(&str, TokenStatus)] = &[("ACTIVE", TokenStatus::Active), ("SUSPENDED", TokenStatus::Suspended), ("DELETED", TokenStatus::Deleted)];

/// Pine Labs' five words (doc 002): INITIATED → PENDING, DEACTIVATED → DELETED, the rest as is.
pub fn from_pinelabs(word: &str) -> TokenStatus {
    lookup(word, PINELABS)
}

const PINELABS: &[(&str, TokenStatus)] = &[
    ("ACTIVE", TokenStatus::Active),
    ("SUSPENDED", TokenStatus::Suspended),
    ("DEACTIVATED", TokenStatus::Deleted),
    ("INITIATED", TokenStatus::Pending),
    ("FAILED", TokenStatus::Failed),
];

/// The provider's own word as a token keeps it (`providerStatus`). One of the words the providers
/// document, written as documented, is borrowed: a list's tokens share a few words, which would
/// otherwise be allocated and freed once per token. Any other text is kept, but it is provider
/// text and may hold a card number ("card 4111… blocked"), so it is scrubbed.
pub fn provider_word(word: &str) -> Cow<'static, str> {
    match ALLIANCEPAY.iter().chain(PINELABS).find(|(w, _)| *w == word) {
        Some((w, _)) => Cow::Borrowed(w),
        None => Cow::Owned(crate::card::scrub_pans(word)),
    }
}

/// A word in any case, spaces around it ignored; compared in place, as it runs for every token.
fn lookup(word: &str, table: &[(&str, TokenStatus)]) -> TokenStatus {
    let word = word.trim();
    table.iter().find(|(w, _)| w.eq_ignore_ascii_case(word)).map_or(TokenStatus::Unknown, |&(_, status)| status)
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
    fn documented_words_are_shared_and_other_text_is_kept_scrubbed() {
        for (word, _) in ALLIANCEPAY.iter().chain(PINELABS) {
            assert!(matches!(provider_word(word), Cow::Borrowed(w) if w == *word), "{word}");
        }
        // Kept as the provider wrote it, case and spaces too; only a card number is masked.
        for (word, kept) in [("active", "active"), (" ACTIVE", " ACTIVE"), ("QUARANTINED", "QUARANTINED"), ("", ""), ("card 4111111111111111 blocked", "card 411111******1111 blocked")] {
            assert!(matches!(provider_word(word), Cow::Owned(w) if w == kept), "{word}");
        }
    }

    #[test]
    fn each_provider_reads_only_its_own_words() {
        let alliancepay = [("ACTIVE", Active), ("SUSPENDED", Suspended), ("DELETED", Deleted), ("active", Active), (" Deleted ", Deleted)];
        let pinelabs = [("ACTIVE", Active), ("SUSPENDED", Suspended), ("DEACTIVATED", Deleted), ("INITIATED", Pending), ("FAILED", Failed), ("failed", Failed)];
        for (word, want) in alliancepay {
            assert_eq!(from_alliancepay(word), want, "AlliancePay {word}");
        }
        for (word, want) in pinelabs {
            assert_eq!(from_pinelabs(word), want, "Pine Labs {word}");
        }
        // The other provider's words, and words neither documents, are UNKNOWN.
        for word in ["DEACTIVATED", "INITIATED", "FAILED", "PENDING", "EXPIRED", "QUARANTINED", ""] {
            assert_eq!(from_alliancepay(word), Unknown, "AlliancePay {word}");
        }
        for word in ["DELETED", "PENDING", "EXPIRED", "QUARANTINED", ""] {
            assert_eq!(from_pinelabs(word), Unknown, "Pine Labs {word}");
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
