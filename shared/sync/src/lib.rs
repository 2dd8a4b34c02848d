//! One sync run against the backend service. It is idempotent (every result lands only on the
//! version of an item it was computed from) and safe next to itself (a lease), stops before its
//! deadline and carries on next run (all its state is in the table), never treats a failed or
//! partial pull as a deletion, and writes a report.
//!
//! Order of work: pull consents → push relationship changes → per syncing account: its status,
//! civic addresses and numbers as the backend sees them (drift) → poll open orders → upload
//! pending numbers and send releases (≤100 per order) → poll the new orders a few times → report.

pub mod report;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use switchboard_backend::{
    Backend, BackendError, Consent, NumberResultStatus, Order, OrderKind, RelationshipUpdate, TeamsService,
    UploadNumber,
};
use switchboard_domain::number::AssignmentStatus;
use switchboard_domain::rfi::{ConsentStatus, RelationshipStatus, RequestForInformation};
use switchboard_domain::{Account, ErrorDetail, Number, ProvisioningStatus, Service};
use switchboard_store::{now_ms, Mirror, NumberResult, OpenOrder, OrderedNumber, Repository, StoreError, Stored};

pub use report::{Drift, DriftKind, RunStatus, SyncReport};
use report::{Pulled, Pushed, Results};

/// The backend's batch limit.
pub const MAX_PER_ORDER: usize = 100;

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

    fn nearly_out(&self, margin: Duration) -> bool {
        self.0.is_some_and(|d| Instant::now() + margin >= d)
    }
}

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

/// The Teams services of a number that its account sends to the backend.
fn synced_teams_services(account: &Account, n: &Number) -> Vec<Service> {
    n.service_details.enabled().into_iter().filter(|s| account.service_details.syncs_service(*s)).collect()
}

fn upload_for(n: &Number, service: Service) -> UploadNumber {
    let svc = match service {
        Service::TeamsPhoneMobile => n.service_details.teams_phone_mobile.as_ref(),
        _ => n.service_details.teams_operator_connect.as_ref(),
    };
    let cfg = svc.and_then(|s| s.configuration.clone()).unwrap_or_default();
    let name = |v: &serde_json::Value| v.as_str().map(str::to_string);
    UploadNumber {
        telephone_number: n.telephone_number.clone(),
        service: if service == Service::TeamsPhoneMobile {
            TeamsService::TeamsPhoneMobile
        } else {
            TeamsService::OperatorConnect
        },
        usage: cfg.usage.and_then(|u| name(&serde_json::to_value(u).unwrap_or_default())),
        additional_usages: cfg
            .additional_usages
            .iter()
            .filter_map(|u| name(&serde_json::to_value(u).unwrap_or_default()))
            .collect(),
        choosable_capabilities: cfg
            .choosable_capabilities
            .iter()
            .filter_map(|c| name(&serde_json::to_value(c).unwrap_or_default()))
            .collect(),
        civic_address_id: cfg.civic_address_id,
        location_id: cfg.location_id,
        allow_tenant_address_update: cfg.allow_tenant_address_update.unwrap_or(false),
        displayed_country_code: cfg.displayed_country_code,
    }
}

fn parse_assignment(s: Option<&str>) -> Option<AssignmentStatus> {
    match s {
        Some("assigned") => Some(AssignmentStatus::Assigned),
        Some("unassigned") => Some(AssignmentStatus::Unassigned),
        _ => None,
    }
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
        upstream: switchboard_backend::CallStats {
            calls: after.calls - calls_before.calls,
            retries: after.retries - calls_before.retries,
        },
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

    async fn steps(&mut self) -> Result<(), StoreError> {
        self.repo.recover_imports(switchboard_store::IMPORT_LEASE).await?;
        let accounts = self.repo.all_accounts().await?;
        let by_tenant: HashMap<String, &Stored<Account>> =
            accounts.iter().filter_map(|a| a.value.service_details.teams_tenant_id.clone().map(|t| (t, a))).collect();
        let consents = self.pull_consents(&by_tenant).await?;
        if self.out_of_time() {
            return Ok(());
        }
        self.push_relationships().await?;
        for account in &accounts {
            if self.out_of_time() {
                return Ok(());
            }
            self.reconcile_account(account, consents.as_ref()).await?;
        }
        let open = self.poll_orders().await?;
        if !self.out_of_time() {
            self.push_numbers(&accounts, consents.as_ref(), &open).await?;
        }
        if !self.out_of_time() {
            self.push_releases(&open).await?;
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

    /// Consents → requests for information. `None` when the pull failed: nothing may then be
    /// concluded from a consent's absence.
    async fn pull_consents(
        &mut self,
        by_tenant: &HashMap<String, &Stored<Account>>,
    ) -> Result<Option<BTreeMap<String, Consent>>, StoreError> {
        let consents = match self.backend.list_consents().await {
            Ok(c) => c,
            Err(e) => {
                self.backend_error("pulling consents", &e);
                return Ok(None);
            }
        };
        self.pulled.consents = consents.len();
        let mut seen = HashSet::new();
        for c in &consents {
            seen.insert(c.tenant_id.clone());
            let existing = match self.repo.get_rfi(&c.tenant_id).await {
                Ok(s) => Some(s),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            let mut rfi = existing.as_ref().map(|s| s.value.clone()).unwrap_or_else(|| RequestForInformation {
                tenant_id: c.tenant_id.clone(),
                id: None,
                account_name: None,
                product_context: None,
                operator_id: None,
                status: None,
                consented_on: None,
                last_modified_on: None,
                consented_countries: vec![],
                contacts: vec![],
                customer_relationship: Default::default(),
                service_provisioning_status: None,
                service_provisioning_errors: vec![],
            });
            let before = rfi.clone();
            let new_status = c.status;
            if let Some(old) = before.status.filter(|_| existing.is_some()) {
                let kind = match (old, new_status) {
                    (ConsentStatus::Active, ConsentStatus::Suspended) => Some(DriftKind::ConsentSuspended),
                    (_, ConsentStatus::Removed) if old != ConsentStatus::Removed => Some(DriftKind::ConsentRemoved),
                    (ConsentStatus::Suspended | ConsentStatus::Removed, ConsentStatus::Active) => {
                        Some(DriftKind::ConsentReactivated)
                    }
                    _ => None,
                };
                if let Some(kind) = kind {
                    self.drift.push(Drift {
                        kind,
                        tenant_id: c.tenant_id.clone(),
                        account_name: rfi.account_name.clone(),
                        telephone_number: None,
                        civic_address_id: None,
                        detail: format!("consent went from {old:?} to {new_status:?}"),
                    });
                }
            }
            rfi.id = Some(c.id.clone());
            rfi.product_context = Some("teams".into());
            rfi.status = Some(new_status);
            rfi.consented_on = c.consented_on.clone();
            rfi.last_modified_on = c.last_modified_on.clone();
            rfi.consented_countries = c.consented_countries.clone();
            rfi.contacts = c.contacts.clone();
            if rfi.account_name.is_none() {
                rfi.account_name = by_tenant.get(&c.tenant_id).map(|a| a.value.name.clone());
            }
            // A relationship change of ours still waiting to go wins over the backend's copy.
            if rfi.service_provisioning_status != Some(ProvisioningStatus::Pending) {
                let up = &c.customer_relationship;
                rfi.customer_relationship.status = up.status.as_deref().and_then(RelationshipStatus::parse);
                rfi.customer_relationship.comment = up.comment.clone();
                rfi.customer_relationship.last_modified_on = up.last_modified_on.clone();
                rfi.service_provisioning_status = Some(ProvisioningStatus::Synced);
                rfi.service_provisioning_errors.clear();
            }
            if existing.is_none() || rfi != before {
                // Changed meanwhile by the API: its change is pending and goes next run.
                let _ = self.repo.put_rfi_if(&rfi, existing.as_ref(), "sync.consent").await?;
            }
        }
        let all: BTreeMap<String, Consent> = consents.into_iter().map(|c| (c.tenant_id.clone(), c)).collect();
        // Only a complete pull may say a consent is gone, and even then it is reported, not deleted.
        let mut start = None;
        loop {
            let page = self
                .repo
                .list_rfis(&switchboard_store::PageRequest { page_size: 500, start, ..Default::default() })
                .await?;
            for r in &page.items {
                if !seen.contains(&r.value.tenant_id) && r.value.status != Some(ConsentStatus::Removed) {
                    self.drift.push(Drift {
                        kind: DriftKind::ConsentMissing,
                        tenant_id: r.value.tenant_id.clone(),
                        account_name: r.value.account_name.clone(),
                        telephone_number: None,
                        civic_address_id: None,
                        detail: "the backend no longer lists this consent".into(),
                    });
                }
            }
            match page.next {
                Some(n) => start = Some(n),
                None => break,
            }
        }
        Ok(Some(all))
    }

    async fn push_relationships(&mut self) -> Result<(), StoreError> {
        for tenant in self.repo.pending_rfis(100).await? {
            if self.out_of_time() {
                return Ok(());
            }
            let stored = match self.repo.get_rfi(&tenant).await {
                Ok(s) => s,
                Err(StoreError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            let mut rfi = stored.value.clone();
            let rel = &rfi.customer_relationship;
            let outcome = match rel.status {
                None => Ok(()),
                Some(st) => {
                    let update = RelationshipUpdate { status: st.as_str().into(), comment: rel.comment.clone() };
                    self.pushed.relationships += 1;
                    self.backend.set_relationship(&tenant, &update).await.map(|_| ())
                }
            };
            match outcome {
                Ok(()) => {
                    rfi.service_provisioning_status = Some(ProvisioningStatus::Synced);
                    rfi.service_provisioning_errors.clear();
                }
                Err(BackendError::Status { code, message, .. }) => {
                    rfi.service_provisioning_status = Some(ProvisioningStatus::Failed);
                    rfi.service_provisioning_errors = vec![err_detail(&code, message)];
                }
                Err(e) => {
                    self.backend_error(&format!("relationship of {tenant}"), &e);
                    continue;
                }
            }
            let _ = self.repo.put_rfi_if(&rfi, Some(&stored), "sync.relationship").await?;
        }
        Ok(())
    }

    /// One syncing account: its own status from its consent, then addresses and numbers as the
    /// backend sees them.
    async fn reconcile_account(
        &mut self,
        stored: &Stored<Account>,
        consents: Option<&BTreeMap<String, Consent>>,
    ) -> Result<(), StoreError> {
        let account = &stored.value;
        let sd = &account.service_details;
        if !sd.syncs() {
            // Nothing of this account goes to the backend (any more): it is not pending.
            if account.service_provisioning_status == Some(ProvisioningStatus::Pending) {
                self.repo.set_account_sync(&account.name, &stored.etag, None, &[]).await?;
            }
            return Ok(());
        }
        let Some(tenant) = sd.teams_tenant_id.clone() else {
            let errs = [err_detail("NoTeamsTenant", "the account syncs Teams services but has no teamsTenantId")];
            self.set_account(stored, ProvisioningStatus::Failed, &errs).await?;
            return Ok(());
        };
        if let Some(consents) = consents {
            let (status, errs) = match consents.get(&tenant).map(|c| c.status) {
                Some(ConsentStatus::Active) => (ProvisioningStatus::Synced, vec![]),
                Some(ConsentStatus::Suspended) => (
                    ProvisioningStatus::Failed,
                    vec![err_detail("ConsentSuspended", "the enterprise suspended its consent")],
                ),
                Some(ConsentStatus::Removed) => (
                    ProvisioningStatus::Failed,
                    vec![err_detail("ConsentRemoved", "the enterprise removed its consent")],
                ),
                None => (
                    ProvisioningStatus::Failed,
                    vec![err_detail("ConsentNotFound", format!("tenant {tenant} has given no consent"))],
                ),
            };
            self.set_account(stored, status, &errs).await?;
        }
        match self.backend.list_civic_addresses(&tenant).await {
            Ok(addresses) => {
                self.pulled.civic_addresses += addresses.len();
                let changes = self.repo.replace_addresses(&tenant, &addresses).await?;
                for (kind, ids) in [
                    (DriftKind::CivicAddressChanged, changes.changed),
                    (DriftKind::CivicAddressRemoved, changes.removed),
                ] {
                    for id in ids {
                        self.drift.push(Drift {
                            kind,
                            tenant_id: tenant.clone(),
                            account_name: Some(account.name.clone()),
                            telephone_number: None,
                            civic_address_id: Some(id),
                            detail: "the enterprise changed its emergency addresses".into(),
                        });
                    }
                }
            }
            Err(e) => self.backend_error(&format!("civic addresses of {tenant}"), &e),
        }
        let upstream = match self.backend.list_tenant_numbers(&tenant).await {
            Ok(n) => n,
            Err(e) => {
                self.backend_error(&format!("numbers of {tenant}"), &e);
                return Ok(());
            }
        };
        self.pulled.tenant_numbers += upstream.len();
        let upstream: HashMap<&str, &switchboard_backend::TenantNumber> =
            upstream.iter().map(|n| (n.telephone_number.as_str(), n)).collect();
        let mut results = Vec::new();
        for n in self.repo.account_numbers(&account.name).await? {
            let num = &n.value;
            if num.service_provisioning_status != Some(ProvisioningStatus::Synced)
                || synced_teams_services(account, num).is_empty()
            {
                continue;
            }
            match upstream.get(num.telephone_number.as_str()) {
                None => {
                    self.drift.push(Drift {
                        kind: DriftKind::NumberReleased,
                        tenant_id: tenant.clone(),
                        account_name: Some(account.name.clone()),
                        telephone_number: Some(num.telephone_number.clone()),
                        civic_address_id: None,
                        detail: "the backend no longer has this number for the tenant (released in Teams Admin Center)"
                            .into(),
                    });
                    results.push(NumberResult {
                        telephone_number: num.telephone_number.clone(),
                        expected_etag: Some(n.etag.clone()),
                        status: Some(ProvisioningStatus::Failed),
                        errors: vec![err_detail(
                            "NumberReleasedByTenant",
                            "the enterprise released this number; upload it again or delete it",
                        )],
                        mirror: None,
                    });
                }
                Some(up) => {
                    let mirror = Mirror {
                        assignment_status: parse_assignment(up.assignment_status.as_deref()),
                        acquired_capabilities: up.acquired_capabilities.clone(),
                        available_capabilities: up.available_capabilities.clone(),
                    };
                    let teams = num
                        .service_details
                        .teams_operator_connect
                        .as_ref()
                        .or(num.service_details.teams_phone_mobile.as_ref());
                    let ours = teams.and_then(|t| t.assignment_status);
                    let cfg = teams.and_then(|t| t.configuration.as_ref());
                    let same = ours == mirror.assignment_status
                        && cfg.is_some_and(|c| {
                            c.acquired_capabilities == mirror.acquired_capabilities
                                && c.available_capabilities == mirror.available_capabilities
                        });
                    if same {
                        continue;
                    }
                    if ours.is_some() && ours != mirror.assignment_status {
                        self.drift.push(Drift {
                            kind: DriftKind::AssignmentChanged,
                            tenant_id: tenant.clone(),
                            account_name: Some(account.name.clone()),
                            telephone_number: Some(num.telephone_number.clone()),
                            civic_address_id: None,
                            detail: format!("assignment {ours:?} → {:?}", mirror.assignment_status),
                        });
                    }
                    results.push(NumberResult {
                        telephone_number: num.telephone_number.clone(),
                        expected_etag: Some(n.etag.clone()),
                        status: Some(ProvisioningStatus::Synced),
                        errors: vec![],
                        mirror: Some(mirror),
                    });
                }
            }
        }
        self.results.numbers_failed += results.iter().filter(|r| r.status == Some(ProvisioningStatus::Failed)).count();
        self.repo.apply_number_results(results).await?;
        Ok(())
    }

    async fn set_account(
        &mut self,
        stored: &Stored<Account>,
        status: ProvisioningStatus,
        errs: &[ErrorDetail],
    ) -> Result<(), StoreError> {
        let a = &stored.value;
        if a.service_provisioning_status == Some(status) && a.service_provisioning_errors == errs {
            return Ok(());
        }
        if self.repo.set_account_sync(&a.name, &stored.etag, Some(status), errs).await? {
            match status {
                ProvisioningStatus::Synced => self.results.accounts_synced += 1,
                _ => self.results.accounts_failed += 1,
            }
        }
        Ok(())
    }

    /// Polls every open order once and lands the finished ones. Returns the still-open orders.
    async fn poll_orders(&mut self) -> Result<Vec<OpenOrder>, StoreError> {
        let mut still_open = Vec::new();
        for open in self.repo.open_orders().await? {
            if self.out_of_time() {
                still_open.push(open);
                continue;
            }
            match self.backend.get_order(&open.id).await {
                Ok(order) if order.status.is_final() => self.land(&open, &order).await?,
                Ok(_) => still_open.push(open),
                Err(e) if e.is_not_found() => {
                    // The backend forgot it: its numbers are still pending (or tombstoned) and go again.
                    self.errors
                        .push(format!("order {} is unknown to the backend; its numbers will be sent again", open.id));
                    self.repo.close_order(&open.id).await?;
                }
                Err(e) => {
                    self.backend_error(&format!("order {}", open.id), &e);
                    still_open.push(open);
                }
            }
        }
        self.results.orders_open = still_open.len();
        Ok(still_open)
    }

    async fn land(&mut self, open: &OpenOrder, order: &Order) -> Result<(), StoreError> {
        let etags: HashMap<&str, &str> =
            open.numbers.iter().map(|n| (n.telephone_number.as_str(), n.etag.as_str())).collect();
        match order.kind {
            OrderKind::Upload => {
                let results: Vec<NumberResult> = order
                    .numbers
                    .iter()
                    .filter(|n| n.status != NumberResultStatus::Pending)
                    .map(|n| {
                        let ok = n.status == NumberResultStatus::Succeeded;
                        NumberResult {
                            telephone_number: n.telephone_number.clone(),
                            expected_etag: etags.get(n.telephone_number.as_str()).map(|e| e.to_string()),
                            status: Some(if ok { ProvisioningStatus::Synced } else { ProvisioningStatus::Failed }),
                            errors: n.error.iter().map(|e| err_detail(&e.code, e.message.clone())).collect(),
                            mirror: None,
                        }
                    })
                    .collect();
                let synced = results.iter().filter(|r| r.status == Some(ProvisioningStatus::Synced)).count();
                self.results.numbers_synced += synced;
                self.results.numbers_failed += results.len() - synced;
                self.repo.apply_number_results(results).await?;
            }
            OrderKind::Release => {
                let releases = self.repo.pending_releases().await?;
                for n in &order.numbers {
                    if n.status == NumberResultStatus::Failed {
                        let e = n.error.as_ref().map(|e| format!("{}: {}", e.code, e.message)).unwrap_or_default();
                        self.errors.push(format!("release of {} failed: {e}", n.telephone_number));
                    }
                    if let Some(r) = releases
                        .iter()
                        .find(|r| r.telephone_number == n.telephone_number && r.tenant_id == order.tenant_id)
                    {
                        self.repo.release_sent(r).await?;
                    }
                }
            }
        }
        self.results.orders_completed += 1;
        self.repo.close_order(&open.id).await
    }

    /// Uploads pending numbers of syncing accounts, at most 100 per order.
    async fn push_numbers(
        &mut self,
        accounts: &[Stored<Account>],
        consents: Option<&BTreeMap<String, Consent>>,
        open: &[OpenOrder],
    ) -> Result<(), StoreError> {
        let in_flight: HashSet<&str> =
            open.iter().flat_map(|o| o.numbers.iter().map(|n| n.telephone_number.as_str())).collect();
        let by_name: HashMap<&str, &Account> = accounts.iter().map(|a| (a.value.name.as_str(), &a.value)).collect();
        // An import still being written may yet be rolled back: its numbers go next run.
        let importing: HashSet<String> = self.repo.accounts_importing().await?.into_iter().collect();
        let pending = self.repo.pending_numbers(self.cfg.max_numbers_per_run).await?;
        let mut uploads: BTreeMap<(String, String), Vec<(UploadNumber, OrderedNumber)>> = BTreeMap::new();
        let mut settled = Vec::new();
        for n in pending.iter().filter(|n| !in_flight.contains(n.value.telephone_number.as_str())) {
            let num = &n.value;
            let Some(account) = by_name.get(num.account_name.as_str()) else { continue };
            if importing.contains(&num.account_name) {
                continue;
            }
            let fail = |code: &str, msg: String| NumberResult {
                telephone_number: num.telephone_number.clone(),
                expected_etag: Some(n.etag.clone()),
                status: Some(ProvisioningStatus::Failed),
                errors: vec![err_detail(code, msg)],
                mirror: None,
            };
            let services = synced_teams_services(account, num);
            let Some(service) = services.first().copied() else {
                // Nothing of this number goes to the backend (any more): it is not pending.
                settled.push(NumberResult {
                    telephone_number: num.telephone_number.clone(),
                    expected_etag: Some(n.etag.clone()),
                    status: None,
                    errors: vec![],
                    mirror: None,
                });
                continue;
            };
            let Some(tenant) = account.service_details.teams_tenant_id.clone() else {
                settled.push(fail("NoTeamsTenant", "the account has no teamsTenantId".into()));
                continue;
            };
            if let Some(consents) = consents {
                match consents.get(&tenant).map(|c| c.status) {
                    Some(ConsentStatus::Active) => {}
                    Some(other) => {
                        settled.push(fail("ConsentNotActive", format!("the tenant's consent is {other:?}")));
                        continue;
                    }
                    None => {
                        settled.push(fail("ConsentNotFound", format!("tenant {tenant} has given no consent")));
                        continue;
                    }
                }
            }
            let entry = (
                upload_for(num, service),
                OrderedNumber { telephone_number: num.telephone_number.clone(), etag: n.etag.clone() },
            );
            uploads.entry((tenant, account.name.clone())).or_default().push(entry);
        }
        self.results.numbers_failed += settled.iter().filter(|r| r.status == Some(ProvisioningStatus::Failed)).count();
        self.repo.apply_number_results(settled).await?;
        for ((tenant, account), entries) in uploads {
            for chunk in entries.chunks(MAX_PER_ORDER) {
                if self.out_of_time() {
                    return Ok(());
                }
                let numbers: Vec<UploadNumber> = chunk.iter().map(|(u, _)| u.clone()).collect();
                match self.backend.upload_numbers(&tenant, &numbers).await {
                    Ok(order) => {
                        self.pushed.upload_orders += 1;
                        self.pushed.numbers_uploaded += numbers.len();
                        let open = OpenOrder {
                            id: order.id,
                            kind: "upload".into(),
                            tenant_id: tenant.clone(),
                            account_name: account.clone(),
                            numbers: chunk.iter().map(|(_, o)| o.clone()).collect(),
                            created_ms: now_ms(),
                        };
                        self.repo.put_order(&open).await?;
                        self.results.orders_open += 1;
                    }
                    Err(e) => self.backend_error(&format!("uploading {} numbers for {tenant}", numbers.len()), &e),
                }
            }
        }
        Ok(())
    }

    /// Sends the releases of numbers deleted here, at most 100 per order.
    async fn push_releases(&mut self, open: &[OpenOrder]) -> Result<(), StoreError> {
        let in_flight: HashSet<(&str, &str)> = open
            .iter()
            .filter(|o| o.kind == "release")
            .flat_map(|o| o.numbers.iter().map(move |n| (o.tenant_id.as_str(), n.telephone_number.as_str())))
            .collect();
        let mut by_tenant: BTreeMap<String, Vec<switchboard_store::PendingRelease>> = BTreeMap::new();
        for r in self.repo.pending_releases().await? {
            if !in_flight.contains(&(r.tenant_id.as_str(), r.telephone_number.as_str())) {
                by_tenant.entry(r.tenant_id.clone()).or_default().push(r);
            }
        }
        for (tenant, releases) in by_tenant {
            for chunk in releases.chunks(MAX_PER_ORDER) {
                if self.out_of_time() {
                    return Ok(());
                }
                let tns: Vec<String> = chunk.iter().map(|r| r.telephone_number.clone()).collect();
                match self.backend.release_numbers(&tenant, &tns).await {
                    Ok(order) => {
                        self.pushed.release_orders += 1;
                        self.pushed.numbers_released += tns.len();
                        let open = OpenOrder {
                            id: order.id,
                            kind: "release".into(),
                            tenant_id: tenant.clone(),
                            account_name: chunk[0].account_name.clone(),
                            numbers: tns
                                .iter()
                                .map(|t| OrderedNumber { telephone_number: t.clone(), etag: String::new() })
                                .collect(),
                            created_ms: now_ms(),
                        };
                        self.repo.put_order(&open).await?;
                        self.results.orders_open += 1;
                    }
                    Err(e) => self.backend_error(&format!("releasing {} numbers for {tenant}", tns.len()), &e),
                }
            }
        }
        Ok(())
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
