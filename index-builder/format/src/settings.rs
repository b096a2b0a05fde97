//! Deployment settings from the corpus's `corpus.toml`: defaults for every document, the contact
//! line offered when the bot has no answer, the official channel for reporting problems, and the
//! topics of the menu. The builder reads them and records them in the manifest, so the Lambda
//! needs nothing but the index.

use serde::{Deserialize, Serialize};

/// Everything `corpus.toml` may say. Unknown keys are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeploymentSettings {
    /// Defaults applied to every document that does not say otherwise.
    pub defaults: DocumentDefaults,
    /// Who citizens can contact when the bot has no answer.
    pub contact: Option<Contact>,
    /// The official channel for reporting problems (intimidation, closed polling place...).
    pub report: Option<ReportChannel>,
    /// Topics of the menu, in order.
    pub topics: Vec<Topic>,
}

/// Defaults for documents (`[defaults]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocumentDefaults {
    /// BCP 47 tag; also the deployment's default reply language.
    pub language: Option<String>,
    /// Publisher.
    pub authority: Option<String>,
    /// Jurisdiction.
    pub jurisdiction: Option<String>,
}

/// The deployment's contact (`[contact]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Contact {
    /// The election office's name.
    pub name: Option<String>,
    /// Its phone number.
    pub phone: Option<String>,
    /// Its website.
    pub website: Option<String>,
    /// Its e-mail address.
    pub email: Option<String>,
    /// Its opening hours.
    pub hours: Option<String>,
}

/// The official reporting channel (`[report]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportChannel {
    /// Phone number to report on.
    pub phone: Option<String>,
    /// Web page to report on.
    pub website: Option<String>,
    /// E-mail address to report to.
    pub email: Option<String>,
}

/// One menu topic (`[[topics]]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Topic {
    /// Stable identifier, used as the list row id.
    pub id: String,
    /// Short title (WhatsApp list rows allow 24 characters).
    pub title: String,
    /// One-line description (72 characters).
    pub description: Option<String>,
    /// The question asked when the citizen picks the topic.
    pub question: Option<String>,
}
