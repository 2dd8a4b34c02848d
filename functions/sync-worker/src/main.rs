//! A sync worker: wiring only; the job is `switchboard_sync::work_job`. SQS hands it the
//! planner's jobs (one per tenant); a job that fails is reported back as a batch item failure,
//! so SQS delivers it again after its visibility timeout, and after the redrive policy's count
//! moves it to the dead-letter queue. A job whose tenant another worker holds succeeds at once:
//! that worker is doing it, and is asked to push the job's changes at its next step.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use switchboard_sync::{Deadline, TenantJob};

#[tokio::main]
async fn main() -> Result<(), Error> {
    switchboard_api::app::init_tracing();
    let (repo, backend, cfg) = switchboard_sync::wiring::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (repo, backend, cfg) = (&repo, &backend, &cfg);
        async move {
            let deadline = Deadline::from_epoch_ms(event.context.deadline);
            let mut response = SqsBatchResponse::default();
            for message in event.payload.records {
                let id = message.message_id.clone().unwrap_or_default();
                let job: Result<TenantJob, _> = serde_json::from_str(message.body.as_deref().unwrap_or(""));
                let outcome = match job {
                    // Boxed: the job's future is deep, and the runtime's would otherwise nest it
                    // past the compiler's layout depth limit.
                    Ok(job) => Box::pin(switchboard_sync::work_job(repo, backend, deadline, cfg, job))
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("not a job: {e}")),
                };
                if let Err(e) = outcome {
                    tracing::error!(message = %id, error = %e, "sync job failed; SQS will deliver it again");
                    response.add_failure(id);
                }
            }
            Ok::<_, Error>(response)
        }
    }))
    .await
}
