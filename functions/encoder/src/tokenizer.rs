//! The SentencePiece Unigram tokenizer of XLM-RoBERTa, over the model file's sections.
//!
//! [`Tokenizer::content_pieces`] cuts a text into piece ids the way the reference engine does:
//! 1. each code point goes through the normalisation map (compatibility forms, full-width
//!    letters and digits, control characters removed...);
//! 2. runs of spaces collapse to one;
//! 3. a metaspace (`▁`, U+2581) is prepended unless the text starts with a space, and every
//!    space becomes a metaspace;
//! 4. the segmentation with the highest total piece score wins (Viterbi over the characters),
//!    where a character no piece covers costs the unknown score and becomes `<unk>`.
//!
//! The vocabulary is an FST (`fst` crate) from piece bytes to piece id, read in place from the
//! memory-mapped file: walking it from a character position yields every piece that starts
//! there, without building a table at start-up.

use fst::raw::Output;
use tantivy::directory::OwnedBytes;

use crate::EncoderError;
use crate::model_file::{ModelFile, TokenizerConfig, read_u32s};

/// The metaspace that stands for a space inside pieces.
pub const METASPACE: char = '\u{2581}';

/// A piece id.
pub type PieceId = u32;

/// The tokenizer.
pub struct Tokenizer {
    vocabulary: fst::Map<OwnedBytes>,
    scores: OwnedBytes,
    normalization: Normalization,
    config: TokenizerConfig,
}

/// The per-code-point normalisation map.
struct Normalization {
    keys: Vec<u32>,
    offsets: Vec<u32>,
    values: Vec<u32>,
}

impl Normalization {
    /// Appends the normalised form of `character` to `out`.
    fn push(&self, character: char, out: &mut Vec<char>) {
        match self.keys.binary_search(&(character as u32)) {
            Err(_) => out.push(character),
            Ok(index) => {
                let start = self.offsets[index] as usize;
                let end = self.offsets[index + 1] as usize;
                out.extend(
                    self.values[start..end]
                        .iter()
                        .filter_map(|code| char::from_u32(*code)),
                );
            }
        }
    }
}

impl Tokenizer {
    /// The tokenizer stored in a model file.
    pub fn from_model(file: &ModelFile) -> Result<Self, EncoderError> {
        let invalid = |reason: String| EncoderError::ModelInvalid {
            path: file.path().to_path_buf(),
            reason,
        };
        let vocabulary = fst::Map::new(file.section("vocabulary")?)
            .map_err(|error| invalid(format!("the vocabulary is not a valid FST: {error}")))?;
        let config = file.header().tokenizer;
        let scores = file.section("scores")?;
        if scores.len() != config.pieces as usize * 4 {
            return Err(invalid(
                "the scores do not match the number of pieces".into(),
            ));
        }
        let keys = read_u32s(&file.section("normalization_keys")?);
        let offsets = read_u32s(&file.section("normalization_offsets")?);
        let values = read_u32s(&file.section("normalization_values")?);
        let consistent = offsets.len() == keys.len() + 1
            && keys.windows(2).all(|pair| pair[0] < pair[1])
            && offsets.windows(2).all(|pair| pair[0] <= pair[1])
            && offsets
                .last()
                .is_some_and(|last| *last as usize == values.len());
        if !consistent {
            return Err(invalid("the normalisation map is inconsistent".into()));
        }
        Ok(Tokenizer {
            vocabulary,
            scores,
            normalization: Normalization {
                keys,
                offsets,
                values,
            },
            config,
        })
    }

    /// The special pieces.
    pub fn config(&self) -> &TokenizerConfig {
        &self.config
    }

    fn score(&self, id: PieceId) -> f32 {
        let at = id as usize * 4;
        let bytes = &self.scores.as_slice()[at..at + 4];
        f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    }

    /// The normalised text with metaspaces, as characters.
    fn normalize(&self, text: &str) -> Vec<char> {
        let mut mapped = Vec::with_capacity(text.len() + 1);
        for character in text.chars() {
            self.normalization.push(character, &mut mapped);
        }
        mapped.dedup_by(|next, previous| *next == ' ' && *previous == ' ');
        let mut out = Vec::with_capacity(mapped.len() + 1);
        if mapped.first() != Some(&' ') {
            out.push(METASPACE);
        }
        out.extend(mapped.into_iter().map(|character| {
            if character == ' ' {
                METASPACE
            } else {
                character
            }
        }));
        out
    }

    /// The piece ids of `text`, without the sequence's special pieces.
    pub fn content_pieces(&self, text: &str) -> Vec<PieceId> {
        let characters = self.normalize(text);
        let mut buffer = String::with_capacity(characters.len() * 3);
        // Byte offset of each character in `buffer`, and of its end.
        let mut starts = Vec::with_capacity(characters.len() + 1);
        for character in &characters {
            starts.push(buffer.len());
            buffer.push(*character);
        }
        starts.push(buffer.len());
        let bytes = buffer.as_bytes();
        let count = characters.len();
        // best[e]: the best score of a segmentation of the first e characters; how[e]: its last
        // piece (None: an unknown character) and where that piece starts.
        let mut best = vec![f32::NEG_INFINITY; count + 1];
        let mut how: Vec<(Option<PieceId>, usize)> = vec![(None, 0); count + 1];
        best[0] = 0.0;
        let fst = self.vocabulary.as_fst();
        for start in 0..count {
            let base = best[start];
            if base == f32::NEG_INFINITY {
                continue;
            }
            // Every piece that starts at this character, shortest first.
            let mut node = fst.root();
            let mut output = Output::zero();
            let mut end = start;
            for (offset, byte) in bytes[starts[start]..].iter().enumerate() {
                let Some(transition) = node.find_input(*byte) else {
                    break;
                };
                let transition = node.transition(transition);
                output = output.cat(transition.out);
                node = fst.node(transition.addr);
                let consumed = starts[start] + offset + 1;
                while end < count && starts[end + 1] < consumed {
                    end += 1;
                }
                if node.is_final() && starts[end + 1] == consumed {
                    let id = output.cat(node.final_output()).value();
                    // An id outside the scores (not written by our converter) is no piece.
                    if id < u64::from(self.config.pieces) && id as PieceId != self.config.unk {
                        let id = id as PieceId;
                        let score = base + self.score(id);
                        if score > best[end + 1] {
                            best[end + 1] = score;
                            how[end + 1] = (Some(id), start);
                        }
                    }
                }
            }
            let unknown = base + self.config.unk_score;
            if unknown > best[start + 1] {
                best[start + 1] = unknown;
                how[start + 1] = (None, start);
            }
        }
        let mut pieces = Vec::new();
        let mut at = count;
        while at > 0 {
            let (piece, from) = how[at];
            pieces.push(piece.unwrap_or(self.config.unk));
            at = from;
        }
        pieces.reverse();
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_file::{ModelWriter, TensorType};
    use crate::testing::tiny_header;

    /// A tokenizer over a handful of pieces, to test segmentation without the real model.
    fn tokenizer(pieces: &[(&str, f32)], normalization: &[(char, &str)]) -> Tokenizer {
        let mut sorted: Vec<(Vec<u8>, u64)> = pieces
            .iter()
            .enumerate()
            .map(|(id, (piece, _))| (piece.as_bytes().to_vec(), id as u64))
            .collect();
        sorted.sort();
        let mut builder = fst::MapBuilder::memory();
        for (piece, id) in sorted {
            builder.insert(piece, id).unwrap();
        }
        let mut writer = ModelWriter::default();
        writer.section("vocabulary", builder.into_inner().unwrap());
        writer.section(
            "scores",
            pieces
                .iter()
                .flat_map(|(_, score)| score.to_le_bytes())
                .collect(),
        );
        let mut keys = Vec::new();
        let mut offsets = vec![0u32];
        let mut values = Vec::new();
        let mut normalization = normalization.to_vec();
        normalization.sort();
        for (from, to) in normalization {
            keys.push(from as u32);
            values.extend(to.chars().map(|c| c as u32));
            offsets.push(values.len() as u32);
        }
        let u32s = |values: Vec<u32>| values.iter().flat_map(|v| v.to_le_bytes()).collect();
        writer.section("normalization_keys", u32s(keys));
        writer.section("normalization_offsets", u32s(offsets));
        writer.section("normalization_values", u32s(values));
        writer.tensor("unused", TensorType::F32, vec![1], vec![0; 4]);
        let mut header = tiny_header();
        header.tokenizer.pieces = pieces.len() as u32;
        header.tokenizer.unk = 0;
        header.tokenizer.unk_score = -20.0;
        let bytes = writer.finish(header).unwrap();
        let file = ModelFile::from_bytes(std::path::Path::new("tiny.vce"), OwnedBytes::new(bytes))
            .unwrap();
        Tokenizer::from_model(&file).unwrap()
    }

    const PIECES: &[(&str, f32)] = &[
        ("<unk>", 0.0),
        ("▁", -3.0),
        ("▁vote", -5.0),
        ("▁vo", -4.0),
        ("te", -4.0),
        ("s", -2.0),
        ("▁votes", -11.0),
        ("é", -6.0),
        ("e", -1.0),
    ];

    #[test]
    fn the_segmentation_with_the_best_total_score_wins() {
        let tokenizer = tokenizer(PIECES, &[]);
        // ▁vote + s = -7 beats ▁votes = -11 and ▁vo + te + s = -10.
        assert_eq!(tokenizer.content_pieces("votes"), vec![2, 5]);
        // Two words: the space becomes a metaspace that starts the second word's piece.
        assert_eq!(tokenizer.content_pieces("vote vote"), vec![2, 2]);
    }

    #[test]
    fn unknown_characters_become_unk_one_by_one() {
        let tokenizer = tokenizer(PIECES, &[]);
        assert_eq!(tokenizer.content_pieces("vote xy"), vec![2, 1, 0, 0]);
    }

    #[test]
    fn the_normalisation_map_applies_before_segmentation_and_spaces_collapse() {
        let tokenizer = tokenizer(PIECES, &[('É', "é"), ('\u{3000}', " "), ('\u{1}', "")]);
        assert_eq!(tokenizer.content_pieces("É"), vec![1, 7]);
        assert_eq!(
            tokenizer.content_pieces("vote\u{3000}  \u{1}vote"),
            tokenizer.content_pieces("vote vote")
        );
        // A leading space is the metaspace itself, not a second one.
        assert_eq!(tokenizer.content_pieces(" vote"), vec![2]);
    }

    #[test]
    fn empty_text_is_the_metaspace_alone() {
        let tokenizer = tokenizer(PIECES, &[]);
        assert_eq!(tokenizer.content_pieces(""), vec![1]);
    }

    proptest::proptest! {
        #[test]
        fn any_text_tokenizes_without_panicking(text in "\\PC{0,40}") {
            let tokenizer = tokenizer(PIECES, &[('É', "é")]);
            let pieces = tokenizer.content_pieces(&text);
            proptest::prop_assert!(!pieces.is_empty());
            proptest::prop_assert!(pieces.iter().all(|id| (*id as usize) < PIECES.len()));
        }
    }
}
