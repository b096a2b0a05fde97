//! # votecheck-follow-ups: late verdicts for the citizens who asked
//!
//! A citizen who forwarded a rumour that no fact-check addressed can tap "tell me if checked"
//! (a [`FollowUp`] in the store). After a corpus update brings new ClaimReview items,
//! [`run_follow_ups`] reads the pending follow-ups in pages and asks the new index's engine
//! about each question exactly as the webhook would for a forwarded message (the same matcher,
//! the same threshold). Each one that now gets a fact-check is completed in the store first
//! (once, whatever runs concurrently) and its verdict sent: inside the citizen's 24-hour window
//! as the engine's own fact-check reply, outside it as the `fact_check_update` template (claim,
//! rating, link). A dry run lists the matches and changes nothing.
//!
//! `votecheck alerts follow-ups --index NEW` runs it against a deployment; `votecheck serve`
//! runs it after each `--watch` rebuild, into the console.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use tracing::{info, warn};
use votecheck_alerts::sender::AlertChannel;
use votecheck_engine::{ConversationContext, Engine, FactCheckMatch, Outcome};
use votecheck_graph::{GraphError, Recipient};
use votecheck_outbound::window::choose;
use votecheck_outbound::{OutboundContent, Template};
use votecheck_store::contact::{ContactAddress, ContactSealer};
use votecheck_store::{Claim, FollowUp, Store, StoreError};

/// The message template a late verdict is sent with outside the citizen's 24-hour window. The
/// deployment has it approved in each language, with three body parameters: the claim, the
/// rating and the fact-check's link.
pub const TEMPLATE: &str = "fact_check_update";

/// Pending follow-ups read per page.
const PAGE: u32 = 500;

/// The longest claim put in the template (its body parameters are short by design).
const MAX_CLAIM_CHARS: usize = 200;

/// What to do with the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// List them; change and send nothing.
    DryRun,
    /// Complete each in the store and send its verdict.
    Send,
}

/// One follow-up that now has a fact-check.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The query's key (the message key of the rumour).
    pub query_id: String,
    /// The citizen's language.
    pub language: String,
    /// The fact-check that addresses it (its passage id).
    pub fact_check_id: String,
    /// How similar the message and the fact-check's claim are.
    pub similarity: f32,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FollowUpReport {
    /// Pending follow-ups read.
    pub pending: u64,
    /// Those that now have a fact-check.
    pub matches: Vec<Match>,
    /// Verdicts sent.
    pub sent: u64,
    /// Matches completed before (another run got there first): not sent again.
    pub already_sent: u64,
    /// Verdicts that could not be sent (the follow-up stays pending when nothing went out).
    pub failed: u64,
    /// Matches not sent because the citizen had opted out.
    pub opted_out: u64,
}

impl std::fmt::Display for FollowUpReport {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            formatter,
            "{} pending follow-up(s); {} now have a fact-check",
            self.pending,
            self.matches.len()
        )?;
        for found in &self.matches {
            writeln!(
                formatter,
                "  query {}… [{}] -> {} (similarity {:.2})",
                found.query_id.chars().take(12).collect::<String>(),
                found.language,
                found.fact_check_id,
                found.similarity
            )?;
        }
        write!(
            formatter,
            "sent {}, sent before {}, failed {}, opted out {}",
            self.sent, self.already_sent, self.failed, self.opted_out
        )
    }
}

/// WhatsApp's code for a template language, from the citizen's language (a primary subtag).
pub fn template_language(language: &str) -> &str {
    match language {
        "pt" => "pt_BR",
        "zh" => "zh_CN",
        "tl" => "fil",
        other => other,
    }
}

/// The engine's fact-check for `follow_up`'s question, asked as a forwarded message in the
/// citizen's language: the webhook's own matcher and threshold.
pub fn fact_check_for(engine: &Engine, follow_up: &FollowUp) -> Option<(FactCheckMatch, String)> {
    let context = ConversationContext {
        preferred_language: Some(follow_up.language.clone()),
        previous_language: Some(follow_up.language.clone()),
        forwarded: true,
    };
    let answer = engine.answer(&follow_up.question, &context);
    match (answer.outcome, answer.fact_check) {
        (Outcome::FactCheck, Some(fact_check)) => Some((fact_check, answer.reply.text)),
        _ => None,
    }
}

/// Matches every pending follow-up against `engine`'s fact-checks and, in [`Mode::Send`], sends
/// each verdict once through `channel`. `salt` is the deployment's id salt (it opens the sealed
/// addresses).
pub async fn run_follow_ups(
    engine: &Engine,
    store: &dyn Store,
    channel: &dyn AlertChannel,
    salt: &[u8],
    mode: Mode,
    now: i64,
) -> Result<FollowUpReport, StoreError> {
    let sealer = ContactSealer::from_salt(salt);
    let mut report = FollowUpReport::default();
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .pending_follow_ups(cursor.as_deref(), PAGE, now)
            .await?;
        for follow_up in &page.follow_ups {
            report.pending += 1;
            let Some((fact_check, reply_text)) = fact_check_for(engine, follow_up) else {
                continue;
            };
            report.matches.push(Match {
                query_id: follow_up.query_id.clone(),
                language: follow_up.language.clone(),
                fact_check_id: fact_check.passage_id.clone(),
                similarity: fact_check.similarity,
            });
            if mode == Mode::Send {
                send_verdict(
                    store,
                    channel,
                    &sealer,
                    follow_up,
                    &fact_check,
                    reply_text,
                    now,
                    &mut report,
                )
                .await?;
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    info!(
        pending = report.pending,
        matched = report.matches.len(),
        sent = report.sent,
        "follow-ups run"
    );
    Ok(report)
}

/// Completes one follow-up (once) and sends its verdict.
#[allow(clippy::too_many_arguments)]
async fn send_verdict(
    store: &dyn Store,
    channel: &dyn AlertChannel,
    sealer: &ContactSealer,
    follow_up: &FollowUp,
    fact_check: &FactCheckMatch,
    reply_text: String,
    now: i64,
    report: &mut FollowUpReport,
) -> Result<(), StoreError> {
    let Some(sealed) = &follow_up.contact else {
        warn!("a follow-up without an address cannot be answered");
        report.failed += 1;
        return Ok(());
    };
    let address = match sealer.open(sealed) {
        Ok(address) => address,
        Err(problem) => {
            warn!(%problem, "a follow-up's address does not open under this salt");
            report.failed += 1;
            return Ok(());
        }
    };
    // A citizen who opted out since gets nothing ("stop" also ends pending follow-ups; this
    // covers one that raced it).
    let preferences = store
        .preferences(&follow_up.citizen, now)
        .await
        .ok()
        .flatten();
    if preferences
        .as_ref()
        .is_some_and(|preferences| preferences.opted_out)
    {
        report.opted_out += 1;
        return Ok(());
    }
    match store
        .complete_follow_up(
            &follow_up.citizen,
            &follow_up.query_id,
            &fact_check.passage_id,
            now,
        )
        .await?
    {
        Claim::Duplicate => {
            report.already_sent += 1;
            return Ok(());
        }
        Claim::Claimed => {}
    }
    let last_seen = preferences.and_then(|preferences| preferences.last_seen);
    let claim: String = fact_check.claim.chars().take(MAX_CLAIM_CHARS).collect();
    let template = Template {
        name: TEMPLATE.to_owned(),
        language: template_language(&follow_up.language).to_owned(),
        body_parameters: vec![
            claim,
            fact_check.verdict.clone().unwrap_or_else(|| "-".to_owned()),
            fact_check.url.clone().unwrap_or_else(|| "-".to_owned()),
        ],
    };
    let content = choose(
        OutboundContent::Text { body: reply_text },
        template,
        last_seen,
        now,
    );
    let to = match address {
        ContactAddress::PhoneNumber(number) => Recipient::PhoneNumber(number),
        ContactAddress::BusinessScopedUserId(id) => Recipient::BusinessScopedUserId(id),
    };
    match channel.send(&to, &content).await {
        Ok(_) => report.sent += 1,
        Err(problem) => {
            report.failed += 1;
            warn!(%problem, "sending a late verdict failed");
            if nothing_went_out(&problem) {
                // Pending again, for the next run.
                store.request_follow_up(follow_up).await?;
            }
        }
    }
    Ok(())
}

/// Whether a failed send certainly delivered nothing, so that trying again later is safe.
fn nothing_went_out(problem: &GraphError) -> bool {
    !problem.may_have_been_delivered()
}
