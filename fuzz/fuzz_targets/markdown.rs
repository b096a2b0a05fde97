//! A Markdown corpus document (front matter and CommonMark).
#![no_main]

use libfuzzer_sys::fuzz_target;
use votecheck_index_builder::formats::markdown;

fuzz_target!(|text: &str| {
    let _ = markdown::parse(text);
});
