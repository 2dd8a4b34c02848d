//! How a run is paced and bounded: its configuration and its deadline.

use std::time::{Duration, Instant};

use switchboard_store::now_ms;

#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// How long the lease is held before another run may take it.
    pub lease: Duration,
    /// Stop this long before the deadline.
    pub stop_margin: Duration,
    /// Pending numbers taken per run.
    pub max_numbers_per_run: usize,
    /// Rounds of polling new orders at the end of a run, and the pause between them.
    pub poll_rounds: u32,
    pub poll_pause: Duration,
    pub report_ttl_days: u64,
}

impl SyncConfig {
    /// Defaults, with `SYNC_POLL_ROUNDS`, `SYNC_POLL_PAUSE_MS`, `SYNC_MAX_NUMBERS`,
    /// `SYNC_REPORT_TTL_DAYS` and `SYNC_STOP_MARGIN_MS` taken from the environment when set.
    pub fn from_env() -> Self {
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
        let mut c = SyncConfig::default();
        if let Some(v) = env("SYNC_POLL_ROUNDS") {
            c.poll_rounds = v as u32;
        }
        if let Some(v) = env("SYNC_POLL_PAUSE_MS") {
            c.poll_pause = Duration::from_millis(v);
        }
        if let Some(v) = env("SYNC_MAX_NUMBERS") {
            c.max_numbers_per_run = v as usize;
        }
        if let Some(v) = env("SYNC_REPORT_TTL_DAYS") {
            c.report_ttl_days = v;
        }
        if let Some(v) = env("SYNC_STOP_MARGIN_MS") {
            c.stop_margin = Duration::from_millis(v);
        }
        c
    }
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            lease: Duration::from_secs(15 * 60),
            stop_margin: Duration::from_secs(20),
            max_numbers_per_run: 10_000,
            poll_rounds: 3,
            poll_pause: Duration::from_secs(2),
            report_ttl_days: 30,
        }
    }
}

/// When the run must be done by (the Lambda deadline), if any.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(pub Option<Instant>);

impl Deadline {
    pub fn none() -> Self {
        Deadline(None)
    }

    /// From a Lambda context's deadline (milliseconds since the epoch). `cargo lambda watch`
    /// passes the timeout itself (e.g. 600000) instead of an instant; a value that can't be a
    /// recent epoch time is read that way.
    pub fn from_epoch_ms(deadline_ms: u64) -> Self {
        const YEAR_2001_MS: u64 = 978_307_200_000;
        let left = if deadline_ms < YEAR_2001_MS { deadline_ms } else { deadline_ms.saturating_sub(now_ms()) };
        Deadline(Some(Instant::now() + Duration::from_millis(left)))
    }

    pub fn in_(d: Duration) -> Self {
        Deadline(Some(Instant::now() + d))
    }

    pub(crate) fn nearly_out(&self, margin: Duration) -> bool {
        self.0.is_some_and(|d| Instant::now() + margin >= d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_from_lambda_and_from_cargo_lambda() {
        let lambda = Deadline::from_epoch_ms(now_ms() + 60_000);
        assert!(!lambda.nearly_out(Duration::from_secs(20)));
        assert!(lambda.nearly_out(Duration::from_secs(61)));
        let watch = Deadline::from_epoch_ms(600_000);
        assert!(!watch.nearly_out(Duration::from_secs(20)));
        assert!(Deadline::from_epoch_ms(now_ms()).nearly_out(Duration::from_secs(1)));
    }
}
