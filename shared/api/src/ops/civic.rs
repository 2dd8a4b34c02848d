//! `/accounts/{accountName}/teamsCivicAddresses[/{civicAddressId}]`: the read-only mirror of the
//! account's tenant's emergency addresses, with locations and ELINs.

use lambda_http::Request;

use switchboard_domain::civic;

use super::{read_response, Result};
use crate::paging::{list_params, list_response};
use crate::request::{account_name, civic_address_id};
use crate::state::App;

pub async fn list(app: &App, req: Request) -> Result {
    let account = account_name(&req)?;
    let params = list_params(&req, civic::FILTER_FIELDS, civic::SEARCH_FIELDS)?;
    let count = match (params.count, app.repo.account_tenant(&account).await?) {
        (true, Some(t)) => Some(app.repo.count(&switchboard_store::Listing::CivicAddresses(t), &params.page).await?),
        (true, None) => Some(0),
        (false, _) => None,
    };
    let page = app.repo.list_civic_addresses(&account, &params.page).await?.map(|s| Ok(s.value))?;
    Ok(list_response(&req, &params, page, count))
}

pub async fn get(app: &App, req: Request) -> Result {
    let account = account_name(&req)?;
    let id = civic_address_id(&req)?;
    read_response(&req, &app.repo.get_civic_address(&account, &id).await?)
}
