//! PDF documents (`.pdf`): the text layer, split into blocks at blank lines. A PDF without a
//! text layer (a scan) is reported, not indexed. The PDF library is not trusted with hostile
//! input: a panic inside it becomes an ordinary error for that file, and the streams are measured
//! before it inflates them (see [`super::pdf_streams`]).

use super::blocks::SectionBuilder;
use super::pdf_streams::{check_loaded_streams, check_raw_streams, decompression_budget};
use super::text::paragraphs;
use crate::document::ProseDocument;

/// Extracts the text of a PDF file.
pub fn parse(bytes: &[u8]) -> Result<ProseDocument, String> {
    parse_within(bytes, decompression_budget(bytes.len()))
}

/// [`parse`] with `budget` bytes for everything the file's streams decompress to.
fn parse_within(bytes: &[u8], budget: usize) -> Result<ProseDocument, String> {
    check_raw_streams(bytes, budget).map_err(|problem| format!("the PDF is refused: {problem}"))?;
    let extracted = std::panic::catch_unwind(|| extract_text(bytes, budget));
    let text = match extracted {
        Ok(result) => result?,
        Err(_) => return Err("the PDF cannot be read: its structure is damaged".to_string()),
    };
    if text.trim().is_empty() {
        return Err(
            "the PDF has no text layer (a scanned image?): run OCR on it or publish the text"
                .to_string(),
        );
    }
    let mut sections = SectionBuilder::default();
    for block in paragraphs(&text) {
        sections.block(&block);
    }
    Ok(ProseDocument {
        sections: sections.finish(),
        ..ProseDocument::default()
    })
}

/// What `pdf_extract::extract_text_from_mem` does, with the loaded streams measured before the
/// text (and so the page contents) is extracted.
fn extract_text(bytes: &[u8], budget: usize) -> Result<String, String> {
    let unreadable = |error: &dyn std::fmt::Display| format!("the PDF cannot be read: {error}");
    let mut document = lopdf::Document::load_mem(bytes).map_err(|error| unreadable(&error))?;
    if document.is_encrypted() {
        document.decrypt("").map_err(|error| unreadable(&error))?;
    }
    check_loaded_streams(&document, budget)
        .map_err(|problem| format!("the PDF is refused: {problem}"))?;
    check_page_tree(&document).map_err(|problem| format!("the PDF is refused: {problem}"))?;
    let mut text = String::new();
    let mut output = pdf_extract::PlainTextOutput::new(&mut text);
    pdf_extract::output_doc(&document, &mut output).map_err(|error| unreadable(&error))?;
    Ok(text)
}

/// How many ancestors a page may have; real page trees are a few levels deep.
const MAX_PAGE_TREE_DEPTH: usize = 64;

/// Refuses a page tree in which a page is its own ancestor: the text extractor looks up inherited
/// attributes (resources, media box) through `/Parent` recursively and would overflow the stack.
fn check_page_tree(document: &lopdf::Document) -> Result<(), String> {
    for page in document.get_pages().into_values() {
        let mut seen = std::collections::HashSet::new();
        let mut current = page;
        while let Ok(dictionary) = document.get_dictionary(current) {
            if !seen.insert(current) || seen.len() > MAX_PAGE_TREE_DEPTH {
                return Err(format!(
                    "its page tree loops or is more than {MAX_PAGE_TREE_DEPTH} levels deep (page object {} {})",
                    page.0, page.1
                ));
            }
            match dictionary
                .get(b"Parent")
                .and_then(|parent| parent.as_reference())
            {
                Ok(parent) => current = parent,
                Err(_) => break,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A one-page PDF whose content stream is `content` (with a Helvetica font as F1).
    pub(crate) fn minimal_pdf(content: &str) -> Vec<u8> {
        pdf_with_content_stream("", content.as_bytes())
    }

    /// A one-page PDF whose content stream has these bytes and these extra dictionary entries.
    pub(crate) fn pdf_with_content_stream(dictionary: &str, content: &[u8]) -> Vec<u8> {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
            format!("<< /Length {} {dictionary} >>\nstream\n", content.len() + 1),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        ];
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (index, object) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{object}", index + 1).as_bytes());
            if index == 3 {
                pdf.extend_from_slice(content);
                pdf.extend_from_slice(b"\nendstream");
            }
            pdf.extend_from_slice(b"\nendobj\n");
        }
        let xref = pdf.len();
        pdf.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        pdf
    }

    #[test]
    fn extracts_the_text_layer() {
        let pdf =
            minimal_pdf("BT /F1 18 Tf 72 700 Td (Drop boxes close at 8 pm on Election Day.) Tj ET");
        let document = parse(&pdf).unwrap();
        let text = document.sections[0].blocks.join(" ");
        assert!(text.contains("Drop boxes close at 8 pm"), "{text}");
    }

    #[test]
    fn a_pdf_without_text_is_reported() {
        let pdf = minimal_pdf("0 0 m 100 100 l S");
        let error = parse(&pdf).unwrap_err();
        assert!(error.contains("no text layer"), "{error}");
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// Text operators that show `line` again and again: `bytes` of page content.
    fn repeated_text(bytes: usize) -> Vec<u8> {
        let line = b"BT /F1 12 Tf 72 700 Td (Polls open at seven.) Tj ET\n";
        line.iter().copied().cycle().take(bytes).collect()
    }

    #[test]
    fn compressed_content_within_the_budget_is_read() {
        let pdf = pdf_with_content_stream("/Filter /FlateDecode", &zlib(&repeated_text(200_000)));
        let document = parse_within(&pdf, 1 << 20).unwrap();
        assert!(document.sections[0].blocks[0].contains("Polls open at seven."));
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_it_is_inflated() {
        // Flate, nested Flate, and LZW (which only the check after loading sees).
        let content = repeated_text(4 << 20);
        let mut lzw_encoder =
            weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
        let bombs = [
            pdf_with_content_stream("/Filter /FlateDecode", &zlib(&content)),
            pdf_with_content_stream(
                "/Filter [/FlateDecode /FlateDecode]",
                &zlib(&zlib(&content)),
            ),
            pdf_with_content_stream("/Filter /LZWDecode", &lzw_encoder.encode(&content).unwrap()),
        ];
        for pdf in bombs {
            let error = parse_within(&pdf, 1 << 20).unwrap_err();
            assert!(error.contains("more than 1 MiB"), "{error}");
        }
    }

    #[test]
    fn a_damaged_pdf_is_an_error_not_a_crash() {
        let mut pdf = minimal_pdf("BT /F1 18 Tf (x) Tj ET");
        pdf.truncate(pdf.len() / 2);
        assert!(parse(&pdf).is_err());
        assert!(parse(b"%PDF-1.4 garbage").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn a_reference_to_a_missing_object_is_an_error_not_a_crash() {
        // Found by the `pdf` fuzz target: one byte of the sample notice changed ('/' to '\'')
        // leaves a reference to object 5 that does not exist, on which the PDF library panics.
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../samples/corpus/en/notices/ballot-drop-box-hours.pdf");
        let mut pdf = std::fs::read(sample).unwrap();
        assert!(parse(&pdf).is_ok());
        assert_eq!(pdf[990], b'/');
        pdf[990] = b'\'';
        let error = parse(&pdf).unwrap_err();
        assert!(error.contains("damaged"), "{error}");
    }

    #[test]
    fn a_page_that_is_its_own_parent_is_refused_not_a_stack_overflow() {
        // Found by the `pdf` fuzz target (the process died of a stack overflow): a page whose
        // `/Parent` is itself and whose resources must therefore be inherited.
        let pdf = minimal_pdf("BT /F1 18 Tf (x) Tj ET");
        let text = String::from_utf8_lossy(&pdf)
            .replace("/Parent 2 0 R", "/Parent 3 0 R")
            .replace("/Resources", "/Resourcez");
        let error = parse(text.as_bytes()).unwrap_err();
        assert!(error.contains("page tree loops"), "{error}");
    }
}
