//! The store's contract, run against both implementations: SQLite in a temporary file, and
//! DynamoDB on a real moto_server started for each test (see `common`). Each case is an async
//! function over `Arc<dyn Store>`; the `contract!` macro makes one test per backend of it.
//! DynamoDB-only cases (table creation, a missing table) follow.

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{Backend, TABLE, dynamo_backend};
use votecheck_store::contact::{ContactAddress, ContactSealer, SealedContact};
use votecheck_store::report::build_report;
use votecheck_store::{
    AudienceQuery, CitizenKey, Claim, DAY_SECONDS, DeliveryFailure, Feedback, IdentityLink,
    Preferences, QueryRecord, Store, StoreConfig, StoreError, Subscription, Topic, admin,
};

/// 2026-03-01 00:00:00 UTC.
const NOW: i64 = 1_772_323_200;

fn citizen(number: &str) -> CitizenKey {
    CitizenKey::derive(b"test salt", number)
}

fn record(
    config: &StoreConfig,
    who: &CitizenKey,
    id: &str,
    at: i64,
    question: &str,
) -> QueryRecord {
    QueryRecord {
        query_id: id.to_owned(),
        at,
        citizen: who.clone(),
        language: "es".to_owned(),
        intent: "question".to_owned(),
        outcome: "answer".to_owned(),
        question_redacted: question.to_owned(),
        passage_ids: vec!["guide-es#where-to-vote".to_owned(), "faq-es#id".to_owned()],
        scores: vec![12.75, 3.5],
        fact_check_id: None,
        corpus_version: "2026-02-20".to_owned(),
        latency_ms: 180,
        forwarded: false,
        expires_at: config.expires_at(at),
    }
}

contract!(
    claim_duplicate_and_release,
    one_hundred_concurrent_claims_one_winner,
    query_records_round_trip_redacted_and_expire,
    preferences_expire_unless_opted_out,
    move_citizen_carries_preferences,
    feedback_is_recorded_and_listed,
    rate_limit_counts_per_fixed_window,
    delete_citizen_removes_only_that_citizen,
    identity_links_resolve_expire_unlink_and_go_with_the_citizen,
    report_reads_ranges_across_days,
    invalid_input_is_refused,
    subscriptions_replace_list_end_and_go_with_the_citizen,
    an_audience_is_read_in_pages_each_subscriber_once,
);

fn subscription(
    who: &CitizenKey,
    topic: Topic,
    language: &str,
    jurisdiction: Option<&str>,
) -> Subscription {
    Subscription {
        citizen: who.clone(),
        topic,
        language: language.to_owned(),
        jurisdiction: jurisdiction.map(str::to_owned),
        // The store keeps what it is given; sealing is tested below and in `contact`.
        contact: Some(SealedContact::from_stored(format!("v1.{}", who.short()))),
        at: NOW,
        expires_at: NOW + 180 * DAY_SECONDS,
    }
}

async fn subscriptions_replace_list_end_and_go_with_the_citizen(backend: &Backend) {
    let store = &backend.store;
    let ana = citizen("34600111222");
    let ben = citizen("34600333444");
    let riverside = Some("Riverside County");
    store
        .subscribe(&subscription(&ana, Topic::ElectionDay, "pt", riverside))
        .await
        .unwrap();
    store
        .subscribe(&subscription(&ana, Topic::Rumours, "pt", None))
        .await
        .unwrap();
    store
        .subscribe(&subscription(&ben, Topic::Rumours, "es", None))
        .await
        .unwrap();
    // Subscribing again replaces: one subscription per topic, the new language.
    let again = subscription(&ana, Topic::ElectionDay, "es", riverside);
    store.subscribe(&again).await.unwrap();
    let listed = store.subscriptions(&ana, NOW + 1).await.unwrap();
    assert_eq!(
        listed,
        vec![
            again.clone(),
            subscription(&ana, Topic::Rumours, "pt", None)
        ]
    );
    // An expired subscription is gone for readers.
    assert_eq!(
        store
            .subscriptions(&ana, again.expires_at)
            .await
            .unwrap()
            .len(),
        0
    );
    assert!(store.unsubscribe(&ana, Topic::Rumours).await.unwrap());
    assert!(!store.unsubscribe(&ana, Topic::Rumours).await.unwrap());
    assert_eq!(store.subscriptions(&ana, NOW).await.unwrap(), vec![again]);
    // "stop": every subscription ends.
    store
        .subscribe(&subscription(&ana, Topic::Deadlines, "es", None))
        .await
        .unwrap();
    assert_eq!(store.unsubscribe_all(&ana).await.unwrap(), 2);
    assert!(store.subscriptions(&ana, NOW).await.unwrap().is_empty());
    // A number change takes them along; the moving one wins a topic both keys have.
    let new_number = citizen("34600999000");
    store
        .subscribe(&subscription(&ana, Topic::Deadlines, "es", None))
        .await
        .unwrap();
    store
        .subscribe(&subscription(&new_number, Topic::Deadlines, "pt", None))
        .await
        .unwrap();
    store
        .subscribe(&subscription(&new_number, Topic::Rumours, "pt", None))
        .await
        .unwrap();
    store.move_citizen(&ana, &new_number).await.unwrap();
    assert!(store.subscriptions(&ana, NOW).await.unwrap().is_empty());
    // The moved one keeps its sealed address: a merge of two ids of one person keeps reaching
    // them; after a change of number the handler seals the new address.
    assert_eq!(
        store.subscriptions(&new_number, NOW).await.unwrap(),
        vec![
            Subscription {
                contact: subscription(&ana, Topic::Deadlines, "es", None).contact,
                ..subscription(&new_number, Topic::Deadlines, "es", None)
            },
            subscription(&new_number, Topic::Rumours, "pt", None)
        ]
    );
    let audience = store
        .audience_page(
            &AudienceQuery {
                topic: Topic::Deadlines,
                language: "es".to_owned(),
                jurisdiction: None,
            },
            None,
            10,
            NOW,
        )
        .await
        .unwrap();
    let members: Vec<&CitizenKey> = audience
        .members
        .iter()
        .map(|member| &member.citizen)
        .collect();
    assert_eq!(members, vec![&new_number], "the audience follows the move");
    store.unsubscribe_all(&new_number).await.unwrap();
    // Delete-my-data deletes them with the rest, and only the citizen's.
    store
        .subscribe(&subscription(&ana, Topic::Deadlines, "es", None))
        .await
        .unwrap();
    assert_eq!(store.delete_citizen(&ana).await.unwrap(), 1);
    assert!(store.subscriptions(&ana, NOW).await.unwrap().is_empty());
    assert_eq!(store.subscriptions(&ben, NOW).await.unwrap().len(), 1);
    // What the store refuses, it names.
    for bad in [
        subscription(&ben, Topic::Rumours, "", None),
        subscription(&ben, Topic::Rumours, "es", Some("a#b")),
        Subscription {
            expires_at: NOW,
            ..subscription(&ben, Topic::Rumours, "es", None)
        },
    ] {
        let error = store.subscribe(&bad).await.unwrap_err();
        assert!(matches!(error, StoreError::InvalidInput { .. }), "{error}");
    }
}

async fn an_audience_is_read_in_pages_each_subscriber_once(backend: &Backend) {
    let store = &backend.store;
    let mut everyone = BTreeSet::new();
    let mut in_riverside = BTreeSet::new();
    for n in 0..120 {
        let who = citizen(&format!("1555010{n:04}"));
        let jurisdiction = (n % 4 == 0).then_some("Riverside County");
        store
            .subscribe(&subscription(&who, Topic::Deadlines, "es", jurisdiction))
            .await
            .unwrap();
        everyone.insert(who.as_str().to_owned());
        if jurisdiction.is_some() {
            in_riverside.insert(who.as_str().to_owned());
        }
    }
    // A jurisdiction whose name starts another's: in the audience for everyone, not Riverside
    // County's.
    let other = |n: &str| citizen(&format!("1555099{n}"));
    store
        .subscribe(&subscription(
            &other("3"),
            Topic::Deadlines,
            "es",
            Some("Riverside"),
        ))
        .await
        .unwrap();
    everyone.insert(other("3").as_str().to_owned());
    // Not in the audience: another topic, another language, expired.
    for noise in [
        subscription(&other("1"), Topic::Rumours, "es", None),
        subscription(&other("2"), Topic::Deadlines, "pt", None),
        Subscription {
            expires_at: NOW + 10,
            ..subscription(&other("4"), Topic::Deadlines, "es", None)
        },
    ] {
        store.subscribe(&noise).await.unwrap();
    }
    let read_all = |jurisdiction: Option<&'static str>, limit: u32| async move {
        let query = AudienceQuery {
            topic: Topic::Deadlines,
            language: "es".to_owned(),
            jurisdiction: jurisdiction.map(str::to_owned),
        };
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = store
                .audience_page(&query, cursor.as_deref(), limit, NOW + 20)
                .await
                .unwrap();
            assert!(page.members.len() <= limit as usize);
            pages += 1;
            assert!(pages < 200, "the pages never end");
            seen.extend(page.members.into_iter().map(|member| {
                if jurisdiction.is_some() {
                    assert_eq!(member.jurisdiction.as_deref(), jurisdiction);
                }
                member.citizen.as_str().to_owned()
            }));
            match page.next {
                Some(next) => cursor = Some(next),
                None => return (seen, pages),
            }
        }
    };
    // The page carries each subscriber's sealed address, which the deployment's key opens.
    let sealer = ContactSealer::from_salt(b"test salt");
    let sealed_one = citizen("15550990009");
    store
        .subscribe(&Subscription {
            contact: Some(
                sealer
                    .seal(&ContactAddress::PhoneNumber("15550990009".to_owned()))
                    .unwrap(),
            ),
            ..subscription(&sealed_one, Topic::Deadlines, "es", Some("Sealed County"))
        })
        .await
        .unwrap();
    everyone.insert(sealed_one.as_str().to_owned());
    let page = store
        .audience_page(
            &AudienceQuery {
                topic: Topic::Deadlines,
                language: "es".to_owned(),
                jurisdiction: Some("Sealed County".to_owned()),
            },
            None,
            10,
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(page.members.len(), 1);
    assert_eq!(
        sealer
            .open(page.members[0].contact.as_ref().unwrap())
            .unwrap(),
        ContactAddress::PhoneNumber("15550990009".to_owned())
    );
    let (seen, pages) = read_all(None, 25).await;
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a subscriber came twice");
    assert_eq!(unique, everyone);
    assert!(pages >= 5, "{pages} pages of at most 25 for 120");
    let (seen, _) = read_all(Some("Riverside County"), 7).await;
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len());
    assert_eq!(unique, in_riverside);
    let (seen, _) = read_all(Some("Riverside"), 7).await;
    assert_eq!(seen, vec![other("3").as_str().to_owned()]);
    // A cursor the store did not give, and a page size out of range, are refused.
    let query = AudienceQuery {
        topic: Topic::Deadlines,
        language: "es".to_owned(),
        jurisdiction: None,
    };
    for (cursor, limit) in [(Some("forged"), 10), (None, 0), (None, 1_001)] {
        let error = store
            .audience_page(&query, cursor, limit, NOW)
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::InvalidInput { .. }), "{error}");
    }
}

async fn claim_duplicate_and_release(backend: &Backend) {
    let store = &backend.store;
    let id = "wamid.HBgLMzQ2MDAxMTEyMjIVAgASGBQzQUY3";
    assert_eq!(store.claim_message(id, NOW).await.unwrap(), Claim::Claimed);
    assert_eq!(
        store.claim_message(id, NOW).await.unwrap(),
        Claim::Duplicate
    );
    // WhatsApp retries for up to 7 days: still a duplicate then.
    let week_later = NOW + 7 * DAY_SECONDS;
    assert_eq!(
        store.claim_message(id, week_later).await.unwrap(),
        Claim::Duplicate
    );
    assert_eq!(
        store.claim_message("wamid.other", NOW).await.unwrap(),
        Claim::Claimed
    );
    // Released after a failure before sending: the redelivery is processed.
    store.release_message(id).await.unwrap();
    assert_eq!(
        store.claim_message(id, NOW + 60).await.unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        store.claim_message(id, NOW + 61).await.unwrap(),
        Claim::Duplicate
    );
    // Releasing an unknown id is fine.
    store.release_message("wamid.never-seen").await.unwrap();
    // An expired claim (TTL not applied yet) no longer blocks.
    let after_retention = NOW + 60 + i64::from(backend.config.claim_retention_days) * DAY_SECONDS;
    assert_eq!(
        store.claim_message(id, after_retention).await.unwrap(),
        Claim::Claimed
    );
}

async fn one_hundred_concurrent_claims_one_winner(backend: &Backend) {
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let store: Arc<dyn Store> = Arc::clone(&backend.store);
            tokio::spawn(async move { store.claim_message("wamid.RACE", NOW).await })
        })
        .collect();
    let mut claimed = 0;
    let mut duplicate = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Claim::Claimed => claimed += 1,
            Claim::Duplicate => duplicate += 1,
        }
    }
    assert_eq!(
        (claimed, duplicate),
        (1, 99),
        "exactly one of 100 concurrent claims wins"
    );
}

async fn query_records_round_trip_redacted_and_expire(backend: &Backend) {
    let store = &backend.store;
    let ana = citizen("34600111222");
    let ben = citizen("34600333444");
    let mut first = record(
        &backend.config,
        &ana,
        "q-1",
        NOW,
        "Soy ana@example.org, tel +34 600 111 222, ¿dónde voto?",
    );
    first.fact_check_id = Some("claim-review-7".to_owned());
    first.forwarded = true;
    store.record_query(&first).await.unwrap();

    let read = store.query(&ana, "q-1", NOW + 1).await.unwrap().unwrap();
    assert_eq!(
        read.question_redacted,
        "Soy [email], tel [phone], ¿dónde voto?"
    );
    assert_eq!(
        read,
        QueryRecord {
            question_redacted: read.question_redacted.clone(),
            ..first.clone()
        }
    );
    // Scoped by citizen.
    assert_eq!(store.query(&ben, "q-1", NOW + 1).await.unwrap(), None);
    assert_eq!(store.query(&ana, "q-404", NOW + 1).await.unwrap(), None);

    // A record that expires: invisible from its expiry on, to every reader.
    let mut short_lived = record(
        &backend.config,
        &ana,
        "q-2",
        NOW + 10,
        "¿Puedo votar por correo?",
    );
    short_lived.expires_at = NOW + 100;
    store.record_query(&short_lived).await.unwrap();
    assert!(store.query(&ana, "q-2", NOW + 99).await.unwrap().is_some());
    assert_eq!(store.query(&ana, "q-2", NOW + 100).await.unwrap(), None);
    let ids = |records: Vec<QueryRecord>| -> Vec<String> {
        records.into_iter().map(|record| record.query_id).collect()
    };
    assert_eq!(
        ids(store
            .queries_between(NOW, NOW + 60, NOW + 99)
            .await
            .unwrap()),
        ["q-1", "q-2"]
    );
    assert_eq!(
        ids(store
            .queries_between(NOW, NOW + 60, NOW + 100)
            .await
            .unwrap()),
        ["q-1"]
    );
    // The retention: gone after 90 days.
    let after_retention = first.expires_at;
    assert_eq!(
        store.query(&ana, "q-1", after_retention).await.unwrap(),
        None
    );
    assert!(
        store
            .queries_between(NOW, NOW + 60, after_retention)
            .await
            .unwrap()
            .is_empty()
    );

    // Recording the same query again replaces it.
    let mut replaced = first.clone();
    replaced.outcome = "no_answer".to_owned();
    store.record_query(&replaced).await.unwrap();
    let read = store.query(&ana, "q-1", NOW + 1).await.unwrap().unwrap();
    assert_eq!(read.outcome, "no_answer");
}

async fn preferences_expire_unless_opted_out(backend: &Backend) {
    let store = &backend.store;
    let ana = citizen("34600111222");
    assert_eq!(store.preferences(&ana, NOW).await.unwrap(), None);
    let chosen = Preferences {
        language: Some("ca".to_owned()),
        opted_out: false,
        last_seen: Some(NOW),
    };
    store.save_preferences(&ana, &chosen).await.unwrap();
    assert_eq!(
        store.preferences(&ana, NOW + 5).await.unwrap(),
        Some(chosen.clone())
    );
    let retention_end = backend.config.expires_at(NOW);
    assert_eq!(
        store.preferences(&ana, retention_end - 1).await.unwrap(),
        Some(chosen)
    );
    assert_eq!(store.preferences(&ana, retention_end).await.unwrap(), None);

    // An opt-out is kept past the retention.
    let opted_out = Preferences {
        language: None,
        opted_out: true,
        last_seen: Some(NOW),
    };
    store.save_preferences(&ana, &opted_out).await.unwrap();
    assert_eq!(
        store
            .preferences(&ana, retention_end + 365 * DAY_SECONDS)
            .await
            .unwrap(),
        Some(opted_out)
    );
}

async fn move_citizen_carries_preferences(backend: &Backend) {
    let store = &backend.store;
    let old_number = citizen("34600111222");
    let new_number = citizen("34699999999");
    let preferences = Preferences {
        language: Some("eu".to_owned()),
        opted_out: false,
        last_seen: Some(NOW),
    };
    store
        .save_preferences(&old_number, &preferences)
        .await
        .unwrap();
    store
        .record_query(&record(
            &backend.config,
            &old_number,
            "q-old",
            NOW,
            "¿Dónde voto?",
        ))
        .await
        .unwrap();

    store.move_citizen(&old_number, &new_number).await.unwrap();
    assert_eq!(
        store.preferences(&new_number, NOW + 1).await.unwrap(),
        Some(preferences.clone())
    );
    assert_eq!(store.preferences(&old_number, NOW + 1).await.unwrap(), None);
    // Past queries stay where they were.
    assert!(
        store
            .query(&old_number, "q-old", NOW + 1)
            .await
            .unwrap()
            .is_some()
    );

    // Nothing to move: not an error, nothing changes.
    store.move_citizen(&old_number, &new_number).await.unwrap();
    assert_eq!(
        store.preferences(&new_number, NOW + 1).await.unwrap(),
        Some(preferences)
    );

    // Merging into a number that has preferences: the mover's language, either opt-out, the
    // later last_seen.
    let third = citizen("34611111111");
    store
        .save_preferences(
            &third,
            &Preferences {
                language: None,
                opted_out: true,
                last_seen: Some(NOW + 50),
            },
        )
        .await
        .unwrap();
    store.move_citizen(&new_number, &third).await.unwrap();
    assert_eq!(
        store.preferences(&third, NOW + 60).await.unwrap(),
        Some(Preferences {
            language: Some("eu".to_owned()),
            opted_out: true,
            last_seen: Some(NOW + 50),
        })
    );
}

async fn feedback_is_recorded_and_listed(backend: &Backend) {
    let store = &backend.store;
    let ana = citizen("34600111222");
    let ben = citizen("34600333444");
    let feedback = [
        Feedback {
            query_id: "q-1".to_owned(),
            citizen: ana.clone(),
            helpful: true,
            at: NOW + 5,
        },
        Feedback {
            query_id: "q-2".to_owned(),
            citizen: ben.clone(),
            helpful: false,
            at: NOW + 7,
        },
    ];
    for item in &feedback {
        store.record_feedback(item).await.unwrap();
    }
    assert_eq!(
        store
            .feedback_between(NOW, NOW + 60, NOW + 60)
            .await
            .unwrap(),
        feedback
    );
    // The citizen changes their mind: the later verdict replaces the first.
    let changed = Feedback {
        helpful: false,
        at: NOW + 9,
        ..feedback[0].clone()
    };
    store.record_feedback(&changed).await.unwrap();
    assert_eq!(
        store
            .feedback_between(NOW, NOW + 60, NOW + 60)
            .await
            .unwrap(),
        [feedback[1].clone(), changed]
    );
    // Feedback expires with the retention.
    let retention_end = backend.config.expires_at(NOW + 7);
    let after = store
        .feedback_between(NOW, NOW + 60, retention_end)
        .await
        .unwrap();
    assert_eq!(after.len(), 1, "only the feedback given later is left");
}

async fn rate_limit_counts_per_fixed_window(backend: &Backend) {
    let store = &backend.store;
    let window = backend.config.rate_limit.window_seconds;
    let ana = citizen("34600111222");
    let ben = citizen("34600333444");
    let start = NOW - NOW % window;
    for expected in 1..=3 {
        assert_eq!(
            store
                .count_message(&ana, start + expected as i64, window)
                .await
                .unwrap(),
            expected
        );
    }
    assert_eq!(
        store.count_message(&ben, start + 5, window).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .count_message(&ana, start + window - 1, window)
            .await
            .unwrap(),
        4
    );
    // The next window starts from zero.
    assert_eq!(
        store
            .count_message(&ana, start + window, window)
            .await
            .unwrap(),
        1
    );

    // Atomic: 25 concurrent messages get 25 distinct counts.
    let tasks: Vec<_> = (0..25)
        .map(|_| {
            let store = Arc::clone(&backend.store);
            let ben = ben.clone();
            tokio::spawn(async move { store.count_message(&ben, start + 3 * window, window).await })
        })
        .collect();
    let mut counts = BTreeSet::new();
    for task in tasks {
        counts.insert(task.await.unwrap().unwrap());
    }
    assert_eq!(counts, (1..=25).collect());
    assert!(!backend.config.rate_limit.allows(25));
}

async fn delete_citizen_removes_only_that_citizen(backend: &Backend) {
    let store = &backend.store;
    let ana = citizen("34600111222");
    let ben = citizen("34600333444");
    for who in [&ana, &ben] {
        for id in ["q-1", "q-2"] {
            let query_id = format!("{id}-{}", who.short());
            store
                .record_query(&record(
                    &backend.config,
                    who,
                    &query_id,
                    NOW,
                    "¿Dónde voto?",
                ))
                .await
                .unwrap();
            store
                .record_feedback(&Feedback {
                    query_id,
                    citizen: who.clone(),
                    helpful: true,
                    at: NOW + 1,
                })
                .await
                .unwrap();
        }
        store
            .save_preferences(
                who,
                &Preferences {
                    language: Some("es".to_owned()),
                    opted_out: false,
                    last_seen: Some(NOW),
                },
            )
            .await
            .unwrap();
        store
            .record_delivery_failure(&DeliveryFailure {
                message_id: format!("wamid.out-{}", who.short()),
                citizen: who.clone(),
                error_code: 131_047,
                at: NOW + 2,
            })
            .await
            .unwrap();
        store.count_message(who, NOW, 600).await.unwrap();
    }

    // 2 queries + 2 feedback + 1 preferences + 1 delivery failure.
    assert_eq!(store.delete_citizen(&ana).await.unwrap(), 6);
    assert_eq!(store.preferences(&ana, NOW + 3).await.unwrap(), None);
    let later = NOW + 10;
    let queries = store.queries_between(NOW, later, later).await.unwrap();
    assert!(queries.iter().all(|record| record.citizen == ben));
    assert_eq!(queries.len(), 2);
    let feedback = store.feedback_between(NOW, later, later).await.unwrap();
    assert!(feedback.iter().all(|item| item.citizen == ben));
    assert_eq!(feedback.len(), 2);
    assert!(store.preferences(&ben, NOW + 3).await.unwrap().is_some());
    // Nothing left to delete.
    assert_eq!(store.delete_citizen(&ana).await.unwrap(), 0);
    // The rate-limit counter is not reset by a deletion request.
    assert_eq!(store.count_message(&ana, NOW + 1, 600).await.unwrap(), 2);
    assert_eq!(store.delete_citizen(&ben).await.unwrap(), 6);
}

async fn identity_links_resolve_expire_unlink_and_go_with_the_citizen(backend: &Backend) {
    let store = &backend.store;
    let ana = citizen("US.1000000000000000002");
    let ana_number = citizen("34600111222");
    let ana_old_number = citizen("34600555666");
    let ben = citizen("34600333444");
    assert_eq!(store.identity(&ana_number, NOW).await.unwrap(), None);
    store
        .link_identity(&ana, &ana, Some(NOW + 100))
        .await
        .unwrap();
    store.link_identity(&ana_number, &ana, None).await.unwrap();
    store
        .link_identity(&ana_old_number, &ana, Some(NOW + 10))
        .await
        .unwrap();
    store.link_identity(&ben, &ben, None).await.unwrap();
    assert_eq!(
        store.identity(&ana_number, NOW).await.unwrap(),
        Some(IdentityLink {
            citizen: ana.clone(),
            expires_at: None
        })
    );
    assert_eq!(
        store.identity(&ana, NOW).await.unwrap().unwrap().expires_at,
        Some(NOW + 100)
    );
    // An expired link is no link.
    assert_eq!(
        store.identity(&ana_old_number, NOW + 10).await.unwrap(),
        None
    );
    store.unlink_identity(&ana_old_number).await.unwrap();
    store.unlink_identity(&ana_old_number).await.unwrap();
    assert_eq!(store.identity(&ana_old_number, NOW).await.unwrap(), None);

    // A query kept under the number's own key (before it was linked) goes with the citizen.
    store
        .record_query(&record(
            &backend.config,
            &ana_number,
            "q-old",
            NOW,
            "¿Dónde?",
        ))
        .await
        .unwrap();
    store
        .record_query(&record(&backend.config, &ana, "q-new", NOW, "¿Dónde?"))
        .await
        .unwrap();
    store
        .record_query(&record(&backend.config, &ben, "q-ben", NOW, "¿Dónde?"))
        .await
        .unwrap();
    // 2 queries + 2 links.
    assert_eq!(store.delete_citizen(&ana).await.unwrap(), 4);
    for id in [&ana, &ana_number] {
        assert_eq!(store.identity(id, NOW).await.unwrap(), None);
    }
    let left = store.queries_between(NOW, NOW + 1, NOW).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].citizen, ben);
    assert!(store.identity(&ben, NOW).await.unwrap().is_some());
}

async fn report_reads_ranges_across_days(backend: &Backend) {
    let store = &backend.store;
    let ana = citizen("34600111222");
    let ben = citizen("34600333444");
    let day = DAY_SECONDS;
    let now = NOW + 3 * day;
    let mut records = vec![
        // Two days before the period starts: left out.
        record(&backend.config, &ana, "q-0", NOW - 2 * day, "¿Dónde voto?"),
        // The first second of the period.
        record(&backend.config, &ana, "q-1", NOW, "¿Dónde voto?"),
        record(&backend.config, &ben, "q-2", NOW + day - 1, "¿donde VOTO"),
        record(
            &backend.config,
            &ben,
            "q-3",
            NOW + day,
            "¿Puedo votar con el pasaporte?",
        ),
        record(
            &backend.config,
            &ana,
            "q-4",
            NOW + 2 * day + 30,
            "Can I vote by post?",
        ),
        // Exactly `now`: the end is exclusive in queries_between.
        record(&backend.config, &ana, "q-5", now, "¿Dónde voto?"),
    ];
    records[3].outcome = "no_answer".to_owned();
    records[3].latency_ms = 900;
    records[4].outcome = "no_answer".to_owned();
    records[4].language = "en".to_owned();
    records[4].latency_ms = 2_000;
    records[4].forwarded = true;
    for item in &records {
        store.record_query(item).await.unwrap();
    }
    store
        .record_feedback(&Feedback {
            query_id: "q-3".to_owned(),
            citizen: ben.clone(),
            helpful: false,
            at: NOW + day + 60,
        })
        .await
        .unwrap();
    store
        .record_feedback(&Feedback {
            query_id: "q-1".to_owned(),
            citizen: ana.clone(),
            helpful: true,
            at: NOW + 60,
        })
        .await
        .unwrap();

    let queries = store.queries_between(NOW, now, now).await.unwrap();
    let ids: Vec<&str> = queries.iter().map(|r| r.query_id.as_str()).collect();
    assert_eq!(ids, ["q-1", "q-2", "q-3", "q-4"]);
    assert_eq!(queries[0], records[1]);
    let feedback = store.feedback_between(NOW, now, now).await.unwrap();
    assert_eq!(feedback.len(), 2);
    // An empty or inverted range is empty.
    assert!(
        store
            .queries_between(now, now, now)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .queries_between(now, NOW, now)
            .await
            .unwrap()
            .is_empty()
    );

    let report = build_report(&queries, &feedback, now, 3 * day);
    assert_eq!(report.total_queries, 4);
    assert_eq!(report.by_outcome["answer"], 2);
    assert_eq!(report.by_outcome["no_answer"], 2);
    assert_eq!(report.by_language["es"], 3);
    assert_eq!(report.by_language["en"], 1);
    assert_eq!(
        report.by_day.keys().collect::<Vec<_>>(),
        ["2026-03-01", "2026-03-02", "2026-03-03"]
    );
    assert_eq!(report.top_questions[0].count, 2);
    assert_eq!(report.top_questions[0].normalized, "donde voto");
    let unanswered: Vec<&str> = report
        .top_unanswered
        .iter()
        .map(|question| question.question.as_str())
        .collect();
    assert_eq!(
        unanswered,
        ["Can I vote by post?", "¿Puedo votar con el pasaporte?"]
    );
    assert_eq!(report.not_helpful.len(), 1);
    assert_eq!(
        report.not_helpful[0].question,
        "¿Puedo votar con el pasaporte?"
    );
    assert_eq!(report.feedback.helpful, 1);
    assert_eq!(report.forwarded, 1);
    let latency = report.latency_ms.unwrap();
    assert_eq!((latency.median, latency.p99), (180, 2_000));
    assert_eq!(report.corpus_versions["2026-02-20"], 4);
}

async fn invalid_input_is_refused(backend: &Backend) {
    let store = &backend.store;
    let ana = citizen("34600111222");
    let invalid = |result: Result<(), StoreError>| {
        assert!(
            matches!(result, Err(StoreError::InvalidInput { .. })),
            "{result:?}"
        );
    };
    invalid(store.claim_message("", NOW).await.map(|_| ()));
    invalid(store.release_message("").await);
    let mut nan = record(&backend.config, &ana, "q-nan", NOW, "x");
    nan.scores = vec![f32::NAN];
    invalid(store.record_query(&nan).await);
    invalid(
        store
            .record_query(&record(&backend.config, &ana, "q-neg", -5, "x"))
            .await,
    );
    invalid(store.count_message(&ana, NOW, 0).await.map(|_| ()));
}

// DynamoDB only.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_table_is_idempotent_and_says_what_it_did() {
    let moto = common::MotoServer::start();
    let client =
        votecheck_store::dynamo_client(&votecheck_store::ClientSettings::local(&moto.endpoint))
            .await;
    let first = admin::init_table(&client, "votecheck-init").await.unwrap();
    assert!(first.created && first.ttl_enabled_now, "{first:?}");
    assert_eq!(
        first.to_string(),
        "created table votecheck-init (on-demand capacity, report index GSI1); enabled TTL on expires_at"
    );
    let second = admin::init_table(&client, "votecheck-init").await.unwrap();
    assert!(!second.created && !second.ttl_enabled_now, "{second:?}");
    assert_eq!(
        second.to_string(),
        "table votecheck-init already exists; TTL on expires_at already enabled"
    );
    let description = client
        .describe_table()
        .table_name("votecheck-init")
        .send()
        .await
        .unwrap();
    let table = description.table().unwrap();
    assert_eq!(
        table
            .billing_mode_summary()
            .and_then(|summary| summary.billing_mode())
            .map(|mode| mode.as_str()),
        Some("PAY_PER_REQUEST")
    );
    assert_eq!(table.global_secondary_indexes().len(), 1);
    let ttl = client
        .describe_time_to_live()
        .table_name("votecheck-init")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|description| description.attribute_name()),
        Some("expires_at")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_table_refuses_a_foreign_table() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let moto = common::MotoServer::start();
    let client =
        votecheck_store::dynamo_client(&votecheck_store::ClientSettings::local(&moto.endpoint))
            .await;
    client
        .create_table()
        .table_name("foreign")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let error = admin::init_table(&client, "foreign").await.unwrap_err();
    assert!(
        matches!(error, StoreError::Invalid { .. })
            && error.to_string().contains("not a votecheck table"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_table_says_how_to_create_it() {
    let backend = dynamo_backend().await;
    let client = backend.client.clone().unwrap();
    let store = votecheck_store::DynamoStore::new(
        client,
        votecheck_store::StoreConfig::for_table("no-such-table"),
    );
    let error = store.claim_message("wamid.1", NOW).await.unwrap_err();
    assert!(
        matches!(error, StoreError::MissingTable { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("votecheck store init --table no-such-table"),
        "{error}"
    );
    // The working table is untouched.
    assert_eq!(
        backend.store.claim_message("wamid.1", NOW).await.unwrap(),
        Claim::Claimed
    );
    assert_eq!(backend.config.table_name, TABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_reopens_with_its_data_and_purges_expired_rows() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("store.sqlite3");
    let config = common::test_config();
    let ana = citizen("34600111222");
    {
        let store = votecheck_store::SqliteStore::open(&path, config.clone()).unwrap();
        store
            .record_query(&record(&config, &ana, "q-1", NOW, "¿Dónde voto?"))
            .await
            .unwrap();
        store.claim_message("wamid.1", NOW).await.unwrap();
    }
    let store = votecheck_store::SqliteStore::open(&path, config.clone()).unwrap();
    assert!(store.query(&ana, "q-1", NOW).await.unwrap().is_some());
    assert_eq!(
        store.claim_message("wamid.1", NOW + 1).await.unwrap(),
        Claim::Duplicate
    );
    assert_eq!(store.purge_expired(NOW + 1).await.unwrap(), 0);
    assert_eq!(
        store.purge_expired(config.expires_at(NOW)).await.unwrap(),
        2,
        "the query (retention) and the claim (claim retention) expired"
    );
    assert!(store.describe().starts_with("sqlite "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_in_a_missing_directory_is_unavailable() {
    let directory = tempfile::tempdir().unwrap();
    let error = votecheck_store::SqliteStore::open(
        directory.path().join("missing/store.sqlite3"),
        common::test_config(),
    )
    .unwrap_err();
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
    assert!(error.to_string().contains("directory exists"), "{error}");
}
