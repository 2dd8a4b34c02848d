//! The cold-start floor of `scripts/bench coldstart`: a bare `lambda_runtime` function that
//! answers its event, built with the same release profile as ours.

use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|e: LambdaEvent<serde_json::Value>| async move { Ok::<_, Error>(e.payload) })).await
}
