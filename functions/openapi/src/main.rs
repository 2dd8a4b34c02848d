//! `GET /openapi.json`: the API's OpenAPI 3.1 document (public, like any API's reference), built
//! once per cold start from the same route table and types as the handlers.

use lambda_http::http::StatusCode;
use lambda_http::{service_fn, Body, Request, Response};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    switchboard_api::app::init_tracing();
    let doc = serde_json::to_string(&switchboard_api::openapi::document())?;
    let doc = &doc;
    lambda_http::run(service_fn(move |_: Request| async move {
        let mut r = Response::new(Body::Text(doc.clone()));
        *r.status_mut() = StatusCode::OK;
        r.headers_mut().insert("content-type", "application/json".parse()?);
        r.headers_mut().insert("cache-control", "public, max-age=300".parse()?);
        Ok::<_, lambda_http::Error>(r)
    }))
    .await
}
