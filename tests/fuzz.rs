//! Hostile input for every reply parser and the JWE parser: none may panic, whatever it gets.
//! `npm test` runs a short pass (FUZZ_CASES, default 2000 per target); the recorded million-case
//! runs use `FUZZ_CASES=1000000 cargo test --release --test fuzz` (see bench/FUZZ.md).
//! Inputs that once broke something live in tests/fuzz-regressions/ and are replayed every run.
#![cfg(not(target_arch = "wasm32"))]

use paytokens::auth::jwe::{self, PrivateKey};
use paytokens::http::HttpResponse;
use paytokens::providers::{alliancepay, chargeover, payerly, pinelabs};
use paytokens::{card, time_fmt};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_default()
}

fn cases() -> u32 {
    std::env::var("FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

fn merchant_key() -> PrivateKey {
    let text = std::fs::read_to_string(format!("{}/sandbox/keys/merchant.private.jwk.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let jwk: serde_json::Value = serde_json::from_str(&text).unwrap();
    let s = |k: &str| jwk[k].as_str().unwrap().to_string();
    PrivateKey::from_jwk(&s("x"), &s("y"), &s("d")).unwrap()
}

/// Deterministic "randomness" for building seed JWEs.
fn counting_random(step: u8) -> impl FnMut(&mut [u8]) {
    let mut n = 0u8;
    move |b: &mut [u8]| {
        for x in b.iter_mut() {
            n = n.wrapping_add(step);
            *x = n;
        }
    }
}

/// Seeds mutated by flips, cuts, splices and insertions of JSON-significant bytes, plus raw bytes.
fn hostile(seeds: Vec<String>) -> impl Strategy<Value = String> {
    let seeds: Vec<Vec<u8>> = seeds.into_iter().map(String::into_bytes).collect();
    let mutated = (0..seeds.len().max(1), proptest::collection::vec((any::<u16>(), 0u8..6, any::<u8>()), 0..8)).prop_map(move |(i, edits)| {
        let mut b = seeds.get(i).cloned().unwrap_or_default();
        const SPECIAL: &[u8] = b"{}[]\",:0-9.eE+nulltruefalse\\u\x00\xff \n";
        for (pos, kind, byte) in edits {
            let at = if b.is_empty() { 0 } else { usize::from(pos) % (b.len() + 1) };
            match kind {
                0 if at < b.len() => b[at] ^= 1 << (byte % 8),
                1 => b.truncate(at),
                2 => b.insert(at, SPECIAL[usize::from(byte) % SPECIAL.len()]),
                3 if at < b.len() => {
                    b.remove(at);
                }
                4 => {
                    let tail = b[at..].to_vec();
                    b.extend_from_slice(&tail[..tail.len().min(64)]);
                }
                _ => b.insert(at, byte),
            }
        }
        String::from_utf8_lossy(&b).into_owned()
    });
    prop_oneof![4 => mutated, 1 => any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()), 1 => ".*"]
}

fn run(name: &str, seeds: Vec<String>, check: impl Fn(&str)) {
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    runner
        .run(&hostile(seeds.clone()), |input| {
            check(&input);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    // Regressions: every file under tests/fuzz-regressions/<name>/ is replayed.
    let dir = format!("{}/tests/fuzz-regressions/{name}", env!("CARGO_MANIFEST_DIR"));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            check(&String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap_or_default()));
        }
    }
}

fn every_status(body: &str, parse: impl Fn(&HttpResponse)) {
    for status in [200u16, 401, 404, 429, 503] {
        parse(&HttpResponse::new(status, body).with_header("retry-after", body.get(..8).unwrap_or("")));
    }
}

#[test]
fn pinelabs_replies() {
    let seeds = vec![fixture("pinelabs/list_doc_example.json"), fixture("pinelabs/list_nulls_and_unknowns.json"), fixture("pinelabs/error_not_found.json"), r#"{"access_token":"a","expires_at":"2024-06-28T13:26:06.909140Z"}"#.into()];
    run("pinelabs", seeds, |body| {
        every_status(body, |r| {
            let _ = pinelabs::parse_token_list(r, 1_700_000_000_000);
            let _ = pinelabs::parse_token(r, 1_700_000_000_000, Some("c1"));
            let _ = pinelabs::parse_access_token(r, 0);
            let _ = pinelabs::parse_delete(r, "t1", Some("c1"));
        })
    });
}

#[test]
fn alliancepay_replies() {
    let key = merchant_key();
    let mut random = counting_random(59);
    let wrapped = jwe::encrypt(fixture("alliancepay/list_doc_example.json").as_bytes(), &key.recipient(), &mut random).unwrap();
    let seeds = vec![
        fixture("alliancepay/list_doc_example.json"),
        fixture("alliancepay/state_update_doc_example.json"),
        fixture("alliancepay/error_in_200.json"),
        serde_json::json!({ "jwe": wrapped }).to_string(),
    ];
    run("alliancepay", seeds, |body| {
        every_status(body, |r| {
            let _ = alliancepay::parse_token_list(r);
            let _ = alliancepay::parse_token(r, "-s9UCfCNN0YMk4ZOyZX8pWAt");
            let _ = alliancepay::parse_state_update(r, "t");
            let _ = alliancepay::parse_session(r, 0);
            if let Ok(opened) = futures::executor::block_on(alliancepay::open_reply(r.clone(), &key, false)) {
                let _ = alliancepay::parse_token_list(&opened);
            }
        })
    });
}

#[test]
fn chargeover_replies() {
    let seeds = vec![fixture("chargeover/list_doc_example.json"), fixture("chargeover/list_cases.json"), fixture("chargeover/error_400.json"), fixture("chargeover/error_401.json")];
    run("chargeover", seeds, |body| {
        every_status(body, |r| {
            let _ = chargeover::parse_token_list(r, 1_700_000_000_000);
            let _ = chargeover::parse_token(r, 1_700_000_000_000);
            let _ = chargeover::parse_created(r);
            let _ = chargeover::parse_delete(r);
        })
    });
}

#[test]
fn payerly_replies() {
    let seeds = vec![fixture("payerly/token_doc_example.json"), fixture("payerly/token_full_pan.json"), fixture("payerly/token_expired_nulls.json"), fixture("payerly/error_404_doc_example.json")];
    run("payerly", seeds, |body| {
        every_status(body, |r| {
            for raw in [false, true] {
                if let Ok(token) = payerly::parse_token(r, 1_700_000_000_000, raw) {
                    let raw_pan = token.raw.as_ref().and_then(|v| v.pointer("/paymentData/object/maskedPan")).and_then(|v| v.as_str()).map(str::to_string);
                    for pan in [token.card.and_then(|c| c.masked_pan), raw_pan].into_iter().flatten() {
                        assert!(pan.chars().filter(char::is_ascii_digit).count() <= 10, "a PAN left the SDK unmasked: {pan}");
                    }
                }
            }
        })
    });
}

#[test]
fn jwe_compact() {
    let key = merchant_key();
    let mut random = counting_random(101);
    let seeds = (0..4).map(|i| jwe::encrypt(format!("{{\"result\":[{i}]}}").as_bytes(), &key.recipient(), &mut random).unwrap()).collect();
    run("jwe", seeds, |compact| {
        let _ = jwe::decrypt(compact, &key);
    });
}

#[test]
fn card_and_time_text() {
    let seeds = vec!["523244••••••0177".into(), "4111 1111 1111 1111".into(), "Visa 4111111111111111".into(), "2025-02-27 14:12:34.430+02:00".into(), "12/27".into()];
    run("card_time", seeds, |text| {
        if let Some(m) = card::mask_pan(text) {
            assert!(m.masked.chars().filter(char::is_ascii_digit).count() <= 10, "{text:?} → {}", m.masked);
        }
        let scrubbed = card::scrub_pans(text);
        let longest_run = scrubbed.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
        assert!(longest_run < 13, "{text:?} → {scrubbed}");
        let _ = time_fmt::iso(Some(text));
        let _ = time_fmt::parse_card_expiry(text);
    });
}

/// Mending lone surrogate escapes never panics, leaves nothing to mend, and gives text that
/// serde_json reads wherever it read the original.
#[test]
fn lone_surrogate_mending() {
    let seeds = vec![r#"{"n":"Ann \ud83d","m":"\ud83d\ude00","p":"C:\\u0041"}"#.into(), r#"["\udc00\ud800\ud800\udfff"]"#.into()];
    run("surrogates", seeds, |text| {
        if let Some(mended) = paytokens::surrogates::mend(text) {
            assert_eq!(paytokens::surrogates::mend(&mended), None, "{text:?}");
        }
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            assert_eq!(paytokens::surrogates::mend(text), None, "{text:?}: read as it was, so nothing to mend");
        }
    });
}
