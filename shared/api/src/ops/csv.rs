//! `POST /accounts/{accountName}:importNumbers` and `GET /accounts/{accountName}/numbers:export`:
//! the portal's CSV format (`switchboard_domain::number_csv`), both ways.

use lambda_http::http::StatusCode;
use lambda_http::Request;

use switchboard_domain::{number, number_csv};
use switchboard_store::PageRequest;

use super::Result;
use crate::error::ApiError;
use crate::paging::list_params;
use crate::request::{self, account_name, bool_query, MAX_CSV_BODY};
use crate::response;
use crate::state::App;

/// Numbers read per page while exporting.
const EXPORT_PAGE: usize = 500;

pub async fn import(app: &App, req: &Request, account: &str) -> Result {
    let body = request::body(req, "text/csv", MAX_CSV_BODY)?;
    let rows = number_csv::parse(account, body)?;
    let outcome = app.repo.import_numbers(account, rows).await?;
    tracing::info!(account, import = %outcome.import_id, rows = outcome.imported, "imported numbers");
    Ok(response::json(StatusCode::OK, &outcome))
}

pub async fn export(app: &App, req: Request) -> Result {
    let account = account_name(&req)?;
    // Extensions: the list's `filter` and `search` (the numbers a list with them shows), and
    // `includeStatus` for the sync's status and errors as two trailing columns an import skips.
    let list = list_params(&req, number::FILTER_FIELDS, number::SEARCH_FIELDS)?.page;
    let status = bool_query(&req, "includeStatus", false)?;
    let mut numbers = Vec::new();
    let mut page =
        PageRequest { page_size: EXPORT_PAGE, filter: list.filter, search: list.search, ..Default::default() };
    loop {
        let got = app.repo.list_numbers(Some(&account), &page).await?;
        numbers.extend(got.items.into_iter().map(|s| s.value));
        match got.next {
            Some(token) => page.start = Some(token),
            None => break,
        }
    }
    let csv = number_csv::write_with(&numbers, status).map_err(|e| {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", format!("writing CSV: {e}"), None)
    })?;
    Ok(response::file(csv, "text/csv; charset=utf-8", &format!("{account}-numbers.csv")))
}
