//! The id of a tapped button or chosen list row, as a webhook carries it: any text parses
//! without a panic, and what votecheck writes reads back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use votecheck_outbound::ButtonId;

fuzz_target!(|data: &[u8]| {
    let Ok(id) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = ButtonId::parse(id);
    let written = parsed.to_string();
    if !matches!(parsed, ButtonId::Feedback { .. }) {
        assert_eq!(ButtonId::parse(&written), parsed);
    }
});
