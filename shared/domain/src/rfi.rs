//! A request for information: an enterprise's Operator Connect consent, keyed by its Teams
//! tenant. Mirrored from the backend; only `customerRelationship` is ours to write.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, Problems};
use crate::provisioning::{ErrorDetail, ProvisioningStatus};
use crate::{names, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ConsentStatus {
    Active,
    Suspended,
    Removed,
}

impl ConsentStatus {
    /// As the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::Active => "active",
            ConsentStatus::Suspended => "suspended",
            ConsentStatus::Removed => "removed",
        }
    }
}

/// The operator's relationship with the enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RelationshipStatus {
    ConsentAcknowledged,
    CustomerContacted,
    AgreementSigned,
    ConsentDeclined,
    ContractTerminated,
}

impl RelationshipStatus {
    /// Declining and terminating need a reason.
    pub fn needs_reason(self) -> bool {
        matches!(self, RelationshipStatus::ConsentDeclined | RelationshipStatus::ContractTerminated)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RelationshipStatus::ConsentAcknowledged => "ConsentAcknowledged",
            RelationshipStatus::CustomerContacted => "CustomerContacted",
            RelationshipStatus::AgreementSigned => "AgreementSigned",
            RelationshipStatus::ConsentDeclined => "ConsentDeclined",
            RelationshipStatus::ContractTerminated => "ContractTerminated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub full_name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_size: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRelationship {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RelationshipStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Our extension: a ticket or request id, at most 64 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_on: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestForInformation {
    pub tenant_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConsentStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consented_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_on: Option<String>,
    #[serde(default)]
    pub consented_countries: Vec<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub customer_relationship: CustomerRelationship,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_provisioning_status: Option<ProvisioningStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_provisioning_errors: Vec<ErrorDetail>,
}

/// Fields `GET /teamsRequestsForInformation?search=` looks in (an extension): the tenant, its
/// account and the company its contacts named.
pub const SEARCH_FIELDS: &[&str] = &["tenantId", "accountName", "contacts.companyName"];

/// Fields `GET /teamsRequestsForInformation?filter=` accepts.
pub const FILTER_FIELDS: &[&str] =
    &["tenantId", "accountName", "status", "serviceProvisioningStatus", "customerRelationship.status"];

pub use crate::text::{MAX_COMMENT, MAX_TICKET_ID};

/// Applies a JSON merge patch (RFC 7386) to an RFI. Only `customerRelationship` (`status`,
/// `comment`, `ticketId`) may be patched; the result must name a reason where one is needed.
pub fn apply_patch(rfi: &mut RequestForInformation, patch: &serde_json::Value) -> Result<(), DomainError> {
    let mut p = Problems::default();
    let Some(obj) = patch.as_object() else {
        return Err(DomainError::invalid("body", "a merge patch must be a JSON object"));
    };
    for key in obj.keys().filter(|k| *k != "customerRelationship") {
        p.add(key.as_str(), "read-only: only customerRelationship can be changed");
    }
    let rel_patch = obj.get("customerRelationship").cloned().unwrap_or(serde_json::Value::Null);
    let Some(rel) = rel_patch.as_object() else {
        if obj.contains_key("customerRelationship") {
            p.add("customerRelationship", "customerRelationship must be an object");
        }
        return p.into_result();
    };
    let mut next = rfi.customer_relationship.clone();
    for (k, v) in rel {
        let target = format!("customerRelationship.{k}");
        match (k.as_str(), v) {
            ("status", serde_json::Value::Null) => next.status = None,
            ("status", serde_json::Value::String(s)) => match RelationshipStatus::parse(s) {
                Some(st) => next.status = Some(st),
                None => p.add(target, format!("unknown status {s:?}; use ConsentAcknowledged, CustomerContacted, AgreementSigned, ConsentDeclined or ContractTerminated")),
            },
            ("comment", serde_json::Value::Null) => next.comment = None,
            ("comment", serde_json::Value::String(s)) => match text::check(&target, s, MAX_COMMENT) {
                Ok(()) => next.comment = Some(s.clone()),
                Err(e) => p.check(Err(e)),
            },
            ("ticketId", serde_json::Value::Null) => next.ticket_id = None,
            ("ticketId", serde_json::Value::String(s)) => match text::check(&target, s, MAX_TICKET_ID) {
                Ok(()) => next.ticket_id = Some(s.clone()),
                Err(e) => p.check(Err(e)),
            },
            ("lastModifiedOn", _) => p.add(target, "read-only"),
            ("status" | "comment" | "ticketId", _) => p.add(target, "must be a string or null"),
            _ => p.add(target, "unknown field"),
        }
    }
    if let Some(st) = next.status.filter(|s| s.needs_reason()) {
        if next.comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
            p.add("customerRelationship.comment", format!("a reason (comment) is required for {}", st.as_str()));
        }
    }
    if let Some(t) = &next.ticket_id {
        if t.is_empty() {
            p.add("customerRelationship.ticketId", "a ticket id can't be empty");
        }
    }
    p.into_result()?;
    rfi.customer_relationship = next;
    Ok(())
}

/// `{tenantId}` path parameter: a GUID.
pub fn validate_tenant(target: &str, tenant: &str) -> Result<(), DomainError> {
    names::tenant_id(target, tenant).map_err(|e| DomainError::Invalid(vec![e]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rfi() -> RequestForInformation {
        serde_json::from_value(json!({"tenantId": "a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b"})).unwrap()
    }

    fn targets(patch: serde_json::Value) -> Vec<String> {
        match apply_patch(&mut rfi(), &patch) {
            Ok(()) => vec![],
            Err(DomainError::Invalid(e)) => e.into_iter().map(|e| e.target).collect(),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn relationship_rules() {
        assert!(targets(json!({"customerRelationship": {"status": "AgreementSigned", "ticketId": "T-1"}})).is_empty());
        assert_eq!(
            targets(json!({"customerRelationship": {"status": "ConsentDeclined"}})),
            ["customerRelationship.comment"]
        );
        assert!(targets(
            json!({"customerRelationship": {"status": "ContractTerminated", "comment": "moved to another operator"}})
        )
        .is_empty());
        assert_eq!(targets(json!({"customerRelationship": {"status": "Friends"}})), ["customerRelationship.status"]);
        assert_eq!(
            targets(json!({"customerRelationship": {"ticketId": "x".repeat(65)}})),
            ["customerRelationship.ticketId"]
        );
        assert!(targets(json!({"customerRelationship": {"ticketId": "x".repeat(64)}})).is_empty());
        assert_eq!(targets(json!({"status": "removed"})), ["status"]);
        assert_eq!(targets(json!([])), ["body"]);
    }

    #[test]
    fn merge_patch_keeps_what_it_does_not_name() {
        let mut r = rfi();
        apply_patch(
            &mut r,
            &json!({"customerRelationship": {"status": "ContractTerminated", "comment": "gone", "ticketId": "T-9"}}),
        )
        .unwrap();
        apply_patch(&mut r, &json!({"customerRelationship": {"status": "AgreementSigned"}})).unwrap();
        assert_eq!(r.customer_relationship.comment.as_deref(), Some("gone"));
        assert_eq!(r.customer_relationship.ticket_id.as_deref(), Some("T-9"));
        apply_patch(&mut r, &json!({"customerRelationship": {"comment": null}})).unwrap();
        assert_eq!(r.customer_relationship.comment, None);
    }
}
