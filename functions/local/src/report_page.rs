//! The report view at `/report`: the figures of `votecheck report` over the local store
//! (outcomes, languages, days, latency, feedback, the most frequent and the unanswered
//! questions) as one HTML page, with an inline SVG chart of queries per day stacked by outcome.
//! Stored questions are already redacted; every value is HTML-escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use votecheck_store::QueryRecord;
use votecheck_store::report::{QuestionCount, Report};
use votecheck_store::time::utc_day;

/// Colours of the outcomes in the chart (others are grey).
const OUTCOME_COLOURS: &[(&str, &str)] = &[
    ("answer", "#25a244"),
    ("fact_check", "#1f6fb2"),
    ("no_answer", "#d9822b"),
    ("neutral_refusal", "#8e44ad"),
    ("menu", "#7f8c8d"),
    ("small_talk", "#95a5a6"),
];

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn colour_of(outcome: &str) -> &'static str {
    OUTCOME_COLOURS
        .iter()
        .find(|(name, _)| *name == outcome)
        .map_or("#bdc3c7", |(_, colour)| colour)
}

/// Queries per UTC day and outcome, for the chart.
pub fn per_day_and_outcome(queries: &[QueryRecord]) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut days: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for record in queries {
        *days
            .entry(utc_day(record.at))
            .or_default()
            .entry(record.outcome.clone())
            .or_insert(0) += 1;
    }
    days
}

/// A stacked bar chart: one bar per day, one colour per outcome, with a legend.
pub fn chart_svg(days: &BTreeMap<String, BTreeMap<String, u64>>) -> String {
    const HEIGHT: f64 = 160.0;
    const BAR: f64 = 28.0;
    const GAP: f64 = 14.0;
    const LEFT: f64 = 40.0;
    let highest = days
        .values()
        .map(|outcomes| outcomes.values().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let width = LEFT + (days.len().max(1) as f64) * (BAR + GAP) + GAP;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="chart" role="img" aria-label="Queries per day and outcome" width="{width}" height="{}" viewBox="0 0 {width} {}">"#,
        HEIGHT + 40.0,
        HEIGHT + 40.0
    );
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="10" x2="{LEFT}" y2="{}" stroke="#888"/><text x="{}" y="16" font-size="11" text-anchor="end">{highest}</text><text x="{}" y="{}" font-size="11" text-anchor="end">0</text>"##,
        HEIGHT + 10.0,
        LEFT - 4.0,
        LEFT - 4.0,
        HEIGHT + 10.0
    );
    let mut outcomes_seen = std::collections::BTreeSet::new();
    for (position, (day, outcomes)) in days.iter().enumerate() {
        let x = LEFT + GAP + position as f64 * (BAR + GAP);
        let mut y = HEIGHT + 10.0;
        for (outcome, count) in outcomes {
            outcomes_seen.insert(outcome.clone());
            let height = HEIGHT * (*count as f64) / (highest as f64);
            y -= height;
            let _ = write!(
                svg,
                r#"<rect class="bar" x="{x}" y="{y:.1}" width="{BAR}" height="{height:.1}" fill="{}"><title>{} {}: {count}</title></rect>"#,
                colour_of(outcome),
                escape(day),
                escape(outcome)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>"#,
            x + BAR / 2.0,
            HEIGHT + 24.0,
            escape(day.get(5..).unwrap_or(day))
        );
    }
    svg.push_str("</svg>");
    let mut legend = String::from(r#"<p class="legend">"#);
    for outcome in &outcomes_seen {
        let _ = write!(
            legend,
            r#"<span><i style="background:{}"></i>{}</span> "#,
            colour_of(outcome),
            escape(outcome)
        );
    }
    legend.push_str("</p>");
    svg + &legend
}

fn counts_table(title: &str, counts: &BTreeMap<String, u64>) -> String {
    let mut html = format!("<h2>{}</h2><table>", escape(title));
    for (name, count) in counts {
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"n\">{count}</td></tr>",
            escape(name)
        );
    }
    if counts.is_empty() {
        html.push_str("<tr><td>none</td></tr>");
    }
    html.push_str("</table>");
    html
}

fn questions_table(title: &str, id: &str, questions: &[QuestionCount]) -> String {
    let mut html = format!(
        "<h2>{}</h2><table id=\"{id}\"><tr><th>question</th><th>times</th><th>languages</th></tr>",
        escape(title)
    );
    for question in questions {
        let _ = write!(
            html,
            "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&question.question),
            question.count,
            escape(&question.languages.join(", "))
        );
    }
    if questions.is_empty() {
        html.push_str("<tr><td colspan=\"3\">none</td></tr>");
    }
    html.push_str("</table>");
    html
}

/// The alerts sent in the period, each with its delivery funnel; nothing when there were none.
fn alerts_table(alerts: &[votecheck_store::AlertFunnel]) -> String {
    if alerts.is_empty() {
        return String::new();
    }
    let mut html = String::from(
        "<h2>Alerts: delivery funnel</h2><table id=\"alerts\"><tr><th>alert</th><th>topic</th><th>enqueued</th><th>accepted</th><th>sent</th><th>delivered</th><th>read</th><th>failed</th><th>skipped (opted out)</th></tr>",
    );
    for funnel in alerts {
        let failed: Vec<String> = funnel
            .failed
            .iter()
            .map(|(code, count)| format!("{count} ({code})"))
            .collect();
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&funnel.alert_id),
            funnel.topic.map_or("?", |topic| topic.as_str()),
            funnel.enqueued,
            funnel.accepted,
            funnel.sent,
            funnel.delivered,
            funnel.read,
            if failed.is_empty() {
                "0".to_owned()
            } else {
                failed.join(", ")
            },
            funnel.skipped
        );
    }
    html.push_str("</table>");
    html
}

/// The whole page.
pub fn render(report: &Report, queries: &[QueryRecord], since: &str) -> String {
    let mut html = String::from(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>votecheck report</title><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/assets/console.css"></head><body class="report"><header><h1>votecheck report</h1><nav><a href="/">Preview console</a></nav></header><main>"#,
    );
    let _ = write!(
        html,
        r#"<p>Period: the last <b>{}</b>. <span id="total">{}</span> queries, {} forwarded. Feedback: {} helpful, {} not helpful.</p>"#,
        escape(since),
        report.total_queries,
        report.forwarded,
        report.feedback.helpful,
        report.feedback.not_helpful
    );
    if let Some(latency) = report.latency_ms {
        let _ = write!(
            html,
            "<p>Latency: median {} ms, p99 {} ms, max {} ms.</p>",
            latency.median, latency.p99, latency.max
        );
    }
    html.push_str(&alerts_table(&report.alerts));
    html.push_str("<h2>Queries per day and outcome</h2>");
    html.push_str(&chart_svg(&per_day_and_outcome(queries)));
    html.push_str("<div class=\"columns\">");
    html.push_str(&counts_table("By outcome", &report.by_outcome));
    html.push_str(&counts_table("By language", &report.by_language));
    html.push_str(&counts_table("By corpus version", &report.corpus_versions));
    html.push_str("</div>");
    html.push_str(&questions_table(
        "Most frequent questions",
        "top",
        &report.top_questions,
    ));
    html.push_str(&questions_table(
        "Unanswered questions",
        "unanswered",
        &report.top_unanswered,
    ));
    html.push_str(&questions_table(
        "Answers marked not helpful",
        "not-helpful",
        &report.not_helpful,
    ));
    html.push_str(&questions_table(
        "Most forwarded messages",
        "forwarded",
        &report.top_forwarded,
    ));
    html.push_str("</main></body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use votecheck_store::CitizenKey;
    use votecheck_store::report::build_report;

    fn record(id: &str, at: i64, outcome: &str, question: &str) -> QueryRecord {
        QueryRecord {
            query_id: id.to_string(),
            at,
            citizen: CitizenKey::derive(b"salt", "console-1"),
            language: "en".to_string(),
            intent: "question".to_string(),
            outcome: outcome.to_string(),
            question_redacted: question.to_string(),
            passage_ids: Vec::new(),
            scores: Vec::new(),
            fact_check_id: None,
            corpus_version: "abc".to_string(),
            latency_ms: 1,
            forwarded: false,
            expires_at: i64::MAX,
        }
    }

    #[test]
    fn the_chart_stacks_each_days_outcomes() {
        let day = 86_400;
        let queries = vec![
            record("a", day, "answer", "q"),
            record("b", day + 5, "no_answer", "q"),
            record("c", 2 * day, "answer", "q"),
        ];
        let days = per_day_and_outcome(&queries);
        assert_eq!(days.len(), 2);
        assert_eq!(days["1970-01-02"]["no_answer"], 1);
        let svg = chart_svg(&days);
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 3);
        assert!(svg.contains("1970-01-02 no_answer: 1"));
    }

    #[test]
    fn questions_are_escaped() {
        let now = 1_700_000_000;
        let queries = vec![record("a", now, "no_answer", "<script>alert(1)</script>")];
        let report = build_report(&queries, &[], now, 86_400);
        let page = render(&report, &queries, "1d");
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("Unanswered questions"));
    }

    #[test]
    fn the_alerts_funnel_is_a_table_with_its_failures_by_code() {
        let now = 1_700_000_000;
        let funnel = votecheck_store::AlertFunnel {
            alert_id: "<b>deadline</b>".into(),
            topic: Some(votecheck_store::Topic::Deadlines),
            started_at: now,
            finished: true,
            enqueued: 10,
            skipped: 1,
            accepted: 9,
            sent: 9,
            delivered: 8,
            read: 4,
            failed: [(131026, 1)].into_iter().collect(),
        };
        let report = build_report(&[], &[], now, 86_400).with_alerts(vec![funnel]);
        let page = render(&report, &[], "1d");
        assert!(page.contains("<table id=\"alerts\">"), "{page}");
        assert!(page.contains("&lt;b&gt;deadline&lt;/b&gt;</td><td>deadlines</td><td>10</td><td>9</td><td>9</td><td>8</td><td>4</td><td>1 (131026)</td><td>1</td>"), "{page}");
        assert!(!render(&build_report(&[], &[], now, 86_400), &[], "1d").contains("Alerts"));
    }
}
