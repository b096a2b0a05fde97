//! Front matter at the very top of a Markdown file: TOML between `+++` lines or YAML between
//! `---` lines. Recognised keys fill [`DocumentMetadata`]; unknown keys are ignored. A block that
//! is opened but never closed, does not parse, or gives a recognised key an unusable value is an
//! error that names the problem.
//!
//! The YAML parser takes time quadratic in the nesting of flow collections (200 KB of `[[[…`
//! took 52 s), so a block larger than [`MAX_FRONT_MATTER_BYTES`] or with brackets nested deeper
//! than [`MAX_FRONT_MATTER_NESTING`] is rejected before it is parsed. Front matter holds a few
//! flat keys; neither limit is near what a real document needs.

use crate::document::DocumentMetadata;
use votecheck_index::language::normalize_tag;

/// The largest front matter block, in bytes.
pub const MAX_FRONT_MATTER_BYTES: usize = 64 * 1024;

/// How deep `[` and `{` may nest in a front matter block.
pub const MAX_FRONT_MATTER_NESTING: usize = 32;

/// Splits a Markdown file into its front matter (parsed) and its body.
pub fn split_front_matter(text: &str) -> Result<(DocumentMetadata, &str), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first_line_end = text.find('\n').map_or(text.len(), |index| index + 1);
    let fence = text[..first_line_end].trim_end();
    let syntax = match fence {
        "+++" => Syntax::Toml,
        "---" => Syntax::Yaml,
        _ => return Ok((DocumentMetadata::default(), text)),
    };
    let rest = &text[first_line_end..];
    let mut offset = 0;
    let mut closing = None;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == fence {
            closing = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((block_end, body_start)) = closing else {
        return Err(format!(
            "front matter opened with `{fence}` on line 1 is never closed (add a `{fence}` line after it)"
        ));
    };
    let block = &rest[..block_end];
    check_bounds(block)?;
    let metadata = match syntax {
        Syntax::Toml => parse_toml(block)?,
        Syntax::Yaml => parse_yaml(block)?,
    };
    Ok((metadata, &rest[body_start..]))
}

/// Rejects a block that is too large or nested too deeply to be worth parsing. Brackets inside
/// quoted strings are counted too: the count is an upper bound, which is what a limit needs.
fn check_bounds(block: &str) -> Result<(), String> {
    if block.len() > MAX_FRONT_MATTER_BYTES {
        return Err(format!(
            "front matter is {} bytes, more than the limit of {MAX_FRONT_MATTER_BYTES}: keep it to the document's metadata",
            block.len()
        ));
    }
    let mut depth = 0usize;
    for byte in block.bytes() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FRONT_MATTER_NESTING {
                    return Err(format!(
                        "front matter nests brackets more than {MAX_FRONT_MATTER_NESTING} levels deep"
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

enum Syntax {
    Toml,
    Yaml,
}

/// A recognised value, before it is checked.
enum Scalar {
    Text(String),
    Missing,
    Unusable(&'static str),
}

fn parse_toml(block: &str) -> Result<DocumentMetadata, String> {
    let table: toml::Table = toml::from_str(block)
        .map_err(|error| format!("TOML front matter does not parse: {error}"))?;
    metadata_from(|key| match table.get(key) {
        None => Scalar::Missing,
        Some(toml::Value::String(text)) => Scalar::Text(text.clone()),
        Some(toml::Value::Datetime(datetime)) => Scalar::Text(datetime.to_string()),
        Some(toml::Value::Integer(number)) => Scalar::Text(number.to_string()),
        Some(toml::Value::Float(number)) => Scalar::Text(number.to_string()),
        Some(toml::Value::Boolean(_)) => Scalar::Unusable("a boolean"),
        Some(toml::Value::Array(_)) => Scalar::Unusable("an array"),
        Some(toml::Value::Table(_)) => Scalar::Unusable("a table"),
    })
}

fn parse_yaml(block: &str) -> Result<DocumentMetadata, String> {
    if block.trim().is_empty() {
        return Ok(DocumentMetadata::default());
    }
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(block)
        .map_err(|error| format!("YAML front matter does not parse: {error}"))?;
    let serde_yaml_ng::Value::Mapping(mapping) = value else {
        return Err("YAML front matter must be a mapping of keys to values".to_string());
    };
    metadata_from(|key| match mapping.get(key) {
        None | Some(serde_yaml_ng::Value::Null) => Scalar::Missing,
        Some(serde_yaml_ng::Value::String(text)) => Scalar::Text(text.clone()),
        Some(serde_yaml_ng::Value::Number(number)) => Scalar::Text(number.to_string()),
        Some(serde_yaml_ng::Value::Bool(_)) => Scalar::Unusable("a boolean"),
        Some(serde_yaml_ng::Value::Sequence(_)) => Scalar::Unusable("a list"),
        Some(serde_yaml_ng::Value::Mapping(_)) => Scalar::Unusable("a mapping"),
        Some(serde_yaml_ng::Value::Tagged(_)) => Scalar::Unusable("a tagged value"),
    })
}

fn metadata_from(get: impl Fn(&str) -> Scalar) -> Result<DocumentMetadata, String> {
    let text = |key: &str| -> Result<Option<String>, String> {
        match get(key) {
            Scalar::Missing => Ok(None),
            Scalar::Text(text) if text.trim().is_empty() => Ok(None),
            Scalar::Text(text) => Ok(Some(text.trim().to_string())),
            Scalar::Unusable(what) => {
                Err(format!("front matter key `{key}` must be text, not {what}"))
            }
        }
    };
    let date = |key: &str| -> Result<Option<String>, String> {
        let Some(value) = text(key)? else {
            return Ok(None);
        };
        parse_date(&value)
            .map(Some)
            .map_err(|reason| format!("front matter key `{key}`: {reason}"))
    };
    let language = match text("language")? {
        Some(tag) => Some(
            normalize_tag(&tag).map_err(|error| format!("front matter key `language`: {error}"))?,
        ),
        None => None,
    };
    Ok(DocumentMetadata {
        title: text("title")?,
        source_url: text("source_url")?,
        language,
        jurisdiction: text("jurisdiction")?,
        authority: text("authority")?,
        published: date("published")?,
        updated: date("updated")?,
        kind: text("kind")?.map(|kind| kind.to_lowercase()),
    })
}

/// Checks a YYYY-MM-DD date (a TOML date-time is cut to its date).
pub fn parse_date(value: &str) -> Result<String, String> {
    let candidate = value
        .get(..10)
        .filter(|_| value.len() >= 10)
        .unwrap_or(value);
    candidate
        .parse::<jiff::civil::Date>()
        .map(|date| date.to_string())
        .map_err(|_| format!("`{value}` is not a date in the form YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn no_front_matter_leaves_text_alone() {
        let (metadata, body) = split_front_matter("# Title\n\nText").unwrap();
        assert_eq!(metadata, DocumentMetadata::default());
        assert_eq!(body, "# Title\n\nText");
    }

    #[test]
    fn parses_toml_front_matter_with_native_dates() {
        let text = "+++\ntitle = \"Voting by mail\"\nlanguage = \"pt-br\"\npublished = 2026-01-05\nkind = \"FAQ\"\nunknown = [1, 2]\n+++\n# Heading\n";
        let (metadata, body) = split_front_matter(text).unwrap();
        assert_eq!(metadata.title.as_deref(), Some("Voting by mail"));
        assert_eq!(metadata.language.as_deref(), Some("pt-BR"));
        assert_eq!(metadata.published.as_deref(), Some("2026-01-05"));
        assert_eq!(metadata.kind.as_deref(), Some("faq"));
        assert_eq!(body, "# Heading\n");
    }

    #[test]
    fn parses_yaml_front_matter() {
        let text = "---\ntitle: Registro\nlanguage: es\nupdated: \"2026-02-01\"\nsource_url: https://example.org/r\ntags: [a, b]\n---\nCuerpo";
        let (metadata, body) = split_front_matter(text).unwrap();
        assert_eq!(metadata.title.as_deref(), Some("Registro"));
        assert_eq!(metadata.language.as_deref(), Some("es"));
        assert_eq!(metadata.updated.as_deref(), Some("2026-02-01"));
        assert_eq!(
            metadata.source_url.as_deref(),
            Some("https://example.org/r")
        );
        assert_eq!(body, "Cuerpo");
    }

    #[test]
    fn handles_crlf_and_byte_order_mark() {
        let text = "\u{feff}+++\r\ntitle = \"T\"\r\n+++\r\nBody";
        let (metadata, body) = split_front_matter(text).unwrap();
        assert_eq!(metadata.title.as_deref(), Some("T"));
        assert_eq!(body, "Body");
    }

    #[test]
    fn reports_broken_front_matter() {
        let unclosed = split_front_matter("+++\ntitle = \"x\"\n# Body").unwrap_err();
        assert!(unclosed.contains("never closed"), "{unclosed}");
        let bad_toml = split_front_matter("+++\ntitle = \n+++\n").unwrap_err();
        assert!(bad_toml.contains("TOML"), "{bad_toml}");
        let bad_yaml = split_front_matter("---\n- a\n- b\n---\n").unwrap_err();
        assert!(bad_yaml.contains("mapping"), "{bad_yaml}");
        let bad_date = split_front_matter("+++\npublished = \"2026-13-40\"\n+++\n").unwrap_err();
        assert!(bad_date.contains("published"), "{bad_date}");
        let bad_language = split_front_matter("---\nlanguage: English\n---\n").unwrap_err();
        assert!(bad_language.contains("language"), "{bad_language}");
        let bad_type = split_front_matter("+++\ntitle = [\"a\"]\n+++\n").unwrap_err();
        assert!(bad_type.contains("`title`"), "{bad_type}");
    }

    #[test]
    fn a_thematic_break_later_in_the_text_is_not_front_matter() {
        let (metadata, body) = split_front_matter("Intro\n---\nMore").unwrap();
        assert_eq!(metadata, DocumentMetadata::default());
        assert_eq!(body, "Intro\n---\nMore");
    }

    #[test]
    fn large_or_deeply_nested_front_matter_is_rejected_quickly() {
        let started = std::time::Instant::now();
        for (open, close) in [("[", "]"), ("{a: ", "}")] {
            // About 200 KB, as in the report that took 52 s.
            let nested = format!("{}{}", open.repeat(100_000), close.repeat(100_000));
            for text in [
                format!("---\ntitle: {nested}\n---\nBody"),
                format!("+++\ntitle = {nested}\n+++\nBody"),
            ] {
                let error = split_front_matter(&text).unwrap_err();
                assert!(error.contains("front matter"), "{error}");
            }
        }
        let nested = format!("{}{}", "[".repeat(1_000), "]".repeat(1_000));
        let error = split_front_matter(&format!("---\ntitle: {nested}\n---\n")).unwrap_err();
        assert!(error.contains("nests brackets"), "{error}");
        let padded = format!("---\ntitle: T\nnotes: \"{}\"\n---\n", "x".repeat(70_000));
        let error = split_front_matter(&padded).unwrap_err();
        assert!(error.contains("bytes"), "{error}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
        let fine = "---\ntitle: T\ntags: [[a, b], {c: [d]}]\n---\nBody";
        assert_eq!(
            split_front_matter(fine).unwrap().0.title.as_deref(),
            Some("T")
        );
    }

    proptest! {
        #[test]
        fn never_panics(text in any::<String>()) {
            let _ = split_front_matter(&text);
            let _ = split_front_matter(&format!("+++\n{text}\n+++\n"));
            let _ = split_front_matter(&format!("---\n{text}\n---\n"));
        }
    }
}
