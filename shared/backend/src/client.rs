//! `HttpBackend`: the client of docs/backend-contract.md. It caches the OAuth2 token until shortly
//! before it expires, asks its [`Pacer`] before every request it sends (the shared upstream
//! budget, or [`LocalPacer`] for one process alone), honours `Retry-After` on 429, and retries 5xx
//! answers and timeouts with capped, jittered exponential backoff.

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::model::*;
use crate::{Backend, BackendError, CallClass, CallStats, ClassCounts, Pacer, Rate};

#[derive(Debug, Clone)]
pub struct BackendConfig {
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub scope: String,
    /// Our own ceiling, kept under the backend's limit.
    pub requests_per_minute: u32,
    /// How long a minute is (shorter under the emulator's time scale, to benchmark a day quickly).
    pub minute: Duration,
    pub timeout: Duration,
    /// Tries per call, the first included.
    pub max_attempts: usize,
    /// The longest `Retry-After` we honour before giving up on the call.
    pub max_retry_after: Duration,
}

impl BackendConfig {
    pub fn new(base_url: impl Into<String>) -> Self {
        BackendConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            client_id: "switchboard".into(),
            client_secret: String::new(),
            scope: "operatorconnect/.default".into(),
            requests_per_minute: 90,
            minute: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            max_attempts: 8,
            max_retry_after: Duration::from_secs(30),
        }
    }

    /// From `BACKEND_URL`, `BACKEND_CLIENT_ID`, `BACKEND_CLIENT_SECRET`, `BACKEND_SCOPE`,
    /// `BACKEND_RATE_PER_MINUTE`, `BACKEND_MINUTE_MS` (the emulator's time scale),
    /// `BACKEND_TIMEOUT_MS`. `None` when `BACKEND_URL` is not set.
    pub fn from_env() -> Option<Self> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut c = BackendConfig::new(env("BACKEND_URL")?);
        if let Some(v) = env("BACKEND_CLIENT_ID") {
            c.client_id = v;
        }
        if let Some(v) = env("BACKEND_CLIENT_SECRET") {
            c.client_secret = v;
        }
        if let Some(v) = env("BACKEND_SCOPE") {
            c.scope = v;
        }
        if let Some(v) = env("BACKEND_RATE_PER_MINUTE").and_then(|v| v.parse().ok()) {
            c.requests_per_minute = v;
        }
        if let Some(v) = env("BACKEND_MINUTE_MS").and_then(|v| v.parse().ok()) {
            c.minute = Duration::from_millis(v);
        }
        if let Some(v) = env("BACKEND_TIMEOUT_MS").and_then(|v| v.parse().ok()) {
            c.timeout = Duration::from_millis(v);
        }
        Some(c)
    }

    pub fn rate(&self) -> Rate {
        Rate::new(self.requests_per_minute, self.minute)
    }
}

/// Paces one process's calls at the rate, with no priorities: enough when a single process is the
/// only caller (tests, tools). Lambda wires the shared budget instead (the store's `TableBudget`).
pub struct LocalPacer {
    interval: Duration,
    next_slot: Mutex<Instant>,
}

impl LocalPacer {
    pub fn new(rate: Rate) -> Self {
        LocalPacer { interval: Duration::from_millis(rate.interval_ms()), next_slot: Mutex::new(Instant::now()) }
    }
}

#[async_trait::async_trait]
impl Pacer for LocalPacer {
    async fn admit(&self, _class: CallClass) -> Result<(), String> {
        let mut next = self.next_slot.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = (*next).max(now) + self.interval;
        Ok(())
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default = "default_expiry")]
    expires_in: u64,
}

fn default_expiry() -> u64 {
    300
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorInfo,
}

pub struct HttpBackend {
    cfg: BackendConfig,
    /// Built on the first call: loading the system's root certificates is the larger part of a
    /// cold start, and most invocations of a function given the backend never call it.
    http: OnceLock<reqwest::Client>,
    token: Mutex<Option<(String, Instant)>>,
    pacer: Arc<dyn Pacer>,
    calls: AtomicU64,
    retries: AtomicU64,
    /// Calls per class, in `CallClass::ALL` order.
    by_class: [AtomicU64; 4],
}

enum Attempt<T> {
    Done(T),
    Retry { after: Option<Duration>, why: String },
}

impl HttpBackend {
    pub fn new(cfg: BackendConfig) -> Self {
        let pacer = Arc::new(LocalPacer::new(cfg.rate()));
        HttpBackend {
            cfg,
            http: OnceLock::new(),
            token: Mutex::new(None),
            pacer,
            calls: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            by_class: Default::default(),
        }
    }

    fn http(&self) -> Result<&reqwest::Client, BackendError> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let http = reqwest::Client::builder()
            .timeout(self.cfg.timeout)
            .build()
            .map_err(|e| BackendError::NotConfigured(e.to_string()))?;
        Ok(self.http.get_or_init(|| http))
    }

    /// Spends `pacer`'s budget instead of this process's own.
    pub fn with_pacer(mut self, pacer: Arc<dyn Pacer>) -> Self {
        self.pacer = pacer;
        self
    }

    /// Waits for a slot in the budget for a call of `class`, and counts the call.
    async fn pace(&self, class: CallClass) -> Result<(), BackendError> {
        self.pacer.admit(class).await.map_err(|e| BackendError::Unavailable(format!("upstream budget: {e}")))?;
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.by_class[class as usize].fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The cached token, or a new one. Fetched at the most urgent class whatever the call: every
    /// class needs it, and a fetch held back behind others would hold up urgent calls too.
    async fn token(&self) -> Result<String, BackendError> {
        let mut cached = self.token.lock().await;
        if let Some((t, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        let url = format!("{}/oauth2/token", self.cfg.base_url);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.cfg.client_id.as_str()),
            ("client_secret", self.cfg.client_secret.as_str()),
            ("scope", self.cfg.scope.as_str()),
        ];
        let t: TokenResponse = self
            .with_retries("token", || async {
                self.pace(CallClass::Poll).await?;
                let resp = self.http()?.post(&url).form(&form).send().await;
                Self::read(resp).await
            })
            .await?;
        // Renew a little early so a token never expires mid-call.
        let life = Duration::from_secs(t.expires_in.saturating_sub(30).max(1));
        *cached = Some((t.access_token.clone(), Instant::now() + life));
        Ok(t.access_token)
    }

    async fn read<T: DeserializeOwned>(
        resp: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<Attempt<T>, BackendError> {
        let resp = match resp {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::Retry { after: None, why: format!("request failed: {e}") }),
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Ok(Attempt::Retry { after: None, why: format!("reading the answer failed: {e}") }),
        };
        if status.is_success() {
            return serde_json::from_slice(&body).map(Attempt::Done).map_err(|e| BackendError::Status {
                status: status.as_u16(),
                code: "BadResponse".into(),
                message: e.to_string(),
            });
        }
        let info = serde_json::from_slice::<ErrorEnvelope>(&body).map(|e| e.error).unwrap_or(ErrorInfo {
            code: status.canonical_reason().unwrap_or("Error").replace(' ', ""),
            message: String::from_utf8_lossy(&body).chars().take(200).collect(),
        });
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Ok(Attempt::Retry { after: retry_after, why: format!("{status}: {}", info.code) });
        }
        Err(BackendError::Status { status: status.as_u16(), code: info.code, message: info.message })
    }

    /// Runs `attempt` until it is done, retrying what is retryable.
    async fn with_retries<T, F, Fut>(&self, what: &str, mut attempt: F) -> Result<T, BackendError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Attempt<T>, BackendError>>,
    {
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(50))
            .with_max_delay(Duration::from_secs(2))
            .with_max_times(self.cfg.max_attempts.saturating_sub(1))
            .with_jitter()
            .build();
        loop {
            match attempt().await? {
                Attempt::Done(v) => return Ok(v),
                Attempt::Retry { after, why } => {
                    let backoff = delays.next().ok_or_else(|| {
                        BackendError::Unavailable(format!(
                            "{what}: gave up after {} tries; last: {why}",
                            self.cfg.max_attempts
                        ))
                    })?;
                    let wait = match after {
                        Some(a) if a > self.cfg.max_retry_after => {
                            return Err(BackendError::Unavailable(format!(
                                "{what}: asked to wait {a:?}, more than we will"
                            )));
                        }
                        Some(a) => a,
                        None => backoff,
                    };
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%what, ?wait, %why, "retrying backend call");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn call<T: DeserializeOwned, B: Serialize + Sync>(
        &self,
        class: CallClass,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, BackendError> {
        let url = format!("{}{path}", self.cfg.base_url);
        self.with_retries(path, || async {
            let token = self.token().await?;
            self.pace(class).await?;
            let mut req = self.http()?.request(method.clone(), &url).bearer_auth(&token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await;
            if matches!(&resp, Ok(r) if r.status() == StatusCode::UNAUTHORIZED) {
                // The token was revoked or expired early: fetch a new one and go again.
                *self.token.lock().await = None;
                return Ok(Attempt::Retry { after: Some(Duration::ZERO), why: "401".into() });
            }
            Self::read(resp).await
        })
        .await
    }

    async fn get<T: DeserializeOwned>(&self, class: CallClass, path: &str) -> Result<T, BackendError> {
        self.call::<T, ()>(class, Method::GET, path, None).await
    }

    async fn all_pages<T: DeserializeOwned>(&self, class: CallClass, path: &str) -> Result<Vec<T>, BackendError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let p = match &token {
                Some(t) => format!("{path}?continuationToken={}", seg(t)),
                None => path.to_string(),
            };
            let page: ListPage<T> = self.get(class, &p).await?;
            out.extend(page.value);
            match page.continuation_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(out),
            }
        }
    }
}

/// One path segment or query value, percent-encoded.
fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[derive(Serialize)]
struct Numbers<'a, T: Serialize> {
    numbers: &'a [T],
}

#[async_trait::async_trait]
impl Backend for HttpBackend {
    async fn list_consents(&self) -> Result<Vec<Consent>, BackendError> {
        self.all_pages(CallClass::Consent, "/v1/consents").await
    }

    async fn set_relationship(&self, tenant: &str, rel: &RelationshipUpdate) -> Result<Consent, BackendError> {
        self.call(
            CallClass::Change,
            Method::PUT,
            &format!("/v1/consents/{}/customerRelationship", seg(tenant)),
            Some(rel),
        )
        .await
    }

    async fn upload_numbers(&self, tenant: &str, numbers: &[UploadNumber]) -> Result<Order, BackendError> {
        self.call(
            CallClass::Change,
            Method::POST,
            &format!("/v1/tenants/{}/numbers:upload", seg(tenant)),
            Some(&Numbers { numbers }),
        )
        .await
    }

    async fn release_numbers(&self, tenant: &str, numbers: &[String]) -> Result<Order, BackendError> {
        self.call(
            CallClass::Change,
            Method::POST,
            &format!("/v1/tenants/{}/numbers:release", seg(tenant)),
            Some(&Numbers { numbers }),
        )
        .await
    }

    async fn get_order(&self, id: &str) -> Result<Order, BackendError> {
        self.get(CallClass::Poll, &format!("/v1/orders/{}", seg(id))).await
    }

    async fn tenant_numbers_page(
        &self,
        tenant: &str,
        after: Option<&str>,
    ) -> Result<ListPage<TenantNumber>, BackendError> {
        let path = format!("/v1/tenants/{}/numbers", seg(tenant));
        let path = match after {
            Some(t) => format!("{path}?continuationToken={}", seg(t)),
            None => path,
        };
        self.get(CallClass::Reconcile, &path).await
    }

    async fn list_civic_addresses(&self, tenant: &str) -> Result<Vec<CivicAddress>, BackendError> {
        self.all_pages(CallClass::Reconcile, &format!("/v1/tenants/{}/civicAddresses", seg(tenant))).await
    }

    async fn capability_plans(&self, tenant: &str) -> Result<CapabilityPlans, BackendError> {
        self.get(CallClass::Change, &format!("/v1/tenants/{}/capabilityPlans", seg(tenant))).await
    }

    async fn available_capabilities(
        &self,
        tenant: &str,
        numbers: &[String],
    ) -> Result<AvailableCapabilities, BackendError> {
        self.call(
            CallClass::Change,
            Method::POST,
            &format!("/v1/tenants/{}/availableCapabilities", seg(tenant)),
            Some(&Numbers { numbers }),
        )
        .await
    }

    fn stats(&self) -> CallStats {
        let n = |c: CallClass| self.by_class[c as usize].load(Ordering::Relaxed);
        CallStats {
            calls: self.calls.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            by_class: ClassCounts {
                poll: n(CallClass::Poll),
                change: n(CallClass::Change),
                consent: n(CallClass::Consent),
                reconcile: n(CallClass::Reconcile),
            },
        }
    }
}
