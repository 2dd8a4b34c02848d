//! The API's one error type and the one place errors become HTTP responses:
//! status + `x-ms-error-code` + `{"error":{code,message,target,details}}`.

use lambda_http::http::StatusCode;
use serde::Serialize;

use switchboard_domain::{DomainError, FieldError};
use switchboard_store::{Missing, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorBody>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// Seconds for `Retry-After` on 429/503.
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>, target: Option<&str>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code: code.into(),
                message: message.into(),
                target: target.map(str::to_string),
                details: vec![],
            },
            retry_after: None,
        }
    }

    pub fn bad_request(code: &str, target: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message, Some(target))
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message, Some("Authorization"))
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", message, Some("roles"))
    }

    pub fn not_found(target: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", message, Some(target))
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let first = errors.first().cloned().unwrap_or_else(|| FieldError::new("body", "invalid input"));
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            if errors.len() == 1 {
                first.message.clone()
            } else {
                format!("{} fields are invalid; see details", errors.len())
            },
            Some(&first.target),
        );
        e.body.details = errors
            .into_iter()
            .map(|f| ErrorBody {
                code: "InvalidInput".into(),
                message: f.message,
                target: Some(f.target),
                details: vec![],
            })
            .collect();
        e
    }

    pub(crate) fn unavailable(code: &str, message: &str) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message, None);
        e.retry_after = Some(1);
        e
    }
}

impl From<FieldError> for ApiError {
    fn from(f: FieldError) -> Self {
        ApiError::invalid(vec![f])
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(errors) => ApiError::invalid(errors),
            DomainError::Conflict { code, target, message } => {
                Self::new(StatusCode::CONFLICT, code, message, Some(&target))
            }
        }
    }
}

impl From<switchboard_backend::BackendError> for ApiError {
    fn from(e: switchboard_backend::BackendError) -> Self {
        use switchboard_backend::BackendError as B;
        match e {
            B::Status { status: 404, code, message } => Self::new(StatusCode::NOT_FOUND, &code, message, None),
            B::Status { status, code, message } if (400..500).contains(&status) => {
                Self::new(StatusCode::BAD_GATEWAY, &code, format!("the backend service refused: {message}"), None)
            }
            other => {
                tracing::warn!(error = %other, "backend service unavailable");
                Self::unavailable("BackendUnavailable", "the backend service could not answer; retry")
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(missing) => {
                let target = match &missing {
                    Missing::Account(_) => "accountName",
                    Missing::Number(_) => "telephoneNumber",
                    Missing::RequestForInformation(_) => "tenantId",
                    Missing::CivicAddress(_) => "civicAddressId",
                };
                ApiError::not_found(target, format!("{missing} was not found"))
            }
            StoreError::PreconditionFailed => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "the resource's current ETag does not satisfy If-Match / If-None-Match",
                Some("If-Match"),
            ),
            StoreError::Domain(d) => d.into(),
            StoreError::BadToken(why) => ApiError::bad_request(
                "InvalidSkipToken",
                "skipToken",
                format!("the continuation token is not valid ({why}); follow nextLink as returned"),
            ),
            StoreError::Throttled => {
                Self::unavailable("ServiceBusy", "the database is throttling requests; retry after the given delay")
            }
            StoreError::Contention => {
                Self::unavailable("Contention", "the resource changed concurrently too many times; retry")
            }
            StoreError::Rejected(detail) => {
                tracing::warn!(%detail, "the database refused a request our checks let through");
                ApiError::bad_request(
                    "InvalidInput",
                    "body",
                    "the request holds a value the database can't store (too large or malformed); nothing was written",
                )
            }
            StoreError::Backend(detail) => {
                tracing::error!(%detail, "database error");
                Self::unavailable("DatabaseUnavailable", "the database could not complete the request; retry")
            }
        }
    }
}
