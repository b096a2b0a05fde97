//! A PDF corpus document: text extraction, with the builder's bounds on decompression.
//!
//! The builder catches panics inside the PDF libraries (`pdf-extract`, `lopdf`) and reports the
//! file as damaged: that is its design, not a finding. libFuzzer's panic hook aborts on every
//! panic, caught or not, so this target lets those two crates' panics unwind to the builder's
//! `catch_unwind` and still aborts on a panic anywhere else (our own code).
#![no_main]

use libfuzzer_sys::fuzz_target;
use votecheck_index_builder::formats::pdf;

fn in_the_pdf_libraries(info: &std::panic::PanicHookInfo<'_>) -> bool {
    info.location().is_some_and(|location| {
        let file = location.file();
        file.contains("/pdf-extract-") || file.contains("/lopdf-")
    })
}

fuzz_target!(
    init: {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !in_the_pdf_libraries(info) {
                abort(info);
            }
        }));
    },
    |data: &[u8]| {
        let _ = pdf::parse(data);
    }
);
