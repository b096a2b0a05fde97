//! What sending an alert would do, before anything is sent: [`plan()`] counts the audience per
//! language by reading the store's audience pages (the subscribers of the alert's topic in that
//! language, in each of its jurisdictions or all of them), renders each language's preview, and
//! estimates the cost from the prices the alert file gives. Nothing is written.

use votecheck_store::{AudienceQuery, Store, StoreError};

use crate::file::Alert;

/// The page size the plan reads audiences with.
const PAGE: u32 = 1_000;

/// One language of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguagePlan {
    /// The citizens' language.
    pub language: String,
    /// The template sent to them, and its WhatsApp language code.
    pub template: String,
    /// The template's WhatsApp language code.
    pub template_language: String,
    /// How many subscribers would receive it.
    pub audience: u64,
    /// The message as they would read it.
    pub preview: String,
    /// `audience` × the file's price for this language, when it gives one.
    pub cost: Option<f64>,
}

/// What sending an alert would do.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The alert's id.
    pub id: String,
    /// Per language, in the file's order (alphabetical).
    pub languages: Vec<LanguagePlan>,
    /// Every recipient.
    pub audience: u64,
    /// The estimated cost of every message that has a price, and the currency.
    pub cost: Option<(f64, String)>,
    /// Languages with recipients but no price in the file (their cost is not in `cost`).
    pub unpriced: Vec<String>,
}

/// Plans `alert` against the subscriptions in `store` as of `now`.
pub async fn plan(alert: &Alert, store: &dyn Store, now: i64) -> Result<Plan, StoreError> {
    let mut languages = Vec::new();
    for (language, template) in &alert.templates {
        let mut audience = 0;
        let scopes: Vec<Option<String>> = if alert.jurisdictions.is_empty() {
            vec![None]
        } else {
            alert.jurisdictions.iter().cloned().map(Some).collect()
        };
        // A citizen has one subscription per topic, with one jurisdiction: the scopes are
        // disjoint and their counts add up.
        for jurisdiction in scopes {
            let query = AudienceQuery {
                topic: alert.topic,
                language: language.clone(),
                jurisdiction,
            };
            let mut cursor: Option<String> = None;
            loop {
                let page = store
                    .audience_page(&query, cursor.as_deref(), PAGE, now)
                    .await?;
                audience += page.members.len() as u64;
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        let price = alert
            .prices
            .as_ref()
            .and_then(|prices| prices.per_message.get(language));
        languages.push(LanguagePlan {
            language: language.clone(),
            template: template.template.name.clone(),
            template_language: template.template.language.clone(),
            audience,
            preview: template.preview(),
            cost: price.map(|price| price * audience as f64),
        });
    }
    let audience = languages.iter().map(|language| language.audience).sum();
    let unpriced = languages
        .iter()
        .filter(|language| language.cost.is_none() && language.audience > 0)
        .map(|language| language.language.clone())
        .collect();
    let cost = alert.prices.as_ref().map(|prices| {
        (
            languages.iter().filter_map(|language| language.cost).sum(),
            prices.currency.clone(),
        )
    });
    Ok(Plan {
        id: alert.id.clone(),
        languages,
        audience,
        cost,
        unpriced,
    })
}

impl std::fmt::Display for Plan {
    /// The plan as `votecheck alerts plan` prints it.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            formatter,
            "alert {}: {} recipient(s)",
            self.id, self.audience
        )?;
        for language in &self.languages {
            writeln!(
                formatter,
                "\n[{}] {} recipient(s), template {} ({}){}",
                language.language,
                language.audience,
                language.template,
                language.template_language,
                language
                    .cost
                    .map(|cost| format!(", about {cost:.2}"))
                    .unwrap_or_default()
            )?;
            for line in language.preview.lines() {
                writeln!(formatter, "  | {line}")?;
            }
        }
        match &self.cost {
            Some((cost, currency)) => {
                writeln!(
                    formatter,
                    "\nestimated cost: {cost:.2} {currency}, at the prices the file gives (not WhatsApp's price list)"
                )?;
                if !self.unpriced.is_empty() {
                    writeln!(
                        formatter,
                        "not priced: {} (no price in the file)",
                        self.unpriced.join(", ")
                    )?;
                }
                Ok(())
            }
            None => writeln!(
                formatter,
                "\nestimated cost: unknown (give [prices] in the file to estimate it)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use votecheck_store::{CitizenKey, DAY_SECONDS, SqliteStore, StoreConfig, Subscription, Topic};

    const NOW: i64 = 1_790_000_000;

    async fn store_with(
        subscribers: &[(&str, Topic, &str, Option<&str>)],
    ) -> (SqliteStore, tempfile::TempDir) {
        let directory = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(
            directory.path().join("store.sqlite3"),
            StoreConfig::default(),
        )
        .unwrap();
        for (number, topic, language, jurisdiction) in subscribers {
            store
                .subscribe(&Subscription {
                    citizen: CitizenKey::derive(b"salt", number),
                    topic: *topic,
                    language: language.to_string(),
                    jurisdiction: jurisdiction.map(str::to_owned),
                    contact: None,
                    at: NOW,
                    expires_at: NOW + 30 * DAY_SECONDS,
                })
                .await
                .unwrap();
        }
        (store, directory)
    }

    fn alert(jurisdictions: &str, prices: &str) -> Alert {
        let text = format!(
            r#"
            id = "polls-moved"
            topic = "polling_place"
            [audience]
            jurisdictions = [{jurisdictions}]
            [templates.en]
            name = "polling_place_moved"
            language = "en"
            parameters = ["Lincoln School"]
            body = "Your polling place moved to {{{{1}}}}."
            [templates.es]
            name = "polling_place_moved"
            language = "es"
            parameters = ["Escuela Lincoln"]
            {prices}
            "#
        );
        Alert::parse("alert.toml", &text, &["en".to_string(), "es".to_string()]).unwrap()
    }

    #[tokio::test]
    async fn the_plan_counts_only_the_topics_subscribers_per_language_and_jurisdiction() {
        let (store, _directory) = store_with(&[
            ("1", Topic::PollingPlace, "en", Some("Riverside County")),
            ("2", Topic::PollingPlace, "en", Some("Orange County")),
            ("3", Topic::PollingPlace, "es", Some("Riverside County")),
            ("4", Topic::PollingPlace, "es", None),
            ("5", Topic::Rumours, "en", Some("Riverside County")),
            ("6", Topic::PollingPlace, "pt", Some("Riverside County")),
        ])
        .await;
        let everyone = plan(&alert("", ""), &store, NOW).await.unwrap();
        let counts: Vec<(String, u64)> = everyone
            .languages
            .iter()
            .map(|language| (language.language.clone(), language.audience))
            .collect();
        assert_eq!(counts, vec![("en".into(), 2), ("es".into(), 2)]);
        assert_eq!(everyone.audience, 4);
        assert_eq!(everyone.cost, None);
        assert_eq!(
            everyone.languages[0].preview,
            "Your polling place moved to Lincoln School."
        );
        let riverside = plan(
            &alert(
                "\"Riverside County\"",
                "[prices]\ncurrency = \"USD\"\nper_message = { en = 0.5 }",
            ),
            &store,
            NOW,
        )
        .await
        .unwrap();
        assert_eq!(riverside.audience, 2);
        assert_eq!(riverside.cost, Some((0.5, "USD".to_string())));
        assert_eq!(riverside.unpriced, vec!["es".to_string()]);
        let shown = riverside.to_string();
        assert!(shown.contains("[es] 1 recipient(s)"), "{shown}");
        assert!(shown.contains("not priced: es"), "{shown}");
        assert!(shown.contains("not WhatsApp's price list"), "{shown}");
        // After the subscriptions expire, nobody is in the audience.
        let later = plan(&alert("", ""), &store, NOW + 31 * DAY_SECONDS)
            .await
            .unwrap();
        assert_eq!(later.audience, 0);
    }
}
