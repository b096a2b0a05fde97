//! The XLM-RoBERTa encoder's forward pass, with candle.
//!
//! The layers' weight matrices (4-bit in the file, 12 MB) are decoded to `f32` once when the
//! encoder loads (85 MB) and multiplied with candle's `f32` matrix multiplication: for a
//! question's ~20 pieces that is 1.5-2x faster on one core than candle's 4-bit x 8-bit kernels,
//! which convert two `f16` scales per block of 32 for every token and output (see
//! docs/performance.md). Biases, layer norms and position embeddings are `f32`. The
//! word-embedding table (54 MB of the 72) is never loaded: the rows a text needs are decoded
//! from the mapped file.
//!
//! Several token sequences run as one `[tokens, hidden]` matrix, so each weight matrix streams
//! once per batch; attention runs per sequence.

use candle_core::{Device, Tensor};
use tantivy::directory::OwnedBytes;

use crate::model_file::{ModelFile, TensorType, TransformerConfig};
use crate::{EncoderError, Q4_BLOCK, Q4_BLOCK_BYTES};

/// A linear layer: the weights, dequantised (`[outputs, inputs]`), and the bias.
struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    fn forward(&self, input: &Tensor) -> candle_core::Result<Tensor> {
        input.matmul(&self.weight.t()?)?.broadcast_add(&self.bias)
    }
}

/// A layer norm's scale and shift.
struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_output: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

/// The encoder's weights, ready to run.
pub struct Transformer {
    config: TransformerConfig,
    words: OwnedBytes,
    positions: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    device: Device,
}

/// One token sequence of a batch: its piece ids (special pieces included).
pub type Sequence = Vec<u32>;

/// One sequence's mean hidden states: after the last layer, and after an earlier one when asked.
#[derive(Debug, Clone, PartialEq)]
pub struct PooledStates {
    /// The mean of the final hidden states.
    pub last: Vec<f32>,
    /// The mean of the hidden states after the layer asked for.
    pub layer: Option<Vec<f32>>,
}

impl Transformer {
    /// Loads the weights of a model file (the layers' 12 MB are copied; the word table is not).
    pub fn from_model(file: &ModelFile) -> Result<Self, EncoderError> {
        let config = file.header().config;
        let invalid = |reason: String| EncoderError::ModelInvalid {
            path: file.path().to_path_buf(),
            reason,
        };
        if !config.hidden.is_multiple_of(Q4_BLOCK)
            || config.heads == 0
            || !config.hidden.is_multiple_of(config.heads)
            || !config.intermediate.is_multiple_of(Q4_BLOCK)
        {
            return Err(invalid(format!("unsupported shape {config:?}")));
        }
        let device = Device::Cpu;
        let hidden = config.hidden;
        let (words_entry, words) = file.tensor("emb.word")?;
        if words_entry.dtype != TensorType::Q4_0
            || words_entry.shape != [config.vocabulary_rows, hidden]
        {
            return Err(invalid("emb.word has the wrong shape or type".into()));
        }
        let vector = |name: &str, length: usize| -> Result<Tensor, EncoderError> {
            let values = file.f32_tensor(name, length)?;
            Tensor::from_vec(values, length, &device).map_err(|error| candle(file, error))
        };
        let matrix = |name: &str, rows: usize, columns: usize| -> Result<Tensor, EncoderError> {
            let (entry, bytes) = file.tensor(name)?;
            if entry.dtype != TensorType::Q4_0 || entry.shape != [rows, columns] {
                return Err(invalid(format!(
                    "{name} should be a {rows}x{columns} Q4_0 matrix"
                )));
            }
            let mut values = Vec::with_capacity(rows * columns);
            dequantize_q4(bytes.as_slice(), &mut values);
            Tensor::from_vec(values, (rows, columns), &device).map_err(|error| candle(file, error))
        };
        let linear = |name: &str, rows: usize, columns: usize| -> Result<Linear, EncoderError> {
            Ok(Linear {
                weight: matrix(&format!("{name}.w"), rows, columns)?,
                bias: vector(&format!("{name}.b"), rows)?,
            })
        };
        let norm = |name: &str| -> Result<LayerNorm, EncoderError> {
            Ok(LayerNorm {
                weight: vector(&format!("{name}.w"), hidden)?,
                bias: vector(&format!("{name}.b"), hidden)?,
            })
        };
        let mut layers = Vec::with_capacity(config.layers);
        for layer in 0..config.layers {
            let name = |part: &str| format!("l{layer}.{part}");
            layers.push(Layer {
                query: linear(&name("q"), hidden, hidden)?,
                key: linear(&name("k"), hidden, hidden)?,
                value: linear(&name("v"), hidden, hidden)?,
                attention_output: linear(&name("ao"), hidden, hidden)?,
                attention_norm: norm(&name("aln"))?,
                intermediate: linear(&name("fi"), config.intermediate, hidden)?,
                output: linear(&name("fo"), hidden, config.intermediate)?,
                output_norm: norm(&name("oln"))?,
            });
        }
        let (type_entry, _) = file.tensor("emb.type")?;
        let token_type = file.f32_tensor("emb.type", type_entry.elements())?;
        if token_type.len() < hidden {
            return Err(invalid("emb.type is too short".into()));
        }
        Ok(Transformer {
            positions: file.f32_tensor("emb.pos", config.max_positions * hidden)?,
            token_type: token_type[..hidden].to_vec(),
            embedding_norm: norm("emb.ln")?,
            words,
            layers,
            config,
            device,
        })
    }

    /// The shape.
    pub fn config(&self) -> &TransformerConfig {
        &self.config
    }

    /// Word + position + token-type embeddings of a batch, `[tokens, hidden]` as a flat vector.
    fn embed(&self, sequences: &[Sequence]) -> Vec<f32> {
        let hidden = self.config.hidden;
        let row_bytes = hidden / Q4_BLOCK * Q4_BLOCK_BYTES;
        let tokens: usize = sequences.iter().map(Vec::len).sum();
        let mut out = Vec::with_capacity(tokens * hidden);
        for sequence in sequences {
            for (position, id) in sequence.iter().enumerate() {
                let row = (*id as usize).min(self.config.vocabulary_rows - 1);
                let bytes = &self.words.as_slice()[row * row_bytes..(row + 1) * row_bytes];
                let start = out.len();
                dequantize_q4(bytes, &mut out);
                let position = position.min(self.config.max_positions - 1);
                let embedding = &self.positions[position * hidden..(position + 1) * hidden];
                for ((value, position), token_type) in
                    out[start..].iter_mut().zip(embedding).zip(&self.token_type)
                {
                    *value += position + token_type;
                }
            }
        }
        out
    }

    /// The mean of the final hidden states of each sequence (not normalised), one row per
    /// sequence. Every sequence must hold at most `max_positions` pieces.
    pub fn mean_pooled(&self, sequences: &[Sequence]) -> candle_core::Result<Vec<Vec<f32>>> {
        Ok(self
            .mean_pooled_with_layer(sequences, None)?
            .into_iter()
            .map(|pooled| pooled.last)
            .collect())
    }

    /// Like [`Transformer::mean_pooled`], and also the mean of the hidden states after the first
    /// `layer` layers (1 to `layers`), which keep more of the message's wording than the final
    /// ones: the learned judgement reads both. The extra mean costs no extra layer.
    pub fn mean_pooled_with_layer(
        &self,
        sequences: &[Sequence],
        layer: Option<usize>,
    ) -> candle_core::Result<Vec<PooledStates>> {
        let hidden = self.config.hidden;
        let tokens: usize = sequences.iter().map(Vec::len).sum();
        let empty = || PooledStates {
            last: vec![0.0; hidden],
            layer: layer.map(|_| vec![0.0; hidden]),
        };
        if tokens == 0 {
            return Ok(sequences.iter().map(|_| empty()).collect());
        }
        let embedded = Tensor::from_vec(self.embed(sequences), (tokens, hidden), &self.device)?;
        let mut states = self.norm(&embedded, &self.embedding_norm)?;
        let mut kept = None;
        for (done, weights) in (1..).zip(&self.layers) {
            states = self.layer(weights, &states, sequences)?;
            if layer == Some(done) {
                kept = Some(states.clone());
            }
        }
        if layer.is_some() && kept.is_none() {
            return Err(candle_core::Error::Msg(format!(
                "the model has {} layers, not {}",
                self.layers.len(),
                layer.unwrap_or_default()
            )));
        }
        let mean_of = |states: &Tensor, start: usize, length: usize| {
            states.narrow(0, start, length)?.mean(0)?.to_vec1::<f32>()
        };
        let mut pooled = Vec::with_capacity(sequences.len());
        let mut start = 0;
        for sequence in sequences {
            if sequence.is_empty() {
                pooled.push(empty());
                continue;
            }
            pooled.push(PooledStates {
                last: mean_of(&states, start, sequence.len())?,
                layer: kept
                    .as_ref()
                    .map(|kept| mean_of(kept, start, sequence.len()))
                    .transpose()?,
            });
            start += sequence.len();
        }
        Ok(pooled)
    }

    fn norm(&self, input: &Tensor, norm: &LayerNorm) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm(input, &norm.weight, &norm.bias, self.config.layer_norm_eps)
    }

    fn layer(
        &self,
        layer: &Layer,
        input: &Tensor,
        sequences: &[Sequence],
    ) -> candle_core::Result<Tensor> {
        let query = layer.query.forward(input)?;
        let key = layer.key.forward(input)?;
        let value = layer.value.forward(input)?;
        let mut contexts = Vec::with_capacity(sequences.len());
        let mut start = 0;
        for sequence in sequences.iter().filter(|sequence| !sequence.is_empty()) {
            let length = sequence.len();
            contexts.push(self.attention(
                &query.narrow(0, start, length)?,
                &key.narrow(0, start, length)?,
                &value.narrow(0, start, length)?,
            )?);
            start += length;
        }
        let context = if contexts.len() == 1 {
            contexts.pop().unwrap_or_else(|| input.clone())
        } else {
            Tensor::cat(&contexts, 0)?
        };
        let attended = layer.attention_output.forward(&context)?;
        let states = self.norm(&(input + attended)?, &layer.attention_norm)?;
        let intermediate = layer.intermediate.forward(&states)?.gelu_erf()?;
        let output = layer.output.forward(&intermediate)?;
        self.norm(&(states + output)?, &layer.output_norm)
    }

    /// Scaled dot-product attention of one sequence, all heads at once.
    fn attention(
        &self,
        query: &Tensor,
        key: &Tensor,
        value: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let (length, hidden) = query.dims2()?;
        let heads = self.config.heads;
        let head = hidden / heads;
        let split = |tensor: &Tensor| -> candle_core::Result<Tensor> {
            tensor
                .reshape((length, heads, head))?
                .transpose(0, 1)?
                .contiguous()
        };
        let (query, key, value) = (split(query)?, split(key)?, split(value)?);
        let scale = 1.0 / (head as f64).sqrt();
        let scores = (query.matmul(&key.t()?)? * scale)?;
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        weights
            .matmul(&value)?
            .transpose(0, 1)?
            .reshape((length, hidden))
    }
}

fn candle(file: &ModelFile, error: candle_core::Error) -> EncoderError {
    EncoderError::ModelInvalid {
        path: file.path().to_path_buf(),
        reason: error.to_string(),
    }
}

/// Appends the values of Q4_0 blocks: `(q - 8) * scale`, low nibbles first.
fn dequantize_q4(blocks: &[u8], out: &mut Vec<f32>) {
    for block in blocks.chunks_exact(Q4_BLOCK_BYTES) {
        let scale = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        let quants = &block[2..];
        out.extend(
            quants
                .iter()
                .map(|q| (i32::from(q & 0x0f) - 8) as f32 * scale),
        );
        out.extend(
            quants
                .iter()
                .map(|q| (i32::from(q >> 4) - 8) as f32 * scale),
        );
    }
}
