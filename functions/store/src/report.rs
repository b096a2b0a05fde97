//! `votecheck report`: what citizens asked, what went unanswered, what was not helpful.
//!
//! [`build_report`] turns the query and feedback records of a period (read with
//! [`Store::queries_between`](crate::Store::queries_between) and
//! [`Store::feedback_between`](crate::Store::feedback_between)) into a [`Report`]: totals by
//! outcome, language and day; the most frequent questions, grouped after normalisation (lower
//! case, accents and punctuation removed, whitespace collapsed); the top unanswered (`no_answer`)
//! questions, which tell the election office which documents are missing; the questions marked
//! not helpful; forwarded questions, where fact-checkers find new rumours; latency (median and
//! p99); the corpus versions that answered. A [`Report`] serialises to JSON (`--json`) and renders
//! as text for the terminal ([`Report::render_text`]).
//!
//! ```
//! use votecheck_store::report::{build_report, parse_since};
//! let since = parse_since("7d")?;
//! let report = build_report(&[], &[], 1_767_225_600, since);
//! assert_eq!(report.total_queries, 0);
//! assert!(report.render_text().contains("no queries"));
//! # Ok::<(), votecheck_store::StoreError>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::time::{utc_date_time, utc_day};
use crate::{AlertFunnel, Feedback, QueryRecord, StoreError};

/// How many questions each list of a report holds.
pub const TOP_QUESTIONS: usize = 20;

/// The outcome of a question the bot could not answer.
pub const NO_ANSWER: &str = "no_answer";

/// What happened in one period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Start of the period, Unix seconds (inclusive).
    pub from: i64,
    /// End of the period, Unix seconds (inclusive): the report's `now`.
    pub to: i64,
    /// Queries in the period.
    pub total_queries: u64,
    /// Queries per outcome (`answer`, `no_answer`...).
    pub by_outcome: BTreeMap<String, u64>,
    /// Queries per language.
    pub by_language: BTreeMap<String, u64>,
    /// Queries per UTC day (`yyyy-mm-dd`).
    pub by_day: BTreeMap<String, u64>,
    /// Queries WhatsApp marked as forwarded.
    pub forwarded: u64,
    /// Answers that used a fact-check, per fact-check id.
    pub fact_checks: BTreeMap<String, u64>,
    /// Response latency; `None` without queries.
    pub latency_ms: Option<Latency>,
    /// Queries per corpus version.
    pub corpus_versions: BTreeMap<String, u64>,
    /// Feedback totals.
    pub feedback: FeedbackTotals,
    /// The most frequent questions.
    pub top_questions: Vec<QuestionCount>,
    /// The most frequent questions without an answer (`no_answer`).
    pub top_unanswered: Vec<QuestionCount>,
    /// The questions whose answer was marked not helpful, most often first.
    pub not_helpful: Vec<QuestionCount>,
    /// The most frequent forwarded questions.
    pub top_forwarded: Vec<QuestionCount>,
    /// The alerts whose sending started in the period, each with its delivery funnel
    /// ([`Report::with_alerts`]).
    pub alerts: Vec<AlertFunnel>,
}

/// Latency figures in milliseconds (nearest-rank percentiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// Median.
    pub median: u32,
    /// 99th percentile.
    pub p99: u32,
    /// Slowest.
    pub max: u32,
}

/// Feedback counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedbackTotals {
    /// Replies marked helpful.
    pub helpful: u64,
    /// Replies marked not helpful.
    pub not_helpful: u64,
}

/// One group of questions that are the same after normalisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuestionCount {
    /// The most frequent wording in the group (redacted, as stored).
    pub question: String,
    /// The normalised form the group shares.
    pub normalized: String,
    /// How many times it was asked (or, for `not_helpful`, marked not helpful).
    pub count: u64,
    /// The languages it was asked in.
    pub languages: Vec<String>,
}

/// Builds the report of the `since_seconds` before `now` from records read for that period.
/// Records outside the period, and expired ones, are left out.
pub fn build_report(
    queries: &[QueryRecord],
    feedback: &[Feedback],
    now: i64,
    since_seconds: i64,
) -> Report {
    let from = now.saturating_sub(since_seconds.max(0));
    let in_period = |at: i64| (from..=now).contains(&at);
    let queries: Vec<&QueryRecord> = queries
        .iter()
        .filter(|record| in_period(record.at) && record.expires_at > now)
        .collect();
    let feedback: Vec<&Feedback> = feedback
        .iter()
        .filter(|feedback| in_period(feedback.at))
        .collect();

    let mut by_outcome = BTreeMap::new();
    let mut by_language = BTreeMap::new();
    let mut by_day = BTreeMap::new();
    let mut corpus_versions = BTreeMap::new();
    let mut fact_checks = BTreeMap::new();
    for record in &queries {
        *by_outcome.entry(record.outcome.clone()).or_insert(0) += 1;
        *by_language.entry(record.language.clone()).or_insert(0) += 1;
        *by_day.entry(utc_day(record.at)).or_insert(0) += 1;
        *corpus_versions
            .entry(record.corpus_version.clone())
            .or_insert(0) += 1;
        if let Some(fact_check_id) = &record.fact_check_id {
            *fact_checks.entry(fact_check_id.clone()).or_insert(0) += 1;
        }
    }

    let by_id: HashMap<(&str, &str), &QueryRecord> = queries
        .iter()
        .map(|record| ((record.citizen.as_str(), record.query_id.as_str()), *record))
        .collect();
    let not_helpful_queries: Vec<&QueryRecord> = feedback
        .iter()
        .filter(|feedback| !feedback.helpful)
        .filter_map(|feedback| {
            by_id
                .get(&(feedback.citizen.as_str(), feedback.query_id.as_str()))
                .copied()
        })
        .collect();

    Report {
        from,
        to: now,
        total_queries: queries.len() as u64,
        by_outcome,
        by_language,
        by_day,
        forwarded: queries.iter().filter(|record| record.forwarded).count() as u64,
        fact_checks,
        latency_ms: latency(queries.iter().map(|record| record.latency_ms).collect()),
        corpus_versions,
        feedback: FeedbackTotals {
            helpful: feedback.iter().filter(|feedback| feedback.helpful).count() as u64,
            not_helpful: feedback.iter().filter(|feedback| !feedback.helpful).count() as u64,
        },
        top_questions: top_questions(queries.iter().copied()),
        top_unanswered: top_questions(
            queries
                .iter()
                .copied()
                .filter(|record| record.outcome == NO_ANSWER),
        ),
        not_helpful: top_questions(not_helpful_queries.into_iter()),
        top_forwarded: top_questions(queries.iter().copied().filter(|record| record.forwarded)),
        alerts: Vec::new(),
    }
}

/// Lower case, accents and punctuation removed, whitespace collapsed: `¿Dónde  VOTO?` and
/// `donde voto` group together.
///
/// ```
/// assert_eq!(votecheck_store::report::normalize_question("¿Dónde  VOTO?"), "donde voto");
/// ```
pub fn normalize_question(question: &str) -> String {
    let folded: String = question
        .nfd()
        .filter(|character| !is_combining_mark(*character))
        .flat_map(char::to_lowercase)
        .map(|character| {
            if character.is_alphanumeric() {
                character
            } else {
                ' '
            }
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn top_questions<'a>(records: impl Iterator<Item = &'a QueryRecord>) -> Vec<QuestionCount> {
    struct Group<'a> {
        count: u64,
        wordings: HashMap<&'a str, u64>,
        languages: BTreeMap<&'a str, ()>,
    }
    let mut groups: HashMap<String, Group<'a>> = HashMap::new();
    for record in records {
        let normalized = normalize_question(&record.question_redacted);
        if normalized.is_empty() {
            continue;
        }
        let group = groups.entry(normalized).or_insert_with(|| Group {
            count: 0,
            wordings: HashMap::new(),
            languages: BTreeMap::new(),
        });
        group.count += 1;
        *group
            .wordings
            .entry(record.question_redacted.as_str())
            .or_insert(0) += 1;
        group.languages.insert(record.language.as_str(), ());
    }
    let mut counts: Vec<QuestionCount> = groups
        .into_iter()
        .map(|(normalized, group)| {
            let question = group
                .wordings
                .iter()
                .max_by(|left, right| left.1.cmp(right.1).then_with(|| right.0.cmp(left.0)))
                .map(|(wording, _)| (*wording).to_owned())
                .unwrap_or_default();
            QuestionCount {
                question,
                normalized,
                count: group.count,
                languages: group.languages.keys().map(|l| (*l).to_owned()).collect(),
            }
        })
        .collect();
    counts.sort_by(|left, right| {
        right
            .count
            .cmp(&left.count)
            .then_with(|| left.normalized.cmp(&right.normalized))
    });
    counts.truncate(TOP_QUESTIONS);
    counts
}

/// Nearest-rank percentile of sorted values: the smallest value with at least `percent`% of the
/// values at or below it.
fn percentile(sorted: &[u32], percent: u64) -> u32 {
    let rank = (percent * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn latency(mut values: Vec<u32>) -> Option<Latency> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    Some(Latency {
        median: percentile(&values, 50),
        p99: percentile(&values, 99),
        max: *values.last().expect("not empty"),
    })
}

/// Parses a period such as `7d`, `24h`, `30m`, `2w` or `90s` into seconds.
pub fn parse_since(since: &str) -> Result<i64, StoreError> {
    let invalid = || {
        StoreError::InvalidInput {
        what: "period",
        input: since.to_owned(),
        expected: "a positive whole number followed by s, m, h, d or w, at most 3660 days (e.g. 7d, 24h, 30m)"
            .to_owned(),
    }
    };
    let trimmed = since.trim();
    let unit_at = trimmed
        .find(|character: char| !character.is_ascii_digit())
        .ok_or_else(invalid)?;
    let (amount, unit) = trimmed.split_at(unit_at);
    let amount: i64 = amount.parse().map_err(|_| invalid())?;
    let unit_seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(invalid()),
    };
    let seconds = amount.checked_mul(unit_seconds).ok_or_else(invalid)?;
    if seconds <= 0 || seconds > 3_660 * 86_400 {
        return Err(invalid());
    }
    Ok(seconds)
}

impl Report {
    /// The report with the funnels of the alerts sent in its period (read with
    /// [`Store::alert_funnels_between`](crate::Store::alert_funnels_between)).
    pub fn with_alerts(mut self, alerts: Vec<AlertFunnel>) -> Self {
        self.alerts = alerts;
        self
    }

    /// The report for a terminal.
    pub fn render_text(&self) -> String {
        let mut text = String::new();
        let days = (self.to - self.from) as f64 / 86_400.0;
        let _ = writeln!(
            text,
            "votecheck report: {} to {} UTC ({days:.1} days)",
            utc_date_time(self.from),
            utc_date_time(self.to)
        );
        if !self.alerts.is_empty() {
            let _ = writeln!(text, "\nalerts (delivery funnel):");
            for funnel in &self.alerts {
                let _ = writeln!(text, "  {}", funnel_line(funnel));
            }
        }
        if self.total_queries == 0 {
            let _ = writeln!(text, "\nno queries in this period");
            return text;
        }
        let _ = writeln!(
            text,
            "\nqueries: {} ({} forwarded)",
            self.total_queries, self.forwarded
        );
        let _ = writeln!(text, "by outcome: {}", join_counts(&self.by_outcome));
        let _ = writeln!(text, "by language: {}", join_counts(&self.by_language));
        if let Some(latency) = self.latency_ms {
            let _ = writeln!(
                text,
                "latency: median {} ms, p99 {} ms, max {} ms",
                latency.median, latency.p99, latency.max
            );
        }
        let _ = writeln!(
            text,
            "corpus versions: {}",
            join_counts(&self.corpus_versions)
        );
        if !self.fact_checks.is_empty() {
            let _ = writeln!(text, "fact-checks used: {}", join_counts(&self.fact_checks));
        }
        let _ = writeln!(
            text,
            "feedback: {} helpful, {} not helpful",
            self.feedback.helpful, self.feedback.not_helpful
        );
        let _ = writeln!(text, "\nby day:");
        for (day, count) in &self.by_day {
            let _ = writeln!(text, "  {day}  {count:>6}");
        }
        for (title, questions) in [
            ("most frequent questions", &self.top_questions),
            ("unanswered questions (no_answer)", &self.top_unanswered),
            ("questions marked not helpful", &self.not_helpful),
            ("forwarded questions", &self.top_forwarded),
        ] {
            let _ = writeln!(text, "\n{title}:");
            if questions.is_empty() {
                let _ = writeln!(text, "  (none)");
            }
            for question in questions {
                let _ = writeln!(
                    text,
                    "  {:>5}  {}  [{}]",
                    question.count,
                    one_line(&question.question),
                    question.languages.join(", ")
                );
            }
        }
        text
    }
}

/// One alert's funnel on one line: each stage with its share of the messages the Cloud API
/// accepted.
pub fn funnel_line(funnel: &AlertFunnel) -> String {
    let share = |count: u64| {
        if funnel.accepted == 0 {
            String::new()
        } else {
            format!(" ({:.1} %)", 100.0 * count as f64 / funnel.accepted as f64)
        }
    };
    let mut line = format!(
        "{} [{}{}]: enqueued {}, accepted {}, sent {}{}, delivered {}{}, read {}{}",
        funnel.alert_id,
        funnel.topic.map_or("?", |topic| topic.as_str()),
        if funnel.finished {
            ""
        } else {
            ", still enqueueing"
        },
        funnel.enqueued,
        funnel.accepted,
        funnel.sent,
        share(funnel.sent),
        funnel.delivered,
        share(funnel.delivered),
        funnel.read,
        share(funnel.read),
    );
    let failed = funnel.failed_total();
    if failed > 0 {
        let codes: Vec<String> = funnel
            .failed
            .iter()
            .map(|(code, count)| format!("{code} ×{count}"))
            .collect();
        let _ = write!(line, ", failed {failed} ({})", codes.join(", "));
    }
    if funnel.skipped > 0 {
        let _ = write!(line, ", skipped {} (opted out since)", funnel.skipped);
    }
    line
}

fn join_counts(counts: &BTreeMap<String, u64>) -> String {
    let mut sorted: Vec<(&String, &u64)> = counts.iter().collect();
    sorted.sort_by(|left, right| right.1.cmp(left.1).then_with(|| left.0.cmp(right.0)));
    sorted
        .iter()
        .map(|(name, count)| format!("{name} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A question on one terminal line: control characters and newlines become spaces, long
/// questions are cut.
fn one_line(question: &str) -> String {
    let flat: String = question
        .chars()
        .map(|character| {
            if character.is_control() {
                ' '
            } else {
                character
            }
        })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 100 {
        format!("{}…", flat.chars().take(99).collect::<String>())
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CitizenKey;

    fn record(id: &str, at: i64, question: &str, outcome: &str, latency_ms: u32) -> QueryRecord {
        QueryRecord {
            query_id: id.to_owned(),
            at,
            citizen: CitizenKey::derive(b"salt", id),
            language: if question.contains('¿') { "es" } else { "en" }.to_owned(),
            intent: "question".to_owned(),
            outcome: outcome.to_owned(),
            question_redacted: question.to_owned(),
            passage_ids: Vec::new(),
            scores: Vec::new(),
            fact_check_id: None,
            corpus_version: "v1".to_owned(),
            latency_ms,
            forwarded: false,
            expires_at: at + 1_000_000,
        }
    }

    #[test]
    fn parse_since_units_and_errors() {
        assert_eq!(parse_since("7d").unwrap(), 604_800);
        assert_eq!(parse_since("24h").unwrap(), 86_400);
        assert_eq!(parse_since("30m").unwrap(), 1_800);
        assert_eq!(parse_since("2w").unwrap(), 1_209_600);
        for bad in [
            "",
            "7",
            "d",
            "0d",
            "-1d",
            "7y",
            "1.5d",
            "99999999999999999999d",
            "4000d",
        ] {
            let error = parse_since(bad).unwrap_err();
            assert!(error.to_string().contains("e.g. 7d"), "{bad}: {error}");
        }
    }

    #[test]
    fn normalization_groups_variants() {
        assert_eq!(
            normalize_question("  ¿Dónde VOTO, por favor?! "),
            "donde voto por favor"
        );
        assert_eq!(normalize_question("Where do I vote?"), "where do i vote");
        assert_eq!(normalize_question("¡¿…?!"), "");
        assert_eq!(normalize_question("Call [phone]"), "call phone");
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), 50);
        assert_eq!(percentile(&values, 99), 99);
        assert_eq!(percentile(&[7], 99), 7);
        assert_eq!(percentile(&[1, 2, 3], 50), 2);
    }

    #[test]
    fn figures() {
        let now = 10 * 86_400;
        let queries = vec![
            record("a", now - 100, "¿Dónde voto?", "answer", 100),
            record("b", now - 90_000, "¿donde voto", "answer", 300),
            record("c", now - 50, "¿Dónde voto?", "no_answer", 200),
            record("d", now - 40, "Can I vote by post?", "no_answer", 1_000),
            record("old", now - 30 * 86_400, "Old question", "answer", 5),
        ];
        let feedback = vec![Feedback {
            query_id: "d".to_owned(),
            citizen: CitizenKey::derive(b"salt", "d"),
            helpful: false,
            at: now - 10,
        }];
        let report = build_report(&queries, &feedback, now, 7 * 86_400);
        assert_eq!(report.total_queries, 4);
        assert_eq!(report.by_outcome["answer"], 2);
        assert_eq!(report.by_outcome["no_answer"], 2);
        assert_eq!(report.by_language["es"], 3);
        assert_eq!(report.by_day.len(), 2);
        assert_eq!(report.top_questions[0].question, "¿Dónde voto?");
        assert_eq!(report.top_questions[0].count, 3);
        assert_eq!(report.top_unanswered.len(), 2);
        assert_eq!(report.not_helpful[0].normalized, "can i vote by post");
        assert_eq!(
            report.latency_ms,
            Some(Latency {
                median: 200,
                p99: 1_000,
                max: 1_000
            })
        );
        let text = report.render_text();
        assert!(text.contains("queries: 4"), "{text}");
        assert!(text.contains("      3  ¿Dónde voto?  [es]"), "{text}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["top_unanswered"][0]["count"], 1);
    }

    #[test]
    fn alert_funnels_render_with_shares_and_codes_even_without_queries() {
        let funnel = AlertFunnel {
            alert_id: "registration-deadline".into(),
            topic: Some(crate::Topic::Deadlines),
            started_at: 1_790_000_000,
            finished: true,
            enqueued: 200,
            skipped: 3,
            accepted: 195,
            sent: 195,
            delivered: 180,
            read: 90,
            failed: [(131026, 2)].into_iter().collect(),
        };
        let report = build_report(&[], &[], 1_790_000_100, 86_400).with_alerts(vec![funnel]);
        let text = report.render_text();
        assert!(
            text.contains(
                "registration-deadline [deadlines]: enqueued 200, accepted 195, sent 195 (100.0 %), \
                 delivered 180 (92.3 %), read 90 (46.2 %), failed 2 (131026 ×2), skipped 3 (opted out since)"
            ),
            "{text}"
        );
        assert!(text.contains("no queries"), "{text}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["alerts"][0]["read"], 90);
    }
}
