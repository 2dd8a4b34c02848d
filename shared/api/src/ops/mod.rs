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

use crate::app::App;
use crate::error::ApiError;
use crate::request;
use crate::response::{self, HttpResponse};
use crate::routes::Op;

pub type Result = std::result::Result<HttpResponse, ApiError>;

pub async fn call(op: Op, app: &App, req: Request) -> Result {
    match op {
        Op::AccountsList => accounts::list(app, req).await,
        Op::AccountsGet => accounts::get(app, req).await,
        Op::AccountsPut => accounts::put(app, req).await,
        Op::AccountsDelete => accounts::delete(app, req).await,
        Op::AccountActions => actions::post(app, req).await,
        Op::NumbersList => numbers::list(app, req).await,
        Op::NumbersListAll => numbers::list_all(app, req).await,
        Op::NumbersGet => numbers::get(app, req).await,
        Op::NumbersPut => numbers::put(app, req).await,
        Op::NumbersDelete => numbers::delete(app, req).await,
        Op::NumbersExport => csv::export(app, req).await,
        Op::RfisList => rfis::list(app, req).await,
        Op::RfisGet => rfis::get(app, req).await,
        Op::RfisPatch => rfis::patch(app, req).await,
        Op::CivicAddressesList => civic::list(app, req).await,
        Op::CivicAddressesGet => civic::get(app, req).await,
        Op::SyncRunsList => sync_runs::list(app, req).await,
        Op::AuditEventsList => audit::list(app, req).await,
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
