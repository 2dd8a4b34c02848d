//! `/accounts/{accountName}/numbers[/{telephoneNumber}]` and `/numbers`.

use lambda_http::http::StatusCode;
use lambda_http::Request;

use switchboard_domain::{number, Number};
use switchboard_store::Listing;

use super::{read_response, written_response, Result};
use crate::paging::{list_params, list_response, ListParams};
use crate::request::{self, account_name, json_body, telephone_number};
use crate::response::{self, HttpResponse};
use crate::state::App;

async fn listing(
    app: &App,
    req: &Request,
    account: Option<String>,
    params: &ListParams,
) -> std::result::Result<HttpResponse, crate::ApiError> {
    let page = app.repo.list_numbers(account.as_deref(), &params.page).await?;
    let count = match (params.count, account) {
        (false, _) => None,
        (true, Some(a)) => Some(app.repo.count(&Listing::AccountNumbers(a), &params.page).await?),
        (true, None) => Some(app.repo.count(&Listing::AllNumbers, &params.page).await?),
    };
    Ok(list_response(req, params, page.map(|s| Ok(s.value))?, count))
}

pub async fn list(app: &App, req: Request) -> Result {
    let account = account_name(&req)?;
    let params = list_params(&req, number::FILTER_FIELDS, number::SEARCH_FIELDS)?;
    listing(app, &req, Some(account), &params).await
}

pub async fn list_all(app: &App, req: Request) -> Result {
    let params = list_params(&req, number::FILTER_FIELDS, number::SEARCH_FIELDS)?;
    listing(app, &req, None, &params).await
}

pub async fn get(app: &App, req: Request) -> Result {
    let account = account_name(&req)?;
    let tn = telephone_number(&req)?;
    let stored = app.repo.get_number(&account, &tn).await?;
    read_response(&req, &stored)
}

pub async fn put(app: &App, req: Request) -> Result {
    let account = account_name(&req)?;
    let tn = telephone_number(&req)?;
    let number: Number = json_body(&req, "application/json")?;
    number.validate(&account, Some(&tn))?;
    let (written, stored) = app.repo.put_number(number, &request::precondition(&req)?).await?;
    Ok(written_response(written, &stored))
}

pub async fn delete(app: &App, req: Request) -> Result {
    let account = account_name(&req)?;
    let tn = telephone_number(&req)?;
    app.repo.delete_number(&account, &tn, &request::precondition(&req)?).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}
