//! `all`: every benchmark in one run, summed up as ONE table (each figure next to its peer or
//! baseline and the target it is held to, and whether the target is met), printed after the
//! machine and written with every detail as JSON to `target/bench/report.json`.
//!
//! The targets are the goals of the project (reports, not assertions): cold start ≤ 1.5× a
//! hello-world function; answer p50 ≤ 1 ms and p99 ≤ 5 ms, faster than both BM25 peers at equal
//! or better hit@3; ≥ 2,000 webhook requests/s on 2 cores with zero errors; peak RSS while
//! answering ≤ 64 MiB (Lambda's "MB" of memory); zip ≤ 15 MB for the shared corpus.

use serde_json::json;

use crate::answer::AnswerFigures;
use crate::cold_start::ColdStartFigures;
use crate::common::{Machine, corpus_label};
use crate::footprint::FootprintFigures;
use crate::index_build::IndexBuildFigures;
use crate::webhook_load::WebhookFigures;

/// Whether a figure meets its target.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Met,
    /// Missed, and by how much.
    Missed(String),
    /// A figure with no target of its own.
    NoTarget,
    /// The benchmark did not run to the end.
    Failed(String),
}

impl Status {
    fn label(&self) -> String {
        match self {
            Status::Met => "met".to_string(),
            Status::Missed(by) => format!("MISSED: {by}"),
            Status::NoTarget => String::new(),
            Status::Failed(problem) => format!("FAILED: {problem}"),
        }
    }

    fn key(&self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Missed(_) => "missed",
            Status::NoTarget => "no_target",
            Status::Failed(_) => "failed",
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub area: String,
    pub figure: String,
    pub value: String,
    pub baseline: String,
    pub target: String,
    pub status: Status,
}

fn row(
    area: &str,
    figure: &str,
    value: String,
    baseline: String,
    target: &str,
    status: Status,
) -> Row {
    Row {
        area: area.to_string(),
        figure: figure.to_string(),
        value,
        baseline,
        target: target.to_string(),
        status,
    }
}

/// Everything one full run measured.
#[derive(Debug, Default)]
pub struct FullRun {
    pub index_build: Option<IndexBuildFigures>,
    pub encoder: Option<crate::encoder::EncoderFigures>,
    pub answers: Vec<AnswerFigures>,
    pub cold_start: Option<ColdStartFigures>,
    pub footprint: Option<FootprintFigures>,
    pub webhooks: Vec<WebhookFigures>,
    /// (benchmark, what went wrong)
    pub failures: Vec<(String, String)>,
    /// The machine's 1-minute load average at the start and at the end of the run: anything
    /// else running (a build) takes CPU from the benchmarks.
    pub load_average: (Option<f64>, Option<f64>),
}

/// `1234567` as `1,234,567`.
pub fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn milliseconds(microseconds: f64) -> String {
    format!("{:.2} ms", microseconds / 1000.0)
}

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn peer_name(name: &str) -> &str {
    match name {
        "sqlite_fts5" => "FTS5",
        other => other,
    }
}

/// `limit` met when `value <= limit`, else missed with the excess.
fn at_most(value: f64, limit: f64, unit: &str) -> Status {
    if value <= limit {
        Status::Met
    } else {
        Status::Missed(format!(
            "{value:.2} {unit} is {:.2} {unit} ({:.0} %) over",
            value - limit,
            (value / limit - 1.0) * 100.0
        ))
    }
}

fn answer_rows(answer: &AnswerFigures, rows: &mut Vec<Row>) {
    let area = format!(
        "answer, {} ({} passages, {} questions x {})",
        corpus_label(&answer.corpus),
        thousands(answer.passages),
        answer.questions,
        answer.rounds
    );
    let ours = answer.votecheck();
    let peers = answer.peers();
    let latency_row = |figure: &str,
                       ours_us: f64,
                       peer_us: &dyn Fn(&crate::answer::SystemFigures) -> f64,
                       limit_ms: f64| {
        let baseline = peers
            .iter()
            .map(|peer| format!("{} {}", peer_name(&peer.name), milliseconds(peer_us(peer))))
            .collect::<Vec<_>>()
            .join(", ");
        let mut problems = Vec::new();
        if let Status::Missed(by) = at_most(ours_us / 1000.0, limit_ms, "ms") {
            problems.push(by);
        }
        let target = format!("≤ {limit_ms} ms");
        Row {
            area: area.clone(),
            figure: figure.to_string(),
            value: milliseconds(ours_us),
            baseline: if baseline.is_empty() {
                "-".to_string()
            } else {
                baseline
            },
            target,
            status: if problems.is_empty() {
                Status::Met
            } else {
                Status::Missed(problems.join("; "))
            },
        }
    };
    // The whole answer on one core, the question's embedding included (the peers do not embed).
    rows.push(latency_row(
        "latency p50, one core",
        ours.p50_us,
        &|peer| peer.p50_us,
        25.0,
    ));
    rows.push(latency_row(
        "latency p99, one core",
        ours.p99_us,
        &|peer| peer.p99_us,
        60.0,
    ));
    let behind: Vec<String> = peers
        .iter()
        .filter(|peer| peer.hit_at_3 > ours.hit_at_3)
        .map(|peer| {
            format!(
                "{:.1} points behind {}",
                (peer.hit_at_3 - ours.hit_at_3) * 100.0,
                peer_name(&peer.name)
            )
        })
        .collect();
    rows.push(Row {
        area,
        figure: format!("hit@3 ({} retrieval cases)", answer.retrieval_cases),
        value: percent(ours.hit_at_3),
        baseline: peers
            .iter()
            .map(|peer| format!("{} {}", peer_name(&peer.name), percent(peer.hit_at_3)))
            .collect::<Vec<_>>()
            .join(", "),
        target: "≥ 92 %, above every peer".to_string(),
        status: {
            let mut problems = behind;
            if ours.hit_at_3 < 0.92 {
                problems.insert(
                    0,
                    format!("{:.1} points under 92 %", (0.92 - ours.hit_at_3) * 100.0),
                );
            }
            if problems.is_empty() {
                Status::Met
            } else {
                Status::Missed(problems.join("; "))
            }
        },
    });
    if let Some(fact_check) = answer.fact_check_hit_at_1 {
        rows.push(Row {
            area: format!("answer, {}", corpus_label(&answer.corpus)),
            figure: "fact-check hit@1 (rumours with a fact-check)".to_string(),
            value: percent(fact_check),
            baseline: "-".to_string(),
            target: "≥ 97 %".to_string(),
            status: if fact_check >= 0.97 {
                Status::Met
            } else {
                Status::Missed(format!("{:.1} points under", (0.97 - fact_check) * 100.0))
            },
        });
    }
}

fn webhook_rows(webhook: &WebhookFigures, machine: &Machine, rows: &mut Vec<Row>) {
    let area = format!("webhook, {}", corpus_label(&webhook.corpus));
    let cores_note = if machine.cores == 2 {
        String::new()
    } else {
        format!(" (this machine has {} cores)", machine.cores)
    };
    let rate = webhook.requests_per_second();
    rows.push(row(
        &area,
        &format!(
            "requests/s (wrk: {} connections, {} threads, {} s, on the same machine)",
            webhook.options.connections, webhook.options.threads, webhook.options.duration_seconds
        ),
        thousands(rate.round() as u64),
        "-".to_string(),
        "≥ 2,000 on 2 cores",
        if rate >= 2000.0 {
            Status::Met
        } else {
            Status::Missed(format!(
                "{:.0} short ({:.0} % of the target){cores_note}",
                2000.0 - rate,
                rate / 20.0
            ))
        },
    ));
    rows.push(row(
        &area,
        "latency p50 / p99 / max",
        format!(
            "{:.2} / {:.2} / {:.2} ms",
            webhook.p50_ms, webhook.p99_ms, webhook.max_ms
        ),
        "-".to_string(),
        "",
        Status::NoTarget,
    ));
    let errors = webhook.errors();
    rows.push(row(
        &area,
        "errors (socket errors + non-2xx)",
        thousands(errors),
        format!("{} requests", thousands(webhook.requests)),
        "0",
        if errors == 0 {
            Status::Met
        } else {
            Status::Missed(format!("{} errors", thousands(errors)))
        },
    ));
    let not_answered = webhook.not_answered();
    rows.push(row(
        &area,
        "messages answered (from /metrics)",
        thousands(webhook.answered()),
        format!(
            "{} duplicates, {} rate limited, {} other",
            thousands(webhook.outcome("duplicate")),
            thousands(webhook.outcome("rate_limited")),
            thousands(
                not_answered - webhook.outcome("duplicate") - webhook.outcome("rate_limited")
            )
        ),
        "every request answered, none a duplicate",
        if not_answered == 0 {
            Status::Met
        } else {
            Status::Missed(format!("{} not answered", thousands(not_answered)))
        },
    ));
    if let Some(cpu) = webhook.server_cpu_ms_per_request() {
        rows.push(row(
            &area,
            "votecheck serve CPU time per request",
            format!("{cpu:.2} ms"),
            format!(
                "at most {} req/s on {} cores with nothing else running",
                thousands((machine.cores as f64 * 1000.0 / cpu).round() as u64),
                machine.cores
            ),
            "",
            Status::NoTarget,
        ));
    }
    if let Some(peak) = webhook.server_peak_rss_mib {
        rows.push(row(
            &area,
            "votecheck serve peak RSS",
            format!("{peak:.1} MiB"),
            "-".to_string(),
            "",
            Status::NoTarget,
        ));
    }
}

impl FullRun {
    /// The rows of the one table.
    pub fn rows(&self, machine: &Machine) -> Vec<Row> {
        let mut rows = Vec::new();
        if let Some(cold) = &self.cold_start {
            rows.push(row(
                &format!("cold start, {}", corpus_label(&cold.corpus)),
                &format!(
                    "process start to first answered event, median of {}",
                    cold.runs
                ),
                format!("{:.1} ms", cold.bootstrap_median_ms),
                format!(
                    "hello-world {:.1} ms (ratio {:.1}x)",
                    cold.hello_median_ms,
                    cold.ratio()
                ),
                "≤ 1.5x hello-world",
                if cold.ratio() <= 1.5 {
                    Status::Met
                } else {
                    Status::Missed(format!(
                        "{:.1}x, {:.1} ms over 1.5x",
                        cold.ratio(),
                        cold.bootstrap_median_ms - 1.5 * cold.hello_median_ms
                    ))
                },
            ));
        }
        for answer in &self.answers {
            answer_rows(answer, &mut rows);
        }
        for webhook in &self.webhooks {
            webhook_rows(webhook, machine, &mut rows);
        }
        if let Some(footprint) = &self.footprint {
            let area = "footprint";
            rows.push(row(
                area,
                "bootstrap binary (release)",
                megabytes(footprint.bootstrap_bytes),
                self.cold_start.as_ref().map_or("-".to_string(), |cold| {
                    format!("hello-world {}", megabytes(cold.hello_bytes))
                }),
                "",
                Status::NoTarget,
            ));
            let shared = corpus_label(&footprint.corpus) == "shared corpus";
            rows.push(row(
                area,
                &format!("deployment zip, {} index", corpus_label(&footprint.corpus)),
                megabytes(footprint.zip_bytes),
                format!(
                    "bootstrap {} + index {} + model {}, uncompressed",
                    megabytes(footprint.bootstrap_bytes),
                    megabytes(footprint.index_bytes),
                    megabytes(footprint.model_bytes)
                ),
                "unzipped ≤ 250 MB (Lambda's limit; uploaded through S3)",
                at_most(
                    (footprint.bootstrap_bytes + footprint.index_bytes + footprint.model_bytes)
                        as f64
                        / 1_000_000.0,
                    250.0,
                    "MB",
                ),
            ));
            let _ = shared;
            rows.push(row(
                area,
                &format!(
                    "bootstrap peak RSS while answering ({} webhook events)",
                    footprint.answered_events
                ),
                format!("{:.1} MiB", footprint.answering_peak_rss_mib),
                format!("hello-world {:.1} MiB", footprint.hello_peak_rss_mib),
                "within the template's 1,769 MB",
                at_most(footprint.answering_peak_rss_mib, 1769.0, "MiB"),
            ));
        }
        if let Some(encoder) = &self.encoder {
            let reference = |key: &str| {
                encoder
                    .reference
                    .as_ref()
                    .and_then(|value| value[key].as_f64())
            };
            let area = "encoder (one core)";
            rows.push(row(
                area,
                &format!("question p50 / p99 ({} questions)", encoder.questions),
                format!(
                    "{:.1} / {:.1} ms",
                    encoder.query_p50_ms, encoder.query_p99_ms
                ),
                format!(
                    "reference engine {} / {} ms",
                    reference("query_p50_ms")
                        .map_or("-".to_string(), |value| format!("{value:.1}")),
                    reference("query_p99_ms")
                        .map_or("-".to_string(), |value| format!("{value:.1}"))
                ),
                "≤ 20 / 50 ms",
                match (
                    at_most(encoder.query_p50_ms, 20.0, "ms"),
                    at_most(encoder.query_p99_ms, 50.0, "ms"),
                ) {
                    (Status::Met, Status::Met) => Status::Met,
                    (p50, p99) => Status::Missed(
                        [p50, p99]
                            .into_iter()
                            .filter_map(|status| match status {
                                Status::Missed(detail) => Some(detail),
                                _ => None,
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                },
            ));
            let reference_rate = reference("passages_per_second");
            rows.push(row(
                area,
                &format!("passages/s in batches ({} passages)", encoder.passages),
                format!("{:.1}", encoder.passages_per_second_one_core),
                reference_rate.map_or("-".to_string(), |rate| {
                    format!("reference engine {rate:.1}")
                }),
                "≥ 3x the reference",
                match reference_rate {
                    Some(rate) if encoder.passages_per_second_one_core >= 3.0 * rate => Status::Met,
                    Some(rate) => Status::Missed(format!(
                        "{:.1}x the reference",
                        encoder.passages_per_second_one_core / rate
                    )),
                    None => Status::NoTarget,
                },
            ));
        }
        if let Some(build) = &self.index_build {
            let area = format!("index build, {}", corpus_label(&build.corpus));
            if let Some(embedded) = &build.embedded {
                rows.push(row(
                    &area,
                    "with vectors, from scratch (all cores)",
                    format!("{:.1} min", embedded.scratch_seconds / 60.0),
                    format!(
                        "{:.1} passages/s",
                        build.passages as f64 / embedded.scratch_seconds
                    ),
                    "≤ 15 min",
                    at_most(embedded.scratch_seconds / 60.0, 15.0, "min"),
                ));
                rows.push(row(
                    &area,
                    "with vectors, after one document changed",
                    format!("{:.1} s", embedded.one_change_seconds),
                    "-".to_string(),
                    "≤ 10 s",
                    at_most(embedded.one_change_seconds, 10.0, "s"),
                ));
            }
            rows.push(row(
                &area,
                &format!(
                    "documents/s, passages/s, MB/s ({} documents, best of {})",
                    thousands(build.documents),
                    build.runs
                ),
                format!(
                    "{} / {} / {:.2}",
                    thousands(build.documents_per_second().round() as u64),
                    thousands(build.passages_per_second().round() as u64),
                    build.megabytes_per_second()
                ),
                "-".to_string(),
                "",
                Status::NoTarget,
            ));
            if let Some(peak) = build.peak_rss_mib {
                rows.push(row(
                    &area,
                    "peak RSS of the build",
                    format!("{peak:.1} MiB"),
                    "-".to_string(),
                    "",
                    Status::NoTarget,
                ));
            }
        }
        for (benchmark, problem) in &self.failures {
            rows.push(row(
                benchmark,
                "did not complete",
                "-".to_string(),
                "-".to_string(),
                "",
                Status::Failed(problem.clone()),
            ));
        }
        rows
    }

    /// Prints the machine and the table.
    pub fn print(&self, machine: &Machine, date: &str) {
        println!();
        println!("votecheck benchmarks, {date}");
        println!("machine: {machine}");
        let load = |value: Option<f64>| value.map_or("?".to_string(), |load| format!("{load:.2}"));
        println!(
            "load average (1 min) at start / end: {} / {}",
            load(self.load_average.0),
            load(self.load_average.1)
        );
        println!();
        println!("| area | figure | votecheck | peer / baseline | target | status |");
        println!("|---|---|---|---|---|---|");
        for row in self.rows(machine) {
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                row.area,
                row.figure,
                row.value,
                row.baseline,
                row.target,
                row.status.label()
            );
        }
    }

    /// The table and every figure, as JSON.
    pub fn to_json(&self, machine: &Machine, date: &str) -> serde_json::Value {
        let rows: Vec<serde_json::Value> = self
            .rows(machine)
            .into_iter()
            .map(|row| {
                json!({
                    "area": row.area,
                    "figure": row.figure,
                    "value": row.value,
                    "peer_or_baseline": row.baseline,
                    "target": row.target,
                    "status": row.status.key(),
                    "detail": match &row.status {
                        Status::Missed(detail) | Status::Failed(detail) => Some(detail.clone()),
                        _ => None,
                    },
                })
            })
            .collect();
        json!({
            "date": date,
            "machine": {"cores": machine.cores, "cpu": machine.cpu},
            "load_average": {"start": self.load_average.0, "end": self.load_average.1},
            "table": rows,
            "index_build": self.index_build.as_ref().map(IndexBuildFigures::to_json),
            "encoder": self.encoder.as_ref().map(crate::encoder::EncoderFigures::to_json),
            "answer": self.answers.iter().map(AnswerFigures::to_json).collect::<Vec<_>>(),
            "cold_start": self.cold_start.as_ref().map(ColdStartFigures::to_json),
            "footprint": self.footprint.as_ref().map(FootprintFigures::to_json),
            "webhook": self.webhooks.iter().map(WebhookFigures::to_json).collect::<Vec<_>>(),
            "failures": self.failures.iter().map(|(benchmark, problem)| json!({"benchmark": benchmark, "problem": problem})).collect::<Vec<_>>(),
        })
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / 86_400) as i64;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn at_most_says_by_how_much() {
        assert_eq!(at_most(1.0, 1.0, "ms"), Status::Met);
        assert_eq!(
            at_most(1.5, 1.0, "ms"),
            Status::Missed("1.50 ms is 0.50 ms (50 %) over".to_string())
        );
    }

    #[test]
    fn today_is_a_date() {
        let date = today();
        assert_eq!(date.len(), 10);
        assert!(date.starts_with("20"));
    }
}
