//! An account: an enterprise (or collection of users) and the services it has.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Problems};
use crate::provisioning::{ErrorDetail, ProvisioningStatus};
use crate::service::{Service, ServiceCounts};
use crate::{names, text};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    #[schemars(length(min = 1, max = crate::text::MAX_NAME))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = crate::text::MAX_CORRELATION_ID))]
    pub correlation_id: Option<String>,
    #[serde(default)]
    pub service_details: AccountServiceDetails,
    /// Read-only: set by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_provisioning_status: Option<ProvisioningStatus>,
    /// Read-only: set by the server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_provisioning_errors: Vec<ErrorDetail>,
    /// Extension, read-only: how many of the account's numbers the sync could not provision
    /// (`serviceProvisioningStatus` `failed`). The account's own status says nothing of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_number_count: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountServiceDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = crate::text::MAX_TENANT_ID))]
    pub teams_tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_operator_connect: Option<SyncedService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_phone_mobile: Option<SyncedService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_phone_cloud_peering: Option<SyncedService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_direct_routing: Option<DirectRouting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_operator_call_protection: Option<CallProtection>,
}

/// Operator Connect, Teams Phone Mobile and Zoom share this shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncedService {
    pub sync_enabled: bool,
    pub enabled: bool,
    /// Read-only: kept by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_count: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectRouting {
    pub sync_enabled: bool,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_count: Option<i64>,
    /// Read-only: set by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdomain_status: Option<SubdomainStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<DirectRoutingConfiguration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SubdomainStatus {
    Provisioned,
    NotProvisioned,
    Inconsistent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectRoutingConfiguration {
    pub call_screening: bool,
    #[schemars(length(min = 1, max = 10))]
    pub subdomain: String,
    pub subdomain_tokens: SubdomainTokens,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubdomainTokens {
    #[schemars(length(min = 1, max = crate::text::MAX_NAME))]
    pub region1_token: String,
    #[schemars(length(min = 1, max = crate::text::MAX_NAME))]
    pub region2_token: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallProtection {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_count: Option<i64>,
}

/// Fields `GET /accounts?search=` looks in (an extension).
pub const SEARCH_FIELDS: &[&str] = &["name", "correlationId", "serviceDetails.teamsTenantId"];

/// Fields `GET /accounts?filter=` accepts (dotted; `/` works too).
pub const FILTER_FIELDS: &[&str] = &[
    "name",
    "correlationId",
    "serviceProvisioningStatus",
    "serviceDetails.teamsTenantId",
    "serviceDetails.teamsOperatorConnect.enabled",
    "serviceDetails.teamsOperatorConnect.syncEnabled",
    "serviceDetails.teamsPhoneMobile.enabled",
    "serviceDetails.teamsPhoneMobile.syncEnabled",
    "serviceDetails.teamsDirectRouting.enabled",
    "serviceDetails.teamsDirectRouting.syncEnabled",
    "serviceDetails.teamsDirectRouting.subdomainStatus",
    "serviceDetails.zoomPhoneCloudPeering.enabled",
    "serviceDetails.zoomPhoneCloudPeering.syncEnabled",
    "serviceDetails.azureOperatorCallProtection.enabled",
];

impl AccountServiceDetails {
    pub fn is_enabled(&self, s: Service) -> bool {
        match s {
            Service::TeamsOperatorConnect => self.teams_operator_connect.as_ref().is_some_and(|x| x.enabled),
            Service::TeamsPhoneMobile => self.teams_phone_mobile.as_ref().is_some_and(|x| x.enabled),
            Service::ZoomPhoneCloudPeering => self.zoom_phone_cloud_peering.as_ref().is_some_and(|x| x.enabled),
            Service::TeamsDirectRouting => self.teams_direct_routing.as_ref().is_some_and(|x| x.enabled),
            Service::AzureOperatorCallProtection => {
                self.azure_operator_call_protection.as_ref().is_some_and(|x| x.enabled)
            }
        }
    }

    /// True when the account sends something to the backend service.
    pub fn syncs(&self) -> bool {
        Service::ALL.into_iter().any(|s| self.syncs_service(s))
    }

    /// True when `s` is enabled with `syncEnabled` and the backend takes it. Flow-through exists
    /// for Operator Connect and Teams Phone Mobile only; Direct Routing and Zoom have the flag but
    /// no flow-through, and Call Protection has neither (provisioning-api.md §5).
    pub fn syncs_service(&self, s: Service) -> bool {
        let synced = |x: &Option<SyncedService>| x.as_ref().is_some_and(|x| x.enabled && x.sync_enabled);
        match s {
            Service::TeamsOperatorConnect => synced(&self.teams_operator_connect),
            Service::TeamsPhoneMobile => synced(&self.teams_phone_mobile),
            Service::ZoomPhoneCloudPeering | Service::TeamsDirectRouting | Service::AzureOperatorCallProtection => {
                false
            }
        }
    }

    fn number_count_mut(&mut self, s: Service) -> Option<&mut Option<i64>> {
        match s {
            Service::TeamsOperatorConnect => self.teams_operator_connect.as_mut().map(|x| &mut x.number_count),
            Service::TeamsPhoneMobile => self.teams_phone_mobile.as_mut().map(|x| &mut x.number_count),
            Service::ZoomPhoneCloudPeering => self.zoom_phone_cloud_peering.as_mut().map(|x| &mut x.number_count),
            Service::TeamsDirectRouting => self.teams_direct_routing.as_mut().map(|x| &mut x.number_count),
            Service::AzureOperatorCallProtection => {
                self.azure_operator_call_protection.as_mut().map(|x| &mut x.number_count)
            }
        }
    }
}

impl Account {
    /// Checks every field rule; `path_name` is the `{accountName}` of the request.
    pub fn validate(&self, path_name: &str) -> Result<(), DomainError> {
        let mut p = Problems::default();
        p.check(names::account_name("name", &self.name));
        if self.name != path_name {
            p.add(
                "name",
                format!("the body's name {:?} must equal the account name in the path {:?}", self.name, path_name),
            );
        }
        p.check(text::check_opt("correlationId", self.correlation_id.as_deref(), text::MAX_CORRELATION_ID));
        let sd = &self.service_details;
        if let Some(t) = &sd.teams_tenant_id {
            p.check(names::tenant_id("serviceDetails.teamsTenantId", t));
        }
        if let Some(cfg) = sd.teams_direct_routing.as_ref().and_then(|d| d.configuration.as_ref()) {
            let base = "serviceDetails.teamsDirectRouting.configuration";
            p.check(names::subdomain(&format!("{base}.subdomain"), &cfg.subdomain));
            p.check(names::subdomain_token(
                &format!("{base}.subdomainTokens.region1Token"),
                &cfg.subdomain_tokens.region1_token,
            ));
            p.check(names::subdomain_token(
                &format!("{base}.subdomainTokens.region2Token"),
                &cfg.subdomain_tokens.region2_token,
            ));
        }
        p.into_result()
    }

    /// Drops what a client may send but only the server sets, so a replace can't forge it.
    pub fn clear_read_only(&mut self) {
        self.service_provisioning_status = None;
        self.service_provisioning_errors.clear();
        self.failed_number_count = None;
        for s in Service::ALL {
            if let Some(c) = self.service_details.number_count_mut(s) {
                *c = None;
            }
        }
        if let Some(dr) = self.service_details.teams_direct_routing.as_mut() {
            dr.subdomain_status = None;
        }
    }

    /// Fills the read-only counts from the server's tally.
    pub fn set_counts(&mut self, counts: &ServiceCounts) {
        for s in Service::ALL {
            if let Some(c) = self.service_details.number_count_mut(s) {
                *c = Some(counts.get(s));
            }
        }
    }

    pub fn teams_tenant_id(&self) -> Option<&str> {
        self.service_details.teams_tenant_id.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn acg_example() -> serde_json::Value {
        json!({"name":"contoso","correlationId":"c7aa0070-2e35-4c1b-9a7f-e45e3e8a0b3e","serviceDetails":{"teamsTenantId":"a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b","teamsOperatorConnect":{"enabled":true,"syncEnabled":true}}})
    }

    #[test]
    fn acg_example_is_valid() {
        let a: Account = serde_json::from_value(acg_example()).unwrap();
        a.validate("contoso").unwrap();
        assert!(a.service_details.is_enabled(Service::TeamsOperatorConnect));
        assert!(a.service_details.syncs());
        let dr_only: Account = serde_json::from_value(
            json!({"name":"a","serviceDetails":{"teamsDirectRouting":{"enabled":true,"syncEnabled":true}}}),
        )
        .unwrap();
        assert!(!dr_only.service_details.syncs(), "Direct Routing has no flow-through");
    }

    #[test]
    fn name_must_match_path() {
        let a: Account = serde_json::from_value(acg_example()).unwrap();
        match a.validate("fabrikam") {
            Err(DomainError::Invalid(e)) => assert_eq!(e[0].target, "name"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn direct_routing_fields_are_checked() {
        let a: Account = serde_json::from_value(json!({"name":"a","serviceDetails":{"teamsDirectRouting":{"enabled":true,"syncEnabled":false,
            "configuration":{"callScreening":true,"subdomain":"much-too-long","subdomainTokens":{"region1Token":"ok=","region2Token":"bad token"}}}}})).unwrap();
        let Err(DomainError::Invalid(e)) = a.validate("a") else { panic!() };
        let targets: Vec<_> = e.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(
            targets,
            [
                "serviceDetails.teamsDirectRouting.configuration.subdomain",
                "serviceDetails.teamsDirectRouting.configuration.subdomainTokens.region2Token"
            ]
        );
    }

    #[test]
    fn read_only_fields_are_dropped() {
        let mut a: Account = serde_json::from_value(json!({"name":"a","serviceProvisioningStatus":"synced",
            "serviceDetails":{"teamsOperatorConnect":{"enabled":true,"syncEnabled":false,"numberCount":99}}}))
        .unwrap();
        a.clear_read_only();
        assert_eq!(a.service_provisioning_status, None);
        assert_eq!(a.service_details.teams_operator_connect.as_ref().unwrap().number_count, None);
    }
}
