//! `/admin/…`: the enterprise's side (consent, suspend, release in TAC, civic addresses), fault
//! configuration and counters. No auth, no faults.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use switchboard_backend::*;

use crate::api::error;
use crate::state::{now, Config};
use crate::Shared;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewConsent {
    tenant_id: String,
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    consented_countries: Vec<String>,
    #[serde(default)]
    contacts: Vec<Contact>,
}

pub async fn create_consent(State(shared): State<Shared>, Json(c): Json<NewConsent>) -> Response {
    let contacts = if c.contacts.is_empty() {
        vec![Contact {
            full_name: "Tenant Admin".into(),
            email: format!(
                "admin@{}.example",
                c.company_name.as_deref().unwrap_or("tenant").to_lowercase().replace(' ', "")
            ),
            telephone_number: None,
            company_name: c.company_name.clone(),
            company_size: Some("L1_U1".into()),
        }]
    } else {
        c.contacts
    };
    let consent = Consent {
        id: format!("c-{}", uuid::Uuid::new_v4().simple()),
        tenant_id: c.tenant_id.clone(),
        status: ConsentStatus::Active,
        consented_on: Some(now()),
        last_modified_on: Some(now()),
        consented_countries: c.consented_countries,
        contacts,
        customer_relationship: CustomerRelationship {
            status: Some("ConsentAcknowledged".into()),
            comment: None,
            last_modified_on: Some(now()),
        },
    };
    lock!(shared).consents.insert(c.tenant_id, consent.clone());
    (StatusCode::CREATED, Json(consent)).into_response()
}

/// `{tenantId}:suspend` | `:remove` | `:activate`
pub async fn consent_action(State(shared): State<Shared>, Path(action): Path<String>) -> Response {
    let Some((tenant, verb)) = action.rsplit_once(':') else {
        return error(StatusCode::NOT_FOUND, "UnknownAction", "use {tenantId}:suspend|remove|activate");
    };
    let status = match verb {
        "suspend" => ConsentStatus::Suspended,
        "remove" => ConsentStatus::Removed,
        "activate" => ConsentStatus::Active,
        _ => return error(StatusCode::NOT_FOUND, "UnknownAction", verb.to_string()),
    };
    let mut s = lock!(shared);
    match s.consents.get_mut(tenant) {
        Some(c) => {
            c.status = status;
            c.last_modified_on = Some(now());
            Json(c.clone()).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "ConsentNotFound", tenant.to_string()),
    }
}

pub async fn tenant_numbers(State(shared): State<Shared>, Path(tenant): Path<String>) -> Response {
    let s = lock!(shared);
    let v: Vec<&TenantNumber> =
        s.by_tenant.get(&tenant).into_iter().flatten().filter_map(|tn| s.numbers.get(tn).map(|(_, n)| n)).collect();
    Json(json!({"value": v})).into_response()
}

/// `{tn}:release` (the enterprise releases it in TAC) | `{tn}:assign` | `{tn}:unassign`
pub async fn number_action(State(shared): State<Shared>, Path((tenant, action)): Path<(String, String)>) -> Response {
    let Some((tn, verb)) = action.rsplit_once(':') else {
        return error(StatusCode::NOT_FOUND, "UnknownAction", "use {tn}:release|assign|unassign");
    };
    let mut s = lock!(shared);
    let owned = s.numbers.get(tn).is_some_and(|(t, _)| *t == tenant);
    if !owned {
        return error(StatusCode::NOT_FOUND, "NumberNotFound", tn.to_string());
    }
    match verb {
        "release" => s.drop_number(tn),
        "assign" | "unassign" => {
            if let Some((_, n)) = s.numbers.get_mut(tn) {
                n.assignment_status = Some(format!("{verb}ed"));
            }
        }
        _ => return error(StatusCode::NOT_FOUND, "UnknownAction", verb.to_string()),
    }
    StatusCode::NO_CONTENT.into_response()
}

pub async fn put_address(
    State(shared): State<Shared>,
    Path((tenant, id)): Path<(String, String)>,
    Json(mut a): Json<CivicAddress>,
) -> Response {
    a.id = id.clone();
    a.tenant_id = Some(tenant.clone());
    for l in &mut a.locations {
        l.civic_address_id = id.clone();
    }
    if a.default_location_id.is_empty() {
        a.default_location_id = a.locations.first().map(|l| l.id.clone()).unwrap_or_default();
    }
    lock!(shared).addresses.entry(tenant).or_default().insert(id, a.clone());
    Json(a).into_response()
}

pub async fn put_config(State(shared): State<Shared>, Json(c): Json<Config>) -> Response {
    lock!(shared).configure(c.clone());
    Json(c).into_response()
}

pub async fn get_config(State(shared): State<Shared>) -> Response {
    Json(lock!(shared).config.clone()).into_response()
}

pub async fn stats(State(shared): State<Shared>) -> Response {
    Json(lock!(shared).stats()).into_response()
}
