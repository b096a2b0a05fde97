//! The cold-start baseline: the smallest useful `lambda_runtime` function (answers every event
//! with a fixed Function URL response), built with the same release profile as `bootstrap` so the
//! cold-start benchmark compares like with like.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_event: LambdaEvent<serde_json::Value>| async {
        Ok::<_, Error>(serde_json::json!({"statusCode": 200, "body": "hello"}))
    }))
    .await
}
