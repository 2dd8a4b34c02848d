//! One sync run against the backend service. It is idempotent (every result lands only on the
//! version of an item it was computed from) and safe next to itself (a lease), stops before its
//! deadline and carries on next run (all its state is in the table), never treats a failed or
//! partial pull as a deletion, and writes a report.
//!
//! Order of work, most urgent first (the upstream budget's priorities): poll open orders → push
//! relationship changes → pull consents → upload pending numbers and send releases (≤100 per
//! order) → per syncing account: its status, civic addresses and numbers as the backend sees them
//! (drift) → poll the new orders a few times → report. Each step is its own module.

mod config;
mod consents;
mod orders;
mod push;
mod reconcile;
pub mod report;

use std::collections::HashMap;

use switchboard_backend::{Backend, BackendError};
use switchboard_domain::{Account, ErrorDetail};
use switchboard_store::{now_ms, Repository, StoreError, Stored};

pub use config::{Deadline, SyncConfig};
pub use report::{Drift, DriftKind, RunStatus, SyncReport};
use report::{Pulled, Pushed, Results};

/// The backend's batch limit.
pub const MAX_PER_ORDER: usize = 100;

struct Run<'a> {
    repo: &'a Repository,
    backend: &'a dyn Backend,
    cfg: &'a SyncConfig,
    deadline: Deadline,
    pulled: Pulled,
    pushed: Pushed,
    results: Results,
    drift: Vec<Drift>,
    errors: Vec<String>,
    stopped_early: bool,
}

fn err_detail(code: &str, message: impl Into<String>) -> ErrorDetail {
    ErrorDetail { code: code.into(), message: message.into(), target: None }
}

/// Runs one sync. Store errors end the run (the lease expires; the next run carries on);
/// backend errors are recorded and the run goes on with what it can do.
pub async fn run(
    repo: &Repository,
    backend: &dyn Backend,
    deadline: Deadline,
    cfg: &SyncConfig,
) -> Result<SyncReport, StoreError> {
    let started_ms = now_ms();
    let id = uuid::Uuid::new_v4().simple().to_string();
    // Every change this run makes is audited as the sync's, under the run's id.
    let repo = &repo.acting(switchboard_domain::audit::AuditContext::system("sync", Some(id.clone())));
    let calls_before = backend.stats();
    let mut run = Run {
        repo,
        backend,
        cfg,
        deadline,
        pulled: Pulled::default(),
        pushed: Pushed::default(),
        results: Results::default(),
        drift: Vec::new(),
        errors: Vec::new(),
        stopped_early: false,
    };
    let status = if repo.acquire_lease(&id, cfg.lease.as_secs()).await? {
        let outcome = run.steps().await;
        repo.release_lease(&id).await?;
        outcome?;
        if run.stopped_early || !run.errors.is_empty() {
            RunStatus::Partial
        } else {
            RunStatus::Succeeded
        }
    } else {
        run.errors.push("another sync run holds the lease".into());
        RunStatus::Skipped
    };
    let after = backend.stats();
    let report = SyncReport {
        id: id.clone(),
        started_ms,
        finished_ms: now_ms(),
        status,
        stopped_early: run.stopped_early,
        pulled: run.pulled,
        pushed: run.pushed,
        results: run.results,
        drift: run.drift,
        errors: run.errors,
        upstream: after.since(&calls_before),
    };
    repo.put_sync_run(started_ms, &id, &report, cfg.report_ttl_days).await?;
    tracing::info!(run = %id, status = ?report.status, drift = report.drift.len(), errors = report.errors.len(), "sync run done");
    Ok(report)
}

impl Run<'_> {
    fn out_of_time(&mut self) -> bool {
        if self.deadline.nearly_out(self.cfg.stop_margin) {
            self.stopped_early = true;
        }
        self.stopped_early
    }

    fn backend_error(&mut self, what: &str, e: &BackendError) {
        tracing::warn!(%what, error = %e, "backend call failed");
        self.errors.push(format!("{what}: {e}"));
    }

    /// The steps in the order the budget's priorities spend it: what operators wait for first
    /// (open orders, their own changes), reconciliation last, with what time is left.
    async fn steps(&mut self) -> Result<(), StoreError> {
        self.repo.recover_imports(switchboard_store::IMPORT_LEASE).await?;
        let accounts = self.repo.all_accounts().await?;
        let by_tenant: HashMap<String, &Stored<Account>> =
            accounts.iter().filter_map(|a| a.value.service_details.teams_tenant_id.clone().map(|t| (t, a))).collect();
        let open = self.poll_orders().await?;
        if self.out_of_time() {
            return Ok(());
        }
        self.push_relationships().await?;
        if self.out_of_time() {
            return Ok(());
        }
        let consents = self.pull_consents(&by_tenant).await?;
        if !self.out_of_time() {
            self.push_numbers(&accounts, consents.as_ref(), &open).await?;
        }
        if !self.out_of_time() {
            self.push_releases(&open).await?;
        }
        if !self.out_of_time() {
            // Housekeeping: listings read the old partitions too, so this only has to finish
            // some day, and a failure here must not stop the run.
            match self.repo.reshard(1000).await {
                Ok(0) => {}
                Ok(moved) => tracing::info!(moved, "index entries moved to their shard"),
                Err(e) => tracing::warn!(error = %e, "re-sharding old index entries failed; next run goes on"),
            }
        }
        self.reconcile_from_cursor(&accounts, consents.as_ref()).await?;
        if self.stopped_early {
            return Ok(());
        }
        for _ in 0..self.cfg.poll_rounds {
            if self.results.orders_open == 0 || self.out_of_time() {
                break;
            }
            tokio::time::sleep(self.cfg.poll_pause).await;
            self.poll_orders().await?;
        }
        Ok(())
    }
}
