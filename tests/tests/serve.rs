//! `votecheck serve`, end to end over HTTP: the real binary on a free port, every endpoint —
//! the console's API (ask, tap buttons and list rows, switch language), the passage pages, the
//! report view and its JSON, the webhook contract (handshake, signature, size, payload), health
//! and metrics — plus building from a corpus, rebuilding on change with `--watch`, a taken port,
//! clean shutdown on Ctrl-C, and real replies through a (local) Graph API when a token is set.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use votecheck_end_to_end::graph_server::GraphServer;
use votecheck_end_to_end::local_server::LocalServer;
use votecheck_end_to_end::{binary, copy_tree, sample_corpus, workspace_root};

const APP_SECRET: &str = "serve-test-app-secret";
const VERIFY_TOKEN: &str = "serve-test-verify-token";

fn http() -> reqwest::Client {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// Starts a server over the sample corpus with known secrets, in a fresh directory.
fn start_sample_server(directory: &Path, extra_env: &[(&str, &str)]) -> LocalServer {
    let mut env = vec![
        ("WHATSAPP_APP_SECRET", APP_SECRET),
        ("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
    ];
    env.extend_from_slice(extra_env);
    start_server(directory, &sample_corpus(), &[], &env)
}

/// Starts a server over `corpus`, with its index and store in `directory`.
fn start_server(
    directory: &Path,
    corpus: &Path,
    extra_args: &[&str],
    env: &[(&str, &str)],
) -> LocalServer {
    let index = directory.join("index");
    let store = directory.join("store.sqlite3");
    let mut args = vec![
        "--corpus",
        corpus.to_str().unwrap(),
        "--out",
        index.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    args.extend_from_slice(extra_args);
    LocalServer::start(&args, env)
}

/// A corpus of one Markdown file, `polls.md`, in `directory/corpus`.
fn one_file_corpus(directory: &Path, markdown: &str) -> PathBuf {
    let corpus = directory.join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    std::fs::write(corpus.join("polls.md"), markdown).unwrap();
    corpus
}

async fn get(client: &reqwest::Client, server: &LocalServer, path: &str) -> reqwest::Response {
    client
        .get(server.url(path))
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {path}: {error}"))
}

async fn get_json(client: &reqwest::Client, server: &LocalServer, path: &str) -> Value {
    get(client, server, path)
        .await
        .json()
        .await
        .expect("a JSON body")
}

async fn get_text(client: &reqwest::Client, server: &LocalServer, path: &str) -> String {
    get(client, server, path)
        .await
        .text()
        .await
        .expect("a text body")
}

async fn post_json(
    client: &reqwest::Client,
    server: &LocalServer,
    path: &str,
    body: &Value,
) -> reqwest::Response {
    client
        .post(server.url(path))
        .json(body)
        .send()
        .await
        .unwrap_or_else(|error| panic!("POST {path}: {error}"))
}

async fn ask(client: &reqwest::Client, server: &LocalServer, message: Value) -> Value {
    let response = post_json(client, server, "/api/messages", &message).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON exchange")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(workspace_root().join("samples/webhooks").join(name)).expect("fixture")
}

async fn post_webhook(
    client: &reqwest::Client,
    server: &LocalServer,
    body: &[u8],
    secret: Option<&str>,
) -> (u16, String) {
    let mut request = client.post(server.url("/webhook")).body(body.to_vec());
    if let Some(secret) = secret {
        let signature = votecheck_whatsapp::signature_header(secret.as_bytes(), body).unwrap();
        request = request.header("x-hub-signature-256", signature);
    }
    let response = request.send().await.expect("POST /webhook");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn report(client: &reqwest::Client, server: &LocalServer) -> Value {
    get_json(client, server, "/api/report?since=1d").await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_api_answers_through_the_real_handler() {
    let directory = tempfile::tempdir().unwrap();
    let server = start_sample_server(directory.path(), &[]);
    let client = http();
    assert!(server.output().contains("building the index of"));

    // Health and the console page.
    let health: Value = get_json(&client, &server, "/healthz").await;
    assert_eq!(health["status"], "ok");
    let page = get(&client, &server, "/").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert!(page.text().await.unwrap().contains("preview console"));
    for asset in ["/assets/console.js", "/assets/console.css"] {
        assert_eq!(get(&client, &server, asset).await.status(), 200);
    }
    let info: Value = get_json(&client, &server, "/api/info").await;
    assert_eq!(info["dry_run"], true);
    assert_eq!(info["corpus_version"], health["corpus_version"]);
    let codes: Vec<&str> = info["languages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|language| language["code"].as_str().unwrap())
        .collect();
    for code in ["en", "es", "ja", "ar", "hi"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }

    // An English question: a cited answer quoting the citizen's message, then feedback buttons.
    let citizen = "console-e2e1";
    let exchange = ask(
        &client,
        &server,
        json!({ "citizen": citizen, "text": "How do I vote by mail?" }),
    )
    .await;
    assert_eq!(exchange["outcomes"], json!(["answer"]), "{exchange:#}");
    let answer = &exchange["answer"];
    assert_eq!(answer["language"], "en");
    assert_eq!(answer["outcome"], "answer");
    let citation = &answer["citations"][0];
    assert!(
        citation["source"].as_str().unwrap().contains("mail"),
        "{citation:#}"
    );
    assert!(citation["score"].as_f64().unwrap() > 0.0);
    let replies = exchange["replies"].as_array().unwrap();
    assert_eq!(replies[0]["reply_to"], exchange["message_id"]);
    assert_eq!(replies[0]["dry_run"], true);
    assert!(
        replies[0]["content"]["body"]
            .as_str()
            .unwrap()
            .contains("> ")
    );
    let buttons = replies
        .iter()
        .find(|reply| reply["content"]["type"] == "buttons")
        .expect("feedback buttons follow the answer");
    let yes = &buttons["content"]["buttons"][0];
    // The button carries the message's key (64 hex digits), never its id.
    let key = yes["id"]
        .as_str()
        .unwrap()
        .strip_prefix("feedback:yes:")
        .unwrap();
    assert_eq!(key, exchange["message_id"].as_str().unwrap());
    assert!(key.len() == 64 && key.bytes().all(|byte| byte.is_ascii_hexdigit()));

    // The citation links to the passage's full text.
    let passage_id = citation["passage_id"].as_str().unwrap();
    let passage = get(&client, &server, &format!("/passages/{passage_id}")).await;
    assert_eq!(passage.status(), 200);
    let passage = passage.text().await.unwrap();
    let snippet_start: String = citation["snippet"]
        .as_str()
        .unwrap()
        .chars()
        .take(30)
        .collect();
    assert!(passage.contains(&snippet_start), "{passage}");
    assert_eq!(
        get(&client, &server, "/passages/no-such-passage")
            .await
            .status(),
        404
    );

    // Tapping "yes" is stored as feedback and thanked.
    let tapped = ask(
        &client,
        &server,
        json!({ "citizen": citizen, "button": { "id": yes["id"], "title": yes["title"] } }),
    )
    .await;
    assert_eq!(tapped["outcomes"], json!(["feedback"]));
    assert_eq!(tapped["replies"].as_array().unwrap().len(), 1);

    // A Japanese question is answered in Japanese from the Japanese documents.
    let japanese = ask(
        &client,
        &server,
        json!({ "citizen": "console-e2e2", "text": "期日前投票はいつからですか" }),
    )
    .await;
    assert_eq!(japanese["answer"]["language"], "ja", "{japanese:#}");
    assert_eq!(japanese["answer"]["outcome"], "answer");
    assert_eq!(japanese["answer"]["citations"][0]["language"], "ja");

    // A forwarded rumour that fact-checkers have checked gets the verdict, with who and when.
    let rumour = ask(
        &client,
        &server,
        json!({
            "citizen": "console-e2e4",
            "text": "If you leave any race blank, your whole ballot is thrown out!",
            "forwarded": true,
        }),
    )
    .await;
    assert_eq!(rumour["answer"]["outcome"], "fact_check", "{rumour:#}");
    let verdict = &rumour["answer"]["fact_check"];
    assert!(verdict["verdict"].is_string() && verdict["checked_by"].is_string());

    // The menu is a list; choosing a row answers that topic.
    let menu = ask(&client, &server, json!({ "citizen": citizen, "text": "?" })).await;
    assert_eq!(menu["answer"]["outcome"], "menu", "{menu:#}");
    let list = &menu["replies"][0]["content"];
    assert_eq!(list["type"], "list");
    let row = &list["rows"][0];
    let chosen = ask(
        &client,
        &server,
        json!({ "citizen": citizen, "row": { "id": row["id"], "title": row["title"] } }),
    )
    .await;
    assert_eq!(chosen["answer"]["outcome"], "answer", "{chosen:#}");

    // The language switcher: a citizen set to Spanish gets the menu in Spanish.
    let switched = post_json(
        &client,
        &server,
        "/api/language",
        &json!({ "citizen": "console-e2e3", "language": "es" }),
    )
    .await;
    assert_eq!(switched.status(), 200);
    let spanish_menu = ask(
        &client,
        &server,
        json!({ "citizen": "console-e2e3", "text": "?" }),
    )
    .await;
    assert_eq!(spanish_menu["answer"]["language"], "es", "{spanish_menu:#}");
    let unknown = post_json(
        &client,
        &server,
        "/api/language",
        &json!({ "citizen": "console-e2e3", "language": "xx" }),
    )
    .await;
    assert_eq!(unknown.status(), 400);

    // Bad console input is refused with a reason.
    for bad in [
        json!({ "citizen": "15551234567", "text": "hi" }),
        json!({ "citizen": citizen, "text": "   " }),
        json!({ "citizen": citizen }),
    ] {
        let response = post_json(&client, &server, "/api/messages", &bad).await;
        assert_eq!(response.status(), 400, "{bad}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string());
    }

    // The report has it all: queries by language, the helpful vote, a chart.
    let figures = report(&client, &server).await;
    assert_eq!(figures["total_queries"], 6, "{figures:#}");
    assert_eq!(figures["forwarded"], 1);
    assert_eq!(figures["feedback"]["helpful"], 1);
    assert_eq!(figures["by_language"]["ja"], 1);
    let page = get_text(&client, &server, "/report").await;
    assert!(page.contains("<svg"), "{page}");
    assert!(page.contains("Unanswered questions"));
    assert!(page.contains("How do I vote by mail?"));
    let bad_period = get(&client, &server, "/report?since=forever").await;
    assert_eq!(bad_period.status(), 400);

    // Metrics count what happened.
    let metrics = get_text(&client, &server, "/metrics").await;
    assert!(
        metrics.contains(r#"votecheck_messages_total{outcome="answer"} 3"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"votecheck_messages_total{outcome="feedback"} 1"#));
    assert!(metrics.contains("votecheck_request_duration_seconds_bucket"));

    let (status, output) = server.interrupt();
    assert!(status.success(), "{output}");
    assert!(output.contains("votecheck serve: stopped"), "{output}");
    // The citizen's question never reaches the server's output.
    assert!(!output.contains("vote by mail"), "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_endpoint_keeps_the_lambdas_contract() {
    let directory = tempfile::tempdir().unwrap();
    let server = start_sample_server(directory.path(), &[]);
    let client = http();

    // The subscription handshake.
    let accepted = get(
        &client,
        &server,
        &format!(
            "/webhook?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
        ),
    )
    .await;
    assert_eq!(accepted.status(), 200);
    assert_eq!(accepted.text().await.unwrap(), "1158201444");
    let refused = get(
        &client,
        &server,
        "/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444",
    )
    .await;
    assert_eq!(refused.status(), 403);

    // Forged, unsigned, malformed and oversized bodies are refused and touch nothing.
    let text = fixture("message_text.json");
    assert_eq!(post_webhook(&client, &server, &text, None).await.0, 401);
    assert_eq!(
        post_webhook(&client, &server, &text, Some("not-the-secret"))
            .await
            .0,
        401
    );
    assert_eq!(
        post_webhook(&client, &server, b"{not json", Some(APP_SECRET))
            .await
            .0,
        400
    );
    let huge = vec![b' '; 1024 * 1024 + 1];
    assert_eq!(
        post_webhook(&client, &server, &huge, Some(APP_SECRET))
            .await
            .0,
        413
    );
    assert_eq!(report(&client, &server).await["total_queries"], 0);

    // A signed message is answered; with no token the reply is a labelled dry run.
    let (status, _) = post_webhook(&client, &server, &text, Some(APP_SECRET)).await;
    assert_eq!(status, 200);
    let outbox: Value = get_json(&client, &server, "/api/outbox?after=0").await;
    let entries = outbox["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "{outbox:#}");
    assert_eq!(entries[0]["dry_run"], true);
    let reply_to = entries[0]["reply_to"].as_str().unwrap();
    assert!(
        reply_to.len() == 64 && !reply_to.contains("wamid"),
        "the outbox shows the message's key: {reply_to}"
    );
    // Nothing in the outbox holds the sender's number (a message id carries it): no run of 7 of
    // its digits, no message id.
    let shown = outbox.to_string();
    assert!(!shown.contains("wamid."), "{shown}");
    for start in 0..="15550101234".len() - 7 {
        let run = &"15550101234"[start..start + 7];
        assert!(!shown.contains(run), "the outbox holds {run}: {shown}");
    }
    assert_eq!(entries[0]["to"], "…1234", "the number is masked");
    // A redelivery is a duplicate: no second answer.
    post_webhook(&client, &server, &text, Some(APP_SECRET)).await;
    let figures = report(&client, &server).await;
    assert_eq!(figures["total_queries"], 1, "{figures:#}");

    // Every fixture is accepted (200) without crashing the server.
    for entry in std::fs::read_dir(workspace_root().join("samples/webhooks")).unwrap() {
        let path = entry.unwrap().path();
        if path
            .extension()
            .is_some_and(|extension| extension == "json")
        {
            let body = std::fs::read(&path).unwrap();
            let (status, body_text) = post_webhook(&client, &server, &body, Some(APP_SECRET)).await;
            assert!(
                status == 200 || status == 400,
                "{}: {status} {body_text}",
                path.display()
            );
        }
    }
    let health = get(&client, &server, "/healthz").await;
    assert_eq!(health.status(), 200);
    let metrics = get_text(&client, &server, "/metrics").await;
    assert!(metrics.contains(r#"votecheck_requests_total{endpoint="webhook",status="401"} 2"#));
    let (status, output) = server.stop();
    assert!(status.success(), "{output}");
    assert!(
        !output.contains("15550101234"),
        "phone number in output: {output}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_token_real_citizens_get_real_replies_and_console_citizens_do_not() {
    let directory = tempfile::tempdir().unwrap();
    let graph = GraphServer::start();
    let base_url = graph.base_url();
    let server = start_sample_server(
        directory.path(),
        &[
            ("WHATSAPP_ACCESS_TOKEN", "serve-test-token"),
            ("WHATSAPP_PHONE_NUMBER_ID", "109000000000001"),
            ("VOTECHECK_GRAPH_BASE_URL", base_url.as_str()),
        ],
    );
    let client = http();
    let (status, _) = post_webhook(
        &client,
        &server,
        &fixture("message_text.json"),
        Some(APP_SECRET),
    )
    .await;
    assert_eq!(status, 200);
    let sends = graph.sends();
    assert!(!sends.is_empty(), "the reply went to the Graph API");
    assert_eq!(
        sends[0].body["context"]["message_id"],
        "wamid.TEST.TEXT.0001"
    );
    let info: Value = get_json(&client, &server, "/api/info").await;
    assert_eq!(info["dry_run"], false);

    let before = graph.requests().len();
    let exchange = ask(
        &client,
        &server,
        json!({ "citizen": "console-real", "text": "How do I vote by mail?" }),
    )
    .await;
    assert_eq!(exchange["outcomes"], json!(["answer"]));
    assert_eq!(
        graph.requests().len(),
        before,
        "console replies never leave the machine"
    );
    server.stop();
}

#[test]
fn serve_rebuilds_the_index_when_the_corpus_changes() {
    let directory = tempfile::tempdir().unwrap();
    let corpus = directory.path().join("corpus");
    copy_tree(&sample_corpus(), &corpus);
    let server = start_server(directory.path(), &corpus, &["--watch"], &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = http();
    let version = |runtime: &tokio::runtime::Runtime| -> String {
        runtime.block_on(async {
            let health: Value = get_json(&client, &server, "/healthz").await;
            health["corpus_version"].as_str().unwrap().to_string()
        })
    };
    let before = version(&runtime);
    std::fs::write(
        corpus.join("en/ferry.md"),
        "---\ntitle: Ferry service on Election Day\nlanguage: en\n---\n# Free ferry to the polls\n\nThe county runs a free ferry from Heron Island to the mainland polling places on Election Day, every hour from 6 am.\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while version(&runtime) == before {
        assert!(
            Instant::now() < deadline,
            "no rebuild after a corpus change:\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let exchange = runtime.block_on(ask(
        &client,
        &server,
        json!({ "citizen": "console-watch", "text": "Is there a ferry from Heron Island to vote?" }),
    ));
    assert_eq!(
        exchange["answer"]["citations"][0]["source"], "en/ferry.md",
        "{exchange:#}"
    );
    // A broken corpus file leaves the served index in place.
    std::fs::write(corpus.join("corpus.toml"), "this is [not toml").unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let (status, output) = server.stop();
    assert!(status.success(), "{output}");
    assert!(output.contains("unchanged"), "{output}");
}

#[test]
fn a_hostile_file_copied_into_a_watched_corpus_is_reported_and_the_server_keeps_serving() {
    let directory = tempfile::tempdir().unwrap();
    let corpus = one_file_corpus(
        directory.path(),
        "---\nlanguage: en\n---\n# Polling hours\n\nPolls open at seven in the morning and close at eight in the evening.\n",
    );
    let server = start_server(directory.path(), &corpus, &["--watch"], &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = http();
    // 5,000 nested elements aborted the whole server when its watcher rebuilt the index.
    let page = format!(
        "<html lang=\"en\"><body>{}Polls{}</body></html>",
        "<span>".repeat(5_000),
        "</span>".repeat(5_000)
    );
    std::fs::write(corpus.join("deep.html"), page).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !server.output().contains("warning: deep.html") {
        assert!(
            Instant::now() < deadline,
            "the hostile file was not reported:\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let exchange = runtime.block_on(ask(
        &client,
        &server,
        json!({ "citizen": "console-hostile", "text": "When do the polls open?" }),
    ));
    assert_eq!(
        exchange["answer"]["citations"][0]["source"], "polls.md",
        "{exchange:#}"
    );
    let (status, output) = server.stop();
    assert!(status.success(), "{output}");
    assert!(output.contains("nested more than"), "{output}");
}

#[test]
fn the_console_answers_only_its_own_host_names_and_says_nosniff() {
    let directory = tempfile::tempdir().unwrap();
    let corpus = one_file_corpus(
        directory.path(),
        "---\nlanguage: en\n---\n# Polling hours\n\nPolls open at seven in the morning.\n",
    );
    let server = start_server(
        directory.path(),
        &corpus,
        &["--allow-host", "console.example.test"],
        &[
            ("WHATSAPP_APP_SECRET", APP_SECRET),
            ("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = http();
    let status_for = |path: &str, host: &str| -> (u16, Option<String>) {
        runtime.block_on(async {
            let response = client
                .get(server.url(path))
                .header("host", host)
                .send()
                .await
                .unwrap();
            let nosniff = response
                .headers()
                .get("x-content-type-options")
                .map(|value| value.to_str().unwrap().to_string());
            (response.status().as_u16(), nosniff)
        })
    };
    let port = server
        .url("")
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    // A page on another domain rebound to 127.0.0.1 sends its own name as Host.
    for path in ["/api/outbox", "/api/report", "/report", "/", "/api/info"] {
        for host in [
            "rebind.attacker.example",
            &format!("rebind.attacker.example:{port}"),
        ] {
            assert_eq!(status_for(path, host).0, 421, "{path} for {host}");
        }
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            "console.example.test".to_string(),
        ] {
            let (status, nosniff) = status_for(path, &host);
            assert_eq!(status, 200, "{path} for {host}");
            assert_eq!(nosniff.as_deref(), Some("nosniff"), "{path}");
        }
    }
    let assets = runtime.block_on(async { client.get(server.url("/")).send().await.unwrap() });
    assert!(assets.headers().contains_key("content-security-policy"));
    // The webhook sits behind a tunnel: any host, the handshake still checks the token.
    let handshake =
        format!("/webhook?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=42");
    assert_eq!(status_for(&handshake, "abc.tunnel.example").0, 200);
    let (status, output) = server.stop();
    assert!(status.success(), "{output}");
}

#[test]
fn a_taken_port_is_reported_clearly() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let directory = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(binary("votecheck"))
        .current_dir(workspace_root())
        .args(["serve", "--addr", &address, "--corpus"])
        .arg(sample_corpus())
        .arg("--out")
        .arg(directory.path().join("index"))
        .arg("--store")
        .arg(directory.path().join("store.sqlite3"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_sent_from_the_console_reaches_a_subscribed_citizen_and_the_funnel() {
    let directory = tempfile::tempdir().unwrap();
    let alerts = workspace_root().join("samples/alerts");
    let server = start_server(
        directory.path(),
        &sample_corpus(),
        &["--alerts", alerts.to_str().unwrap()],
        &[
            ("WHATSAPP_APP_SECRET", APP_SECRET),
            ("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
        ],
    );
    let client = http();
    let listed = get_json(&client, &server, "/api/alerts").await;
    let files: Vec<&str> = listed["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|alert| alert["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"registration-deadline.toml"), "{listed}");

    // One simulated citizen subscribes to deadlines from the alerts menu; another does not.
    let subscribed = "console-alerts-1";
    ask(
        &client,
        &server,
        json!({"citizen": subscribed, "row": {"id": "subscribe:deadlines", "title": "Deadlines"}}),
    )
    .await;
    ask(
        &client,
        &server,
        json!({"citizen": "console-alerts-2", "text": "hello"}),
    )
    .await;

    let send = |file: &'static str| {
        let (client, server) = (&client, &server);
        async move {
            post_json(client, server, "/api/alerts", &json!({ "file": file }))
                .await
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let sent = send("registration-deadline.toml").await;
    assert_eq!(sent["sent"], 1, "{sent}");
    let deliveries = sent["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "{sent}");
    assert_eq!(deliveries[0]["to"], subscribed);
    assert_eq!(deliveries[0]["dry_run"], true);
    // They subscribed a moment ago: inside their 24-hour window, the alert's text.
    assert_eq!(deliveries[0]["content"]["type"], "text");
    assert!(
        deliveries[0]["content"]["body"]
            .as_str()
            .unwrap()
            .contains("the last day to register to vote is Monday, October 19"),
        "{sent}"
    );

    // An alert whose file gives no body can only go as its template: a Portuguese citizen
    // subscribed to rumours receives the template message.
    let portuguese = "console-alerts-3";
    let saved = post_json(
        &client,
        &server,
        "/api/language",
        &json!({"citizen": portuguese, "language": "pt"}),
    )
    .await;
    assert_eq!(saved.status(), 200);
    ask(
        &client,
        &server,
        json!({"citizen": portuguese, "row": {"id": "subscribe:rumours", "title": "Boatos"}}),
    )
    .await;
    let rumour = send("rumour-ballot-boxes.toml").await;
    let template = &rumour["deliveries"][0];
    assert_eq!(template["to"], portuguese, "{rumour}");
    assert_eq!(template["content"]["type"], "template");
    assert_eq!(template["content"]["name"], "rumour_fact_check");
    assert_eq!(template["content"]["language"], "pt_BR");

    // The same alert again sends nothing new.
    let again = send("registration-deadline.toml").await;
    assert_eq!(again["sent"], 0, "{again}");
    assert!(
        again["summary"].as_str().unwrap().contains("sent before"),
        "{again}"
    );
    let refused = post_json(
        &client,
        &server,
        "/api/alerts",
        &json!({"file": "../secrets.toml"}),
    )
    .await;
    assert_eq!(refused.status(), 400);

    let report = report(&client, &server).await;
    let funnel = &report["alerts"][0];
    assert_eq!(funnel["alert_id"], "registration-deadline-2026", "{report}");
    assert_eq!(
        (&funnel["accepted"], &funnel["sent"], &funnel["delivered"]),
        (&json!(1), &json!(1), &json!(1)),
        "{report}"
    );
    let page = get_text(&client, &server, "/report?since=1d").await;
    assert!(page.contains("Alerts: delivery funnel"), "{page}");
}

#[test]
fn after_a_rebuild_the_citizen_who_asked_gets_the_late_verdict_in_the_console() {
    let directory = tempfile::tempdir().unwrap();
    let corpus = directory.path().join("corpus");
    copy_tree(&sample_corpus(), &corpus);
    let server = start_server(directory.path(), &corpus, &["--watch"], &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = http();
    let citizen = "console-late";

    // The rumour is unchecked: the reply offers "tell me if checked", and the citizen taps it.
    let exchange = runtime.block_on(ask(
        &client,
        &server,
        json!({"citizen": citizen, "text": "Forward to everyone: ballots marked with a pencil are thrown away and never counted!", "forwarded": true}),
    ));
    assert_eq!(exchange["outcomes"][0], "no_answer", "{exchange:#}");
    let button = exchange["replies"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|reply| reply["content"]["buttons"].get(0).cloned())
        .unwrap_or_else(|| panic!("a follow-up button: {exchange:#}"));
    assert!(button["id"].as_str().unwrap().starts_with("follow:"));
    let tapped = runtime.block_on(ask(
        &client,
        &server,
        json!({"citizen": citizen, "button": {"id": button["id"], "title": button["title"]}}),
    ));
    assert_eq!(tapped["outcomes"][0], "follow_up", "{tapped:#}");
    let seen: u64 = runtime.block_on(async {
        get_json(&client, &server, "/api/outbox?after=0").await["last_seq"]
            .as_u64()
            .unwrap()
    });

    // A fact-check of it arrives in the corpus; after the rebuild the verdict reaches them.
    std::fs::copy(
        workspace_root().join("samples/fact-checks-later/pencil-ballots.json"),
        corpus.join("fact-checks/pencil-ballots.json"),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let verdict = loop {
        let outbox = runtime.block_on(get_json(
            &client,
            &server,
            &format!("/api/outbox?after={seen}&citizen={citizen}"),
        ));
        let found = outbox["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|entry| entry["to"] == citizen)
            .cloned();
        if let Some(found) = found {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no late verdict after the rebuild:\n{}",
            server.output()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    // The citizen wrote a moment ago: inside the 24-hour window the engine's own reply goes.
    let body = verdict["content"]["body"].as_str().unwrap_or_default();
    assert!(body.contains("pencil-ballots-are-counted"), "{verdict:#}");
    assert_eq!(verdict["dry_run"], true);
    // Without `citizen`, the webhook-traffic panel does not list console citizens' messages.
    let traffic = runtime.block_on(get_json(
        &client,
        &server,
        &format!("/api/outbox?after={seen}"),
    ));
    assert!(
        traffic["entries"].as_array().unwrap().is_empty(),
        "{traffic:#}"
    );
    let (status, output) = server.stop();
    assert!(status.success(), "{output}");
    assert!(output.contains("late verdicts"), "{output}");
}
