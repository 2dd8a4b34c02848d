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
    /// Every syncing tenant is reconciled at least this often, when the budget allows.
    pub reconcile_interval: Duration,
    /// How often the planner runs (its schedule): reconciliations are spread over its runs.
    pub schedule: Duration,
    /// The upstream budget's rate (calls per budget minute), for planning reconciliation.
    pub budget_per_minute: u32,
    /// How long the budget's minute is (`BACKEND_MINUTE_MS`: the emulator's time scale).
    pub budget_minute: Duration,
    /// A consent list longer than a page is pulled at most this often.
    pub consent_interval: Duration,
}

impl SyncConfig {
    /// Defaults, with `SYNC_POLL_ROUNDS`, `SYNC_POLL_PAUSE_MS`, `SYNC_MAX_NUMBERS`,
    /// `SYNC_REPORT_TTL_DAYS`, `SYNC_LEASE_SECS`, `SYNC_STOP_MARGIN_MS`, `RECONCILE_INTERVAL_SECS`,
    /// `SYNC_SCHEDULE_SECS`, `CONSENT_PULL_INTERVAL_SECS`, `BACKEND_RATE_PER_MINUTE` and `BACKEND_MINUTE_MS` taken from the environment when set.
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
        if let Some(v) = env("SYNC_LEASE_SECS") {
            c.lease = Duration::from_secs(v.max(1));
        }
        if let Some(v) = env("SYNC_STOP_MARGIN_MS") {
            c.stop_margin = Duration::from_millis(v);
        }
        if let Some(v) = env("RECONCILE_INTERVAL_SECS") {
            c.reconcile_interval = Duration::from_secs(v);
        }
        if let Some(v) = env("SYNC_SCHEDULE_SECS") {
            c.schedule = Duration::from_secs(v.max(1));
        }
        if let Some(v) = env("BACKEND_RATE_PER_MINUTE") {
            c.budget_per_minute = v.clamp(1, u64::from(u32::MAX)) as u32;
        }
        if let Some(v) = env("CONSENT_PULL_INTERVAL_SECS") {
            c.consent_interval = Duration::from_secs(v);
        }
        if let Some(v) = env("BACKEND_MINUTE_MS") {
            c.budget_minute = Duration::from_millis(v.max(1));
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
            reconcile_interval: Duration::from_secs(24 * 3600),
            schedule: Duration::from_secs(5 * 60),
            budget_per_minute: 90,
            budget_minute: Duration::from_secs(60),
            consent_interval: Duration::from_secs(15 * 60),
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
