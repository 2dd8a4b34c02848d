//! The run report: what a run pulled, pushed and retried, and the drift it found.

use serde::Serialize;

use switchboard_backend::CallStats;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum RunStatus {
    /// Everything it set out to do is done.
    Succeeded,
    /// It stopped early (deadline) or some steps failed; the next run carries on.
    Partial,
    /// Another run held the lease.
    Skipped,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum DriftKind {
    ConsentSuspended,
    ConsentRemoved,
    ConsentReactivated,
    /// A complete pull no longer lists a consent we have (kept, not deleted).
    ConsentMissing,
    /// The enterprise released a number we had synced.
    NumberReleased,
    /// The backend reports a different assignment for a number.
    AssignmentChanged,
    CivicAddressChanged,
    CivicAddressRemoved,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    pub kind: DriftKind,
    pub tenant_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub civic_address_id: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pulled {
    pub consents: usize,
    pub civic_addresses: usize,
    pub tenant_numbers: usize,
    /// Accounts reconciled this run (those waiting longest first: runs rotate through them).
    pub accounts_reconciled: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pushed {
    pub upload_orders: usize,
    pub numbers_uploaded: usize,
    pub release_orders: usize,
    pub numbers_released: usize,
    pub relationships: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Results {
    pub numbers_synced: usize,
    pub numbers_failed: usize,
    pub accounts_synced: usize,
    pub accounts_failed: usize,
    pub orders_completed: usize,
    pub orders_open: usize,
}

/// What the planner found to do: one job per tenant with work.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Planned {
    pub jobs: usize,
    /// Jobs polling open orders, pushing changes, and reconciling.
    pub with_orders: usize,
    pub with_pushes: usize,
    pub reconciling: usize,
    /// Tenants whose numbers the backend holds (syncing accounts with a tenant).
    pub tenants_syncing: usize,
    /// Jobs handed to workers (0: worked in this run).
    pub sent: usize,
    /// Units with work that wait for the next plan: this one's budget is spoken for.
    pub held_back: usize,
    /// Upstream calls one reconciliation of every syncing tenant takes (from the accounts'
    /// number counts), and how long that is at the budget's rate, in the budget's minutes.
    pub full_cycle_calls: u64,
    pub full_cycle_minutes: f64,
    /// Syncing tenants never reconciled yet, and the oldest last reconciliation of the others
    /// (each tenant's is in `GET /syncTenants`).
    pub never_reconciled: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_reconciled_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub id: String,
    pub started_ms: u64,
    pub finished_ms: u64,
    pub status: RunStatus,
    pub stopped_early: bool,
    /// A worker's run: the tenant (or `account:<name>`) it worked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// A worker's run: the accounts of its unit, so that its errors read by account.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// A planner's run: what it planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned: Option<Planned>,
    pub pulled: Pulled,
    pub pushed: Pushed,
    pub results: Results,
    pub drift: Vec<Drift>,
    /// All the drift found, when there was more than `drift` keeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift_total: Option<usize>,
    pub errors: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors_total: Option<usize>,
    pub upstream: CallStats,
}
