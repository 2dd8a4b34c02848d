//! A fault-injecting proxy in front of the embedded engine: DynamoDB's own error answers
//! (throttling, internal errors) on a seeded share of requests, optionally only for some
//! operations, so tests see what the real service does when it is overloaded or failing.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::{Arc, Mutex};

/// What to inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Share of matching requests that fail (0.0–1.0).
    pub rate: f64,
    /// Only these operations (`TransactWriteItems`, `BatchGetItem`, …); empty: all.
    pub operations: Vec<String>,
    /// Internal server errors instead of throttling.
    pub server_errors: bool,
}

/// Which requests a [`FaultProxy::hold`] or [`FaultProxy::fail_from`] picks: the operation and
/// a test on its JSON body.
pub type Matcher = fn(op: &str, body: &[u8]) -> bool;

struct Hold {
    matcher: Matcher,
    /// The matching request to stop (1: the first).
    nth: usize,
    seen: usize,
    reached: Arc<tokio::sync::Notify>,
    release: Arc<tokio::sync::Notify>,
}

struct FailFrom {
    matcher: Matcher,
    nth: usize,
    seen: usize,
}

/// A request stopped by [`FaultProxy::hold`]: wait until it arrives, then let it go.
pub struct Held {
    reached: Arc<tokio::sync::Notify>,
    release: Arc<tokio::sync::Notify>,
}

impl Held {
    /// Waits until the held request has arrived (it waits at the proxy until [`Held::release`]).
    pub async fn reached(&self) {
        self.reached.notified().await;
    }

    pub fn release(&self) {
        self.release.notify_one();
    }
}

#[derive(Default)]
struct ProxyState {
    faults: Faults,
    hold: Option<Hold>,
    fail_from: Option<FailFrom>,
    rng: Option<fastrand::Rng>,
    injected: usize,
    passed: usize,
    /// Asks the engine for each request's consumed capacity and adds it up (read, write units).
    metering: bool,
    units: (f64, f64),
}

type Shared = Arc<Mutex<ProxyState>>;

/// A running proxy; dropping it stops it.
pub struct FaultProxy {
    pub endpoint: String,
    state: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

struct Target {
    engine: String,
    http: reqwest::Client,
    state: Shared,
}

impl FaultProxy {
    /// Proxies to the engine at `engine` (its endpoint URL), faults seeded with `seed`.
    pub async fn start(engine: &str, seed: u64) -> FaultProxy {
        let state: Shared =
            Arc::new(Mutex::new(ProxyState { rng: Some(fastrand::Rng::with_seed(seed)), ..Default::default() }));
        let target =
            Arc::new(Target { engine: engine.to_string(), http: reqwest::Client::new(), state: state.clone() });
        let (endpoint, stop) = crate::serve(Router::new().fallback(forward).with_state(target)).await;
        FaultProxy { endpoint, state, _stop: stop }
    }

    pub fn set(&self, faults: Faults) {
        if let Ok(mut s) = self.state.lock() {
            s.faults = faults;
            s.fail_from = None;
        }
    }

    /// Stops the `nth` request that `matcher` picks at the proxy, before the engine sees it,
    /// until the returned handle releases it: a test can land another write exactly there.
    pub fn hold(&self, matcher: Matcher, nth: usize) -> Held {
        let reached = Arc::new(tokio::sync::Notify::new());
        let release = Arc::new(tokio::sync::Notify::new());
        if let Ok(mut s) = self.state.lock() {
            s.hold = Some(Hold { matcher, nth, seen: 0, reached: reached.clone(), release: release.clone() });
        }
        Held { reached, release }
    }

    /// Fails (as throttled) the `nth` request `matcher` picks and every matching one after it,
    /// until [`FaultProxy::set`] or another `fail_from`.
    pub fn fail_from(&self, matcher: Matcher, nth: usize) {
        if let Ok(mut s) = self.state.lock() {
            s.fail_from = Some(FailFrom { matcher, nth, seen: 0 });
        }
    }

    /// Adds up the capacity every request consumes, as DynamoDB bills it (`capacity`).
    pub fn meter(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.metering = true;
        }
    }

    /// (read, write) capacity units consumed since `meter`.
    pub fn capacity(&self) -> (f64, f64) {
        self.state.lock().map(|s| s.units).unwrap_or_default()
    }

    /// (failed, passed) requests so far.
    pub fn counts(&self) -> (usize, usize) {
        self.state.lock().map(|s| (s.injected, s.passed)).unwrap_or_default()
    }
}

async fn forward(State(t): State<Arc<Target>>, headers: HeaderMap, body: Bytes) -> Response {
    let op = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit('.').next())
        .unwrap_or("")
        .to_string();
    let mut held = None;
    let (fail, metering) = {
        let Ok(mut s) = t.state.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
        if let Some(h) = s.hold.as_mut().filter(|h| (h.matcher)(&op, &body)) {
            h.seen += 1;
            if h.seen == h.nth {
                h.reached.notify_one();
                held = Some(h.release.clone());
            }
        }
        let forced = match s.fail_from.as_mut().filter(|f| (f.matcher)(&op, &body)) {
            Some(f) => {
                f.seen += 1;
                f.seen >= f.nth
            }
            None => false,
        };
        let matches = s.faults.operations.is_empty() || s.faults.operations.contains(&op);
        let rate = s.faults.rate;
        let roll = s.rng.as_mut().map(|r| r.f64()).unwrap_or(1.0);
        let fail = forced || (matches && roll < rate);
        if fail {
            s.injected += 1;
        } else {
            s.passed += 1;
        }
        (fail.then_some(s.faults.server_errors), s.metering)
    };
    if let Some(release) = held {
        release.notified().await;
    }
    if let Some(server_error) = fail {
        let (status, kind, msg) = if server_error {
            (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", "Internal server error (injected)")
        } else {
            (
                StatusCode::BAD_REQUEST,
                "ThrottlingException",
                "Rate of requests exceeds the allowed throughput (injected)",
            )
        };
        let body = serde_json::json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": msg});
        return (
            status,
            [("content-type", "application/x-amz-json-1.0"), ("x-amzn-errortype", kind)],
            body.to_string(),
        )
            .into_response();
    }
    let body = if metering { with_capacity_asked(&body) } else { body };
    let mut req = t.http.post(&t.engine).body(body);
    for (k, v) in headers.iter() {
        if k != "host" && k != "content-length" {
            req = req.header(k, v);
        }
    }
    match req.send().await {
        Ok(resp) => {
            let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/x-amz-json-1.0")
                .to_string();
            let bytes = resp.bytes().await.unwrap_or_default();
            if metering {
                let units = consumed(&bytes);
                if let Ok(mut s) = t.state.lock() {
                    match op.as_str() {
                        "GetItem" | "BatchGetItem" | "Query" | "Scan" | "TransactGetItems" => s.units.0 += units,
                        _ => s.units.1 += units,
                    }
                }
            }
            (status, [("content-type", ct)], bytes).into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// The request with `ReturnConsumedCapacity: TOTAL` (the engine answers with what it consumed).
fn with_capacity_asked(body: &Bytes) -> Bytes {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.insert("ReturnConsumedCapacity".into(), "TOTAL".into());
            Bytes::from(serde_json::Value::Object(m).to_string())
        }
        _ => body.clone(),
    }
}

/// The capacity units an answer says were consumed (one table, or a list for batches).
fn consumed(answer: &[u8]) -> f64 {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(answer) else { return 0.0 };
    let units = |c: &serde_json::Value| c["CapacityUnits"].as_f64().unwrap_or(0.0);
    match &v["ConsumedCapacity"] {
        serde_json::Value::Array(list) => list.iter().map(units).sum(),
        c => units(c),
    }
}
