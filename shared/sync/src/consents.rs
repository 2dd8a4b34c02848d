//! Consents pulled from the backend into requests for information, and relationship changes
//! made here pushed back.

use std::collections::{BTreeMap, HashMap, HashSet};

use switchboard_backend::{BackendError, Consent, RelationshipUpdate};
use switchboard_domain::rfi::{ConsentStatus, RelationshipStatus, RequestForInformation};
use switchboard_domain::{Account, ProvisioningStatus};
use switchboard_store::{now_ms, StoreError, Stored};

use crate::{err_detail, Drift, DriftKind, Run};

/// Consents a backend lists on one page (its lists' page size).
const ONE_PAGE: usize = 100;

impl Run<'_> {
    /// Whether this plan pulls the consents. A pull that fits on one page goes every plan; a
    /// longer one (at 5,000 tenants it is 50 calls) at most every `consent_interval`, or sooner
    /// when an account waits for its status from it. Between pulls the plan knows no consent,
    /// and nothing is concluded from one.
    pub(crate) async fn consents_due(&self) -> Result<bool, StoreError> {
        let last = &self.state;
        Ok(last.consents_at_ms == 0
            || last.consents <= ONE_PAGE
            || now_ms().saturating_sub(last.consents_at_ms) >= self.cfg.consent_interval.as_millis() as u64
            || !self.repo.pending_accounts(1).await?.is_empty())
    }

    /// Consents → requests for information. `None` when the pull failed: nothing may then be
    /// concluded from a consent's absence.
    pub(crate) async fn pull_consents(
        &mut self,
        by_tenant: &HashMap<String, &Stored<Account>>,
    ) -> Result<Option<BTreeMap<String, Consent>>, StoreError> {
        let started_ms = now_ms();
        let consents = match self.backend.list_consents().await {
            Ok(c) => c,
            Err(e) => {
                self.backend_error("pulling consents", &e);
                return Ok(None);
            }
        };
        self.pulled.consents = consents.len();
        // Ours, all at once (a page of 500 a read, not a read a consent).
        let mut ours: BTreeMap<String, Stored<RequestForInformation>> = BTreeMap::new();
        let mut start = None;
        loop {
            let req = switchboard_store::PageRequest { page_size: 500, start, ..Default::default() };
            let page = self.repo.list_rfis(&req).await?;
            ours.extend(page.items.into_iter().map(|r| (r.value.tenant_id.clone(), r)));
            match page.next {
                Some(n) => start = Some(n),
                None => break,
            }
        }
        let mut seen = HashSet::new();
        for c in &consents {
            seen.insert(c.tenant_id.clone());
            let existing = ours.get(&c.tenant_id);
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
                let _ = self.repo.put_rfi_if(&rfi, existing, "sync.consent").await?;
            }
        }
        let all: BTreeMap<String, Consent> = consents.into_iter().map(|c| (c.tenant_id.clone(), c)).collect();
        // Only a complete pull may say a consent is gone, and even then it is reported, not deleted.
        for r in ours.values() {
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
        (self.state.consents_at_ms, self.state.consents) = (started_ms, all.len());
        Ok(Some(all))
    }

    pub(crate) async fn push_relationships(&mut self) -> Result<(), StoreError> {
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
}
