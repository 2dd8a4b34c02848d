//! Reading a request: api-version, path and query parameters, JSON bodies with errors that name
//! the field, and preconditions.

use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

use switchboard_domain::decode::{self, DecodeError};
use switchboard_domain::{names, telephone, text};
use switchboard_store::Precondition;

use crate::error::ApiError;
use crate::API_VERSION;

/// Largest JSON body we read; DynamoDB items are at most 400 KB and a batch holds 100 numbers.
const MAX_BODY: usize = 1024 * 1024;
/// Largest CSV body: Lambda's own request limit (6 MB) is the real bound; 10,000 full rows fit.
pub const MAX_CSV_BODY: usize = 6 * 1024 * 1024;

/// Fails unless `api-version` is present and the one we implement.
pub fn check_api_version(req: &Request) -> Result<(), ApiError> {
    match query(req, "api-version") {
        None => Err(ApiError::bad_request(
            "MissingApiVersionParameter",
            "api-version",
            format!("the api-version query parameter is required; use {API_VERSION}"),
        )),
        Some(v) if v == API_VERSION => Ok(()),
        Some(v) => Err(ApiError::bad_request(
            "UnsupportedApiVersion",
            "api-version",
            format!("api-version {v:?} is not supported; use {API_VERSION}"),
        )),
    }
}

pub fn query(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_string)
}

/// A path parameter, percent-decoded (`%2B15551234567` and `+15551234567` are the same number).
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    let raw = req
        .path_parameters_ref()
        .and_then(|p| p.first(name))
        .ok_or_else(|| ApiError::bad_request("MissingPathParameter", name, format!("the path needs {{{name}}}")))?;
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::bad_request("InvalidPathParameter", name, "the path parameter is not valid UTF-8"))
}

/// The `{accountName}` path parameter, checked.
pub fn account_name(req: &Request) -> Result<String, ApiError> {
    let name = path_param(req, "accountName")?;
    names::account_name("accountName", &name)?;
    Ok(name)
}

/// The `{telephoneNumber}` path parameter, checked.
pub fn telephone_number(req: &Request) -> Result<String, ApiError> {
    let tn = path_param(req, "telephoneNumber")?;
    telephone::validate("telephoneNumber", &tn)?;
    Ok(tn)
}

/// The `{civicAddressId}` path parameter, checked as the free text it is.
pub fn civic_address_id(req: &Request) -> Result<String, ApiError> {
    let id = path_param(req, "civicAddressId")?;
    if id.is_empty() {
        return Err(ApiError::bad_request("InvalidInput", "civicAddressId", "a civic address id can't be empty"));
    }
    text::check("civicAddressId", &id, text::MAX_ADDRESS_ID)?;
    Ok(id)
}

/// A boolean query parameter (absent: `default`).
pub fn bool_query(req: &Request, name: &str, default: bool) -> Result<bool, ApiError> {
    match query(req, name).as_deref() {
        None => Ok(default),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(ApiError::bad_request(
            "InvalidQueryParameter",
            name,
            format!("{name} must be true or false, not {v:?}"),
        )),
    }
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Decodes a JSON body. Wrong content type, malformed JSON, a missing required field or an
/// unknown enum value each give a 400 whose target names the field.
pub fn json_body<T: DeserializeOwned>(req: &Request, media_type: &str) -> Result<T, ApiError> {
    match decode::json(body(req, media_type, MAX_BODY)?) {
        Ok(value) => Ok(value),
        Err(DecodeError::Empty) => Err(ApiError::bad_request("InvalidBody", "body", "a JSON body is required")),
        Err(DecodeError::Syntax(msg)) => Err(ApiError::bad_request("InvalidJson", "body", msg)),
        Err(DecodeError::Field(f)) => Err(ApiError::bad_request("InvalidInput", &f.target, f.message)),
    }
}

/// The raw body, after checking its content type and size.
pub fn body<'a>(req: &'a Request, media_type: &str, max: usize) -> Result<&'a [u8], ApiError> {
    let ct = header(req, "content-type").unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case(media_type) {
        return Err(ApiError::bad_request(
            "UnsupportedMediaType",
            "Content-Type",
            format!("the body must be sent as Content-Type: {media_type}, not {ct:?}"),
        ));
    }
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => b"",
    };
    if bytes.len() > max {
        return Err(ApiError::bad_request("RequestTooLarge", "body", format!("the body is larger than {max} bytes")));
    }
    Ok(bytes)
}

/// `If-Match` / `If-None-Match`, with the quotes of an entity tag removed.
pub fn precondition(req: &Request) -> Result<Precondition, ApiError> {
    let unquote = |v: &str| v.trim().trim_start_matches("W/").trim_matches('"').to_string();
    // A precondition we can't read must not be ignored: the write would go ahead unguarded.
    let read = |name: &str, target: &str| match req.headers().get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(|v| Some(unquote(v))).map_err(|_| {
            ApiError::bad_request("InvalidHeader", target, format!("{target} must be an entity tag in visible ASCII"))
        }),
    };
    Ok(if let Some(v) = read("if-match", "If-Match")? {
        Precondition::IfMatch(v)
    } else if let Some(v) = read("if-none-match", "If-None-Match")? {
        Precondition::IfNoneMatch(v)
    } else {
        Precondition::None
    })
}
