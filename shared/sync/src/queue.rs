//! The planner's jobs on an SQS queue: the AWS service that retries a failed job and moves one
//! that keeps failing to a dead-letter queue (the template's redrive policy and alarm).

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::{JobSender, TenantJob};

/// SendMessageBatch takes at most 10 messages.
const BATCH: usize = 10;

pub struct SqsJobs {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsJobs {
    /// The queue at `SYNC_QUEUE_URL`, if set; the endpoint is the SDK's (`AWS_ENDPOINT_URL_SQS`
    /// points it at a local SQS).
    pub async fn from_env() -> Option<SqsJobs> {
        let url = std::env::var("SYNC_QUEUE_URL").ok().filter(|u| !u.is_empty())?;
        let config = switchboard_store::aws_config_from_env().await;
        Some(SqsJobs { client: aws_sdk_sqs::Client::new(&config), url })
    }
}

#[async_trait::async_trait]
impl JobSender for SqsJobs {
    async fn send(&self, jobs: &[TenantJob]) -> Result<(), String> {
        for chunk in jobs.chunks(BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, job) in chunk.iter().enumerate() {
                let body = serde_json::to_string(job).map_err(|e| e.to_string())?;
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
                    .map_err(|e| e.to_string())?;
                entries.push(entry);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
            if let Some(failed) = out.failed.first() {
                return Err(format!(
                    "{} of {} jobs refused, e.g. {}: {}",
                    out.failed.len(),
                    chunk.len(),
                    failed.code,
                    failed.message.as_deref().unwrap_or("")
                ));
            }
        }
        Ok(())
    }
}
