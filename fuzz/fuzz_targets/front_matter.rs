//! Front matter (TOML or YAML) at the top of a Markdown file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use votecheck_index_builder::front_matter::split_front_matter;

fuzz_target!(|text: &str| {
    let _ = split_front_matter(text);
});
