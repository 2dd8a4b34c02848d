//! The plan: the estate's work split into one job per tenant, so that workers can do it side by
//! side, one big tenant never holds up the others, and each worker's lease is its tenant's.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use switchboard_backend::Consent;
use switchboard_domain::rfi::ConsentStatus;
use switchboard_domain::Account;
use switchboard_store::{now_ms, StoreError, Stored, TenantSync};

use crate::report::Planned;
use crate::{Run, MAX_PER_ORDER};

/// Units with queued work looked at per plan: the rest wait for the next plan.
const MAX_UNITS: usize = 10_000;

/// A worker's job: one tenant (or one account without a tenant), what it has to do, and what
/// the planner saw of its consent. It is the queue's message body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantJob {
    /// What the job's lease is on: the tenant, or `account:<name>` for an account without one.
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The unit's accounts.
    pub accounts: Vec<String>,
    /// It has open backend orders to poll.
    #[serde(default)]
    pub poll: bool,
    /// It has pending numbers or releases to send.
    #[serde(default)]
    pub push: bool,
    /// Compare it with the backend (due, or brought forward).
    #[serde(default)]
    pub reconcile: bool,
    pub consent: ConsentSeen,
    /// When it was planned (a job SQS delivers late is read with that in mind; one without it,
    /// from before it was recorded, reads as late).
    #[serde(default)]
    pub planned_ms: u64,
}

/// The tenant's consent as the planner's pull saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConsentSeen {
    /// The pull failed: nothing may be concluded from it.
    Unknown,
    /// A complete pull had no consent from this tenant.
    Absent,
    Given(ConsentStatus),
}

impl TenantJob {
    /// A job for a tenant that no account here names any more (its orders and releases still go).
    fn bare(tenant: &str) -> TenantJob {
        TenantJob {
            unit: tenant.into(),
            tenant_id: Some(tenant.into()),
            accounts: vec![],
            poll: false,
            push: false,
            reconcile: false,
            consent: ConsentSeen::Unknown,
            planned_ms: now_ms(),
        }
    }

    fn has_work(&self) -> bool {
        self.poll || self.push || self.reconcile
    }

    /// A consent seen longer than a schedule interval ago is taken as unknown: the job may have
    /// been delivered late (SQS retried it), and the consent changed since.
    pub(crate) fn forget_old_consent(&mut self, schedule: std::time::Duration) {
        if now_ms().saturating_sub(self.planned_ms) > schedule.as_millis() as u64 {
            self.consent = ConsentSeen::Unknown;
        }
    }
}

impl ConsentSeen {
    /// What a pull (`None`: none this plan) says of a tenant's consent.
    pub(crate) fn of(consents: Option<&BTreeMap<String, Consent>>, tenant: Option<&str>) -> ConsentSeen {
        match (consents, tenant) {
            (None, _) => ConsentSeen::Unknown,
            (Some(c), Some(t)) => c.get(t).map_or(ConsentSeen::Absent, |c| ConsentSeen::Given(c.status)),
            (Some(_), None) => ConsentSeen::Absent,
        }
    }

    /// What the steps take: `None` when nothing is known.
    pub(crate) fn status(self) -> Option<Option<ConsentStatus>> {
        match self {
            ConsentSeen::Unknown => None,
            ConsentSeen::Absent => Some(None),
            ConsentSeen::Given(s) => Some(Some(s)),
        }
    }
}

pub(crate) fn unit_of(account: &Account) -> String {
    account.service_details.teams_tenant_id.clone().unwrap_or_else(|| format!("account:{}", account.name))
}

/// The numbers the backend holds (or will) for these accounts, from their counters.
fn synced_numbers(accounts: &[&Account]) -> u64 {
    let numbers: i64 = accounts
        .iter()
        .map(|a| {
            let sd = &a.service_details;
            let count =
                |s: Option<&switchboard_domain::account::SyncedService>| s.and_then(|s| s.number_count).unwrap_or(0);
            count(sd.teams_operator_connect.as_ref()) + count(sd.teams_phone_mobile.as_ref())
        })
        .sum();
    numbers.max(0) as u64
}

/// Upstream calls one reconciliation of a tenant takes: its civic addresses and its numbers,
/// a page of 100 at a time.
fn reconcile_calls(accounts: &[&Account]) -> u64 {
    1 + synced_numbers(accounts).max(1).div_ceil(MAX_PER_ORDER as u64)
}

/// Upstream calls a job is expected to make: a poll per open order (one, unknown how many), an
/// upload and its poll per 100 numbers of a push (as many as a run takes, at most; a tenant
/// with one change costs 2), and its reconciliation, up to a run's budget.
fn job_calls(job: &TenantJob, accounts: &[&Account], max_numbers: usize, cap: u64) -> u64 {
    let poll = u64::from(job.poll);
    let push = if job.push {
        2 * synced_numbers(accounts).clamp(1, max_numbers.max(1) as u64).div_ceil(MAX_PER_ORDER as u64)
    } else {
        0
    };
    let reconcile = if job.reconcile { reconcile_calls(accounts).min(cap) } else { 0 };
    poll + push + reconcile
}

impl Run<'_> {
    /// One job per unit with work: open orders, pending numbers or releases, or a
    /// reconciliation that is due. Reconciliation goes to the tenants that
    /// have waited longest (first a tenant with pushes or errors since its last one, or whose
    /// consent just changed), as many as
    /// spread the estate over `reconcile_interval`, and more while any is overdue, up to what the
    /// budget can pay for in one schedule interval.
    pub(crate) async fn plan(
        &mut self,
        accounts: &[Stored<Account>],
        consents: Option<&BTreeMap<String, Consent>>,
    ) -> Result<Vec<TenantJob>, StoreError> {
        let by_name: HashMap<&str, &Account> = accounts.iter().map(|a| (a.value.name.as_str(), &a.value)).collect();
        let mut jobs: BTreeMap<String, TenantJob> = BTreeMap::new();
        for a in accounts {
            let unit = unit_of(&a.value);
            let job = jobs.entry(unit.clone()).or_insert_with(|| TenantJob {
                unit,
                tenant_id: a.value.service_details.teams_tenant_id.clone(),
                accounts: vec![],
                poll: false,
                push: false,
                reconcile: false,
                consent: ConsentSeen::of(consents, a.value.service_details.teams_tenant_id.as_deref()),
                planned_ms: now_ms(),
            });
            job.accounts.push(a.value.name.clone());
        }
        let mut planned = Planned::default();
        self.repo.refile_orders().await?;
        for tenant in self.repo.tenants_with_open_orders(MAX_UNITS).await? {
            // An order whose account is gone is still polled, so its numbers settle.
            jobs.entry(tenant.clone()).or_insert_with(|| TenantJob::bare(&tenant)).poll = true;
        }
        // As many accounts with pending numbers as this plan can send, from where the last plan
        // stopped (at 5,000 tenants, reading them all took a plan longer than its interval).
        let push_units = (self.schedule_budget() / 2).clamp(1, MAX_UNITS as u64) as usize;
        let pushing = self.repo.accounts_with_pending_numbers(self.state.push_after.as_deref(), push_units).await?;
        // An account bigger than one run's push goes ahead of the rotation in every plan while
        // it has pending numbers: 200,000 numbers take 20 runs, which one turn a rotation
        // (about 20 plans at 5,000 tenants) would spread over days.
        let most = self.cfg.max_numbers_per_run.max(1) as u64;
        let mut ahead = Vec::new();
        for a in accounts.iter().filter(|a| synced_numbers(&[&a.value]) > most) {
            let name = &a.value.name;
            if !pushing.contains(name) && !self.repo.pending_numbers_of(name, 1).await?.is_empty() {
                ahead.push(name.clone());
            }
        }
        let push_order: HashMap<String, usize> =
            ahead.iter().chain(&pushing).enumerate().map(|(i, a)| (a.clone(), i)).collect();
        for name in ahead.iter().chain(&pushing) {
            if let Some(job) = by_name.get(name.as_str()).and_then(|a| jobs.get_mut(&unit_of(a))) {
                job.push = true;
            }
        }
        for tenant in self.repo.tenants_with_releases(MAX_UNITS).await? {
            jobs.entry(tenant.clone()).or_insert_with(|| TenantJob::bare(&tenant)).push = true;
        }
        let status: HashMap<String, TenantSync> =
            self.repo.all_tenant_syncs().await?.into_iter().map(|s| (s.tenant_id.clone(), s)).collect();
        let rank = self.plan_reconciliation(&mut jobs, &by_name, &status, &mut planned);
        let mut jobs: Vec<TenantJob> = jobs.into_values().filter(TenantJob::has_work).collect();
        planned.held_back = self.within_budget(&mut jobs, &by_name, &status, &push_order);
        // The next plan looks for pending numbers past the last account this one sends.
        let last_sent = jobs
            .iter()
            .filter(|j| j.push)
            .flat_map(|j| &j.accounts)
            .filter_map(|a| push_order.get(a).filter(|&&i| i >= ahead.len()).map(|i| (i, a)))
            .max();
        match last_sent {
            Some((_, account)) => self.state.push_after = Some(switchboard_store::pending_cursor_past(account)),
            None if pushing.is_empty() => self.state.push_after = None,
            None => {}
        }
        // Jobs with changes first, so that on the queue they do not wait behind reconciliations
        // that take a worker for a whole run (a standard SQS queue keeps this order only roughly,
        // which is enough: it is about minutes, not places); then the reconciliations in the
        // order chosen, longest waiting first.
        jobs.sort_by_key(|j| {
            let rank = j.tenant_id.as_ref().and_then(|t| rank.get(t)).copied().unwrap_or(usize::MAX);
            (!(j.poll || j.push), rank)
        });
        planned.jobs = jobs.len();
        planned.with_orders = jobs.iter().filter(|j| j.poll).count();
        planned.with_pushes = jobs.iter().filter(|j| j.push).count();
        planned.reconciling = jobs.iter().filter(|j| j.reconcile).count();
        self.planned = Some(planned);
        Ok(jobs)
    }

    /// The budget one schedule interval holds.
    fn schedule_budget(&self) -> u64 {
        let rate = u64::from(self.cfg.budget_per_minute.max(1));
        let schedule_ms = self.cfg.schedule.as_millis().max(1) as u64;
        let minute_ms = (self.cfg.budget_minute.as_millis() as u64).max(1);
        rate * schedule_ms.div_ceil(minute_ms)
    }

    /// Keeps the jobs that the budget of one schedule interval can pay for; the rest wait for
    /// the next plan (sent now, they would only queue behind these, be sent again, and reach a
    /// worker late). As the budget is spent: polls always go, then pushes in the order they
    /// were found (`push_order`; once one waits, the rest do, so the next plan goes on from
    /// there), then reconciliations, the units worked least recently first. Returns how many
    /// wait.
    fn within_budget(
        &self,
        jobs: &mut Vec<TenantJob>,
        by_name: &HashMap<&str, &Account>,
        status: &HashMap<String, TenantSync>,
        push_order: &HashMap<String, usize>,
    ) -> usize {
        let cap = self.schedule_budget();
        let last_run = |j: &TenantJob| j.tenant_id.as_ref().and_then(|t| status.get(t)).and_then(|s| s.last_run_ms);
        let found = |j: &TenantJob| j.accounts.iter().filter_map(|a| push_order.get(a).copied()).min();
        jobs.sort_by_key(|j| (!j.poll, !j.push, found(j).unwrap_or(usize::MAX), last_run(j).unwrap_or(0)));
        let before = jobs.len();
        let (mut spent, mut pushes_wait) = (0, false);
        jobs.retain(|j| {
            let accounts: Vec<&Account> = j.accounts.iter().filter_map(|a| by_name.get(a.as_str()).copied()).collect();
            let calls = job_calls(j, &accounts, self.cfg.max_numbers_per_run, cap);
            let fits = spent == 0 || spent + calls <= cap;
            let keep = j.poll || (fits && !(j.push && pushes_wait));
            if keep {
                spent += calls;
            } else if j.push {
                pushes_wait = true;
            }
            keep
        });
        before - jobs.len()
    }

    fn plan_reconciliation(
        &mut self,
        jobs: &mut BTreeMap<String, TenantJob>,
        by_name: &HashMap<&str, &Account>,
        status: &HashMap<String, TenantSync>,
        planned: &mut Planned,
    ) -> HashMap<String, usize> {
        // A consent that changed in this run's pull brings its tenant's reconciliation forward.
        let consent_changed: HashSet<&str> = self.drift.iter().map(|d| d.tenant_id.as_str()).collect();
        // Syncing tenants, with what one reconciliation of each costs, and whether it waits: a
        // tenant never compared yet whose own numbers are still going up (its first load)
        // is compared when they are there, not against a list half filled.
        let mut tenants: Vec<(bool, u64, u64, String, u64, bool)> = Vec::new();
        for job in jobs.values() {
            let Some(tenant) = &job.tenant_id else { continue };
            let accounts: Vec<&Account> =
                job.accounts.iter().filter_map(|a| by_name.get(a.as_str()).copied()).collect();
            if !accounts.iter().any(|a| a.service_details.syncs()) {
                continue;
            }
            let s = status.get(tenant);
            let soon = s.is_some_and(|s| s.reconcile_soon) || consent_changed.contains(tenant.as_str());
            let last = s.and_then(|s| s.last_reconciled_ms).unwrap_or(0);
            // A tenant whose last try failed goes behind those not tried since.
            let turn = last.max(s.and_then(|s| s.last_reconcile_attempt_ms).unwrap_or(0));
            let waits = last == 0 && (job.push || job.poll) && !consent_changed.contains(tenant.as_str());
            tenants.push((!soon, turn, last, tenant.clone(), reconcile_calls(&accounts), waits));
        }
        tenants.sort();
        planned.tenants_syncing = tenants.len();
        planned.never_reconciled = tenants.iter().filter(|t| t.2 == 0).count();
        planned.oldest_reconciled_ms = tenants.iter().map(|t| t.2).filter(|&ms| ms > 0).min();
        planned.full_cycle_calls = tenants.iter().map(|t| t.4).sum();
        let rate = u64::from(self.cfg.budget_per_minute.max(1));
        planned.full_cycle_minutes = planned.full_cycle_calls as f64 / rate as f64;
        let cap = self.schedule_budget();
        let schedule_ms = self.cfg.schedule.as_millis().max(1) as u64;
        let interval_ms = (self.cfg.reconcile_interval.as_millis() as u64).max(schedule_ms);
        // The share of the estate one plan takes to spread it over the interval (rounded down: a
        // small estate is reconciled as tenants fall due).
        let quota = (tenants.len() as u64 * schedule_ms / interval_ms) as usize;
        let overdue_before = now_ms().saturating_sub(interval_ms);
        let mut spent = 0;
        let mut rank = HashMap::new();
        for (i, (not_soon, _, last, tenant, calls, waits)) in tenants.into_iter().enumerate() {
            if waits || !(!not_soon || last < overdue_before || i < quota) {
                continue;
            }
            // A reconciliation spends at most one run's budget (it carries on in the next).
            let calls = calls.min(cap);
            if spent > 0 && spent + calls > cap {
                continue;
            }
            spent += calls;
            if let Some(job) = jobs.get_mut(&tenant) {
                job.reconcile = true;
            }
            rank.insert(tenant, i);
        }
        rank
    }
}
