//! Reconciliation: a tenant's accounts' status from its consent, and its civic addresses and
//! numbers as the backend sees them (drift), compared a page at a time and carried on across runs.

use std::collections::HashMap;

use switchboard_domain::number::AssignmentStatus;
use switchboard_domain::rfi::ConsentStatus;
use switchboard_domain::{Account, ErrorDetail, ProvisioningStatus};
use switchboard_store::{Mirror, NumberResult, StoreError, Stored};

use crate::push::synced_teams_services;
use crate::{err_detail, Drift, DriftKind, Run};

fn parse_assignment(s: Option<&str>) -> Option<AssignmentStatus> {
    match s {
        Some("assigned") => Some(AssignmentStatus::Assigned),
        Some("unassigned") => Some(AssignmentStatus::Unassigned),
        _ => None,
    }
}

/// Our numbers read per query while comparing one page of the backend's.
const OURS_PER_QUERY: usize = 500;

impl Run<'_> {
    /// Reconciles a job's tenant: each account's status from the consent, the tenant's civic
    /// addresses, then its numbers page by page against ours in the same range, carrying on
    /// from where the last run stopped. It counts as done (the tenant's `lastReconciledMs`)
    /// when the last page is compared and every call it needed succeeded.
    pub(crate) async fn reconcile_job(&mut self, job: usize) -> Result<(), StoreError> {
        let accounts = self.jobs[job].accounts.clone();
        let consent = self.jobs[job].job.consent.status();
        let errors_before = self.jobs[job].errors.len();
        self.jobs[job].reconcile_tried = true;
        let mut syncing = Vec::new();
        for account in &accounts {
            if self.account_status(account, consent).await? {
                syncing.push(account.clone());
            }
            self.pulled.accounts_reconciled += 1;
        }
        let complete = match (syncing.first(), self.jobs[job].job.tenant_id.clone()) {
            (Some(first), Some(tenant)) => {
                self.mirror_addresses(&tenant, &first.value.name).await?;
                self.compare_numbers(job, &tenant, &syncing).await?
            }
            _ => true,
        };
        let state = &mut self.jobs[job];
        let failed = state.errors.len() - errors_before;
        state.reconcile_errors += failed;
        state.reconciled = complete && failed == 0;
        Ok(())
    }

    /// One account's own status from its consent. Returns whether its numbers go to the
    /// backend (so they are compared).
    async fn account_status(
        &mut self,
        stored: &Stored<Account>,
        consent: Option<Option<ConsentStatus>>,
    ) -> Result<bool, StoreError> {
        let account = &stored.value;
        let sd = &account.service_details;
        if !sd.syncs() {
            // Nothing of this account goes to the backend (any more): it is not pending.
            if account.service_provisioning_status == Some(ProvisioningStatus::Pending) {
                self.repo.set_account_sync(&account.name, &stored.etag, None, &[]).await?;
            }
            return Ok(false);
        }
        let Some(tenant) = sd.teams_tenant_id.clone() else {
            let errs = [err_detail("NoTeamsTenant", "the account syncs Teams services but has no teamsTenantId")];
            self.set_account(stored, ProvisioningStatus::Failed, &errs).await?;
            return Ok(false);
        };
        if let Some(consent) = consent {
            let (status, errs) = match consent {
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
        Ok(true)
    }

    async fn mirror_addresses(&mut self, tenant: &str, account: &str) -> Result<(), StoreError> {
        match self.backend.list_civic_addresses(tenant).await {
            Ok(addresses) => {
                self.pulled.civic_addresses += addresses.len();
                let changes = self.repo.replace_addresses(tenant, &addresses).await?;
                for (kind, ids) in [
                    (DriftKind::CivicAddressChanged, changes.changed),
                    (DriftKind::CivicAddressRemoved, changes.removed),
                ] {
                    for id in ids {
                        self.drift.push(Drift {
                            kind,
                            tenant_id: tenant.into(),
                            account_name: Some(account.into()),
                            telephone_number: None,
                            civic_address_id: Some(id),
                            detail: "the enterprise changed its emergency addresses".into(),
                        });
                    }
                }
            }
            Err(e) => self.backend_error(&format!("civic addresses of {tenant}"), &e),
        }
        Ok(())
    }

    /// The tenant's numbers, a page of the backend's at a time, each against our numbers in the
    /// same range (after the previous page's last number, up to this page's), from where the
    /// last run stopped. Returns whether it reached the end; where it got to is kept on the
    /// job, and recorded with the tenant's status.
    async fn compare_numbers(
        &mut self,
        job: usize,
        tenant: &str,
        accounts: &[Stored<Account>],
    ) -> Result<bool, StoreError> {
        let mut after = self.jobs[job].before.reconcile_after.clone();
        loop {
            if self.out_of_time() {
                self.jobs[job].reconcile_after = after;
                return Ok(false);
            }
            let page = match self.backend.tenant_numbers_page(tenant, after.as_deref()).await {
                Ok(p) => p,
                Err(e) => {
                    self.backend_error(&format!("numbers of {tenant}"), &e);
                    self.jobs[job].reconcile_after = after;
                    return Ok(false);
                }
            };
            self.pulled.tenant_numbers += page.value.len();
            // This page covers (after, its last number]; the last page covers the rest.
            let upto = page.continuation_token.as_ref().and(page.value.last()).map(|n| n.telephone_number.clone());
            let upstream: HashMap<&str, &switchboard_backend::TenantNumber> =
                page.value.iter().map(|n| (n.telephone_number.as_str(), n)).collect();
            for account in accounts {
                let mut from = after.clone();
                loop {
                    let ours = self
                        .repo
                        .account_numbers_in(&account.value.name, from.as_deref(), upto.as_deref(), OURS_PER_QUERY)
                        .await?;
                    from = ours.last().map(|n| n.value.telephone_number.clone());
                    let full = ours.len() == OURS_PER_QUERY;
                    self.compare(tenant, &account.value, ours, &upstream).await?;
                    if !full {
                        break;
                    }
                }
            }
            match upto {
                Some(last) => after = Some(last),
                None => {
                    self.jobs[job].reconcile_after = None;
                    return Ok(true);
                }
            }
        }
    }

    /// Our numbers of one account against the backend's page that covers them: released
    /// upstream (drift, the number fails) or mirrored (assignment, capabilities).
    async fn compare(
        &mut self,
        tenant: &str,
        account: &Account,
        ours: Vec<Stored<switchboard_domain::Number>>,
        upstream: &HashMap<&str, &switchboard_backend::TenantNumber>,
    ) -> Result<(), StoreError> {
        let mut results = Vec::new();
        for n in ours {
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
                        tenant_id: tenant.into(),
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
                            tenant_id: tenant.into(),
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

    pub(crate) async fn set_account(
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
}
