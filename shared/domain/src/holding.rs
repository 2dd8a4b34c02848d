//! Which account may hold a number, what holding it means for the backend, and what deleting it
//! leaves for the backend to release. Rules only: the store applies them inside its transactions.

use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::provisioning::ProvisioningStatus;
use crate::{Account, Number};

/// A number the backend has (or may have) that was deleted here: the sync releases it upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRelease {
    pub tenant_id: String,
    pub telephone_number: String,
    pub account_name: String,
}

impl Account {
    /// Fails unless this account has every service `n` enables; targets start with `prefix`
    /// (`numbers[3].`, say).
    pub fn check_can_hold(&self, n: &Number, prefix: &str) -> Result<(), DomainError> {
        match n.service_details.enabled().into_iter().find(|s| !self.service_details.is_enabled(*s)) {
            None => Ok(()),
            Some(s) => Err(DomainError::conflict(
                "ServiceNotEnabled",
                format!("{prefix}serviceDetails.{}", s.field()),
                format!("account {:?} does not have {} enabled", self.name, s.field()),
            )),
        }
    }

    /// A number as this account stores it: read-only fields cleared, and `pending` when one of
    /// its services is synced to the backend for this account.
    pub fn prepare(&self, mut n: Number) -> Number {
        n.clear_read_only();
        let sd = &self.service_details;
        if n.service_details.enabled().into_iter().any(|s| sd.syncs_service(s)) {
            n.service_provisioning_status = Some(ProvisioningStatus::Pending);
        }
        n
    }

    /// What deleting this account's number `n` leaves for the backend: a release, when the
    /// number is an Operator Connect or Teams Phone Mobile number of a tenant this account syncs.
    pub fn release_for(&self, n: &Number) -> Option<PendingRelease> {
        let sd = &self.service_details;
        let tenant = sd.teams_tenant_id.clone()?;
        let sent = n.service_details.enabled().into_iter().any(|s| sd.syncs_service(s));
        sent.then(|| PendingRelease {
            tenant_id: tenant,
            telephone_number: n.telephone_number.clone(),
            account_name: self.name.clone(),
        })
    }
}

/// A number another account holds: `target` names it in the request.
pub fn owned_elsewhere(target: &str, tn: &str, other: &str) -> DomainError {
    DomainError::conflict("NumberOwnedByAnotherAccount", target, format!("{tn} already belongs to account {other:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn account(sync: bool) -> Account {
        serde_json::from_value(
            json!({"name": "contoso", "serviceDetails": {"teamsTenantId": "a7f4bd5c-2f0e-4f0b-9a3e-1c2d3e4f5a6b",
            "teamsOperatorConnect": {"enabled": true, "syncEnabled": sync}}}),
        )
        .unwrap()
    }

    fn number(sd: serde_json::Value) -> Number {
        serde_json::from_value(
            json!({"telephoneNumber": "+15105850321", "accountName": "contoso", "serviceDetails": sd}),
        )
        .unwrap()
    }

    #[test]
    fn holding_needs_the_service_and_syncing_makes_it_pending() {
        let oc = number(json!({"teamsOperatorConnect": {"enabled": true}}));
        let dr = number(json!({"teamsDirectRouting": {"enabled": true}}));
        assert!(account(true).check_can_hold(&oc, "").is_ok());
        let Err(DomainError::Conflict { target, .. }) = account(true).check_can_hold(&dr, "numbers[2].") else {
            panic!()
        };
        assert_eq!(target, "numbers[2].serviceDetails.teamsDirectRouting");
        assert_eq!(account(true).prepare(oc.clone()).service_provisioning_status, Some(ProvisioningStatus::Pending));
        assert_eq!(account(false).prepare(oc.clone()).service_provisioning_status, None);
        assert!(account(true).release_for(&oc).is_some());
        assert!(account(false).release_for(&oc).is_none());
    }
}
