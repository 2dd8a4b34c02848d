//! Batch reads and writes with DynamoDB's partial-success contract: whatever comes back in
//! `UnprocessedKeys` / `UnprocessedItems` is retried with capped, jittered exponential backoff.

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, WriteRequest};
use aws_sdk_dynamodb::Client;
use backon::{BackoffBuilder, ExponentialBuilder};
use std::collections::HashMap;
use std::time::Duration;

use crate::error::StoreError;
use crate::keys::Key;

pub type Item = HashMap<String, AttributeValue>;

/// At most this many keys per BatchGetItem, items per BatchWriteItem.
pub const GET_LIMIT: usize = 100;
pub const WRITE_LIMIT: usize = 25;

/// The backoff for unprocessed work: 20 ms doubling to 1 s, with jitter, 10 tries.
pub fn backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_secs(1))
        .with_max_times(10)
        .with_jitter()
        .build()
}

/// Gets up to any number of keys (in chunks of 100); returns the items found, in no order.
pub async fn get_all(
    client: &Client,
    table: &str,
    keys: Vec<Key>,
) -> Result<Vec<Item>, StoreError> {
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(GET_LIMIT) {
        let mut pending = KeysAndAttributes::builder()
            .set_keys(Some(chunk.to_vec()))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut delays = backoff();
        loop {
            let out = client
                .batch_get_item()
                .request_items(table, pending)
                .send()
                .await
                .map_err(StoreError::backend)?;
            if let Some(items) = out.responses.and_then(|mut r| r.remove(table)) {
                found.extend(items);
            }
            match out.unprocessed_keys.and_then(|mut u| u.remove(table)) {
                Some(rest) if !rest.keys.is_empty() => {
                    pending = rest;
                    let delay = delays.next().ok_or(StoreError::Throttled)?;
                    tokio::time::sleep(delay).await;
                }
                _ => break,
            }
        }
    }
    Ok(found)
}

/// Writes every request (in chunks of 25), retrying unprocessed items with backoff.
/// Used for blind bulk loads only: BatchWriteItem takes no conditions.
pub async fn write_all(
    client: &Client,
    table: &str,
    requests: Vec<WriteRequest>,
) -> Result<(), StoreError> {
    for chunk in requests.chunks(WRITE_LIMIT) {
        let mut pending = chunk.to_vec();
        let mut delays = backoff();
        loop {
            let out = client
                .batch_write_item()
                .request_items(table, pending)
                .send()
                .await
                .map_err(StoreError::backend)?;
            match out.unprocessed_items.and_then(|mut u| u.remove(table)) {
                Some(rest) if !rest.is_empty() => {
                    tracing::debug!(
                        unprocessed = rest.len(),
                        "retrying unprocessed batch writes"
                    );
                    pending = rest;
                    let delay = delays.next().ok_or(StoreError::Throttled)?;
                    tokio::time::sleep(delay).await;
                }
                _ => break,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_and_finite() {
        let delays: Vec<_> = backoff().collect();
        assert_eq!(delays.len(), 10);
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(2)));
    }
}
