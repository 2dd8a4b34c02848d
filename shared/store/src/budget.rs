//! The shared upstream budget in the table: one item holding the GCRA's `tat` (see
//! `switchboard_domain::budget`), moved on with a conditional put, so any number of workers in any
//! number of processes spend one `BACKEND_RATE_PER_MINUTE` between them.
//!
//! A reservation costs one strongly consistent GetItem and one conditional PutItem (more only when
//! another caller reserved in between). Clocks are the hosts' (NTP-synced on Lambda): a host
//! whose clock runs ahead books slots a little early, never more of them.

use aws_sdk_dynamodb::types::AttributeValue;
use std::time::{Duration, Instant};

use switchboard_domain::budget::{decide, CallClass, Decision, Pacer, Rate};

use crate::expr::Placeholders;
use crate::keys;
use crate::{now_ms, Repository, StoreError};

const TAT: &str = "tat";

/// The table-backed [`Pacer`].
#[derive(Clone)]
pub struct TableBudget {
    repo: Repository,
    rate: Rate,
    /// The longest a caller waits for its slot (behind other calls, or for the slot itself)
    /// before it is told no: its own deadline's share of one call.
    max_wait: Duration,
}

impl TableBudget {
    pub fn new(repo: Repository, rate: Rate, max_wait: Duration) -> Self {
        TableBudget { repo, rate, max_wait }
    }

    /// Books the next slot `class` may have. `Ok(Some(at))`: go at `at` (ms since the epoch);
    /// `Ok(None)`: no slot for this class before `give_up` (nothing is booked then).
    async fn reserve(&self, class: CallClass, give_up: Instant) -> Result<Option<u64>, StoreError> {
        let ms_until = |at: u64| Duration::from_millis(at.saturating_sub(now_ms()));
        loop {
            let item = self.repo.get_item(keys::budget()).await?;
            let tat = item.as_ref().and_then(|i| i.get(TAT)).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok());
            let now = now_ms();
            match decide(tat.unwrap_or(0), now, self.rate, class) {
                Decision::Reserve { at, .. } if Instant::now() + ms_until(at) > give_up => return Ok(None),
                Decision::Reserve { at, next_tat } => {
                    let mut booked = keys::budget();
                    booked.insert(TAT.into(), AttributeValue::N(next_tat.to_string()));
                    let mut p = Placeholders::default();
                    let cond = match tat {
                        Some(t) => format!("{} = {}", p.path(TAT), p.value(AttributeValue::N(t.to_string()))),
                        None => format!("attribute_not_exists({})", p.path(TAT)),
                    };
                    if self.repo.put_if(booked, cond, &p).await? {
                        return Ok(Some(at));
                    }
                    // Another caller booked first: read again after a moment, so that callers
                    // in step do not collide again at once.
                    let pause = Duration::from_millis(fastrand::u64(0..=self.rate.interval_ms().min(20)));
                    if Instant::now() + pause > give_up {
                        return Ok(None);
                    }
                    tokio::time::sleep(pause).await;
                }
                Decision::Wait { retry_at } => {
                    let wait = ms_until(retry_at);
                    if Instant::now() + wait > give_up {
                        return Ok(None);
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Pacer for TableBudget {
    async fn admit(&self, class: CallClass) -> Result<(), String> {
        match self.reserve(class, Instant::now() + self.max_wait).await {
            Ok(Some(at)) => {
                tokio::time::sleep(Duration::from_millis(at.saturating_sub(now_ms()))).await;
                Ok(())
            }
            Ok(None) => Err(format!("no slot for a {class:?} call within {:?}", self.max_wait)),
            Err(e) => Err(format!("the budget could not be read or booked: {e}")),
        }
    }
}
