//! Batch reads and writes with DynamoDB's partial-success contract: whatever comes back in
//! `UnprocessedKeys` / `UnprocessedItems` is retried with capped, jittered exponential backoff.

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, WriteRequest};
use aws_sdk_dynamodb::Client;
use backon::{BackoffBuilder, ExponentialBuilder};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use crate::error::StoreError;
use crate::keys::Key;

pub type Item = HashMap<String, AttributeValue>;

/// At most this many keys per BatchGetItem, items per BatchWriteItem.
pub const GET_LIMIT: usize = 100;
pub const WRITE_LIMIT: usize = 25;

/// The backoff for unprocessed work: 20 ms doubling to 1 s, with jitter, 10 retries.
pub fn backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_secs(1))
        .with_max_times(10)
        .with_jitter()
        .build()
}

/// Sends `pending`, then whatever `send` hands back as unprocessed, backing off between tries.
/// Past the last retry the database is treated as throttling us.
pub async fn until_processed<T, F, Fut>(
    mut pending: T,
    mut send: F,
    mut delays: impl Iterator<Item = Duration>,
) -> Result<(), StoreError>
where
    F: FnMut(T) -> Fut,
    Fut: Future<Output = Result<Option<T>, StoreError>>,
{
    while let Some(rest) = send(pending).await? {
        let delay = delays.next().ok_or(StoreError::Throttled)?;
        tracing::debug!(?delay, "retrying unprocessed batch items");
        tokio::time::sleep(delay).await;
        pending = rest;
    }
    Ok(())
}

/// Gets any number of keys (in chunks of 100), strongly consistent; returns the items found, in no order.
/// A key given twice is read once (BatchGetItem refuses duplicates; an index entry being moved
/// between partitions can be listed twice).
pub async fn get_all(client: &Client, table: &str, keys: Vec<Key>) -> Result<Vec<Item>, StoreError> {
    let mut seen = std::collections::HashSet::new();
    let keys: Vec<Key> = keys
        .into_iter()
        .filter(|k| {
            let mut id: Vec<String> = k.iter().map(|(name, v)| format!("{name}={v:?}")).collect();
            id.sort();
            seen.insert(id)
        })
        .collect();
    // Shared with each try's future; a plain lock, never held across an await.
    let found = std::sync::Mutex::new(Vec::with_capacity(keys.len()));
    for chunk in keys.chunks(GET_LIMIT) {
        let first = KeysAndAttributes::builder()
            .set_keys(Some(chunk.to_vec()))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let found = &found;
        until_processed(
            first,
            |pending| async move {
                let out =
                    client.batch_get_item().request_items(table, pending).send().await.map_err(StoreError::backend)?;
                if let Some(items) = out.responses.and_then(|mut r| r.remove(table)) {
                    found.lock().map_err(|_| StoreError::Backend("batch read lock poisoned".into()))?.extend(items);
                }
                Ok(out.unprocessed_keys.and_then(|mut u| u.remove(table)).filter(|k| !k.keys.is_empty()))
            },
            backoff(),
        )
        .await?;
    }
    found.into_inner().map_err(|_| StoreError::Backend("batch read lock poisoned".into()))
}

/// Writes every request (in chunks of 25). For blind bulk loads only: BatchWriteItem takes no
/// conditions, so anything that must hold ownership or counters goes through transactions.
pub async fn write_all(client: &Client, table: &str, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
    for chunk in requests.chunks(WRITE_LIMIT) {
        until_processed(
            chunk.to_vec(),
            |pending| async move {
                let out = client
                    .batch_write_item()
                    .request_items(table, pending)
                    .send()
                    .await
                    .map_err(StoreError::backend)?;
                Ok(out.unprocessed_items.and_then(|mut u| u.remove(table)).filter(|r| !r.is_empty()))
            },
            backoff(),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn backoff_is_capped_jittered_and_finite() {
        let a: Vec<_> = backoff().collect();
        let b: Vec<_> = backoff().collect();
        assert_eq!(a.len(), 10);
        // Jitter adds up to one delay again on top of the cap.
        assert!(a.iter().all(|d| *d <= Duration::from_secs(2)));
        assert_ne!(a, b, "two backoffs should not be identical");
    }

    /// A fake "database" that leaves some items unprocessed each call, as DynamoDB does under load.
    #[tokio::test(start_paused = true)]
    async fn unprocessed_items_are_retried_until_done() {
        let calls = Mutex::new(Vec::new());
        let result = until_processed(
            vec![1, 2, 3, 4, 5],
            |pending: Vec<i32>| {
                calls.lock().unwrap().push(pending.clone());
                async move { Ok((pending.len() > 1).then(|| pending[pending.len() / 2..].to_vec())) }
            },
            backoff(),
        )
        .await;
        assert!(result.is_ok());
        assert_eq!(*calls.lock().unwrap(), vec![vec![1, 2, 3, 4, 5], vec![3, 4, 5], vec![4, 5], vec![5]]);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_as_throttled_after_the_last_retry() {
        let mut calls = 0;
        let result = until_processed(
            (),
            |_| {
                calls += 1;
                async { Ok(Some(())) }
            },
            backoff(),
        )
        .await;
        assert!(matches!(result, Err(StoreError::Throttled)));
        assert_eq!(calls, 11, "the first try and ten retries");
    }
}
