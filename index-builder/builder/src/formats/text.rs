//! Plain-text documents (`.txt`): one section, split into blocks at blank lines; lines within a
//! block are joined.

use super::blocks::SectionBuilder;
use crate::document::ProseDocument;

/// Parses a plain-text file.
pub fn parse(text: &str) -> ProseDocument {
    let mut sections = SectionBuilder::default();
    for block in paragraphs(text) {
        sections.block(&block);
    }
    ProseDocument {
        sections: sections.finish(),
        ..ProseDocument::default()
    }
}

/// The paragraphs of a text: runs of non-blank lines.
pub fn paragraphs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.trim().is_empty() {
                out.push(std::mem::take(&mut current));
            }
            current.clear();
        } else {
            current.push_str(line.trim());
            current.push(' ');
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_blank_lines() {
        let document = parse("First line\ncontinues.\n\n  \nSecond.\r\n\r\nThird.");
        assert_eq!(
            document.sections[0].blocks,
            vec!["First line continues.", "Second.", "Third."]
        );
    }
}
