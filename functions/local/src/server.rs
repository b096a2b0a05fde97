//! The server: options, shared state, routes, binding and clean shutdown.
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the preview console ([`crate::assets`]) |
//! | `GET /report`, `GET /api/report?since=30d` | the report view and its figures as JSON |
//! | `GET /webhook`, `POST /webhook` | the Lambda's webhook contract, on the same handler |
//! | `GET /healthz` | liveness, with the corpus version |
//! | `GET /metrics` | OpenMetrics text ([`crate::metrics`]) |
//! | `/api/...`, `/passages/{id}` | the console's API ([`crate::console`]) |
//!
//! Every route but `/webhook` answers only requests whose `Host` is a loopback name
//! (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`) or one given with `--allow-host`: a web
//! page that rebinds its own domain to 127.0.0.1 (DNS rebinding) cannot read the outbox or the
//! report. `/webhook` accepts any host (it sits behind a tunnel, and checks the signature).
//! Every response carries `X-Content-Type-Options: nosniff`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tracing::info;
use votecheck_graph::{GraphClient, GraphConfig};
use votecheck_store::{SqliteStore, Store, StoreConfig};
use votecheck_webhook::{GraphSender, HandlerSettings, Method, Secrets, WebhookRequest};

use crate::assets;
use crate::console;
use crate::index_source::{IndexSource, prepare, watch};
use crate::live::{HandlerParts, LiveSlot};
use crate::metrics::{self, Metrics};
use crate::outbox::{LocalSender, Outbox};
use crate::report_page;
use crate::traces::TraceLog;

/// What `votecheck serve` was asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The index, or the corpus to build it from.
    pub source: IndexSource,
    /// The address to listen on.
    pub addr: SocketAddr,
    /// The SQLite file of the local store.
    pub store_path: PathBuf,
    /// Host names the console answers besides the loopback ones (`--allow-host`).
    pub allowed_hosts: Vec<String>,
    /// The alert files the console can send (`--alerts`).
    pub alerts_dir: Option<PathBuf>,
}

/// Everything the routes share.
pub struct AppState {
    /// The engine and handler being served.
    pub live: LiveSlot,
    /// The local store.
    pub store: Arc<dyn Store>,
    /// Replies captured for the console.
    pub outbox: Arc<Outbox>,
    /// The console's recent answers with their reasoning.
    pub traces: Arc<TraceLog>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Signs the console's simulated webhooks.
    pub app_secret: Vec<u8>,
    /// Salt of the hashed citizen ids.
    pub id_salt: Vec<u8>,
    /// Replies to real WhatsApp users are captured, not sent.
    pub dry_run: bool,
    /// Numbers console message ids.
    pub console_messages: AtomicU64,
    /// Host names the console answers besides the loopback ones.
    pub allowed_hosts: Vec<String>,
    /// Alerts sent from the console.
    pub alerts: crate::alerts::LocalAlerts,
}

/// The local configuration read from the environment: the Lambda's variable names, with local
/// defaults where the Lambda would refuse to start.
#[derive(Debug)]
struct LocalEnvironment {
    secrets: Secrets,
    /// Whether the app secret was generated for this run.
    generated_app_secret: bool,
    /// Whether the verify token was generated for this run.
    generated_verify_token: bool,
    graph: Option<GraphConfig>,
    store_config: StoreConfig,
    /// How long one webhook may take (`VOTECHECK_WEBHOOK_BUDGET_SECONDS`).
    time_budget: std::time::Duration,
}

/// 128 random bits from the operating system, as hex.
fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|problem| anyhow::anyhow!("no randomness: {problem}"))?;
    Ok(hex::encode(bytes))
}

fn local_environment(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<LocalEnvironment> {
    let refused = |problems: Vec<String>| anyhow::anyhow!("{}", problems.join("; "));
    let app_secret = get("WHATSAPP_APP_SECRET");
    let verify_token = get("WHATSAPP_VERIFY_TOKEN");
    // The Lambda's variables, read by the same code as the Lambda's: only the table is optional
    // here (the local store is one SQLite file).
    let store_config = StoreConfig::from_lookup(&get, Some("local")).map_err(refused)?;
    let time_budget = HandlerSettings::from_lookup(&get)
        .map_err(refused)?
        .time_budget;
    let graph = match (
        get("WHATSAPP_ACCESS_TOKEN"),
        get("WHATSAPP_PHONE_NUMBER_ID"),
    ) {
        (Some(_), Some(_)) => Some(GraphConfig::from_lookup(&get).map_err(refused)?),
        (Some(_), None) => anyhow::bail!(
            "WHATSAPP_ACCESS_TOKEN is set but WHATSAPP_PHONE_NUMBER_ID is not: set both to send real replies, or neither for a dry run"
        ),
        _ => None,
    };
    Ok(LocalEnvironment {
        generated_app_secret: app_secret.is_none(),
        generated_verify_token: verify_token.is_none(),
        secrets: Secrets {
            app_secret: match app_secret {
                Some(secret) => secret,
                None => random_token()?,
            }
            .into_bytes(),
            verify_token: match verify_token {
                Some(token) => token,
                None => random_token()?,
            },
            id_salt: get("VOTECHECK_ID_SALT")
                .unwrap_or_else(|| "votecheck-local-preview".to_string())
                .into_bytes(),
        },
        graph,
        store_config,
        time_budget,
    })
}

/// All routes over a state.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(assets::console_page))
        .route("/assets/console.css", get(assets::console_css))
        .route("/assets/console.js", get(assets::console_js))
        .route("/report", get(report_page))
        .route("/api/report", get(report_json))
        .route("/api/info", get(console::get_info))
        .route("/api/messages", post(console::post_message))
        .route("/api/language", post(console::post_language))
        .route("/api/outbox", get(console::get_outbox))
        .route(
            "/api/alerts",
            get(crate::alerts::list_alerts).post(crate::alerts::send_alert),
        )
        .route("/passages/{id}", get(console::get_passage))
        .route("/webhook", get(webhook).post(webhook))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        // The handler answers 413 itself above 1 MiB; let such bodies reach it.
        .layer(DefaultBodyLimit::max(4 * 1024 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            check_host,
        ))
        .layer(axum::middleware::map_response(no_sniffing))
        .with_state(state)
}

/// Refuses a request for anything but `/webhook` whose `Host` is not ours (DNS rebinding).
async fn check_host(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if request.uri().path() == "/webhook" {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if is_allowed_host(host, &state.allowed_hosts) {
        return next.run(request).await;
    }
    (
        StatusCode::MISDIRECTED_REQUEST,
        format!(
            "this server answers only for localhost: open it at http://127.0.0.1:<port>/, or start it with --allow-host {}\n",
            host_name(host).escape_debug()
        ),
    )
        .into_response()
}

/// `X-Content-Type-Options: nosniff` on every response.
async fn no_sniffing(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    response
}

/// The name in a `Host` value, without the port (`[::1]:8080` gives `[::1]`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// Whether a `Host` value names this machine's loopback or one of `allowed`.
fn is_allowed_host(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host.trim())
        .trim_end_matches('.')
        .to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name == "[::1]"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|address| address.is_loopback())
        || (!name.is_empty() && allowed.contains(&name))
}

/// `GET|POST /webhook`: the same contract as the Lambda's Function URL.
async fn webhook(
    State(state): State<Arc<AppState>>,
    method: axum::http::Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let request = WebhookRequest {
        method: match method {
            axum::http::Method::GET => Method::Get,
            axum::http::Method::POST => Method::Post,
            _ => Method::Other,
        },
        query: query.unwrap_or_default(),
        signature: headers
            .get("x-hub-signature-256")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string),
        body: body.to_vec(),
        body_is_base64: false,
    };
    let live = state.live.get();
    let (response, outcomes) = live.handler.handle_with_outcomes(&request).await;
    state.metrics.record(
        "webhook",
        response.status,
        started.elapsed().as_secs_f64(),
        &outcomes,
    );
    (
        StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        response.body,
    )
        .into_response()
}

async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let live = state.live.get();
    axum::Json(serde_json::json!({
        "status": "ok",
        "corpus_version": live.engine.index().manifest().corpus_version(),
    }))
    .into_response()
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

/// The `since` parameter of the report (`30d`, `12h`...).
#[derive(Debug, Deserialize)]
struct Since {
    since: Option<String>,
}

async fn load_report(
    state: &AppState,
    since: &str,
) -> Result<
    (
        votecheck_store::report::Report,
        Vec<votecheck_store::QueryRecord>,
    ),
    Response,
> {
    let since_seconds = votecheck_store::report::parse_since(since)
        .map_err(|problem| (StatusCode::BAD_REQUEST, problem.to_string()).into_response())?;
    let now = votecheck_webhook::handler::system_clock();
    let from = now - since_seconds;
    let unavailable = |problem: votecheck_store::StoreError| {
        (StatusCode::SERVICE_UNAVAILABLE, problem.to_string()).into_response()
    };
    let queries = state
        .store
        .queries_between(from, now + 1, now)
        .await
        .map_err(unavailable)?;
    let feedback = state
        .store
        .feedback_between(from, now + 1, now)
        .await
        .map_err(unavailable)?;
    let alerts = state
        .store
        .alert_funnels_between(from, now + 1)
        .await
        .map_err(unavailable)?;
    let report = votecheck_store::report::build_report(&queries, &feedback, now, since_seconds)
        .with_alerts(alerts);
    Ok((report, queries))
}

async fn report_page(State(state): State<Arc<AppState>>, Query(since): Query<Since>) -> Response {
    let since = since.since.unwrap_or_else(|| "30d".to_string());
    match load_report(&state, &since).await {
        Ok((report, queries)) => {
            Html(report_page::render(&report, &queries, &since)).into_response()
        }
        Err(response) => response,
    }
}

async fn report_json(State(state): State<Arc<AppState>>, Query(since): Query<Since>) -> Response {
    let since = since.since.unwrap_or_else(|| "30d".to_string());
    match load_report(&state, &since).await {
        Ok((report, _)) => axum::Json(report).into_response(),
        Err(response) => response,
    }
}

/// Waits for Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}

/// Runs `votecheck serve` until Ctrl-C or SIGTERM.
pub async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    let environment = local_environment(|name| std::env::var(name).ok())?;
    let index_dir = {
        let source = options.source.clone();
        tokio::task::spawn_blocking(move || prepare(&source))
            .await
            .context("building the index")??
    };
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(&options.store_path, environment.store_config.clone())
            .with_context(|| format!("opening the local store {}", options.store_path.display()))?,
    );
    let outbox = Arc::new(Outbox::default());
    let graph = match environment.graph {
        Some(config) => Some(GraphSender::new(
            GraphClient::new(config).context("configuring the Graph API client")?,
        )),
        None => None,
    };
    let sender = LocalSender::new(outbox.clone(), graph);
    let dry_run = sender.is_dry_run();
    let traces = Arc::new(TraceLog::default());
    let parts = HandlerParts {
        store: store.clone(),
        sender: Arc::new(sender),
        secrets: environment.secrets.clone(),
        store_config: environment.store_config.clone(),
        observer: traces.clone(),
        time_budget: environment.time_budget,
    };
    let live = parts.open(&index_dir)?;
    let corpus_version = live.engine.index().manifest().corpus_version().to_string();
    let alerts = crate::alerts::LocalAlerts::new(
        options.alerts_dir.clone(),
        store.clone(),
        outbox.clone(),
        &environment.secrets.id_salt,
    );
    let state = Arc::new(AppState {
        live: LiveSlot::new(live),
        store,
        outbox,
        alerts,
        traces,
        metrics: Metrics::default(),
        app_secret: environment.secrets.app_secret.clone(),
        id_salt: environment.secrets.id_salt.clone(),
        dry_run,
        console_messages: AtomicU64::new(1),
        allowed_hosts: options
            .allowed_hosts
            .iter()
            .map(|host| host.to_ascii_lowercase())
            .collect(),
    });

    let _watcher = match &options.source {
        IndexSource::Corpus {
            corpus,
            out,
            watch: true,
        } => {
            let (state, parts, out_dir) = (state.clone(), parts.clone(), out.clone());
            let runtime = tokio::runtime::Handle::current();
            Some(watch(corpus, out, move |manifest| {
                match parts.open(&out_dir) {
                    Ok(live) => {
                        let engine = live.engine.clone();
                        state.live.replace(live);
                        eprintln!("now serving corpus version {}", manifest.corpus_version());
                        // New fact-checks may answer citizens who asked to be told.
                        let state = state.clone();
                        runtime.spawn(async move {
                            let now = votecheck_webhook::handler::system_clock();
                            match state
                                .alerts
                                .send_follow_ups(&engine, state.store.as_ref(), now)
                                .await
                            {
                                Ok(report) if !report.matches.is_empty() => {
                                    eprintln!("late verdicts (dry run): {report}");
                                }
                                Ok(_) => {}
                                Err(problem) => eprintln!("late verdicts: {problem}"),
                            }
                        });
                    }
                    Err(problem) => eprintln!("{problem:#}"),
                }
            })?)
        }
        _ => None,
    };

    let listener = match tokio::net::TcpListener::bind(options.addr).await {
        Ok(listener) => listener,
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => anyhow::bail!(
            "{} is already in use (another `votecheck serve`?): stop it, or choose another address with --addr 127.0.0.1:8081",
            options.addr
        ),
        Err(error) => {
            return Err(error).with_context(|| format!("listening on {}", options.addr));
        }
    };
    let address = listener.local_addr().context("reading the bound address")?;
    info!(%address, corpus_version, "serving");
    println!(
        "votecheck serve: corpus version {corpus_version}, store {}",
        options.store_path.display()
    );
    if dry_run {
        println!(
            "replies are a dry run (no WHATSAPP_ACCESS_TOKEN): they are shown in the console, not sent"
        );
    }
    if environment.generated_app_secret {
        println!(
            "WHATSAPP_APP_SECRET is not set: /webhook checks signatures against a random secret made for this run"
        );
    }
    if environment.generated_verify_token {
        println!(
            "WHATSAPP_VERIFY_TOKEN is not set: the verify token for this run is {}",
            environment.secrets.verify_token
        );
    }
    println!("listening on http://{address}/ (console; report at /report, webhook at /webhook)");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving")?;
    println!("votecheck serve: stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_and_allowed_host_names_are_ours() {
        let allowed = vec!["console.example.test".to_string()];
        for host in [
            "localhost",
            "localhost:8080",
            "LOCALHOST.",
            "votecheck.localhost:3000",
            "127.0.0.1:8080",
            "127.1.2.3",
            "[::1]:8080",
            "console.example.test:8443",
        ] {
            assert!(is_allowed_host(host, &allowed), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "10.0.0.5:8080",
            "0.0.0.0:8080",
            "[::2]:8080",
            ":8080",
        ] {
            assert!(!is_allowed_host(host, &allowed), "{host}");
        }
    }

    fn environment(pairs: &[(&str, &str)]) -> anyhow::Result<LocalEnvironment> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        local_environment(|name| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn without_secrets_the_server_makes_its_own_and_stays_a_dry_run() {
        let local = environment(&[]).unwrap();
        assert!(local.generated_app_secret && local.generated_verify_token);
        assert_eq!(local.secrets.app_secret.len(), 32);
        assert!(local.graph.is_none());
        let other = environment(&[]).unwrap();
        assert_ne!(local.secrets.app_secret, other.secrets.app_secret);
    }

    #[test]
    fn the_lambdas_variables_are_read_and_checked() {
        let local = environment(&[
            ("WHATSAPP_APP_SECRET", "s3cret"),
            ("WHATSAPP_VERIFY_TOKEN", "tok"),
            ("VOTECHECK_RATE_LIMIT", "5/60"),
            ("WHATSAPP_ACCESS_TOKEN", "EAAG"),
            ("WHATSAPP_PHONE_NUMBER_ID", "123"),
        ])
        .unwrap();
        assert_eq!(local.secrets.app_secret, b"s3cret");
        assert!(!local.generated_app_secret);
        assert_eq!(local.store_config.rate_limit.max_messages, 5);
        assert!(local.graph.is_some());
        assert_eq!(
            local.time_budget,
            votecheck_webhook::deadline::DEFAULT_TIME_BUDGET
        );
        let local = environment(&[("VOTECHECK_WEBHOOK_BUDGET_SECONDS", "10")]).unwrap();
        assert_eq!(local.time_budget, std::time::Duration::from_secs(10));
        for bad in ["0", "ten", "100000"] {
            let problem = environment(&[("VOTECHECK_WEBHOOK_BUDGET_SECONDS", bad)]).unwrap_err();
            assert!(
                problem
                    .to_string()
                    .contains("VOTECHECK_WEBHOOK_BUDGET_SECONDS")
            );
        }
        for bad in ["lots", "0/600", "20/0"] {
            let problem = environment(&[("VOTECHECK_RATE_LIMIT", bad)]).unwrap_err();
            assert!(
                problem.to_string().contains("VOTECHECK_RATE_LIMIT"),
                "{bad}"
            );
        }
        let problem = environment(&[("VOTECHECK_RETENTION_DAYS", "0")]).unwrap_err();
        assert!(
            format!("{problem:#}").contains("VOTECHECK_RETENTION_DAYS"),
            "{problem:#}"
        );
        let problem = environment(&[("WHATSAPP_ACCESS_TOKEN", "EAAG")]).unwrap_err();
        assert!(problem.to_string().contains("WHATSAPP_PHONE_NUMBER_ID"));
    }
}
