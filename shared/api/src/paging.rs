//! List parameters (`top`, `skip`, `maxpagesize`, `filter`, `countRecords`, `skipToken`) and
//! the list body `{value, nextLink}` with `x-ms-record-count`.

use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::Request;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Serialize;

use switchboard_domain::filter;
use switchboard_domain::search::Search;
use switchboard_domain::FieldError;
use switchboard_store::{Page, PageRequest};

use crate::error::ApiError;
use crate::request::{bool_query, query};
use crate::response::{json, HttpResponse};
use crate::API_VERSION;

pub const DEFAULT_PAGE_SIZE: usize = 200;
pub const MAX_PAGE_SIZE: usize = 500;

#[derive(Debug, Clone)]
pub struct ListParams {
    pub page: PageRequest,
    /// Items still to return over this and later pages (`top`).
    pub top: Option<usize>,
    pub max_page_size: usize,
    pub filter_text: Option<String>,
    pub count: bool,
    /// Other query parameters the listing depends on, carried into `nextLink`.
    pub carry: Vec<(&'static str, String)>,
}

fn int_param(req: &Request, name: &str, min: usize, max: usize) -> Result<Option<usize>, ApiError> {
    let Some(raw) = query(req, name) else {
        return Ok(None);
    };
    match raw.parse::<usize>() {
        Ok(v) if (min..=max).contains(&v) => Ok(Some(v)),
        _ => Err(ApiError::bad_request(
            "InvalidQueryParameter",
            name,
            format!("{name} must be an integer from {min} to {max}, not {raw:?}"),
        )),
    }
}

/// The list parameters of a request to a listing filterable by `filter_fields` and searchable
/// by `search_fields` (none: `search` is refused).
pub fn list_params(
    req: &Request,
    filter_fields: &[&str],
    search_fields: &'static [&'static str],
) -> Result<ListParams, ApiError> {
    let max_page_size = int_param(req, "maxpagesize", 1, MAX_PAGE_SIZE)?.unwrap_or(DEFAULT_PAGE_SIZE);
    let top = int_param(req, "top", 0, i32::MAX as usize)?;
    let skip = int_param(req, "skip", 0, i32::MAX as usize)?.unwrap_or(0);
    let filter_text = query(req, "filter");
    let filter = filter_text.as_deref().map(|f| filter::parse(f, filter_fields)).transpose()?;
    let search_text = query(req, "search");
    let search = match &search_text {
        Some(text) if search_fields.is_empty() && !text.trim().is_empty() => {
            return Err(FieldError::new("search", "this list cannot be searched; use filter").into())
        }
        Some(text) => Search::parse(text, search_fields)?.filter(|_| !search_fields.is_empty()),
        None => None,
    };
    let count = bool_query(req, "countRecords", false)?;
    let start = query(req, "skipToken");
    let page_size = top.map_or(max_page_size, |t| t.min(max_page_size));
    Ok(ListParams {
        page: PageRequest { filter, search, page_size, skip, start },
        top,
        max_page_size,
        filter_text,
        count,
        // The search goes on into `nextLink`, as the filter does.
        carry: search_text.filter(|t| !t.trim().is_empty()).map(|t| ("search", t)).into_iter().collect(),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody<T> {
    value: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_link: Option<String>,
}

/// The base URL the client called, for `nextLink`.
fn base_url(req: &Request) -> String {
    let h = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
    let host = h("x-forwarded-host").or_else(|| h("host")).unwrap_or("localhost");
    let local = host.starts_with("localhost") || host.starts_with("127.") || host.starts_with("[::1]");
    let scheme = h("x-forwarded-proto").unwrap_or(if local { "http" } else { "https" });
    format!("{scheme}://{host}{}", req.uri().path())
}

/// The list response. `top == Some(0)` and an exhausted `top` end the listing.
pub fn list_response<T: Serialize>(
    req: &Request,
    params: &ListParams,
    page: Page<T>,
    count: Option<i64>,
) -> HttpResponse {
    let remaining = params.top.map(|t| t.saturating_sub(page.items.len()));
    let next_link = match (page.next, remaining) {
        (Some(_), Some(0)) | (None, _) => None,
        (Some(token), remaining) => {
            let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
            let mut link = format!("{}?api-version={API_VERSION}&maxpagesize={}", base_url(req), params.max_page_size);
            if let Some(f) = &params.filter_text {
                link.push_str(&format!("&filter={}", enc(f)));
            }
            if let Some(r) = remaining {
                link.push_str(&format!("&top={r}"));
            }
            for (k, v) in &params.carry {
                link.push_str(&format!("&{k}={}", enc(v)));
            }
            link.push_str(&format!("&skipToken={}", enc(&token)));
            Some(link)
        }
    };
    let mut r = json(StatusCode::OK, &ListBody { value: page.items, next_link });
    if let Some(c) = count {
        r.headers_mut().insert("x-ms-record-count", HeaderValue::from(c));
    }
    r
}
