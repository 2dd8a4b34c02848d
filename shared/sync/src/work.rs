//! Working jobs: each under its unit's lease, in the order the upstream budget spends it (polls,
//! then pushes, then reconciliation), then the unit's status is recorded. Between its steps a
//! worker also pushes the changes of jobs that found its unit held and asked it to.

use switchboard_backend::Backend;
use switchboard_domain::Account;
use switchboard_store::{now_ms, OpenOrder, Repository, StoreError, Stored, TenantSync};

use crate::{Deadline, Run, RunStatus, SyncConfig, SyncReport, TenantJob};

/// Errors kept on a tenant's status.
const STATUS_ERRORS: usize = 10;

/// A job this run holds the lease of.
pub(crate) struct JobState {
    pub(crate) job: TenantJob,
    pub(crate) accounts: Vec<Stored<Account>>,
    /// The tenant's status before this run.
    pub(crate) before: TenantSync,
    pub(crate) errors: Vec<String>,
    /// Errors of its reconciliation (they leave it to be retried in turn, not sooner).
    pub(crate) reconcile_errors: usize,
    /// Errors of the pushes and polls done between its steps (`between_steps`).
    pub(crate) step_errors: usize,
    pub(crate) pushed: bool,
    pub(crate) reconcile_tried: bool,
    pub(crate) reconciled: bool,
    /// Where its comparison of numbers got to, if it stopped before the end.
    pub(crate) reconcile_after: Option<String>,
    /// This run started a comparison cycle (from the first number).
    pub(crate) cycle_started: bool,
    /// Polls still owed to its tenant's open orders after a push, made between its steps a
    /// pause apart, and when they were last made (or the push sent).
    pub(crate) polls_owed: u32,
    pub(crate) polled_at: Option<std::time::Instant>,
}

/// A worker: does one job, unless another worker holds its unit (then it is `skipped`: that
/// worker is doing it, and is asked to push the job's changes). A store error fails the job, to
/// be retried; its lease is given back. Its report is kept with the planners' (`GET /syncRuns`)
/// unless it was skipped.
pub async fn work_job(
    repo: &Repository,
    backend: &dyn Backend,
    deadline: Deadline,
    cfg: &SyncConfig,
    job: TenantJob,
) -> Result<SyncReport, StoreError> {
    let mut run = Run::new(repo, backend, cfg, deadline);
    let unit = job.unit.clone();
    run.unit = Some(unit.clone());
    run.work(vec![job]).await?;
    // Not taken: `take` says why.
    let status = if run.jobs.is_empty() { RunStatus::Skipped } else { run.status() };
    let report = run.report(status);
    if report.status != RunStatus::Skipped {
        repo.put_sync_run(report.started_ms, &report.id, &report, cfg.report_ttl_days).await?;
    }
    tracing::info!(run = %report.id, %unit, status = ?report.status, errors = report.errors.len(), "sync job done");
    Ok(report)
}

impl Run<'_> {
    /// Works the jobs whose lease it gets, phase by phase across them, so that in one run every
    /// tenant's polls come before any tenant's reconciliation. Every lease it took is given
    /// back, whatever fails.
    pub(crate) async fn work(&mut self, jobs: Vec<TenantJob>) -> Result<(), StoreError> {
        let mut outcome = self.take(jobs).await;
        if outcome.is_ok() {
            outcome = self.phases().await;
        }
        self.current = None;
        for i in 0..self.jobs.len() {
            if outcome.is_ok() {
                outcome = self.record_status(i).await;
            }
            let unit = self.jobs[i].job.unit.clone();
            let released = self.repo.release_work_lease(&unit, &self.id).await;
            outcome = outcome.and(released);
        }
        outcome
    }

    /// Takes the lease of each job it can, and reads what it needs to work it.
    async fn take(&mut self, jobs: Vec<TenantJob>) -> Result<(), StoreError> {
        for mut job in jobs {
            if !self.lease_or_hand_over(&job).await? {
                continue;
            }
            // From here on the lease is released by `work`, even if this fails.
            self.jobs.push(JobState {
                job: job.clone(),
                accounts: vec![],
                before: TenantSync::default(),
                errors: vec![],
                reconcile_errors: 0,
                step_errors: 0,
                pushed: false,
                reconcile_tried: false,
                reconciled: false,
                reconcile_after: None,
                cycle_started: false,
                polls_owed: 0,
                polled_at: None,
            });
            let accounts = self.unit_accounts(&job.unit, &job.accounts).await?;
            let before = match &job.tenant_id {
                Some(t) => self.repo.tenant_sync(t).await?.unwrap_or_default(),
                None => TenantSync::default(),
            };
            // A job delivered late (SQS retried it) may carry a consent that has changed since:
            // it then concludes nothing from it, and a reconciliation done since its plan is
            // not done again.
            job.forget_old_consent(self.cfg.schedule);
            if before.last_reconciled_ms.is_some_and(|ms| ms >= job.planned_ms) {
                job.reconcile = false;
            }
            if let Some(state) = self.jobs.last_mut() {
                state.job = job;
                state.accounts = accounts;
                state.reconcile_after = before.reconcile_after.clone();
                state.before = before;
            }
        }
        Ok(())
    }

    /// The accounts named that are still the unit's (one moved to another tenant since the plan
    /// is that tenant's now; a deleted one is gone).
    async fn unit_accounts(&self, unit: &str, names: &[String]) -> Result<Vec<Stored<Account>>, StoreError> {
        let mut accounts = Vec::new();
        for name in names {
            match self.repo.get_account(name).await {
                Ok(a) if crate::plan::unit_of(&a.value) == unit => accounts.push(a),
                Ok(_) | Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(accounts)
    }

    /// Takes the job's lease. If another worker holds it (a long reconciliation, most often), a
    /// job with changes to push asks that worker to push them at its next step (`between_steps`)
    /// rather than leave them to the next plan; if that worker let go meanwhile, it tries again.
    async fn lease_or_hand_over(&mut self, job: &TenantJob) -> Result<bool, StoreError> {
        for _ in 0..3 {
            if self.repo.acquire_work_lease(&job.unit, &self.id, self.cfg.lease.as_secs()).await? {
                return Ok(true);
            }
            if !job.push {
                break;
            }
            if self.repo.ask_holder_to_push(&job.unit, &self.id, &job.accounts).await? {
                self.errors.push(format!("another worker holds {}; it was asked to push", job.unit));
                return Ok(false);
            }
        }
        self.errors.push(format!("another worker holds {}", job.unit));
        Ok(false)
    }

    /// Between two steps of a long reconciliation, and at the end of every job: pushes the
    /// changes another job asked for (it found this tenant held), with the accounts read again,
    /// then polls the tenant's orders a few times, so that a change made meanwhile waits neither
    /// for the reconciliation's end nor for the next plan. Polls come at these steps only, never
    /// between reading a page and comparing it. Its errors are the job's, not its
    /// reconciliation's (`step_errors`).
    pub(crate) async fn between_steps(&mut self, job: usize) -> Result<(), StoreError> {
        let errors_before = self.jobs[job].errors.len();
        let outcome = self.answer_push_request(job).await;
        let state = &mut self.jobs[job];
        state.step_errors += state.errors.len() - errors_before;
        outcome
    }

    async fn answer_push_request(&mut self, job: usize) -> Result<(), StoreError> {
        let unit = self.jobs[job].job.unit.clone();
        if let Some(asked_for) = self.repo.take_push_request(&unit, &self.id).await? {
            let mut names = self.jobs[job].job.accounts.clone();
            names.extend(asked_for.into_iter().filter(|a| !self.jobs[job].job.accounts.contains(a)));
            let accounts = self.unit_accounts(&unit, &names).await?;
            let state = &mut self.jobs[job];
            state.job.accounts = names;
            state.accounts = accounts;
            state.job.forget_old_consent(self.cfg.schedule);
            self.push_numbers(job).await?;
            if !self.out_of_time() {
                self.push_releases(job).await?;
            }
            self.owe_polls(job);
        }
        let state = &self.jobs[job];
        let owed = state.polls_owed > 0 && state.polled_at.is_none_or(|at| at.elapsed() >= self.cfg.poll_pause);
        let tenant = state.job.tenant_id.clone();
        if !owed || self.out_of_time() {
            return Ok(());
        }
        let (mine, others): (Vec<OpenOrder>, Vec<OpenOrder>) =
            std::mem::take(&mut self.open).into_iter().partition(|o| Some(&o.tenant_id) == tenant.as_ref());
        self.open = others;
        if !mine.is_empty() {
            let state = &mut self.jobs[job];
            state.polls_owed -= 1;
            state.polled_at = Some(std::time::Instant::now());
        }
        let still_open = self.poll_orders(mine).await?;
        self.open.extend(still_open);
        Ok(())
    }

    /// After a push, the job's tenant's orders are polled at its next steps, a pause apart, so
    /// that a change lands while a long reconciliation goes on rather than after it (or with the
    /// next plan, if the reconciliation runs out of time).
    fn owe_polls(&mut self, job: usize) {
        let state = &mut self.jobs[job];
        state.polls_owed = self.cfg.poll_rounds;
        state.polled_at = Some(std::time::Instant::now());
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
                if self.jobs[i].pushed {
                    self.owe_polls(i);
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
        for round in 0..=self.cfg.poll_rounds {
            // A push asked for since its last step (asked of any job: it holds the lease).
            for i in 0..self.jobs.len() {
                if !self.out_of_time() {
                    self.current = Some(i);
                    self.between_steps(i).await?;
                }
            }
            self.current = None;
            if round == self.cfg.poll_rounds || self.open.is_empty() || self.out_of_time() {
                break;
            }
            tokio::time::sleep(self.cfg.poll_pause).await;
            let orders = std::mem::take(&mut self.open);
            self.open = self.poll_orders(orders).await?;
        }
        self.results.orders_open = self.open.len();
        Ok(())
    }

    /// The tenant's status. A reconciliation cycle may span runs: it counts from when it started
    /// (so what changed meanwhile behind its cursor is not taken as compared), and clears the
    /// request to reconcile soon only if that came before it started. Pushes and errors other
    /// than its own ask for one soon; a failed one waits its turn again from now; one that only
    /// ran out of time keeps its place.
    async fn record_status(&mut self, i: usize) -> Result<(), StoreError> {
        let state = &self.jobs[i];
        let Some(tenant) = state.job.tenant_id.clone() else { return Ok(()) };
        let before = &state.before;
        let failed = !state.errors.is_empty();
        let other_errors = state.errors.len() > state.reconcile_errors;
        let now = now_ms();
        let cycle_started_ms =
            if state.cycle_started { Some(self.started_ms) } else { before.cycle_started_ms.or(Some(self.started_ms)) };
        let asked_before_cycle = before.soon_since_ms.zip(cycle_started_ms).is_some_and(|(soon, cycle)| soon < cycle);
        let still_soon = before.reconcile_soon && !(state.reconciled && asked_before_cycle);
        let soon = state.pushed || other_errors || still_soon;
        let status = TenantSync {
            tenant_id: tenant,
            last_run_ms: Some(now),
            last_status: Some(if failed || self.stopped_early { "partial" } else { "succeeded" }.into()),
            last_reconciled_ms: if state.reconciled { cycle_started_ms } else { before.last_reconciled_ms },
            last_reconcile_attempt_ms: if state.reconcile_errors > 0 {
                Some(now)
            } else {
                before.last_reconcile_attempt_ms
            },
            cycle_started_ms: if state.reconcile_after.is_some() { cycle_started_ms } else { None },
            reconcile_after: state.reconcile_after.clone(),
            reconcile_soon: soon,
            soon_since_ms: if !soon {
                None
            } else if still_soon {
                before.soon_since_ms.or(Some(now))
            } else {
                Some(now)
            },
            last_errors: state.errors.iter().take(STATUS_ERRORS).cloned().collect(),
        };
        self.repo.put_tenant_sync(&status).await
    }
}
