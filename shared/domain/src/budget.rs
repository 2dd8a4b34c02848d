//! The upstream budget: the backend allows so many calls a minute to the operator as a whole, so
//! every caller (any number of sync workers, and the API's capability look-ups) spends one shared
//! budget, by priority.
//!
//! The budget is a GCRA (generic cell rate algorithm, a token bucket in one number): `tat`, the
//! theoretical arrival time, is when the next call may go. A caller reserves the slot
//! `max(tat, now)` and moves `tat` one interval on; calls are thus spaced at least an interval
//! apart, whoever makes them. Priority is how far ahead a class may reserve: a poll of an open
//! order may queue a minute ahead, reconciliation only when the queue is nearly empty, so when the
//! budget is short the lower classes wait and the higher ones go first.

use serde::Serialize;
use std::time::Duration;

/// What an upstream call is for, in priority order (most urgent first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CallClass {
    /// Polls of open orders: their results are what operators wait for.
    Poll,
    /// Operator changes: uploads, releases, relationship updates (and interactive look-ups).
    Change,
    /// Consent pulls.
    Consent,
    /// Reconciliation: re-reading what the backend holds, to find drift.
    Reconcile,
}

impl CallClass {
    pub const ALL: [CallClass; 4] = [CallClass::Poll, CallClass::Change, CallClass::Consent, CallClass::Reconcile];

    /// How many intervals ahead of now this class may reserve a slot.
    pub fn horizon_intervals(self) -> u64 {
        match self {
            CallClass::Poll => 90,
            CallClass::Change => 60,
            CallClass::Consent => 20,
            CallClass::Reconcile => 1,
        }
    }
}

/// The budget's rate: `per_minute` calls in each minute, where a minute may be scaled down (the
/// emulator's time scale) to benchmark a day of budget in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub minute: Duration,
}

impl Rate {
    pub fn new(per_minute: u32, minute: Duration) -> Self {
        Rate { per_minute: per_minute.max(1), minute }
    }

    /// The spacing between two calls, in milliseconds (at least 1), rounded up so the rate is
    /// never above `per_minute`.
    pub fn interval_ms(&self) -> u64 {
        (self.minute.as_millis() as u64).div_ceil(u64::from(self.per_minute)).max(1)
    }
}

/// What a caller of class `class` may do, given the budget's `tat` and the time now (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go at `at` (ms; now or later), and store `next_tat`.
    Reserve { at: u64, next_tat: u64 },
    /// The queue is too long for this class: look again at `retry_at` (ms).
    Wait { retry_at: u64 },
}

pub fn decide(tat: u64, now: u64, rate: Rate, class: CallClass) -> Decision {
    let interval = rate.interval_ms();
    let at = tat.max(now);
    let horizon = interval * class.horizon_intervals();
    if at - now > horizon {
        Decision::Wait { retry_at: at - horizon }
    } else {
        Decision::Reserve { at, next_tat: at + interval }
    }
}

/// The port every upstream caller goes through before each call it makes (retries included).
#[async_trait::async_trait]
pub trait Pacer: Send + Sync {
    /// Waits until a call of `class` may go. An error (the budget's store failed, or the wait
    /// would be longer than the pacer allows) means: don't make the call now.
    async fn admit(&self, class: CallClass) -> Result<(), String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate { per_minute: 60, minute: Duration::from_secs(60) };

    #[test]
    fn an_idle_budget_lets_a_call_go_at_once() {
        assert_eq!(decide(0, 5_000, RATE, CallClass::Reconcile), Decision::Reserve { at: 5_000, next_tat: 6_000 });
    }

    #[test]
    fn calls_are_spaced_an_interval_apart() {
        assert_eq!(decide(6_000, 5_000, RATE, CallClass::Change), Decision::Reserve { at: 6_000, next_tat: 7_000 });
    }

    #[test]
    fn lower_classes_wait_while_the_queue_is_long() {
        // 30 calls queued: a poll or a change still books, a consent pull and reconciliation wait.
        let tat = 5_000 + 30_000;
        assert!(matches!(decide(tat, 5_000, RATE, CallClass::Poll), Decision::Reserve { at: 35_000, .. }));
        assert!(matches!(decide(tat, 5_000, RATE, CallClass::Change), Decision::Reserve { .. }));
        assert_eq!(decide(tat, 5_000, RATE, CallClass::Consent), Decision::Wait { retry_at: 15_000 });
        assert_eq!(decide(tat, 5_000, RATE, CallClass::Reconcile), Decision::Wait { retry_at: 34_000 });
    }

    #[test]
    fn a_scaled_minute_scales_the_interval() {
        assert_eq!(Rate::new(90, Duration::from_secs(6)).interval_ms(), 67);
        assert_eq!(Rate::new(0, Duration::from_secs(60)).interval_ms(), 60_000);
    }
}
