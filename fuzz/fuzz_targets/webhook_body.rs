//! The webhook body: base64 decoding with the size limit, then event parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use votecheck_whatsapp::{MAX_BODY_BYTES, decode_body, parse_events};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    if let Ok(raw) = decode_body(body, flags & 1 == 1, MAX_BODY_BYTES) {
        let _ = parse_events(&raw);
    }
    let _ = parse_events(body);
});
