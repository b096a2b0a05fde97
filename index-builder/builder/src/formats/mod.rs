//! The file formats of a corpus, and which parser reads which file (by extension).

pub mod blocks;
pub mod claim_review;
pub mod html;
pub mod markdown;
pub mod pdf;
pub mod text;

use crate::document::{ParsedFile, ProseDocument};

/// A parser's result for one file: what it yields and warnings about parts it skipped.
#[derive(Debug)]
pub struct Parsed {
    pub file: ParsedFile,
    pub warnings: Vec<String>,
}

/// The format of a file, decided by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Text,
    Pdf,
    ClaimReviewJson,
}

impl Format {
    /// The format for a file name, or `None` for an extension the corpus format does not know.
    pub fn of(file_name: &str) -> Option<Format> {
        let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match extension.as_str() {
            "md" | "markdown" => Format::Markdown,
            "html" | "htm" => Format::Html,
            "txt" => Format::Text,
            "pdf" => Format::Pdf,
            "json" | "jsonld" => Format::ClaimReviewJson,
            _ => return None,
        })
    }
}

/// Parses the bytes of one file in the given format.
pub fn parse(format: Format, bytes: &[u8]) -> Result<Parsed, String> {
    let prose = |document: ProseDocument| Parsed {
        file: ParsedFile::Prose(document),
        warnings: Vec::new(),
    };
    match format {
        Format::Markdown => markdown::parse(utf8(bytes)?).map(prose),
        Format::Html => html::parse(utf8(bytes)?).map(prose),
        Format::Text => Ok(prose(text::parse(utf8(bytes)?))),
        Format::Pdf => pdf::parse(bytes).map(prose),
        Format::ClaimReviewJson => claim_review::parse(bytes).map(|parsed| Parsed {
            file: ParsedFile::FactChecks(parsed.items),
            warnings: parsed.warnings,
        }),
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|error| {
        format!(
            "not valid UTF-8 (first bad byte at offset {}): save the file as UTF-8",
            error.valid_up_to()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_formats_by_extension() {
        assert_eq!(Format::of("a/b.MD"), Some(Format::Markdown));
        assert_eq!(Format::of("x.markdown"), Some(Format::Markdown));
        assert_eq!(Format::of("x.htm"), Some(Format::Html));
        assert_eq!(Format::of("x.jsonld"), Some(Format::ClaimReviewJson));
        assert_eq!(Format::of("x.docx"), None);
        assert_eq!(Format::of("Makefile"), None);
    }

    #[test]
    fn reports_bad_utf8_with_offset() {
        let error = parse(Format::Markdown, b"ok \xff bad").unwrap_err();
        assert!(
            error.contains("UTF-8") && error.contains("offset 3"),
            "{error}"
        );
    }
}
