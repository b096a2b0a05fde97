//! The unit of retrieval: a [`Passage`], a piece of an official document small enough to quote
//! in a WhatsApp reply, or one fact-check ([`ClaimReview`]).

use serde::{Deserialize, Serialize};

/// Separator between the levels of a section path ("Texas voter FAQ › How do I vote?").
pub const SECTION_SEPARATOR: &str = " › ";

/// What a passage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PassageKind {
    /// Text of an official document.
    Passage,
    /// A schema.org ClaimReview fact-check.
    FactCheck,
}

impl PassageKind {
    /// The name stored in the index (`passage`, `fact_check`).
    pub fn as_str(self) -> &'static str {
        match self {
            PassageKind::Passage => "passage",
            PassageKind::FactCheck => "fact_check",
        }
    }

    /// The kind stored under a name, if any.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "passage" => Some(PassageKind::Passage),
            "fact_check" => Some(PassageKind::FactCheck),
            _ => None,
        }
    }
}

/// One retrievable passage with everything needed to cite it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    /// Stable id derived from source, section and position.
    pub passage_id: String,
    /// Official text or fact-check.
    pub kind: PassageKind,
    /// Path of the document relative to the corpus root, `/`-separated.
    pub source: String,
    /// Heading path of the passage, levels joined by [`SECTION_SEPARATOR`].
    pub section: String,
    /// Title of the document.
    pub title: String,
    /// `source_url` of the document plus `#anchor` when the heading has one.
    pub url: Option<String>,
    /// BCP 47 language tag.
    pub language: String,
    /// Jurisdiction the document applies to, as written in the corpus.
    pub jurisdiction: Option<String>,
    /// Publisher of the document.
    pub authority: Option<String>,
    /// Kind of document (`guide`, `faq`, `law`, `notice`, `fact_check`).
    pub document_kind: Option<String>,
    /// Publication date, YYYY-MM-DD.
    pub published: Option<String>,
    /// Date of last update, YYYY-MM-DD.
    pub updated: Option<String>,
    /// Order of the passage within its document.
    pub position: u64,
    /// The passage text (for a fact-check: the review's explanation).
    pub text: String,
    /// The fact-check, for passages of kind [`PassageKind::FactCheck`].
    pub claim_review: Option<ClaimReview>,
}

impl Passage {
    /// The passage as one line of a passage export (`index-builder export`), the format the BM25
    /// peers in `bench/peers/` read.
    pub fn export_json(&self) -> serde_json::Value {
        serde_json::json!({
            "passage_id": self.passage_id,
            "source": self.source,
            "section": self.section,
            "title": self.title,
            "language": self.language,
            "jurisdiction": self.jurisdiction,
            "kind": self.kind.as_str(),
            "claim": self.claim_review.as_ref().map(|review| review.claim.as_str()),
            "text": self.text,
        })
    }

    /// The date a citation should show as "as of": the update date, else the publication date.
    pub fn as_of(&self) -> Option<&str> {
        self.updated.as_deref().or(self.published.as_deref())
    }
}

/// The fields of a schema.org ClaimReview that votecheck uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimReview {
    /// The claim that was checked (`claimReviewed`).
    pub claim: String,
    /// The verdict in words (`reviewRating.alternateName`).
    pub verdict: Option<String>,
    /// `reviewRating.ratingValue`.
    pub rating_value: Option<f64>,
    /// `reviewRating.bestRating`.
    pub best_rating: Option<f64>,
    /// `reviewRating.worstRating`.
    pub worst_rating: Option<f64>,
    /// Link to the fact-check (`url`).
    pub url: Option<String>,
    /// When the fact-check was published (`datePublished`).
    pub date_published: Option<String>,
    /// Who checked it (`author.name`).
    pub checked_by: Option<String>,
    /// `author.url`.
    pub checked_by_url: Option<String>,
    /// Who made the claim (`itemReviewed.author.name`).
    pub claimant: Option<String>,
    /// When the claim was made (`itemReviewed.datePublished`).
    pub claim_date: Option<String>,
    /// Where the claim appeared (`itemReviewed.appearance[].url`).
    pub appearances: Vec<String>,
    /// `headline`.
    pub headline: Option<String>,
}
