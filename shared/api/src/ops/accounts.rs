//! `/accounts` and `/accounts/{accountName}`.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::Request;

use switchboard_domain::{account, Account};
use switchboard_store::Listing;

use super::{read_response, written_response, Result};
use crate::paging::{list_params, list_response};
use crate::request::{self, account_name, bool_query, json_body};
use crate::response;
use crate::state::App;

pub async fn list(app: &App, req: Request) -> Result {
    let params = list_params(&req, account::FILTER_FIELDS, account::SEARCH_FIELDS)?;
    let count = match params.count {
        true => Some(app.repo.count(&Listing::Accounts, &params.page).await?),
        false => None,
    };
    let mut page = app.repo.list_accounts(&params.page).await?.map(|s| Ok(s.value))?;
    let names: Vec<&str> = page.items.iter().map(|a| a.name.as_str()).collect();
    let counts = app.repo.failed_number_counts(&names).await?;
    for (a, n) in page.items.iter_mut().zip(counts) {
        a.failed_number_count = Some(n);
    }
    Ok(list_response(&req, &params, page, count))
}

pub async fn get(app: &App, req: Request) -> Result {
    let name = account_name(&req)?;
    let mut stored = app.repo.get_account(&name).await?;
    // Not covered by the ETag: it changes as the sync lands results, the account does not.
    stored.value.failed_number_count = Some(app.repo.failed_number_count(&name).await?);
    read_response(&req, &stored)
}

pub async fn put(app: &App, req: Request) -> Result {
    let name = account_name(&req)?;
    let account: Account = json_body(&req, "application/json")?;
    account.validate(&name)?;
    let put = app.repo.put_account(account, &request::precondition(&req)?).await?;
    let mut resp = written_response(put.written, &put.stored);
    if let (Some(other), Some(tenant)) = (&put.tenant_served_by, put.stored.value.teams_tenant_id()) {
        // An extension: ACG allowed it silently, and it is allowed still, but a second account
        // on a tenant is most often a mistake (its request stays linked to the first).
        let text = format!("299 switchboard \"Teams tenant {tenant} already has account {other}\"");
        if let Ok(v) = HeaderValue::from_str(&text) {
            resp.headers_mut().insert("warning", v);
        }
    }
    Ok(resp)
}

pub async fn delete(app: &App, req: Request) -> Result {
    let name = account_name(&req)?;
    let delete_numbers = bool_query(&req, "deleteNumbers", false)?;
    app.repo.delete_account(&name, delete_numbers, &request::precondition(&req)?).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}
