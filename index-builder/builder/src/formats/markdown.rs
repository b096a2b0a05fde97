//! Markdown documents (`.md`, `.markdown`): front matter, then CommonMark. Headings make
//! sections (an explicit `{#anchor}` becomes the citation's URL fragment); paragraphs, list items,
//! table rows, quotes and code blocks are blocks; emphasis markers, images and raw HTML are
//! dropped; absolute links keep their address in brackets after the link text.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::blocks::{SectionBuilder, link_suffix};
use crate::document::ProseDocument;
use crate::front_matter::split_front_matter;

/// Parses a Markdown file.
pub fn parse(text: &str) -> Result<ProseDocument, String> {
    let (metadata, body) = split_front_matter(text)?;
    Ok(ProseDocument {
        metadata,
        sections: parse_body(body),
    })
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Walks the CommonMark events of a document body.
fn parse_body(body: &str) -> Vec<crate::document::Section> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS;
    let mut sections = SectionBuilder::default();
    let mut buffer = String::new();
    let mut heading: Option<(u8, Option<String>)> = None;
    let mut links: Vec<(usize, String)> = Vec::new();
    let mut item_pending = false;
    let mut image_depth = 0usize;

    let flush = |buffer: &mut String, sections: &mut SectionBuilder, item_pending: &mut bool| {
        if buffer.trim().is_empty() {
            buffer.clear();
            return;
        }
        let text = if *item_pending {
            *item_pending = false;
            format!("- {}", buffer.trim())
        } else {
            buffer.trim().to_string()
        };
        sections.block(&text);
        buffer.clear();
    };

    for event in Parser::new_ext(body, options) {
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => {
                flush(&mut buffer, &mut sections, &mut item_pending);
                heading = Some((heading_level(level), id.map(|id| id.to_string())));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, anchor)) = heading.take() {
                    sections.heading(level, &buffer, anchor);
                }
                buffer.clear();
            }
            Event::Start(Tag::List(_)) | Event::End(TagEnd::List(_)) => {
                flush(&mut buffer, &mut sections, &mut item_pending);
            }
            Event::Start(Tag::Item) => {
                flush(&mut buffer, &mut sections, &mut item_pending);
                item_pending = true;
            }
            Event::End(
                TagEnd::Item
                | TagEnd::Paragraph
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::FootnoteDefinition
                | TagEnd::DefinitionListTitle
                | TagEnd::DefinitionListDefinition,
            ) => flush(&mut buffer, &mut sections, &mut item_pending),
            Event::Start(
                Tag::Paragraph
                | Tag::CodeBlock(_)
                | Tag::BlockQuote(_)
                | Tag::TableRow
                | Tag::TableHead,
            ) if !item_pending => flush(&mut buffer, &mut sections, &mut item_pending),
            Event::End(TagEnd::TableCell) => buffer.push_str(" | "),
            Event::Start(Tag::Link { dest_url, .. }) => {
                links.push((buffer.len(), dest_url.to_string()))
            }
            Event::End(TagEnd::Link) => {
                if let Some((start, destination)) = links.pop() {
                    let link_text = buffer.get(start..).unwrap_or_default().to_string();
                    if let Some(suffix) = link_suffix(&link_text, &destination) {
                        buffer.push_str(&suffix);
                    }
                }
            }
            Event::Start(Tag::Image { .. }) => image_depth += 1,
            Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
            Event::Text(text) | Event::Code(text) if image_depth == 0 => buffer.push_str(&text),
            Event::SoftBreak | Event::HardBreak => buffer.push(' '),
            Event::Rule => flush(&mut buffer, &mut sections, &mut item_pending),
            _ => {}
        }
    }
    flush(&mut buffer, &mut sections, &mut item_pending);
    sections
        .finish()
        .into_iter()
        .map(|mut section| {
            for block in &mut section.blocks {
                if let Some(stripped) = block.strip_suffix(" |") {
                    *block = stripped.trim_end().to_string();
                }
            }
            section
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAMPLE: &str = "+++\ntitle = \"Guide\"\nlanguage = \"en\"\n+++\n\
# Voting guide\n\nIntro *text* with [a link](https://example.org/a).\n\n\
## Voting by mail {#mail}\n\nFirst paragraph.\n\n- item one\n- item **two**\n  - nested\n\n\
### Deadlines\n\n| When | What |\n|---|---|\n| 1 Oct | Request |\n\n\
<div>raw html</div>\n\n![logo](logo.png)\n\n## Next\n\nLast.\n";

    #[test]
    fn parses_sections_blocks_and_anchors() {
        let document = parse(SAMPLE).unwrap();
        assert_eq!(document.metadata.title.as_deref(), Some("Guide"));
        let sections = &document.sections;
        let paths: Vec<Vec<&str>> = sections
            .iter()
            .map(|s| s.headings.iter().map(|h| h.text.as_str()).collect())
            .collect();
        assert_eq!(
            paths,
            vec![
                vec!["Voting guide"],
                vec!["Voting guide", "Voting by mail"],
                vec!["Voting guide", "Voting by mail", "Deadlines"],
                vec!["Voting guide", "Next"],
            ]
        );
        assert_eq!(
            sections[0].blocks,
            vec!["Intro text with a link (https://example.org/a)."]
        );
        assert_eq!(sections[1].anchor(), Some("mail"));
        assert_eq!(
            sections[1].blocks,
            vec!["First paragraph.", "- item one", "- item two", "- nested"]
        );
        assert_eq!(sections[2].blocks, vec!["When | What", "1 Oct | Request"]);
        assert_eq!(sections[3].blocks, vec!["Last."]);
    }

    #[test]
    fn loose_list_items_keep_their_marker() {
        let document = parse("- first\n\n- second\n").unwrap();
        assert_eq!(document.sections[0].blocks, vec!["- first", "- second"]);
    }

    #[test]
    fn deeply_nested_markdown_is_read_on_a_small_stack() {
        let inputs = [
            ">".repeat(100_000),
            "- ".repeat(50_000),
            "[".repeat(100_000),
            "*".repeat(100_000),
            "<div>".repeat(50_000),
            "![".repeat(50_000),
            format!("{}x{}", "[a](".repeat(20_000), ")".repeat(20_000)),
            (0..5_000)
                .map(|depth| format!("{}- item\n", "  ".repeat(depth)))
                .collect::<String>(),
        ];
        for input in inputs {
            std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || {
                    let _ = parse(&input);
                })
                .unwrap()
                .join()
                .unwrap();
        }
    }

    proptest! {
        #[test]
        fn never_panics(text in any::<String>()) {
            let _ = parse(&text);
        }

        #[test]
        fn never_panics_on_markdown_like_text(text in "[#*_\\[\\]()|\\-\n a-z{}]{0,200}") {
            let _ = parse(&text);
        }
    }
}
