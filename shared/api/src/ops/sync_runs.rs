//! `GET /syncRuns`: the sync's run reports, newest first; `GET /syncTenants` (an extension):
//! each tenant's sync status, by tenant.

use lambda_http::Request;

use super::Result;
use crate::paging::{list_params, list_response};
use crate::state::App;

pub async fn list(app: &App, req: Request) -> Result {
    let params = list_params(&req, &[], &[])?;
    let page = app.repo.list_sync_runs(&params.page).await?;
    Ok(list_response(&req, &params, page, None))
}

pub async fn tenants(app: &App, req: Request) -> Result {
    let params = list_params(&req, &[], &[])?;
    let page = app.repo.list_tenant_syncs(&params.page).await?;
    Ok(list_response(&req, &params, page, None))
}
