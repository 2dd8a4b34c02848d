//! Reconciliation: an account's status from its consent, and its civic addresses and numbers as
//! the backend sees them (drift).

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

impl Run<'_> {
    /// Reconciles a job's accounts. It counts as done (the tenant's `lastReconciledMs`) only if
    /// every call it needed succeeded.
    pub(crate) async fn reconcile_job(&mut self, job: usize) -> Result<(), StoreError> {
        let accounts = self.jobs[job].accounts.clone();
        let consent = self.jobs[job].job.consent.status();
        let errors_before = self.jobs[job].errors.len();
        self.jobs[job].reconcile_tried = true;
        for account in &accounts {
            if self.out_of_time() {
                return Ok(());
            }
            self.reconcile_account(account, consent).await?;
            self.pulled.accounts_reconciled += 1;
        }
        let state = &mut self.jobs[job];
        state.reconcile_errors += state.errors.len() - errors_before;
        state.reconciled = state.errors.len() == errors_before;
        Ok(())
    }

    /// One syncing account: its own status from its consent, then addresses and numbers as the
    /// backend sees them.
    pub(crate) async fn reconcile_account(
        &mut self,
        stored: &Stored<Account>,
        consent: Option<Option<ConsentStatus>>,
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
