//! The store's contract for alerts on their way out, on both backends (SQLite, and DynamoDB on
//! a real moto_server): a run starts once and resumes, a recipient is claimed once however many
//! senders race, statuses move the funnel forward once each, and send state goes with the
//! citizen's data.

#[macro_use]
mod common;

use std::sync::Arc;

use common::Backend;
use votecheck_store::{
    AlertRun, CitizenKey, Claim, DeliveryStage, MessageKey, SendOutcome, Store, Topic,
};

/// 2026-03-01 00:00:00 UTC.
const NOW: i64 = 1_772_323_200;

fn citizen(number: &str) -> CitizenKey {
    CitizenKey::derive(b"test salt", number)
}

fn message(id: &str) -> MessageKey {
    MessageKey::derive(b"test salt", id)
}

fn run(id: &str, started_at: i64) -> AlertRun {
    AlertRun {
        alert_id: id.to_owned(),
        topic: Topic::Deadlines,
        started_at,
        finished_at: None,
        enqueued: 0,
        progress: Default::default(),
    }
}

contract!(
    an_alert_run_starts_once_and_resumes,
    a_recipient_is_claimed_once_and_statuses_fill_the_funnel,
    send_state_goes_with_the_citizen,
);

async fn an_alert_run_starts_once_and_resumes(backend: &Backend) {
    let store = &backend.store;
    let first = run("registration-deadline", NOW);
    assert_eq!(store.start_alert_run(&first).await.unwrap(), None);
    assert_eq!(
        store
            .start_alert_run(&run("registration-deadline", NOW + 60))
            .await
            .unwrap(),
        Some(first.clone()),
        "a second start finds the first run"
    );
    let mut progressed = first.clone();
    progressed
        .progress
        .insert("es".into(), Some("cursor-2".into()));
    progressed.progress.insert("en".into(), None);
    progressed.enqueued = 1_200;
    store.save_alert_run(&progressed).await.unwrap();
    assert_eq!(
        store.start_alert_run(&first).await.unwrap(),
        Some(progressed.clone())
    );
    store
        .start_alert_run(&run("election-day", NOW + 10))
        .await
        .unwrap();
    store
        .start_alert_run(&run("later", NOW + 1_000))
        .await
        .unwrap();
    let listed: Vec<String> = store
        .alert_funnels_between(NOW, NOW + 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|funnel| funnel.alert_id)
        .collect();
    assert_eq!(listed, ["registration-deadline", "election-day"]);
    let funnels = store.alert_funnels_between(NOW, NOW + 1).await.unwrap();
    assert_eq!(funnels[0].enqueued, 1_200);
    assert!(!funnels[0].finished);
    assert!(store.start_alert_run(&run("bad#id", NOW)).await.is_err());
}

async fn a_recipient_is_claimed_once_and_statuses_fill_the_funnel(backend: &Backend) {
    let store = &backend.store;
    let alert = "polling-place-moved";
    store.start_alert_run(&run(alert, NOW)).await.unwrap();

    // Fifty senders race for one recipient (an SQS redelivery while the first still runs).
    let racer = citizen("+34600000001");
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, racer): (Arc<dyn Store>, CitizenKey) = (Arc::clone(store), racer.clone());
            tokio::spawn(async move { store.claim_send(alert, &racer, NOW).await.unwrap() })
        })
        .collect();
    let mut claimed = 0;
    for task in tasks {
        if task.await.unwrap() == Claim::Claimed {
            claimed += 1;
        }
    }
    assert_eq!(claimed, 1, "exactly one of 50 concurrent claims wins");
    // The same recipient of another alert is another claim.
    assert_eq!(
        store.claim_send("other-alert", &racer, NOW).await.unwrap(),
        Claim::Claimed
    );

    let accepted = message("wamid.ALERT.1");
    let outcome = SendOutcome::Accepted {
        message: accepted.clone(),
    };
    store
        .record_send(alert, &racer, &outcome, NOW)
        .await
        .unwrap();
    store
        .record_send(alert, &racer, &outcome, NOW)
        .await
        .unwrap();
    // Repeated and late statuses are still the alert's, and count nothing (the funnel below).
    for stage in [
        DeliveryStage::Sent,
        DeliveryStage::Delivered,
        DeliveryStage::Delivered,
        DeliveryStage::Sent,
        DeliveryStage::Read,
    ] {
        assert_eq!(
            store
                .record_status(&accepted, stage, NOW + 5)
                .await
                .unwrap(),
            Some(alert.to_owned()),
            "{stage:?}"
        );
    }
    // A reply's status is not an alert's.
    assert_eq!(
        store
            .record_status(&message("wamid.REPLY"), DeliveryStage::Read, NOW)
            .await
            .unwrap(),
        None
    );

    // Read with nothing before it counts the stages it skipped; a failure after delivery counts
    // once.
    let reader = citizen("+34600000002");
    let read_only = message("wamid.ALERT.2");
    assert_eq!(
        store.claim_send(alert, &reader, NOW).await.unwrap(),
        Claim::Claimed
    );
    store
        .record_send(
            alert,
            &reader,
            &SendOutcome::Accepted {
                message: read_only.clone(),
            },
            NOW,
        )
        .await
        .unwrap();
    store
        .record_status(&read_only, DeliveryStage::Read, NOW)
        .await
        .unwrap();
    let failing = citizen("+34600000003");
    let failed = message("wamid.ALERT.3");
    store.claim_send(alert, &failing, NOW).await.unwrap();
    store
        .record_send(
            alert,
            &failing,
            &SendOutcome::Accepted {
                message: failed.clone(),
            },
            NOW,
        )
        .await
        .unwrap();
    assert!(
        store
            .record_status(&failed, DeliveryStage::Failed(131026), NOW)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .record_status(&failed, DeliveryStage::Failed(131026), NOW)
            .await
            .unwrap()
            .is_some(),
        "a repeated failure is the alert's and counts once"
    );

    // Refused at send time, skipped (opted out), and released (throughput) then sent later.
    let refused = citizen("+34600000004");
    store.claim_send(alert, &refused, NOW).await.unwrap();
    store
        .record_send(alert, &refused, &SendOutcome::Failed { code: 131049 }, NOW)
        .await
        .unwrap();
    let gone = citizen("+34600000005");
    store.claim_send(alert, &gone, NOW).await.unwrap();
    store
        .record_send(alert, &gone, &SendOutcome::Skipped, NOW)
        .await
        .unwrap();
    let throttled = citizen("+34600000006");
    store.claim_send(alert, &throttled, NOW).await.unwrap();
    store.release_send(alert, &throttled).await.unwrap();
    assert_eq!(
        store.claim_send(alert, &throttled, NOW + 30).await.unwrap(),
        Claim::Claimed,
        "a released claim is taken again"
    );
    // Releasing a recipient whose message went changes nothing.
    store.release_send(alert, &racer).await.unwrap();
    assert_eq!(
        store.claim_send(alert, &racer, NOW + 30).await.unwrap(),
        Claim::Duplicate
    );

    let funnel = store
        .alert_funnels_between(NOW, NOW + 1)
        .await
        .unwrap()
        .into_iter()
        .find(|funnel| funnel.alert_id == alert)
        .unwrap();
    assert_eq!(
        (
            funnel.accepted,
            funnel.sent,
            funnel.delivered,
            funnel.read,
            funnel.skipped
        ),
        (3, 2, 2, 2, 1),
        "the failed message was never reported sent"
    );
    assert_eq!(
        funnel.failed.into_iter().collect::<Vec<_>>(),
        [(131026, 1), (131049, 1)]
    );
}

async fn send_state_goes_with_the_citizen(backend: &Backend) {
    let store = &backend.store;
    let alert = "rumour-ballots";
    store.start_alert_run(&run(alert, NOW)).await.unwrap();
    let leaving = citizen("+34600000007");
    let staying = citizen("+34600000008");
    for (who, id) in [(&leaving, "wamid.L"), (&staying, "wamid.S")] {
        store.claim_send(alert, who, NOW).await.unwrap();
        store
            .record_send(
                alert,
                who,
                &SendOutcome::Accepted {
                    message: message(id),
                },
                NOW,
            )
            .await
            .unwrap();
    }
    assert!(store.delete_citizen(&leaving).await.unwrap() >= 1);
    assert_eq!(
        store
            .record_status(&message("wamid.L"), DeliveryStage::Read, NOW)
            .await
            .unwrap(),
        None,
        "nothing of the citizen is left to attribute a status to"
    );
    assert_eq!(
        store
            .record_status(&message("wamid.S"), DeliveryStage::Read, NOW)
            .await
            .unwrap(),
        Some(alert.to_owned())
    );
    // The funnel's counts are aggregates without anyone in them: they stay.
    let funnel = &store.alert_funnels_between(NOW, NOW + 1).await.unwrap()[0];
    assert_eq!((funnel.accepted, funnel.read), (2, 1));
}
