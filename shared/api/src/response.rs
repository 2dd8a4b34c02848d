//! Building responses: JSON bodies, entity tags, request ids, and the error envelope.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::error::ApiError;

pub type HttpResponse = Response<Body>;

fn build(status: StatusCode, body: Body, content_type: Option<&str>) -> HttpResponse {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    if let Some(ct) = content_type {
        if let Ok(v) = HeaderValue::from_str(ct) {
            r.headers_mut().insert("content-type", v);
        }
    }
    r
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResponse {
    match serde_json::to_string(value) {
        Ok(s) => build(status, Body::Text(s), Some("application/json")),
        Err(e) => error(&ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            format!("encoding the response: {e}"),
            None,
        )),
    }
}

/// A single resource with its entity tag.
pub fn entity<T: Serialize>(status: StatusCode, value: &T, etag: &str) -> HttpResponse {
    let mut r = json(status, value);
    with_etag(&mut r, etag);
    r
}

pub fn with_etag(r: &mut HttpResponse, etag: &str) {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        r.headers_mut().insert("etag", v);
    }
}

/// A downloadable file.
pub fn file(body: Vec<u8>, content_type: &str, filename: &str) -> HttpResponse {
    let mut r = build(StatusCode::OK, Body::Binary(body), Some(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        r.headers_mut().insert("content-disposition", v);
    }
    r
}

pub fn empty(status: StatusCode) -> HttpResponse {
    build(status, Body::Empty, None)
}

pub fn error(e: &ApiError) -> HttpResponse {
    let body = serde_json::json!({ "error": e.body });
    let mut r = build(e.status, Body::Text(body.to_string()), Some("application/json"));
    if let Ok(v) = HeaderValue::from_str(&e.body.code) {
        r.headers_mut().insert("x-ms-error-code", v);
    }
    if let Some(secs) = e.retry_after {
        r.headers_mut().insert("retry-after", HeaderValue::from(secs));
    }
    if e.status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer"));
    }
    r
}
