//! A ClaimReview JSON (or JSON-LD) corpus document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use votecheck_index_builder::formats::claim_review;

fuzz_target!(|data: &[u8]| {
    let _ = claim_review::parse(data);
});
