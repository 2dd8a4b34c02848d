//! The repository's one error type.

use switchboard_domain::DomainError;

/// What was not found, with its id: the API names the matching path parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    Account(String),
    Number(String),
    RequestForInformation(String),
    CivicAddress(String),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Missing::Account(id) => write!(f, "account {id:?}"),
            Missing::Number(id) => write!(f, "number {id:?}"),
            Missing::RequestForInformation(id) => write!(f, "request for information {id:?}"),
            Missing::CivicAddress(id) => write!(f, "civic address {id:?}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} was not found")]
    NotFound(Missing),
    #[error("the entity tag did not match (If-Match / If-None-Match)")]
    PreconditionFailed,
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("the continuation token is not valid: {0}")]
    BadToken(String),
    /// DynamoDB throttled us past our retries: the caller should back off.
    #[error("the database is busy; retry later")]
    Throttled,
    /// Writers kept colliding on the same items past our retries.
    #[error("the items changed concurrently too many times; retry")]
    Contention,
    /// DynamoDB refused the request as malformed (`ValidationException`, or a transaction
    /// cancelled for `ValidationError`): the input got past our checks, and retrying can't help.
    #[error("the database refused the request as invalid: {0}")]
    Rejected(String),
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    pub(crate) fn backend<E>(err: aws_sdk_dynamodb::error::SdkError<E>) -> Self
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
    {
        use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
        let code = err.code().unwrap_or_default().to_string();
        if matches!(
            code.as_str(),
            "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded"
        ) {
            return StoreError::Throttled;
        }
        if code == "ValidationException" {
            return StoreError::Rejected(err.message().unwrap_or_default().to_string());
        }
        let detail = match err.message() {
            Some(m) => format!("{code}: {m}"),
            None => format!("{err:?}"),
        };
        StoreError::Backend(detail)
    }
}

/// A conditional write's outcome: `Ok(true)` written, `Ok(false)` its condition failed.
pub(crate) fn conditional<T, E>(result: Result<T, aws_sdk_dynamodb::error::SdkError<E>>) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
{
    use aws_sdk_dynamodb::error::ProvideErrorMetadata as _;
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
        Err(e) => Err(StoreError::backend(e)),
    }
}

pub(crate) fn not_found_account(name: &str) -> StoreError {
    StoreError::NotFound(Missing::Account(name.to_string()))
}

pub(crate) fn not_found_number(tn: &str) -> StoreError {
    StoreError::NotFound(Missing::Number(tn.to_string()))
}
