//! `vectors.bin`: one sentence embedding per passage, for semantic retrieval.
//!
//! Row `r` is the embedding of the index's document `r`: the builder writes one segment whose
//! documents are in passage order, so a row is a [`tantivy::DocId`] of that segment (the reader
//! checks that the index has exactly one segment with as many documents as rows). Each row is
//! quantised to 8 bits with its own scale (`value = q * scale`, `scale = max |value| / 127`),
//! which keeps 9,236 passages of 384 dimensions in 3.6 MB and changes similarities by well under
//! a hundredth. Which model made the vectors is in the manifest ([`EmbeddingInfo`]).
//!
//! Layout (little-endian): magic `VCVEC001`, `u32` dimensions, `u32` rows, `rows` `f32` scales,
//! then `rows x dimensions` `i8` values.

use serde::{Deserialize, Serialize};
use tantivy::DocId;
use tantivy::directory::OwnedBytes;

/// File name of the vectors inside the index directory.
pub const VECTORS_FILE: &str = "vectors.bin";

const MAGIC: &[u8; 8] = b"VCVEC001";
const HEADER: usize = 16;

/// Which model embedded an index's passages (recorded in the manifest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingInfo {
    /// The model's identity (`votecheck_encoder::Encoder::model_id`): an engine whose model has
    /// another one refuses the index.
    pub model_id: String,
    /// Dimensions of a vector.
    pub dimensions: usize,
    /// Rows (one per passage).
    pub rows: usize,
}

/// The bytes of a vectors file for these embeddings (each of `dimensions` values).
pub fn encode_vectors(dimensions: usize, embeddings: &[Vec<f32>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + embeddings.len() * (4 + dimensions));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(dimensions as u32).to_le_bytes());
    out.extend_from_slice(&(embeddings.len() as u32).to_le_bytes());
    let scales: Vec<f32> = embeddings
        .iter()
        .map(|values| {
            values
                .iter()
                .fold(0.0f32, |max, value| max.max(value.abs()))
                / 127.0
        })
        .collect();
    for scale in &scales {
        out.extend_from_slice(&scale.to_le_bytes());
    }
    for (values, scale) in embeddings.iter().zip(&scales) {
        let inverse = if *scale > 0.0 { 1.0 / scale } else { 0.0 };
        out.extend(
            (0..dimensions)
                .map(|at| values.get(at).copied().unwrap_or(0.0))
                .map(|value| (value * inverse).round().clamp(-127.0, 127.0) as i8 as u8),
        );
    }
    out
}

/// The vectors of an index, memory-mapped.
#[derive(Clone)]
pub struct PassageVectors {
    bytes: OwnedBytes,
    dimensions: usize,
    rows: usize,
    scales: Vec<f32>,
}

impl std::fmt::Debug for PassageVectors {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PassageVectors")
            .field("dimensions", &self.dimensions)
            .field("rows", &self.rows)
            .finish()
    }
}

impl PassageVectors {
    /// Reads the vectors from a file's bytes; `None` with the reason when they are not valid.
    pub fn from_bytes(bytes: OwnedBytes) -> Result<Self, String> {
        let data = bytes.as_slice();
        if data.len() < HEADER || &data[..8] != MAGIC {
            return Err("not a vectors file".into());
        }
        let read_u32 = |at: usize| {
            u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize
        };
        let dimensions = read_u32(8);
        let rows = read_u32(12);
        let expected = rows
            .checked_mul(dimensions + 4)
            .and_then(|length| length.checked_add(HEADER));
        if expected != Some(data.len()) {
            return Err(format!(
                "{} bytes for {rows} rows of {dimensions}",
                data.len()
            ));
        }
        let scales = data[HEADER..HEADER + rows * 4]
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect();
        Ok(PassageVectors {
            bytes,
            dimensions,
            rows,
            scales,
        })
    }

    /// Dimensions of a vector.
    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    fn values(&self, row: DocId) -> &[u8] {
        let start = HEADER + self.rows * 4 + row as usize * self.dimensions;
        &self.bytes.as_slice()[start..start + self.dimensions]
    }

    /// The cosine similarity of a row with a unit-length query vector (0 for a row out of range
    /// or a query of other dimensions).
    pub fn similarity(&self, row: DocId, query: &[f32]) -> f32 {
        if row as usize >= self.rows || query.len() != self.dimensions {
            return 0.0;
        }
        // Eight partial sums so that the compiler vectorises the loop.
        let mut sums = [0.0f32; 8];
        let values = self.values(row);
        for (chunk, query) in values.chunks_exact(8).zip(query.chunks_exact(8)) {
            for lane in 0..8 {
                sums[lane] += f32::from(chunk[lane] as i8) * query[lane];
            }
        }
        let tail = self.dimensions / 8 * 8;
        let rest: f32 = values[tail..]
            .iter()
            .zip(&query[tail..])
            .map(|(value, query)| f32::from(*value as i8) * query)
            .sum();
        (sums.iter().sum::<f32>() + rest) * self.scales[row as usize]
    }

    /// The `limit` rows among `rows` most similar to the query, best first.
    pub fn nearest(
        &self,
        query: &[f32],
        rows: impl IntoIterator<Item = DocId>,
        limit: usize,
    ) -> Vec<(DocId, f32)> {
        let mut scored: Vec<(DocId, f32)> = rows
            .into_iter()
            .map(|row| (row, self.similarity(row, query)))
            .collect();
        let by_similarity =
            |a: &(DocId, f32), b: &(DocId, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if scored.len() > limit && limit > 0 {
            scored.select_nth_unstable_by(limit - 1, by_similarity);
            scored.truncate(limit);
        }
        scored.sort_by(by_similarity);
        scored.truncate(limit);
        scored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(values: &[f32]) -> Vec<f32> {
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        values.iter().map(|v| v / norm).collect()
    }

    #[test]
    fn quantised_similarities_stay_within_a_hundredth_and_rank_the_same() {
        let rows: Vec<Vec<f32>> = (0..20)
            .map(|seed| {
                unit(
                    &(0..19)
                        .map(|at| ((seed * 7 + at * 3) % 11) as f32 - 5.0 + at as f32 * 0.1)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let vectors =
            PassageVectors::from_bytes(OwnedBytes::new(encode_vectors(19, &rows))).unwrap();
        assert_eq!((vectors.rows(), vectors.dimensions()), (20, 19));
        let query = rows[4].clone();
        for (row, values) in rows.iter().enumerate() {
            let exact: f32 = values.iter().zip(&query).map(|(a, b)| a * b).sum();
            assert!((vectors.similarity(row as DocId, &query) - exact).abs() < 0.01);
        }
        let nearest = vectors.nearest(&query, 0..20, 3);
        assert_eq!(nearest[0].0, 4);
        assert!(
            nearest[0].1 > 0.99 && nearest[0].1 >= nearest[1].1 && nearest[1].1 >= nearest[2].1
        );
        assert_eq!(vectors.nearest(&query, [1, 2], 5).len(), 2);
        assert_eq!(vectors.similarity(99, &query), 0.0);
        assert_eq!(vectors.similarity(1, &query[..3]), 0.0);
    }

    #[test]
    fn malformed_files_are_refused() {
        assert!(PassageVectors::from_bytes(OwnedBytes::new(b"VCVEC001".to_vec())).is_err());
        let mut bytes = encode_vectors(4, &[vec![1.0, 0.0, 0.0, 0.0]]);
        bytes.pop();
        assert!(PassageVectors::from_bytes(OwnedBytes::new(bytes)).is_err());
        assert!(PassageVectors::from_bytes(OwnedBytes::new(vec![0; 64])).is_err());
    }
}
