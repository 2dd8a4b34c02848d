//! The scheduled sync: wiring only; the run is `switchboard_sync::run`. The scheduler's event
//! carries nothing we need, so any JSON is accepted; the answer is the run report.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use switchboard_backend::{BackendConfig, HttpBackend};
use switchboard_store::Repository;
use switchboard_sync::{Deadline, SyncConfig};

#[tokio::main]
async fn main() -> Result<(), Error> {
    switchboard_api::app::init_tracing();
    let repo = Repository::new(switchboard_store::client_from_env().await, switchboard_store::table_name_from_env());
    let backend = HttpBackend::new(BackendConfig::from_env().ok_or("BACKEND_URL is not set")?)?;
    let cfg = SyncConfig::from_env();
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (repo, backend, cfg) = (&repo, &backend, &cfg);
        async move {
            let deadline = Deadline::from_epoch_ms(event.context.deadline);
            let report = switchboard_sync::run(repo, backend, deadline, cfg).await?;
            Ok::<_, Error>(serde_json::to_value(report)?)
        }
    }))
    .await
}
