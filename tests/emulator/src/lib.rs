//! An emulator of the backend-service contract (docs/backend-contract.md) with real state:
//! consents, tenants' numbers and civic addresses, asynchronous orders that finish after a
//! number of polls with per-number results, a rate limit, and injected faults. `/admin/…` plays
//! the enterprise (consent, suspend, release a number in TAC, edit an address).

/// The state, or a 500 answer if a handler panicked while holding it.
macro_rules! lock {
    ($shared:expr) => {
        match $shared.lock() {
            Ok(s) => s,
            Err(_) => {
                return $crate::api::error(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "Poisoned", "state lock")
            }
        }
    };
}

mod admin;
mod api;
mod state;

pub use state::{Config, Stats};

use axum::routing::{get, post, put};
use axum::Router;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

pub type Shared = Arc<Mutex<state::State>>;

pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/oauth2/token", post(api::token))
        .route("/v1/consents", get(api::list_consents))
        .route("/v1/consents/{tenant}/customerRelationship", put(api::set_relationship))
        .route("/v1/tenants/{tenant}/numbers:upload", post(api::upload))
        .route("/v1/tenants/{tenant}/numbers:release", post(api::release))
        .route("/v1/orders/{id}", get(api::get_order))
        .route("/v1/tenants/{tenant}/numbers", get(api::list_numbers))
        .route("/v1/tenants/{tenant}/civicAddresses", get(api::list_addresses))
        .route("/v1/tenants/{tenant}/capabilityPlans", get(api::capability_plans))
        .route("/v1/tenants/{tenant}/availableCapabilities", post(api::available_capabilities))
        .route("/admin/consents", post(admin::create_consent))
        .route("/admin/consents/{action}", post(admin::consent_action))
        .route("/admin/tenants/{tenant}/numbers", get(admin::tenant_numbers))
        .route("/admin/tenants/{tenant}/numbers/{action}", post(admin::number_action))
        .route("/admin/tenants/{tenant}/civicAddresses/{id}", put(admin::put_address))
        .route("/admin/config", put(admin::put_config).get(admin::get_config))
        .route("/admin/stats", get(admin::stats))
        .with_state(shared)
}

/// A running emulator; dropping it stops the server.
pub struct Emulator {
    pub addr: SocketAddr,
    pub shared: Shared,
    _stop: oneshot::Sender<()>,
}

impl Emulator {
    pub async fn start(addr: &str, config: Config) -> std::io::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared: Shared = Arc::new(Mutex::new(state::State::new(config)));
        let app = router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Emulator { addr, shared, _stop: stop })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn stats(&self) -> Stats {
        self.shared.lock().map(|s| s.stats()).unwrap_or_default()
    }

    pub fn set_config(&self, config: Config) {
        if let Ok(mut s) = self.shared.lock() {
            s.configure(config);
        }
    }
}
