//! Replies whose text was cut inside a UTF-16 surrogate pair: a Java or JavaScript server that
//! truncates a name mid-emoji sends `"\ud83d"` alone. `JSON.parse` accepts that; serde_json
//! refuses the whole reply. Such a reply is read again with each lone surrogate escape as
//! U+FFFD, as a UTF-8 decoder treats a broken sequence. Only a reply that gave an error (a list
//! that failed to read, or an error reply) is scanned, so well-formed replies cost nothing.

/// `text` with every lone surrogate escape replaced by `\ufffd`, or `None` when it has none.
pub fn mend(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = String::new();
    let (mut copied, mut i) = (0, 0);
    while let Some(k) = b[i..].iter().position(|&c| c == b'\\') {
        let at = i + k;
        let unit = (b.get(at + 1) == Some(&b'u')).then(|| hex4(b, at + 2)).flatten();
        let Some(n) = unit else {
            // Another escape (`\\`, `\"`, …): step over its character, so that the second
            // backslash of `\\u` is not taken for an escape. A non-ASCII one is no escape at all.
            i = at + if b.get(at + 1).is_some_and(u8::is_ascii) { 2 } else { 1 };
            continue;
        };
        let paired = (0xD800..=0xDBFF).contains(&n)
            && b.get(at + 6..at + 8) == Some(b"\\u")
            && hex4(b, at + 8).is_some_and(|m| (0xDC00..=0xDFFF).contains(&m));
        if paired {
            i = at + 12;
            continue;
        }
        if (0xD800..=0xDFFF).contains(&n) {
            out.push_str(&text[copied..at]);
            out.push_str("\\ufffd");
            copied = at + 6;
        }
        i = at + 6;
    }
    (copied > 0).then(|| out + &text[copied..])
}

fn hex4(b: &[u8], at: usize) -> Option<u16> {
    let digits = b.get(at..at + 4)?;
    digits.iter().try_fold(0u16, |n, &d| Some(n << 4 | (d as char).to_digit(16)? as u16))
}

#[cfg(test)]
mod tests {
    use super::mend;

    #[test]
    fn lone_surrogates_become_the_replacement_character_and_pairs_stay() {
        let cases = [
            (r#"{"n":"Ann \ud83d"}"#, Some(r#"{"n":"Ann \ufffd"}"#)),
            (r#"{"n":"\ude00 x"}"#, Some(r#"{"n":"\ufffd x"}"#)),
            (r#"{"n":"\uD83D\n"}"#, Some(r#"{"n":"\ufffd\n"}"#)),
            (r#"{"n":"\ud83d\ud83d\ude00"}"#, Some(r#"{"n":"\ufffd\ud83d\ude00"}"#)),
            (r#"{"n":"\ud83d\ude00 é \u00e9"}"#, None),
            // An escaped backslash before `u` is text, not an escape.
            (r#"{"n":"C:\\ud83d"}"#, None),
            (r#"{"n":"C:\\\ud83d"}"#, Some(r#"{"n":"C:\\\ufffd"}"#)),
            // Cut off or malformed: left for the parser to refuse.
            (r#"{"n":"\ud8"#, None),
            (r#"{"n":"\u+d83"}"#, None),
            ("\\", None),
            ("\\é", None),
        ];
        for (text, want) in cases {
            assert_eq!(mend(text).as_deref(), want, "{text}");
        }
        for (text, want) in cases {
            if let Some(want) = want {
                let read: serde_json::Value = serde_json::from_str(want).unwrap();
                assert!(read["n"].as_str().unwrap().contains('\u{fffd}'), "{text}");
            }
        }
    }
}
