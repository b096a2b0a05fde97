//! The value the engine returns for one question: [`Answer`], with its [`Outcome`], [`Intent`],
//! [`Citation`]s, the [`FactCheckMatch`] when a rumour was recognised, the rendered [`Reply`] and
//! [`Timings`]. Callers log it, record it and send its reply; nothing in it needs the engine.

use serde::Serialize;

/// What the engine decided to do with a message.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered from official passages.
    Answer,
    /// Matched a fact-checked claim.
    FactCheck,
    /// Nothing answers the question with enough confidence.
    NoAnswer,
    /// A request for opinions on parties or candidates: declined, procedural help offered.
    NeutralRefusal,
    /// Greeting, help or menu request: the topic menu.
    Menu,
    /// Thanks, goodbye.
    SmallTalk,
    /// A problem at the polls: the official reporting channel.
    ReportProblem,
    /// Opt-out, opt-in or delete-my-data command.
    OptOut,
    /// A request to stop or delete in the citizen's own words: which one is asked, with a
    /// button for each; nothing is done until one is tapped.
    CommandOffer,
}

impl Outcome {
    /// The snake_case name used in logs, records and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Answer => "answer",
            Outcome::FactCheck => "fact_check",
            Outcome::NoAnswer => "no_answer",
            Outcome::NeutralRefusal => "neutral_refusal",
            Outcome::Menu => "menu",
            Outcome::SmallTalk => "small_talk",
            Outcome::ReportProblem => "report_problem",
            Outcome::OptOut => "opt_out",
            Outcome::CommandOffer => "command_offer",
        }
    }

    /// The outcome named `name`.
    pub fn parse(name: &str) -> Option<Outcome> {
        [
            Outcome::Answer,
            Outcome::FactCheck,
            Outcome::NoAnswer,
            Outcome::NeutralRefusal,
            Outcome::Menu,
            Outcome::SmallTalk,
            Outcome::ReportProblem,
            Outcome::OptOut,
            Outcome::CommandOffer,
        ]
        .into_iter()
        .find(|outcome| outcome.as_str() == name)
    }
}

/// What the citizen wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// A question about voting.
    Question,
    /// A greeting.
    Greeting,
    /// A request for the topic menu.
    Menu,
    /// A request to receive alerts (the alert topics to subscribe to).
    Alerts,
    /// Thanks, jokes, chat.
    SmallTalk,
    /// A request for an opinion on parties or candidates.
    Partisan,
    /// "Stop": no more messages.
    OptOut,
    /// "Start" again after an opt-out.
    OptIn,
    /// A request to delete the citizen's data.
    DeleteMyData,
    /// A report of a problem at the polls.
    ReportProblem,
    /// Stop or delete, asked in words no command phrase matched: offered, not acted on.
    CommandOffer,
}

impl Intent {
    /// Whether this is a command about the citizen's data or messages (opt-out, opt-in, delete
    /// my data): the handler applies these before anything else, even over the rate limit.
    pub fn is_command(self) -> bool {
        matches!(self, Intent::OptOut | Intent::OptIn | Intent::DeleteMyData)
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Question => "question",
            Intent::Greeting => "greeting",
            Intent::Menu => "menu",
            Intent::Alerts => "alerts",
            Intent::SmallTalk => "small_talk",
            Intent::Partisan => "partisan",
            Intent::OptOut => "opt_out",
            Intent::OptIn => "opt_in",
            Intent::DeleteMyData => "delete_my_data",
            Intent::ReportProblem => "report_problem",
            Intent::CommandOffer => "command_offer",
        }
    }
}

/// One cited passage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Citation {
    /// The cited passage's id.
    pub passage_id: String,
    /// The document's source path, as the corpus format defines it.
    pub source: String,
    /// The passage's heading path.
    pub section: String,
    /// The document's title.
    pub title: String,
    /// Link to the passage in its published document.
    pub url: Option<String>,
    /// The quoted text (a passage, possibly shortened at a word boundary).
    pub snippet: String,
    /// Retrieval score (BM25 over fields; comparable within one question only).
    pub score: f32,
    /// How much of the question's information the passage covers, 0 to 1 (see `retrieval`).
    pub confidence: f32,
    /// Cosine similarity of the passage's and the question's embeddings (0 without vectors).
    pub similarity: f32,
    /// The passage's language (BCP 47).
    pub language: String,
    /// The document's date shown as "as of".
    pub as_of: Option<String>,
}

/// A recognised fact-checked claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactCheckMatch {
    /// The fact-check passage's id.
    pub passage_id: String,
    /// The file it came from.
    pub source: String,
    /// The claim as reviewed.
    pub claim: String,
    /// The fact-checker's rating.
    pub verdict: Option<String>,
    /// Who checked it.
    pub checked_by: Option<String>,
    /// When it was published.
    pub date: Option<String>,
    /// Link to the fact-check.
    pub url: Option<String>,
    /// How closely the message matches the claim, 0 to 1.
    pub similarity: f32,
    /// Whether `claim` is the claim that circulated or the fact-checker's conclusion (then it
    /// is shown as the conclusion, never as "Claim: …").
    pub claim_form: crate::claim_form::ClaimForm,
}

/// A row of the topic menu (a WhatsApp list row; its id is a [`votecheck_outbound::ButtonId::Topic`]).
pub type MenuRow = votecheck_outbound::ListRow;

/// A reply button (its id is a [`votecheck_outbound::ButtonId`]).
pub type ReplyButton = votecheck_outbound::Button;

/// Interactive elements that accompany the reply text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Interactive {
    /// A list message: the button that opens it, a section title, the rows.
    List {
        /// The button that opens the list.
        button: String,
        /// The title above the rows.
        section_title: String,
        /// The rows.
        rows: Vec<MenuRow>,
    },
    /// Reply buttons under the text.
    Buttons {
        /// At most three.
        buttons: Vec<ReplyButton>,
    },
}

impl Interactive {
    /// The message that carries these buttons or this list under `body`.
    pub fn with_body(&self, body: String) -> votecheck_outbound::OutboundContent {
        match self {
            Interactive::List {
                button,
                section_title,
                rows,
            } => votecheck_outbound::OutboundContent::List {
                body,
                button: button.clone(),
                section_title: section_title.clone(),
                rows: rows.clone(),
            },
            Interactive::Buttons { buttons } => votecheck_outbound::OutboundContent::Buttons {
                body,
                buttons: buttons.clone(),
            },
        }
    }
}

/// The reply as the citizen sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    /// The exact WhatsApp text (at most 4096 characters).
    pub text: String,
    /// Buttons or a list, when the reply has them.
    pub interactive: Option<Interactive>,
}

/// Time spent in each step, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Language detection.
    pub language_us: u64,
    /// Intent recognition.
    pub intent_us: u64,
    /// Retrieval and fact-check matching.
    pub retrieval_us: u64,
    /// The whole answer.
    pub total_us: u64,
}

/// Everything the engine decided about one message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    /// What the engine decided to do.
    pub outcome: Outcome,
    /// The reply language (BCP 47).
    pub language: String,
    /// What the citizen wants.
    pub intent: Intent,
    /// Cited passages, best first (at most 3).
    pub citations: Vec<Citation>,
    /// The fact-check the message matches, if any.
    pub fact_check: Option<FactCheckMatch>,
    /// Whether the passages are in the deployment's default language instead of the citizen's.
    pub fallback_language: bool,
    /// The jurisdiction the question named, if any.
    pub jurisdiction: Option<String>,
    /// Whether the message also asked for a partisan opinion, which the reply declines while
    /// answering the rest.
    pub declined_partisan: bool,
    /// The reply as the citizen sees it.
    pub reply: Reply,
    /// Time spent in each step.
    pub timings: Timings,
}
