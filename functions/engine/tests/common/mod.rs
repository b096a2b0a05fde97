//! What the engine's integration tests share: the sample corpus built once per test process, with
//! the real encoder (semantic retrieval and the learned judgement on).

#![allow(dead_code)] // each test binary uses a part

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use votecheck_engine::{Answer, ConversationContext, Engine};
use votecheck_index_builder::{BuildOptions, build_index};

/// Build options that embed the passages with the real model (semantic retrieval on).
pub fn hybrid() -> BuildOptions {
    BuildOptions::embedding_with(votecheck_encoder::testing::required_model_path())
}

/// The project's sample corpus.
pub fn sample_corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples/corpus")
}

/// The sample corpus, built once per test process.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    &ENGINE.get_or_init(|| engine_over(&sample_corpus())).1
}

/// A corpus of the given files (path relative to the corpus, text), written for one test.
pub fn corpus_of(files: &[(&str, &str)]) -> tempfile::TempDir {
    let corpus = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = corpus.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    corpus
}

/// An engine over a corpus a test wrote (the index lives as long as the directory returned).
pub fn engine_over(corpus: &Path) -> (tempfile::TempDir, Engine) {
    let out = tempfile::tempdir().unwrap();
    let index = out.path().join("index");
    build_index(corpus, &index, &hybrid(), &mut |_| {}).unwrap();
    let engine = Engine::open(&index).unwrap();
    (out, engine)
}

/// The sample engine's answer to a first message.
pub fn ask(question: &str) -> Answer {
    engine().answer(question, &ConversationContext::default())
}

/// The context of a message WhatsApp marked as forwarded.
pub fn forwarded() -> ConversationContext {
    ConversationContext {
        forwarded: true,
        ..ConversationContext::default()
    }
}
