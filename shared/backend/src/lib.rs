//! The backend service (Microsoft's Operator Connect / Teams Phone Mobile side) as a port:
//! the [`Backend`] trait, the contract's types, and [`HttpBackend`], the client of the contract in
//! `docs/backend-contract.md`. A real Operator Connect integration replaces `HttpBackend`.

pub mod client;
pub mod model;

pub use client::{BackendConfig, HttpBackend, LocalPacer};
pub use model::*;
pub use switchboard_domain::budget::{CallClass, Pacer, Rate};

#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    /// The backend answered with an error (after retries, for retryable ones).
    #[error("backend answered {status}: {code}: {message}")]
    Status { status: u16, code: String, message: String },
    /// No answer we could use: timeouts, connection failures, retries exhausted.
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    #[error("backend not configured: {0}")]
    NotConfigured(String),
}

impl BackendError {
    pub fn code(&self) -> &str {
        match self {
            BackendError::Status { code, .. } => code,
            BackendError::Unavailable(_) => "BackendUnavailable",
            BackendError::NotConfigured(_) => "BackendNotConfigured",
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, BackendError::Status { status: 404, .. })
    }
}

/// Counters of what a client did, for run reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallStats {
    pub calls: u64,
    pub retries: u64,
    /// Calls (retries and token fetches included) by what they were for: the budget spent per class.
    pub by_class: ClassCounts,
}

/// A count per [`CallClass`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassCounts {
    pub poll: u64,
    pub change: u64,
    pub consent: u64,
    pub reconcile: u64,
}

impl ClassCounts {
    pub fn get(&self, class: CallClass) -> u64 {
        match class {
            CallClass::Poll => self.poll,
            CallClass::Change => self.change,
            CallClass::Consent => self.consent,
            CallClass::Reconcile => self.reconcile,
        }
    }

    pub fn since(&self, before: &ClassCounts) -> ClassCounts {
        ClassCounts {
            poll: self.poll - before.poll,
            change: self.change - before.change,
            consent: self.consent - before.consent,
            reconcile: self.reconcile - before.reconcile,
        }
    }
}

impl CallStats {
    /// What was done between `before` and these counters.
    pub fn since(&self, before: &CallStats) -> CallStats {
        CallStats {
            calls: self.calls - before.calls,
            retries: self.retries - before.retries,
            by_class: self.by_class.since(&before.by_class),
        }
    }
}

/// The port.
#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// Every consent (all pages); an error means the pull is incomplete.
    async fn list_consents(&self) -> Result<Vec<Consent>, BackendError>;
    async fn set_relationship(&self, tenant: &str, rel: &RelationshipUpdate) -> Result<Consent, BackendError>;
    async fn upload_numbers(&self, tenant: &str, numbers: &[UploadNumber]) -> Result<Order, BackendError>;
    async fn release_numbers(&self, tenant: &str, numbers: &[String]) -> Result<Order, BackendError>;
    async fn get_order(&self, id: &str) -> Result<Order, BackendError>;
    /// One page of a tenant's numbers, in number order, after the number `after` (the previous
    /// page's continuation token; `None`: from the first).
    async fn tenant_numbers_page(
        &self,
        tenant: &str,
        after: Option<&str>,
    ) -> Result<ListPage<TenantNumber>, BackendError>;
    /// Every civic address of a tenant (all pages).
    async fn list_civic_addresses(&self, tenant: &str) -> Result<Vec<CivicAddress>, BackendError>;
    async fn capability_plans(&self, tenant: &str) -> Result<CapabilityPlans, BackendError>;
    async fn available_capabilities(
        &self,
        tenant: &str,
        numbers: &[String],
    ) -> Result<AvailableCapabilities, BackendError>;
    fn stats(&self) -> CallStats;
}
