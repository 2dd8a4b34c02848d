//! Reconciliation: a tenant's accounts' status from its consent, and its civic addresses and
//! numbers as the backend sees them (drift), compared a page at a time and carried on across runs.

use std::collections::{BTreeMap, HashMap};

use switchboard_backend::Consent;
use switchboard_domain::number::AssignmentStatus;
use switchboard_domain::rfi::ConsentStatus;
use switchboard_domain::{Account, ErrorDetail, ProvisioningStatus};
use switchboard_store::{Mirror, NumberResult, StoreError, Stored};

use crate::push::synced_teams_services;
use crate::{err_detail, ConsentSeen, Drift, DriftKind, Run};

fn parse_assignment(s: Option<&str>) -> Option<AssignmentStatus> {
    match s {
        Some("assigned") => Some(AssignmentStatus::Assigned),
        Some("unassigned") => Some(AssignmentStatus::Unassigned),
        _ => None,
    }
}

/// Our numbers read per account while comparing one page of the backend's.
const OURS_PER_QUERY: usize = 500;

/// A page of a tenant's numbers as the contract has it: in number order, after `after`, and a
/// continuation token that is its last number.
fn page_is_sound(
    page: &switchboard_backend::ListPage<switchboard_backend::TenantNumber>,
    after: Option<&str>,
) -> Result<(), String> {
    let tns: Vec<&str> = page.value.iter().map(|n| n.telephone_number.as_str()).collect();
    if let Some(token) = &page.continuation_token {
        if tns.last() != Some(&token.as_str()) {
            return Err(format!("its continuation token {token:?} is not its last number"));
        }
    }
    if tns.windows(2).any(|w| w[0] >= w[1]) {
        return Err("its numbers are not in order".into());
    }
    if let (Some(a), Some(first)) = (after, tns.first()) {
        if *first <= a {
            return Err(format!("it starts at {first}, not after {a}"));
        }
    }
    Ok(())
}

/// Whether an account's numbers go to the backend (so they are compared with its list).
fn sends_numbers(account: &Account) -> bool {
    account.service_details.syncs() && account.service_details.teams_tenant_id.is_some()
}

impl Run<'_> {
    /// Every account its own status from its tenant's consent (no upstream call, and a write
    /// only where it changes; with no pull this plan, only what needs no consent). The planner
    /// does it, so that 5,000 new accounts are not 5,000 jobs.
    pub(crate) async fn settle_accounts(
        &mut self,
        accounts: &[Stored<Account>],
        consents: Option<&BTreeMap<String, Consent>>,
    ) -> Result<(), StoreError> {
        for account in accounts {
            let tenant = account.value.service_details.teams_tenant_id.as_deref();
            self.account_status(account, ConsentSeen::of(consents, tenant).status()).await?;
        }
        Ok(())
    }

    /// Reconciles a job's tenant: its civic addresses, then its numbers page by page against
    /// ours in the same range, carrying on from where the last run stopped. It counts as done
    /// (the tenant's `lastReconciledMs`) when the last page is compared and every call it
    /// needed succeeded.
    pub(crate) async fn reconcile_job(&mut self, job: usize) -> Result<(), StoreError> {
        let (errors_before, steps_before) = (self.jobs[job].errors.len(), self.jobs[job].step_errors);
        self.jobs[job].reconcile_tried = true;
        self.pulled.accounts_reconciled += self.jobs[job].accounts.len();
        let syncing: Vec<Stored<Account>> =
            self.jobs[job].accounts.iter().filter(|a| sends_numbers(&a.value)).cloned().collect();
        let complete = match (syncing.first(), self.jobs[job].job.tenant_id.clone()) {
            (Some(first), Some(tenant)) => {
                self.mirror_addresses(&tenant, &first.value.name).await?;
                self.compare_numbers(job, &tenant, &syncing).await?
            }
            _ => {
                // Nothing to compare: a cycle left part-way is over.
                self.jobs[job].reconcile_after = None;
                self.jobs[job].cycle_started = true;
                true
            }
        };
        let state = &mut self.jobs[job];
        // Pushes and polls between its pages are not its errors.
        let failed = state.errors.len() - errors_before - (state.step_errors - steps_before);
        state.reconcile_errors += failed;
        state.reconciled = complete && failed == 0;
        Ok(())
    }

    /// One account's own status from its consent, when the consent is known.
    async fn account_status(
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
            return self.set_account(stored, ProvisioningStatus::Failed, &errs).await;
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
        Ok(())
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
    /// last run stopped. Where we hold more in that range than one read takes, the range is cut
    /// there and the backend's list read again from the cut, so each step is bounded and a run
    /// can stop between any two. Returns whether it reached the end; where it got to is kept on
    /// the job, and recorded with the tenant's status.
    async fn compare_numbers(
        &mut self,
        job: usize,
        tenant: &str,
        accounts: &[Stored<Account>],
    ) -> Result<bool, StoreError> {
        let mut after = self.jobs[job].reconcile_after.clone();
        if after.is_none() {
            self.jobs[job].cycle_started = true;
        }
        loop {
            self.jobs[job].reconcile_after = after.clone();
            if self.out_of_time() {
                return Ok(false);
            }
            self.between_steps(job).await?;
            if self.out_of_time() {
                return Ok(false);
            }
            let page = match self.backend.tenant_numbers_page(tenant, after.as_deref()).await {
                Ok(p) => p,
                Err(e) => {
                    self.backend_error(&format!("numbers of {tenant}"), &e);
                    return Ok(false);
                }
            };
            if let Err(why) = page_is_sound(&page, after.as_deref()) {
                // Nothing may be concluded from a page that breaks the contract (a number
                // missing from it would be read as released).
                self.error(format!("numbers of {tenant}: the backend's page breaks the contract: {why}"));
                return Ok(false);
            }
            self.pulled.tenant_numbers += page.value.len();
            // This page covers (after, its last number]; the last page covers the rest.
            let mut cut = page.continuation_token.as_ref().and(page.value.last()).map(|n| n.telephone_number.clone());
            let mut ours = Vec::with_capacity(accounts.len());
            for account in accounts {
                let batch = self
                    .repo
                    .account_numbers_in(&account.value.name, after.as_deref(), cut.as_deref(), OURS_PER_QUERY)
                    .await?;
                if batch.len() == OURS_PER_QUERY {
                    cut = batch.last().map(|n| n.value.telephone_number.clone());
                }
                ours.push(batch);
            }
            let upstream: HashMap<&str, &switchboard_backend::TenantNumber> =
                page.value.iter().map(|n| (n.telephone_number.as_str(), n)).collect();
            for (account, mut batch) in accounts.iter().zip(ours) {
                if let Some(c) = &cut {
                    batch.retain(|n| n.value.telephone_number <= *c);
                }
                self.compare(tenant, &account.value, batch, &upstream).await?;
            }
            match cut {
                Some(c) => after = Some(c),
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

#[cfg(test)]
mod tests {
    use super::page_is_sound;
    use switchboard_backend::{ListPage, TenantNumber};

    fn page(tns: &[&str], token: Option<&str>) -> ListPage<TenantNumber> {
        let n = |tn: &str| {
            serde_json::from_value::<TenantNumber>(
                serde_json::json!({"telephoneNumber": tn, "service": "operatorConnect"}),
            )
            .expect("number")
        };
        ListPage { value: tns.iter().map(|t| n(t)).collect(), continuation_token: token.map(str::to_string) }
    }

    #[test]
    fn only_a_page_the_contract_allows_is_compared() {
        assert!(page_is_sound(&page(&["+1", "+2"], Some("+2")), None).is_ok());
        assert!(page_is_sound(&page(&["+3"], None), Some("+2")).is_ok());
        assert!(page_is_sound(&page(&[], None), Some("+2")).is_ok(), "an empty last page");
        assert!(page_is_sound(&page(&[], Some("+2")), None).is_err(), "more to come, but an empty page");
        assert!(page_is_sound(&page(&["+1", "+2"], Some("+9")), None).is_err(), "a token that is not its last number");
        assert!(page_is_sound(&page(&["+2", "+1"], None), None).is_err(), "out of order");
        assert!(page_is_sound(&page(&["+1", "+2"], Some("+2")), Some("+1")).is_err(), "the first page again");
    }
}
