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

/// A stored token's expiry, at providers that give no status word (ChargeOver, Payerly).
pub enum Expiry {
    NotGiven,
    /// Given in a form the SDK cannot read: the token may have expired already.
    Unreadable,
    /// No longer usable from this instant (epoch ms; Payerly's `expireAt`).
    At(i64),
    /// Usable through this instant: a card's expiry month, to its last millisecond.
    Through(i64),
}

impl Expiry {
    /// A card's expiry text (`MM/YY` and the like) as the month it names, and the token's expiry.
    pub fn of_card(text: Option<&str>) -> (Option<(u8, u16)>, Expiry) {
        let text = text.map(str::trim).filter(|t| !t.is_empty());
        let month = text.and_then(crate::time_fmt::parse_card_expiry);
        let expiry = match month.and_then(|(m, y)| crate::time_fmt::card_expires_at(y, m)) {
            Some(last) => Expiry::Through(last),
            None if text.is_some() => Expiry::Unreadable,
            None => Expiry::NotGiven,
        };
        (month, expiry)
    }

    /// What the token's `expiresAt` says.
    pub fn instant(&self) -> Option<i64> {
        match *self {
            Expiry::At(t) | Expiry::Through(t) => Some(t),
            Expiry::NotGiven | Expiry::Unreadable => None,
        }
    }
}

/// A stored token is usable until it expires. An expiry the SDK cannot read is UNKNOWN, never
/// ACTIVE: the token must not be shown as chargeable when the provider may have expired it.
pub fn from_expiry(expiry: &Expiry, now_ms: u64) -> TokenStatus {
    let expired = match *expiry {
        Expiry::NotGiven => false,
        Expiry::Unreadable => return TokenStatus::Unknown,
        Expiry::At(at) => now_ms >= crate::time_fmt::epoch_ms(at),
        Expiry::Through(last) => now_ms > crate::time_fmt::epoch_ms(last),
    };
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
    fn an_expiry_decides_from_its_instant_and_an_unreadable_one_is_unknown() {
        let (month, through) = Expiry::of_card(Some(" 12/30 "));
        assert_eq!(month, Some((12, 2030)));
        let last = through.instant().unwrap();
        assert_eq!(crate::time_fmt::to_iso(last), "2030-12-31T23:59:59.999Z");
        let at = |ms: i64| crate::time_fmt::epoch_ms(ms);
        // A card is usable through its month's last millisecond; `expireAt` is the first one gone.
        assert_eq!(from_expiry(&through, at(last)), Active);
        assert_eq!(from_expiry(&through, at(last + 1)), Expired);
        assert_eq!(from_expiry(&Expiry::At(last), at(last - 1)), Active);
        assert_eq!(from_expiry(&Expiry::At(last), at(last)), Expired);
        for text in ["13/30", "12-2030x", "soon"] {
            let (month, expiry) = Expiry::of_card(Some(text));
            assert!(month.is_none() && expiry.instant().is_none(), "{text}");
            assert_eq!(from_expiry(&expiry, 0), Unknown, "{text}");
        }
        for text in [None, Some(""), Some("  ")] {
            assert_eq!(from_expiry(&Expiry::of_card(text).1, u64::MAX), Active, "{text:?}");
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
