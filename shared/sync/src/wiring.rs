//! What the planner and the workers are built from, read from the environment, in one place.

use std::sync::Arc;
use std::time::Duration;

use switchboard_backend::{BackendConfig, HttpBackend};
use switchboard_store::{Repository, TableBudget};

use crate::SyncConfig;

/// The table, the backend client spending the table's shared upstream budget, and the sync's
/// configuration.
pub async fn from_env() -> Result<(Repository, HttpBackend, SyncConfig), String> {
    let repo = Repository::new(switchboard_store::client_from_env().await, switchboard_store::table_name_from_env());
    let backend_cfg = BackendConfig::from_env().ok_or("BACKEND_URL is not set")?;
    // Every planner and worker spends the one upstream budget in the table. A call that gets no
    // slot within 15 s fails (the run records it and goes on), so a run still stops inside its
    // margin (20 s).
    let budget = TableBudget::new(repo.clone(), backend_cfg.rate(), Duration::from_secs(15));
    let backend = HttpBackend::new(backend_cfg).with_pacer(Arc::new(budget));
    Ok((repo, backend, SyncConfig::from_env()))
}
