//! The store's contract for follow-ups ("tell me if this is checked"), on both backends: pending
//! ones are read in pages, each once; one is completed exactly once and leaves the pending list;
//! "stop", delete-my-data and expiry end them.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::Backend;
use votecheck_store::{CitizenKey, Claim, FollowUp, Subscription, Topic};

/// 2026-03-01 00:00:00 UTC.
const NOW: i64 = 1_772_323_200;

fn citizen(number: &str) -> CitizenKey {
    CitizenKey::derive(b"test salt", number)
}

fn follow_up(who: &CitizenKey, query: &str, expires_at: i64) -> FollowUp {
    FollowUp {
        citizen: who.clone(),
        query_id: query.to_owned(),
        question: "Ballot boxes arrive with votes already in them, forward this!".to_owned(),
        language: "en".to_owned(),
        contact: None,
        at: NOW,
        expires_at,
    }
}

/// Every pending follow-up, read in pages of `limit`, as (citizen, query).
async fn pending(backend: &Backend, limit: u32, now: i64) -> Vec<(String, String)> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = backend
            .store
            .pending_follow_ups(cursor.as_deref(), limit, now)
            .await
            .unwrap();
        all.extend(
            page.follow_ups
                .into_iter()
                .map(|follow_up| (follow_up.citizen.to_string(), follow_up.query_id)),
        );
        match page.next {
            Some(next) => cursor = Some(next),
            None => return all,
        }
    }
}

contract!(
    pending_follow_ups_are_read_in_pages_and_completed_once,
    stop_delete_and_expiry_end_follow_ups,
);

async fn pending_follow_ups_are_read_in_pages_and_completed_once(backend: &Backend) {
    let store = &backend.store;
    let later = NOW + 90 * 86_400;
    let (ana, ben) = (citizen("+34600000001"), citizen("+34600000002"));
    for (who, query) in [(&ana, "q1"), (&ana, "q2"), (&ben, "q3")] {
        store
            .request_follow_up(&follow_up(who, query, later))
            .await
            .unwrap();
    }
    let listed = pending(backend, 1, NOW).await;
    let unique: BTreeSet<_> = listed.iter().cloned().collect();
    assert_eq!((listed.len(), unique.len()), (3, 3), "{listed:?}");
    assert_eq!(pending(backend, 1_000, NOW).await.len(), 3);

    assert_eq!(
        store
            .complete_follow_up(&ana, "q1", "claim-review-7", NOW + 5)
            .await
            .unwrap(),
        Claim::Claimed
    );
    assert_eq!(
        store
            .complete_follow_up(&ana, "q1", "claim-review-7", NOW + 6)
            .await
            .unwrap(),
        Claim::Duplicate,
        "a verdict goes once"
    );
    assert_eq!(
        store
            .complete_follow_up(&ben, "never-asked", "x", NOW)
            .await
            .unwrap(),
        Claim::Duplicate
    );
    let left: BTreeSet<String> = pending(backend, 2, NOW + 10)
        .await
        .into_iter()
        .map(|(_, query)| query)
        .collect();
    assert_eq!(left, BTreeSet::from(["q2".to_owned(), "q3".to_owned()]));
    assert!(store.pending_follow_ups(None, 0, NOW).await.is_err());
    assert!(
        store
            .request_follow_up(&follow_up(&ana, "bad#key", later))
            .await
            .is_err()
    );
}

async fn stop_delete_and_expiry_end_follow_ups(backend: &Backend) {
    let store = &backend.store;
    let later = NOW + 90 * 86_400;
    let (ana, ben, eva) = (
        citizen("+34600000011"),
        citizen("+34600000012"),
        citizen("+34600000013"),
    );
    store
        .request_follow_up(&follow_up(&ana, "q1", later))
        .await
        .unwrap();
    store
        .subscribe(&Subscription {
            citizen: ana.clone(),
            topic: Topic::Rumours,
            language: "en".into(),
            jurisdiction: None,
            contact: None,
            at: NOW,
            expires_at: later,
        })
        .await
        .unwrap();
    store
        .request_follow_up(&follow_up(&ben, "q2", later))
        .await
        .unwrap();
    store
        .request_follow_up(&follow_up(&eva, "q3", NOW + 60))
        .await
        .unwrap();

    assert_eq!(
        store.unsubscribe_all(&ana).await.unwrap(),
        2,
        "the topic and the follow-up"
    );
    store.delete_citizen(&ben).await.unwrap();
    assert_eq!(
        pending(backend, 10, NOW).await,
        [(eva.to_string(), "q3".to_owned())]
    );
    assert!(pending(backend, 10, NOW + 60).await.is_empty(), "expired");
    assert_eq!(
        store
            .complete_follow_up(&eva, "q3", "x", NOW + 61)
            .await
            .unwrap(),
        Claim::Duplicate,
        "an expired request is not completed"
    );
}
