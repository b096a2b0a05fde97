//! A PDF corpus document: text extraction, with the builder's bounds on decompression.
#![no_main]

use libfuzzer_sys::fuzz_target;
use votecheck_index_builder::formats::pdf;

fuzz_target!(|data: &[u8]| {
    let _ = pdf::parse(data);
});
