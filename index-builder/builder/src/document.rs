//! What a parsed source file looks like before it is cut into passages: its metadata and its
//! sections (a heading path and the text blocks under it). Every format parser produces these
//! types, so chunking and indexing never depend on the file format.

use votecheck_index::ClaimReview;

/// Metadata a document declares about itself (front matter, `<title>`, `<html lang>`...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentMetadata {
    /// `title`: the document's title.
    pub title: Option<String>,
    /// `source_url`: where the document is published (http or https).
    pub source_url: Option<String>,
    /// BCP 47 tag, already normalised.
    pub language: Option<String>,
    /// `jurisdiction`: where the document applies.
    pub jurisdiction: Option<String>,
    /// `authority`: who published the document.
    pub authority: Option<String>,
    /// YYYY-MM-DD.
    pub published: Option<String>,
    /// YYYY-MM-DD.
    pub updated: Option<String>,
    /// `guide`, `faq`, `law`, `notice` or another word the authority uses.
    pub kind: Option<String>,
}

/// One heading of a section's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// The heading's text.
    pub text: String,
    /// An explicit anchor (`{#id}` in Markdown, `id` in HTML).
    pub anchor: Option<String>,
}

/// The text under one heading (up to the next heading of any level).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    /// The headings from the outermost to this section's own; empty before the first heading.
    pub headings: Vec<Heading>,
    /// Paragraphs, list items, table rows... in reading order.
    pub blocks: Vec<String>,
}

impl Section {
    /// The anchor of the section's own heading, if it has one.
    pub fn anchor(&self) -> Option<&str> {
        self.headings
            .last()
            .and_then(|heading| heading.anchor.as_deref())
    }
}

/// A parsed prose document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProseDocument {
    /// Front matter or the format's own metadata.
    pub metadata: DocumentMetadata,
    /// The sections in document order.
    pub sections: Vec<Section>,
}

impl ProseDocument {
    /// The first level-1 heading, if any.
    pub fn first_level_one_heading(&self) -> Option<&str> {
        self.sections
            .iter()
            .flat_map(|section| section.headings.iter())
            .find(|heading| heading.level == 1)
            .map(|heading| heading.text.as_str())
    }

    /// All the text, for language detection (bounded: detection needs no more).
    pub fn sample_text(&self, limit: usize) -> String {
        let mut text = String::new();
        for block in self
            .sections
            .iter()
            .flat_map(|section| section.blocks.iter())
        {
            if text.len() >= limit {
                break;
            }
            text.push_str(block);
            text.push('\n');
        }
        text
    }
}

/// What one source file yields.
#[derive(Debug, Clone, PartialEq)]
pub enum ParsedFile {
    /// An official document to be cut into passages.
    Prose(ProseDocument),
    /// One or more fact-checks.
    FactChecks(Vec<ClaimReviewItem>),
}

/// A ClaimReview with the document-level fields the index needs besides the review itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimReviewItem {
    /// The ClaimReview as stored with the passage.
    pub review: ClaimReview,
    /// `reviewBody`, the explanation.
    pub body: String,
    /// `inLanguage`, normalised.
    pub language: Option<String>,
}
