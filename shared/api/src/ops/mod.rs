//! One handler per operation: plain async functions of the app state and the request.

pub mod accounts;
pub mod actions;
pub mod audit;
pub mod civic;
pub mod csv;
pub mod numbers;
pub mod rfis;
pub mod sync_runs;

use lambda_http::http::StatusCode;
use lambda_http::Request;

use switchboard_store::{Stored, Written};

use crate::error::ApiError;
use crate::request;
use crate::response::{self, HttpResponse};
use crate::routes::{Call, Op};
use crate::state::App;

pub type Result = std::result::Result<HttpResponse, ApiError>;

pub async fn call(call: Call, app: &App, req: Request) -> Result {
    let op = match call {
        Call::Action { account, action } => return Box::pin(actions::post(app, req, account, action)).await,
        Call::Op(op) => op,
    };
    // Each operation's future is boxed: inline, the largest (a journaled batch) would set the
    // stack size of every request's future, and debug builds spend it fast.
    match op {
        Op::AccountsList => Box::pin(accounts::list(app, req)).await,
        Op::AccountsGet => Box::pin(accounts::get(app, req)).await,
        Op::AccountsPut => Box::pin(accounts::put(app, req)).await,
        Op::AccountsDelete => Box::pin(accounts::delete(app, req)).await,
        // Read as a `Call::Action` above.
        Op::AccountActions => Err(crate::error::ApiError::not_found("action", "POST needs an action")),
        Op::NumbersList => Box::pin(numbers::list(app, req)).await,
        Op::NumbersListAll => Box::pin(numbers::list_all(app, req)).await,
        Op::NumbersGet => Box::pin(numbers::get(app, req)).await,
        Op::NumbersPut => Box::pin(numbers::put(app, req)).await,
        Op::NumbersDelete => Box::pin(numbers::delete(app, req)).await,
        Op::NumbersExport => Box::pin(csv::export(app, req)).await,
        Op::RfisList => Box::pin(rfis::list(app, req)).await,
        Op::RfisGet => Box::pin(rfis::get(app, req)).await,
        Op::RfisPatch => Box::pin(rfis::patch(app, req)).await,
        Op::CivicAddressesList => Box::pin(civic::list(app, req)).await,
        Op::CivicAddressesGet => Box::pin(civic::get(app, req)).await,
        Op::SyncRunsList => Box::pin(sync_runs::list(app, req)).await,
        Op::SyncRunsStart => Box::pin(sync_runs::start(app, req)).await,
        Op::SyncTenantsList => Box::pin(sync_runs::tenants(app, req)).await,
        Op::AuditEventsList => Box::pin(audit::list(app, req)).await,
    }
}

/// A GET of one resource: 304 when `If-None-Match` holds its tag, 412 when `If-Match` doesn't.
pub(crate) fn read_response<T: serde::Serialize>(req: &Request, stored: &Stored<T>) -> Result {
    match request::precondition(req)? {
        switchboard_store::Precondition::IfNoneMatch(t) if t == "*" || t == stored.etag => {
            let mut r = response::empty(StatusCode::NOT_MODIFIED);
            response::with_etag(&mut r, &stored.etag);
            Ok(r)
        }
        switchboard_store::Precondition::IfMatch(t) if t != "*" && t != stored.etag => {
            Err(switchboard_store::StoreError::PreconditionFailed.into())
        }
        _ => Ok(response::entity(StatusCode::OK, &stored.value, &stored.etag)),
    }
}

fn written_response<T: serde::Serialize>(written: Written, stored: &Stored<T>) -> HttpResponse {
    let status = match written {
        Written::Created => StatusCode::CREATED,
        Written::Replaced => StatusCode::OK,
    };
    response::entity(status, &stored.value, &stored.etag)
}
