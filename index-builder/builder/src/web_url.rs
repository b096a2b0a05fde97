//! Addresses from the corpus that reach citizens: a document's `source_url` (front matter,
//! `<link rel="canonical">`) and a fact-check's `url`, `author.url` and appearance URLs are sent
//! on WhatsApp and rendered as links in the console, so only `https://` and `http://` addresses
//! are kept. Anything else (`javascript:`, `data:`, `file:`, a relative path, an address with
//! spaces or control characters) is dropped by the builder with a warning.
//!
//! ```
//! use votecheck_index_builder::web_url::is_web_url;
//! assert!(is_web_url("https://vote.example.gov/mail#deadlines"));
//! assert!(!is_web_url("javascript:alert(1)"));
//! ```

/// Whether `address` is an absolute `http`/`https` URL with a host, without white space or
/// control characters.
pub fn is_web_url(address: &str) -> bool {
    let Some((scheme, rest)) = address.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http");
    let Some(after_slashes) = rest.strip_prefix("//") else {
        return false;
    };
    let host = after_slashes
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default();
    scheme_ok
        && !host.is_empty()
        && !host.starts_with(':')
        && !address
            .chars()
            .any(|character| character.is_whitespace() || character.is_control())
}

/// How an address is named in a warning: at most 60 characters, control characters escaped.
pub fn quoted(address: &str) -> String {
    let mut shown: String = address
        .chars()
        .take(60)
        .collect::<String>()
        .escape_debug()
        .to_string();
    if address.chars().count() > 60 {
        shown.push('…');
    }
    format!("`{shown}`")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_http_and_https_addresses_only() {
        for kept in [
            "https://example.org",
            "HTTPS://Example.org/a?b=c#d",
            "http://example.org:8080/x",
            "https://user@example.org/",
        ] {
            assert!(is_web_url(kept), "{kept}");
        }
        for dropped in [
            "javascript:alert(document.cookie)",
            "JavaScript://%0aalert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "vbscript:msgbox",
            "ftp://example.org/file",
            "/relative/path",
            "example.org",
            "https:example.org",
            "https://",
            "https:///path",
            "https://exa mple.org",
            "https://example.org/\u{0}x",
            "https://example.org/\nx",
            "httpx://example.org",
        ] {
            assert!(!is_web_url(dropped), "{dropped}");
        }
    }

    proptest! {
        #[test]
        fn anything_kept_starts_with_an_http_scheme(address in any::<String>()) {
            if is_web_url(&address) {
                let lower = address.to_ascii_lowercase();
                prop_assert!(lower.starts_with("https://") || lower.starts_with("http://"));
            }
        }
    }
}
