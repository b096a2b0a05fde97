//! The answer engine on arbitrary message text, over a lexical index of `samples/corpus` built
//! once per process.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use votecheck_engine::{ConversationContext, Engine};
use votecheck_index_builder::{BuildOptions, build_index};

struct Built {
    engine: Engine,
    _directory: tempfile::TempDir,
}

fn engine() -> &'static Engine {
    static BUILT: OnceLock<Built> = OnceLock::new();
    &BUILT
        .get_or_init(|| {
            let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/corpus");
            let directory = tempfile::tempdir().expect("a temporary directory");
            let index = directory.path().join("index");
            build_index(&corpus, &index, &BuildOptions::default(), &mut |_| {})
                .expect("the sample corpus builds");
            Built {
                engine: Engine::open(&index).expect("the sample index opens"),
                _directory: directory,
            }
        })
        .engine
}

fuzz_target!(|text: &str| {
    let answer = engine().answer(text, &ConversationContext::default());
    assert!(
        answer.reply.text.chars().count() <= 4096,
        "a reply over WhatsApp's limit"
    );
});
