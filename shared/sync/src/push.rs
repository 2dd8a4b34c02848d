//! Operator changes sent to the backend: pending numbers uploaded and deleted numbers released,
//! at most 100 per order.

use std::collections::{BTreeMap, HashMap, HashSet};

use switchboard_backend::{TeamsService, UploadNumber};
use switchboard_domain::rfi::ConsentStatus;
use switchboard_domain::{Account, Number, ProvisioningStatus, Service};
use switchboard_store::{now_ms, NumberResult, OpenOrder, OrderedNumber, StoreError};

use crate::{err_detail, Run, MAX_PER_ORDER};

/// The Teams services of a number that its account sends to the backend.
pub(crate) fn synced_teams_services(account: &Account, n: &Number) -> Vec<Service> {
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

impl Run<'_> {
    /// Uploads a job's pending numbers, at most 100 per order.
    pub(crate) async fn push_numbers(&mut self, job: usize) -> Result<(), StoreError> {
        let accounts = self.jobs[job].accounts.clone();
        let consent = self.jobs[job].job.consent.status();
        let in_flight: HashSet<String> =
            self.open.iter().flat_map(|o| o.numbers.iter().map(|n| n.telephone_number.clone())).collect();
        let by_name: HashMap<&str, &Account> = accounts.iter().map(|a| (a.value.name.as_str(), &a.value)).collect();
        // An import still being written may yet be rolled back: its numbers go next run.
        let importing: HashSet<String> = self.repo.accounts_importing().await?.into_iter().collect();
        let mut pending = Vec::new();
        for a in accounts.iter().filter(|a| !importing.contains(&a.value.name)) {
            let room = self.cfg.max_numbers_per_run.saturating_sub(pending.len());
            pending.extend(self.repo.pending_numbers_of(&a.value.name, room).await?);
        }
        let mut uploads: BTreeMap<(String, String), Vec<(UploadNumber, OrderedNumber)>> = BTreeMap::new();
        let mut settled = Vec::new();
        for n in pending.iter().filter(|n| !in_flight.contains(&n.value.telephone_number)) {
            let num = &n.value;
            let Some(account) = by_name.get(num.account_name.as_str()) else { continue };
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
            if let Some(consent) = consent {
                match consent {
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
                        self.open.push(open);
                        self.jobs[job].pushed = true;
                    }
                    Err(e) => self.backend_error(&format!("uploading {} numbers for {tenant}", numbers.len()), &e),
                }
            }
        }
        Ok(())
    }

    /// Sends the releases of a job's tenant's numbers deleted here, at most 100 per order.
    pub(crate) async fn push_releases(&mut self, job: usize) -> Result<(), StoreError> {
        let Some(tenant) = self.jobs[job].job.tenant_id.clone() else { return Ok(()) };
        let in_flight: HashSet<String> = self
            .open
            .iter()
            .filter(|o| o.kind == "release" && o.tenant_id == tenant)
            .flat_map(|o| o.numbers.iter().map(|n| n.telephone_number.clone()))
            .collect();
        let releases: Vec<switchboard_store::PendingRelease> = self
            .repo
            .pending_releases_of(&tenant)
            .await?
            .into_iter()
            .filter(|r| !in_flight.contains(&r.telephone_number))
            .collect();
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
                    self.open.push(open);
                    self.jobs[job].pushed = true;
                }
                Err(e) => self.backend_error(&format!("releasing {} numbers for {tenant}", tns.len()), &e),
            }
        }
        Ok(())
    }
}
