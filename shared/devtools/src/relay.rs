//! The local stand-in for Lambda's SQS event source mapping: it receives the sync's jobs from a
//! local SQS (moto_server), invokes the worker through `cargo lambda watch`'s Invoke API with the
//! event Lambda would send, and deletes what the worker did not report failed. What it reports
//! failed becomes visible again after the visibility timeout, and SQS's redrive policy moves a
//! job received too often to the dead-letter queue, as in AWS.

use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Value};

pub fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "local"))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The queues as the SAM template declares them: the jobs' queue (`name`, the last segment of
/// `queue_url`) with a redrive policy to `<name>-dead-letter`. Returns the dead-letter queue's URL.
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    visibility_secs: u32,
    max_receives: u32,
) -> Result<String, String> {
    let name = queue_url.rsplit('/').next().filter(|n| !n.is_empty()).ok_or("the queue URL names no queue")?;
    let dlq = client.create_queue().queue_name(format!("{name}-dead-letter")).send().await.map_err(err)?;
    let dlq_url = dlq.queue_url.ok_or("no dead-letter queue URL")?;
    let dlq_arn = queue_arn(client, &dlq_url).await?;
    let redrive = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives.to_string()});
    let created = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::VisibilityTimeout, visibility_secs.to_string())
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .map_err(err)?;
    match created.queue_url {
        Some(u) if u == queue_url => Ok(dlq_url),
        other => Err(format!("the queue was created at {other:?}, not at {queue_url}")),
    }
}

async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> Result<String, String> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(err)?;
    out.attributes.and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned()).ok_or_else(|| "no queue ARN".into())
}

/// Messages in a queue (visible or being worked), as CloudWatch's ApproximateNumberOfMessages.
pub async fn queue_depth(client: &aws_sdk_sqs::Client, url: &str) -> Result<u64, String> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(err)?;
    let attrs = out.attributes.unwrap_or_default();
    let n = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Ok(n(QueueAttributeName::ApproximateNumberOfMessages)
        + n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
}

pub struct Relay {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
    /// `http://<watch>/2015-03-31/functions/<function>/invocations`
    pub invoke_url: String,
    pub http: reqwest::Client,
}

impl Relay {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: &str, gateway: &str, function: &str) -> Relay {
        Relay {
            client,
            queue_url: queue_url.into(),
            invoke_url: format!("{gateway}/2015-03-31/functions/{function}/invocations"),
            http: reqwest::Client::new(),
        }
    }

    /// Relays until the process ends, logging each job's outcome to stderr.
    pub async fn run(&self) -> Result<(), String> {
        loop {
            if let Err(e) = self.relay_once(10).await {
                eprintln!("sqs-relay: {e}");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }

    /// One receive (long-polled, up to `wait_secs`), each message to its own invocation, all at
    /// once (BatchSize 1, as the template's mapping). Returns the messages the worker finished.
    pub async fn relay_once(&self, wait_secs: i32) -> Result<usize, String> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_secs)
            .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
            .send()
            .await
            .map_err(err)?;
        let messages = out.messages.unwrap_or_default();
        let outcomes = futures::future::join_all(messages.iter().map(|m| self.deliver(m))).await;
        let mut done = 0;
        for (m, outcome) in messages.iter().zip(outcomes) {
            let id = m.message_id.as_deref().unwrap_or("?");
            match outcome {
                Ok(()) => {
                    let handle = m.receipt_handle.as_deref().unwrap_or_default();
                    let deleted =
                        self.client.delete_message().queue_url(&self.queue_url).receipt_handle(handle).send().await;
                    match deleted {
                        Ok(_) => done += 1,
                        // It is delivered again: a worker takes a job twice without harm.
                        Err(e) => eprintln!("sqs-relay: job {id} done but not deleted: {}", err(e)),
                    }
                }
                Err(e) => eprintln!("sqs-relay: job {id} failed, SQS will deliver it again: {e}"),
            }
        }
        Ok(done)
    }

    async fn deliver(&self, m: &aws_sdk_sqs::types::Message) -> Result<(), String> {
        let attributes: serde_json::Map<String, Value> =
            m.attributes.iter().flatten().map(|(k, v)| (k.as_str().to_string(), Value::String(v.clone()))).collect();
        let event = json!({"Records": [{
            "messageId": m.message_id,
            "receiptHandle": m.receipt_handle,
            "body": m.body,
            "md5OfBody": m.md5_of_body,
            "attributes": attributes,
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "awsRegion": "us-east-1",
        }]});
        let resp = self.http.post(&self.invoke_url).json(&event).send().await.map_err(err)?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("the worker answered {status}: {body}"));
        }
        match body["batchItemFailures"].as_array() {
            Some(failures) if !failures.is_empty() => Err(format!("the worker reported it failed: {body}")),
            Some(_) => Ok(()),
            None => Err(format!("the worker's answer is not a batch response: {body}")),
        }
    }
}
