//! The clock, and the one optimistic-concurrency loop every read-check-write path shares.

use std::future::Future;

use crate::error::StoreError;

/// Rounds of read, check, conditional write before a writer gives up on a hot item.
pub(crate) const MAX_ATTEMPTS: usize = 8;

/// Milliseconds since the epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Runs `attempt` until it returns `Some` (done) or an error, at most [`MAX_ATTEMPTS`] times.
/// `None` means a concurrent writer got in first and the attempt should read again; when that
/// keeps happening the answer is [`StoreError::Contention`], which the API turns into a 503.
pub(crate) async fn optimistic<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, StoreError>>,
{
    for _ in 0..MAX_ATTEMPTS {
        // Boxed: an attempt's future holds a whole transaction being built, and nested in a
        // handler's future it would otherwise sit on the (2 MiB) worker thread's stack.
        if let Some(done) = Box::pin(attempt()).await? {
            return Ok(done);
        }
    }
    Err(StoreError::Contention)
}
