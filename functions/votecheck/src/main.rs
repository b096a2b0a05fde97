//! `votecheck`: the local command line.
//!
//! ```text
//! votecheck ask --index <DIR> [--json] [--language xx] [--forwarded] "<question>"
//! votecheck eval --index <DIR> --cases <FILE.jsonl> [--k 3] [--json] [--calibrate]
//! votecheck calibrate <REPORT.json>...
//! votecheck store init --table <NAME>
//! votecheck report [--store <PATH | dynamodb://TABLE>] [--since 7d] [--json]
//! votecheck serve [--index <DIR> | --corpus <DIR> [--watch]] [--addr 127.0.0.1:8080] [--store <PATH>] [--allow-host NAME] [--alerts <DIR>]
//! votecheck alerts plan <ALERT.toml> [--store <PATH | dynamodb://TABLE>]
//! votecheck alerts send <ALERT.toml> [--store <PATH | dynamodb://TABLE>] [--queue <URL>] [--print-job]
//! votecheck alerts follow-ups --index <NEW INDEX> [--store <PATH | dynamodb://TABLE>] [--dry-run]
//! ```
//!
//! `ask` prints the exact WhatsApp reply (or, with `--json`, the decision as one JSON object);
//! `eval` runs a file of labelled cases and prints hit@k, outcome accuracy and latency; with
//! `--calibrate` it also prints the abstention thresholds that fit the cases best. `serve` runs the
//! preview console, report view and webhook locally on the Lambda's handler
//! (`votecheck_local`). `alerts plan` checks an alert file and prints who would receive it, in
//! which language, what they would read and the estimated cost; `alerts send` enqueues it for
//! the sender function, once however often it runs (`votecheck_alerts`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde_json::json;

use votecheck_engine::eval::{
    Calibration, EvalReport, ReportTraces, SemanticCalibration, calibrate, calibrate_semantic,
    calibrate_traces, parse_cases, report_traces, run, semantic_traces,
};
use votecheck_engine::{ConversationContext, Engine};

#[derive(Parser)]
#[command(
    name = "votecheck",
    version,
    about = "votecheck: election information and fact-checks on WhatsApp"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ask the answer engine one question.
    Ask {
        /// The index directory (built by `index-builder build`).
        #[arg(long)]
        index: PathBuf,
        /// Print the decision as one JSON object.
        #[arg(long)]
        json: bool,
        /// The citizen's chosen language (BCP 47); detected when omitted.
        #[arg(long)]
        language: Option<String>,
        /// Treat the message as forwarded (rumours are matched first).
        #[arg(long)]
        forwarded: bool,
        /// The question, as a citizen would type it.
        question: String,
    },
    /// Run a file of labelled cases and report retrieval and outcome quality.
    Eval {
        #[arg(long)]
        index: PathBuf,
        /// JSON Lines file of cases (repeat to run several files as one set).
        #[arg(long, required = true)]
        cases: Vec<PathBuf>,
        /// Rank cut-off for hit@k.
        #[arg(long, default_value_t = 3)]
        k: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Also choose the abstention thresholds that fit these cases best: the top-level ones on
        /// an index without passage vectors, the `[semantic]` ones on an index with them.
        #[arg(long)]
        calibrate: bool,
    },
    /// Manage the conversation store.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// What citizens asked and what went unanswered, from the conversation store.
    Report {
        /// A local SQLite store file, or `dynamodb://<TABLE>` (endpoint and credentials from
        /// the AWS SDK's usual environment: AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION...).
        #[arg(long, default_value = DEFAULT_LOCAL_STORE)]
        store: String,
        /// The period to report: 30m, 24h, 7d, 2w...
        #[arg(long, default_value = "7d")]
        since: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Alerts to subscribed citizens.
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
    /// Run the bot locally: the preview console at `/`, the report at `/report`, the webhook at
    /// `/webhook` (same handler as the Lambda), `/healthz` and `/metrics`, with the local store.
    Serve(ServeArgs),
    /// Choose the abstention thresholds from one or more `eval --json` reports (pooled), for
    /// example one per corpus, and print them as `data/calibration.toml` lines.
    Calibrate {
        /// Reports written by `votecheck eval --json`.
        #[arg(required = true)]
        reports: Vec<PathBuf>,
    },
}

/// The options of `votecheck serve`.
#[derive(clap::Args)]
struct ServeArgs {
    /// A built index to serve.
    #[arg(long, conflicts_with = "corpus")]
    index: Option<PathBuf>,
    /// A corpus to build (when its index is missing or out of date) and serve; the sample
    /// corpus when neither --index nor --corpus is given.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Where the index of --corpus is built.
    #[arg(long, default_value = ".votecheck/index")]
    out: PathBuf,
    /// Rebuild the index whenever the corpus changes.
    #[arg(long, requires = "corpus")]
    watch: bool,
    /// The address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// The local SQLite store file.
    #[arg(long, default_value = DEFAULT_LOCAL_STORE)]
    store: PathBuf,
    /// A host name the console answers besides localhost and 127.0.0.1 (repeatable), for
    /// example the machine's name on a trusted network. `/webhook` answers any host.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// The alert files the console can send (dry run, in-process queue); the sample alerts
    /// when present.
    #[arg(long, value_name = "DIR")]
    alerts: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AlertsCommand {
    /// Check an alert file and print what sending it would do: the recipients per language
    /// (subscribers of its topic), the message each would read, and the estimated cost at the
    /// prices the file gives. Sends nothing.
    Plan {
        /// The alert file (TOML; see docs/alerts.md).
        file: PathBuf,
        /// A local SQLite store file, or `dynamodb://<TABLE>`.
        #[arg(long, default_value = DEFAULT_LOCAL_STORE)]
        store: String,
    },
    /// Check an alert file and enqueue it for the sender function: one job per 100 subscribers
    /// on the alert queue. Idempotent: sending the same alert again sends nothing new, and an
    /// interrupted send resumes where it stopped.
    Send {
        /// The alert file (TOML; see docs/alerts.md).
        file: PathBuf,
        /// A local SQLite store file, or `dynamodb://<TABLE>`.
        #[arg(long, default_value = DEFAULT_LOCAL_STORE)]
        store: String,
        /// The alert queue's URL (the deployment's `AlertQueueUrl` output); default
        /// `VOTECHECK_ALERT_QUEUE_URL`.
        #[arg(
            long,
            env = "VOTECHECK_ALERT_QUEUE_URL",
            required_unless_present = "print_job"
        )]
        queue: Option<String>,
        /// Print the job that enqueues the alert when a schedule puts it on the queue (the
        /// templates' `AlertScheduleJob`), and send nothing.
        #[arg(long)]
        print_job: bool,
    },
    /// After a corpus update: match the citizens' pending "tell me if checked" requests against
    /// the new index's fact-checks and send each verdict once (free-form inside the citizen's
    /// 24-hour window, the `fact_check_update` template outside it). Sending needs
    /// `WHATSAPP_ACCESS_TOKEN`, `WHATSAPP_PHONE_NUMBER_ID` and `VOTECHECK_ID_SALT`.
    FollowUps {
        /// The new index (as deployed).
        #[arg(long)]
        index: PathBuf,
        /// A local SQLite store file, or `dynamodb://<TABLE>`.
        #[arg(long, default_value = DEFAULT_LOCAL_STORE)]
        store: String,
        /// List the matches; change and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Create the DynamoDB table and turn on its TTL (idempotent), against whatever endpoint the
    /// AWS SDK is configured for (AWS, moto_server, DynamoDB Local).
    Init {
        #[arg(long)]
        table: String,
    },
}

/// The local store file used when no `--store` is given (and by `votecheck serve`).
const DEFAULT_LOCAL_STORE: &str = "votecheck-local.sqlite3";

/// `println!` for the commands' output: when stdout is a pipe that was closed (`votecheck eval |
/// head`), the output ends quietly with success instead of a panic.
macro_rules! out {
    () => {
        write_line(format_args!(""))
    };
    ($($argument:tt)*) => {
        write_line(format_args!($($argument)*))
    };
}

fn write_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    if let Err(error) = writeln!(std::io::stdout().lock(), "{line}") {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {error}");
        std::process::exit(1);
    }
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Ask {
            index,
            json,
            language,
            forwarded,
            question,
        } => report(ask(&index, json, language, forwarded, &question)),
        Command::Eval {
            index,
            cases,
            k,
            json,
            calibrate,
        } => eval(&index, &cases, k, json, calibrate),
        Command::Calibrate { reports } => report(calibrate_reports(&reports)),
        Command::Store {
            command: StoreCommand::Init { table },
        } => report(runtime().and_then(|runtime| runtime.block_on(store_init(&table)))),
        Command::Serve(arguments) => report(serve(arguments)),
        Command::Report { store, since, json } => report(
            runtime().and_then(|runtime| runtime.block_on(store_report(&store, &since, json))),
        ),
        Command::Alerts {
            command: AlertsCommand::Plan { file, store },
        } => report(runtime().and_then(|runtime| runtime.block_on(alerts_plan(&file, &store)))),
        Command::Alerts {
            command:
                AlertsCommand::Send {
                    file,
                    store,
                    queue,
                    print_job,
                },
        } => report(runtime().and_then(|runtime| {
            runtime.block_on(alerts_send(&file, &store, queue.as_deref(), print_job))
        })),
        Command::Alerts {
            command:
                AlertsCommand::FollowUps {
                    index,
                    store,
                    dry_run,
                },
        } => report(
            runtime().and_then(|runtime| runtime.block_on(follow_ups(&index, &store, dry_run))),
        ),
    }
}

/// `votecheck alerts follow-ups`.
async fn follow_ups(index: &Path, store: &str, dry_run: bool) -> anyhow::Result<()> {
    use votecheck_follow_ups::{Mode, run_follow_ups};
    let engine = votecheck_engine::Engine::open(index)
        .with_context(|| format!("opening the new index {}", index.display()))?;
    let environment = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    };
    let (channel, salt, mode): (
        Box<dyn votecheck_alerts::sender::AlertChannel>,
        Vec<u8>,
        Mode,
    ) = if dry_run {
        (
            Box::new(votecheck_alerts::recording::RecordingChannel::counting()),
            Vec::new(),
            Mode::DryRun,
        )
    } else {
        let salt = environment("VOTECHECK_ID_SALT").context(
                "VOTECHECK_ID_SALT is not set: sending needs the deployment's id salt (it opens the citizens' sealed addresses); or pass --dry-run",
            )?;
        anyhow::ensure!(
            environment("WHATSAPP_ACCESS_TOKEN").is_some(),
            "WHATSAPP_ACCESS_TOKEN is not set: sending needs the Graph API; or pass --dry-run"
        );
        let config = votecheck_graph::GraphConfig::from_lookup(environment)
            .map_err(|problems| anyhow::anyhow!("{}", problems.join("; ")))?;
        let client = votecheck_graph::GraphClient::new(config)
            .context("configuring the Graph API client")?;
        (Box::new(client), salt.into_bytes(), Mode::Send)
    };
    let store = open_store(store).await?;
    let now = unix_now();
    let report = run_follow_ups(&engine, store.as_ref(), channel.as_ref(), &salt, mode, now)
        .await
        .with_context(|| format!("reading follow-ups from {}", store.describe()))?;
    out!("{report}");
    if dry_run {
        out!("dry run: nothing was sent or changed");
    }
    Ok(())
}

/// Reads and checks an alert file against the engine's languages.
fn read_alert(file: &Path) -> anyhow::Result<(String, String, votecheck_alerts::Alert)> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading the alert file {}", file.display()))?;
    let languages = votecheck_engine::catalogue::Catalogue::load()
        .context("loading the engine's languages")?
        .languages();
    let name = file.display().to_string();
    let alert = votecheck_alerts::Alert::parse(&name, &text, &languages)?;
    Ok((name, text, alert))
}

/// `votecheck alerts send`: checks the file (and its templates, when the Cloud API is
/// configured), then enqueues its audience; with `--print-job`, prints the schedule's job.
async fn alerts_send(
    file: &Path,
    store: &str,
    queue: Option<&str>,
    print_job: bool,
) -> anyhow::Result<()> {
    use votecheck_alerts::job::{ExpandJob, Job};
    let (name, text, mut alert) = read_alert(file)?;
    let templates = check_templates(&mut alert, &name).await?;
    if print_job {
        let file_name = file.file_name().map_or(name.clone(), |file_name| {
            file_name.to_string_lossy().into_owned()
        });
        out!(
            "{}",
            Job::Expand(ExpandJob {
                file: file_name,
                alert: text,
            })
            .to_json()
        );
        return Ok(());
    }
    let now = unix_now();
    if let Some(send_at) = alert.send_at
        && send_at.as_second() > now
    {
        anyhow::bail!(
            "{name}: send_at is {send_at}, in the future: run this command then, or schedule it (put the output of `votecheck alerts send {name} --print-job` in the deployment's AlertScheduleJob; docs/alerts.md)"
        );
    }
    let url = queue.context("no queue: give --queue <URL> (the deployment's AlertQueueUrl output) or set VOTECHECK_ALERT_QUEUE_URL")?;
    let store = open_store(store).await?;
    let sdk =
        votecheck_store::dynamo::client::sdk_config(&votecheck_store::ClientSettings::default())
            .await;
    let queue = votecheck_alerts::queue::SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), url);
    let summary = votecheck_alerts::enqueue::enqueue_alert(&alert, store.as_ref(), &queue, now)
        .await
        .with_context(|| {
            format!(
                "enqueueing {name} from {} (what was enqueued stays; run the same command again to resume)",
                store.describe()
            )
        })?;
    out!("{summary}");
    out!("{templates}");
    Ok(())
}

/// `votecheck alerts plan`: the file is checked before the store is opened, so a broken file
/// says so even without a store.
async fn alerts_plan(file: &Path, store: &str) -> anyhow::Result<()> {
    let (name, _, mut alert) = read_alert(file)?;
    let templates = check_templates(&mut alert, &name).await?;
    let store = open_store(store).await?;
    let now = unix_now();
    let plan = votecheck_alerts::plan::plan(&alert, store.as_ref(), now)
        .await
        .with_context(|| format!("reading the audience from {}", store.describe()))?;
    out!("{}", plan.to_string().trim_end());
    out!("{templates}");
    Ok(())
}

/// Checks the alert's templates against the business account's through the Cloud API when a
/// token and the account id are configured (the same variables as the webhook function, plus
/// `WHATSAPP_BUSINESS_ACCOUNT_ID`); says what was or was not checked.
async fn check_templates(
    alert: &mut votecheck_alerts::Alert,
    file: &str,
) -> anyhow::Result<String> {
    let environment = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    };
    if environment("WHATSAPP_ACCESS_TOKEN").is_none() {
        return Ok(
            "templates: not checked against the Cloud API (WHATSAPP_ACCESS_TOKEN is not set)"
                .into(),
        );
    }
    let config = votecheck_graph::GraphConfig::from_lookup(environment)
        .map_err(|problems| anyhow::anyhow!("{}", problems.join("; ")))?;
    let Some(account) = config.business_account_id.clone() else {
        return Ok(
            "templates: not checked against the Cloud API (WHATSAPP_BUSINESS_ACCOUNT_ID is not set)"
                .into(),
        );
    };
    let client =
        votecheck_graph::GraphClient::new(config).context("configuring the Graph API client")?;
    let names: std::collections::BTreeSet<String> = alert
        .templates
        .values()
        .map(|template| template.template.name.clone())
        .collect();
    let mut listed = Vec::new();
    for name in names {
        listed.extend(
            client.message_templates(&name).await.with_context(|| {
                format!("listing the business account's templates named {name}")
            })?,
        );
    }
    votecheck_alerts::templates::check_templates(alert, &listed, file)?;
    Ok(format!(
        "templates: approved in every language, with these parameters (business account {account})"
    ))
}

/// The corpus `votecheck serve` uses when given neither an index nor a corpus.
const SAMPLE_CORPUS: &str = "samples/corpus";

/// The alert files `votecheck serve` offers when not given `--alerts`.
const SAMPLE_ALERTS: &str = "samples/alerts";

fn serve(
    ServeArgs {
        index,
        corpus,
        out,
        watch,
        addr,
        store,
        allow_hosts: allowed_hosts,
        alerts,
    }: ServeArgs,
) -> anyhow::Result<()> {
    use votecheck_local::index_source::IndexSource;
    let alerts_dir = alerts.or_else(|| {
        Path::new(SAMPLE_ALERTS)
            .is_dir()
            .then(|| PathBuf::from(SAMPLE_ALERTS))
    });
    let source = match (index, corpus) {
        (Some(index), _) => IndexSource::Index(index),
        (None, Some(corpus)) => IndexSource::Corpus { corpus, out, watch },
        (None, None) if Path::new(SAMPLE_CORPUS).is_dir() => IndexSource::Corpus {
            corpus: PathBuf::from(SAMPLE_CORPUS),
            out,
            watch,
        },
        (None, None) => anyhow::bail!(
            "nothing to serve: pass --index <DIR> (a built index) or --corpus <DIR> (documents to build one from)"
        ),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(votecheck_local::serve(votecheck_local::ServeOptions {
        source,
        addr,
        store_path: store,
        allowed_hosts,
        alerts_dir,
    }))
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn open_engine(index: &Path) -> anyhow::Result<Engine> {
    Engine::open(index).with_context(|| format!("opening the index {}", index.display()))
}

fn ask(
    index: &Path,
    as_json: bool,
    language: Option<String>,
    forwarded: bool,
    question: &str,
) -> anyhow::Result<()> {
    let engine = open_engine(index)?;
    let context = ConversationContext {
        preferred_language: language,
        previous_language: None,
        forwarded,
    };
    let answer = engine.answer(question, &context);
    if as_json {
        let citations: Vec<serde_json::Value> = answer
            .citations
            .iter()
            .map(|citation| {
                json!({
                    "source": citation.source,
                    "section": citation.section,
                    "title": citation.title,
                    "url": citation.url,
                    "snippet": citation.snippet,
                    "score": citation.score,
                    "confidence": citation.confidence,
                    "language": citation.language,
                    "as_of": citation.as_of,
                })
            })
            .collect();
        let output = json!({
            "outcome": answer.outcome.as_str(),
            "language": answer.language,
            "intent": answer.intent.as_str(),
            "citations": citations,
            "fact_check": answer.fact_check,
            "fallback_language": answer.fallback_language,
            "jurisdiction": answer.jurisdiction,
            "reply": answer.reply.text,
            "interactive": answer.reply.interactive,
            "timings": answer.timings,
            "corpus_version": engine.index().manifest().corpus_version(),
        });
        out!("{}", serde_json::to_string_pretty(&output)?);
    } else {
        out!("{}", answer.reply.text);
    }
    Ok(())
}

fn eval(
    index: &Path,
    case_paths: &[PathBuf],
    k: usize,
    as_json: bool,
    calibrate_thresholds: bool,
) -> ExitCode {
    let mut cases = Vec::new();
    for cases_path in case_paths {
        let text = match std::fs::read_to_string(cases_path) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("error: cannot read {}: {error}", cases_path.display());
                return ExitCode::from(2);
            }
        };
        match parse_cases(&text) {
            Ok(parsed) => cases.extend(parsed),
            Err(error) => {
                eprintln!("error: {}: {error}", cases_path.display());
                return ExitCode::from(2);
            }
        }
    }
    let engine = match open_engine(index) {
        Ok(engine) => engine,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let report = run(&engine, &cases, k.max(1));
    // The thresholds of the kind this index is searched with: the top-level (lexical) ones
    // without passage vectors, the [semantic] ones with them.
    let calibration = (calibrate_thresholds && !report.passage_vectors).then(|| calibrate(&report));
    let semantic_calibration = (calibrate_thresholds && report.passage_vectors).then(|| {
        calibrate_semantic(
            &semantic_traces(&report),
            engine.thresholds().answer_confidence,
        )
    });
    if as_json {
        let mut value = serde_json::to_value(&report).expect("a report serialises");
        if let Some(calibration) = &calibration {
            value["calibration"] =
                serde_json::to_value(calibration).expect("a calibration serialises");
        }
        if let Some(calibration) = &semantic_calibration {
            value["semantic_calibration"] =
                serde_json::to_value(calibration).expect("a calibration serialises");
        }
        out!("{value}");
    } else {
        print_table(&report);
        if let Some(semantic) = semantic_calibration {
            out!();
            print_semantic_thresholds(&semantic);
        }
        if let Some(calibration) = calibration {
            out!();
            out!(
                "calibrated thresholds: answer_confidence = {:.2} ({}/{} answer/no-answer decisions right), fact_check_similarity = {:.2} and fact_check_margin = {:.2} ({}/{} fact-check decisions right)",
                calibration.thresholds.answer_confidence,
                calibration.answer_correct,
                calibration.answer_cases,
                calibration.thresholds.fact_check_similarity,
                calibration.thresholds.fact_check_margin,
                calibration.fact_check_correct,
                calibration.fact_check_cases,
            );
        }
    }
    ExitCode::SUCCESS
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn store_init(table: &str) -> anyhow::Result<()> {
    let client = votecheck_store::dynamo_client(&votecheck_store::ClientSettings::default()).await;
    let outcome = votecheck_store::admin::init_table(&client, table)
        .await
        .with_context(|| format!("initialising the DynamoDB table {table}"))?;
    out!("{outcome}");
    Ok(())
}

/// Opens the store a `--store` value names.
async fn open_store(store: &str) -> anyhow::Result<Box<dyn votecheck_store::Store>> {
    let config = votecheck_store::StoreConfig::default();
    if let Some(table) = store.strip_prefix("dynamodb://") {
        anyhow::ensure!(
            !table.is_empty(),
            "`dynamodb://` needs a table name, e.g. dynamodb://votecheck"
        );
        let client =
            votecheck_store::dynamo_client(&votecheck_store::ClientSettings::default()).await;
        let config = votecheck_store::StoreConfig {
            table_name: table.to_string(),
            ..config
        };
        return Ok(Box::new(votecheck_store::DynamoStore::new(client, config)));
    }
    anyhow::ensure!(
        std::path::Path::new(store).is_file(),
        "there is no local store at {store} (it is created by `votecheck serve`; give --store <FILE> or dynamodb://<TABLE>)"
    );
    Ok(Box::new(
        votecheck_store::SqliteStore::open(store, config)
            .with_context(|| format!("opening the local store {store}"))?,
    ))
}

async fn store_report(store: &str, since: &str, as_json: bool) -> anyhow::Result<()> {
    let since_seconds = votecheck_store::report::parse_since(since)?;
    let store = open_store(store).await?;
    let now = unix_now();
    let from = now - since_seconds;
    let queries = store
        .queries_between(from, now + 1, now)
        .await
        .context("reading the query log")?;
    let feedback = store
        .feedback_between(from, now + 1, now)
        .await
        .context("reading feedback")?;
    let alerts = store
        .alert_funnels_between(from, now + 1)
        .await
        .context("reading the alerts' delivery funnels")?;
    let report = votecheck_store::report::build_report(&queries, &feedback, now, since_seconds)
        .with_alerts(alerts);
    if as_json {
        out!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(())
}

/// Seconds since 1970 now (one clock for every command).
fn unix_now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Chooses the abstention thresholds from eval reports and prints them as
/// `data/calibration.toml` takes them: the top-level (lexical) ones from the reports of indexes
/// without passage vectors, the `[semantic]` ones from those with vectors. A kind of threshold
/// no report speaks for is not printed (a comment says so): thresholds chosen on the other kind
/// of run would be chosen on scores the engine does not see with that kind of index.
fn calibrate_reports(reports: &[PathBuf]) -> anyhow::Result<()> {
    let mut traces = Vec::new();
    let mut semantic = Vec::new();
    for path in reports {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let not_a_report = || format!("{} is not a `votecheck eval --json` report", path.display());
        match report_traces(&text).with_context(not_a_report)? {
            ReportTraces::Lexical(read) => traces.extend(read),
            ReportTraces::Semantic(read) => semantic.extend(read),
        }
    }
    if traces.is_empty() {
        out!(
            "# no report of an index without passage vectors (--lexical-only): the top-level thresholds are not chosen"
        );
    } else {
        print_lexical_thresholds(&calibrate_traces(&traces));
    }
    out!();
    if semantic.is_empty() {
        out!(
            "# no report of an index with passage vectors: the [semantic] thresholds are not chosen"
        );
        return Ok(());
    }
    // The keyword rule for writing the encoder reads poorly compares with the lexical threshold
    // the engine is built with: the one the traces' decisions were made against.
    let compiled = votecheck_engine::calibration::Thresholds::calibrated()
        .context("reading the compiled thresholds")?;
    print_semantic_thresholds(&calibrate_semantic(&semantic, compiled.answer_confidence));
    Ok(())
}

/// The top-level thresholds of `data/calibration.toml`, with how many decisions they get right.
fn print_lexical_thresholds(calibration: &Calibration) {
    out!(
        "# {} answer/no-answer decisions, {} right; {} fact-check decisions, {} right",
        calibration.answer_cases,
        calibration.answer_correct,
        calibration.fact_check_cases,
        calibration.fact_check_correct
    );
    out!(
        "answer_confidence = {:.2}",
        calibration.thresholds.answer_confidence
    );
    out!(
        "fact_check_similarity = {:.2}",
        calibration.thresholds.fact_check_similarity
    );
    out!(
        "fact_check_margin = {:.2}",
        calibration.thresholds.fact_check_margin
    );
}

/// The `[semantic]` tables of `data/calibration.toml`, with how many decisions they get right.
fn print_semantic_thresholds(semantic: &SemanticCalibration) {
    out!(
        "# with passage vectors: {} answer/no-answer decisions, {} right; {} fact-check decisions, {} right",
        semantic.answer_cases,
        semantic.answer_correct,
        semantic.fact_check_cases,
        semantic.fact_check_correct
    );
    out!("[semantic]");
    out!(
        "answer_evidence = {:.2}",
        semantic.thresholds.answer_evidence
    );
    out!(
        "fact_check_similarity = {:.2}",
        semantic.thresholds.fact_check_similarity
    );
    out!(
        "fact_check_similarity_forwarded = {:.2}",
        semantic.thresholds.fact_check_similarity_forwarded
    );
    out!(
        "fact_check_margin = {:.2}",
        semantic.thresholds.fact_check_margin
    );
    out!();
    out!("[semantic.answer_evidence_by_language]");
    for (language, threshold) in &semantic.thresholds.answer_evidence_by_language {
        out!("{language} = {threshold:.2}");
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or("-".to_string(), |value| format!("{:.1}%", value * 100.0))
}

fn print_table(report: &EvalReport) {
    out!(
        "{} cases ({} retrieval): hit@1 {:.1}%  hit@3 {:.1}%{}  MRR {:.3}  outcome accuracy {:.1}%",
        report.cases,
        report.retrieval_cases,
        report.hit_at_1 * 100.0,
        report.hit_at_3 * 100.0,
        // hit@k only when --k asks for another rank than the two above.
        if report.k == 1 || report.k == 3 {
            String::new()
        } else {
            format!("  hit@{} {:.1}%", report.k, report.hit_at_k * 100.0)
        },
        report.mrr,
        report.outcome_accuracy * 100.0
    );
    out!(
        "latency: p50 {} µs  p99 {} µs  max {} µs   thresholds: answer {:.2}, fact-check {:.2}",
        report.latency_us.p50,
        report.latency_us.p99,
        report.latency_us.max,
        report.thresholds.answer_confidence,
        report.thresholds.fact_check_similarity
    );
    out!();
    out!(
        "{:<16} {:>6} {:>9} {:>8} {:>8} {:>9}",
        "tag",
        "cases",
        "retrieval",
        "hit@1",
        "hit@3",
        "outcome"
    );
    for (tag, figures) in report.by_tag.iter().chain(report.by_outcome.iter()) {
        out!(
            "{:<16} {:>6} {:>9} {:>8} {:>8} {:>9}",
            tag,
            figures.cases,
            figures.retrieval_cases,
            percent(figures.hit_at_1),
            percent(figures.hit_at_3),
            percent(Some(figures.outcome_accuracy))
        );
    }
    let misses: Vec<String> = report
        .results
        .iter()
        .filter(|result| {
            result.outcome != result.expected_outcome
                || (result.retrieval && result.hit_rank.is_none())
        })
        .map(|result| {
            format!(
                "  {}: got {} (expected {}), hit rank {}",
                result.id,
                result.outcome.as_str(),
                result.expected_outcome.as_str(),
                result
                    .hit_rank
                    .map_or("-".to_string(), |rank| rank.to_string())
            )
        })
        .collect();
    if !misses.is_empty() {
        out!();
        out!("misses:");
        for miss in misses {
            out!("{miss}");
        }
    }
}
