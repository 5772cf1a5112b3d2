//! What reading a hostile reply allocates. Wasm memory never shrinks once grown, so a parser's
//! peak is the instance's footprint from then on.
//! - Masking a very long digit run (a free-text field can hold tens of MB of digits) used to copy
//!   the text into characters and flag every unit (25 bytes per character at its peak here, 34
//!   with the Luhn search); the walk in place allocates the result and at most a byte per digit.
//! - An error reply was read whole as a `serde_json::Value`, up to 16 bytes per byte of text.
#![cfg(not(target_arch = "wasm32"))]

use paytokens::card;
use paytokens::http::HttpResponse;
use paytokens::providers::{alliancepay, chargeover, payerly, pinelabs};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
// The counts are process-wide: each test holds this throughout, so the other cannot allocate
// while it measures.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes allocated at the peak of `work`, over what was live before it.
fn peak_of<T>(work: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let out = work();
    (out, PEAK.load(Ordering::SeqCst) - before)
}

const LEN: usize = 2 << 20;

#[test]
fn free_text_masking_allocates_about_its_result() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let digits = "4111111111111111".repeat(LEN / 16);
    let (masked, peak) = peak_of(|| card::scrub_pans(&digits));
    assert_eq!(masked.len(), LEN);
    assert!(masked.starts_with("411111*") && masked.ends_with("*1111"));
    assert!(peak <= LEN + LEN / 8, "peak {peak} B for {LEN} B of digits");

    let grouped = "4111 1111 1111 1111 ".repeat(LEN / 20);
    let (masked, peak) = peak_of(|| card::scrub_pans(&grouped));
    assert_eq!(masked.len(), grouped.len());
    assert!(peak <= LEN + LEN / 8, "peak {peak} B for {LEN} B of grouped digits");

    let mut raw = serde_json::json!({ "note": digits });
    let (_, peak) = peak_of(|| card::scrub_json(&mut raw));
    assert!(raw["note"].as_str().is_some_and(|s| s.ends_with("*1111")));
    assert!(peak <= 2 * LEN + LEN / 8, "peak {peak} B to scrub {LEN} B of digits in JSON");
}

#[test]
fn luhn_masking_keeps_a_byte_per_digit_at_most() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // One run of digits, and a run of many one-digit groups (the group search's worst case).
    for text in ["4111111111111111".repeat(LEN / 16), "1-".repeat(LEN / 2)] {
        let (masked, peak) = peak_of(|| card::scrub_pans_in_token(text.clone()));
        assert_eq!(masked.len(), text.len());
        // The copy handed in, the result and a byte per digit.
        assert!(peak <= 3 * LEN + LEN / 8, "peak {peak} B for {LEN} B");
        let (masked, peak) = peak_of(|| card::scrub_pans_in_url(&text));
        assert_eq!(masked.len(), text.len());
        assert!(peak <= 2 * LEN + LEN / 8, "peak {peak} B for {LEN} B in a URL");
    }
    // A card number found group by group inside the long run is still masked.
    let text = format!("{}-4111111111111111-{}", "12".repeat(1000), "9".repeat(1000));
    let masked = card::scrub_pans_in_token(text);
    assert!(masked.contains("-411111******1111-"), "{}", &masked[1990..2030]);
}

#[test]
fn a_huge_error_reply_is_not_read_as_a_whole() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // A proxy's (or a broken provider's) JSON: each `0` was a 16-byte `Value`, in a doubling Vec.
    let body = format!("{{\"error\":[{}0],\"code\":\"INVALID_REQUEST\",\"message\":\"x\",\"status\":\"Error\",\"msgType\":\"x\"}}", "0,".repeat(LEN / 2));
    type Parse = fn(&HttpResponse) -> bool;
    let parsers: [(&str, Parse); 6] = [
        ("pinelabs list", |r| pinelabs::parse_token_list(r, 0).is_err()),
        ("pinelabs delete", |r| pinelabs::parse_delete(r, "t", None).is_err()),
        ("chargeover list", |r| chargeover::parse_token_list(r, 0).is_err()),
        ("chargeover delete", |r| chargeover::parse_delete(r).is_err()),
        ("alliancepay list", |r| alliancepay::parse_token_list(r).is_err()),
        ("payerly get", |r| payerly::parse_token(r, 0, false).is_err()),
    ];
    for status in [200, 429, 500] {
        let resp = HttpResponse::new(status, body.clone());
        for (name, parse) in parsers {
            let (failed, peak) = peak_of(|| parse(&resp));
            assert!(failed, "{name} {status}");
            assert!(peak <= LEN / 4, "{name} {status}: peak {peak} B for a {} B reply", body.len());
        }
    }
}

#[test]
fn a_huge_status_word_in_a_success_reply_is_skipped_unread() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // The field that tells an error envelope in a 200 from a success reply, as a proxy's huge
    // array: it is skipped as it is read, not kept as a `Value` (16 bytes per `0`).
    let huge = format!("[{}0]", "0,".repeat(LEN / 2));
    type Parse = fn(&HttpResponse) -> bool;
    let cases: [(&str, String, Parse); 5] = [
        ("alliancepay session", format!("{{\"refreshToken\":\"r\",\"deviceId\":\"d\",\"serverPublic\":{huge}}}"), |r| alliancepay::parse_session(r, 0).is_err()),
        ("pinelabs list", format!("{{\"code\":{huge}}}"), |r| pinelabs::parse_token_list(r, 0).is_err()),
        ("chargeover list", format!("{{\"status\":{huge},\"response\":[]}}"), |r| chargeover::parse_token_list(r, 0).is_err()),
        ("chargeover delete", format!("{{\"status\":{huge},\"response\":true}}"), |r| chargeover::parse_delete(r).is_err()),
        ("chargeover get", format!("{{\"status\":{huge},\"response\":{{\"tokenized_id\":1}}}}"), |r| chargeover::parse_token(r, 0).is_err()),
    ];
    for (name, body, parse) in cases {
        let resp = HttpResponse::new(200, body);
        let (failed, peak) = peak_of(|| parse(&resp));
        assert!(failed, "{name}");
        assert!(peak <= LEN / 4, "{name}: peak {peak} B for a {} B reply", resp.body.len());
    }
}
