//! The contract's types (docs/backend-contract.md). Civic addresses, capability plans and
//! contacts have the Provisioning API's shape, so they pass through to our API unchanged.

use serde::{Deserialize, Serialize};

pub use switchboard_domain::civic::{AvailableCapabilities, CapabilityPlan, CapabilityPlans, CivicAddress, Location};
pub use switchboard_domain::rfi::{ConsentStatus, Contact};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRelationship {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    pub tenant_id: String,
    pub id: String,
    pub status: ConsentStatus,
    #[serde(default)]
    pub consented_on: Option<String>,
    #[serde(default)]
    pub last_modified_on: Option<String>,
    #[serde(default)]
    pub consented_countries: Vec<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub customer_relationship: CustomerRelationship,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipUpdate {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TeamsService {
    OperatorConnect,
    TeamsPhoneMobile,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadNumber {
    pub telephone_number: String,
    pub service: TeamsService,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
    #[serde(default)]
    pub additional_usages: Vec<String>,
    #[serde(default)]
    pub choosable_capabilities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civic_address_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    #[serde(default)]
    pub allow_tenant_address_update: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub displayed_country_code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderKind {
    Upload,
    Release,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderStatus {
    Pending,
    InProgress,
    Succeeded,
    PartiallySucceeded,
    Failed,
}

impl OrderStatus {
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Succeeded | OrderStatus::PartiallySucceeded | OrderStatus::Failed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NumberResultStatus {
    Pending,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderNumber {
    pub telephone_number: String,
    pub status: NumberResultStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub kind: OrderKind,
    pub tenant_id: String,
    pub status: OrderStatus,
    #[serde(default)]
    pub created_on: Option<String>,
    pub numbers: Vec<OrderNumber>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantNumber {
    pub telephone_number: String,
    pub service: TeamsService,
    #[serde(default)]
    pub assignment_status: Option<String>,
    #[serde(default)]
    pub acquired_capabilities: Vec<String>,
    #[serde(default)]
    pub available_capabilities: Vec<String>,
    #[serde(default)]
    pub civic_address_id: Option<String>,
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    pub usage: Option<String>,
}

/// A page of a list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPage<T> {
    pub value: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
}
