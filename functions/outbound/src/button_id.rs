//! The ids of the buttons and list rows votecheck sends. WhatsApp hands an id back in the
//! webhook when the citizen taps it, so each format is written here once, for the side that
//! makes it (the engine's reply, the handler) and the side that reads it (the handler).
//!
//! | id | made by | means |
//! |---|---|---|
//! | `feedback:yes:<query>`, `feedback:no:<query>` | the answer's buttons | the answer to the query with this key helped, or did not |
//! | `topic:<topic>` | the topic menu's rows | ask the topic's question |
//! | `subscribe:<topic>`, `subscribe:<topic>:<jurisdiction>` | the alerts menu's rows | subscribe to alerts on this topic (for this jurisdiction) |
//! | `alerts` | the topic menu's last row | show the alerts menu |
//! | `follow:<query>` | the button under a reply to an unchecked rumour | tell me when the message with this key is fact-checked |
//! | `confirm:stop`, `confirm:delete` | the buttons under "stop or delete?" | the citizen confirms the opt-out, or the deletion of their data |
//!
//! The engine writes the feedback and follow-up buttons without a query (`feedback:yes`,
//! `follow`); the handler adds the key of the message it answers before sending
//! ([`ButtonId::for_query`]).
//!
//! ```
//! use votecheck_outbound::ButtonId;
//!
//! let sent = ButtonId::feedback(true).for_query("3f2a").to_string();
//! assert_eq!(sent, "feedback:yes:3f2a");
//! assert_eq!(
//!     ButtonId::parse(&sent),
//!     ButtonId::Feedback { helpful: true, query: Some("3f2a".into()) }
//! );
//! assert_eq!(ButtonId::parse("topic:mail"), ButtonId::Topic("mail".into()));
//! assert_eq!(ButtonId::parse("Yes"), ButtonId::Other("Yes".into()));
//! ```

use std::fmt;

/// The prefix of feedback buttons.
pub const FEEDBACK_PREFIX: &str = "feedback:";
/// The prefix of the topic menu's rows.
pub const TOPIC_PREFIX: &str = "topic:";
/// The prefix of the alerts menu's rows.
pub const SUBSCRIBE_PREFIX: &str = "subscribe:";
/// The follow-up button, without its query.
pub const FOLLOW_UP: &str = "follow";
/// The topic menu's row that opens the alerts menu.
pub const ALERTS_MENU: &str = "alerts";
/// The prefix of the buttons that confirm a command.
pub const CONFIRM_PREFIX: &str = "confirm:";

/// A command a citizen confirms with a button, after asking in words no command phrase matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmedCommand {
    /// No more messages.
    Stop,
    /// Delete everything stored about the citizen.
    Delete,
}

impl ConfirmedCommand {
    /// The name in the button's id.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmedCommand::Stop => "stop",
            ConfirmedCommand::Delete => "delete",
        }
    }
}

/// What a tapped button or chosen row means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonId {
    /// "Was this helpful?": yes or no, about the query with this key. Any id in the feedback
    /// namespace is feedback; one whose answer or key cannot be read (an old button, a forged
    /// id) has `helpful: false` or `query: None`, and records nothing.
    Feedback {
        /// Whether the citizen found the answer helpful.
        helpful: bool,
        /// The key of the answered message, as text.
        query: Option<String>,
    },
    /// A topic of the menu.
    Topic(String),
    /// An alert topic to subscribe to, for a jurisdiction or for alerts to everyone.
    Subscribe {
        /// The topic (`election_day`...).
        topic: String,
        /// The jurisdiction, as the deployment names it.
        jurisdiction: Option<String>,
    },
    /// "Tell me when this is checked", about the query with this key (`None`: the engine's
    /// button before the handler adds the key, or a forged id).
    FollowUp {
        /// The key of the rumour's message, as text.
        query: Option<String>,
    },
    /// The topic menu's row that opens the alerts menu.
    AlertsMenu,
    /// A button that confirms a command.
    Confirm(ConfirmedCommand),
    /// An id votecheck did not make (a template's quick-reply payload, say).
    Other(String),
}

impl ButtonId {
    /// A feedback button as the engine writes it, before the handler adds the query.
    pub fn feedback(helpful: bool) -> Self {
        ButtonId::Feedback {
            helpful,
            query: None,
        }
    }

    /// The follow-up button as the engine writes it, before the handler adds the query.
    pub fn follow_up() -> Self {
        ButtonId::FollowUp { query: None }
    }

    /// This id for the message with `query` as key (feedback and follow-up buttons; others
    /// unchanged).
    pub fn for_query(self, query: impl Into<String>) -> Self {
        match self {
            ButtonId::Feedback { helpful, .. } => ButtonId::Feedback {
                helpful,
                query: Some(query.into()),
            },
            ButtonId::FollowUp { .. } => ButtonId::FollowUp {
                query: Some(query.into()),
            },
            other => other,
        }
    }

    /// Reads an id from a webhook.
    pub fn parse(id: &str) -> Self {
        if let Some(rest) = id.strip_prefix(FEEDBACK_PREFIX) {
            let (answer, query) = match rest.split_once(':') {
                Some((answer, query)) => (answer, Some(query)),
                None => (rest, None),
            };
            let helpful = answer == "yes";
            let known = helpful || answer == "no";
            return ButtonId::Feedback {
                helpful,
                query: query
                    .filter(|query| known && !query.is_empty())
                    .map(str::to_owned),
            };
        }
        if let Some(topic) = id.strip_prefix(TOPIC_PREFIX) {
            return ButtonId::Topic(topic.to_owned());
        }
        if id == FOLLOW_UP {
            return ButtonId::FollowUp { query: None };
        }
        if id == ALERTS_MENU {
            return ButtonId::AlertsMenu;
        }
        match id.strip_prefix(CONFIRM_PREFIX) {
            Some("stop") => return ButtonId::Confirm(ConfirmedCommand::Stop),
            Some("delete") => return ButtonId::Confirm(ConfirmedCommand::Delete),
            _ => {}
        }
        if let Some(query) = id
            .strip_prefix(FOLLOW_UP)
            .and_then(|rest| rest.strip_prefix(':'))
        {
            return ButtonId::FollowUp {
                query: (!query.is_empty()).then(|| query.to_owned()),
            };
        }
        if let Some(rest) = id.strip_prefix(SUBSCRIBE_PREFIX) {
            let (topic, jurisdiction) = match rest.split_once(':') {
                Some((topic, jurisdiction)) => (topic, Some(jurisdiction.to_owned())),
                None => (rest, None),
            };
            return ButtonId::Subscribe {
                topic: topic.to_owned(),
                jurisdiction,
            };
        }
        ButtonId::Other(id.to_owned())
    }

    /// Whether the id is a feedback tap.
    pub fn is_feedback(id: &str) -> bool {
        id.starts_with(FEEDBACK_PREFIX)
    }
}

impl fmt::Display for ButtonId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ButtonId::Feedback { helpful, query } => {
                let answer = if *helpful { "yes" } else { "no" };
                write!(formatter, "{FEEDBACK_PREFIX}{answer}")?;
                if let Some(query) = query {
                    write!(formatter, ":{query}")?;
                }
                Ok(())
            }
            ButtonId::Topic(topic) => write!(formatter, "{TOPIC_PREFIX}{topic}"),
            ButtonId::FollowUp { query } => {
                write!(formatter, "{FOLLOW_UP}")?;
                if let Some(query) = query {
                    write!(formatter, ":{query}")?;
                }
                Ok(())
            }
            ButtonId::Subscribe {
                topic,
                jurisdiction,
            } => {
                write!(formatter, "{SUBSCRIBE_PREFIX}{topic}")?;
                if let Some(jurisdiction) = jurisdiction {
                    write!(formatter, ":{jurisdiction}")?;
                }
                Ok(())
            }
            ButtonId::AlertsMenu => formatter.write_str(ALERTS_MENU),
            ButtonId::Confirm(command) => write!(formatter, "{CONFIRM_PREFIX}{}", command.as_str()),
            ButtonId::Other(id) => formatter.write_str(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_reads_back_as_written() {
        for id in [
            ButtonId::feedback(true),
            ButtonId::feedback(false),
            ButtonId::feedback(false).for_query("0123abcd"),
            ButtonId::Topic("register".into()),
            ButtonId::Subscribe {
                topic: "election_day".into(),
                jurisdiction: None,
            },
            ButtonId::Subscribe {
                topic: "deadlines".into(),
                jurisdiction: Some("Riverside County".into()),
            },
            ButtonId::follow_up(),
            ButtonId::follow_up().for_query("9b02ff"),
            ButtonId::AlertsMenu,
            ButtonId::Confirm(ConfirmedCommand::Stop),
            ButtonId::Confirm(ConfirmedCommand::Delete),
            ButtonId::Other("STOP".into()),
        ] {
            assert_eq!(ButtonId::parse(&id.to_string()), id, "{id}");
        }
        assert_eq!(
            ButtonId::parse("follow:"),
            ButtonId::FollowUp { query: None },
            "a follow-up about nothing"
        );
        assert_eq!(
            ButtonId::parse("followers"),
            ButtonId::Other("followers".into())
        );
        assert_eq!(
            ButtonId::parse("confirm:everything"),
            ButtonId::Other("confirm:everything".into()),
            "only the two commands can be confirmed"
        );
    }

    #[test]
    fn a_forged_feedback_id_is_feedback_about_nothing() {
        for forged in [
            "feedback:",
            "feedback:maybe:0123",
            "feedback:yes:",
            "feedback:",
        ] {
            match ButtonId::parse(forged) {
                ButtonId::Feedback { query, .. } => assert_eq!(query, None, "{forged}"),
                other => panic!("{forged} read as {other:?}"),
            }
            assert!(ButtonId::is_feedback(forged));
        }
        assert!(!ButtonId::is_feedback("topic:feedback:yes"));
        assert_eq!(
            ButtonId::Topic("a".into()).for_query("q"),
            ButtonId::Topic("a".into())
        );
    }
}
