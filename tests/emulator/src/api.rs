//! The contract's endpoints (docs/backend-contract.md).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;

use switchboard_backend::*;

use crate::state::{now, Gate};
use crate::Shared;

pub fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message.into()}}))).into_response()
}

/// Rate limit, injected faults and the bearer token, before any work.
async fn gate(shared: &Shared, headers: &HeaderMap, needs_token: bool) -> Result<(), Response> {
    let decision = {
        let mut s = shared.lock().map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "Poisoned", "state lock"))?;
        let decision = s.gate(true);
        if needs_token && matches!(decision, Gate::Pass | Gate::Slow(_)) {
            let token =
                headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
            if !token.is_some_and(|t| s.tokens.contains(t)) {
                return Err(error(StatusCode::UNAUTHORIZED, "InvalidToken", "a valid bearer token is required"));
            }
        }
        decision
    };
    match decision {
        Gate::Pass => Ok(()),
        Gate::Slow(d) => {
            tokio::time::sleep(d).await;
            Ok(())
        }
        Gate::TooMany { injected } => {
            let msg = if injected { "busy (injected)" } else { "rate limit exceeded" };
            let mut r = error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", msg);
            r.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("1"));
            Err(r)
        }
        Gate::ServerError => Err(error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "injected failure")),
    }
}

macro_rules! gated {
    ($shared:expr, $headers:expr) => {
        if let Err(r) = gate(&$shared, &$headers, true).await {
            return r;
        }
    };
}

#[derive(Deserialize)]
pub struct TokenForm {
    grant_type: String,
}

pub async fn token(State(shared): State<Shared>, headers: HeaderMap, Form(form): Form<TokenForm>) -> Response {
    if let Err(r) = gate(&shared, &headers, false).await {
        return r;
    }
    if form.grant_type != "client_credentials" {
        return error(StatusCode::BAD_REQUEST, "UnsupportedGrantType", "only client_credentials");
    }
    let token = format!("emu-{}", uuid::Uuid::new_v4().simple());
    let mut s = lock!(shared);
    s.tokens.insert(token.clone());
    s.stats.tokens_issued += 1;
    drop(s);
    Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600})).into_response()
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(rename = "continuationToken")]
    continuation_token: Option<String>,
}

fn paged<T: Clone + serde::Serialize>(s: &crate::state::State, all: Vec<T>, q: &PageQuery) -> Response {
    match s.page(all, q.continuation_token.as_deref()) {
        Ok(p) => Json(p).into_response(),
        Err(()) => error(StatusCode::BAD_REQUEST, "InvalidContinuationToken", "bad continuationToken"),
    }
}

pub async fn list_consents(State(shared): State<Shared>, headers: HeaderMap, Query(q): Query<PageQuery>) -> Response {
    gated!(shared, headers);
    let s = lock!(shared);
    let all: Vec<Consent> = s.consents.values().cloned().collect();
    paged(&s, all, &q)
}

const STATUSES: [&str; 5] =
    ["ConsentAcknowledged", "CustomerContacted", "AgreementSigned", "ConsentDeclined", "ContractTerminated"];

pub async fn set_relationship(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Json(rel): Json<RelationshipUpdate>,
) -> Response {
    gated!(shared, headers);
    if !STATUSES.contains(&rel.status.as_str()) {
        return error(StatusCode::BAD_REQUEST, "InvalidStatus", format!("status must be one of {STATUSES:?}"));
    }
    if matches!(rel.status.as_str(), "ConsentDeclined" | "ContractTerminated")
        && rel.comment.as_deref().is_none_or(str::is_empty)
    {
        return error(StatusCode::BAD_REQUEST, "CommentRequired", "a comment is required for this status");
    }
    let mut s = lock!(shared);
    let Some(c) = s.consents.get_mut(&tenant) else {
        return error(StatusCode::NOT_FOUND, "ConsentNotFound", format!("no consent from tenant {tenant}"));
    };
    c.customer_relationship =
        CustomerRelationship { status: Some(rel.status), comment: rel.comment, last_modified_on: Some(now()) };
    Json(c.clone()).into_response()
}

#[derive(Deserialize)]
pub struct Numbers<T> {
    numbers: Vec<T>,
}

/// The refusal of a batch of `n` numbers, if it is out of bounds.
fn batch_refusal(n: usize) -> Option<Response> {
    (n == 0 || n > 100)
        .then(|| error(StatusCode::BAD_REQUEST, "InvalidBatch", format!("1 to 100 numbers per order, not {n}")))
}

pub async fn upload(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Json(body): Json<Numbers<UploadNumber>>,
) -> Response {
    gated!(shared, headers);
    if let Some(r) = batch_refusal(body.numbers.len()) {
        return r;
    }
    let mut s = lock!(shared);
    let tns = body.numbers.iter().map(|n| n.telephone_number.clone()).collect();
    let order = s.new_order(OrderKind::Upload, &tenant, tns, body.numbers);
    (StatusCode::ACCEPTED, Json(order)).into_response()
}

pub async fn release(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Json(body): Json<Numbers<String>>,
) -> Response {
    gated!(shared, headers);
    if let Some(r) = batch_refusal(body.numbers.len()) {
        return r;
    }
    let mut s = lock!(shared);
    let order = s.new_order(OrderKind::Release, &tenant, body.numbers, Vec::new());
    (StatusCode::ACCEPTED, Json(order)).into_response()
}

pub async fn get_order(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    gated!(shared, headers);
    let mut s = lock!(shared);
    match s.poll(&id) {
        Some(o) => Json(o).into_response(),
        None => error(StatusCode::NOT_FOUND, "OrderNotFound", format!("no order {id}")),
    }
}

pub async fn list_numbers(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    gated!(shared, headers);
    let s = lock!(shared);
    Json(s.tenant_page(&tenant, q.continuation_token.as_deref())).into_response()
}

pub async fn list_addresses(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    gated!(shared, headers);
    let s = lock!(shared);
    let all: Vec<CivicAddress> = s.addresses.get(&tenant).map(|a| a.values().cloned().collect()).unwrap_or_default();
    paged(&s, all, &q)
}

pub async fn capability_plans(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
) -> Response {
    gated!(shared, headers);
    if !lock!(shared).consents.contains_key(&tenant) {
        return error(StatusCode::NOT_FOUND, "ConsentNotFound", format!("no consent from tenant {tenant}"));
    }
    let plan = |name: &str, usage: &str, choosable: &[&str], toll_free: bool| CapabilityPlan {
        name: name.into(),
        offer_types: vec!["Calling".into()],
        usage: usage.into(),
        mandatory_capabilities: vec![],
        choosable_capabilities: choosable.iter().map(|c| c.to_string()).collect(),
        supports_toll_free: toll_free,
    };
    Json(CapabilityPlans {
        capability_plans: vec![
            plan("user-calling", "CallingUserAssignment", &["InboundCalling", "OutboundCalling"], false),
            plan("auto-attendant", "FirstPartyAppAssignment", &["InboundCalling"], true),
            plan("conference", "ConferenceAssignment", &["InboundCalling"], true),
            plan("mobile", "CallingUserAssignment", &["Mobile", "InboundCalling", "OutboundCalling"], false),
        ],
    })
    .into_response()
}

pub async fn available_capabilities(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    Json(body): Json<Numbers<String>>,
) -> Response {
    gated!(shared, headers);
    let s = lock!(shared);
    let mut caps: Vec<String> = Vec::new();
    for tn in &body.numbers {
        let extra: Vec<String> = match s.numbers.get(tn) {
            Some((t, n)) if *t == tenant => n.available_capabilities.clone(),
            _ => vec!["InboundCalling".into(), "OutboundCalling".into()],
        };
        for c in extra {
            if !caps.contains(&c) {
                caps.push(c);
            }
        }
    }
    Json(AvailableCapabilities { available_capabilities: caps }).into_response()
}
