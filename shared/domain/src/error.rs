//! The domain's one error type.

use std::fmt;

/// One rule broken by one field. `target` is the JSON path of the field, e.g.
/// `serviceDetails.teamsOperatorConnect.configuration.usage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub target: String,
    pub message: String,
}

impl FieldError {
    pub fn new(target: impl Into<String>, message: impl Into<String>) -> Self {
        Self { target: target.into(), message: message.into() }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.target, self.message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input breaks one or more rules; nothing was written.
    #[error("invalid input: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The input is valid, but the current state forbids it (e.g. a number owned by another account).
    #[error("{message}")]
    Conflict { code: &'static str, target: String, message: String },
}

impl DomainError {
    pub fn invalid(target: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldError::new(target, message)])
    }

    pub fn conflict(code: &'static str, target: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Conflict { code, target: target.into(), message: message.into() }
    }
}

/// Collects field errors so a request learns every problem at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, target: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(target, message));
    }

    pub fn check(&mut self, result: Result<(), FieldError>) {
        if let Err(e) = result {
            self.0.push(e);
        }
    }

    pub fn into_result(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
