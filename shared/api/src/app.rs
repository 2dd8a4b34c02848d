//! The per-request frame every operation shares (request ids, auth, api-version, the one error
//! mapping) and [`run`], which a function's `main` calls.

use lambda_http::http::HeaderValue;
use lambda_http::{service_fn, Request, RequestExt};
use std::convert::Infallible;
use tracing::Instrument;

use crate::error::ApiError;
use crate::response::{self, HttpResponse};
use crate::routes::{Call, Op};
use crate::state::App;
use crate::{ops, repeatability, request};

impl App {
    /// Handles one request of `op`. Never fails: every error becomes an HTTP response here.
    pub async fn handle(&self, op: Op, req: Request) -> HttpResponse {
        let request_id = req
            .lambda_context_ref()
            .map(|c| c.request_id.clone())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let client_request_id = req.headers().get("x-ms-client-request-id").cloned();
        let span = tracing::info_span!("request", op = op.route().function, %request_id);
        let result = self.guarded(op, req, &request_id).instrument(span.clone()).await;
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => {
                span.in_scope(|| tracing::info!(status = e.status.as_u16(), code = %e.body.code, target = ?e.body.target, "request refused"));
                response::error(&e)
            }
        };
        let headers = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert("x-ms-request-id", v);
        }
        if let Some(v) = client_request_id {
            headers.insert("x-ms-client-request-id", v);
        }
        resp
    }

    /// Auth first (nothing about the request is revealed to an unauthenticated caller), then the
    /// api-version, then the role, then the operation.
    async fn guarded(&self, op: Op, req: Request, request_id: &str) -> Result<HttpResponse, ApiError> {
        let principal = self.auth.authenticate(&req)?;
        request::check_api_version(&req)?;
        let call = Call::read(op, &req)?;
        principal.require(call.permission())?;
        tracing::debug!(subject = %principal.subject, "authorized");
        // Every change this request makes is audited as the caller's.
        let app = &self.acting(&principal, &req, request_id);
        match repeatability::read(&req, &principal) {
            Ok(None) => ops::call(call, app, req).await,
            Ok(Some(repeatable)) => repeatability::once(app, repeatable, ops::call(call, app, req)).await,
            Err(e) => Ok(repeatability::rejected(e)),
        }
    }
}

/// Logging for Lambda: level from `RUST_LOG`, JSON when `AWS_LAMBDA_LOG_FORMAT=JSON`, no
/// timestamps (CloudWatch adds them).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).without_time().with_target(false);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}

/// The whole `main` of an API function: set up once, then serve `op`.
pub async fn run(op: Op) -> Result<(), lambda_http::Error> {
    init_tracing();
    serve(op, App::from_env().await?).await
}

/// Serves `op` with an app a function's `main` has set up itself (one that needs more than
/// [`App::from_env`]).
pub async fn serve(op: Op, app: App) -> Result<(), lambda_http::Error> {
    lambda_http::run(service_fn(|req: Request| {
        let app = &app;
        async move { Ok::<_, Infallible>(app.handle(op, req).await) }
    }))
    .await
}
