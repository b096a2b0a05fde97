//! The signature header against a body, and the subscription handshake's query string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use votecheck_whatsapp::{signature_header, verify_signature, verify_subscription};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (header, body) = text.split_once('\n').unwrap_or((&text, ""));
    let secret = b"fuzz app secret";
    let _ = verify_signature(secret, Some(header), body.as_bytes());
    // A header made for the body always verifies.
    let made = signature_header(secret, body.as_bytes()).expect("a header for any body");
    assert!(verify_signature(secret, Some(&made), body.as_bytes()).is_ok());
    let outcome = verify_subscription(&text, "fuzz-verify-token");
    let _ = (outcome.status(), outcome.body());
});
