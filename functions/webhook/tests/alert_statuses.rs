//! Delivery statuses of alert messages through the real handler, on both store backends: each
//! status moves the alert's funnel once, a failure is counted by its code (and not as a failed
//! reply), and nothing stored names the message id, which carries the citizen's number.

mod common;

use common::*;
use votecheck_store::{AlertRun, CitizenKey, MessageKey, SendOutcome, Topic};

const NUMBER: &str = "34600111333";

#[tokio::test(flavor = "multi_thread")]
async fn statuses_of_alert_messages_fill_the_funnel_once() {
    for kind in BACKENDS {
        let setup = Setup::new(kind).await;
        let store = &setup.store;
        let alert = "election-day-hours";
        store
            .start_alert_run(&AlertRun {
                alert_id: alert.into(),
                topic: Topic::ElectionDay,
                started_at: NOW,
                finished_at: Some(NOW),
                enqueued: 2,
                progress: Default::default(),
            })
            .await
            .unwrap();
        // What the sender leaves behind for two recipients (the same citizen key derivation as
        // the handler's; any key works, statuses are matched by message).
        let (first, second) = (wamid(NUMBER, 1_001), wamid(NUMBER, 1_002));
        for (serial, message_id) in [(1, &first), (2, &second)] {
            let citizen = CitizenKey::derive(SALT, &format!("{NUMBER}{serial}"));
            store.claim_send(alert, &citizen, NOW).await.unwrap();
            store
                .record_send(
                    alert,
                    &citizen,
                    &SendOutcome::Accepted {
                        message: MessageKey::derive(SALT, message_id),
                    },
                    NOW,
                )
                .await
                .unwrap();
        }
        let who = phone(NUMBER);
        for status in ["sent", "delivered", "delivered", "read", "sent"] {
            setup
                .post(&delivery_status(&first, who, status, None))
                .await;
        }
        setup
            .post(&delivery_status(&second, who, "sent", None))
            .await;
        setup
            .post(&delivery_status(&second, who, "failed", Some(131026)))
            .await;
        setup
            .post(&delivery_status(&second, who, "failed", Some(131026)))
            .await;
        // A reply's status is not an alert's.
        setup.post(&delivery_failed(&wamid(NUMBER, 7), who)).await;

        let funnels = store.alert_funnels_between(NOW, NOW + 1).await.unwrap();
        let funnel = &funnels[0];
        assert_eq!(
            (funnel.accepted, funnel.sent, funnel.delivered, funnel.read),
            (2, 2, 1, 1),
            "{kind:?}"
        );
        assert_eq!(
            funnel.failed.iter().collect::<Vec<_>>(),
            [(&131026, &1)],
            "{kind:?}"
        );
        assert_no_number(&setup.dump().await, NUMBER, "the stored alert records");
    }
}
