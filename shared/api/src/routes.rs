//! Every operation: its function binary, method, path and the permission it needs. The
//! `cargo lambda watch` router in `Cargo.toml` and the SAM template must declare the same
//! routes; a test holds all three together.

use lambda_http::Request;

use crate::auth::Permission;
use crate::error::ApiError;
use crate::ops::actions::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    AccountsList,
    AccountsGet,
    AccountsPut,
    AccountsDelete,
    AccountActions,
    NumbersList,
    NumbersListAll,
    NumbersGet,
    NumbersPut,
    NumbersDelete,
    NumbersExport,
    RfisList,
    RfisGet,
    RfisPatch,
    CivicAddressesList,
    CivicAddressesGet,
    SyncRunsList,
    AuditEventsList,
}

pub struct Route {
    pub op: Op,
    pub function: &'static str,
    pub method: &'static str,
    pub path: &'static str,
}

pub const ROUTES: &[Route] = &[
    Route { op: Op::AccountsList, function: "accounts-list", method: "GET", path: "/accounts" },
    Route { op: Op::AccountsGet, function: "accounts-get", method: "GET", path: "/accounts/{accountName}" },
    Route { op: Op::AccountsPut, function: "accounts-put", method: "PUT", path: "/accounts/{accountName}" },
    Route { op: Op::AccountsDelete, function: "accounts-delete", method: "DELETE", path: "/accounts/{accountName}" },
    Route { op: Op::AccountActions, function: "account-actions", method: "POST", path: "/accounts/{accountName}" },
    Route { op: Op::NumbersList, function: "numbers-list", method: "GET", path: "/accounts/{accountName}/numbers" },
    Route { op: Op::NumbersListAll, function: "numbers-list-all", method: "GET", path: "/numbers" },
    Route {
        op: Op::NumbersGet,
        function: "numbers-get",
        method: "GET",
        path: "/accounts/{accountName}/numbers/{telephoneNumber}",
    },
    Route {
        op: Op::NumbersPut,
        function: "numbers-put",
        method: "PUT",
        path: "/accounts/{accountName}/numbers/{telephoneNumber}",
    },
    Route {
        op: Op::NumbersDelete,
        function: "numbers-delete",
        method: "DELETE",
        path: "/accounts/{accountName}/numbers/{telephoneNumber}",
    },
    Route {
        op: Op::NumbersExport,
        function: "numbers-export",
        method: "GET",
        path: "/accounts/{accountName}/numbers:export",
    },
    Route { op: Op::RfisList, function: "rfis-list", method: "GET", path: "/teamsRequestsForInformation" },
    Route { op: Op::RfisGet, function: "rfis-get", method: "GET", path: "/teamsRequestsForInformation/{tenantId}" },
    Route {
        op: Op::RfisPatch,
        function: "rfis-patch",
        method: "PATCH",
        path: "/teamsRequestsForInformation/{tenantId}",
    },
    Route {
        op: Op::CivicAddressesList,
        function: "civic-addresses-list",
        method: "GET",
        path: "/accounts/{accountName}/teamsCivicAddresses",
    },
    Route {
        op: Op::CivicAddressesGet,
        function: "civic-addresses-get",
        method: "GET",
        path: "/accounts/{accountName}/teamsCivicAddresses/{civicAddressId}",
    },
    Route { op: Op::SyncRunsList, function: "sync-runs-list", method: "GET", path: "/syncRuns" },
    Route { op: Op::AuditEventsList, function: "audit-events-list", method: "GET", path: "/auditEvents" },
];

impl Op {
    pub fn route(self) -> &'static Route {
        // Every Op has exactly one route (checked by a test).
        ROUTES.iter().find(|r| r.op == self).unwrap_or(&ROUTES[0])
    }

    /// The permission this request needs.
    pub fn permission(self, req: &Request) -> Result<Permission, ApiError> {
        Ok(match self {
            Op::AccountsList
            | Op::AccountsGet
            | Op::NumbersList
            | Op::NumbersListAll
            | Op::NumbersGet
            | Op::NumbersExport
            | Op::RfisList
            | Op::RfisGet
            | Op::CivicAddressesList
            | Op::CivicAddressesGet
            | Op::SyncRunsList
            | Op::AuditEventsList => Permission::Read,
            Op::AccountsPut | Op::NumbersPut | Op::RfisPatch => Permission::Write,
            Op::AccountsDelete | Op::NumbersDelete => Permission::Delete,
            Op::AccountActions => Action::from_request(req)?.1.permission(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_op_has_one_route() {
        for r in ROUTES {
            assert_eq!(ROUTES.iter().filter(|x| x.op == r.op).count(), 1);
            assert_eq!(r.op.route().function, r.function);
        }
    }
}
