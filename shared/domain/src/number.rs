//! A telephone number of an account, with its per-service settings and the rules they obey.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Problems};
use crate::provisioning::{ErrorDetail, ProvisioningStatus};
use crate::service::{Service, ServiceCounts};
use crate::{names, telephone, text};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Number {
    #[schemars(length(min = 2, max = crate::telephone::MAX_LEN))]
    pub telephone_number: String,
    #[schemars(length(min = 1, max = crate::text::MAX_NAME))]
    pub account_name: String,
    pub service_details: NumberServiceDetails,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<NumberConfiguration>,
    /// Read-only: set by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_provisioning_status: Option<ProvisioningStatus>,
    /// Read-only: set by the server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_provisioning_errors: Vec<ErrorDetail>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NumberConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = crate::text::MAX_NAME))]
    pub custom_sip_header: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NumberServiceDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_operator_connect: Option<TeamsNumberService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_phone_mobile: Option<TeamsNumberService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams_direct_routing: Option<Toggle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_phone_cloud_peering: Option<Toggle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_operator_call_protection: Option<Toggle>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Toggle {
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamsNumberService {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment_status: Option<AssignmentStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<TeamsNumberConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AssignmentStatus {
    Assigned,
    Unassigned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Usage {
    CallingUserAssignment,
    FirstPartyAppAssignment,
    ConferenceAssignment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Capability {
    InboundCalling,
    OutboundCalling,
    Mobile,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamsNumberConfig {
    /// Required for an enabled OC/TPM number; optional in the type so the rule can name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choosable_capabilities: Vec<Capability>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_usages: Vec<Usage>,
    /// Read-only: reported by the backend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acquired_capabilities: Vec<String>,
    /// Read-only: reported by the backend.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub available_capabilities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = crate::text::MAX_ADDRESS_ID))]
    pub civic_address_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = crate::text::MAX_ADDRESS_ID))]
    pub location_id: Option<String>,
    /// `false` forbids the enterprise from changing the address, so one must be given here.
    /// Omitted with no address given, the enterprise supplies it in the Teams Admin Center.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_tenant_address_update: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = crate::text::MAX_COUNTRY_CODE))]
    pub displayed_country_code: Option<String>,
}

/// Fields `GET .../numbers?search=` looks in (an extension); a number also matches by digits.
pub const SEARCH_FIELDS: &[&str] = &["telephoneNumber", "accountName", "configuration.customSipHeader"];

/// Fields `GET .../numbers?filter=` accepts (dotted; `/` works too).
pub const FILTER_FIELDS: &[&str] = &[
    "telephoneNumber",
    "accountName",
    "serviceProvisioningStatus",
    "configuration.customSipHeader",
    "serviceDetails.teamsOperatorConnect.enabled",
    "serviceDetails.teamsOperatorConnect.assignmentStatus",
    "serviceDetails.teamsOperatorConnect.configuration.usage",
    "serviceDetails.teamsOperatorConnect.configuration.civicAddressId",
    "serviceDetails.teamsOperatorConnect.configuration.locationId",
    "serviceDetails.teamsPhoneMobile.enabled",
    "serviceDetails.teamsPhoneMobile.assignmentStatus",
    "serviceDetails.teamsPhoneMobile.configuration.usage",
    "serviceDetails.teamsPhoneMobile.configuration.civicAddressId",
    "serviceDetails.teamsPhoneMobile.configuration.locationId",
    "serviceDetails.teamsDirectRouting.enabled",
    "serviceDetails.zoomPhoneCloudPeering.enabled",
    "serviceDetails.azureOperatorCallProtection.enabled",
];

impl NumberServiceDetails {
    /// The services this number has enabled.
    pub fn enabled(&self) -> Vec<Service> {
        let on = |t: &Option<Toggle>| t.as_ref().is_some_and(|t| t.enabled);
        let teams_on = |t: &Option<TeamsNumberService>| t.as_ref().is_some_and(|t| t.enabled);
        let mut out = Vec::new();
        if teams_on(&self.teams_operator_connect) {
            out.push(Service::TeamsOperatorConnect);
        }
        if teams_on(&self.teams_phone_mobile) {
            out.push(Service::TeamsPhoneMobile);
        }
        if on(&self.teams_direct_routing) {
            out.push(Service::TeamsDirectRouting);
        }
        if on(&self.zoom_phone_cloud_peering) {
            out.push(Service::ZoomPhoneCloudPeering);
        }
        if on(&self.azure_operator_call_protection) {
            out.push(Service::AzureOperatorCallProtection);
        }
        out
    }
}

impl Number {
    /// Checks every field rule. `path_account` and `path_number` are the path's values, if the
    /// request names them in its path.
    pub fn validate(&self, path_account: &str, path_number: Option<&str>) -> Result<(), DomainError> {
        self.validate_at("", path_account, path_number)
    }

    /// As [`Number::validate`], with every target prefixed by `prefix` (e.g. `numbers[3].`).
    pub fn validate_at(&self, prefix: &str, path_account: &str, path_number: Option<&str>) -> Result<(), DomainError> {
        let t = |f: &str| format!("{prefix}{f}");
        let mut p = Problems::default();
        p.check(telephone::validate(&t("telephoneNumber"), &self.telephone_number));
        if let Some(n) = path_number {
            if n != self.telephone_number {
                p.add(
                    t("telephoneNumber"),
                    format!(
                        "the body's telephoneNumber {:?} must equal the number in the path {n:?}",
                        self.telephone_number
                    ),
                );
            }
        }
        p.check(names::account_name(&t("accountName"), &self.account_name));
        if self.account_name != path_account {
            p.add(
                t("accountName"),
                format!(
                    "the body's accountName {:?} must equal the account in the path {path_account:?}",
                    self.account_name
                ),
            );
        }
        let enabled = self.service_details.enabled();
        if enabled.is_empty() {
            p.add(
                t("serviceDetails"),
                "a number must enable at least one service (teamsOperatorConnect, teamsPhoneMobile, teamsDirectRouting, zoomPhoneCloudPeering or azureOperatorCallProtection)",
            );
        }
        if let Some(h) = self.configuration.as_ref().and_then(|c| c.custom_sip_header.as_deref()) {
            let target = t("configuration.customSipHeader");
            p.check(names::custom_sip_header(&target, h));
            for s in [Service::TeamsPhoneMobile, Service::AzureOperatorCallProtection] {
                if enabled.contains(&s) {
                    p.add(
                        &target,
                        format!("a custom SIP header is not supported for numbers with {} enabled", s.field()),
                    );
                }
            }
        }
        let sd = &self.service_details;
        for (s, svc) in [
            (Service::TeamsOperatorConnect, &sd.teams_operator_connect),
            (Service::TeamsPhoneMobile, &sd.teams_phone_mobile),
        ] {
            let base = t(&format!("serviceDetails.{}", s.field()));
            if let Some(svc) = svc.as_ref() {
                check_teams_text(&mut p, &base, svc);
                if svc.enabled {
                    check_teams(&mut p, &base, svc);
                }
            }
        }
        p.into_result()
    }

    /// Drops what a client may send but only the server (or the backend) sets.
    pub fn clear_read_only(&mut self) {
        self.service_provisioning_status = None;
        self.service_provisioning_errors.clear();
        let sd = &mut self.service_details;
        for svc in [&mut sd.teams_operator_connect, &mut sd.teams_phone_mobile].into_iter().flatten() {
            if let Some(c) = svc.configuration.as_mut() {
                c.acquired_capabilities.clear();
                c.available_capabilities.clear();
            }
        }
    }

    pub fn counts(&self) -> ServiceCounts {
        ServiceCounts::of(&self.service_details.enabled())
    }
}

/// The free text of a Teams service's configuration, enabled or not: it is stored either way.
fn check_teams_text(p: &mut Problems, base: &str, svc: &TeamsNumberService) {
    let Some(cfg) = svc.configuration.as_ref() else { return };
    let at = |f: &str| format!("{base}.configuration.{f}");
    p.check(text::check_opt(&at("civicAddressId"), cfg.civic_address_id.as_deref(), text::MAX_ADDRESS_ID));
    p.check(text::check_opt(&at("locationId"), cfg.location_id.as_deref(), text::MAX_ADDRESS_ID));
    p.check(text::check_opt(
        &at("displayedCountryCode"),
        cfg.displayed_country_code.as_deref(),
        text::MAX_COUNTRY_CODE,
    ));
}

fn check_teams(p: &mut Problems, base: &str, svc: &TeamsNumberService) {
    let Some(cfg) = svc.configuration.as_ref() else {
        p.add(format!("{base}.configuration"), "an enabled Operator Connect or Teams Phone Mobile number needs a configuration with usage and choosableCapabilities");
        return;
    };
    let base = format!("{base}.configuration");
    if cfg.usage.is_none() {
        p.add(format!("{base}.usage"), "usage is required for an Operator Connect or Teams Phone Mobile number");
    }
    if cfg.choosable_capabilities.is_empty() {
        p.add(
            format!("{base}.choosableCapabilities"),
            "choosableCapabilities needs at least one capability for an Operator Connect or Teams Phone Mobile number",
        );
    }
    let calling_user = cfg.usage == Some(Usage::CallingUserAssignment)
        || cfg.additional_usages.contains(&Usage::CallingUserAssignment);
    let has_address = cfg.civic_address_id.as_deref().is_some_and(|s| !s.is_empty())
        || cfg.location_id.as_deref().is_some_and(|s| !s.is_empty());
    if calling_user && cfg.allow_tenant_address_update == Some(false) && !has_address {
        p.add(
            format!("{base}.civicAddressId"),
            "a calling-user number with allowTenantAddressUpdate false needs a civicAddressId or locationId",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn acg_example() -> Value {
        json!({"telephoneNumber":"+15105850321","accountName":"contoso","serviceDetails":{"teamsOperatorConnect":{"enabled":true,"assignmentStatus":"assigned","configuration":{"usage":"CallingUserAssignment","choosableCapabilities":["InboundCalling"]}}},"configuration":{"customSipHeader":"contoso-commsgw"}})
    }

    fn targets(v: Value) -> Vec<String> {
        let n: Number = serde_json::from_value(v).unwrap();
        match n.validate("contoso", Some("+15105850321")) {
            Ok(()) => vec![],
            Err(DomainError::Invalid(e)) => e.into_iter().map(|e| e.target).collect(),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn acg_example_parses() {
        let n: Number = serde_json::from_value(acg_example()).unwrap();
        assert_eq!(n.service_details.enabled(), vec![Service::TeamsOperatorConnect]);
        // The published example omits the address and the flag: the enterprise supplies it.
        assert!(targets(acg_example()).is_empty());
    }

    #[test]
    fn calling_user_needs_address_unless_tenant_may_update() {
        let mut v = acg_example();
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["allowTenantAddressUpdate"] = json!(false);
        assert_eq!(targets(v.clone()), ["serviceDetails.teamsOperatorConnect.configuration.civicAddressId"]);
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["additionalUsages"] =
            json!(["CallingUserAssignment"]);
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["usage"] = json!("ConferenceAssignment");
        assert_eq!(targets(v.clone()), ["serviceDetails.teamsOperatorConnect.configuration.civicAddressId"]);
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["locationId"] = json!("loc-1");
        assert!(targets(v).is_empty());
        let mut v = acg_example();
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["allowTenantAddressUpdate"] = json!(true);
        assert!(targets(v).is_empty());
        let mut v = acg_example();
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["civicAddressId"] = json!("addr-1");
        assert!(targets(v).is_empty());
        let mut v = acg_example();
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["usage"] = json!("ConferenceAssignment");
        assert!(targets(v).is_empty());
    }

    #[test]
    fn teams_numbers_need_usage_and_capabilities() {
        let v = json!({"telephoneNumber":"+15105850321","accountName":"contoso","serviceDetails":{"teamsPhoneMobile":{"enabled":true,"configuration":{"allowTenantAddressUpdate":false,"civicAddressId":"a"}}}});
        assert_eq!(
            targets(v),
            [
                "serviceDetails.teamsPhoneMobile.configuration.usage",
                "serviceDetails.teamsPhoneMobile.configuration.choosableCapabilities"
            ]
        );
        let v = json!({"telephoneNumber":"+15105850321","accountName":"contoso","serviceDetails":{"teamsOperatorConnect":{"enabled":true}}});
        assert_eq!(targets(v), ["serviceDetails.teamsOperatorConnect.configuration"]);
        // Disabled services carry no obligations.
        let v = json!({"telephoneNumber":"+15105850321","accountName":"contoso","serviceDetails":{"teamsOperatorConnect":{"enabled":false},"teamsDirectRouting":{"enabled":true}}});
        assert!(targets(v).is_empty());
    }

    #[test]
    fn a_number_needs_a_service() {
        for sd in [json!({}), json!({"teamsDirectRouting": null}), json!({"teamsOperatorConnect": {"enabled": false}})]
        {
            let v = json!({"telephoneNumber":"+15105850321","accountName":"contoso","serviceDetails":sd});
            assert_eq!(targets(v), ["serviceDetails"]);
        }
    }

    #[test]
    fn free_text_is_bounded_and_clean() {
        let mut v = acg_example();
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["civicAddressId"] = json!("x".repeat(129));
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["locationId"] = json!("loc\u{202e}1");
        assert_eq!(
            targets(v),
            [
                "serviceDetails.teamsOperatorConnect.configuration.civicAddressId",
                "serviceDetails.teamsOperatorConnect.configuration.locationId"
            ]
        );
    }

    #[test]
    fn no_custom_header_for_mobile_or_call_protection() {
        let v = json!({"telephoneNumber":"+15105850321","accountName":"contoso","configuration":{"customSipHeader":"x"},
            "serviceDetails":{"teamsPhoneMobile":{"enabled":true,"configuration":{"usage":"FirstPartyAppAssignment","choosableCapabilities":["Mobile"]}}}});
        assert_eq!(targets(v), ["configuration.customSipHeader"]);
        let v = json!({"telephoneNumber":"+15105850321","accountName":"contoso","configuration":{"customSipHeader":"x"},
            "serviceDetails":{"azureOperatorCallProtection":{"enabled":true}}});
        assert_eq!(targets(v), ["configuration.customSipHeader"]);
        let v = json!({"telephoneNumber":"+15105850321","accountName":"contoso","configuration":{"customSipHeader":"x y"},
            "serviceDetails":{"teamsDirectRouting":{"enabled":true}}});
        assert_eq!(targets(v), ["configuration.customSipHeader"]);
    }

    #[test]
    fn path_and_body_must_agree() {
        let mut v = acg_example();
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["allowTenantAddressUpdate"] = json!(true);
        v["accountName"] = json!("fabrikam");
        v["telephoneNumber"] = json!("+15105850322");
        assert_eq!(targets(v), ["telephoneNumber", "accountName"]);
    }

    #[test]
    fn unknown_enum_values_fail_to_parse() {
        let mut v = acg_example();
        v["serviceDetails"]["teamsOperatorConnect"]["configuration"]["usage"] = json!("Bogus");
        assert!(serde_json::from_value::<Number>(v).is_err());
    }
}
