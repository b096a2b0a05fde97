//! How much a PDF's streams decompress to, measured with a ceiling before the PDF library
//! inflates them without one.
//!
//! A PDF's streams are compressed (Flate, LZW, ASCII85, chained), and the PDF library inflates
//! each one completely into memory: 1.5 MB of nested Flate data took the builder to 3.5 GB. Two
//! checks, each stopping as soon as the total passes the budget ([`decompression_budget`]):
//!
//! - [`check_raw_streams`], on the file's bytes before the library parses them (it inflates
//!   object and cross-reference streams while loading): every stream's data goes through the
//!   Flate decoder whatever its dictionary declares (so a dictionary this scan misreads cannot
//!   hide a stream), and whatever inflates is inflated again, up to [`MAX_LAYERS`] deep;
//! - [`check_loaded_streams`], after the library has loaded (and decrypted) the document and
//!   before it extracts text (which inflates the page contents): each stream through its
//!   declared filters, which covers LZW, ASCII85 and encrypted files.
//!
//! Not covered: LZW or ASCII85 object streams, and object streams of encrypted files, which the
//! library decodes while loading; the per-file time budget and the file size limit still apply.

use std::io::Read;

/// The most bytes the streams of a file of `file_len` bytes may decompress to: 32 times the
/// file, at least 64 MiB and at most 512 MiB.
pub fn decompression_budget(file_len: usize) -> usize {
    file_len.saturating_mul(32).clamp(64 << 20, 512 << 20)
}

/// How many layers of compression the raw scan follows; data still decodable below them is
/// refused (no real PDF chains this many filters).
pub const MAX_LAYERS: usize = 8;

/// Why a PDF was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamProblem {
    /// The streams decompress to more than the budget.
    TooLarge {
        /// The budget that was passed, in bytes.
        budget: usize,
    },
    /// Compressed data nested more than [`MAX_LAYERS`] deep.
    TooManyLayers,
}

impl std::fmt::Display for StreamProblem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamProblem::TooLarge { budget } => write!(
                formatter,
                "its compressed streams expand to more than {} MiB (a decompression bomb?)",
                budget >> 20
            ),
            StreamProblem::TooManyLayers => write!(
                formatter,
                "its streams are compressed more than {MAX_LAYERS} times over (a decompression bomb?)"
            ),
        }
    }
}

/// Checks every stream in the raw bytes of a PDF file against `budget` decompressed bytes.
pub fn check_raw_streams(bytes: &[u8], budget: usize) -> Result<(), StreamProblem> {
    let mut remaining = budget;
    let mut from = 0;
    while let Some(found) = find(&bytes[from..], b"stream") {
        let keyword = from + found;
        from = keyword + b"stream".len();
        if bytes[..keyword].ends_with(b"end") {
            continue;
        }
        let mut start = from;
        while matches!(bytes.get(start), Some(b' ' | b'\t')) {
            start += 1;
        }
        match bytes.get(start..start + 2) {
            Some(b"\r\n") => start += 2,
            _ if matches!(bytes.get(start), Some(b'\n' | b'\r')) => start += 1,
            _ => continue,
        }
        expand_any(&bytes[start..], 0, &mut remaining, budget)?;
    }
    Ok(())
}

/// Checks the streams of a loaded (and decrypted) document through their declared filters.
pub fn check_loaded_streams(
    document: &lopdf::Document,
    budget: usize,
) -> Result<(), StreamProblem> {
    let mut remaining = budget;
    for object in document.objects.values() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        let Ok(filters) = stream.filters() else {
            continue;
        };
        let early_change = stream
            .dict
            .get(b"DecodeParms")
            .and_then(lopdf::Object::as_dict)
            .and_then(|parameters| parameters.get(b"EarlyChange"))
            .and_then(lopdf::Object::as_i64)
            .map_or(true, |value| value != 0);
        let mut data = stream.content.clone();
        for filter in filters {
            let decoder = match filter {
                b"FlateDecode" => Decoder::Flate,
                b"LZWDecode" => Decoder::Lzw { early_change },
                b"ASCII85Decode" => Decoder::Ascii85,
                _ => break,
            };
            data = decoder.decode(&data, remaining, budget)?;
            remaining -= data.len();
        }
    }
    Ok(())
}

/// The decoders of the PDF library (`lopdf`).
#[derive(Debug, Clone, Copy)]
enum Decoder {
    Flate,
    Lzw { early_change: bool },
    Ascii85,
}

/// Inflates `data`, and what inflates again. Only Flate: LZW and ASCII85 decode most data into
/// garbage, which would count against the budget of an innocent file.
fn expand_any(
    data: &[u8],
    depth: usize,
    remaining: &mut usize,
    budget: usize,
) -> Result<(), StreamProblem> {
    for decoder in [Decoder::Flate] {
        let output = decoder.decode(data, *remaining, budget)?;
        if output.is_empty() {
            continue;
        }
        if depth + 1 >= MAX_LAYERS {
            return Err(StreamProblem::TooManyLayers);
        }
        *remaining -= output.len();
        expand_any(&output, depth + 1, remaining, budget)?;
    }
    Ok(())
}

impl Decoder {
    /// Decodes as the library would, stopping with an error past `limit` bytes of output. Data
    /// that does not decode gives what decoded before the error (as in the library).
    fn decode(self, input: &[u8], limit: usize, budget: usize) -> Result<Vec<u8>, StreamProblem> {
        let output = match self {
            Decoder::Flate => {
                let output = read_limited(flate2::read::ZlibDecoder::new(input), limit);
                // The library retries a stream that gave nothing as raw deflate after 2 bytes.
                match output {
                    Some(output) if output.is_empty() && input.len() > 2 => {
                        read_limited(flate2::read::DeflateDecoder::new(&input[2..]), limit)
                    }
                    other => other,
                }
            }
            Decoder::Lzw { early_change } => lzw(input, early_change, limit),
            Decoder::Ascii85 => ascii85(input, limit),
        };
        output.ok_or(StreamProblem::TooLarge { budget })
    }
}

/// Reads until the end, an error, or more than `limit` bytes (`None`).
fn read_limited(reader: impl Read, limit: usize) -> Option<Vec<u8>> {
    let mut output = Vec::new();
    let mut limited = reader.take(limit as u64 + 1);
    let mut chunk = [0u8; 32 * 1024];
    loop {
        match limited.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(read) => output.extend_from_slice(&chunk[..read]),
        }
    }
    (output.len() <= limit).then_some(output)
}

fn lzw(input: &[u8], early_change: bool, limit: usize) -> Option<Vec<u8>> {
    use weezl::{BitOrder, LzwStatus, decode::Decoder};
    let mut decoder = if early_change {
        Decoder::with_tiff_size_switch(BitOrder::Msb, 8)
    } else {
        Decoder::new(BitOrder::Msb, 8)
    };
    let mut output = Vec::new();
    let mut chunk = vec![0u8; 32 * 1024];
    let mut input = input;
    loop {
        let result = decoder.decode_bytes(input, &mut chunk);
        output.extend_from_slice(&chunk[..result.consumed_out]);
        input = &input[result.consumed_in..];
        if output.len() > limit {
            return None;
        }
        match result.status {
            Ok(LzwStatus::Ok) => {}
            Ok(LzwStatus::NoProgress | LzwStatus::Done) | Err(_) => return Some(output),
        }
    }
}

/// ASCII85 as the library decodes it: `z` is four zero bytes; it stops at `~` or any byte
/// outside `!`..`u` that is not white space.
fn ascii85(input: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut output = Vec::new();
    let mut group = 0u32;
    let mut count = 0;
    for &byte in input {
        if byte == b'z' && count == 0 {
            output.extend_from_slice(&[0; 4]);
        } else if byte.is_ascii_whitespace() {
            continue;
        } else if (b'!'..=b'u').contains(&byte) {
            group = group.wrapping_mul(85).wrapping_add(u32::from(byte - b'!'));
            count += 1;
            if count == 5 {
                output.extend_from_slice(&group.to_be_bytes());
                group = 0;
                count = 0;
            }
        } else {
            break;
        }
        if output.len() > limit {
            return None;
        }
    }
    Some(output)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn with_stream(data: &[u8]) -> Vec<u8> {
        let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Filter /FlateDecode >>\nstream\r\n".to_vec();
        pdf.extend_from_slice(data);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        pdf
    }

    #[test]
    fn a_stream_within_the_budget_passes() {
        let pdf = with_stream(&deflate(&[b'a'; 100_000]));
        assert_eq!(check_raw_streams(&pdf, 1 << 20), Ok(()));
    }

    #[test]
    fn a_stream_past_the_budget_is_refused() {
        let pdf = with_stream(&deflate(&vec![0; 4 << 20]));
        assert_eq!(
            check_raw_streams(&pdf, 1 << 20),
            Err(StreamProblem::TooLarge { budget: 1 << 20 })
        );
    }

    #[test]
    fn nested_compression_is_counted_at_every_layer() {
        // Each layer alone stays small; the innermost expands past the budget.
        let inner = deflate(&vec![0; 8 << 20]);
        let outer = deflate(&deflate(&inner));
        assert!(outer.len() < 4096, "{}", outer.len());
        let pdf = with_stream(&outer);
        assert!(check_raw_streams(&pdf, 1 << 20).is_err());
        let mut layered = b"polls open at seven".to_vec();
        for _ in 0..MAX_LAYERS + 1 {
            layered = deflate(&layered);
        }
        assert_eq!(
            check_raw_streams(&with_stream(&layered), 1 << 20),
            Err(StreamProblem::TooManyLayers)
        );
    }

    #[test]
    fn ascii85_and_lzw_are_bounded_too() {
        let zeros = "z".repeat(400_000);
        assert!(ascii85(zeros.as_bytes(), 1 << 20).is_none());
        let mut encoder = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
        let lzw_data = encoder.encode(&vec![0u8; 4 << 20]).unwrap();
        assert!(lzw(&lzw_data, true, 1 << 20).is_none());
        assert_eq!(lzw(&lzw_data, true, 8 << 20).unwrap().len(), 4 << 20);
    }
}
