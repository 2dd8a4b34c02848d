//! Working jobs: each under its unit's lease, in the order the upstream budget spends it (polls,
//! then pushes, then reconciliation), then the unit's status is recorded.

use switchboard_backend::Backend;
use switchboard_domain::Account;
use switchboard_store::{now_ms, Repository, StoreError, Stored, TenantSync};

use crate::{Deadline, Run, RunStatus, SyncConfig, SyncReport, TenantJob};

/// Errors kept on a tenant's status.
const STATUS_ERRORS: usize = 10;

/// A job this run holds the lease of.
pub(crate) struct JobState {
    pub(crate) job: TenantJob,
    pub(crate) accounts: Vec<Stored<Account>>,
    pub(crate) errors: Vec<String>,
    pub(crate) pushed: bool,
    pub(crate) reconciled: bool,
}

/// A worker: does one job, unless another worker holds its unit (then it is `skipped`: that
/// worker is doing it). A store error fails the job, to be retried; its lease expires.
pub async fn work_job(
    repo: &Repository,
    backend: &dyn Backend,
    deadline: Deadline,
    cfg: &SyncConfig,
    job: TenantJob,
) -> Result<SyncReport, StoreError> {
    let mut run = Run::new(repo, backend, cfg, deadline);
    let unit = job.unit.clone();
    run.work(vec![job]).await?;
    let status = if run.jobs.is_empty() {
        run.errors.push(format!("another worker holds {unit}"));
        RunStatus::Skipped
    } else {
        run.status()
    };
    let report = run.report(status);
    tracing::info!(run = %report.id, %unit, status = ?report.status, errors = report.errors.len(), "sync job done");
    Ok(report)
}

impl Run<'_> {
    /// Works the jobs whose lease it gets, phase by phase across them, so that in one run every
    /// tenant's polls come before any tenant's reconciliation.
    pub(crate) async fn work(&mut self, jobs: Vec<TenantJob>) -> Result<(), StoreError> {
        for job in jobs {
            if !self.repo.acquire_work_lease(&job.unit, &self.id, self.cfg.lease.as_secs()).await? {
                self.errors.push(format!("another worker holds {}", job.unit));
                continue;
            }
            let mut accounts = Vec::new();
            for name in &job.accounts {
                match self.repo.get_account(name).await {
                    Ok(a) => accounts.push(a),
                    Err(StoreError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            self.jobs.push(JobState { job, accounts, errors: vec![], pushed: false, reconciled: false });
        }
        let outcome = self.phases().await;
        self.current = None;
        for i in 0..self.jobs.len() {
            if outcome.is_ok() {
                self.record_status(i).await?;
            }
            let unit = self.jobs[i].job.unit.clone();
            self.repo.release_work_lease(&unit, &self.id).await?;
        }
        outcome
    }

    async fn phases(&mut self) -> Result<(), StoreError> {
        for i in 0..self.jobs.len() {
            self.current = Some(i);
            // Read here, not taken from the plan: an order sent after the plan is still in flight.
            let orders = match &self.jobs[i].job.tenant_id {
                Some(t) => self.repo.open_orders_of(t).await?,
                None => vec![],
            };
            let still_open = self.poll_orders(orders).await?;
            self.open.extend(still_open);
        }
        for i in 0..self.jobs.len() {
            if self.out_of_time() {
                return Ok(());
            }
            if self.jobs[i].job.push {
                self.current = Some(i);
                self.push_numbers(i).await?;
                if !self.out_of_time() {
                    self.push_releases(i).await?;
                }
            }
        }
        for i in 0..self.jobs.len() {
            if self.jobs[i].job.reconcile && !self.out_of_time() {
                self.current = Some(i);
                self.reconcile_job(i).await?;
            }
        }
        self.current = None;
        self.results.orders_open = self.open.len();
        if self.stopped_early {
            return Ok(());
        }
        for _ in 0..self.cfg.poll_rounds {
            if self.open.is_empty() || self.out_of_time() {
                break;
            }
            tokio::time::sleep(self.cfg.poll_pause).await;
            let orders = std::mem::take(&mut self.open);
            self.open = self.poll_orders(orders).await?;
        }
        self.results.orders_open = self.open.len();
        Ok(())
    }

    /// The tenant's status: reconciliation is brought forward after pushes or errors, and
    /// cleared by a complete one.
    async fn record_status(&mut self, i: usize) -> Result<(), StoreError> {
        let state = &self.jobs[i];
        let Some(tenant) = state.job.tenant_id.clone() else { return Ok(()) };
        let before = self.repo.tenant_sync(&tenant).await?.unwrap_or_default();
        let failed = !state.errors.is_empty();
        let status = TenantSync {
            tenant_id: tenant,
            last_run_ms: Some(now_ms()),
            last_status: Some(if failed || self.stopped_early { "partial" } else { "succeeded" }.into()),
            last_reconciled_ms: if state.reconciled { Some(now_ms()) } else { before.last_reconciled_ms },
            reconcile_soon: state.pushed || failed || (before.reconcile_soon && !state.reconciled),
            last_errors: state.errors.iter().take(STATUS_ERRORS).cloned().collect(),
        };
        self.repo.put_tenant_sync(&status).await
    }
}
