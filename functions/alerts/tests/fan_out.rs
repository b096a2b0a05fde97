//! From an alert file to phones, on the SQLite store with the in-process queue and a recording
//! channel: every subscriber gets the alert once, however often it is sent and its jobs
//! redelivered; a citizen who opted out after the enqueue gets nothing; the 24-hour rule picks
//! the message; throughput answers leave recipients for the redelivery, which reaches them; a
//! send of unknown fate is never repeated; an interrupted enqueue resumes.

use std::sync::Arc;

use async_trait::async_trait;
use votecheck_alerts::Alert;
use votecheck_alerts::enqueue::enqueue_alert;
use votecheck_alerts::job::Job;
use votecheck_alerts::queue::{JobQueue, LocalQueue, QueueError};
use votecheck_alerts::recording::RecordingChannel;
use votecheck_alerts::sender::{DeliveryReport, Sender};
use votecheck_alerts::settings::SenderSettings;
use votecheck_graph::{GraphError, Recipient};
use votecheck_outbound::OutboundContent;
use votecheck_store::contact::{ContactAddress, ContactSealer};
use votecheck_store::{
    CitizenKey, DAY_SECONDS, Preferences, SqliteStore, Store, StoreConfig, Subscription, Topic,
};

const SALT: &[u8] = b"fan-out test salt";
/// The clock of every test: 2026-11-01 12:00 UTC.
const NOW: i64 = 1_793_534_400;

const ALERT: &str = r#"
id = "registration-deadline"
topic = "deadlines"
[templates.es]
name = "registration_deadline"
language = "es_MX"
parameters = ["19 de octubre"]
body = "Regístrate para votar antes del {{1}}."
[templates.en]
name = "registration_deadline"
language = "en_US"
parameters = ["October 19"]
"#;

struct World {
    store: Arc<dyn Store>,
    channel: Arc<RecordingChannel>,
    _directory: tempfile::TempDir,
}

fn world() -> World {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(
        directory.path().join("store.sqlite3"),
        StoreConfig::default(),
    )
    .unwrap();
    World {
        store: Arc::new(store),
        channel: Arc::new(RecordingChannel::new()),
        _directory: directory,
    }
}

fn now() -> i64 {
    NOW
}

impl World {
    fn sender(&self) -> Sender {
        Sender::new(
            Arc::clone(&self.store),
            self.channel.clone(),
            SALT,
            &SenderSettings {
                rate: 1_000,
                concurrency: 1,
            },
        )
        .with_clock(now)
    }

    /// Subscribes `count` citizens in `language` from number `first` on; returns their keys.
    async fn subscribe(&self, first: u32, count: u32, language: &str) -> Vec<CitizenKey> {
        let sealer = ContactSealer::from_salt(SALT);
        let mut keys = Vec::new();
        for index in first..first + count {
            let number = format!("346{index:08}");
            let citizen = CitizenKey::derive(SALT, &number);
            self.store
                .subscribe(&Subscription {
                    citizen: citizen.clone(),
                    topic: Topic::Deadlines,
                    language: language.to_owned(),
                    jurisdiction: None,
                    contact: Some(sealer.seal(&ContactAddress::PhoneNumber(number)).unwrap()),
                    at: NOW - DAY_SECONDS,
                    expires_at: NOW + 300 * DAY_SECONDS,
                })
                .await
                .unwrap();
            keys.push(citizen);
        }
        keys
    }

    async fn deliver_all(&self, sender: &Sender, jobs: &[Job]) -> DeliveryReport {
        let mut total = DeliveryReport::default();
        for job in jobs {
            let Job::Deliver(job) = job else {
                panic!("only delivery jobs here")
            };
            total += sender.deliver(job, None).await;
        }
        total
    }
}

fn alert() -> Alert {
    Alert::parse("deadline.toml", ALERT, &["en".to_owned(), "es".to_owned()]).unwrap()
}

fn numbers(channel: &RecordingChannel) -> Vec<String> {
    let mut numbers: Vec<String> = channel
        .sent()
        .into_iter()
        .map(|sent| match sent.to {
            Recipient::PhoneNumber(number) => number,
            Recipient::BusinessScopedUserId(id) => id,
        })
        .collect();
    numbers.sort();
    numbers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_once_however_often_it_is_sent() {
    let world = world();
    world.subscribe(0, 250, "es").await;
    world.subscribe(1_000, 30, "en").await;
    // Not subscribed to deadlines, and another language: never in the audience.
    world.subscribe(2_000, 5, "fr").await;
    let queue = LocalQueue::new();
    let summary = enqueue_alert(&alert(), world.store.as_ref(), &queue, NOW)
        .await
        .unwrap();
    assert_eq!((summary.recipients, summary.jobs), (280, 4), "{summary}");
    let jobs = queue.take_all();
    let sender = world.sender();
    let report = world.deliver_all(&sender, &jobs).await;
    assert_eq!(
        (report.sent, report.skipped, report.retry_later),
        (280, 0, 0)
    );

    // Sending the alert again enqueues nothing; redelivering every job sends nothing.
    let again = enqueue_alert(&alert(), world.store.as_ref(), &queue, NOW + 60)
        .await
        .unwrap();
    assert!(again.already_sent, "{again}");
    assert!(queue.is_empty());
    let redelivered = world.deliver_all(&sender, &jobs).await;
    assert_eq!((redelivered.sent, redelivered.skipped), (0, 280));

    let sent = numbers(&world.channel);
    let mut unique = sent.clone();
    unique.dedup();
    assert_eq!(sent.len(), 280);
    assert_eq!(unique.len(), 280, "nobody got it twice");

    // Outside every window, the template in the citizen's language.
    let spanish = world
        .channel
        .sent()
        .into_iter()
        .find(|sent| matches!(&sent.to, Recipient::PhoneNumber(number) if number == "34600000007"))
        .unwrap();
    match spanish.content {
        OutboundContent::Template(template) => {
            assert_eq!(template.language, "es_MX");
            assert_eq!(template.body_parameters, ["19 de octubre"]);
        }
        other => panic!("expected a template, got {other:?}"),
    }
    let funnel = &world
        .store
        .alert_funnels_between(NOW, NOW + 1)
        .await
        .unwrap()[0];
    assert_eq!((funnel.enqueued, funnel.accepted), (280, 280));
    assert!(funnel.finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_after_the_enqueue_sends_nothing_to_that_citizen() {
    let world = world();
    let keys = world.subscribe(0, 10, "es").await;
    let queue = LocalQueue::new();
    enqueue_alert(&alert(), world.store.as_ref(), &queue, NOW)
        .await
        .unwrap();
    // Between the enqueue and the send: one says "stop", one deletes their data.
    world.store.unsubscribe_all(&keys[3]).await.unwrap();
    world.store.delete_citizen(&keys[4]).await.unwrap();
    let report = world.deliver_all(&world.sender(), &queue.take_all()).await;
    assert_eq!((report.sent, report.skipped), (8, 2));
    let sent = numbers(&world.channel);
    assert!(!sent.contains(&"34600000003".to_owned()));
    assert!(!sent.contains(&"34600000004".to_owned()));
    let funnel = &world
        .store
        .alert_funnels_between(NOW, NOW + 1)
        .await
        .unwrap()[0];
    assert_eq!((funnel.accepted, funnel.skipped), (8, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_the_window_the_free_form_text_outside_it_the_template() {
    let world = world();
    let keys = world.subscribe(0, 3, "es").await;
    world.subscribe(100, 1, "en").await;
    // Wrote an hour ago: inside the window. Wrote two days ago: outside.
    for (citizen, last_seen) in [(&keys[0], NOW - 3_600), (&keys[1], NOW - 2 * DAY_SECONDS)] {
        world
            .store
            .save_preferences(
                citizen,
                &Preferences {
                    language: Some("es".into()),
                    opted_out: false,
                    last_seen: Some(last_seen),
                },
            )
            .await
            .unwrap();
    }
    let queue = LocalQueue::new();
    enqueue_alert(&alert(), world.store.as_ref(), &queue, NOW)
        .await
        .unwrap();
    world.deliver_all(&world.sender(), &queue.take_all()).await;
    let content_of = |number: &str| {
        world
            .channel
            .sent()
            .into_iter()
            .find(|sent| matches!(&sent.to, Recipient::PhoneNumber(to) if to == number))
            .unwrap()
            .content
    };
    assert_eq!(
        content_of("34600000000"),
        OutboundContent::Text {
            body: "Regístrate para votar antes del 19 de octubre.".into()
        }
    );
    assert!(matches!(
        content_of("34600000001"),
        OutboundContent::Template(_)
    ));
    assert!(matches!(
        content_of("34600000002"),
        OutboundContent::Template(_)
    ));
    // The English template has no body in the file: only the template can go.
    assert!(matches!(
        content_of("34600000100"),
        OutboundContent::Template(_)
    ));
}

fn throttled() -> GraphError {
    GraphError::RateLimited {
        status: 429,
        code: Some(130429),
        message: "(#130429) Rate limit hit".into(),
        attempts: 3,
    }
}

fn unknown_fate() -> GraphError {
    GraphError::Timeout {
        attempts: 1,
        may_have_been_delivered: true,
    }
}

fn undeliverable() -> GraphError {
    GraphError::Api {
        status: 400,
        code: Some(131026),
        subcode: None,
        message: "(#131026) Message undeliverable".into(),
        fbtrace_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_recipients_wait_for_the_redelivery_and_unknown_fates_are_not_repeated() {
    let world = world();
    world.subscribe(0, 1, "es").await;
    let queue = LocalQueue::new();
    enqueue_alert(&alert(), world.store.as_ref(), &queue, NOW)
        .await
        .unwrap();
    let jobs = queue.take_all();
    let sender = world.sender();

    world.channel.fail_next(1, throttled);
    let first = world.deliver_all(&sender, &jobs).await;
    assert_eq!((first.sent, first.retry_later, first.throttled), (0, 1, 1));
    // SQS redelivers the job (after the pause): the recipient is reached, once.
    let second = world.deliver_all(&sender, &jobs).await;
    assert_eq!((second.sent, second.retry_later), (1, 0));
    assert_eq!(world.channel.count(), 1);

    // Another alert to the same citizen: a timeout after the request went out is not repeated.
    let other = Alert::parse(
        "other.toml",
        &ALERT.replace("registration-deadline", "second-reminder"),
        &["en".to_owned(), "es".to_owned()],
    )
    .unwrap();
    enqueue_alert(&other, world.store.as_ref(), &queue, NOW)
        .await
        .unwrap();
    let jobs = queue.take_all();
    world.channel.fail_next(1, unknown_fate);
    let uncertain = world.deliver_all(&sender, &jobs).await;
    assert_eq!((uncertain.sent, uncertain.failed), (0, 1));
    let redelivered = world.deliver_all(&sender, &jobs).await;
    assert_eq!((redelivered.sent, redelivered.skipped), (0, 1));
    assert_eq!(world.channel.count(), 1, "nothing more went out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_counted_by_its_code() {
    let world = world();
    world.subscribe(0, 2, "es").await;
    let queue = LocalQueue::new();
    enqueue_alert(&alert(), world.store.as_ref(), &queue, NOW)
        .await
        .unwrap();
    world.channel.fail_next(1, undeliverable);
    let report = world.deliver_all(&world.sender(), &queue.take_all()).await;
    assert_eq!((report.sent, report.failed), (1, 1));
    let funnel = &world
        .store
        .alert_funnels_between(NOW, NOW + 1)
        .await
        .unwrap()[0];
    assert_eq!(funnel.failed.get(&131026), Some(&1));
}

/// A queue that takes `allowed` batches of jobs, then fails.
struct FailingQueue {
    inner: LocalQueue,
    allowed: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl JobQueue for FailingQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), QueueError> {
        use std::sync::atomic::Ordering;
        if self
            .allowed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_err()
        {
            return Err(QueueError {
                queue: "test".into(),
                message: "the queue went away".into(),
            });
        }
        self.inner.enqueue(jobs).await
    }

    fn describe(&self) -> String {
        "failing test queue".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_send_resumes_and_still_reaches_everyone_once() {
    let world = world();
    world.subscribe(0, 2_500, "es").await;
    let queue = FailingQueue {
        inner: LocalQueue::new(),
        allowed: 1.into(),
    };
    let problem = enqueue_alert(&alert(), world.store.as_ref(), &queue, NOW)
        .await
        .unwrap_err();
    assert!(
        problem.to_string().contains("the queue went away"),
        "{problem}"
    );
    queue
        .allowed
        .store(100, std::sync::atomic::Ordering::SeqCst);
    let resumed = enqueue_alert(&alert(), world.store.as_ref(), &queue, NOW + 5)
        .await
        .unwrap();
    assert!(resumed.resumed, "{resumed}");
    assert_eq!(
        resumed.recipients, 1_500,
        "the first page of 1,000 is not enqueued again"
    );
    let report = world
        .deliver_all(&world.sender(), &queue.inner.take_all())
        .await;
    assert_eq!(report.sent, 2_500);
    assert_eq!(world.channel.count(), 2_500);
}
