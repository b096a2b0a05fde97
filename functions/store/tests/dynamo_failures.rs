//! DynamoDB failures surface quickly as typed errors: a closed port, an endpoint that never
//! answers, and an endpoint that throttles or fails every request. The misbehaving endpoints are
//! small real servers on loopback (see `common::FakeServer`), so the SDK's own timeouts and retry
//! strategy are what is tested.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{Behaviour, FakeServer};
use votecheck_end_to_end::moto::free_port;
use votecheck_store::{ClientSettings, DynamoStore, Store, StoreConfig, StoreError, dynamo_client};

const NOW: i64 = 1_772_323_200;

async fn store_at(endpoint: &str) -> DynamoStore {
    let client = dynamo_client(&ClientSettings::local(endpoint)).await;
    DynamoStore::new(client, StoreConfig::for_table("votecheck-failures"))
}

#[tokio::test]
async fn a_closed_port_is_unavailable_quickly() {
    let store = store_at(&format!("http://127.0.0.1:{}", free_port())).await;
    let started = Instant::now();
    let error = store.claim_message("wamid.1", NOW).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("claim_message on votecheck-failures: store unavailable"),
        "{message}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "gave up after {elapsed:?}, expected well under the 5 s operation timeout"
    );
}

#[tokio::test]
async fn an_endpoint_that_never_answers_times_out_within_the_operation_timeout() {
    let server = FakeServer::start(Behaviour::Silent);
    let store = store_at(&server.endpoint).await;
    let started = Instant::now();
    let failure = votecheck_store::DeliveryFailure {
        message_id: "wamid.out".to_owned(),
        citizen: votecheck_store::CitizenKey::derive(b"salt", "34600111222"),
        error_code: 131_047,
        at: NOW,
    };
    let error = store.record_delivery_failure(&failure).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
    // Operation timeout 5 s (attempts of 2 s each, at most 3): never a hang.
    assert!(
        elapsed >= Duration::from_millis(1_900) && elapsed < Duration::from_secs(7),
        "gave up after {elapsed:?}"
    );
    let attempts = server.requests.load(Ordering::SeqCst);
    assert!((1..=3).contains(&attempts), "{attempts} attempts");
}

#[tokio::test]
async fn throttling_is_retried_three_times_then_typed() {
    let server = FakeServer::start(Behaviour::Error {
        status: 400,
        error_type: "ThrottlingException",
    });
    let store = store_at(&server.endpoint).await;
    let started = Instant::now();
    let error = store
        .count_message(
            &votecheck_store::CitizenKey::derive(b"salt", "34600111222"),
            NOW,
            600,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Throttled { .. }), "{error:?}");
    assert!(error.is_transient());
    assert!(
        error
            .to_string()
            .starts_with("count_message on votecheck-failures: throttled"),
        "{error}"
    );
    assert_eq!(server.requests.load(Ordering::SeqCst), 3, "max 3 attempts");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn provisioned_throughput_exceeded_is_throttled_too() {
    let server = FakeServer::start(Behaviour::Error {
        status: 400,
        error_type: "ProvisionedThroughputExceededException",
    });
    let store = store_at(&server.endpoint).await;
    let error = store.claim_message("wamid.1", NOW).await.unwrap_err();
    assert!(matches!(error, StoreError::Throttled { .. }), "{error:?}");
}

#[tokio::test]
async fn a_failing_service_is_unavailable_after_bounded_retries() {
    let server = FakeServer::start(Behaviour::Error {
        status: 500,
        error_type: "InternalServerError",
    });
    let store = store_at(&server.endpoint).await;
    let error = store.release_message("wamid.1").await.unwrap_err();
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn refused_credentials_are_denied_and_not_retried() {
    let server = FakeServer::start(Behaviour::Error {
        status: 400,
        error_type: "UnrecognizedClientException",
    });
    let store = store_at(&server.endpoint).await;
    let error = store.release_message("wamid.1").await.unwrap_err();
    assert!(matches!(error, StoreError::Denied { .. }), "{error:?}");
    assert!(!error.is_transient());
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}
