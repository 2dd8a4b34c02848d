//! Repeatable writes: `Repeatability-Request-ID` and `Repeatability-First-Sent` (the OASIS
//! Repeatable Requests headers the ACG Provisioning API takes). A retry of a write with the same
//! id gets the first response again, marked `Repeatability-Result: accepted`, and changes
//! nothing; the same id on a different request, or an id older than the 24-hour window, is
//! refused with `Repeatability-Result: rejected`.

use lambda_http::http::{HeaderName, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::time::{Duration, SystemTime};

use switchboard_store::{Claim, StoredResponse, REPEATABILITY_WINDOW_SECS};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::response::{self, HttpResponse};
use crate::state::App;

pub const REQUEST_ID: &str = "repeatability-request-id";
pub const FIRST_SENT: &str = "repeatability-first-sent";
pub const RESULT: &str = "repeatability-result";

/// How far ahead of our clock a client's First-Sent may be.
const CLOCK_SKEW: Duration = Duration::from_secs(300);
const MAX_ID_LEN: usize = 128;

/// A write that carries a request id.
pub struct Repeatable {
    caller: String,
    id: String,
    fingerprint: String,
}

/// Reads the repeatability headers of a write. `Ok(None)`: the request has none (or is a read).
/// `Err`: refused; answer it with [`rejected`].
pub fn read(req: &Request, principal: &Principal) -> Result<Option<Repeatable>, ApiError> {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return Ok(None);
    }
    let header = |name: &str| req.headers().get(name).map(|v| v.to_str().map(str::trim));
    let Some(id) = header(REQUEST_ID) else { return Ok(None) };
    let id = match id {
        Ok(id) if !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic()) => id,
        _ => {
            return Err(ApiError::bad_request(
                "InvalidRepeatabilityRequestId",
                "Repeatability-Request-ID",
                format!("Repeatability-Request-ID must be 1 to {MAX_ID_LEN} visible ASCII characters"),
            ))
        }
    };
    let sent = match header(FIRST_SENT) {
        Some(Ok(v)) => httpdate::parse_http_date(v).map_err(|_| {
            ApiError::bad_request(
                "InvalidRepeatabilityFirstSent",
                "Repeatability-First-Sent",
                format!(
                    "Repeatability-First-Sent must be an HTTP date (e.g. Tue, 15 Nov 1994 08:12:31 GMT), not {v:?}"
                ),
            )
        })?,
        _ => {
            return Err(ApiError::bad_request(
                "MissingRepeatabilityFirstSent",
                "Repeatability-First-Sent",
                "a request with Repeatability-Request-ID also needs Repeatability-First-Sent",
            ))
        }
    };
    let now = SystemTime::now();
    let age = now.duration_since(sent).unwrap_or_default();
    if age > Duration::from_secs(REPEATABILITY_WINDOW_SECS) {
        return Err(ApiError::bad_request(
            "RepeatabilityWindowExpired",
            "Repeatability-First-Sent",
            "the request was first sent more than 24 hours ago; send it with a new Repeatability-Request-ID",
        ));
    }
    if sent.duration_since(now).is_ok_and(|ahead| ahead > CLOCK_SKEW) {
        return Err(ApiError::bad_request(
            "InvalidRepeatabilityFirstSent",
            "Repeatability-First-Sent",
            "Repeatability-First-Sent is in the future",
        ));
    }
    let caller = match &principal.app_id {
        Some(app) => format!("{app}/{}", principal.subject),
        None => principal.subject.clone(),
    };
    Ok(Some(Repeatable { caller, id: id.to_string(), fingerprint: fingerprint(req) }))
}

/// What makes two requests the same: method, path, query and body.
fn fingerprint(req: &Request) -> String {
    let mut h = Sha256::new();
    h.update(req.method().as_str().as_bytes());
    h.update(b"\n");
    h.update(req.uri().path().as_bytes());
    h.update(b"\n");
    let mut query: Vec<(String, String)> = req
        .query_string_parameters_ref()
        .map(|q| q.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        .unwrap_or_default();
    query.sort();
    for (k, v) in query {
        h.update(format!("{k}={v}&").as_bytes());
    }
    h.update(b"\n");
    h.update(match req.body() {
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b.as_slice(),
        _ => b"",
    });
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `write` at most once per request id.
pub async fn once<F>(app: &App, r: Repeatable, write: F) -> Result<HttpResponse, ApiError>
where
    F: Future<Output = Result<HttpResponse, ApiError>>,
{
    match app.repo.claim_request(&r.caller, &r.id, &r.fingerprint).await? {
        Claim::Done(first) => {
            tracing::info!(request = %r.id, "repeated request: the first response again");
            Ok(accepted(replay(first)))
        }
        Claim::InProgress => {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                "RequestInProgress",
                "a request with this Repeatability-Request-ID is still being processed; retry shortly",
                Some("Repeatability-Request-ID"),
            );
            e.retry_after = Some(1);
            Ok(rejected(e))
        }
        Claim::Mismatch => Ok(rejected(ApiError::new(
            StatusCode::CONFLICT,
            "RepeatabilityRequestIdReused",
            "this Repeatability-Request-ID was used for a different request",
            Some("Repeatability-Request-ID"),
        ))),
        Claim::New => {
            let resp = write.await.unwrap_or_else(|e| response::error(&e));
            let status = resp.status();
            if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                // Nothing was changed (every write is all-or-nothing): a retry runs it again.
                if let Err(e) = app.repo.release_request(&r.caller, &r.id).await {
                    tracing::warn!(request = %r.id, error = %e, "could not release the request id");
                }
                return Ok(resp);
            }
            if let Err(e) = app.repo.finish_request(&r.caller, &r.id, &stored(&resp)).await {
                tracing::warn!(request = %r.id, error = %e, "could not record the first response");
            }
            Ok(accepted(resp))
        }
    }
}

fn stored(resp: &HttpResponse) -> StoredResponse {
    StoredResponse {
        status: resp.status().as_u16(),
        headers: resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: match resp.body() {
            Body::Text(t) => t.as_bytes().to_vec(),
            Body::Binary(b) => b.clone(),
            _ => Vec::new(),
        },
    }
}

fn replay(first: StoredResponse) -> HttpResponse {
    let body = match String::from_utf8(first.body) {
        Ok(t) if t.is_empty() => Body::Empty,
        Ok(t) => Body::Text(t),
        Err(e) => Body::Binary(e.into_bytes()),
    };
    let mut resp = lambda_http::Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(first.status).unwrap_or(StatusCode::OK);
    for (k, v) in first.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&v)) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

fn accepted(mut resp: HttpResponse) -> HttpResponse {
    resp.headers_mut().insert(RESULT, HeaderValue::from_static("accepted"));
    resp
}

/// A refused request: the error, marked `Repeatability-Result: rejected`.
pub fn rejected(e: ApiError) -> HttpResponse {
    let mut resp = response::error(&e);
    resp.headers_mut().insert(RESULT, HeaderValue::from_static("rejected"));
    resp
}
