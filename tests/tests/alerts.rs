//! Alerts end to end, with real peers only: citizens subscribe through the webhook function
//! (`bootstrap`, fed Function URL events by a local Lambda Runtime API), `votecheck alerts plan`
//! checks the file and the templates against a local Graph API, `votecheck alerts send`
//! enqueues on a real SQS queue (moto_server, which also serves DynamoDB), the sender function
//! (`votecheck-sender`) gets the queue's messages as SQS events from a second Runtime API,
//! WhatsApp's statuses come back through the webhook, and `votecheck report` shows the funnel.
//!
//! On the way: a second `alerts send` enqueues nothing; a citizen who says "stop" after the
//! enqueue gets nothing; a throughput answer leaves the job to SQS, whose redelivery reaches
//! each citizen once; a third delivery of the same job sends nothing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};
use votecheck_end_to_end::graph_server::{Failure, GraphServer};
use votecheck_end_to_end::lambda_runtime_api::{Invocation, RuntimeApi};
use votecheck_end_to_end::moto::MotoServer;
use votecheck_end_to_end::webhooks::{PHONE_NUMBER_ID, TextMessage, delivery_status, list_reply};
use votecheck_end_to_end::{
    binary, run, run_with_env, sample_corpus, stderr_of, stdout_of, workspace_root,
};

const APP_SECRET: &str = "alerts-app-secret";
const ACCESS_TOKEN: &str = "alerts-token";
const SALT: &str = "alerts-salt";
const TABLE: &str = "votecheck-alerts-e2e";
const BUSINESS_ACCOUNT: &str = "300000000000001";
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);
/// Three citizens who subscribe; the third says "stop" after the alert is enqueued.
const CITIZENS: [&str; 3] = ["15550107001", "15550107002", "15550107003"];

/// The same alert, for a time to come.
const TIMED_ALERT: &str = r#"
id = "registration-deadline-timed"
topic = "deadlines"
send_at = "2030-01-01T08:00:00Z"
[templates.en]
name = "registration_deadline"
language = "en_US"
parameters = ["October 19"]
body = "Register to vote by {{1}}."
"#;

const ALERT: &str = r#"
id = "registration-deadline-e2e"
topic = "deadlines"
[templates.en]
name = "registration_deadline"
language = "en_US"
parameters = ["October 19"]
body = "Register to vote by {{1}}."
"#;

/// The sample corpus, indexed once by the real `index-builder`.
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

/// A Lambda function process against its own Runtime API; killed on drop.
struct Function {
    child: Child,
    api: RuntimeApi,
    log: PathBuf,
}

impl Function {
    fn start(binary_name: &str, environment: &[(&str, String)], work: &Path) -> Function {
        let api = RuntimeApi::start();
        let log = work.join(format!("{binary_name}.log"));
        let log_file = std::fs::File::create(&log).expect("create the log");
        let child = Command::new(binary(binary_name))
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_PROFILE")
            .env_remove("VOTECHECK_SSM_PREFIX")
            .envs(api.function_environment())
            .envs(
                environment
                    .iter()
                    .map(|(name, value)| (*name, value.as_str())),
            )
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone the log handle"))
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|problem| panic!("start {binary_name}: {problem}"));
        Function { child, api, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn invoke(&mut self, event: Value) -> Value {
        let child = &mut self.child;
        let exited = || matches!(child.try_wait(), Ok(Some(_)));
        match self.api.invoke_unless(event, INVOKE_TIMEOUT, exited) {
            Invocation::Response(response) => response,
            other => panic!(
                "the function did not respond: {other:?}\ninit error: {:?}\nlog:\n{}",
                self.api.init_error(),
                self.log()
            ),
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A signed Function URL event carrying a webhook body.
fn webhook_event(body: &[u8]) -> Value {
    let signature = votecheck_whatsapp::signature_header(APP_SECRET.as_bytes(), body).unwrap();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-hub-signature-256": signature},
        "requestContext": {
            "accountId": "anonymous", "apiId": "x", "domainName": "x.lambda-url.us-east-1.on.aws",
            "domainPrefix": "x",
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "facebookexternalua"},
            "requestId": "r1", "routeKey": "$default", "stage": "$default",
            "time": "28/Nov/2026:12:00:00 +0000", "timeEpoch": 1790000000000_u64,
        },
        "body": String::from_utf8(body.to_vec()).unwrap(),
        "isBase64Encoded": false,
    })
}

/// An SQS event of the messages SQS handed out, as Lambda's poller passes them.
fn sqs_event(messages: &[aws_sdk_sqs::types::Message]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|message| {
            json!({
                "messageId": message.message_id().unwrap_or_default(),
                "receiptHandle": message.receipt_handle().unwrap_or_default(),
                "body": message.body().unwrap_or_default(),
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1790000000000"},
                "messageAttributes": {},
                "md5OfBody": message.md5_of_body().unwrap_or_default(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:votecheck-alerts",
                "awsRegion": "us-east-1",
            })
        })
        .collect();
    json!({ "Records": records })
}

fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_sqs::config::Region::new("us-east-1"))
        .http_client(votecheck_store::dynamo::client::http_client())
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// The `to` of every successful send of the alert (its template, or its text inside the
/// citizen's 24-hour window), and the message id the server answered with, in order (the server
/// numbers its successful sends `wamid.REPLY.<n>`).
fn alert_sends(graph: &GraphServer) -> Vec<(String, String)> {
    let mut successful = 0;
    let mut sends = Vec::new();
    for request in graph.requests() {
        if !request.is_send() || request.answered != 200 {
            continue;
        }
        successful += 1;
        let is_alert = request.body["type"] == "template"
            || request.body["text"]["body"]
                .as_str()
                .is_some_and(|text| text.starts_with("Register to vote by"));
        if is_alert {
            sends.push((
                request.body["to"].as_str().unwrap_or_default().to_owned(),
                format!("wamid.REPLY.{successful}"),
            ));
        }
    }
    sends
}

/// moto_server (DynamoDB with the table made by `votecheck store init`, and SQS with the alert
/// queue), the AWS environment that points a process at it, and an SQS client.
struct Peers {
    moto: MotoServer,
    aws: Vec<(&'static str, String)>,
    runtime: tokio::runtime::Runtime,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

impl Peers {
    fn start() -> Peers {
        let moto = MotoServer::start();
        let aws = vec![
            ("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint.clone()),
            ("AWS_ENDPOINT_URL_SQS", moto.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
        ];
        let aws_refs: Vec<(&str, &str)> = aws
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let init = run_with_env(
            "votecheck",
            &[&"store", &"init", &"--table", &TABLE],
            &aws_refs,
        );
        assert!(init.status.success(), "{}", stderr_of(&init));
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let sqs = sqs_client(&moto.endpoint);
        let queue_url = runtime
            .block_on(sqs.create_queue().queue_name("votecheck-alerts").send())
            .expect("create the queue on moto")
            .queue_url()
            .unwrap()
            .to_owned();
        Peers {
            moto,
            aws,
            runtime,
            sqs,
            queue_url,
        }
    }
}

#[test]
fn from_an_alert_file_to_phones_and_back_to_the_report() {
    let Peers {
        moto: _moto,
        aws,
        runtime,
        sqs,
        queue_url,
    } = Peers::start();
    let work = tempfile::tempdir().unwrap();
    let graph = GraphServer::start();
    graph.set_message_templates(vec![json!({
        "name": "registration_deadline",
        "language": "en_US",
        "status": "APPROVED",
        "category": "UTILITY",
        "id": "1",
        "components": [{"type": "BODY", "text": "Register to vote by {{1}}."}],
    })]);
    let common = |extra: &[(&'static str, String)]| {
        let mut environment: Vec<(&str, String)> = vec![
            ("VOTECHECK_TABLE_NAME", TABLE.to_owned()),
            ("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID.to_owned()),
            ("VOTECHECK_GRAPH_BASE_URL", graph.base_url()),
            ("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN.to_owned()),
            ("VOTECHECK_ID_SALT", SALT.to_owned()),
        ];
        environment.extend(aws.iter().cloned());
        environment.extend(extra.iter().cloned());
        environment
    };
    let mut webhook = Function::start(
        "bootstrap",
        &common(&[
            ("WHATSAPP_APP_SECRET", APP_SECRET.to_owned()),
            ("WHATSAPP_VERIFY_TOKEN", "verify".to_owned()),
            ("VOTECHECK_INDEX_DIR", sample_index().display().to_string()),
        ]),
        work.path(),
    );
    let mut post = |body: Vec<u8>| {
        let response = webhook.invoke(webhook_event(&body));
        assert_eq!(response["statusCode"], 200, "{response}\n{}", webhook.log());
    };

    // 1. Three citizens subscribe to deadline alerts from the alerts menu.
    for (index, citizen) in CITIZENS.iter().enumerate() {
        post(list_reply(
            citizen,
            &format!("wamid.SUB.{index}"),
            "subscribe:deadlines",
            "Deadlines",
        ));
    }

    // 2. The plan: the file, the template as the Cloud API lists it, the audience.
    let alert_file = work.path().join("deadline.toml");
    std::fs::write(&alert_file, ALERT).unwrap();
    let store_arg = format!("dynamodb://{TABLE}");
    let cli_env = common(&[("WHATSAPP_BUSINESS_ACCOUNT_ID", BUSINESS_ACCOUNT.to_owned())]);
    let cli_refs: Vec<(&str, &str)> = cli_env
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let plan = run_with_env(
        "votecheck",
        &[&"alerts", &"plan", &alert_file, &"--store", &store_arg],
        &cli_refs,
    );
    let planned = stdout_of(&plan);
    assert!(plan.status.success(), "{}", stderr_of(&plan));
    assert!(planned.contains("3 recipient(s)"), "{planned}");
    assert!(planned.contains("templates: approved"), "{planned}");

    // 3. Send, twice: the second enqueues nothing.
    let send = || send_alert(&alert_file, &queue_url, &cli_refs);
    let first = send();
    assert!(first.status.success(), "{}", stderr_of(&first));
    assert!(
        stdout_of(&first).contains("3 recipient(s) in 1 job(s) enqueued"),
        "{}",
        stdout_of(&first)
    );
    let second = send();
    assert!(
        stdout_of(&second).contains("sent before: nothing new"),
        "{}\n{}",
        stdout_of(&second),
        stderr_of(&second)
    );

    // 4. The third citizen says "stop" between the enqueue and the send.
    let stop = TextMessage::new(CITIZENS[2], "wamid.STOP.1", "stop").body();
    post(stop);

    // 5. SQS hands the job to the sender; WhatsApp answers "throughput exceeded" long enough
    //    for the Graph client's own retries to give up: the job goes back to SQS.
    let received = runtime
        .block_on(
            sqs.receive_message()
                .queue_url(&queue_url)
                .max_number_of_messages(10)
                .send(),
        )
        .unwrap();
    let messages = received.messages().to_vec();
    assert_eq!(messages.len(), 1, "one job for three subscribers");
    let event = sqs_event(&messages);
    let mut sender = Function::start("votecheck-sender", &common(&[]), work.path());
    graph.fail_next_sends(20, Failure::RateLimited);
    let throttled = sender.invoke(event.clone());
    assert_eq!(
        throttled["batchItemFailures"][0]["itemIdentifier"],
        json!(messages[0].message_id().unwrap()),
        "{throttled}\n{}",
        sender.log()
    );
    assert!(alert_sends(&graph).is_empty());
    // The number's throughput recovers, and SQS redelivers the job.
    graph.clear_failures();
    let redelivered = sender.invoke(event.clone());
    assert_eq!(
        redelivered["batchItemFailures"],
        json!([]),
        "{}",
        sender.log()
    );
    let sent = alert_sends(&graph);
    // They subscribed a moment ago: inside their 24-hour window the alert goes as its text.
    assert!(
        graph
            .sends()
            .iter()
            .any(|send| send.body["text"]["body"] == "Register to vote by October 19."),
        "the free-form text inside the window"
    );
    let mut reached: Vec<&str> = sent.iter().map(|(to, _)| to.as_str()).collect();
    reached.sort();
    assert_eq!(
        reached,
        [CITIZENS[0], CITIZENS[1]],
        "once each, nobody who said stop"
    );
    // 6. A third delivery of the same job sends nothing.
    let again = sender.invoke(event);
    assert_eq!(again["batchItemFailures"], json!([]));
    assert_eq!(alert_sends(&graph).len(), 2, "{}", sender.log());
    for (name, value) in [("messages", CITIZENS[0]), ("token", ACCESS_TOKEN)] {
        assert!(
            !sender.log().contains(value),
            "the sender's log holds the {name}"
        );
    }

    // 7. WhatsApp's statuses come back on the webhook.
    for (to, message_id) in &sent {
        post(delivery_status(to, message_id, "sent", None));
        post(delivery_status(to, message_id, "delivered", None));
    }
    post(delivery_status(&sent[0].0, &sent[0].1, "read", None));

    // 8. The report shows the funnel.
    let report = run_with_env("votecheck", &[&"report", &"--store", &store_arg], &cli_refs);
    let text = stdout_of(&report);
    assert!(report.status.success(), "{}", stderr_of(&report));
    assert!(
        text.contains(
            "registration-deadline-e2e [deadlines]: enqueued 3, accepted 2, sent 2 (100.0 %), \
             delivered 2 (100.0 %), read 1 (50.0 %), skipped 1 (opted out since)"
        ),
        "{text}"
    );
}

#[test]
fn after_a_corpus_update_follow_ups_send_each_late_verdict_once() {
    let work = tempfile::tempdir().unwrap();
    let corpus = work.path().join("corpus");
    votecheck_end_to_end::copy_tree(&sample_corpus(), &corpus);
    std::fs::copy(
        workspace_root().join("samples/fact-checks-later/pencil-ballots.json"),
        corpus.join("fact-checks/pencil-ballots.json"),
    )
    .unwrap();
    let index = work.path().join("new-index");
    let built = run("index-builder", &[&"build", &corpus, &"--out", &index]);
    assert!(built.status.success(), "{}", stderr_of(&built));

    // Two citizens asked to be told: one about the pencil rumour, one about something else.
    let store_file = work.path().join("store.sqlite3");
    let asked = "15550109001";
    {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = votecheck_store::SqliteStore::open(
            &store_file,
            votecheck_store::StoreConfig::default(),
        )
        .unwrap();
        let sealer = votecheck_store::contact::ContactSealer::from_salt(SALT.as_bytes());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        for (number, question) in [
            (
                asked,
                "Forward to everyone: ballots marked with a pencil are thrown away and never counted!",
            ),
            (
                "15550109002",
                "Forward this: the bridge on Route 9 is closed for repairs all next month!",
            ),
        ] {
            let follow_up = votecheck_store::FollowUp {
                citizen: votecheck_store::CitizenKey::derive(SALT.as_bytes(), number),
                query_id: format!("query-{number}"),
                question: question.to_owned(),
                language: "en".to_owned(),
                contact: Some(
                    sealer
                        .seal(&votecheck_store::contact::ContactAddress::PhoneNumber(
                            number.to_owned(),
                        ))
                        .unwrap(),
                ),
                at: now - 86_400,
                expires_at: now + 30 * 86_400,
            };
            use votecheck_store::Store as _;
            runtime
                .block_on(store.request_follow_up(&follow_up))
                .unwrap();
        }
    }

    let graph = GraphServer::start();
    let environment = [
        ("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN.to_owned()),
        ("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID.to_owned()),
        ("VOTECHECK_GRAPH_BASE_URL", graph.base_url()),
        ("VOTECHECK_ID_SALT", SALT.to_owned()),
    ];
    let environment: Vec<(&str, &str)> = environment
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let follow_ups = |extra: &[&dyn AsRef<std::ffi::OsStr>]| {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
            &"alerts",
            &"follow-ups",
            &"--index",
            &index,
            &"--store",
            &store_file,
        ];
        args.extend_from_slice(extra);
        run_with_env("votecheck", &args, &environment)
    };

    let plan = follow_ups(&[&"--dry-run"]);
    let planned = stdout_of(&plan);
    assert!(plan.status.success(), "{}", stderr_of(&plan));
    assert!(
        planned.contains("2 pending follow-up(s); 1 now have a fact-check"),
        "{planned}"
    );
    assert!(planned.contains("dry run: nothing was sent"), "{planned}");
    assert!(graph.sends().is_empty());

    let sent = follow_ups(&[]);
    assert!(sent.status.success(), "{}", stderr_of(&sent));
    assert!(stdout_of(&sent).contains("sent 1,"), "{}", stdout_of(&sent));
    let sends = graph.sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(
        sends[0].body["to"], asked,
        "only the citizen who asked about it"
    );
    assert_eq!(sends[0].body["template"]["name"], "fact_check_update");

    let again = follow_ups(&[]);
    assert!(
        stdout_of(&again).contains("sent 0,"),
        "{}",
        stdout_of(&again)
    );
    assert_eq!(graph.sends().len(), 1, "each verdict once");
}

#[test]
fn a_timed_alert_put_on_the_queue_by_its_schedule_is_expanded_and_delivered() {
    let Peers {
        moto,
        aws,
        runtime,
        sqs,
        queue_url,
    } = Peers::start();
    let work = tempfile::tempdir().unwrap();
    let aws_refs: Vec<(&str, &str)> = aws
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();

    // Two subscribers, written as the webhook writes them (key and sealed address under the
    // deployment's salt).
    {
        use votecheck_store::Store as _;
        let client = runtime.block_on(votecheck_store::dynamo_client(
            &votecheck_store::ClientSettings::local(moto.endpoint.clone()),
        ));
        let store = votecheck_store::DynamoStore::new(
            client,
            votecheck_store::StoreConfig::for_table(TABLE),
        );
        let sealer = votecheck_store::contact::ContactSealer::from_salt(SALT.as_bytes());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        for number in ["15550106001", "15550106002"] {
            let subscription = votecheck_store::Subscription {
                citizen: votecheck_store::CitizenKey::derive(SALT.as_bytes(), number),
                topic: votecheck_store::Topic::Deadlines,
                language: "en".into(),
                jurisdiction: None,
                contact: Some(
                    sealer
                        .seal(&votecheck_store::contact::ContactAddress::PhoneNumber(
                            number.to_owned(),
                        ))
                        .unwrap(),
                ),
                at: now,
                expires_at: now + 86_400,
            };
            runtime.block_on(store.subscribe(&subscription)).unwrap();
        }
    }

    // The job the schedule will put on the queue, printed by the CLI.
    let alert_file = work.path().join("timed.toml");
    std::fs::write(&alert_file, TIMED_ALERT).unwrap();
    let graph = GraphServer::start();
    let cli_env: Vec<(&str, String)> = vec![("VOTECHECK_GRAPH_BASE_URL", graph.base_url())];
    let cli_refs: Vec<(&str, &str)> = aws_refs
        .iter()
        .copied()
        .chain(cli_env.iter().map(|(name, value)| (*name, value.as_str())))
        .collect();
    let too_early = send_alert(&alert_file, &queue_url, &cli_refs);
    assert!(!too_early.status.success());
    assert!(
        stderr_of(&too_early).contains("in the future"),
        "{}",
        stderr_of(&too_early)
    );
    let printed = run_with_env(
        "votecheck",
        &[&"alerts", &"send", &alert_file, &"--print-job"],
        &cli_refs,
    );
    assert!(printed.status.success(), "{}", stderr_of(&printed));
    let job = stdout_of(&printed).trim().to_owned();
    assert!(job.contains("\"kind\":\"expand\""), "{job}");

    // At the time, the schedule puts it on the queue; the sender expands it into delivery jobs
    // on the same queue, then delivers them.
    runtime
        .block_on(
            sqs.send_message()
                .queue_url(&queue_url)
                .message_body(&job)
                .send(),
        )
        .unwrap();
    let environment: Vec<(&str, String)> = vec![
        ("VOTECHECK_TABLE_NAME", TABLE.to_owned()),
        ("WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID.to_owned()),
        ("VOTECHECK_GRAPH_BASE_URL", graph.base_url()),
        ("WHATSAPP_ACCESS_TOKEN", ACCESS_TOKEN.to_owned()),
        ("VOTECHECK_ID_SALT", SALT.to_owned()),
        ("VOTECHECK_ALERT_QUEUE_URL", queue_url.clone()),
    ]
    .into_iter()
    .chain(aws.iter().cloned())
    .collect();
    let mut sender = Function::start("votecheck-sender", &environment, work.path());
    let receive = |runtime: &tokio::runtime::Runtime| {
        runtime
            .block_on(
                sqs.receive_message()
                    .queue_url(&queue_url)
                    .max_number_of_messages(10)
                    .send(),
            )
            .unwrap()
            .messages()
            .to_vec()
    };
    let expand = receive(&runtime);
    assert_eq!(expand.len(), 1);
    let response = sender.invoke(sqs_event(&expand));
    assert_eq!(response["batchItemFailures"], json!([]), "{}", sender.log());
    let deliveries = receive(&runtime);
    assert_eq!(deliveries.len(), 1, "one delivery job for two subscribers");
    let response = sender.invoke(sqs_event(&deliveries));
    assert_eq!(response["batchItemFailures"], json!([]), "{}", sender.log());
    let mut reached: Vec<String> = alert_sends(&graph).into_iter().map(|(to, _)| to).collect();
    reached.sort();
    assert_eq!(reached, ["15550106001", "15550106002"]);
}

/// `votecheck alerts send FILE --store dynamodb://TABLE --queue URL`, with `env`.
fn send_alert(alert_file: &Path, queue_url: &str, env: &[(&str, &str)]) -> std::process::Output {
    let store = format!("dynamodb://{TABLE}");
    run_with_env(
        "votecheck",
        &[
            &"alerts",
            &"send",
            &alert_file,
            &"--store",
            &store,
            &"--queue",
            &queue_url,
        ],
        env,
    )
}
