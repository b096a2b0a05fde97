//! The `votecheck` command line, end to end: `ask` and `eval` over the sample index, `report`
//! over a local SQLite store and over DynamoDB (a real moto_server), `store init`, and
//! `alerts plan` over a local store's subscriptions.

use std::path::Path;

use votecheck_end_to_end::moto::MotoServer;
use votecheck_end_to_end::{run, run_with_env, sample_corpus, stderr_of, stdout_of};
use votecheck_store::{
    CitizenKey, Feedback, QueryRecord, SqliteStore, Store, StoreConfig, Subscription, Topic,
};

fn build_sample_index(out: &Path) {
    let output = run(
        "index-builder",
        &[&"build", &sample_corpus(), &"--out", &out],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn ask_prints_the_reply_or_the_decision_as_json() {
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("index");
    build_sample_index(&index);
    let output = run(
        "votecheck",
        &[
            &"ask",
            &"--index",
            &index,
            &"--json",
            &"¿Cómo pido una boleta por correo?",
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let decision: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(decision["outcome"], "answer");
    assert_eq!(decision["language"], "es");
    let citation = &decision["citations"][0];
    for key in ["source", "section", "title", "url", "snippet", "score"] {
        assert!(
            citation.get(key).is_some(),
            "citation lacks {key}: {citation}"
        );
    }
    assert_eq!(citation["source"], "es/votar-por-correo.md");
    let reply = decision["reply"].as_str().unwrap();

    let plain = run(
        "votecheck",
        &[
            &"ask",
            &"--index",
            &index,
            &"¿Cómo pido una boleta por correo?",
        ],
    );
    assert_eq!(
        stdout_of(&plain).trim_end(),
        reply.trim_end(),
        "plain output is the exact reply"
    );

    let refusal = run(
        "votecheck",
        &[
            &"ask",
            &"--index",
            &index,
            &"--json",
            &"who should I vote for?",
        ],
    );
    let decision: serde_json::Value = serde_json::from_slice(&refusal.stdout).unwrap();
    assert_eq!(decision["outcome"], "neutral_refusal");
}

#[test]
fn eval_reports_figures_and_rejects_malformed_cases() {
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("index");
    build_sample_index(&index);
    let cases = work.path().join("cases.jsonl");
    std::fs::write(
        &cases,
        concat!(
            r#"{"id": "mail", "tags": ["en"], "question": "how do I return my mail ballot", "expect": {"source": "en/vote-by-mail.md"}}"#,
            "\n",
            r#"{"id": "hi", "tags": ["en"], "question": "hello", "expect": {"outcome": "menu"}}"#,
            "\n"
        ),
    )
    .unwrap();
    let output = run(
        "votecheck",
        &[&"eval", &"--index", &index, &"--cases", &cases, &"--json"],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["cases"], 2);
    assert_eq!(report["hit_at_1"], 1.0);
    assert_eq!(report["outcome_accuracy"], 1.0);
    for key in ["hit_at_3", "mrr", "by_tag", "latency_us", "results"] {
        assert!(report.get(key).is_some(), "{key}");
    }
    assert!(report["latency_us"]["p99"].as_u64().is_some());

    std::fs::write(
        &cases,
        "{\"id\": \"ok\", \"question\": \"q\", \"expect\": {\"outcome\": \"menu\"}}\n{not json}\n",
    )
    .unwrap();
    let output = run(
        "votecheck",
        &[&"eval", &"--index", &index, &"--cases", &cases],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).contains("line 2"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn calibrate_chooses_each_kind_of_threshold_on_runs_of_its_own_kind() {
    let work = tempfile::tempdir().unwrap();
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/eval/sample-corpus.jsonl");
    let eval_report = |index: &Path, name: &str| {
        let output = run(
            "votecheck",
            &[&"eval", &"--index", &index, &"--cases", &cases, &"--json"],
        );
        assert!(output.status.success(), "{}", stderr_of(&output));
        let report = work.path().join(name);
        std::fs::write(&report, &output.stdout).unwrap();
        report
    };
    let with_vectors = work.path().join("index");
    build_sample_index(&with_vectors);
    let lexical = work.path().join("lexical-index");
    let output = run(
        "index-builder",
        &[
            &"build",
            &sample_corpus(),
            &"--out",
            &lexical,
            &"--lexical-only",
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let semantic_report = eval_report(&with_vectors, "semantic.json");
    let lexical_report = eval_report(&lexical, "lexical.json");
    for (report, vectors) in [(&semantic_report, true), (&lexical_report, false)] {
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap();
        assert_eq!(value["passage_vectors"], vectors, "{}", report.display());
    }

    let calibrate = |reports: &[&Path]| {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"calibrate"];
        args.extend(
            reports
                .iter()
                .map(|report| report as &dyn AsRef<std::ffi::OsStr>),
        );
        let output = run("votecheck", &args);
        assert!(output.status.success(), "{}", stderr_of(&output));
        stdout_of(&output)
    };
    let has_line = |output: &str, line: &str| output.lines().any(|one| one == line);
    let lexical_only = calibrate(&[&lexical_report]);
    assert!(
        lexical_only.contains("\nanswer_confidence = "),
        "{lexical_only}"
    );
    assert!(!has_line(&lexical_only, "[semantic]"), "{lexical_only}");
    assert!(
        lexical_only.contains("no report of an index with passage vectors"),
        "{lexical_only}"
    );
    let semantic_only = calibrate(&[&semantic_report]);
    assert!(has_line(&semantic_only, "[semantic]"), "{semantic_only}");
    assert!(
        semantic_only.contains("the top-level thresholds are not chosen"),
        "{semantic_only}"
    );
    // `eval --calibrate` chooses the kind of thresholds its index is searched with.
    for (index, key, other) in [
        (&with_vectors, "semantic_calibration", "calibration"),
        (&lexical, "calibration", "semantic_calibration"),
    ] {
        let output = run(
            "votecheck",
            &[
                &"eval",
                &"--index",
                index,
                &"--cases",
                &cases,
                &"--calibrate",
                &"--json",
            ],
        );
        assert!(output.status.success(), "{}", stderr_of(&output));
        let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(value[key]["answer_cases"].as_u64().unwrap() > 0, "{key}");
        assert!(value.get(other).is_none(), "{other}");
    }

    // Both kinds: each section is chosen on the runs of its own kind only.
    let both = calibrate(&[&semantic_report, &lexical_report]);
    assert!(both.contains("\nanswer_confidence = "), "{both}");
    assert!(has_line(&both, "[semantic]"), "{both}");
    assert_eq!(
        both.lines().next(),
        lexical_only.lines().next(),
        "the lexical thresholds are chosen on the lexical run alone"
    );
}

#[test]
fn eval_into_a_closed_pipe_ends_quietly_and_names_each_rank_once() {
    let work = tempfile::tempdir().unwrap();
    let index = work.path().join("index");
    build_sample_index(&index);
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/eval/sample-corpus.jsonl");

    // `votecheck eval | head -c 0`: the reader is gone before the first line is written.
    let mut child = std::process::Command::new(votecheck_end_to_end::binary("votecheck"))
        .args([
            &"eval" as &dyn AsRef<std::ffi::OsStr>,
            &"--index",
            &index,
            &"--cases",
            &cases,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");

    let output = run(
        "votecheck",
        &[&"eval", &"--index", &index, &"--cases", &cases],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let summary = stdout_of(&output);
    let first = summary.lines().next().unwrap_or_default();
    assert_eq!(first.matches("hit@3").count(), 1, "{first}");
}

fn record(
    query_id: &str,
    at: i64,
    outcome: &str,
    question: &str,
    config: &StoreConfig,
) -> QueryRecord {
    QueryRecord {
        query_id: query_id.to_string(),
        at,
        citizen: CitizenKey::derive(b"test salt", "15550001111"),
        language: "en".to_string(),
        intent: "question".to_string(),
        outcome: outcome.to_string(),
        question_redacted: question.to_string(),
        passage_ids: vec![],
        scores: vec![],
        fact_check_id: None,
        corpus_version: "abc123".to_string(),
        latency_ms: 3,
        forwarded: false,
        expires_at: config.expires_at(at),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn report_reads_a_local_store() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("local.sqlite3");
    let config = StoreConfig::default();
    let store = SqliteStore::open(&path, config.clone()).unwrap();
    let now = now();
    store
        .record_query(&record(
            "q1",
            now - 60,
            "answer",
            "where do I vote",
            &config,
        ))
        .await
        .unwrap();
    store
        .record_query(&record(
            "q2",
            now - 120,
            "no_answer",
            "can I bring my dog",
            &config,
        ))
        .await
        .unwrap();
    store
        .record_query(&record(
            "q3",
            now - 180,
            "no_answer",
            "Can I bring my dog?",
            &config,
        ))
        .await
        .unwrap();
    store
        .record_query(&record(
            "old",
            now - 30 * 86_400,
            "answer",
            "outside the period",
            &config,
        ))
        .await
        .unwrap();
    let mut expired = record("gone", now - 3_600, "answer", "expired", &config);
    expired.expires_at = now - 1;
    store.record_query(&expired).await.unwrap();
    store
        .record_feedback(&Feedback {
            query_id: "q1".to_string(),
            citizen: CitizenKey::derive(b"test salt", "15550001111"),
            helpful: false,
            at: now - 30,
        })
        .await
        .unwrap();
    drop(store);

    let output = run(
        "votecheck",
        &[&"report", &"--store", &path, &"--since", &"7d", &"--json"],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["total_queries"], 3, "{report}");
    assert_eq!(report["by_outcome"]["no_answer"], 2);
    let unanswered = report["top_unanswered"][0].clone();
    assert_eq!(
        unanswered["count"], 2,
        "grouped after normalisation: {report}"
    );
    assert_eq!(report["not_helpful"][0]["count"], 1, "{report}");

    let text = run("votecheck", &[&"report", &"--store", &path]);
    assert!(text.status.success());
    assert!(
        stdout_of(&text).to_lowercase().contains("dog"),
        "{}",
        stdout_of(&text)
    );

    let missing = run(
        "votecheck",
        &[&"report", &"--store", &work.path().join("none.sqlite3")],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr_of(&missing).contains("no local store"),
        "{}",
        stderr_of(&missing)
    );
}

#[test]
fn store_init_creates_the_table_once_and_report_reads_dynamodb() {
    let moto = MotoServer::start();
    let env = [
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let first = run_with_env(
        "votecheck",
        &[&"store", &"init", &"--table", &"votecheck-e2e"],
        &env,
    );
    assert!(
        first.status.success(),
        "{}\n{}",
        stderr_of(&first),
        moto.log()
    );
    assert!(
        stdout_of(&first).contains("created table votecheck-e2e"),
        "{}",
        stdout_of(&first)
    );
    let second = run_with_env(
        "votecheck",
        &[&"store", &"init", &"--table", &"votecheck-e2e"],
        &env,
    );
    assert!(second.status.success(), "{}", stderr_of(&second));
    assert!(
        stdout_of(&second).contains("already exists"),
        "{}",
        stdout_of(&second)
    );

    let report = run_with_env(
        "votecheck",
        &[
            &"report",
            &"--store",
            &"dynamodb://votecheck-e2e",
            &"--since",
            &"24h",
            &"--json",
        ],
        &env,
    );
    assert!(report.status.success(), "{}", stderr_of(&report));
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["total_queries"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_plan_counts_subscribers_previews_and_prices_each_language() {
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("store.sqlite3");
    let store = SqliteStore::open(&path, StoreConfig::default()).unwrap();
    let subscribe = |number: &str, topic: Topic, language: &str| Subscription {
        citizen: CitizenKey::derive(b"salt", number),
        topic,
        language: language.to_owned(),
        jurisdiction: Some("Riverside County".to_owned()),
        contact: None,
        at: now(),
        expires_at: now() + 86_400,
    };
    for (number, topic, language) in [
        ("15550100001", Topic::Deadlines, "en"),
        ("15550100002", Topic::Deadlines, "en"),
        ("15550100003", Topic::Deadlines, "es"),
        ("15550100004", Topic::Rumours, "en"),
        ("15550100005", Topic::Deadlines, "pt"),
    ] {
        store
            .subscribe(&subscribe(number, topic, language))
            .await
            .unwrap();
    }
    drop(store);
    let alert =
        votecheck_end_to_end::workspace_root().join("samples/alerts/registration-deadline.toml");
    let output = run(
        "votecheck",
        &[&"alerts", &"plan", &alert, &"--store", &path],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let shown = stdout_of(&output);
    assert!(
        shown.contains("alert registration-deadline-2026: 3 recipient(s)"),
        "{shown}"
    );
    assert!(
        shown.contains("[en] 2 recipient(s), template registration_deadline (en_US), about 0.05"),
        "{shown}"
    );
    assert!(shown.contains("[es] 1 recipient(s)"), "{shown}");
    assert!(
        shown.contains("el lunes 19 de octubre"),
        "the preview is filled in: {shown}"
    );
    assert!(shown.contains("estimated cost: 0.08 USD"), "{shown}");

    // Every sample alert is valid.
    for sample in
        std::fs::read_dir(votecheck_end_to_end::workspace_root().join("samples/alerts")).unwrap()
    {
        let sample = sample.unwrap().path();
        let output = run(
            "votecheck",
            &[&"alerts", &"plan", &sample, &"--store", &path],
        );
        assert!(
            output.status.success(),
            "{}: {}",
            sample.display(),
            stderr_of(&output)
        );
    }

    // A broken file names the file and each field, and no store is needed to say so.
    let broken = work.path().join("broken.toml");
    std::fs::write(
        &broken,
        std::fs::read_to_string(&alert)
            .unwrap()
            .replace("\"deadlines\"", "\"weather\"")
            .replace("\"Monday, October 19\", ", ""),
    )
    .unwrap();
    let output = run(
        "votecheck",
        &[
            &"alerts",
            &"plan",
            &broken,
            &"--store",
            &work.path().join("missing.sqlite3"),
        ],
    );
    assert!(!output.status.success());
    let error = stderr_of(&output);
    assert!(
        error.contains("broken.toml") && error.contains("topic"),
        "{error}"
    );
    assert!(error.contains("templates.en.parameters"), "{error}");
}

#[test]
fn alerts_plan_checks_the_templates_against_the_business_account() {
    use votecheck_end_to_end::graph_server::GraphServer;
    let work = tempfile::tempdir().unwrap();
    let path = work.path().join("store.sqlite3");
    drop(SqliteStore::open(&path, StoreConfig::default()).unwrap());
    let alert =
        votecheck_end_to_end::workspace_root().join("samples/alerts/registration-deadline.toml");
    let text = std::fs::read_to_string(&alert).unwrap();
    let body = |language: &str| {
        let marker = format!("[templates.{language}]");
        let table = &text[text.find(&marker).unwrap()..];
        let line = table
            .lines()
            .find(|line| line.starts_with("body = "))
            .unwrap();
        serde_json::from_str::<String>(line.trim_start_matches("body = ")).unwrap()
    };
    let graph = GraphServer::start();
    let template = |language: &str, status: &str, text: String| {
        serde_json::json!({
            "name": "registration_deadline",
            "language": language,
            "status": status,
            "category": "UTILITY",
            "id": "1",
            "components": [{ "type": "BODY", "text": text }],
        })
    };
    let base_url = graph.base_url();
    let environment = [
        ("WHATSAPP_ACCESS_TOKEN", "EAAG-test-token"),
        ("WHATSAPP_PHONE_NUMBER_ID", "109000000000001"),
        ("WHATSAPP_BUSINESS_ACCOUNT_ID", "102290129340398"),
        ("VOTECHECK_GRAPH_BASE_URL", base_url.as_str()),
    ];
    let plan = || {
        run_with_env(
            "votecheck",
            &[&"alerts", &"plan", &alert, &"--store", &path],
            &environment,
        )
    };
    // The Spanish template is still in review: the plan says so, and fails.
    graph.set_message_templates(vec![
        template("en_US", "APPROVED", body("en")),
        template("es_MX", "PENDING", body("es")),
    ]);
    let output = plan();
    assert!(!output.status.success());
    let error = stderr_of(&output);
    assert!(
        error.contains("templates.es") && error.contains("PENDING"),
        "{error}"
    );
    let listing = &graph.requests()[0];
    assert_eq!(listing.method, "GET");
    assert!(
        listing
            .path
            .starts_with("/v25.0/102290129340398/message_templates?name=registration_deadline"),
        "{}",
        listing.path
    );
    assert_eq!(
        listing.header("authorization"),
        Some("Bearer EAAG-test-token")
    );
    // Both approved: the plan passes and says what it checked.
    graph.set_message_templates(vec![
        template("en_US", "APPROVED", body("en")),
        template("es_MX", "APPROVED", body("es")),
    ]);
    let output = plan();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(
        stdout_of(&output).contains("templates: approved in every language"),
        "{}",
        stdout_of(&output)
    );
    // Without a token nothing is asked of the Cloud API, and the plan says so.
    let requests = graph.requests().len();
    let output = run(
        "votecheck",
        &[&"alerts", &"plan", &alert, &"--store", &path],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert!(stdout_of(&output).contains("not checked against the Cloud API"));
    assert_eq!(graph.requests().len(), requests);
}
