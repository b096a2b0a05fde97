//! The tantivy schema of a votecheck index, and the conversion between a [`Passage`] and a
//! tantivy document.
//!
//! Every passage is indexed twice over:
//! - in language-neutral fields (`title`, `section`, `body`, `claim`) analysed by the plain
//!   analyzer, which works for every language, stemmer or not;
//! - in stemmed fields of its own language (`heading_<lang>`: title and section; `body_<lang>`),
//!   for the languages tantivy has a stemmer for.
//!
//! Filters use untokenised fields: `kind`, `language_base` (primary subtag), `jurisdiction_key`
//! (folded, lower-case jurisdiction) and `source`.

use std::collections::BTreeMap;

use tantivy::TantivyDocument;
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};

use crate::analysis::{TEXT_TOKENIZER, normalize_word, stemmed_tokenizer_name};
use crate::language::{STEMMED_LANGUAGES, primary_subtag, stemmed_field_key};
use crate::passage::{ClaimReview, Passage, PassageKind};

/// Handles to every field of the schema.
#[derive(Debug, Clone)]
pub struct IndexSchema {
    /// The tantivy schema itself.
    pub schema: Schema,
    /// The `passage_id` field.
    pub passage_id: Field,
    /// The `kind` field.
    pub kind: Field,
    /// The `source` field.
    pub source: Field,
    /// The `title` field.
    pub title: Field,
    /// The `section` field.
    pub section: Field,
    /// The `body` field.
    pub body: Field,
    /// The `claim` field.
    pub claim: Field,
    /// The `language` field.
    pub language: Field,
    /// The `language_base` field.
    pub language_base: Field,
    /// The `jurisdiction` field.
    pub jurisdiction: Field,
    /// The `jurisdiction_key` field.
    pub jurisdiction_key: Field,
    /// The `authority` field.
    pub authority: Field,
    /// The `url` field.
    pub url: Field,
    /// The `document_kind` field.
    pub document_kind: Field,
    /// The `published` field.
    pub published: Field,
    /// The `updated` field.
    pub updated: Field,
    /// The `position` field.
    pub position: Field,
    /// The `claim_review` field.
    pub claim_review: Field,
    /// Stemmed title + section field per stemmed language key.
    pub heading_stemmed: BTreeMap<&'static str, Field>,
    /// Stemmed body field per stemmed language key.
    pub body_stemmed: BTreeMap<&'static str, Field>,
}

impl Default for IndexSchema {
    fn default() -> Self {
        Self::new()
    }
}

fn text_options(tokenizer: &str, stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(tokenizer)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let options = TextOptions::default().set_indexing_options(indexing);
    if stored {
        options.set_stored()
    } else {
        options
    }
}

impl IndexSchema {
    /// Builds the schema (the same every time: field order is part of the format).
    pub fn new() -> Self {
        let mut builder = Schema::builder();
        let passage_id = builder.add_text_field("passage_id", STRING | STORED);
        let kind = builder.add_text_field("kind", STRING | STORED);
        let source = builder.add_text_field("source", STRING | STORED);
        let title = builder.add_text_field("title", text_options(TEXT_TOKENIZER, true));
        let section = builder.add_text_field("section", text_options(TEXT_TOKENIZER, true));
        let body = builder.add_text_field("body", text_options(TEXT_TOKENIZER, true));
        let claim = builder.add_text_field("claim", text_options(TEXT_TOKENIZER, false));
        let language = builder.add_text_field("language", STRING | STORED);
        let language_base = builder.add_text_field("language_base", STRING);
        let jurisdiction = builder.add_text_field("jurisdiction", STORED);
        let jurisdiction_key = builder.add_text_field("jurisdiction_key", STRING);
        let authority = builder.add_text_field("authority", STORED);
        let url = builder.add_text_field("url", STORED);
        let document_kind = builder.add_text_field("document_kind", STRING | STORED);
        let published = builder.add_text_field("published", STORED);
        let updated = builder.add_text_field("updated", STORED);
        let position = builder.add_u64_field("position", STORED | INDEXED);
        let claim_review = builder.add_text_field("claim_review", STORED);
        let mut heading_stemmed = BTreeMap::new();
        let mut body_stemmed = BTreeMap::new();
        for key in STEMMED_LANGUAGES {
            let tokenizer = stemmed_tokenizer_name(key);
            heading_stemmed.insert(
                *key,
                builder.add_text_field(&format!("heading_{key}"), text_options(&tokenizer, false)),
            );
            body_stemmed.insert(
                *key,
                builder.add_text_field(&format!("body_{key}"), text_options(&tokenizer, false)),
            );
        }
        IndexSchema {
            schema: builder.build(),
            passage_id,
            kind,
            source,
            title,
            section,
            body,
            claim,
            language,
            language_base,
            jurisdiction,
            jurisdiction_key,
            authority,
            url,
            document_kind,
            published,
            updated,
            position,
            claim_review,
            heading_stemmed,
            body_stemmed,
        }
    }

    /// The tantivy document for a passage.
    pub fn to_document(&self, passage: &Passage) -> TantivyDocument {
        let mut document = TantivyDocument::default();
        document.add_text(self.passage_id, &passage.passage_id);
        document.add_text(self.kind, passage.kind.as_str());
        document.add_text(self.source, &passage.source);
        document.add_text(self.title, &passage.title);
        document.add_text(self.section, &passage.section);
        document.add_text(self.body, &passage.text);
        document.add_text(self.language, &passage.language);
        document.add_text(self.language_base, primary_subtag(&passage.language));
        if let Some(jurisdiction) = &passage.jurisdiction {
            document.add_text(self.jurisdiction, jurisdiction);
            document.add_text(self.jurisdiction_key, jurisdiction_key(jurisdiction));
        }
        let optional = [
            (self.authority, &passage.authority),
            (self.url, &passage.url),
            (self.document_kind, &passage.document_kind),
            (self.published, &passage.published),
            (self.updated, &passage.updated),
        ];
        for (field, value) in optional {
            if let Some(value) = value {
                document.add_text(field, value);
            }
        }
        document.add_u64(self.position, passage.position);
        if let Some(review) = &passage.claim_review {
            document.add_text(self.claim, &review.claim);
            let json = serde_json::to_string(review).expect("a ClaimReview always serialises");
            document.add_text(self.claim_review, json);
        }
        if let Some(key) = stemmed_field_key(&passage.language) {
            let heading = format!("{}\n{}", passage.title, passage.section);
            document.add_text(self.heading_stemmed[key], heading);
            let mut body = passage.text.clone();
            if let Some(review) = &passage.claim_review {
                body.push('\n');
                body.push_str(&review.claim);
            }
            document.add_text(self.body_stemmed[key], body);
        }
        document
    }

    /// The passage stored in a tantivy document (the inverse of [`IndexSchema::to_document`]).
    pub fn to_passage(&self, document: &TantivyDocument) -> Passage {
        let text = |field: Field| -> Option<String> {
            document
                .get_first(field)
                .and_then(|value| value.as_str())
                .map(str::to_string)
        };
        let claim_review = text(self.claim_review)
            .and_then(|json| serde_json::from_str::<ClaimReview>(&json).ok());
        Passage {
            passage_id: text(self.passage_id).unwrap_or_default(),
            kind: text(self.kind)
                .and_then(|kind| PassageKind::parse(&kind))
                .unwrap_or(PassageKind::Passage),
            source: text(self.source).unwrap_or_default(),
            section: text(self.section).unwrap_or_default(),
            title: text(self.title).unwrap_or_default(),
            url: text(self.url),
            language: text(self.language).unwrap_or_default(),
            jurisdiction: text(self.jurisdiction),
            authority: text(self.authority),
            document_kind: text(self.document_kind),
            published: text(self.published),
            updated: text(self.updated),
            position: document
                .get_first(self.position)
                .and_then(|value| value.as_u64())
                .unwrap_or_default(),
            text: text(self.body).unwrap_or_default(),
            claim_review,
        }
    }
}

/// The filter key of a jurisdiction: its words normalised and joined by single spaces
/// (`"Texas "` and `"TEXAS"` give `texas`).
pub fn jurisdiction_key(jurisdiction: &str) -> String {
    jurisdiction
        .split_whitespace()
        .map(normalize_word)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_passage() -> Passage {
        Passage {
            passage_id: "p1".into(),
            kind: PassageKind::FactCheck,
            source: "fact-checks/a.json".into(),
            section: "Fact check › Voting by text".into(),
            title: "You cannot vote by text message".into(),
            url: Some("https://example.org/check".into()),
            language: "en".into(),
            jurisdiction: Some("Riverside County".into()),
            authority: Some("Desk".into()),
            document_kind: Some("fact_check".into()),
            published: Some("2026-10-01".into()),
            updated: None,
            position: 3,
            text: "Votes are only cast on a ballot.".into(),
            claim_review: Some(ClaimReview {
                claim: "You can vote by text".into(),
                verdict: Some("False".into()),
                ..ClaimReview::default()
            }),
        }
    }

    #[test]
    fn passage_round_trips_through_a_document() {
        let schema = IndexSchema::new();
        let passage = sample_passage();
        let document = schema.to_document(&passage);
        assert_eq!(schema.to_passage(&document), passage);
    }

    #[test]
    fn jurisdiction_keys_ignore_case_space_and_accents() {
        assert_eq!(
            jurisdiction_key("  Riverside   COUNTY "),
            "riverside county"
        );
        assert_eq!(jurisdiction_key("São Paulo"), "sao paulo");
    }
}
