//! `bootstrap`: the WhatsApp webhook as an AWS Lambda function behind a Function URL.
//!
//! At cold start it reads and validates the configuration (`votecheck_webhook_lambda::config`),
//! loads the AWS SDK configuration once (shared by the SSM and DynamoDB clients), loads the
//! secrets (SSM or environment), opens the bundled index read-only, and builds the DynamoDB and
//! Graph API clients once; then every invocation goes to the same [`Handler::handle`] the
//! local server uses. Logs are JSON lines without personal data; metrics are EMF lines.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use aws_lambda_events::http::{HeaderMap, HeaderValue};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tracing::{error, info};
use votecheck_engine::Engine;
use votecheck_graph::GraphClient;
use votecheck_store::dynamo::client::sdk_config;
use votecheck_store::{ClientSettings, DynamoStore};
use votecheck_webhook::deadline::LAMBDA_DEADLINE_MARGIN;
use votecheck_webhook::{GraphSender, Handler, Method, WebhookRequest};
use votecheck_webhook_lambda::config::LambdaConfig;
use votecheck_webhook_lambda::metrics::emf_line;
use votecheck_webhook_lambda::secrets::load_secrets;

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
    let handler = match build_handler().await {
        Ok(handler) => Arc::new(handler),
        Err(problem) => {
            error!(problem = %format!("{problem:#}"), "start-up failed");
            return Err(problem.into());
        }
    };
    info!(init_ms = started.elapsed().as_secs_f64() * 1000.0, "ready");
    // The metrics' dimension: set by Lambda; "votecheck" when run by hand.
    let function: Arc<str> = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .unwrap_or_else(|_| "votecheck".to_string())
        .into();
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<LambdaFunctionUrlRequest>| {
            let (handler, function) = (handler.clone(), function.clone());
            let deadline = invocation_deadline(event.context.deadline);
            async move {
                Ok::<_, Error>(invoke(&handler, &function, event.payload, deadline).await)
            }
        },
    ))
    .await
}

async fn build_handler() -> anyhow::Result<Handler> {
    let config =
        LambdaConfig::from_lookup(|name| std::env::var(name).ok()).map_err(|problems| {
            anyhow::anyhow!("invalid configuration:\n  {}", problems.join("\n  "))
        })?;
    // Opening the index and loading the engine's data is CPU work; the AWS SDK's configuration,
    // the secrets and the clients mostly wait. Do both at once to shorten the cold start.
    let (index_dir, model) = (config.index_dir.clone(), config.model.clone());
    let opening = tokio::task::spawn_blocking(move || {
        let (engine, times) = Engine::open_timed(&index_dir, &model)?;
        // The encoder's first run (its weights paged in, its buffers allocated) is made here, in
        // the init phase, rather than on a citizen's first question.
        let started = Instant::now();
        engine.warm_up()?;
        Ok::<_, votecheck_engine::EngineError>((engine, times, started.elapsed()))
    });
    let clients_started = Instant::now();
    // One AWS SDK configuration per cold start (credentials, region, the timeouts and retries of
    // `ClientSettings`), shared by every AWS client of the function.
    let sdk = sdk_config(&ClientSettings::default()).await;
    let secrets = load_secrets(&config.secrets, &sdk).await?;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), config.store.clone());
    let graph = GraphClient::new(config.graph.clone().with_access_token(secrets.access_token))
        .map_err(|problem| anyhow::anyhow!("configuring the Graph API client: {problem}"))?;
    let clients_ms = clients_started.elapsed().as_secs_f64() * 1000.0;
    let (engine, times, first_encode) = opening
        .await
        .map_err(|problem| anyhow::anyhow!("opening the index: {problem}"))?
        .map_err(|problem| {
            anyhow::anyhow!(
                "opening the index in {}: {problem}",
                config.index_dir.display()
            )
        })?;
    info!(
        corpus_version = engine.index().manifest().corpus_version(),
        index_ms = milliseconds(times.index),
        encoder_load_ms = milliseconds(times.encoder),
        engine_data_ms = milliseconds(times.engine_data),
        first_encode_ms = milliseconds(first_encode),
        clients_ms,
        "index opened"
    );
    Ok(Handler::new(
        Arc::new(engine),
        Arc::new(store),
        Arc::new(GraphSender::new(graph)),
        secrets.handler,
        config.store.clone(),
    ))
}

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// When this invocation's work must be over: the deadline Lambda gives it (the function's
/// timeout from the template, as milliseconds since 1970) less [`LAMBDA_DEADLINE_MARGIN`].
fn invocation_deadline(deadline_ms: u64) -> Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64);
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Instant::now() + left.saturating_sub(LAMBDA_DEADLINE_MARGIN)
}

/// One Function URL invocation: request → handler → response, plus the EMF metrics line.
async fn invoke(
    handler: &Handler,
    function: &str,
    event: LambdaFunctionUrlRequest,
    deadline: Instant,
) -> LambdaFunctionUrlResponse {
    let started = Instant::now();
    let method = match event.request_context.http.method.as_deref() {
        Some("GET") => Method::Get,
        Some("POST") => Method::Post,
        _ => Method::Other,
    };
    let request = WebhookRequest {
        method,
        query: event.raw_query_string.unwrap_or_default(),
        signature: event
            .headers
            .get("x-hub-signature-256")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string),
        body: event.body.unwrap_or_default().into_bytes(),
        body_is_base64: event.is_base64_encoded,
    };
    let (response, outcomes) = handler.handle_by(&request, deadline).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64);
    println!(
        "{}",
        emf_line(function, &outcomes, response.status, latency_ms, now_ms)
    );
    info!(
        status = response.status,
        messages = outcomes.len(),
        latency_ms,
        "webhook handled"
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let mut reply = LambdaFunctionUrlResponse::default();
    reply.status_code = i64::from(response.status);
    reply.headers = headers;
    reply.body = Some(response.body);
    reply
}
