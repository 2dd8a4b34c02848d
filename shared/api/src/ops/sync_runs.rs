//! `GET /syncRuns`: the sync's run reports, newest first; `POST /syncRuns` (an extension):
//! Sync now; `GET /syncTenants` (an extension): each tenant's sync status, by tenant.

use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde_json::json;

use super::Result;
use crate::error::ApiError;
use crate::paging::{list_params, list_response};
use crate::response;
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

/// Starts the planner now instead of at its next schedule. 202 once it is started: its run is
/// listed by `GET /syncRuns` when it has finished. One planner runs at a time: while another is
/// going, this one records a skipped run and the one going does the work.
pub async fn start(app: &App, _req: Request) -> Result {
    let planner = app.planner.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "SyncNowUnavailable",
            "this deployment cannot start the sync on demand (SYNC_PLANNER_FUNCTION is not set); it runs on its schedule",
            None,
        )
    })?;
    let actor = &app.repo.audit_context().actor;
    let requested_by = actor.app_id.as_ref().map_or(actor.subject.clone(), |a| format!("{a}/{}", actor.subject));
    let event =
        json!({"source": "switchboard.api", "detail-type": "Sync now", "detail": {"requestedBy": requested_by}});
    if let Err(why) = planner.start(event).await {
        tracing::warn!(error = %why, "the planner could not be started");
        return Err(ApiError::unavailable("SyncNowUnavailable", "the sync could not be started just now; try again"));
    }
    tracing::info!(requested_by, "sync started on demand");
    Ok(response::json(StatusCode::ACCEPTED, &json!({"status": "Started", "requestedBy": requested_by})))
}
