//! The preview console's page, style and script, compiled into the binary: no build step, no
//! external assets, nothing fetched from elsewhere (the page works offline and under a strict
//! content security policy).

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The console page.
pub const CONSOLE_HTML: &str = include_str!("../assets/console.html");
/// The console's (and the report's) style sheet.
pub const CONSOLE_CSS: &str = include_str!("../assets/console.css");
/// The console's script.
pub const CONSOLE_JS: &str = include_str!("../assets/console.js");

/// Only our own origin; inline SVG attributes are allowed for the report chart.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`.
pub async fn console_page() -> Response {
    asset("text/html; charset=utf-8", CONSOLE_HTML)
}

/// `GET /assets/console.css`.
pub async fn console_css() -> Response {
    asset("text/css; charset=utf-8", CONSOLE_CSS)
}

/// `GET /assets/console.js`.
pub async fn console_js() -> Response {
    asset("text/javascript; charset=utf-8", CONSOLE_JS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_assets() {
        for page in [CONSOLE_HTML, CONSOLE_CSS, CONSOLE_JS] {
            assert!(
                !page.contains("http://") && !page.contains("//cdn"),
                "external reference"
            );
        }
        assert!(CONSOLE_HTML.contains("/assets/console.js"));
        assert!(CONSOLE_HTML.contains("/assets/console.css"));
    }
}
