//! `/teamsRequestsForInformation[/{tenantId}]`: consents mirrored from the backend; PATCH
//! changes only the relationship (JSON merge patch), which the sync then sends.

use lambda_http::http::StatusCode;
use lambda_http::Request;

use switchboard_domain::rfi;
use switchboard_store::Listing;

use super::{read_response, Result};
use crate::paging::{list_params, list_response};
use crate::request::{self, json_body, path_param};
use crate::response;
use crate::state::App;

fn tenant_id(req: &Request) -> std::result::Result<String, crate::ApiError> {
    let tenant = path_param(req, "tenantId")?;
    rfi::validate_tenant("tenantId", &tenant)?;
    Ok(tenant)
}

pub async fn list(app: &App, req: Request) -> Result {
    let params = list_params(&req, rfi::FILTER_FIELDS, rfi::SEARCH_FIELDS)?;
    let count = match params.count {
        true => Some(app.repo.count(&Listing::Rfis, &params.page).await?),
        false => None,
    };
    let page = app.repo.list_rfis(&params.page).await?.map(|s| Ok(s.value))?;
    Ok(list_response(&req, &params, page, count))
}

pub async fn get(app: &App, req: Request) -> Result {
    let tenant = tenant_id(&req)?;
    read_response(&req, &app.repo.get_rfi(&tenant).await?)
}

pub async fn patch(app: &App, req: Request) -> Result {
    let tenant = tenant_id(&req)?;
    // RFC 7386 says merge-patch+json; plain JSON is taken too, as clients often send it.
    let media = match req.headers().get("content-type").and_then(|v| v.to_str().ok()) {
        Some(ct) if ct.trim_start().to_ascii_lowercase().starts_with("application/json") => "application/json",
        _ => "application/merge-patch+json",
    };
    let patch: serde_json::Value = json_body(&req, media)?;
    let stored = app.repo.patch_rfi(&tenant, &patch, &request::precondition(&req)?).await?;
    Ok(response::entity(StatusCode::OK, &stored.value, &stored.etag))
}
