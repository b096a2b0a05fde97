//! Shared helpers of the prose parsers: a [`SectionBuilder`] that collects blocks under the
//! current heading path, whitespace clean-up, and how links are written into text.

use crate::document::{Heading, Section};

/// Collects the sections of a document as its parser walks it.
#[derive(Debug, Default)]
pub struct SectionBuilder {
    sections: Vec<Section>,
    current: Section,
}

impl SectionBuilder {
    /// Starts a new section under a heading, closing the current one.
    pub fn heading(&mut self, level: u8, text: &str, anchor: Option<String>) {
        let text = collapse_whitespace(text);
        let mut headings = self.current.headings.clone();
        self.close_section();
        headings.retain(|heading| heading.level < level);
        if !text.is_empty() {
            headings.push(Heading {
                level,
                text,
                anchor: anchor.filter(|anchor| !anchor.trim().is_empty()),
            });
        }
        self.current.headings = headings;
    }

    /// Adds a block of text to the current section (blank blocks are dropped).
    pub fn block(&mut self, text: &str) {
        let text = collapse_whitespace(text);
        if !text.is_empty() {
            self.current.blocks.push(text);
        }
    }

    fn close_section(&mut self) {
        let finished = std::mem::take(&mut self.current);
        if !finished.blocks.is_empty() || !finished.headings.is_empty() {
            self.sections.push(finished);
        }
    }

    /// The sections collected so far, the current one included.
    pub fn finish(mut self) -> Vec<Section> {
        self.close_section();
        self.sections
    }
}

/// Trims and collapses every run of whitespace to one space.
pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What to append after a link's text so a citizen can follow it: ` (https://...)` for absolute
/// web links whose text is not already the address, the address alone for `mailto:`, nothing for
/// relative links (they mean nothing outside the site).
pub fn link_suffix(link_text: &str, destination: &str) -> Option<String> {
    let destination = destination.trim();
    let shown = if let Some(address) = destination.strip_prefix("mailto:") {
        address
    } else if destination.starts_with("https://") || destination.starts_with("http://") {
        destination
    } else {
        destination.strip_prefix("tel:")?
    };
    let link_text = link_text.trim();
    if shown.is_empty() || link_text.contains(shown) || shown.trim_end_matches('/') == link_text {
        None
    } else {
        Some(format!(" ({shown})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_nest_and_pop_by_level() {
        let mut builder = SectionBuilder::default();
        builder.block("intro");
        builder.heading(1, "Title", None);
        builder.heading(2, "A", Some("a".into()));
        builder.block("under a");
        builder.heading(3, "A.1", None);
        builder.block("under a.1");
        builder.heading(2, "B", None);
        builder.block("under b");
        let sections = builder.finish();
        let paths: Vec<Vec<&str>> = sections
            .iter()
            .map(|s| s.headings.iter().map(|h| h.text.as_str()).collect())
            .collect();
        assert_eq!(
            paths,
            vec![
                vec![],
                vec!["Title"],
                vec!["Title", "A"],
                vec!["Title", "A", "A.1"],
                vec!["Title", "B"]
            ]
        );
        assert_eq!(sections[2].anchor(), Some("a"));
        assert_eq!(sections[4].blocks, vec!["under b"]);
    }

    #[test]
    fn links_show_absolute_addresses_only() {
        assert_eq!(
            link_suffix("the county site", "https://example.org/x"),
            Some(" (https://example.org/x)".into())
        );
        assert_eq!(
            link_suffix("https://example.org/", "https://example.org/"),
            None
        );
        assert_eq!(
            link_suffix("write to us", "mailto:a@example.org"),
            Some(" (a@example.org)".into())
        );
        assert_eq!(link_suffix("next page", "../next/"), None);
    }
}
