//! Cutting documents into passages that read well in a WhatsApp reply.
//!
//! Each section (the text under one heading) becomes one passage when it fits in
//! [`ChunkLimits::max_chars`]; a longer one is split at block (paragraph) boundaries, a block that
//! is itself too long at sentence boundaries (UAX #29, so `。` ends Japanese sentences), and a
//! sentence that is still too long at word boundaries. Consecutive passages of one section overlap
//! by the last sentence of the previous passage when it is short. Small sections are never merged
//! across headings: a heading is what a citation points to.
//!
//! Passage ids are derived from source, section path and the passage's index within its section,
//! so editing one section does not change the ids of the others.

use sha2::{Digest, Sha256};
use unicode_segmentation::UnicodeSegmentation;

use crate::document::Section;
use votecheck_index::passage::SECTION_SEPARATOR;

/// Size limits of a passage, in characters.
#[derive(Debug, Clone, Copy)]
pub struct ChunkLimits {
    /// Longest passage.
    pub max_chars: usize,
    /// Longest sentence carried over from one passage into the next.
    pub overlap_chars: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            max_chars: 800,
            overlap_chars: 160,
        }
    }
}

/// One passage-to-be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The heading path, levels joined by ` › `.
    pub section: String,
    /// The anchor of the section's heading.
    pub anchor: Option<String>,
    /// Index of this chunk within its section.
    pub index_in_section: usize,
    /// The text.
    pub text: String,
}

/// The heading path of a section: its headings, under the document title unless the path already
/// starts at a level-1 heading.
pub fn section_path(title: &str, section: &Section) -> String {
    let mut levels: Vec<&str> = Vec::new();
    if section
        .headings
        .first()
        .is_none_or(|heading| heading.level != 1)
    {
        levels.push(title);
    }
    levels.extend(section.headings.iter().map(|heading| heading.text.as_str()));
    levels.join(SECTION_SEPARATOR)
}

/// Cuts the sections of one document into chunks.
pub fn chunk_sections(title: &str, sections: &[Section], limits: ChunkLimits) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    for section in sections.iter().filter(|section| !section.blocks.is_empty()) {
        let path = section_path(title, section);
        for (index, text) in split_blocks(&section.blocks, limits)
            .into_iter()
            .enumerate()
        {
            chunks.push(Chunk {
                section: path.clone(),
                anchor: section.anchor().map(str::to_string),
                index_in_section: index,
                text,
            });
        }
    }
    chunks
}

/// The stable id of a passage: 16 hex digits of SHA-256 over source, section and index.
pub fn passage_id(source: &str, section: &str, index_in_section: usize) -> String {
    let mut hasher = Sha256::new();
    hasher.update(source.as_bytes());
    hasher.update([0x1f]);
    hasher.update(section.as_bytes());
    hasher.update([0x1f]);
    hasher.update(index_in_section.to_string().as_bytes());
    hex::encode(&hasher.finalize()[..8])
}

fn char_count(text: &str) -> usize {
    text.chars().count()
}

/// A piece of text that is never split further, and whether it starts a new block.
struct Unit {
    text: String,
    starts_block: bool,
}

fn units(blocks: &[String], max_chars: usize) -> Vec<Unit> {
    let mut out = Vec::new();
    for block in blocks {
        if char_count(block) <= max_chars {
            out.push(Unit {
                text: block.clone(),
                starts_block: true,
            });
            continue;
        }
        let mut first = true;
        for sentence in block.split_sentence_bounds() {
            for piece in split_long(sentence, max_chars) {
                out.push(Unit {
                    text: piece,
                    starts_block: first,
                });
                first = false;
            }
        }
    }
    out
}

/// Splits a sentence longer than `max_chars` at word boundaries (any character boundary as a last
/// resort); shorter ones are returned as they are.
fn split_long(sentence: &str, max_chars: usize) -> Vec<String> {
    if char_count(sentence) <= max_chars {
        return vec![sentence.to_string()];
    }
    let mut pieces = Vec::new();
    let mut current = String::new();
    for word in sentence.split_word_bounds() {
        if char_count(&current) + char_count(word) > max_chars && !current.is_empty() {
            pieces.push(std::mem::take(&mut current));
        }
        if char_count(word) > max_chars {
            let characters: Vec<char> = word.chars().collect();
            for slice in characters.chunks(max_chars) {
                pieces.push(slice.iter().collect());
            }
        } else {
            current.push_str(word);
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

fn join(current: &mut String, unit: &Unit) {
    if current.is_empty() {
        current.push_str(unit.text.trim_start());
    } else if unit.starts_block {
        current.push('\n');
        current.push_str(unit.text.trim_start());
    } else {
        current.push_str(&unit.text);
    }
}

fn last_sentence(text: &str) -> Option<&str> {
    text.split_sentence_bounds()
        .filter(|sentence| !sentence.trim().is_empty())
        .last()
}

fn split_blocks(blocks: &[String], limits: ChunkLimits) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_is_only_overlap = false;
    for unit in units(blocks, limits.max_chars) {
        let separator = usize::from(!current.is_empty());
        if !current.is_empty()
            && char_count(&current) + separator + char_count(&unit.text) > limits.max_chars
        {
            if current_is_only_overlap {
                current.clear();
            } else {
                let finished = std::mem::take(&mut current);
                let overlap = last_sentence(&finished)
                    .filter(|sentence| {
                        let length = char_count(sentence.trim());
                        length <= limits.overlap_chars
                            && length < char_count(finished.trim())
                            && length + 1 + char_count(&unit.text) <= limits.max_chars
                    })
                    .map(|sentence| sentence.trim().to_string());
                chunks.push(finished.trim().to_string());
                if let Some(overlap) = overlap {
                    current = overlap;
                    current_is_only_overlap = true;
                }
            }
        }
        join(&mut current, &unit);
        if !unit.text.trim().is_empty() {
            current_is_only_overlap = current_is_only_overlap && current.trim().is_empty();
        }
    }
    if !current.trim().is_empty() && !current_is_only_overlap {
        chunks.push(current.trim().to_string());
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Heading;
    use proptest::prelude::*;

    fn section(headings: &[(u8, &str)], blocks: &[&str]) -> Section {
        Section {
            headings: headings
                .iter()
                .map(|(level, text)| Heading {
                    level: *level,
                    text: text.to_string(),
                    anchor: None,
                })
                .collect(),
            blocks: blocks.iter().map(|b| b.to_string()).collect(),
        }
    }

    #[test]
    fn paths_start_at_the_title_or_the_level_one_heading() {
        let under_h1 = section(&[(1, "Texas voter FAQ"), (2, "How do I check?")], &["x"]);
        assert_eq!(
            section_path("ignored", &under_h1),
            "Texas voter FAQ › How do I check?"
        );
        let no_h1 = section(&[(2, "Deadlines")], &["x"]);
        assert_eq!(section_path("Guide", &no_h1), "Guide › Deadlines");
        let no_heading = section(&[], &["x"]);
        assert_eq!(section_path("Notice", &no_heading), "Notice");
    }

    #[test]
    fn small_sections_stay_separate() {
        let sections = vec![
            section(&[(2, "A")], &["Short."]),
            section(&[(2, "B")], &["Also short."]),
            section(&[(2, "Empty")], &[]),
        ];
        let chunks = chunk_sections("T", &sections, ChunkLimits::default());
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].section, "T › A");
        assert_eq!(chunks[1].text, "Also short.");
    }

    #[test]
    fn long_sections_split_at_paragraphs_with_overlap() {
        let paragraph = "This sentence is about voting by mail. ".repeat(8);
        let blocks: Vec<&str> = vec![&paragraph, &paragraph, &paragraph, "Final short note."];
        let limits = ChunkLimits {
            max_chars: 700,
            overlap_chars: 160,
        };
        let chunks = chunk_sections("T", &[section(&[(2, "Mail")], &blocks)], limits);
        assert!(chunks.len() >= 2, "{chunks:#?}");
        for chunk in &chunks {
            assert!(chunk.text.chars().count() <= 700);
        }
        assert_eq!(chunks[0].index_in_section, 0);
        assert_eq!(chunks[1].index_in_section, 1);
        assert!(
            chunks[1]
                .text
                .starts_with("This sentence is about voting by mail.")
        );
    }

    #[test]
    fn long_japanese_paragraphs_split_at_sentence_ends() {
        let sentence = "期日前投票は選挙期日の前日まで、指定された投票所で行うことができます。";
        let paragraph = sentence.repeat(40);
        let limits = ChunkLimits {
            max_chars: 300,
            overlap_chars: 60,
        };
        let chunks = chunk_sections(
            "案内",
            &[section(&[(2, "期日前投票")], &[&paragraph])],
            limits,
        );
        assert!(chunks.len() > 3);
        for chunk in &chunks {
            assert!(chunk.text.chars().count() <= 300);
            assert!(chunk.text.ends_with('。'), "{}", chunk.text);
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        assert_eq!(
            passage_id("a.md", "T › A", 0),
            passage_id("a.md", "T › A", 0)
        );
        assert_ne!(
            passage_id("a.md", "T › A", 0),
            passage_id("a.md", "T › A", 1)
        );
        assert_ne!(
            passage_id("a.md", "T › A", 0),
            passage_id("b.md", "T › A", 0)
        );
        assert_eq!(passage_id("a.md", "T › A", 0).len(), 16);
    }

    proptest! {
        #[test]
        fn chunks_respect_the_limit_and_lose_no_words(
            blocks in proptest::collection::vec("[a-zA-Z]{1,12}( [a-zA-Z]{1,12}){0,80}\\.?", 1..8),
            max_chars in 40usize..400,
        ) {
            let limits = ChunkLimits { max_chars, overlap_chars: max_chars / 4 };
            let sections = vec![Section { headings: vec![], blocks: blocks.clone() }];
            let chunks = chunk_sections("T", &sections, limits);
            let mut chunk_words = std::collections::HashSet::new();
            for chunk in &chunks {
                prop_assert!(chunk.text.chars().count() <= max_chars, "{} > {}", chunk.text.chars().count(), max_chars);
                prop_assert!(!chunk.text.trim().is_empty());
                chunk_words.extend(chunk.text.split_whitespace().map(|w| w.trim_end_matches('.').to_string()));
            }
            for block in &blocks {
                for word in block.split_whitespace() {
                    prop_assert!(chunk_words.contains(word.trim_end_matches('.')), "lost {word}");
                }
            }
        }

        #[test]
        fn chunking_is_deterministic(text in any::<String>()) {
            let sections = vec![Section { headings: vec![], blocks: vec![text] }];
            let limits = ChunkLimits { max_chars: 50, overlap_chars: 10 };
            prop_assert_eq!(chunk_sections("T", &sections, limits), chunk_sections("T", &sections, limits));
        }
    }
}
