//! # votecheck-encoder: sentences to vectors, for semantic retrieval
//!
//! Citizens rarely use the words of the official documents; a sentence encoder maps a question
//! and the passage that answers it to nearby vectors whatever words each uses, in any of ~100
//! languages. This crate runs **multilingual-e5-small** (XLM-RoBERTa, 12 layers, 384
//! dimensions) quantised to 4 bits, in Rust, with candle's quantised matrix multiplication —
//! no Python, no ONNX Runtime — in the Lambda function and in the index builder alike.
//!
//! - [`model_file`]: the memory-mapped model file (`*.vce`) and its writer;
//! - [`convert`]: derives that file from the pinned reference package's weights;
//! - [`tokenizer`]: the SentencePiece Unigram tokenizer over an FST of the vocabulary;
//! - [`transformer`]: the encoder's forward pass;
//! - [`Encoder`]: text in, L2-normalised [`Embedding`] out, with the model's `query: ` /
//!   `passage: ` prefixes ([`Role`]) and windows of 510 pieces for long passages; with
//!   [`Encoder::embed_with_layer`], also the mean hidden state after an earlier layer
//!   ([`LayeredEmbedding`], which the engine's learned judgement reads).
//!
//! ```no_run
//! use votecheck_encoder::{Encoder, Role};
//! let encoder = Encoder::open(std::path::Path::new("models/multilingual-e5-small-q4.vce"))?;
//! let question = encoder.embed(Role::Query, "where do i vote")?;
//! let passage = encoder.embed(Role::Passage, "Your polling place is printed on your voter card.")?;
//! println!("similarity {:.3}", question.dot(&passage));
//! # Ok::<(), votecheck_encoder::EncoderError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod convert;
pub mod model_file;
pub mod testing;
pub mod tokenizer;
pub mod transformer;

use std::path::{Path, PathBuf};

pub use model_file::{ModelFile, ModelHeader, Provenance};
pub use tokenizer::Tokenizer;
pub use transformer::{PooledStates, Transformer};

/// Weights per Q4_0 block.
pub const Q4_BLOCK: usize = 32;

/// Bytes per Q4_0 block: an `f16` scale and 16 bytes of nibbles.
pub const Q4_BLOCK_BYTES: usize = 18;

/// The file name of the derived model, in `models/` of the repository and in `model/` of the
/// deployment package.
pub const MODEL_FILE_NAME: &str = "multilingual-e5-small-q4.vce";

/// Where the model file is, for a program that was not told: `VOTECHECK_MODEL` when set; else
/// `model/` next to the executable (the deployment package's layout) when the file is there;
/// else `models/` in the working directory (the repository's layout, where `scripts/model.sh`
/// derives it). The path is returned even when no file exists, for the error message.
pub fn locate_model() -> PathBuf {
    if let Some(path) = std::env::var_os("VOTECHECK_MODEL").filter(|path| !path.is_empty()) {
        return PathBuf::from(path);
    }
    let beside_executable = std::env::current_exe().ok().and_then(|exe| {
        exe.parent()
            .map(|dir| dir.join("model").join(MODEL_FILE_NAME))
    });
    match beside_executable {
        Some(path) if path.is_file() => path,
        _ => Path::new("models").join(MODEL_FILE_NAME),
    }
}

/// Most pieces the encoder runs together in one forward pass (a long passage is cut into windows
/// and windows are grouped up to this many pieces), which bounds memory.
pub const BATCH_PIECES: usize = 8192;

/// Why the encoder could not load or run.
#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    /// The model file could not be read.
    #[error(
        "cannot read the encoder model {path}: {reason} (derive it with `bash scripts/model.sh`)"
    )]
    ModelUnreadable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The model file is not a valid model.
    #[error("the encoder model {path} is not valid: {reason}")]
    ModelInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The forward pass failed (not expected with a valid model).
    #[error("the encoder failed: {0}")]
    Inference(#[from] candle_core::Error),
    /// The reference package's file could not be converted.
    #[error("cannot convert {path}: {reason}")]
    Conversion {
        /// The file being converted.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// What a text is to the model: e5 embeds questions and passages with different prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// A question or message (`query: `).
    Query,
    /// A passage of a document (`passage: `).
    Passage,
}

impl Role {
    /// The prefix the model was trained with.
    pub fn prefix(self) -> &'static str {
        match self {
            Role::Query => "query: ",
            Role::Passage => "passage: ",
        }
    }
}

/// An L2-normalised sentence vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// Normalises `values` to unit length (a zero vector stays zero).
    pub fn normalized(mut values: Vec<f32>) -> Self {
        let norm = values
            .iter()
            .map(|value| value * value)
            .sum::<f32>()
            .max(1e-12)
            .sqrt();
        values.iter_mut().for_each(|value| *value /= norm);
        Embedding(values)
    }

    /// The values.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// The values, owned.
    pub fn into_vec(self) -> Vec<f32> {
        self.0
    }

    /// The dot product, which is the cosine similarity for two embeddings.
    pub fn dot(&self, other: &Embedding) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }
}

/// A text's embedding with the mean of its hidden states after an earlier layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayeredEmbedding {
    /// The sentence embedding, as [`Encoder::embed`] gives it.
    pub embedding: Embedding,
    /// The mean hidden state after the layer asked for (not normalised).
    pub layer_mean: Vec<f32>,
}

/// The encoder: a model file's tokenizer and transformer.
pub struct Encoder {
    file: ModelFile,
    tokenizer: Tokenizer,
    transformer: Transformer,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Encoder")
            .field("file", &self.file)
            .finish()
    }
}

/// One window of a text: which text, and its pieces with the special ones around them.
struct Window {
    text: usize,
    content: usize,
    pieces: Vec<u32>,
}

impl Encoder {
    /// Maps the model file at `path` and loads its tokenizer and weights.
    pub fn open(path: &Path) -> Result<Self, EncoderError> {
        Self::from_file(ModelFile::open(path)?)
    }

    /// An encoder over a model file already opened.
    pub fn from_file(file: ModelFile) -> Result<Self, EncoderError> {
        Ok(Encoder {
            tokenizer: Tokenizer::from_model(&file)?,
            transformer: Transformer::from_model(&file)?,
            file,
        })
    }

    /// The model's identity (recorded in every index built with it).
    pub fn model_id(&self) -> &str {
        &self.file.header().model_id
    }

    /// The model file's header (identity, provenance, shape).
    pub fn header(&self) -> &ModelHeader {
        self.file.header()
    }

    /// Dimensions of an embedding.
    pub fn dimensions(&self) -> usize {
        self.transformer.config().hidden
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Pieces the model reads for `text` in `role`, special pieces included (before windowing).
    pub fn piece_count(&self, role: Role, text: &str) -> usize {
        self.tokenizer
            .content_pieces(&format!("{}{text}", role.prefix()))
            .len()
            + 2
    }

    /// The embedding of one text.
    pub fn embed(&self, role: Role, text: &str) -> Result<Embedding, EncoderError> {
        let mut embeddings = self.embed_batch(role, &[text])?;
        Ok(embeddings
            .pop()
            .unwrap_or_else(|| Embedding(vec![0.0; self.dimensions()])))
    }

    /// The embeddings of several texts, in order. Texts longer than the model's 510 pieces are
    /// cut into windows; a text's embedding is the mean of its windows' pooled states weighted by
    /// their pieces, normalised (the mean over the whole text, up to the windows' attention).
    pub fn embed_batch(&self, role: Role, texts: &[&str]) -> Result<Vec<Embedding>, EncoderError> {
        Ok(self
            .pooled_batch(role, texts, None)?
            .into_iter()
            .map(|pooled| Embedding::normalized(pooled.last))
            .collect())
    }

    /// The embeddings of several texts, as [`Encoder::embed_batch`] computes them, each with the
    /// mean of its hidden states after the first `layer` layers (not normalised; windows weighted
    /// as for the embedding). The learned judgement reads both; the forward pass is the same.
    pub fn embed_batch_with_layer(
        &self,
        role: Role,
        texts: &[&str],
        layer: usize,
    ) -> Result<Vec<LayeredEmbedding>, EncoderError> {
        Ok(self
            .pooled_batch(role, texts, Some(layer))?
            .into_iter()
            .map(|pooled| LayeredEmbedding {
                embedding: Embedding::normalized(pooled.last),
                layer_mean: pooled.layer.unwrap_or_default(),
            })
            .collect())
    }

    /// One text's [`LayeredEmbedding`].
    pub fn embed_with_layer(
        &self,
        role: Role,
        text: &str,
        layer: usize,
    ) -> Result<LayeredEmbedding, EncoderError> {
        let mut embeddings = self.embed_batch_with_layer(role, &[text], layer)?;
        Ok(embeddings.pop().unwrap_or_else(|| LayeredEmbedding {
            embedding: Embedding(vec![0.0; self.dimensions()]),
            layer_mean: vec![0.0; self.dimensions()],
        }))
    }

    /// Per text: the windows' weighted mean of the final states, and of the states after
    /// `layer` when asked.
    fn pooled_batch(
        &self,
        role: Role,
        texts: &[&str],
        layer: Option<usize>,
    ) -> Result<Vec<PooledStates>, EncoderError> {
        let windows = self.windows(role, texts);
        let hidden = self.dimensions();
        let layer_width = if layer.is_some() { hidden } else { 0 };
        let mut sums = vec![(vec![0.0f32; hidden], vec![0.0f32; layer_width]); texts.len()];
        let mut weights = vec![0.0f64; texts.len()];
        let mut start = 0;
        while start < windows.len() {
            let mut end = start;
            let mut pieces = 0;
            while end < windows.len()
                && (end == start || pieces + windows[end].pieces.len() <= BATCH_PIECES)
            {
                pieces += windows[end].pieces.len();
                end += 1;
            }
            let sequences: Vec<Vec<u32>> = windows[start..end]
                .iter()
                .map(|window| window.pieces.clone())
                .collect();
            let pooled = self.transformer.mean_pooled_with_layer(&sequences, layer)?;
            for (window, states) in windows[start..end].iter().zip(pooled) {
                let weight = window.content.max(1) as f32;
                let (last, earlier) = &mut sums[window.text];
                for (sum, value) in last.iter_mut().zip(states.last) {
                    *sum += weight * value;
                }
                for (sum, value) in earlier.iter_mut().zip(states.layer.unwrap_or_default()) {
                    *sum += weight * value;
                }
                weights[window.text] += f64::from(weight);
            }
            start = end;
        }
        Ok(sums
            .into_iter()
            .zip(weights)
            .map(|((mut last, mut earlier), weight)| {
                if weight > 0.0 {
                    let inverse = (1.0 / weight) as f32;
                    last.iter_mut()
                        .chain(earlier.iter_mut())
                        .for_each(|value| *value *= inverse);
                }
                PooledStates {
                    last,
                    layer: layer.map(|_| earlier),
                }
            })
            .collect())
    }

    fn windows(&self, role: Role, texts: &[&str]) -> Vec<Window> {
        let config = self.tokenizer.config();
        let longest = self
            .transformer
            .config()
            .max_positions
            .saturating_sub(2)
            .max(1);
        let mut windows = Vec::new();
        for (index, text) in texts.iter().enumerate() {
            let content = self
                .tokenizer
                .content_pieces(&format!("{}{text}", role.prefix()));
            let mut chunks: Vec<&[u32]> = content.chunks(longest).collect();
            if chunks.is_empty() {
                chunks.push(&[]);
            }
            for chunk in chunks {
                let mut pieces = Vec::with_capacity(chunk.len() + 2);
                pieces.push(config.bos);
                pieces.extend_from_slice(chunk);
                pieces.push(config.eos);
                windows.push(Window {
                    text: index,
                    content: chunk.len(),
                    pieces,
                });
            }
        }
        windows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_are_unit_length_and_their_dot_is_the_cosine() {
        let a = Embedding::normalized(vec![3.0, 4.0]);
        assert_eq!(a.as_slice(), &[0.6, 0.8]);
        let b = Embedding::normalized(vec![0.0, 2.0]);
        assert!((a.dot(&b) - 0.8).abs() < 1e-6);
        assert_eq!(
            Embedding::normalized(vec![0.0, 0.0]).as_slice(),
            &[0.0, 0.0]
        );
    }

    #[test]
    fn roles_carry_the_models_prefixes() {
        assert_eq!(Role::Query.prefix(), "query: ");
        assert_eq!(Role::Passage.prefix(), "passage: ");
    }
}
