//! The scheduled sync planner: wiring only; the run is `switchboard_sync`'s. With
//! `SYNC_QUEUE_URL` set it sends its jobs to the workers' queue (`sync-worker`); without, it
//! works them itself (a small estate, or the local loop). The scheduler's event carries nothing
//! we need, so any JSON is accepted; the answer is the run report.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use std::sync::Arc;
use std::time::Duration;
use switchboard_backend::{BackendConfig, HttpBackend};
use switchboard_store::{Repository, TableBudget};
use switchboard_sync::{Deadline, SqsJobs, SyncConfig};

#[tokio::main]
async fn main() -> Result<(), Error> {
    switchboard_api::app::init_tracing();
    let repo = Repository::new(switchboard_store::client_from_env().await, switchboard_store::table_name_from_env());
    let backend_cfg = BackendConfig::from_env().ok_or("BACKEND_URL is not set")?;
    // Every worker spends the one upstream budget in the table. A call that gets no slot within
    // 15 s fails (the run records it and goes on), so a run still stops inside its margin (20 s).
    let budget = TableBudget::new(repo.clone(), backend_cfg.rate(), Duration::from_secs(15));
    let backend = HttpBackend::new(backend_cfg)?.with_pacer(Arc::new(budget));
    let cfg = SyncConfig::from_env();
    let queue = SqsJobs::from_env().await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let (repo, backend, cfg, queue) = (&repo, &backend, &cfg, &queue);
        async move {
            let deadline = Deadline::from_epoch_ms(event.context.deadline);
            let report = match queue {
                Some(q) => switchboard_sync::plan_and_send(repo, backend, deadline, cfg, q).await?,
                None => switchboard_sync::run(repo, backend, deadline, cfg).await?,
            };
            Ok::<_, Error>(serde_json::to_value(report)?)
        }
    }))
    .await
}
