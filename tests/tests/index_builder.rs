//! The `index-builder` binary, end to end: it builds the sample corpus, the index opens
//! read-only, builds are deterministic, and a failed build leaves the previous index intact.

use std::path::Path;

use votecheck_end_to_end::{
    copy_tree, list_tree, run, run_with_env, sample_corpus, set_read_only, stderr_of, stdout_of,
};
use votecheck_index::manifest::LanguageOrigin;
use votecheck_index::{Manifest, PassageIndex, PassageKind, SearchRequest};

fn build(corpus: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"build", &corpus, &"--out", &out];
    for arg in extra {
        args.push(arg);
    }
    run_with_env(
        "index-builder",
        &args,
        &[("SOURCE_DATE_EPOCH", "1790000000")],
    )
}

fn build_sample(out: &Path) -> Manifest {
    let output = build(&sample_corpus(), out, &["--strict"]);
    assert!(
        output.status.success(),
        "build failed: {}",
        stderr_of(&output)
    );
    Manifest::read(out).expect("the manifest is readable")
}

#[test]
fn builds_the_sample_corpus_with_a_complete_manifest() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("index");
    let output = build(&sample_corpus(), &out, &["--strict"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let summary = stderr_of(&output);
    assert!(
        summary.contains("documents") && summary.contains("passages"),
        "{summary}"
    );

    let manifest = Manifest::read(&out).unwrap();
    assert_eq!(manifest.schema_version, votecheck_index::SCHEMA_VERSION);
    assert_eq!(manifest.corpus_hash.len(), 64);
    assert_eq!(
        manifest.built_at, "2026-09-21T14:13:20Z",
        "SOURCE_DATE_EPOCH is honoured"
    );
    assert!(manifest.warnings.is_empty(), "{:?}", manifest.warnings);
    let documents = votecheck_index::manifest::read_documents(&out).unwrap();
    assert_eq!(manifest.counts.documents as usize, documents.len());
    assert!(manifest.counts.documents >= 20);
    assert_eq!(manifest.counts.fact_checks, 9);
    for language in ["en", "es", "ja"] {
        assert!(
            manifest.counts.documents_by_language.contains_key(language),
            "{language}"
        );
    }
    let passages_in_records: u64 = documents.iter().map(|d| d.passages).sum();
    assert_eq!(passages_in_records, manifest.counts.passages);

    assert_eq!(
        manifest.jurisdictions,
        votecheck_index::Manifest::jurisdictions_of(&documents)
    );
    let record = |source: &str| {
        documents
            .iter()
            .find(|d| d.source == source)
            .unwrap_or_else(|| panic!("{source} is not in the manifest"))
    };
    let undeclared = record("es/preguntas-frecuentes.md");
    assert_eq!(undeclared.language, "es");
    assert_eq!(undeclared.language_origin, LanguageOrigin::Detected);
    assert_eq!(record("en/deadlines.md").title, "Key dates and deadlines");
    assert_eq!(record("en/faq.html").language, "en");
    assert_eq!(record("ja/faq.md").language, "ja");
    assert_eq!(
        record("en/notices/ballot-drop-box-hours.pdf").language,
        "en"
    );
    assert_eq!(
        record("fact-checks/feed.json").kind.as_deref(),
        Some("fact_check")
    );

    let contact = manifest
        .settings
        .contact
        .as_ref()
        .expect("corpus.toml has a contact");
    assert!(contact.phone.is_some());
    assert!(!manifest.settings.topics.is_empty());
}

#[test]
fn the_index_opens_and_searches_from_a_read_only_copy() {
    let work = tempfile::tempdir().unwrap();
    let built = work.path().join("built");
    build_sample(&built);
    let read_only = work.path().join("read-only");
    copy_tree(&built, &read_only);
    let files_before = list_tree(&read_only);
    set_read_only(&read_only, true);

    let index = PassageIndex::open(&read_only).expect("a read-only index opens");
    let hits = index
        .search(
            &SearchRequest::new("How do I vote by mail?")
                .language("en")
                .limit(3),
        )
        .unwrap();
    assert!(!hits.is_empty());
    assert_eq!(hits[0].passage.source, "en/vote-by-mail.md");
    let japanese = index
        .search(
            &SearchRequest::new("期日前投票はいつからですか")
                .language("ja")
                .limit(3),
        )
        .unwrap();
    assert_eq!(japanese[0].passage.language, "ja");
    let fact_checks = index
        .search(
            &SearchRequest::new("you can vote by text message")
                .language("en")
                .kind(PassageKind::FactCheck)
                .limit(1),
        )
        .unwrap();
    let review = fact_checks[0]
        .passage
        .claim_review
        .as_ref()
        .expect("a fact-check carries its review");
    assert!(review.verdict.is_some());
    let count = |kind, language| index.count_in_language(kind, language).unwrap();
    assert_eq!(count(PassageKind::FactCheck, "en"), 5);
    assert_eq!(
        count(PassageKind::FactCheck, "es-US"),
        2,
        "by primary subtag"
    );
    assert_eq!(count(PassageKind::FactCheck, "fr"), 0);
    assert!(count(PassageKind::Passage, "ja") > 0);
    drop(index);

    set_read_only(&read_only, false);
    assert_eq!(
        list_tree(&read_only),
        files_before,
        "opening and searching wrote nothing"
    );
}

#[test]
fn builds_are_deterministic() {
    let work = tempfile::tempdir().unwrap();
    let first = build_sample(&work.path().join("first"));
    let second = build_sample(&work.path().join("second"));
    assert_eq!(first, second, "same corpus, same manifest");
    let ids = |dir: &str| -> Vec<String> {
        PassageIndex::open(&work.path().join(dir))
            .unwrap()
            .all_passages()
            .unwrap()
            .into_iter()
            .map(|passage| passage.passage_id)
            .collect()
    };
    let first_ids = ids("first");
    assert_eq!(first_ids, ids("second"));
    let unique: std::collections::HashSet<&String> = first_ids.iter().collect();
    assert_eq!(unique.len(), first_ids.len(), "passage ids are unique");
}

fn corpus_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let corpus = tempfile::tempdir().unwrap();
    for (path, bytes) in files {
        let path = corpus.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    corpus
}

const GOOD: &[u8] = b"+++\ntitle = \"Guide\"\nlanguage = \"en\"\n+++\n# Guide\n\n## Where to vote\n\nVote at your polling place.\n";

#[test]
fn malformed_files_are_skipped_with_their_path_and_reason() {
    let corpus = corpus_with(&[
        ("good.md", GOOD),
        (
            "broken-front-matter.md",
            b"+++\ntitle = \"x\"\n# never closed\n",
        ),
        ("latin1.txt", b"caf\xe9 electoral"),
        ("bad.json", b"{\"@type\": \"ClaimReview\", oops}"),
        ("slides.pptx", b"binary"),
    ]);
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("index");
    let output = build(corpus.path(), &out, &[]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let messages = stderr_of(&output);
    for (source, reason) in [
        ("broken-front-matter.md", "never closed"),
        ("latin1.txt", "UTF-8"),
        ("bad.json", "invalid JSON"),
        ("slides.pptx", "unknown file type"),
    ] {
        assert!(
            messages
                .lines()
                .any(|line| line.contains(source) && line.contains(reason)),
            "no warning naming {source} and `{reason}` in:\n{messages}"
        );
    }
    let manifest = Manifest::read(&out).unwrap();
    assert_eq!(manifest.counts.documents, 1);
    assert_eq!(manifest.warnings.len(), 4);
}

#[test]
fn a_failed_build_leaves_the_previous_index_intact() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("index");
    build_sample(&out);
    let manifest_before = std::fs::read(out.join("manifest.json")).unwrap();
    let files_before = list_tree(&out);

    let broken = corpus_with(&[("good.md", GOOD), ("bad.json", b"[1, 2")]);
    let output = build(broken.path(), &out, &["--strict"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "--strict fails with exit code 1"
    );
    let message = stderr_of(&output);
    assert!(
        message.contains("bad.json") && message.contains("invalid JSON"),
        "{message}"
    );

    let empty = corpus_with(&[("README.md", b"# not a document")]);
    let output = build(empty.path(), &out, &[]);
    assert_eq!(output.status.code(), Some(1), "an empty corpus is an error");
    assert!(
        stderr_of(&output).contains("no documents"),
        "{}",
        stderr_of(&output)
    );

    assert_eq!(
        std::fs::read(out.join("manifest.json")).unwrap(),
        manifest_before
    );
    assert_eq!(list_tree(&out), files_before);
    let siblings: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        siblings,
        vec!["index"],
        "no staging directory is left behind"
    );
    assert!(PassageIndex::open(&out).is_ok());
}

#[test]
fn refuses_to_overwrite_a_directory_that_is_not_an_index() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("thesis.txt"), "precious").unwrap();
    let output = build(&sample_corpus(), work.path(), &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains("not a votecheck index"));
    assert!(work.path().join("thesis.txt").exists());
}

#[test]
fn an_index_of_another_schema_version_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("index");
    build_sample(&out);
    let path = out.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    manifest["schema_version"] = serde_json::json!(999);
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let error = PassageIndex::open(&out).unwrap_err().to_string();
    assert!(
        error.contains("schema version 999") && error.contains("rebuild"),
        "{error}"
    );
}

/// Two Vietnamese passages of ours: one about registering (`đăng ký`), one that repeats `ký`
/// (to sign) without it.
const VIETNAMESE: &[u8] = "+++\ntitle = \"Hướng dẫn\"\nlanguage = \"vi\"\n+++\n# Hướng dẫn\n\n## Đăng ký cử tri\n\nĐiền mẫu đơn để đăng ký cử tri trước hạn chót của tiểu bang.\n\n## Ký tên trên phong bì\n\nKý tên trên phong bì. Ký bằng bút, ký rõ ràng.\n".as_bytes();

#[test]
fn vietnamese_typed_without_its_marks_finds_the_passage() {
    let corpus = corpus_with(&[("vi/huong-dan.md", VIETNAMESE)]);
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("index");
    let output = build(corpus.path(), &out, &["--strict", "--lexical-only"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let index = PassageIndex::open(&out).unwrap();
    // `đ` has no Unicode decomposition: without folding it, only `ky` would match, and the
    // passage that repeats it would come first.
    let hits = index
        .search(
            &SearchRequest::new("lam sao de dang ky")
                .language("vi")
                .limit(2),
        )
        .unwrap();
    assert!(
        hits[0].passage.section.ends_with("Đăng ký cử tri"),
        "{:?}",
        hits.iter()
            .map(|hit| &hit.passage.section)
            .collect::<Vec<_>>()
    );
}

#[test]
fn inspect_and_search_print_what_a_person_needs() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("index");
    let manifest = build_sample(&out);
    let inspect = run("index-builder", &[&"inspect", &out]);
    assert!(inspect.status.success());
    let text = stdout_of(&inspect);
    assert!(text.contains(&manifest.corpus_hash), "{text}");
    assert!(text.contains("passages"), "{text}");

    let search = run(
        "index-builder",
        &[&"search", &out, &"¿Cómo pido una boleta por correo?"],
    );
    assert!(search.status.success(), "{}", stderr_of(&search));
    let text = stdout_of(&search);
    assert!(text.contains("query language: es"), "{text}");
    assert!(text.contains("es/votar-por-correo.md"), "{text}");
    assert!(text.contains("score"), "{text}");
}
