//! Rendering replies for WhatsApp: a short lead, the quoted passage (`> ` lines), and for each
//! citation its section path, its date ("as of") and its link; canned texts come from the
//! [`Catalogue`] in the citizen's language. Replies never exceed [`MAX_REPLY_CHARS`] and are
//! never cut inside a word or a link.

use votecheck_index::DeploymentSettings;
use votecheck_outbound::{ButtonId, ConfirmedCommand, limits};

use crate::answer::{Citation, FactCheckMatch, Interactive, MenuRow, Reply, ReplyButton};
use crate::catalogue::Catalogue;
use crate::claim_form::ClaimForm;
use crate::text::shorten;

/// The longest reply the engine writes (WhatsApp's text body limit).
pub const MAX_REPLY_CHARS: usize = limits::MAX_TEXT_BODY;

/// Longest quote of the best passage.
pub const MAX_QUOTE_CHARS: usize = 700;

/// Longest quote of a second passage.
pub const MAX_SECOND_QUOTE_CHARS: usize = 400;

/// Longest claim shown in a fact-check reply.
pub const MAX_CLAIM_CHARS: usize = 300;

/// The alert topics a citizen can subscribe to, as the store names them
/// (`votecheck_store::Topic`); each has `alerts_topic_<topic>` and
/// `alerts_topic_<topic>_description` messages in every language.
pub const ALERT_TOPICS: [&str; 4] = ["deadlines", "election_day", "polling_place", "rumours"];

/// Renders replies in one language.
pub struct Renderer<'a> {
    /// The reply messages.
    pub catalogue: &'a Catalogue,
    /// The deployment's settings (contact, topics).
    pub settings: &'a DeploymentSettings,
    /// The reply language.
    pub language: &'a str,
}

impl Renderer<'_> {
    fn message<'k>(&'k self, key: &'k str) -> &'k str {
        self.catalogue.message(self.language, key)
    }

    fn render(&self, key: &str, values: &[(&str, &str)]) -> String {
        self.catalogue.render(self.language, key, values)
    }

    /// "name, phone, website" of the deployment's contact, if it has one.
    pub fn contact(&self) -> Option<String> {
        let contact = self.settings.contact.as_ref()?;
        let parts: Vec<&str> = [
            &contact.name,
            &contact.phone,
            &contact.website,
            &contact.email,
        ]
        .into_iter()
        .filter_map(|part| part.as_deref())
        .filter(|part| !part.trim().is_empty())
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    fn contact_line(&self) -> Option<String> {
        self.contact()
            .map(|contact| self.render("contact_line", &[("contact", &contact)]))
    }

    fn feedback_buttons(&self) -> Interactive {
        Interactive::Buttons {
            buttons: vec![
                ReplyButton {
                    id: ButtonId::feedback(true).to_string(),
                    title: shorten(self.message("feedback_yes"), limits::MAX_BUTTON_TITLE),
                },
                ReplyButton {
                    id: ButtonId::feedback(false).to_string(),
                    title: shorten(self.message("feedback_no"), limits::MAX_BUTTON_TITLE),
                },
            ],
        }
    }

    fn citation_line(&self, citation: &Citation) -> String {
        let mut line = format!("*{}*", citation.section);
        if let Some(date) = &citation.as_of {
            line.push_str(&format!(" ({})", self.render("as_of", &[("date", date)])));
        }
        if let Some(url) = &citation.url {
            line.push('\n');
            line.push_str(url);
        }
        line
    }

    /// An answer from official passages.
    pub fn answer(&self, citations: &[Citation], fallback_from: Option<&str>) -> Reply {
        let mut text = match fallback_from {
            Some(question_language) => self.render(
                "answer_lead_fallback",
                &[
                    (
                        "language",
                        &self
                            .catalogue
                            .language_name(question_language, self.language),
                    ),
                    (
                        "fallback_language",
                        &self
                            .catalogue
                            .language_name(&citations[0].language, self.language),
                    ),
                ],
            ),
            None => self.message("answer_lead").to_string(),
        };
        for (rank, citation) in citations.iter().enumerate() {
            let quoted = rank == 0 || (rank == 1 && citation.score >= 0.85 * citations[0].score);
            text.push_str("\n\n");
            if quoted {
                let limit = if rank == 0 {
                    MAX_QUOTE_CHARS
                } else {
                    MAX_SECOND_QUOTE_CHARS
                };
                text.push_str(&quote(&shorten(&citation.snippet, limit)));
                text.push('\n');
                text.push_str(&format!("_{}:_ ", self.message("source")));
            }
            text.push_str(&self.citation_line(citation));
        }
        Reply {
            text: fit(text),
            interactive: Some(self.feedback_buttons()),
        }
    }

    /// A recognised fact-checked claim, with the best official passage when one supports it.
    pub fn fact_check(&self, fact_check: &FactCheckMatch, supporting: Option<&Citation>) -> Reply {
        let mut text = self.message("fact_check_lead").to_string();
        // A claim that is the fact-checker's own conclusion ("It is false that …") would read
        // as the opposite of the fact-check under "Claim:" and "Verdict: False".
        let (label, verdict_key) = match fact_check.claim_form {
            ClaimForm::Claim => ("fact_check_claim", "fact_check_verdict"),
            ClaimForm::Conclusion => ("fact_check_conclusion", "fact_check_rating"),
        };
        text.push_str(&format!(
            "\n\n*{}:* _{}_",
            self.message(label),
            shorten(&fact_check.claim, MAX_CLAIM_CHARS)
        ));
        if let Some(verdict) = &fact_check.verdict {
            text.push('\n');
            text.push_str(&self.render(verdict_key, &[("verdict", verdict)]));
        }
        if let Some(checker) = &fact_check.checked_by {
            text.push('\n');
            text.push_str(&match &fact_check.date {
                Some(date) => self.render("fact_check_by", &[("checker", checker), ("date", date)]),
                None => self.render("fact_check_by_undated", &[("checker", checker)]),
            });
        }
        if let Some(url) = &fact_check.url {
            text.push('\n');
            text.push_str(url);
        }
        if let Some(citation) = supporting {
            text.push_str(&format!("\n\n*{}:*\n", self.message("official_source")));
            text.push_str(&quote(&shorten(&citation.snippet, MAX_SECOND_QUOTE_CHARS)));
            text.push('\n');
            text.push_str(&self.citation_line(citation));
        }
        Reply {
            text: fit(text),
            interactive: Some(self.feedback_buttons()),
        }
    }

    /// Nothing answers the question.
    pub fn no_answer(&self) -> Reply {
        let mut text = self.message("no_answer").to_string();
        if let Some(line) = self.contact_line() {
            text.push('\n');
            text.push_str(&line);
        }
        Reply {
            text: fit(text),
            interactive: None,
        }
    }

    /// A request to stop or delete in words no command phrase matched: which one, with a button
    /// for each (tapping one is the command; nothing is done before).
    pub fn command_offer(&self) -> Reply {
        let button = |command: ConfirmedCommand, key: &str| ReplyButton {
            id: ButtonId::Confirm(command).to_string(),
            title: shorten(self.message(key), limits::MAX_BUTTON_TITLE),
        };
        Reply {
            text: fit(self.message("command_offer").to_string()),
            interactive: Some(Interactive::Buttons {
                buttons: vec![
                    button(ConfirmedCommand::Stop, "command_stop_button"),
                    button(ConfirmedCommand::Delete, "command_delete_button"),
                ],
            }),
        }
    }

    /// A partisan request: declined, with procedural help.
    pub fn neutral_refusal(&self) -> Reply {
        let mut text = self.message("neutral_refusal").to_string();
        if let Some(website) = self
            .settings
            .contact
            .as_ref()
            .and_then(|contact| contact.website.as_deref())
        {
            text.push_str("\n\n");
            text.push_str(&self.render("neutral_offer", &[("website", website)]));
        }
        Reply {
            text: fit(text),
            interactive: self.menu_list(),
        }
    }

    /// The welcome text and the topic menu.
    pub fn menu(&self) -> Reply {
        Reply {
            text: fit(self.with_authority("welcome")),
            interactive: self.menu_list(),
        }
    }

    /// The alerts menu: what alerts are, and a list of the topics to subscribe to (rows
    /// `subscribe:<topic>[:<jurisdiction>]`, [`ALERT_TOPICS`]), for the jurisdiction the
    /// message named, if any (left out when it would not fit a row id).
    pub fn alerts_menu(&self, jurisdiction: Option<&str>) -> Reply {
        let rows = ALERT_TOPICS
            .iter()
            .map(|topic| MenuRow {
                id: Some(subscribe_id(topic, jurisdiction))
                    .filter(|id| id.chars().count() <= limits::MAX_ROW_ID)
                    .unwrap_or_else(|| subscribe_id(topic, None)),
                title: shorten(
                    self.message(&format!("alerts_topic_{topic}")),
                    limits::MAX_ROW_TITLE,
                ),
                description: Some(shorten(
                    self.message(&format!("alerts_topic_{topic}_description")),
                    limits::MAX_ROW_DESCRIPTION,
                )),
            })
            .collect();
        Reply {
            text: fit(self.with_authority("alerts_intro")),
            interactive: Some(Interactive::List {
                button: shorten(self.message("alerts_button"), limits::MAX_LIST_BUTTON),
                section_title: shorten(self.message("alerts_section"), limits::MAX_SECTION_TITLE),
                rows,
            }),
        }
    }

    /// The confirmation of a subscription to an alert topic ([`ALERT_TOPICS`]), naming the
    /// jurisdiction when there is one.
    pub fn alerts_subscribed(&self, topic: &str, jurisdiction: Option<&str>) -> Reply {
        let mut title = self.message(&format!("alerts_topic_{topic}")).to_owned();
        if let Some(jurisdiction) = jurisdiction {
            title = format!("{title} ({jurisdiction})");
        }
        self.plain("alerts_subscribed", &[("topic", &title)])
    }

    /// The message `key`, naming the authority the bot speaks for; a deployment that names
    /// none gets the message's `_general` form (not "information from .").
    fn with_authority(&self, key: &str) -> String {
        match self.authority() {
            Some(authority) => self.render(key, &[("authority", &authority)]),
            None => self.render(&format!("{key}_general"), &[]),
        }
    }

    /// The authority the bot speaks for: the deployment's, else its contact's name.
    fn authority(&self) -> Option<String> {
        self.settings
            .defaults
            .authority
            .clone()
            .or_else(|| {
                self.settings
                    .contact
                    .as_ref()
                    .and_then(|contact| contact.name.clone())
            })
            .filter(|authority| !authority.trim().is_empty())
    }

    /// The topic menu as a WhatsApp list, when the deployment has topics.
    pub fn menu_list(&self) -> Option<Interactive> {
        // The deployment's topics, then one row that opens the alerts menu.
        let alerts = MenuRow {
            id: ButtonId::AlertsMenu.to_string(),
            title: shorten(self.message("alerts_button"), limits::MAX_ROW_TITLE),
            description: Some(shorten(
                self.message("alerts_section"),
                limits::MAX_ROW_DESCRIPTION,
            )),
        };
        let rows = self
            .settings
            .topics
            .iter()
            .take(limits::MAX_LIST_ROWS - 1)
            .map(|topic| MenuRow {
                id: ButtonId::Topic(topic.id.clone()).to_string(),
                title: shorten(&topic.title, limits::MAX_ROW_TITLE),
                description: topic
                    .description
                    .as_deref()
                    .map(|description| shorten(description, limits::MAX_ROW_DESCRIPTION)),
            })
            .chain(std::iter::once(alerts))
            .collect();
        Some(Interactive::List {
            button: shorten(self.message("menu_button"), limits::MAX_LIST_BUTTON),
            section_title: shorten(self.message("menu_section"), limits::MAX_SECTION_TITLE),
            rows,
        })
    }

    /// A canned text with no interactive part.
    pub fn plain(&self, key: &str, values: &[(&str, &str)]) -> Reply {
        Reply {
            text: fit(self.render(key, values)),
            interactive: None,
        }
    }

    /// A claim no known fact-check addresses: say so, offer the reporting channel, and a button
    /// to be told if a fact-check is published (the handler adds the message's key to it).
    pub fn rumour_unchecked(&self) -> Reply {
        let mut text = self.message("rumour_unchecked").to_string();
        for line in self.report_channel_lines() {
            text.push_str(&format!("\n- {line}"));
        }
        if let Some(line) = self.contact_line() {
            text.push_str("\n\n");
            text.push_str(&line);
        }
        Reply {
            text: fit(text),
            interactive: Some(Interactive::Buttons {
                buttons: vec![ReplyButton {
                    id: ButtonId::follow_up().to_string(),
                    title: shorten(self.message("follow_up_button"), limits::MAX_BUTTON_TITLE),
                }],
            }),
        }
    }

    /// A question about reporting a problem that an official passage answers ("who do I call if
    /// someone threatens me?"): the official reporting line first, then the answer.
    pub fn answer_after_report_line(
        &self,
        citations: &[Citation],
        fallback_from: Option<&str>,
    ) -> Reply {
        let answer = self.answer(citations, fallback_from);
        Reply {
            text: fit(format!("{}\n\n{}", self.report_problem().text, answer.text)),
            interactive: answer.interactive,
        }
    }

    /// `reply` to the procedural part of a message, after a line declining its partisan part.
    pub fn partisan_part_declined(&self, reply: Reply) -> Reply {
        Reply {
            text: fit(format!(
                "{}\n\n{}",
                self.message("partisan_part_declined"),
                reply.text
            )),
            interactive: reply.interactive,
        }
    }

    /// The phone, website and e-mail of the reporting channel, when the deployment has one.
    fn report_channel_lines(&self) -> Vec<&str> {
        self.settings
            .report
            .as_ref()
            .map(|report| {
                [&report.phone, &report.website, &report.email]
                    .into_iter()
                    .filter_map(|part| part.as_deref())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The official reporting channel.
    pub fn report_problem(&self) -> Reply {
        let mut text = self.message("report_problem").to_string();
        let lines = self.report_channel_lines();
        if lines.is_empty() {
            if let Some(contact) = self.contact() {
                text.push_str(&format!("\n{contact}"));
            }
        } else {
            for line in lines {
                text.push_str(&format!("\n- {line}"));
            }
        }
        text.push_str("\n\n");
        text.push_str(self.message("report_emergency"));
        Reply {
            text: fit(text),
            interactive: None,
        }
    }
}

/// Prefixes every line with `> ` (a WhatsApp quote).
fn quote(text: &str) -> String {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| format!("> {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The id of an alerts-menu row.
fn subscribe_id(topic: &str, jurisdiction: Option<&str>) -> String {
    ButtonId::Subscribe {
        topic: topic.to_owned(),
        jurisdiction: jurisdiction.map(str::to_owned),
    }
    .to_string()
}

/// Keeps a reply within [`MAX_REPLY_CHARS`], dropping whole lines from the end (so no link or word
/// is cut) and, for a single overlong line, shortening it at a word boundary.
pub fn fit(text: String) -> String {
    if text.chars().count() <= MAX_REPLY_CHARS {
        return text;
    }
    let mut out = String::new();
    for line in text.lines() {
        let next = out.chars().count() + line.chars().count() + 1;
        if next > MAX_REPLY_CHARS - 1 {
            if out.is_empty() {
                return shorten(line, MAX_REPLY_CHARS);
            }
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    format!("{}…", out.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact_check(claim: &str, claim_form: ClaimForm) -> FactCheckMatch {
        FactCheckMatch {
            passage_id: "p".into(),
            source: "fact-checks/a.json".into(),
            claim: claim.into(),
            verdict: Some("Falso".into()),
            checked_by: Some("Tribunal".into()),
            date: Some("2022-10-01".into()),
            url: Some("https://example.org/check".into()),
            similarity: 0.9,
            claim_form,
        }
    }

    #[test]
    fn a_conclusion_is_shown_as_the_checkers_conclusion_never_as_the_claim() {
        let catalogue = Catalogue::load().unwrap();
        let settings = DeploymentSettings::default();
        let renderer = |language| Renderer {
            catalogue: &catalogue,
            settings: &settings,
            language,
        };
        let conclusion = fact_check(
            "Não é verdade que a urna eletrônica pode ser hackeada",
            ClaimForm::Conclusion,
        );
        let text = renderer("pt").fact_check(&conclusion, None).text;
        assert!(
            text.contains("*Conclusão da checagem:* _Não é verdade que"),
            "{text}"
        );
        assert!(text.contains("Classificação: *Falso*"), "{text}");
        assert!(
            !text.contains("Alegação") && !text.contains("Veredito"),
            "{text}"
        );
        assert!(text.contains("https://example.org/check"), "{text}");
        let text = renderer("en").fact_check(&conclusion, None).text;
        assert!(
            text.contains("The fact-checkers' conclusion:") && !text.contains("Claim:"),
            "{text}"
        );

        let claim = fact_check("A urna eletrônica pode ser hackeada", ClaimForm::Claim);
        let text = renderer("pt").fact_check(&claim, None).text;
        assert!(
            text.contains("*Alegação:* _A urna") && text.contains("Veredito: *Falso*"),
            "{text}"
        );
    }

    #[test]
    fn a_deployment_without_an_authority_is_welcomed_without_an_empty_name() {
        let catalogue = Catalogue::load().unwrap();
        let unnamed = DeploymentSettings::default();
        let mut named = DeploymentSettings::default();
        named.defaults.authority = Some("Riverside County Elections Office".into());
        for language in ["en", "es", "ja", "ar"] {
            let renderer = |settings| Renderer {
                catalogue: &catalogue,
                settings,
                language,
            };
            for text in [
                renderer(&unnamed).menu().text,
                renderer(&unnamed).alerts_menu(None).text,
            ] {
                assert!(!text.contains("{authority}"), "{language}: {text}");
                assert!(!text.contains(" ."), "{language}: {text}");
                assert!(!text.contains("  "), "{language}: {text}");
            }
            assert!(
                renderer(&named)
                    .menu()
                    .text
                    .contains("Riverside County Elections Office"),
                "{language}"
            );
        }
        assert_eq!(
            Renderer {
                catalogue: &catalogue,
                settings: &unnamed,
                language: "en",
            }
            .menu()
            .text,
            "Hi! I answer questions about voting with official information. Pick a topic or type your question."
        );
    }

    #[test]
    fn fit_keeps_short_text_and_cuts_long_text_at_lines() {
        assert_eq!(fit("short".to_string()), "short");
        let long = (0..400)
            .map(|i| format!("line {i} https://example.org/{i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let fitted = fit(long);
        assert!(fitted.chars().count() <= MAX_REPLY_CHARS);
        let last = fitted.lines().last().unwrap();
        assert!(last.ends_with('…'));
        assert!(
            last.trim_end_matches('…')
                .chars()
                .last()
                .unwrap()
                .is_ascii_digit(),
            "{last}"
        );
        let one_line = "word ".repeat(2000);
        assert!(fit(one_line).chars().count() <= MAX_REPLY_CHARS);
    }

    #[test]
    fn quotes_every_line() {
        assert_eq!(quote("a\n\nb"), "> a\n> b");
    }
}
