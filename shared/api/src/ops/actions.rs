//! `POST /accounts/{accountName}:{action}`. API Gateway can't route a suffix inside a path
//! segment, so the gateway sends every POST on `/accounts/{accountName}` here and the action is
//! read from the segment.

use lambda_http::http::StatusCode;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use switchboard_domain::rfi::ConsentStatus;
use switchboard_domain::{preflight, telephone, DomainError, Number};

use super::Result;
use crate::error::ApiError;
use crate::request::json_body;
use crate::response;
use crate::routes::Action;
use crate::state::App;

/// Numbers per batch request.
pub const MAX_BATCH: usize = 100;

#[derive(Debug, Serialize, Deserialize)]
pub struct BatchNumbers {
    pub numbers: Vec<Number>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberIdentifier {
    pub telephone_number: String,
}

#[derive(Debug, Deserialize)]
pub struct BatchNumberIds {
    pub numbers: Vec<NumberIdentifier>,
}

/// Runs `action`, which the frame read from the path (and checked the caller's role for) already.
pub async fn post(app: &App, req: Request, account: String, action: Action) -> Result {
    let account = account.as_str();
    match action {
        Action::CreateOrUpdateNumbers => create_or_update(app, &req, account).await,
        Action::DeleteNumbers => delete(app, &req, account).await,
        Action::GetTeamsCapabilityPlans => capability_plans(app, account).await,
        Action::GetTeamsAvailableCapabilities => available_capabilities(app, &req, account).await,
        Action::ImportNumbers => super::csv::import(app, &req, account).await,
        Action::ValidateNumbers => validate(app, &req, account).await,
    }
}

/// The longest string `:validateNumbers` takes as a number: longer is not a number at all (a
/// 400), shorter but not E.164 is a verdict.
pub const MAX_CANDIDATE_LEN: usize = 64;

#[derive(Serialize)]
struct Verdicts {
    numbers: Vec<preflight::Verdict>,
}

/// Pre-flight (an extension): each number's problems, the API's own refusals and what the
/// backend would refuse at the next sync (a country outside the tenant's consent), writing
/// nothing. One GetItem of the account, one of its tenant's request, one BatchGetItem.
async fn validate(app: &App, req: &Request, account: &str) -> Result {
    let batch: BatchNumberIds = json_body(req, "application/json")?;
    check_batch_size(batch.numbers.len())?;
    if let Some((i, _)) =
        batch.numbers.iter().enumerate().find(|(_, n)| n.telephone_number.chars().count() > MAX_CANDIDATE_LEN)
    {
        return Err(ApiError::bad_request(
            "InvalidInput",
            &format!("numbers[{i}].telephoneNumber"),
            format!("a telephone number is at most {MAX_CANDIDATE_LEN} characters here"),
        ));
    }
    let tns: Vec<&str> = batch.numbers.iter().map(|n| n.telephone_number.as_str()).collect();
    let acct = app.repo.get_account(account).await?.value;
    let rfi = match acct.teams_tenant_id() {
        Some(tenant) => match app.repo.get_rfi(tenant).await {
            Ok(r) => Some(r.value),
            Err(switchboard_store::StoreError::NotFound(..)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let consent = match (acct.teams_tenant_id(), &rfi) {
        (None, _) => preflight::Consent::NoTenant,
        (Some(tenant), Some(r)) => match r.status {
            Some(s) if s != ConsentStatus::Active => preflight::Consent::NotActive { tenant, status: s.as_str() },
            _ => preflight::Consent::Countries(&r.consented_countries),
        },
        (Some(tenant), None) => preflight::Consent::NotGiven { tenant },
    };
    let valid: Vec<&str> = tns.iter().copied().filter(|tn| telephone::validate("", tn).is_ok()).collect();
    let owners = app.repo.number_owners(&valid).await?;
    let numbers =
        tns.iter().map(|tn| preflight::check(tn, account, owners.get(*tn).map(String::as_str), &consent)).collect();
    Ok(response::json(StatusCode::OK, &Verdicts { numbers }))
}

fn check_batch_size(n: usize) -> std::result::Result<(), ApiError> {
    if n == 0 || n > MAX_BATCH {
        return Err(ApiError::bad_request(
            "InvalidInput",
            "numbers",
            format!("numbers must hold 1 to {MAX_BATCH} entries, not {n}"),
        ));
    }
    Ok(())
}

/// Every number's problems at once, and duplicates named by position.
fn check_unique<'a>(tns: impl Iterator<Item = &'a str>) -> std::result::Result<(), ApiError> {
    let mut seen = HashSet::new();
    for (i, tn) in tns.enumerate() {
        if !seen.insert(tn) {
            return Err(ApiError::bad_request(
                "InvalidInput",
                &format!("numbers[{i}].telephoneNumber"),
                format!("{tn} appears more than once in the batch"),
            ));
        }
    }
    Ok(())
}

/// The body `{numbers: [{telephoneNumber}]}`: 1–100 distinct valid numbers.
fn number_ids(req: &Request) -> std::result::Result<Vec<String>, ApiError> {
    let batch: BatchNumberIds = json_body(req, "application/json")?;
    check_batch_size(batch.numbers.len())?;
    let errors: Vec<_> = batch
        .numbers
        .iter()
        .enumerate()
        .filter_map(|(i, n)| telephone::validate(&format!("numbers[{i}].telephoneNumber"), &n.telephone_number).err())
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    check_unique(batch.numbers.iter().map(|n| n.telephone_number.as_str()))?;
    Ok(batch.numbers.into_iter().map(|n| n.telephone_number).collect())
}

async fn create_or_update(app: &App, req: &Request, account: &str) -> Result {
    let batch: BatchNumbers = json_body(req, "application/json")?;
    check_batch_size(batch.numbers.len())?;
    let mut errors = Vec::new();
    for (i, n) in batch.numbers.iter().enumerate() {
        if let Err(DomainError::Invalid(e)) = n.validate_at(&format!("numbers[{i}]."), account, None) {
            errors.extend(e);
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    check_unique(batch.numbers.iter().map(|n| n.telephone_number.as_str()))?;
    let stored = app.repo.upsert_numbers(account, batch.numbers).await?;
    let numbers = stored.into_iter().map(|s| s.value).collect();
    Ok(response::json(StatusCode::OK, &BatchNumbers { numbers }))
}

async fn delete(app: &App, req: &Request, account: &str) -> Result {
    let tns = number_ids(req)?;
    let tns: Vec<&str> = tns.iter().map(String::as_str).collect();
    app.repo.delete_numbers(account, &tns).await?;
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// The account's Teams tenant and the backend, or why the Teams actions can't run.
async fn teams_backend(
    app: &App,
    account: &str,
) -> std::result::Result<(String, std::sync::Arc<dyn switchboard_backend::Backend>), ApiError> {
    let tenant = app.repo.account_tenant(account).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "NoTeamsTenant",
            format!("account {account:?} has no serviceDetails.teamsTenantId"),
            Some("serviceDetails.teamsTenantId"),
        )
    })?;
    let backend = app.backend.clone().ok_or_else(|| {
        let mut e = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "BackendNotConfigured",
            "no backend service is configured (BACKEND_URL)",
            None,
        );
        e.retry_after = Some(60);
        e
    })?;
    Ok((tenant, backend))
}

async fn capability_plans(app: &App, account: &str) -> Result {
    let (tenant, backend) = teams_backend(app, account).await?;
    let plans = backend.capability_plans(&tenant).await?;
    Ok(response::json(StatusCode::OK, &plans))
}

async fn available_capabilities(app: &App, req: &Request, account: &str) -> Result {
    let tns = number_ids(req)?;
    let (tenant, backend) = teams_backend(app, account).await?;
    let caps = backend.available_capabilities(&tenant, &tns).await?;
    Ok(response::json(StatusCode::OK, &caps))
}
