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
use crate::keys::{self, PK};
use crate::{now_ms, Repository, StoreError};

const TAT: &str = "tat";

/// The table-backed [`Pacer`].
#[derive(Clone)]
pub struct TableBudget {
    repo: Repository,
    rate: Rate,
    /// The longest a caller waits behind higher-priority calls before it is told no.
    max_wait: Duration,
}

impl TableBudget {
    pub fn new(repo: Repository, rate: Rate, max_wait: Duration) -> Self {
        TableBudget { repo, rate, max_wait }
    }

    /// Books the next slot `class` may have. `Ok(Some(at))`: go at `at` (ms since the epoch);
    /// `Ok(None)`: the queue ahead is too long for this class before `give_up`.
    async fn reserve(&self, class: CallClass, give_up: Instant) -> Result<Option<u64>, StoreError> {
        loop {
            let item = self.repo.get_item(keys::budget()).await?;
            let tat = item.as_ref().and_then(|i| i.get(TAT)).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok());
            let now = now_ms();
            match decide(tat.unwrap_or(0), now, self.rate, class) {
                Decision::Reserve { at, next_tat } => {
                    let mut booked = keys::budget();
                    booked.insert(TAT.into(), AttributeValue::N(next_tat.to_string()));
                    let mut p = Placeholders::default();
                    let cond = match tat {
                        Some(t) => format!("{} = {}", p.path(TAT), p.value(AttributeValue::N(t.to_string()))),
                        None => format!("attribute_not_exists({})", p.path(PK)),
                    };
                    if self.repo.put_if(booked, cond, &p).await? {
                        return Ok(Some(at));
                    }
                    // Another caller booked first: read again.
                }
                Decision::Wait { retry_at } => {
                    let wait = Duration::from_millis(retry_at.saturating_sub(now));
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
            Ok(None) => Err(format!("{class:?} calls wait behind more urgent ones for over {:?}", self.max_wait)),
            Err(e) => Err(format!("the budget could not be read or booked: {e}")),
        }
    }
}
