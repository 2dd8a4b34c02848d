//! What every handler is given: the repository, the authenticator and the backend, built once
//! per cold start.

use std::sync::Arc;

use switchboard_backend::{Backend, BackendConfig, HttpBackend};
use switchboard_domain::audit::{Actor, AuditContext};
use switchboard_store::{Repository, TableBudget};

use crate::auth::{Authenticator, Principal};

/// Starts the sync planner now ("Sync now"), without waiting for its run. The function that
/// serves `POST /syncRuns` plugs in a Lambda invocation; the API knows nothing of Lambda.
#[async_trait::async_trait]
pub trait StartPlanner: Send + Sync {
    /// Hands `event` to the planner; `Err` says why it could not be started.
    async fn start(&self, event: serde_json::Value) -> Result<(), String>;
}

/// What every handler needs: the repository, the authenticator, (for the Teams actions) the
/// backend service, and (for Sync now) the planner. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub repo: Repository,
    pub auth: Arc<Authenticator>,
    pub backend: Option<Arc<dyn Backend>>,
    pub planner: Option<Arc<dyn StartPlanner>>,
}

impl App {
    pub fn new(repo: Repository, auth: Authenticator) -> Self {
        App { repo, auth: Arc::new(auth), backend: None, planner: None }
    }

    pub fn with_backend(mut self, backend: Arc<dyn Backend>) -> Self {
        self.backend = Some(backend);
        self
    }

    pub fn with_planner(mut self, planner: Arc<dyn StartPlanner>) -> Self {
        self.planner = Some(planner);
        self
    }

    pub async fn from_env() -> Result<Self, String> {
        let client = switchboard_store::client_from_env().await;
        let repo = Repository::new(client, switchboard_store::table_name_from_env());
        let app = App::new(repo.clone(), Authenticator::from_env()?);
        Ok(match BackendConfig::from_env() {
            Some(cfg) => {
                // Look-ups a person waits for share the sync's upstream budget, as operator changes;
                // one that gets no slot within 10 s is a 503 with Retry-After, inside API Gateway's 30 s.
                let budget = TableBudget::new(repo, cfg.rate(), std::time::Duration::from_secs(10));
                let backend = HttpBackend::new(cfg).with_pacer(Arc::new(budget));
                app.with_backend(Arc::new(backend))
            }
            None => app,
        })
    }

    /// The same app, writing on behalf of `principal` for this request.
    pub(crate) fn acting(&self, principal: &Principal, req: &lambda_http::Request, request_id: &str) -> App {
        let ctx = AuditContext {
            actor: Actor {
                subject: principal.subject.clone(),
                app_id: principal.app_id.clone(),
                roles: principal.roles.clone(),
            },
            request_id: Some(request_id.to_string()),
            correlation_id: req
                .headers()
                .get("x-ms-client-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        };
        App { repo: self.repo.acting(ctx), ..self.clone() }
    }
}
