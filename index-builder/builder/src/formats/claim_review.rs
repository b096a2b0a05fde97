//! schema.org ClaimReview fact-checks (`.json`, `.jsonld`): one ClaimReview object, an array of
//! them, a JSON-LD `@graph`, or a `DataFeed` whose `dataFeedElement` items carry `item` arrays.
//! Authors may be objects, arrays or plain names; numbers may be written as strings. A file
//! without any ClaimReview is an error; a ClaimReview without a claim or headline is skipped with
//! a warning.

use serde_json::Value;

use crate::document::ClaimReviewItem;
use votecheck_index::ClaimReview;
use votecheck_index::language::normalize_tag;

/// The fact-checks of a file, and warnings about items that were skipped.
#[derive(Debug, Default)]
pub struct ParsedClaimReviews {
    /// The fact-checks found.
    pub items: Vec<ClaimReviewItem>,
    /// Reviews skipped, and why.
    pub warnings: Vec<String>,
}

/// Parses a ClaimReview JSON file.
pub fn parse(bytes: &[u8]) -> Result<ParsedClaimReviews, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        format!(
            "invalid JSON at line {} column {}: {error}",
            error.line(),
            error.column()
        )
    })?;
    let mut candidates = Vec::new();
    collect_claim_reviews(&value, &mut candidates, 0);
    if candidates.is_empty() {
        return Err("no schema.org ClaimReview found (expected an object with \"@type\": \"ClaimReview\", an array of them, or a DataFeed of them)".to_string());
    }
    let mut parsed = ParsedClaimReviews::default();
    for (index, candidate) in candidates.into_iter().enumerate() {
        match claim_review(candidate) {
            Ok(item) => parsed.items.push(item),
            Err(reason) => parsed
                .warnings
                .push(format!("ClaimReview #{} skipped: {reason}", index + 1)),
        }
    }
    Ok(parsed)
}

fn has_type(value: &Value, wanted: &str) -> bool {
    let matches = |name: &str| {
        name == wanted
            || name.ends_with(&format!("/{wanted}"))
            || name == format!("schema:{wanted}")
    };
    match value.get("@type") {
        Some(Value::String(name)) => matches(name),
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).any(matches),
        _ => false,
    }
}

fn collect_claim_reviews<'a>(value: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
    if depth > 8 {
        return;
    }
    match value {
        Value::Array(items) => {
            for item in items {
                collect_claim_reviews(item, out, depth + 1);
            }
        }
        Value::Object(object) => {
            if has_type(value, "ClaimReview") {
                out.push(value);
                return;
            }
            for key in ["@graph", "dataFeedElement", "item", "itemListElement"] {
                if let Some(inner) = object.get(key) {
                    collect_claim_reviews(inner, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// A string field, or the `name` of an object, or the first of an array of either.
fn text_of(value: Option<&Value>) -> Option<String> {
    let text = match value? {
        Value::String(text) => text.trim().to_string(),
        Value::Number(number) => number.to_string(),
        Value::Object(object) => return text_of(object.get("name")),
        Value::Array(items) => return items.iter().find_map(|item| text_of(Some(item))),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn url_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(url) => Some(url.trim().to_string()).filter(|url| !url.is_empty()),
        Value::Object(object) => url_of(object.get("url").or_else(|| object.get("@id"))),
        Value::Array(items) => items.iter().find_map(|item| url_of(Some(item))),
        _ => None,
    }
}

fn number_of(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn first_object(value: Option<&Value>) -> Option<&Value> {
    match value? {
        Value::Array(items) => items.iter().find(|item| item.is_object()),
        object @ Value::Object(_) => Some(object),
        _ => None,
    }
}

fn date_of(value: Option<&Value>) -> Option<String> {
    let text = text_of(value)?;
    Some(
        text.get(..10)
            .filter(|_| text.len() >= 10)
            .unwrap_or(&text)
            .to_string(),
    )
}

fn claim_review(value: &Value) -> Result<ClaimReviewItem, String> {
    let headline = text_of(value.get("headline"));
    let claim = text_of(value.get("claimReviewed"))
        .or_else(|| headline.clone())
        .ok_or("it has neither `claimReviewed` nor `headline`")?;
    let rating = first_object(value.get("reviewRating"));
    let author = first_object(value.get("author"));
    let item_reviewed = first_object(value.get("itemReviewed"));
    let appearances = match item_reviewed.and_then(|item| item.get("appearance")) {
        Some(Value::Array(items)) => items.iter().filter_map(|item| url_of(Some(item))).collect(),
        Some(other) => url_of(Some(other)).into_iter().collect(),
        None => Vec::new(),
    };
    let language = match text_of(value.get("inLanguage")) {
        Some(tag) => Some(normalize_tag(&tag).map_err(|error| format!("`inLanguage`: {error}"))?),
        None => None,
    };
    let review = ClaimReview {
        claim,
        verdict: rating.and_then(|rating| text_of(rating.get("alternateName"))),
        rating_value: rating.and_then(|rating| number_of(rating.get("ratingValue"))),
        best_rating: rating.and_then(|rating| number_of(rating.get("bestRating"))),
        worst_rating: rating.and_then(|rating| number_of(rating.get("worstRating"))),
        url: url_of(value.get("url")),
        date_published: date_of(value.get("datePublished")),
        checked_by: author
            .and_then(|author| text_of(author.get("name")).or_else(|| text_of(Some(author)))),
        checked_by_url: author.and_then(|author| url_of(author.get("url"))),
        claimant: item_reviewed.and_then(|item| text_of(item.get("author"))),
        claim_date: item_reviewed.and_then(|item| date_of(item.get("datePublished"))),
        appearances,
        headline,
    };
    let body = text_of(value.get("reviewBody"))
        .or_else(|| text_of(value.get("description")))
        .unwrap_or_default();
    Ok(ClaimReviewItem {
        review,
        body,
        language,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn review_json(claim: &str) -> String {
        format!(
            r#"{{"@context":"https://schema.org","@type":"ClaimReview","claimReviewed":"{claim}",
            "reviewRating":{{"@type":"Rating","alternateName":"False","ratingValue":"1","bestRating":5,"worstRating":1}},
            "url":"https://example.org/check","datePublished":"2026-10-01T09:00:00Z",
            "author":{{"@type":"Organization","name":"Desk","url":"https://example.org"}},
            "itemReviewed":{{"@type":"Claim","author":{{"name":"A post"}},"datePublished":"2026-09-30",
            "appearance":[{{"@type":"CreativeWork","url":"https://social.example/1"}}]}},
            "inLanguage":"en","headline":"No, you cannot vote by text","reviewBody":"Votes are cast on ballots."}}"#
        )
    }

    #[test]
    fn reads_every_field() {
        let parsed = parse(review_json("You can vote by text").as_bytes()).unwrap();
        let item = &parsed.items[0];
        assert_eq!(item.review.claim, "You can vote by text");
        assert_eq!(item.review.verdict.as_deref(), Some("False"));
        assert_eq!(item.review.rating_value, Some(1.0));
        assert_eq!(item.review.best_rating, Some(5.0));
        assert_eq!(item.review.date_published.as_deref(), Some("2026-10-01"));
        assert_eq!(item.review.checked_by.as_deref(), Some("Desk"));
        assert_eq!(
            item.review.checked_by_url.as_deref(),
            Some("https://example.org")
        );
        assert_eq!(item.review.claimant.as_deref(), Some("A post"));
        assert_eq!(item.review.claim_date.as_deref(), Some("2026-09-30"));
        assert_eq!(item.review.appearances, vec!["https://social.example/1"]);
        assert_eq!(
            item.review.headline.as_deref(),
            Some("No, you cannot vote by text")
        );
        assert_eq!(item.body, "Votes are cast on ballots.");
        assert_eq!(item.language.as_deref(), Some("en"));
    }

    #[test]
    fn reads_arrays_and_data_feeds() {
        let array = format!("[{}, {}]", review_json("a"), review_json("b"));
        assert_eq!(parse(array.as_bytes()).unwrap().items.len(), 2);
        let feed = format!(
            r#"{{"@context":"https://schema.org","@type":"DataFeed","dataFeedElement":[
            {{"@type":"DataFeedItem","item":[{}]}},{{"@type":"DataFeedItem","item":[{}, {}]}}]}}"#,
            review_json("a"),
            review_json("b"),
            review_json("c")
        );
        let claims: Vec<String> = parse(feed.as_bytes())
            .unwrap()
            .items
            .into_iter()
            .map(|item| item.review.claim)
            .collect();
        assert_eq!(claims, vec!["a", "b", "c"]);
    }

    #[test]
    fn reports_invalid_json_with_position() {
        let error = parse(b"{\n  \"@type\": \"ClaimReview\",\n  oops\n}").unwrap_err();
        assert!(error.contains("line 3"), "{error}");
    }

    #[test]
    fn reports_json_without_claim_reviews() {
        let error = parse(br#"{"@type":"NewsArticle"}"#).unwrap_err();
        assert!(error.contains("no schema.org ClaimReview"), "{error}");
    }

    #[test]
    fn skips_reviews_without_a_claim_with_a_warning() {
        let parsed =
            parse(format!(r#"[{{"@type":"ClaimReview"}}, {}]"#, review_json("x")).as_bytes())
                .unwrap();
        assert_eq!(parsed.items.len(), 1);
        assert_eq!(parsed.warnings.len(), 1);
        assert!(parsed.warnings[0].contains("#1"));
    }

    #[test]
    fn deeply_nested_json_does_not_overflow_a_small_stack() {
        let inputs = [
            "[".repeat(100_000),
            "{\"a\":".repeat(100_000),
            format!(
                "{}{{\"@type\":\"ClaimReview\"}}{}",
                "[".repeat(120),
                "]".repeat(120)
            ),
        ];
        for input in inputs {
            std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || {
                    let _ = parse(input.as_bytes());
                })
                .unwrap()
                .join()
                .unwrap();
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&bytes);
        }
    }
}
