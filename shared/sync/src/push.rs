//! Operator changes sent to the backend: pending numbers uploaded and deleted numbers released,
//! at most 100 per order.

use std::collections::{BTreeMap, HashMap, HashSet};

use switchboard_backend::{Consent, TeamsService, UploadNumber};
use switchboard_domain::rfi::ConsentStatus;
use switchboard_domain::{Account, Number, ProvisioningStatus, Service};
use switchboard_store::{now_ms, NumberResult, OpenOrder, OrderedNumber, StoreError, Stored};

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
    /// Uploads pending numbers of syncing accounts, at most 100 per order.
    pub(crate) async fn push_numbers(
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
    pub(crate) async fn push_releases(&mut self, open: &[OpenOrder]) -> Result<(), StoreError> {
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
