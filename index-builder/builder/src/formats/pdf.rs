//! PDF documents (`.pdf`): the text layer, split into blocks at blank lines. A PDF without a
//! text layer (a scan) is reported, not indexed. The PDF library is not trusted with hostile
//! input: a panic inside it becomes an ordinary error for that file.

use super::blocks::SectionBuilder;
use super::text::paragraphs;
use crate::document::ProseDocument;

/// Extracts the text of a PDF file.
pub fn parse(bytes: &[u8]) -> Result<ProseDocument, String> {
    let extracted = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    let text = match extracted {
        Ok(Ok(text)) => text,
        Ok(Err(error)) => return Err(format!("the PDF cannot be read: {error}")),
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A one-page PDF whose content stream is `content` (with a Helvetica font as F1).
    pub(crate) fn minimal_pdf(content: &str) -> Vec<u8> {
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len() + 1),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        ];
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (index, object) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
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

    #[test]
    fn a_damaged_pdf_is_an_error_not_a_crash() {
        let mut pdf = minimal_pdf("BT /F1 18 Tf (x) Tj ET");
        pdf.truncate(pdf.len() / 2);
        assert!(parse(&pdf).is_err());
        assert!(parse(b"%PDF-1.4 garbage").is_err());
        assert!(parse(b"").is_err());
    }
}
