//! HTML documents (`.html`, `.htm`): the main text of the page. The root is `<main>` when the
//! page has one (else `<body>`); navigation, scripts, styles, forms, hidden elements and — outside
//! `<main>` — the site's header, footer and asides are left out. `h1`-`h6` make sections (their
//! `id` becomes the citation's URL fragment); block elements make blocks. The title comes from
//! `<title>`, else the first `<h1>`; the language from `<html lang>`; the source URL from
//! `<link rel="canonical">`.
//!
//! The walk over the element tree recurses once per level, so a page nested deeper than
//! [`MAX_NESTING`] elements is rejected (a hostile page of 10,000 nested `<span>`s would otherwise
//! overflow the stack and abort the process, `votecheck serve` included).

use scraper::{ElementRef, Html, Node, Selector};

use super::blocks::{SectionBuilder, collapse_whitespace, link_suffix};
use crate::document::{DocumentMetadata, ProseDocument};
use votecheck_index::language::normalize_tag;

/// How deep elements may be nested below the page's root; real pages stay far below (a few
/// dozen levels).
pub const MAX_NESTING: usize = 256;

/// Elements whose content is never document text.
const ALWAYS_SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "svg", "iframe", "form", "button", "select",
    "textarea", "object", "canvas", "head",
];

/// Site chrome, skipped when the page has no `<main>`.
const CHROME: &[&str] = &["header", "footer", "aside"];

/// Elements that end the current block.
const BLOCK_ELEMENTS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "li",
    "dd",
    "dt",
    "blockquote",
    "pre",
    "tr",
    "table",
    "ul",
    "ol",
    "dl",
    "figure",
    "figcaption",
    "caption",
    "address",
    "details",
    "summary",
    "main",
    "header",
    "footer",
    "aside",
    "hr",
];

/// Parses an HTML page.
pub fn parse(text: &str) -> Result<ProseDocument, String> {
    let page = Html::parse_document(text);
    let language = match select_first(&page, "html").and_then(|html| html.attr("lang")) {
        Some(tag) if !tag.trim().is_empty() => {
            Some(normalize_tag(tag).map_err(|error| format!("`<html lang>`: {error}"))?)
        }
        _ => None,
    };
    let title = select_first(&page, "title")
        .map(|title| collapse_whitespace(&title.text().collect::<String>()))
        .filter(|title| !title.is_empty())
        .or_else(|| {
            select_first(&page, "h1")
                .map(|h1| collapse_whitespace(&h1.text().collect::<String>()))
                .filter(|title| !title.is_empty())
        });
    let source_url = select_first(&page, "link[rel=canonical]")
        .and_then(|link| link.attr("href"))
        .map(|href| href.trim().to_string())
        .filter(|href| !href.is_empty());
    let main = select_first(&page, "main");
    let root = main.or_else(|| select_first(&page, "body"));
    let mut walker = Walker {
        sections: SectionBuilder::default(),
        buffer: String::new(),
        skip_chrome: main.is_none(),
        item_pending: false,
        flushes: 0,
        depth: 0,
        too_deep: false,
    };
    if let Some(root) = root {
        walker.walk_children(root);
    }
    if walker.too_deep {
        return Err(format!(
            "elements are nested more than {MAX_NESTING} levels deep (a broken or hostile page)"
        ));
    }
    walker.flush();
    Ok(ProseDocument {
        metadata: DocumentMetadata {
            title,
            source_url,
            language,
            ..DocumentMetadata::default()
        },
        sections: walker.sections.finish(),
    })
}

fn select_first<'a>(page: &'a Html, selector: &str) -> Option<ElementRef<'a>> {
    let selector = Selector::parse(selector).expect("selectors in this module are valid");
    page.select(&selector).next()
}

struct Walker {
    sections: SectionBuilder,
    buffer: String,
    skip_chrome: bool,
    item_pending: bool,
    /// How many times the buffer was emptied (a block or heading inside a link empties it).
    flushes: usize,
    /// Elements entered and not yet left.
    depth: usize,
    /// Set when [`MAX_NESTING`] was reached; the walk then stops descending.
    too_deep: bool,
}

impl Walker {
    fn flush(&mut self) {
        let text = self.buffer.trim().trim_end_matches('|').trim_end();
        if !text.is_empty() {
            if self.item_pending {
                self.sections.block(&format!("- {text}"));
            } else {
                self.sections.block(text);
            }
            self.item_pending = false;
        }
        self.buffer.clear();
        self.flushes += 1;
    }

    fn walk_children(&mut self, element: ElementRef<'_>) {
        if self.depth >= MAX_NESTING {
            self.too_deep = true;
            return;
        }
        self.depth += 1;
        for child in element.children() {
            match child.value() {
                Node::Text(text) => self.buffer.push_str(text),
                Node::Element(_) => {
                    if let Some(child) = ElementRef::wrap(child) {
                        self.walk_element(child);
                    }
                }
                _ => {}
            }
        }
        self.depth -= 1;
    }

    fn walk_element(&mut self, element: ElementRef<'_>) {
        let value = element.value();
        let name = value.name();
        let hidden = value.attr("hidden").is_some()
            || value.attr("aria-hidden") == Some("true")
            || value.attr("role") == Some("navigation");
        if hidden || ALWAYS_SKIPPED.contains(&name) || (self.skip_chrome && CHROME.contains(&name))
        {
            return;
        }
        if let Some(level) = heading_level(name) {
            self.flush();
            let text: String = element.text().collect();
            let anchor = value.attr("id").map(str::to_string).or_else(|| {
                let selector = Selector::parse("a[id], a[name]").expect("valid selector");
                element
                    .select(&selector)
                    .next()
                    .and_then(|a| a.attr("id").or_else(|| a.attr("name")))
                    .map(str::to_string)
            });
            self.sections.heading(level, &text, anchor);
            return;
        }
        match name {
            "br" => self.buffer.push(' '),
            "a" => {
                let (start, flushes) = (self.buffer.len(), self.flushes);
                self.walk_children(element);
                if let Some(href) = value.attr("href") {
                    // A block inside the link emptied the buffer: the link's text left in it is
                    // what came after the block.
                    let start = if self.flushes == flushes { start } else { 0 };
                    let link_text = self.buffer[start..].to_string();
                    if let Some(suffix) = link_suffix(&link_text, href) {
                        self.buffer.push_str(&suffix);
                    }
                }
            }
            "img" => {}
            "td" | "th" => {
                self.walk_children(element);
                self.buffer.push_str(" | ");
            }
            "li" => {
                self.flush();
                self.item_pending = true;
                self.walk_children(element);
                self.flush();
            }
            _ if BLOCK_ELEMENTS.contains(&name) => {
                self.flush();
                self.walk_children(element);
                self.flush();
            }
            _ => {
                self.buffer.push(' ');
                self.walk_children(element);
                self.buffer.push(' ');
            }
        }
    }
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PAGE: &str = r#"<!doctype html><html lang="es-mx"><head><title>Preguntas
    frecuentes</title><link rel="canonical" href="https://example.org/faq"><style>p{color:red}</style></head>
    <body><header><a href="/">Inicio</a></header><nav><ul><li>Menú</li></ul></nav>
    <main><h1>Preguntas</h1><p>Introducción con <b>negrita</b> y <a href="https://example.org/x">un enlace</a>.</p>
    <h2 id="correo">¿Cómo voto por correo?</h2><p>Pida su boleta.</p><ul><li>Uno</li><li>Dos</li></ul>
    <script>var x = "no";</script><div hidden>oculto</div>
    <table><tr><th>Fecha</th><th>Qué</th></tr><tr><td>1 oct</td><td>Pedir</td></tr></table>
    <h3><a id="plazos"></a>Plazos</h3><p>Hasta el 27.</p></main>
    <footer>Pie de página</footer></body></html>"#;

    #[test]
    fn takes_main_text_sections_and_metadata() {
        let document = parse(PAGE).unwrap();
        assert_eq!(
            document.metadata.title.as_deref(),
            Some("Preguntas frecuentes")
        );
        assert_eq!(document.metadata.language.as_deref(), Some("es-MX"));
        assert_eq!(
            document.metadata.source_url.as_deref(),
            Some("https://example.org/faq")
        );
        let all: String = document
            .sections
            .iter()
            .flat_map(|s| s.blocks.iter().cloned())
            .collect::<Vec<_>>()
            .join("\n");
        for absent in [
            "Menú",
            "Inicio",
            "color",
            "var x",
            "oculto",
            "Pie de página",
        ] {
            assert!(!all.contains(absent), "{absent} leaked into {all}");
        }
        let sections = &document.sections;
        assert_eq!(
            sections[0].blocks,
            vec!["Introducción con negrita y un enlace (https://example.org/x)."]
        );
        assert_eq!(sections[1].anchor(), Some("correo"));
        assert_eq!(
            sections[1].blocks,
            vec![
                "Pida su boleta.",
                "- Uno",
                "- Dos",
                "Fecha | Qué",
                "1 oct | Pedir"
            ]
        );
        assert_eq!(sections[2].anchor(), Some("plazos"));
        assert_eq!(sections[2].headings.len(), 3);
    }

    #[test]
    fn without_main_skips_site_chrome_and_takes_h1_title() {
        let page = "<html><body><header>Site</header><h1>Title</h1><p>Text</p><footer>Foot</footer></body></html>";
        let document = parse(page).unwrap();
        assert_eq!(document.metadata.title.as_deref(), Some("Title"));
        assert_eq!(document.sections.len(), 1);
        assert_eq!(document.sections[0].blocks, vec!["Text"]);
    }

    #[test]
    fn rejects_an_invalid_lang_attribute() {
        let error = parse("<html lang=\"not a language\"><body>x</body></html>").unwrap_err();
        assert!(error.contains("lang"), "{error}");
    }

    /// Runs `parse` on a thread with a small stack, as `votecheck serve` does (2 MiB, tokio's
    /// blocking threads): a recursion per nesting level would abort the whole test process.
    fn parse_on_a_small_stack(page: String) -> Result<ProseDocument, String> {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || parse(&page))
            .unwrap()
            .join()
            .unwrap()
    }

    #[test]
    fn a_link_that_holds_a_block_keeps_its_text_and_does_not_panic() {
        // Found by the `html` fuzz target: the block inside the link flushed the text gathered
        // before it, and the link's text was then sliced from where the link had started.
        let page = r#"<html><body><div>Everything about registering to vote is in the <a href="https://example.org/register">long guide<h2>Registering</h2>form</a> here.</div></body></html>"#;
        let document = parse(page).unwrap();
        let text: Vec<String> = document
            .sections
            .iter()
            .flat_map(|section| section.blocks.iter().cloned())
            .collect();
        let joined = text.join("\n");
        assert!(joined.contains("in the long guide"), "{joined}");
        assert!(joined.contains("form"), "{joined}");
        assert!(document.sections.iter().any(|section| {
            section
                .headings
                .iter()
                .any(|heading| heading.text == "Registering")
        }));
    }

    #[test]
    fn deeply_nested_elements_are_an_error_not_a_stack_overflow() {
        for depth in [5_000, 10_000, 100_000] {
            let page = format!(
                "<html><body><p>Polls open at seven.</p>{}x{}</body></html>",
                "<span>".repeat(depth),
                "</span>".repeat(depth)
            );
            let error = parse_on_a_small_stack(page).unwrap_err();
            assert!(error.contains("nested more than 256"), "{error}");
        }
        let nested_divs = format!(
            "{}<p>deep text</p>{}",
            "<div>".repeat(200),
            "</div>".repeat(200)
        );
        let document = parse_on_a_small_stack(format!("<body>{nested_divs}</body>")).unwrap();
        assert_eq!(document.sections[0].blocks, vec!["deep text"]);
    }

    proptest! {
        #[test]
        fn never_panics(text in any::<String>()) {
            let _ = parse(&text);
        }
    }
}
