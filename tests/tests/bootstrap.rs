//! The Lambda `bootstrap` binary, end to end: the real process against a local Lambda Runtime
//! API ([`RuntimeApi`]), a local Graph API ([`GraphServer`]) and a real moto_server for
//! DynamoDB, fed Lambda Function URL events (payload format 2.0) that carry the project's own
//! webhook fixtures from `samples/webhooks/`, signed as Meta signs them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use votecheck_end_to_end::graph_server::{Failure, GraphServer, RecordedRequest};
use votecheck_end_to_end::lambda_runtime_api::{Invocation, RuntimeApi};
use votecheck_end_to_end::moto::{MotoServer, free_port};
use votecheck_end_to_end::webhooks::{PHONE_NUMBER_ID, TextMessage};
use votecheck_end_to_end::{binary, run, run_with_env, sample_corpus, stderr_of, workspace_root};

const APP_SECRET: &str = "test-app-secret";
const VERIFY_TOKEN: &str = "test-verify-token";
const ACCESS_TOKEN: &str = "test-token";
const TABLE: &str = "votecheck-e2e";
/// The citizen's phone number in the fixtures: never in the function's logs.
const CITIZEN_PHONE: &str = "15550101234";
/// The question in `message_text.json`: never in the function's logs.
const FIXTURE_QUESTION: &str = "When do the polling stations open on election day?";
/// Long enough for a cold start of a debug build plus a few Graph retries.
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// The sample corpus, indexed once per test run by the real `index-builder`.
fn sample_index() -> &'static Path {
    static INDEX: OnceLock<PathBuf> = OnceLock::new();
    INDEX.get_or_init(|| {
        let directory = tempfile::tempdir().expect("temporary directory").keep();
        let index = directory.join("index");
        let output = run(
            "index-builder",
            &[&"build", &sample_corpus(), &"--out", &index],
        );
        assert!(output.status.success(), "{}", stderr_of(&output));
        index
    })
}

fn fixture(name: &str) -> Vec<u8> {
    let path = workspace_root().join("samples/webhooks").join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
}

/// A one-text-message webhook body, shaped like `message_text.json`.
fn text_webhook(message_id: &str, text: &str) -> Vec<u8> {
    TextMessage {
        user_id: Some("US.1000000000000000001"),
        ..TextMessage::new(CITIZEN_PHONE, message_id, text)
    }
    .body()
}

fn sign(body: &[u8]) -> String {
    votecheck_whatsapp::signature_header(APP_SECRET.as_bytes(), body).expect("sign the body")
}

fn request_context(method: &str) -> Value {
    json!({
        "accountId": "anonymous",
        "apiId": "x",
        "domainName": "x.lambda-url.us-east-1.on.aws",
        "domainPrefix": "x",
        "http": {
            "method": method,
            "path": "/",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "facebookexternalua",
        },
        "requestId": "r1",
        "routeKey": "$default",
        "stage": "$default",
        "time": "28/Nov/2026:12:00:00 +0000",
        "timeEpoch": 1790000000000_u64,
    })
}

/// A Function URL event for a webhook POST; `signature` is the `x-hub-signature-256` header
/// (absent when `None`).
fn post_event(body: &[u8], signature: Option<&str>, base64_encoded: bool) -> Value {
    let mut headers = json!({"content-type": "application/json"});
    if let Some(signature) = signature {
        headers["x-hub-signature-256"] = json!(signature);
    }
    let body = if base64_encoded {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        String::from_utf8(body.to_vec()).expect("a UTF-8 body")
    };
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": request_context("POST"),
        "body": body,
        "isBase64Encoded": base64_encoded,
    })
}

/// A signed, plain-text Function URL event for a webhook POST.
fn signed_post(body: &[u8]) -> Value {
    post_event(body, Some(&sign(body)), false)
}

/// A Function URL event for the subscription handshake.
/// A signed webhook carrying the question most tests ask, under the given message id.
fn polling_hours_question(message_id: &str) -> Value {
    signed_post(&text_webhook(
        message_id,
        "When do the polling stations open?",
    ))
}

fn get_event(query: &str) -> Value {
    let mut parameters = serde_json::Map::new();
    for pair in query.split('&') {
        if let Some((key, value)) = pair.split_once('=') {
            parameters.insert(key.to_owned(), json!(value));
        }
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": query,
        "queryStringParameters": parameters,
        "headers": {"user-agent": "facebookplatform/1.0"},
        "requestContext": request_context("GET"),
        "isBase64Encoded": false,
    })
}

fn status_code(response: &Value) -> u64 {
    response["statusCode"]
        .as_u64()
        .unwrap_or_else(|| panic!("a response without statusCode: {response}"))
}

/// The response body as text (decoded when the function base64-encoded it).
fn body_text(response: &Value) -> String {
    let body = response["body"].as_str().unwrap_or_default();
    if response["isBase64Encoded"].as_bool() == Some(true) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("a base64 body");
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        body.to_owned()
    }
}

/// The `bootstrap` process and the local servers it talks to; the process is killed on drop.
struct Function {
    child: Child,
    log: PathBuf,
    api: RuntimeApi,
    graph: GraphServer,
    moto: Option<MotoServer>,
    _work: tempfile::TempDir,
}

impl Function {
    /// moto_server with the table created by `votecheck store init`, a Graph server, a Runtime
    /// API, and the bootstrap started against them.
    fn start() -> Function {
        Function::start_with_dynamodb(None)
    }

    /// As [`Function::start`], or, given an endpoint, with no moto_server and DynamoDB at that
    /// endpoint instead.
    fn start_with_dynamodb(endpoint: Option<String>) -> Function {
        Function::start_with(endpoint, RuntimeApi::start(), &[])
    }

    /// As [`Function::start_with_dynamodb`], against `api`, with extra environment variables
    /// (set last, so they override the defaults).
    fn start_with(
        endpoint: Option<String>,
        api: RuntimeApi,
        extra_env: &[(&str, &str)],
    ) -> Function {
        let index = sample_index();
        let moto = match endpoint {
            Some(_) => None,
            None => Some(MotoServer::start()),
        };
        let endpoint = endpoint.unwrap_or_else(|| moto.as_ref().unwrap().endpoint.clone());
        let aws_env = [
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
        ];
        if let Some(moto) = &moto {
            let init = run_with_env(
                "votecheck",
                &[&"store", &"init", &"--table", &TABLE],
                &aws_env,
            );
            assert!(
                init.status.success(),
                "store init failed: {}\n{}",
                stderr_of(&init),
                moto.log()
            );
        }
        let graph = GraphServer::start();
        let work = tempfile::tempdir().expect("temporary directory");
        let log = work.path().join("bootstrap.log");
        let log_file = std::fs::File::create(&log).expect("create the bootstrap log");
        let child = Command::new(binary("bootstrap"))
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("VOTECHECK_SSM_PREFIX")
            .envs(api.function_environment())
            .envs([
                ("VOTECHECK_TABLE_NAME", TABLE),
                ("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID),
                ("VOTECHECK_GRAPH_BASE_URL", graph.base_url().as_str()),
                ("VOTECHECK_GRAPH_VERSION", "v25.0"),
                ("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN),
                ("WHATSAPP_APP_SECRET", APP_SECRET),
                ("WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN),
                ("VOTECHECK_ID_SALT", "test-salt"),
            ])
            .envs(aws_env)
            .env("VOTECHECK_INDEX_DIR", index)
            .envs(extra_env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone the log handle"))
            .stderr(log_file)
            .spawn()
            .expect("start the bootstrap");
        Function {
            child,
            log,
            api,
            graph,
            moto,
            _work: work,
        }
    }

    /// What the bootstrap printed so far (stdout and stderr).
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Invokes the function with `event`; panics, with the function's log, unless it responds.
    fn invoke(&mut self, event: Value) -> Value {
        let child = &mut self.child;
        let exited = || matches!(child.try_wait(), Ok(Some(_)));
        match self.api.invoke_unless(event, INVOKE_TIMEOUT, exited) {
            Invocation::Response(response) => response,
            other => {
                let exited = self.child.try_wait().ok().flatten();
                panic!(
                    "the function did not respond: {other:?}\nprocess exit: {exited:?}\n\
                     init error: {:?}\nlog:\n{}",
                    self.api.init_error(),
                    self.log()
                )
            }
        }
    }

    /// Invokes the function with `event` and checks that the webhook got a 200.
    fn invoke_ok(&mut self, event: Value) -> Value {
        let response = self.invoke(event);
        assert_eq!(status_code(&response), 200, "{response}\n{}", self.log());
        response
    }

    /// Stops moto_server: DynamoDB is unreachable from now on.
    fn stop_dynamodb(&mut self) {
        self.moto = None;
    }

    /// Checks that the function's log is made of JSON lines and holds no personal data.
    fn assert_log_is_json_without_personal_data(&self, secret_texts: &[&str]) {
        let log = self.log();
        let lines: Vec<&str> = log.lines().filter(|line| !line.trim().is_empty()).collect();
        assert!(!lines.is_empty(), "the function logged nothing");
        for line in &lines {
            assert!(
                serde_json::from_str::<Value>(line).is_ok_and(|value| value.is_object()),
                "a log line that is not a JSON object: {line}\nlog:\n{log}"
            );
        }
        for secret in [CITIZEN_PHONE, ACCESS_TOKEN]
            .iter()
            .chain(secret_texts.iter())
        {
            assert!(!log.contains(secret), "the log contains {secret:?}:\n{log}");
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn describe(requests: &[RecordedRequest]) -> String {
    requests
        .iter()
        .map(|request| {
            format!(
                "{} {} -> {}: {}",
                request.method, request.path, request.answered, request.body
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn verification_echoes_the_challenge_only_for_the_right_token() {
    let mut function = Function::start();
    let accepted = function.invoke(get_event(&format!(
        "hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=123"
    )));
    assert_eq!(status_code(&accepted), 200, "{accepted}");
    assert_eq!(body_text(&accepted), "123");

    let refused = function.invoke(get_event(
        "hub.mode=subscribe&hub.verify_token=wrong-token&hub.challenge=123",
    ));
    assert_eq!(status_code(&refused), 403, "{refused}");
    assert_ne!(body_text(&refused), "123");
    assert!(function.graph.requests().is_empty());
}

#[test]
fn forged_or_missing_signature_is_refused_without_any_graph_request() {
    let mut function = Function::start();
    let body = fixture("message_text.json");
    let forged = votecheck_whatsapp::signature_header(b"not-the-app-secret", &body).unwrap();
    let response = function.invoke(post_event(&body, Some(&forged), false));
    assert_eq!(status_code(&response), 401, "{response}");

    let response = function.invoke(post_event(&body, None, false));
    assert_eq!(status_code(&response), 401, "{response}");

    // The right signature over different bytes (the body re-serialised) is forged too.
    let reserialised = serde_json::from_slice::<Value>(&body).unwrap().to_string();
    let response = function.invoke(post_event(
        reserialised.as_bytes(),
        Some(&sign(&body)),
        false,
    ));
    assert_eq!(status_code(&response), 401, "{response}");

    std::thread::sleep(Duration::from_millis(300));
    assert!(
        function.graph.requests().is_empty(),
        "{}",
        describe(&function.graph.requests())
    );
}

#[test]
fn a_text_question_is_marked_read_and_answered_in_context_without_personal_data_in_logs() {
    let mut function = Function::start();
    let response = function.invoke(signed_post(&fixture("message_text.json")));
    assert_eq!(
        status_code(&response),
        200,
        "{response}\n{}",
        function.log()
    );

    let requests = function.graph.requests();
    let sends = function.graph.sends();
    assert_eq!(sends.len(), 1, "{}", describe(&requests));
    let send = &sends[0];
    assert_eq!(send.path, format!("/v25.0/{PHONE_NUMBER_ID}/messages"));
    assert_eq!(
        send.header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    assert_eq!(send.body["messaging_product"], "whatsapp");
    assert_eq!(
        send.body["context"]["message_id"], "wamid.TEST.TEXT.0001",
        "{}",
        send.body
    );
    assert!(
        send.body["to"] == CITIZEN_PHONE || send.body["recipient"] == "US.1000000000000000001",
        "the reply goes to the citizen: {}",
        send.body
    );

    let reads = function.graph.mark_reads();
    assert_eq!(reads.len(), 1, "{}", describe(&requests));
    assert_eq!(reads[0].body["message_id"], "wamid.TEST.TEXT.0001");
    assert!(
        reads[0].body.get("typing_indicator").is_some(),
        "mark as read with a typing indicator: {}",
        reads[0].body
    );
    assert_eq!(
        reads[0].header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );

    function.assert_log_is_json_without_personal_data(&[FIXTURE_QUESTION]);
}

#[test]
fn the_same_delivery_five_times_gets_exactly_one_reply() {
    let mut function = Function::start();
    let event = signed_post(&fixture("message_text.json"));
    for delivery in 1..=5 {
        let response = function.invoke(event.clone());
        assert_eq!(
            status_code(&response),
            200,
            "delivery {delivery}: {response}"
        );
    }
    let sends = function.graph.sends();
    assert_eq!(sends.len(), 1, "{}", describe(&function.graph.requests()));
}

#[test]
fn a_base64_encoded_body_is_decoded_before_the_signature_check() {
    let mut function = Function::start();
    let body = text_webhook("wamid.TEST.TEXT.0101", "How do I register to vote?");
    let response = function.invoke(post_event(&body, Some(&sign(&body)), true));
    assert_eq!(
        status_code(&response),
        200,
        "{response}\n{}",
        function.log()
    );
    let sends = function.graph.sends();
    // A reply longer than an interactive body allows is the text, then the feedback buttons.
    assert_eq!(
        contextual_replies(&sends),
        1,
        "{}",
        describe(&function.graph.requests())
    );
    assert_eq!(
        sends[0].body["context"]["message_id"],
        "wamid.TEST.TEXT.0101"
    );
    let sent_before = sends.len();

    // Signed over the base64 text instead of the decoded bytes: forged.
    let other = text_webhook("wamid.TEST.TEXT.0102", "How do I register to vote?");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&other);
    let mut event = post_event(&other, Some(&sign(encoded.as_bytes())), true);
    event["body"] = json!(encoded);
    let response = function.invoke(event);
    assert_eq!(status_code(&response), 401, "{response}");
    assert_eq!(
        function.graph.sends().len(),
        sent_before,
        "a forged webhook sends nothing"
    );
}

#[test]
fn a_graph_server_error_is_retried_and_the_reply_delivered() {
    let mut function = Function::start();
    function.graph.fail_next_sends(1, Failure::ServerError);
    function.invoke_ok(polling_hours_question("wamid.TEST.TEXT.0201"));
    let sends = function.graph.sends();
    assert_eq!(sends.len(), 2, "{}", describe(&function.graph.requests()));
    assert_eq!(sends[0].answered, 500);
    assert_eq!(sends[1].answered, 200);
    assert_eq!(
        sends[0].body, sends[1].body,
        "the retry sends the same reply"
    );
    assert_eq!(
        sends[1].body["context"]["message_id"],
        "wamid.TEST.TEXT.0201"
    );
}

#[test]
fn outside_the_24_hour_window_the_send_is_not_retried_and_the_webhook_gets_200() {
    let mut function = Function::start();
    function.graph.fail_next_sends(1, Failure::OutsideWindow);
    function.invoke_ok(polling_hours_question("wamid.TEST.TEXT.0301"));
    std::thread::sleep(Duration::from_millis(500));
    let sends = function.graph.sends();
    assert_eq!(sends.len(), 1, "{}", describe(&function.graph.requests()));
    assert_eq!(sends[0].answered, 400);
}

#[test]
fn with_dynamodb_unreachable_the_citizen_still_gets_an_answer() {
    let mut function = Function::start();
    // Warm the function up first, so the cold start saw a working table.
    let warm_up = function.invoke(get_event(&format!(
        "hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"
    )));
    assert_eq!(status_code(&warm_up), 200, "{warm_up}");
    function.stop_dynamodb();

    let response = function.invoke(signed_post(&fixture("message_text.json")));
    assert_eq!(
        status_code(&response),
        200,
        "{response}\n{}",
        function.log()
    );
    let sends = function.graph.sends();
    assert_eq!(sends.len(), 1, "{}", describe(&function.graph.requests()));
    assert_eq!(sends[0].answered, 200);
    assert_eq!(
        sends[0].body["context"]["message_id"],
        "wamid.TEST.TEXT.0001"
    );
    function.assert_log_is_json_without_personal_data(&[FIXTURE_QUESTION]);
}

#[test]
fn a_dynamodb_endpoint_on_a_closed_port_does_not_stop_the_reply() {
    // DynamoDB never reachable, not even at the cold start.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let mut function = Function::start_with_dynamodb(Some(closed));
    let response = function.invoke(signed_post(&text_webhook(
        "wamid.TEST.TEXT.0401",
        "How do I register to vote?",
    )));
    assert_eq!(
        status_code(&response),
        200,
        "{response}\n{}",
        function.log()
    );
    assert_eq!(
        contextual_replies(&function.graph.sends()),
        1,
        "{}",
        describe(&function.graph.requests())
    );
}

#[test]
fn a_media_message_gets_one_polite_reply() {
    let mut function = Function::start();
    let response = function.invoke(signed_post(&fixture("message_image.json")));
    assert_eq!(status_code(&response), 200, "{response}");
    let sends = function.graph.sends();
    assert_eq!(sends.len(), 1, "{}", describe(&function.graph.requests()));
}

#[test]
fn a_failed_delivery_status_is_acknowledged_without_a_reply() {
    let mut function = Function::start();
    let response = function.invoke(signed_post(&fixture("status_failed.json")));
    assert_eq!(status_code(&response), 200, "{response}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        function.graph.sends().is_empty(),
        "{}",
        describe(&function.graph.requests())
    );
}

/// How many sends quote the citizen's message (the reply itself; a follow-up with the feedback
/// buttons does not quote it).
fn contextual_replies(sends: &[votecheck_end_to_end::graph_server::RecordedRequest]) -> usize {
    sends
        .iter()
        .filter(|send| send.body["context"]["message_id"].is_string())
        .count()
}

#[test]
fn a_rate_limited_graph_answer_is_retried() {
    let mut function = Function::start();
    function.graph.fail_next_sends(1, Failure::RateLimited);
    function.invoke_ok(polling_hours_question("wamid.TEST.TEXT.0501"));
    let sends = function.graph.sends();
    let answered: Vec<u16> = sends.iter().map(|send| send.answered).collect();
    assert_eq!(
        &answered[..2],
        &[429, 200],
        "{}",
        describe(&function.graph.requests())
    );
    assert_eq!(
        sends[0].body, sends[1].body,
        "the retry sends the same reply"
    );
}

#[test]
fn an_expired_token_is_logged_for_the_alarm_and_not_retried() {
    let mut function = Function::start();
    function.graph.fail_next_sends(1, Failure::TokenExpired);
    function.invoke_ok(polling_hours_question("wamid.TEST.TEXT.0601"));
    let failed = function
        .graph
        .sends()
        .iter()
        .filter(|send| send.answered == 401)
        .count();
    assert_eq!(failed, 1, "{}", describe(&function.graph.requests()));
    let log = function.log();
    assert!(
        log.lines().any(|line| line.contains("\"level\":\"ERROR\"")
            && line.contains("access token has expired")),
        "{log}"
    );
    assert!(
        log.contains("\"graph_token_expired\""),
        "the EMF line counts it: {log}"
    );
}

#[test]
fn a_slow_graph_answer_is_not_sent_twice() {
    let mut function = Function::start();
    // Longer than the client's per-attempt timeout (3 s): the first attempt times out after the
    // request went out, and WhatsApp delivers the reply anyway. A second POST would be a second
    // copy of the reply on the citizen's phone.
    function
        .graph
        .fail_next_sends(1, Failure::Delay(Duration::from_secs(5)));
    let event = polling_hours_question("wamid.TEST.TEXT.0701");
    let response = function.invoke(event.clone());
    assert_eq!(status_code(&response), 200, "{response}");
    // A redelivery (as WhatsApp makes after a lost answer) must not send it again either.
    let response = function.invoke(event);
    assert_eq!(status_code(&response), 200, "{response}");
    // Let the delayed answer and any wrong retry arrive before counting.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        contextual_replies(&function.graph.sends()),
        1,
        "{}",
        describe(&function.graph.requests())
    );
}

#[test]
fn after_graph_server_errors_the_redelivery_is_answered_once() {
    let mut function = Function::start();
    // Every attempt of the first delivery fails: no reply went out.
    function.graph.fail_next_sends(3, Failure::ServerError);
    let event = polling_hours_question("wamid.TEST.TEXT.0901");
    let first = function.invoke(event.clone());
    assert_eq!(
        status_code(&first),
        503,
        "WhatsApp must redeliver: {first}\n{}",
        function.log()
    );
    assert_eq!(
        function
            .graph
            .sends()
            .iter()
            .filter(|send| send.answered == 200)
            .count(),
        0
    );
    // WhatsApp's redelivery is answered, and a later one is a duplicate.
    for delivery in 2..=3 {
        let response = function.invoke(event.clone());
        assert_eq!(
            status_code(&response),
            200,
            "delivery {delivery}: {response}"
        );
    }
    let delivered: Vec<_> = function
        .graph
        .sends()
        .into_iter()
        .filter(|send| send.answered == 200 && send.body["context"]["message_id"].is_string())
        .collect();
    assert_eq!(
        delivered.len(),
        1,
        "{}",
        describe(&function.graph.requests())
    );
    assert_eq!(
        delivered[0].body["context"]["message_id"],
        "wamid.TEST.TEXT.0901"
    );
}

#[test]
fn with_dynamodb_refused_a_redelivery_gets_no_second_reply() {
    // No claim can be recorded: the process remembers what it answered.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let mut function = Function::start_with_dynamodb(Some(closed));
    let event = polling_hours_question("wamid.TEST.TEXT.1001");
    for delivery in 1..=3 {
        let response = function.invoke(event.clone());
        assert_eq!(
            status_code(&response),
            200,
            "delivery {delivery}: {response}\n{}",
            function.log()
        );
    }
    assert_eq!(
        contextual_replies(&function.graph.sends()),
        1,
        "{}",
        describe(&function.graph.requests())
    );
}

#[test]
fn with_dynamodb_refused_and_graph_failing_the_redelivery_is_answered() {
    let closed = format!("http://127.0.0.1:{}", free_port());
    let mut function = Function::start_with_dynamodb(Some(closed));
    function.graph.fail_next_sends(3, Failure::ServerError);
    let event = polling_hours_question("wamid.TEST.TEXT.1101");
    let first = function.invoke(event.clone());
    assert_eq!(status_code(&first), 503, "{first}\n{}", function.log());
    for delivery in 2..=3 {
        let response = function.invoke(event.clone());
        assert_eq!(
            status_code(&response),
            200,
            "delivery {delivery}: {response}"
        );
    }
    let delivered = function
        .graph
        .sends()
        .iter()
        .filter(|send| send.answered == 200 && send.body["context"]["message_id"].is_string())
        .count();
    assert_eq!(delivered, 1, "{}", describe(&function.graph.requests()));
}

/// A webhook carrying several text messages from the citizen, in one change.
fn batch_webhook(messages: &[(&str, &str)]) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&text_webhook(messages[0].0, messages[0].1))
        .expect("a JSON webhook");
    for (message_id, text) in &messages[1..] {
        let other: Value =
            serde_json::from_slice(&text_webhook(message_id, text)).expect("a JSON webhook");
        let message = other["entry"][0]["changes"][0]["value"]["messages"][0].clone();
        body["entry"][0]["changes"][0]["value"]["messages"]
            .as_array_mut()
            .expect("a messages array")
            .push(message);
    }
    body.to_string().into_bytes()
}

#[test]
fn with_dynamodb_black_holed_a_two_message_webhook_ends_well_within_the_timeout() {
    // DynamoDB accepts connections and never answers. Each store call used to wait 5 s (its
    // operation timeout), five of them per message: 50 s for two messages, past the function's
    // 30 s timeout.
    let hole = votecheck_end_to_end::black_hole::BlackHole::start();
    let mut function = Function::start_with_dynamodb(Some(hole.endpoint()));
    let warm_up = function.invoke(get_event(&format!(
        "hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"
    )));
    assert_eq!(status_code(&warm_up), 200, "{warm_up}");
    let started = std::time::Instant::now();
    let response = function.invoke(signed_post(&batch_webhook(&[
        ("wamid.TEST.TEXT.1201", "When do the polling stations open?"),
        ("wamid.TEST.TEXT.1202", "How do I register to vote?"),
    ])));
    let elapsed = started.elapsed();
    assert_eq!(
        status_code(&response),
        200,
        "{response}\n{}",
        function.log()
    );
    assert!(
        elapsed < votecheck_end_to_end::lambda_runtime_api::DEADLINE,
        "the webhook took {elapsed:?}, past the function's timeout\n{}",
        function.log()
    );
    let mut quoted: Vec<String> = function
        .graph
        .sends()
        .iter()
        .filter_map(|send| {
            send.body["context"]["message_id"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    quoted.sort();
    assert_eq!(
        quoted,
        ["wamid.TEST.TEXT.1201", "wamid.TEST.TEXT.1202"],
        "{}",
        describe(&function.graph.requests())
    );
    // One short attempt, then no more calls to the store in this webhook (the SDK may open a
    // second connection within that attempt).
    assert!(
        hole.connections() <= 3,
        "{} connections to the black hole\n{}",
        hole.connections(),
        function.log()
    );
}

#[test]
fn the_invocations_deadline_bounds_a_webhook_when_the_graph_api_hangs() {
    // A function configured with a 12 s timeout, a Graph API that takes a minute to answer, and
    // three messages in one webhook: each mark-as-read and reply would wait out its timeouts and
    // retries, far past the deadline.
    let deadline = Duration::from_secs(12);
    let mut function = Function::start_with(None, RuntimeApi::start_with_deadline(deadline), &[]);
    let warm_up = function.invoke(get_event(&format!(
        "hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"
    )));
    assert_eq!(status_code(&warm_up), 200, "{warm_up}");
    function
        .graph
        .fail_next_requests(30, Failure::Delay(Duration::from_secs(60)));
    let started = std::time::Instant::now();
    let response = function.invoke(signed_post(&batch_webhook(&[
        ("wamid.TEST.TEXT.1301", "When do the polling stations open?"),
        ("wamid.TEST.TEXT.1302", "How do I register to vote?"),
        ("wamid.TEST.TEXT.1303", "Where do I vote?"),
    ])));
    let elapsed = started.elapsed();
    assert!(
        elapsed < deadline,
        "the webhook took {elapsed:?}, past the invocation's deadline\n{}",
        function.log()
    );
    // What could not be answered in time is left to WhatsApp's redelivery.
    assert_eq!(
        status_code(&response),
        503,
        "{response}\n{}",
        function.log()
    );
}

#[test]
fn two_instances_given_the_same_delivery_at_once_reply_once() {
    // Two warm Lambda instances share one table: WhatsApp may deliver the same message to both.
    let mut first = Function::start();
    let endpoint = first.moto.as_ref().expect("moto_server").endpoint.clone();
    let mut second = Function::start_with_dynamodb(Some(endpoint));
    let event = polling_hours_question("wamid.TEST.TEXT.0801");
    std::thread::scope(|scope| {
        let a = scope.spawn(|| first.invoke(event.clone()));
        let b = scope.spawn(|| second.invoke(event.clone()));
        for response in [a.join().unwrap(), b.join().unwrap()] {
            assert_eq!(status_code(&response), 200, "{response}");
        }
    });
    let replies =
        contextual_replies(&first.graph.sends()) + contextual_replies(&second.graph.sends());
    assert_eq!(
        replies,
        1,
        "first:\n{}\nsecond:\n{}",
        describe(&first.graph.requests()),
        describe(&second.graph.requests())
    );
}

#[test]
fn every_fixture_is_acknowledged_and_only_messages_that_need_words_get_them() {
    let mut function = Function::start();
    let mut names: Vec<String> = std::fs::read_dir(workspace_root().join("samples/webhooks"))
        .expect("the fixtures")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    // Fixtures that carry no message for the bot to answer: never a reply.
    let silent = [
        "change_account_update.json",
        "message_reaction.json",
        "message_reaction_removed.json",
        "message_system_user_changed_number.json",
        "message_system_user_changed_user_id.json",
        "message_unknown_future_type.json",
        "message_unsupported.json",
        "object_not_whatsapp.json",
        "status_delivered.json",
        "status_failed.json",
        "status_read.json",
        "status_sent.json",
    ];
    for name in &names {
        let before = function.graph.sends().len();
        let response = function.invoke(signed_post(&fixture(name)));
        let status = status_code(&response);
        assert!(
            status == 200 || (name == "object_not_whatsapp.json" && status == 400),
            "{name}: {response}"
        );
        let sent = function.graph.sends().len() - before;
        if silent.contains(&name.as_str()) {
            assert_eq!(
                sent,
                0,
                "{name} got a reply: {}",
                describe(&function.graph.requests())
            );
        } else {
            assert!(sent >= 1, "{name} got no reply: {}", function.log());
        }
    }
    function.assert_log_is_json_without_personal_data(&[FIXTURE_QUESTION]);
}

#[test]
fn an_ssm_endpoint_that_never_answers_fails_the_cold_start_with_a_clear_error() {
    // Without timeouts the SDK waited for SSM for as long as the connection stayed open, and the
    // cold start hung with no log line.
    let hole = votecheck_end_to_end::black_hole::BlackHole::start();
    let endpoint = hole.endpoint();
    let mut function = Function::start_with(
        None,
        RuntimeApi::start(),
        &[
            ("VOTECHECK_SSM_PREFIX", "/votecheck/e2e"),
            ("AWS_ENDPOINT_URL_SSM", endpoint.as_str()),
        ],
    );
    let started = std::time::Instant::now();
    let exit = loop {
        if let Some(status) = function.child.try_wait().expect("the bootstrap's status") {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(60) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let log = function.log();
    let exit =
        exit.unwrap_or_else(|| panic!("the cold start still waits for SSM after 60 s\n{log}"));
    assert!(!exit.success(), "{log}");
    let failure = log
        .lines()
        .find(|line| line.contains("start-up failed"))
        .unwrap_or_else(|| panic!("no start-up failure logged:\n{log}"));
    assert!(
        failure.contains("SSM Parameter Store") && failure.contains("/votecheck/e2e"),
        "{failure}"
    );
    assert!(hole.connections() >= 1, "SSM was not even tried:\n{log}");
}
