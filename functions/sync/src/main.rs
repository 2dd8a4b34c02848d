//! The scheduled sync planner: wiring only; the run is `switchboard_sync`'s. With
//! `SYNC_QUEUE_URL` set it sends its jobs to the workers' queue (`sync-worker`); without, it
//! works them itself (a small estate, or the local loop). The scheduler's event carries nothing
//! we need, so any JSON is accepted; the answer is the run report.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use switchboard_sync::{Deadline, SqsJobs};

#[tokio::main]
async fn main() -> Result<(), Error> {
    switchboard_api::app::init_tracing();
    let (repo, backend, cfg) = switchboard_sync::wiring::from_env().await?;
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
