//! `sqs-relay --endpoint URL --queue-url URL --gateway URL [--function sync-worker]`: creates the
//! sync's job queue and its dead-letter queue on a local SQS, then relays jobs to the worker
//! behind `cargo lambda watch`, as Lambda's SQS event source mapping does in AWS
//! (`switchboard_devtools::relay`).

use switchboard_devtools::relay::{create_queues, sqs_client, Relay};

#[tokio::main]
async fn main() -> Result<(), String> {
    let (mut endpoint, mut queue_url, mut gateway, mut function) = (None, None, None, "sync-worker".to_string());
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--endpoint" => endpoint = Some(value()?),
            "--queue-url" => queue_url = Some(value()?),
            "--gateway" => gateway = Some(value()?),
            "--function" => function = value()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let (endpoint, queue_url, gateway) = (
        endpoint.ok_or("--endpoint is required")?,
        queue_url.ok_or("--queue-url is required")?,
        gateway.ok_or("--gateway is required")?,
    );
    let client = sqs_client(&endpoint);
    // Visibility 30 s locally (the template's is longer, with the function's timeout); 3 receives.
    let dlq = create_queues(&client, &queue_url, 30, 3).await?;
    eprintln!("sqs-relay: {queue_url} → {function} at {gateway} (dead letters: {dlq})");
    Relay::new(client, &queue_url, &gateway, &function).run().await
}
