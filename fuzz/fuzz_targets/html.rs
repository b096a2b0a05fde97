//! An HTML corpus document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use votecheck_index_builder::formats::html;

fuzz_target!(|text: &str| {
    let _ = html::parse(text);
});
