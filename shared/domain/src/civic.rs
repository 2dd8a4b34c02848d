//! Teams civic addresses (emergency addresses) and their locations: a read-only mirror of what
//! the enterprise keeps in the Teams Admin Center.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub id: String,
    pub civic_address_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    /// Emergency Location Identification Number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elin: Option<String>,
}

/// The Provisioning API's `TeamsCivicAddressResource`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CivicAddress {
    pub id: String,
    #[serde(default)]
    pub default_location_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_number_suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_directional: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_directional: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_or_province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county_or_district: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city_or_town: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city_or_town_alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_or_zip_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<String>,
    /// `notValidated` | `validated`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_status: Option<String>,
    #[serde(default)]
    pub locations: Vec<Location>,
}

/// Fields `GET .../teamsCivicAddresses?search=` looks in (an extension).
pub const SEARCH_FIELDS: &[&str] = &["id", "description", "companyName", "cityOrTown", "postalOrZipCode"];

pub const FILTER_FIELDS: &[&str] =
    &["id", "country", "cityOrTown", "companyName", "description", "validationStatus", "postalOrZipCode"];

/// Teams capability plans, as `:getTeamsCapabilityPlans` answers them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityPlan {
    pub name: String,
    #[serde(default)]
    pub offer_types: Vec<String>,
    pub usage: String,
    #[serde(default)]
    pub mandatory_capabilities: Vec<String>,
    #[serde(default)]
    pub choosable_capabilities: Vec<String>,
    pub supports_toll_free: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityPlans {
    pub capability_plans: Vec<CapabilityPlan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvailableCapabilities {
    pub available_capabilities: Vec<String>,
}
