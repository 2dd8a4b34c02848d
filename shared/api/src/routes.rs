//! Every operation: its function binary, method, path and the permission it needs. The
//! `cargo lambda watch` router in `Cargo.toml` and the SAM template must declare the same
//! routes; a test holds all three together.

use lambda_http::http::StatusCode;
use lambda_http::Request;

use switchboard_domain::names;

use crate::auth::Permission;
use crate::error::ApiError;
use crate::request::path_param;

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
    SyncRunsStart,
    SyncTenantsList,
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
    Route { op: Op::SyncRunsStart, function: "sync-runs-start", method: "POST", path: "/syncRuns" },
    Route { op: Op::SyncTenantsList, function: "sync-tenants-list", method: "GET", path: "/syncTenants" },
    Route { op: Op::AuditEventsList, function: "audit-events-list", method: "GET", path: "/auditEvents" },
];

/// The `:action` suffixes of `POST /accounts/{accountName}:{action}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CreateOrUpdateNumbers,
    DeleteNumbers,
    GetTeamsCapabilityPlans,
    GetTeamsAvailableCapabilities,
    ImportNumbers,
    /// An extension: pre-flight checks of numbers, writing nothing.
    ValidateNumbers,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::CreateOrUpdateNumbers,
        Action::DeleteNumbers,
        Action::GetTeamsCapabilityPlans,
        Action::GetTeamsAvailableCapabilities,
        Action::ImportNumbers,
        Action::ValidateNumbers,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::CreateOrUpdateNumbers => "createOrUpdateNumbers",
            Action::DeleteNumbers => "deleteNumbers",
            Action::GetTeamsCapabilityPlans => "getTeamsCapabilityPlans",
            Action::GetTeamsAvailableCapabilities => "getTeamsAvailableCapabilities",
            Action::ImportNumbers => "importNumbers",
            Action::ValidateNumbers => "validateNumbers",
        }
    }

    pub fn permission(self) -> Permission {
        match self {
            Action::CreateOrUpdateNumbers | Action::ImportNumbers => Permission::Write,
            Action::DeleteNumbers => Permission::Delete,
            Action::GetTeamsCapabilityPlans | Action::GetTeamsAvailableCapabilities | Action::ValidateNumbers => {
                Permission::Read
            }
        }
    }

    /// The account and action of `/accounts/{name}:{action}`.
    pub fn from_request(req: &Request) -> std::result::Result<(String, Action), ApiError> {
        let segment = path_param(req, "accountName")?;
        let Some((account, action)) = segment.rsplit_once(':') else {
            return Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "POST needs an action: /accounts/{accountName}:{action}",
                Some("accountName"),
            ));
        };
        let action = Action::ALL.into_iter().find(|a| a.name() == action).ok_or_else(|| {
            let known: Vec<_> = Action::ALL.iter().map(|a| a.name()).collect();
            ApiError::not_found("action", format!("unknown action {action:?}; this API has {}", known.join(", ")))
        })?;
        names::account_name("accountName", account)?;
        Ok((account.to_string(), action))
    }
}

impl Op {
    pub fn route(self) -> &'static Route {
        // Every Op has exactly one route (checked by a test).
        ROUTES.iter().find(|r| r.op == self).unwrap_or(&ROUTES[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every operation, listed by hand. `index` is an exhaustive match, so a new `Op` doesn't
    /// compile until it is listed here too, and the test then fails until it has a route.
    const ALL: [Op; 20] = [
        Op::AccountsList,
        Op::AccountsGet,
        Op::AccountsPut,
        Op::AccountsDelete,
        Op::AccountActions,
        Op::NumbersList,
        Op::NumbersListAll,
        Op::NumbersGet,
        Op::NumbersPut,
        Op::NumbersDelete,
        Op::NumbersExport,
        Op::RfisList,
        Op::RfisGet,
        Op::RfisPatch,
        Op::CivicAddressesList,
        Op::CivicAddressesGet,
        Op::SyncRunsList,
        Op::SyncRunsStart,
        Op::SyncTenantsList,
        Op::AuditEventsList,
    ];

    fn index(op: Op) -> usize {
        match op {
            Op::AccountsList => 0,
            Op::AccountsGet => 1,
            Op::AccountsPut => 2,
            Op::AccountsDelete => 3,
            Op::AccountActions => 4,
            Op::NumbersList => 5,
            Op::NumbersListAll => 6,
            Op::NumbersGet => 7,
            Op::NumbersPut => 8,
            Op::NumbersDelete => 9,
            Op::NumbersExport => 10,
            Op::RfisList => 11,
            Op::RfisGet => 12,
            Op::RfisPatch => 13,
            Op::CivicAddressesList => 14,
            Op::CivicAddressesGet => 15,
            Op::SyncRunsList => 16,
            Op::SyncRunsStart => 17,
            Op::SyncTenantsList => 18,
            Op::AuditEventsList => 19,
        }
    }

    #[test]
    fn every_op_has_exactly_one_route() {
        for (i, op) in ALL.into_iter().enumerate() {
            assert_eq!(index(op), i, "{op:?} is listed out of place");
            let routes: Vec<&Route> = ROUTES.iter().filter(|r| r.op == op).collect();
            assert_eq!(routes.len(), 1, "{op:?} has {} routes", routes.len());
            assert_eq!((op.route().method, op.route().path), (routes[0].method, routes[0].path), "{op:?}");
        }
        assert_eq!(ROUTES.len(), ALL.len(), "a route for an operation that isn't listed");
    }
}

/// What one request asks for. For `POST /accounts/{accountName}:{action}` the account and the
/// action are read from the path here, once, and handed to the action's handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Op(Op),
    Action { account: String, action: Action },
}

impl Call {
    pub fn read(op: Op, req: &Request) -> Result<Call, ApiError> {
        Ok(match op {
            Op::AccountActions => {
                let (account, action) = Action::from_request(req)?;
                Call::Action { account, action }
            }
            op => Call::Op(op),
        })
    }

    /// The permission the request needs (SPEC §3).
    pub fn permission(&self) -> Permission {
        match self {
            Call::Action { action, .. } => action.permission(),
            Call::Op(
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
                | Op::SyncTenantsList
                | Op::AuditEventsList,
            ) => Permission::Read,
            Call::Op(Op::AccountsPut | Op::NumbersPut | Op::RfisPatch) => Permission::Write,
            Call::Op(Op::AccountsDelete | Op::NumbersDelete) => Permission::Delete,
            Call::Op(Op::SyncRunsStart) => Permission::Operate,
            // `Call::read` never leaves the actions' route a bare `Op`; if it did, only the
            // strongest single permission would pass.
            Call::Op(Op::AccountActions) => Permission::Delete,
        }
    }
}
