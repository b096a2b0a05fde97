//! Passage vectors end to end: a build embeds every passage into the index with the real model,
//! a rebuild takes them from the cache, and a passage's own text finds it among its neighbours.
//! Needs the model (`bash scripts/model.sh`, run by the test command); fails without it.

use std::path::{Path, PathBuf};

use votecheck_encoder::{Encoder, Role};
use votecheck_index::{PassageIndex, PassageKind};
use votecheck_index_builder::embedding::embedding_text;
use votecheck_index_builder::{BuildOptions, EmbeddingOptions, build_index};

fn corpus() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "mail.md",
        "---\ntitle: Voting by mail\nlanguage: en\n---\n# Voting by mail\n\n## Returning your ballot\n\nSign the envelope and drop it in any county drop box before 8 p.m. on Election Day.\n\n## Requesting a ballot\n\nAsk the clerk for a mail ballot online or by phone until the Tuesday before the election.\n",
    );
    write(
        "horario.md",
        "---\ntitle: Horario de votación\nlanguage: es\n---\n# Horario\n\n## Centros de votación\n\nLos centros de votación abren a las siete de la mañana y cierran a las ocho de la noche.\n",
    );
    dir
}

fn options(cache: &Path) -> BuildOptions {
    BuildOptions {
        embedding: Some(EmbeddingOptions {
            model: votecheck_encoder::testing::required_model_path(),
            cache: Some(cache.to_path_buf()),
        }),
        ..BuildOptions::default()
    }
}

#[test]
fn every_passage_gets_a_vector_and_a_rebuild_takes_them_from_the_cache() {
    let corpus = corpus();
    let out = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let index_dir: PathBuf = out.path().join("index");
    let first = build_index(
        corpus.path(),
        &index_dir,
        &options(cache.path()),
        &mut |_| {},
    )
    .unwrap();
    let passages = first.manifest.counts.passages as usize;
    let report = first.embedding.unwrap();
    assert_eq!((report.embedded, report.cached), (passages, 0));
    let info = first.manifest.embedding.clone().unwrap();
    let encoder = Encoder::open(&votecheck_encoder::testing::required_model_path()).unwrap();
    assert_eq!(info.model_id, encoder.model_id());
    assert_eq!((info.rows, info.dimensions), (passages, 384));

    let second = build_index(
        corpus.path(),
        &index_dir,
        &options(cache.path()),
        &mut |_| {},
    )
    .unwrap();
    let report = second.embedding.unwrap();
    assert_eq!((report.embedded, report.cached), (0, passages));

    let index = PassageIndex::open(&index_dir).unwrap();
    let searcher = index.searcher();
    let all = index.all_passages().unwrap();
    for passage in &all {
        let query = encoder
            .embed(Role::Passage, &embedding_text(passage))
            .unwrap();
        let filter = index.filter(PassageKind::Passage, &[], &[]);
        let nearest = index
            .nearest(&searcher, query.as_slice(), filter.as_ref(), 1)
            .unwrap();
        let found = index.passage_at(&searcher, nearest[0].1).unwrap();
        assert_eq!(found.passage_id, passage.passage_id);
        assert!(nearest[0].0 > 0.99, "{}", nearest[0].0);
    }
    // The filter keeps other languages out.
    let question = encoder.embed(Role::Query, "when do polls open").unwrap();
    let english = index.filter(PassageKind::Passage, &["en".to_string()], &[]);
    for (_, address) in index
        .nearest(&searcher, question.as_slice(), english.as_ref(), 10)
        .unwrap()
    {
        assert_eq!(index.passage_at(&searcher, address).unwrap().language, "en");
    }
}

#[test]
fn a_lexical_only_build_has_no_vectors() {
    let corpus = corpus();
    let out = tempfile::tempdir().unwrap();
    let index_dir = out.path().join("index");
    let report = build_index(
        corpus.path(),
        &index_dir,
        &BuildOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(report.manifest.embedding.is_none() && report.embedding.is_none());
    assert!(
        !index_dir
            .join(votecheck_index::vectors::VECTORS_FILE)
            .exists()
    );
    assert!(PassageIndex::open(&index_dir).unwrap().vectors().is_none());
}

#[test]
fn a_missing_model_fails_the_build_with_the_command_that_derives_it_and_keeps_the_old_index() {
    let corpus = corpus();
    let out = tempfile::tempdir().unwrap();
    let index_dir = out.path().join("index");
    build_index(
        corpus.path(),
        &index_dir,
        &BuildOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let before = std::fs::read(index_dir.join("manifest.json")).unwrap();
    let options = BuildOptions {
        embedding: Some(EmbeddingOptions {
            model: out.path().join("no-such-model.vce"),
            cache: None,
        }),
        ..BuildOptions::default()
    };
    let error = build_index(corpus.path(), &index_dir, &options, &mut |_| {}).unwrap_err();
    assert!(error.to_string().contains("scripts/model.sh"), "{error}");
    assert_eq!(
        std::fs::read(index_dir.join("manifest.json")).unwrap(),
        before
    );
}
