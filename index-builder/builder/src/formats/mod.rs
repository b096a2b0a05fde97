//! The file formats of a corpus, which parser reads which file (by extension), and the bounds
//! every file is read within.
//!
//! A corpus comes from many contributors, so a file may be hostile. Each parser bounds what it
//! can (nesting depth in HTML and front matter, decompressed size in PDF), and
//! [`parse_within_budget`] bounds the rest: the parser runs on its own thread, with a stack of
//! known size, and a file that takes longer than its time budget is reported and skipped while
//! the build goes on. Files larger than [`MAX_FILE_BYTES`] are not read at all.

pub mod blocks;
pub mod claim_review;
pub mod html;
pub mod markdown;
pub mod pdf;
pub mod pdf_streams;
pub mod text;

use std::sync::Arc;
use std::time::Duration;

use crate::document::{ParsedFile, ProseDocument};

/// The largest file the builder reads, in bytes.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// How long one file may take to parse unless the build says otherwise.
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(30);

/// The stack of the thread a file is parsed on (the same in `index-builder` and
/// `votecheck serve`, whose threads have different defaults).
const PARSER_STACK_BYTES: usize = 16 << 20;

/// A parser's result for one file: what it yields and warnings about parts it skipped.
#[derive(Debug)]
pub struct Parsed {
    /// What the file yields.
    pub file: ParsedFile,
    /// Parts of the file that were skipped, and why.
    pub warnings: Vec<String>,
}

/// The format of a file, decided by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.md`, `.markdown`.
    Markdown,
    /// `.html`, `.htm`.
    Html,
    /// `.txt`.
    Text,
    /// `.pdf`.
    Pdf,
    /// `.json`, `.jsonld`.
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

/// [`parse`] on a thread of its own, with `budget` to finish. A panic becomes an error; when the
/// budget runs out the file is reported and the thread is left to finish on its own (a thread
/// cannot be stopped; the parsers' own bounds keep what it can still cost finite).
pub fn parse_within_budget(
    format: Format,
    bytes: Arc<[u8]>,
    budget: Duration,
) -> Result<Parsed, String> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("parse-corpus-file".to_string())
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || {
            let parsed = std::panic::catch_unwind(|| parse(format, &bytes)).unwrap_or_else(|_| {
                Err("the parser failed on this file (a bug: please report it)".to_string())
            });
            let _ = sender.send(parsed);
        });
    if let Err(error) = spawned {
        return Err(format!("cannot start a thread to read it: {error}"));
    }
    match receiver.recv_timeout(budget) {
        Ok(parsed) => parsed,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "reading it took longer than {} s (a hostile or broken file?)",
            budget.as_secs_f64()
        )),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err("the parser failed on this file (a bug: please report it)".to_string())
        }
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
    fn a_file_over_its_time_budget_is_reported_and_the_caller_goes_on() {
        let page: Arc<[u8]> =
            Arc::from(format!("<p>{}</p>", "Polls open at seven. ".repeat(50_000)).into_bytes());
        let started = std::time::Instant::now();
        let error =
            parse_within_budget(Format::Html, page.clone(), Duration::from_millis(1)).unwrap_err();
        assert!(error.contains("took longer than"), "{error}");
        assert!(started.elapsed() < Duration::from_millis(500));
        assert!(parse_within_budget(Format::Html, page, DEFAULT_TIME_BUDGET).is_ok());
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
