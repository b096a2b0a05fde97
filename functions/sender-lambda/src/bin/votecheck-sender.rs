//! `votecheck-sender` (packaged as the function's `bootstrap`): the alert sender as an AWS
//! Lambda function behind an SQS event source mapping with `ReportBatchItemFailures`.
//!
//! At cold start it reads and validates the configuration, loads the AWS SDK configuration once
//! (shared by the SSM, DynamoDB and SQS clients), loads the two secrets and builds the store, the
//! Graph API client and the [`Sender`] once; then every invocation hands its SQS messages to
//! [`batch::process`]. Logs are JSON lines without personal data; metrics are EMF lines.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tracing::{error, info};
use votecheck_alerts::queue::{JobQueue, SqsQueue};
use votecheck_alerts::sender::Sender;
use votecheck_graph::GraphClient;
use votecheck_sender_lambda::batch;
use votecheck_sender_lambda::config::SenderConfig;
use votecheck_sender_lambda::metrics::emf_line;
use votecheck_sender_lambda::secrets::load_secrets;
use votecheck_store::dynamo::client::sdk_config;
use votecheck_store::{ClientSettings, DynamoStore, Store};

/// Time kept back from the invocation's deadline for reporting the batch.
const DEADLINE_MARGIN: Duration = Duration::from_secs(2);

struct Function {
    sender: Sender,
    store: Arc<dyn Store>,
    queue: Option<SqsQueue>,
    name: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_ansi(false)
        .with_current_span(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let started = Instant::now();
    let function = match build().await {
        Ok(function) => Arc::new(function),
        Err(problem) => {
            error!(problem = %format!("{problem:#}"), "start-up failed");
            return Err(problem.into());
        }
    };
    info!(init_ms = started.elapsed().as_secs_f64() * 1000.0, "ready");
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let function = function.clone();
        async move { Ok::<_, Error>(invoke(&function, event).await) }
    }))
    .await
}

async fn build() -> anyhow::Result<Function> {
    let config =
        SenderConfig::from_lookup(|name| std::env::var(name).ok()).map_err(|problems| {
            anyhow::anyhow!("invalid configuration:\n  {}", problems.join("\n  "))
        })?;
    let sdk = sdk_config(&ClientSettings::default()).await;
    let secrets = load_secrets(&config.secrets, &sdk).await?;
    let store: Arc<dyn Store> = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.store.clone(),
    ));
    let graph = GraphClient::new(config.graph.clone().with_access_token(secrets.access_token))
        .map_err(|problem| anyhow::anyhow!("configuring the Graph API client: {problem}"))?;
    let sender = Sender::new(
        Arc::clone(&store),
        Arc::new(graph),
        &secrets.id_salt,
        &config.sending,
    );
    let queue = config
        .queue_url
        .map(|url| SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), url));
    Ok(Function {
        sender,
        store,
        queue,
        name: std::env::var("AWS_LAMBDA_FUNCTION_NAME")
            .unwrap_or_else(|_| "votecheck-sender".to_owned()),
    })
}

async fn invoke(function: &Function, event: LambdaEvent<SqsEvent>) -> SqsBatchResponse {
    let deadline = invocation_deadline(event.context.deadline);
    let (response, counts) = batch::process(
        event.payload,
        &function.sender,
        function.store.as_ref(),
        function.queue.as_ref().map(|queue| queue as &dyn JobQueue),
        deadline,
    )
    .await;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64);
    println!("{}", emf_line(&function.name, counts.metrics(), now_ms));
    response
}

/// When this invocation's sends must stop: the deadline Lambda gives (milliseconds since 1970)
/// less [`DEADLINE_MARGIN`].
fn invocation_deadline(deadline_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64);
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Instant::now() + left.saturating_sub(DEADLINE_MARGIN)
}
