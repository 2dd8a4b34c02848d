//! The sync against the backend service, fanned out per tenant. A planner (one at a time: a
//! lease) does the estate-wide steps and splits the rest into one job per tenant; a worker (one
//! per tenant at a time: a lease per tenant) does a job. Everything is idempotent (every result
//! lands only on the version of an item it was computed from), stops before its deadline and is
//! carried on by the next run (all state is in the table), and never treats a failed or partial
//! pull as a deletion.
//!
//! The planner: roll back dead imports → push relationship changes → pull consents → move old
//! index entries to their shards → plan (`plan`). Its jobs go to workers through a queue
//! (`JobSender`), or are worked in the same run (`run`: small estates, tests, the local loop).
//! A job (`work`), most urgent first as the upstream budget spends it: poll the tenant's open
//! orders → upload its pending numbers and send its releases (≤100 per order) → reconcile it if
//! due → poll its new orders a few times → record its status. A job with changes that finds its
//! tenant held (by a reconciliation, which can take a worker's whole run) asks the holder to push
//! them between its steps, rather than wait for the next plan.

mod config;
mod consents;
mod orders;
mod plan;
mod push;
mod queue;
mod reconcile;
pub mod report;
pub mod wiring;
mod work;

use std::collections::HashMap;

use switchboard_backend::{Backend, BackendError};
use switchboard_domain::{Account, ErrorDetail};
use switchboard_store::{now_ms, OpenOrder, Repository, StoreError, Stored};

pub use config::{Deadline, SyncConfig};
pub use plan::{ConsentSeen, TenantJob};
pub use queue::SqsJobs;
pub use report::{Drift, DriftKind, Planned, RunStatus, SyncReport};
use report::{Pulled, Pushed, Results};
pub use work::work_job;
use work::JobState;

/// Hands a plan's jobs to workers (a queue with retries and a dead-letter target, in AWS).
#[async_trait::async_trait]
pub trait JobSender: Send + Sync {
    /// Sends every job, or says why not (the next plan sends them again).
    async fn send(&self, jobs: &[TenantJob]) -> Result<(), String>;
}

/// The backend's batch limit.
pub const MAX_PER_ORDER: usize = 100;

/// Numbers a planner run reads (by its accounts' counts) to index failures written before the
/// failed index: a million take ten runs.
const OLD_FAILURES_READ_PER_RUN: i64 = 100_000;

/// Drift entries and errors a report keeps (the rest are counted).
const MAX_DRIFT: usize = 500;
const MAX_ERRORS: usize = 100;

struct Run<'a> {
    id: String,
    started_ms: u64,
    calls_before: switchboard_backend::CallStats,
    repo: Repository,
    backend: &'a dyn Backend,
    cfg: &'a SyncConfig,
    deadline: Deadline,
    pulled: Pulled,
    pushed: Pushed,
    results: Results,
    drift: Vec<Drift>,
    errors: Vec<String>,
    stopped_early: bool,
    planned: Option<Planned>,
    /// The unit a worker's run is for.
    unit: Option<String>,
    /// Orders this run knows to be open (polled, or sent by it).
    open: Vec<OpenOrder>,
    /// The jobs being worked, and which of them the current step is for.
    jobs: Vec<JobState>,
    current: Option<usize>,
    /// The planner's state between plans (read and written by its run only).
    state: switchboard_store::PlannerState,
}

fn err_detail(code: &str, message: impl Into<String>) -> ErrorDetail {
    ErrorDetail { code: code.into(), message: message.into(), target: None }
}

/// Plans and works every job in this one run (small estates, tests, the local loop).
pub async fn run(
    repo: &Repository,
    backend: &dyn Backend,
    deadline: Deadline,
    cfg: &SyncConfig,
) -> Result<SyncReport, StoreError> {
    plan_run(repo, backend, deadline, cfg, None).await
}

/// Plans, and sends the jobs to workers.
pub async fn plan_and_send(
    repo: &Repository,
    backend: &dyn Backend,
    deadline: Deadline,
    cfg: &SyncConfig,
    sender: &dyn JobSender,
) -> Result<SyncReport, StoreError> {
    plan_run(repo, backend, deadline, cfg, Some(sender)).await
}

/// Store errors end the run (the lease expires; the next run carries on); backend errors are
/// recorded and the run goes on with what it can do.
async fn plan_run(
    repo: &Repository,
    backend: &dyn Backend,
    deadline: Deadline,
    cfg: &SyncConfig,
    sender: Option<&dyn JobSender>,
) -> Result<SyncReport, StoreError> {
    let mut run = Run::new(repo, backend, cfg, deadline);
    let id = run.id.clone();
    let status = if run.repo.acquire_lease(&id, cfg.lease.as_secs()).await? {
        let outcome = run.planner_steps(sender).await;
        run.repo.release_lease(&id).await?;
        outcome?;
        run.status()
    } else {
        run.errors.push("another sync run holds the lease".into());
        RunStatus::Skipped
    };
    let report = run.report(status);
    repo.put_sync_run(report.started_ms, &id, &report, cfg.report_ttl_days).await?;
    tracing::info!(run = %id, status = ?report.status, drift = report.drift.len(), errors = report.errors.len(), "sync run done");
    Ok(report)
}

impl<'a> Run<'a> {
    fn new(repo: &Repository, backend: &'a dyn Backend, cfg: &'a SyncConfig, deadline: Deadline) -> Run<'a> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        // Every change a run makes is audited as the sync's, under the run's id.
        let repo = repo.acting(switchboard_domain::audit::AuditContext::system("sync", Some(id.clone())));
        Run {
            id,
            started_ms: now_ms(),
            calls_before: backend.stats(),
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
            planned: None,
            unit: None,
            open: Vec::new(),
            jobs: Vec::new(),
            current: None,
            state: Default::default(),
        }
    }

    fn status(&self) -> RunStatus {
        if self.stopped_early || !self.errors.is_empty() {
            RunStatus::Partial
        } else {
            RunStatus::Succeeded
        }
    }

    fn report(mut self, status: RunStatus) -> SyncReport {
        // A report is one item (≤ 400 KB): what is past the caps is counted, not kept.
        let total = |n: usize, cap: usize| (n > cap).then_some(n);
        let (drift_total, errors_total) = (total(self.drift.len(), MAX_DRIFT), total(self.errors.len(), MAX_ERRORS));
        self.drift.truncate(MAX_DRIFT);
        self.errors.truncate(MAX_ERRORS);
        SyncReport {
            drift_total,
            errors_total,
            upstream: self.backend.stats().since(&self.calls_before),
            id: self.id,
            started_ms: self.started_ms,
            finished_ms: now_ms(),
            status,
            stopped_early: self.stopped_early,
            accounts: if self.unit.is_some() {
                self.jobs.iter().flat_map(|j| j.job.accounts.iter().cloned()).collect()
            } else {
                vec![]
            },
            unit: self.unit,
            planned: self.planned,
            pulled: self.pulled,
            pushed: self.pushed,
            results: self.results,
            drift: self.drift,
            errors: self.errors,
        }
    }

    fn out_of_time(&mut self) -> bool {
        if self.deadline.nearly_out(self.cfg.stop_margin) {
            self.stopped_early = true;
        }
        self.stopped_early
    }

    fn backend_error(&mut self, what: &str, e: &BackendError) {
        tracing::warn!(%what, error = %e, "backend call failed");
        self.error(format!("{what}: {e}"));
    }

    /// An error of this run, and of the job being worked, if any.
    fn error(&mut self, e: String) {
        if let Some(job) = self.current.and_then(|i| self.jobs.get_mut(i)) {
            job.errors.push(e.clone());
        }
        self.errors.push(e);
    }

    /// The planner's estate-wide steps, then the plan, worked here or sent to workers.
    async fn planner_steps(&mut self, sender: Option<&dyn JobSender>) -> Result<(), StoreError> {
        self.repo.recover_imports(switchboard_store::IMPORT_LEASE).await?;
        self.state = self.repo.planner_state().await?;
        let state_before = self.state.clone();
        let accounts = self.repo.all_accounts().await?;
        let by_tenant: HashMap<String, &Stored<Account>> =
            accounts.iter().filter_map(|a| a.value.service_details.teams_tenant_id.clone().map(|t| (t, a))).collect();
        self.push_relationships().await?;
        if self.out_of_time() {
            return Ok(());
        }
        let consents = if self.consents_due().await? { self.pull_consents(&by_tenant).await? } else { None };
        self.settle_accounts(&accounts, consents.as_ref()).await?;
        if self.out_of_time() {
            return Ok(());
        }
        // Housekeeping: listings read the old partitions too, so this only has to finish some
        // day, and a failure here must not stop the run.
        match self.repo.reshard(1000).await {
            Ok(0) => {}
            Ok(moved) => tracing::info!(moved, "index entries moved to their shard"),
            Err(e) => tracing::warn!(error = %e, "re-sharding old index entries failed; next run goes on"),
        }
        let names: Vec<String> = accounts.iter().map(|a| a.value.name.clone()).collect();
        match self.repo.index_old_failures(&names, OLD_FAILURES_READ_PER_RUN).await {
            Ok(0) => {}
            Ok(indexed) => tracing::info!(indexed, "failed numbers from before the failed index indexed"),
            Err(e) => tracing::warn!(error = %e, "indexing old failed numbers failed; next run goes on"),
        }
        let jobs = self.plan(&accounts, consents.as_ref()).await?;
        if self.state != state_before {
            self.repo.set_planner_state(&self.state).await?;
        }
        match sender {
            None => self.work(jobs).await,
            Some(sender) => {
                match sender.send(&jobs).await {
                    Ok(()) => {
                        if let Some(p) = self.planned.as_mut() {
                            p.sent = jobs.len();
                        }
                    }
                    Err(e) => self.error(format!("sending {} jobs to the workers: {e}", jobs.len())),
                }
                Ok(())
            }
        }
    }
}
